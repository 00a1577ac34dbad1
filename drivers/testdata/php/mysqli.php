<?php
// The driver-matrix script for PHP mysqli (over mysqlnd): autocommit(), begin_transaction,
// insert_id, warning_count, native prepared statements, multi_query, change_user
// (COM_CHANGE_USER) and persistent connections ("p:" hosts).
require __DIR__ . '/drv.php';
mysqli_report(MYSQLI_REPORT_ERROR | MYSQLI_REPORT_STRICT);

function connect($persistent = false) {
    global $E;
    $m = new mysqli(($persistent ? 'p:' : '') . $E['DRV_HOST'], $E['DRV_USER'], $E['DRV_PASSWORD'], $E['DRV_DB'], (int)$E['DRV_PORT']);
    $m->set_charset('utf8mb4');
    return $m;
}

function rows(mysqli $m, $name, $sql) {
    return step($name, fn() => 'rows=' . show($m->query($sql)->fetch_all(MYSQLI_NUM)) . ' warnings=' . $m->warning_count);
}

function execute(mysqli $m, $name, $sql) {
    return step($name, function () use ($m, $sql) {
        $m->query($sql);
        return sprintf('affected=%d insert_id=%d warnings=%d info=%s', $m->affected_rows, $m->insert_id, $m->warning_count, show($m->info));
    });
}

function insert(mysqli $m, $note, $v) {
    return execute($m, "insert $note", T("INSERT INTO {T} (note, v) VALUES ('$note', $v)"));
}

$m = connect();
rows($m, 'setup', SETUP_QUERY);

step('autocommit(false)', fn() => show($m->autocommit(false)));
rows($m, '@@autocommit', 'SELECT @@autocommit');
if (insert($m, 'ac_off_commit', 1) && step('commit', fn() => show($m->commit()))) committed('ac_off_commit');
if (insert($m, 'ac_off_rollback', 2) && step('rollback', fn() => show($m->rollback()))) rolled_back('ac_off_rollback');
step('autocommit(true)', fn() => show($m->autocommit(true)));
rows($m, '@@autocommit', 'SELECT @@autocommit');
if (insert($m, 'ac_on', 3)) committed('ac_on');

// The toggle sequence on a connection of its own, then closed.
$c = connect();
step('toggle: autocommit(false)', fn() => show($c->autocommit(false)));
rows($c, 'toggle: query', 'SELECT 1');
step('toggle: commit', fn() => show($c->commit()));
step('toggle: autocommit(true)', fn() => show($c->autocommit(true)));
if (insert($c, 'after_toggle', 4)) committed('after_toggle');
$c->close();
rows($m, 'after_toggle visible', T("SELECT COUNT(*) FROM {T} WHERE note = 'after_toggle'"));

step('begin_transaction', fn() => show($m->begin_transaction()));
if (insert($m, 'tx_commit', 5) && step('commit', fn() => show($m->commit()))) committed('tx_commit');
step('begin_transaction', fn() => show($m->begin_transaction()));
if (insert($m, 'tx_rollback', 6) && step('rollback', fn() => show($m->rollback()))) rolled_back('tx_rollback');
step('begin_transaction read only', fn() => show($m->begin_transaction(MYSQLI_TRANS_START_READ_ONLY)));
insert($m, 'tx_read_only', 7);
step('rollback', fn() => show($m->rollback()));
foreach (['READ UNCOMMITTED', 'READ COMMITTED', 'REPEATABLE READ', 'SERIALIZABLE'] as $lvl) {
    execute($m, "set $lvl", "SET SESSION TRANSACTION ISOLATION LEVEL $lvl");
    step('begin_transaction', fn() => show($m->begin_transaction()));
    rows($m, "$lvl: @@tx_isolation", 'SELECT @@tx_isolation');
    step('commit', fn() => show($m->commit()));
}
execute($m, 'isolation back', 'SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ');

// insert_id and LAST_INSERT_ID(); native prepared statements.
if (insert($m, 'lid_1', 20)) committed('lid_1');
rows($m, 'LAST_INSERT_ID()', 'SELECT LAST_INSERT_ID()');
step('prepared insert', function () use ($m) {
    $st = $m->prepare(T('INSERT INTO {T} (note, v) VALUES (?, ?)'));
    $out = [];
    foreach ([['ps_1', 30], ['ps_2', 31], ['ps_1', 32]] as [$note, $v]) {
        try {
            $st->bind_param('si', $note, $v);
            $st->execute();
            $out[] = sprintf('%s affected=%d insert_id=%d', $note, $st->affected_rows, $st->insert_id);
            committed($note);
        } catch (mysqli_sql_exception $e) {
            $out[] = $note . ' ' . err_text($e);
        }
    }
    $st->close();
    return implode(' | ', $out);
});
rows($m, 'LAST_INSERT_ID() after prepared', 'SELECT LAST_INSERT_ID()');
step('prepared select', function () use ($m) {
    $st = $m->prepare(T('SELECT note, v, v * 1.5 FROM {T} WHERE v >= ? ORDER BY id'));
    $min = 30;
    $st->bind_param('i', $min);
    $st->execute();
    $r = $st->get_result()->fetch_all(MYSQLI_NUM);
    $st->close();
    return 'rows=' . show($r);
});
step('prepare error', fn() => show($m->prepare(T('SELECT nope FROM {T} WHERE v = ?'))));

insert($m, 'ac_on', 40);
rows($m, 'after duplicate', 'SELECT 1');
rows($m, 'syntax error', 'SELEC 1');
rows($m, 'after syntax error', 'SELECT 2');
rows($m, 'warning', "SELECT CAST('1x' AS SIGNED)");
rows($m, 'SHOW WARNINGS', 'SHOW WARNINGS');
execute($m, 'update unchanged', T("UPDATE {T} SET v = v WHERE note = 'ac_on'"));
step('multi_query', function () use ($m) {
    $m->multi_query('SELECT 1; SELECT 2');
    $sets = [];
    do {
        if ($r = $m->store_result()) {
            $sets[] = show($r->fetch_all(MYSQLI_NUM));
        }
    } while ($m->more_results() && $m->next_result());
    return implode(' ; ', $sets);
});
rows($m, 'after multi_query', 'SELECT 3');

// COM_CHANGE_USER: a fresh session (user variables, temporary tables, autocommit reset).
execute($m, 'SET @uv', 'SET @uv = 42');
execute($m, 'temporary table', T('CREATE TEMPORARY TABLE {T}_tmp (x INT)'));
step('autocommit(false)', fn() => show($m->autocommit(false)));
insert($m, 'change_user_uncommitted', 50);
rolled_back('change_user_uncommitted');
step('change_user', fn() => show($m->change_user($E['DRV_OTHER_USER'], $E['DRV_OTHER_PASSWORD'], $E['DRV_DB'])));
rows($m, 'after change_user', 'SELECT @uv, @@autocommit');
rows($m, 'temporary after change_user', T('SELECT COUNT(*) FROM {T}_tmp'));
if (insert($m, 'after_change_user', 51)) committed('after_change_user');

// Persistent connections.
$p = connect(true);
execute($p, 'persistent: SET @pv', 'SET @pv = 7');
$p->close();
$p = connect(true);
rows($p, 'persistent again: @pv, @@autocommit', 'SELECT @pv, @@autocommit');
if (insert($p, 'persistent', 60)) committed('persistent');
$p->close();

rows($m, 'final rows', T('SELECT id, note, v FROM {T} ORDER BY id'));

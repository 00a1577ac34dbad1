<?php
// The driver-matrix script for PHP PDO (pdo_mysql over mysqlnd): PDO::ATTR_AUTOCOMMIT
// toggles, beginTransaction/commit/rollBack, lastInsertId, emulated and native prepares,
// persistent connections.
require __DIR__ . '/drv.php';

function connect(array $opts = []) {
    global $E;
    $dsn = sprintf('mysql:host=%s;port=%s;dbname=%s;charset=utf8mb4', $E['DRV_HOST'], $E['DRV_PORT'], $E['DRV_DB']);
    return new PDO($dsn, $E['DRV_USER'], $E['DRV_PASSWORD'], $opts + [PDO::ATTR_ERRMODE => PDO::ERRMODE_EXCEPTION]);
}

function rows(PDO $db, $name, $sql, array $args = null) {
    return step($name, function () use ($db, $sql, $args) {
        if ($args === null) {
            $st = $db->query($sql);
        } else {
            $st = $db->prepare($sql);
            $st->execute($args);
        }
        return 'rows=' . show($st->fetchAll(PDO::FETCH_NUM));
    });
}

function execute(PDO $db, $name, $sql, array $args = null) {
    return step($name, function () use ($db, $sql, $args) {
        if ($args === null) {
            $n = $db->exec($sql);
        } else {
            $st = $db->prepare($sql);
            $st->execute($args);
            $n = $st->rowCount();
        }
        return sprintf('affected=%s lastInsertId=%s', $n, $db->lastInsertId());
    });
}

function insert(PDO $db, $note, $v, $prepared = false) {
    if ($prepared) {
        return execute($db, "insert $note", T('INSERT INTO {T} (note, v) VALUES (?, ?)'), [$note, $v]);
    }
    return execute($db, "insert $note", T("INSERT INTO {T} (note, v) VALUES ('$note', $v)"));
}

$db = connect();
rows($db, 'setup', SETUP_QUERY);
line('ATTR_AUTOCOMMIT', show($db->getAttribute(PDO::ATTR_AUTOCOMMIT)));

// PDO::ATTR_AUTOCOMMIT toggles (pdo_mysql: mysql_autocommit).
step('ATTR_AUTOCOMMIT 0', fn() => $db->setAttribute(PDO::ATTR_AUTOCOMMIT, 0) ? null : 'false');
rows($db, '@@autocommit', 'SELECT @@autocommit');
if (insert($db, 'ac_off_commit', 1) && execute($db, 'COMMIT', 'COMMIT')) committed('ac_off_commit');
if (insert($db, 'ac_off_rollback', 2) && execute($db, 'ROLLBACK', 'ROLLBACK')) rolled_back('ac_off_rollback');
step('ATTR_AUTOCOMMIT 1', fn() => $db->setAttribute(PDO::ATTR_AUTOCOMMIT, 1) ? null : 'false');
rows($db, '@@autocommit', 'SELECT @@autocommit');
if (insert($db, 'ac_on', 3)) committed('ac_on');

// beginTransaction / commit / rollBack.
step('beginTransaction', fn() => show($db->beginTransaction()));
line('inTransaction', show($db->inTransaction()));
if (insert($db, 'tx_commit', 4) && step('commit', fn() => show($db->commit()))) committed('tx_commit');
step('beginTransaction', fn() => show($db->beginTransaction()));
if (insert($db, 'tx_rollback', 5) && step('rollBack', fn() => show($db->rollBack()))) rolled_back('tx_rollback');
step('beginTransaction', fn() => show($db->beginTransaction()));
$ok = insert($db, 'tx_partial', 6);
insert($db, 'tx_partial', 7);
if (step('commit', fn() => show($db->commit())) && $ok) committed('tx_partial');
line('inTransaction', show($db->inTransaction()));
foreach (['READ UNCOMMITTED', 'READ COMMITTED', 'REPEATABLE READ', 'SERIALIZABLE'] as $lvl) {
    execute($db, "set $lvl", "SET SESSION TRANSACTION ISOLATION LEVEL $lvl");
    step('beginTransaction', fn() => show($db->beginTransaction()));
    rows($db, "$lvl: @@tx_isolation", 'SELECT @@tx_isolation');
    step('commit', fn() => show($db->commit()));
}
execute($db, 'isolation back', 'SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ');

// lastInsertId and LAST_INSERT_ID(), with emulated and native prepares.
foreach ([true, false] as $emulate) {
    $kind = $emulate ? 'emulated' : 'native';
    $db->setAttribute(PDO::ATTR_EMULATE_PREPARES, $emulate);
    if (insert($db, "lid_$kind", 20, true)) committed("lid_$kind");
    rows($db, "$kind: LAST_INSERT_ID()", 'SELECT LAST_INSERT_ID()');
    rows($db, "$kind: select", T('SELECT note, v, v * 1.5 FROM {T} WHERE v >= ? AND note LIKE ? ORDER BY id'), [20, 'lid%']);
    rows($db, "$kind: parameters", 'SELECT ? + 1, ?, ?', [41, "x'y\\z", null]);
    insert($db, 'ac_on', 21, true); // duplicate
    rows($db, "$kind: prepared error", T('SELECT nope FROM {T} WHERE v = ?'), [1]);
    rows($db, "$kind: after errors", 'SELECT 1');
}
$db->setAttribute(PDO::ATTR_EMULATE_PREPARES, true);

// Errors after which the session goes on.
insert($db, 'ac_on', 30);
rows($db, 'after duplicate', 'SELECT 1');
rows($db, 'syntax error', 'SELEC 1');
rows($db, 'after syntax error', 'SELECT 2');
rows($db, 'warning', "SELECT CAST('1x' AS SIGNED)");
rows($db, 'SHOW WARNINGS', 'SHOW WARNINGS');
execute($db, 'SET @uv', 'SET @uv = 42');
rows($db, '@uv', 'SELECT @uv');

// Persistent connections: the same connection again within the process, its session kept.
$p = connect([PDO::ATTR_PERSISTENT => true]);
execute($p, 'persistent: SET @pv', 'SET @pv = 7');
$p = null;
$p = connect([PDO::ATTR_PERSISTENT => true]);
rows($p, 'persistent again: @pv, @@autocommit', 'SELECT @pv, @@autocommit');
if (insert($p, 'persistent', 40)) committed('persistent');
$p = null;

rows($db, 'final rows', T('SELECT id, note, v FROM {T} ORDER BY id'));

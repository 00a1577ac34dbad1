#!/usr/bin/perl
# The driver-matrix script for Perl DBI with DBD::MariaDB (format: drivers/transcript_test.go):
# AutoCommit toggles, begin_work/commit/rollback, last_insert_id, client-side and server-side
# (mariadb_server_prepare) prepared statements, errors. Errors print as
# "error=<code> <sqlstate> <message>", rows as JSON.
use strict;
use warnings;
use DBI;
use JSON::PP;

my %E = map { $_ => $ENV{$_} } qw(DRV_HOST DRV_PORT DRV_USER DRV_PASSWORD DRV_DB DRV_TABLE);
my $json = JSON::PP->new->canonical->allow_nonref;
$| = 1;

sub T { my $s = shift; $s =~ s/\{T\}/$E{DRV_TABLE}/g; return $s }
sub line { print "$_[0]: $_[1]\n" }
sub committed { print "\@committed $_[0]\n" }
sub rolled_back { print "\@rolledback $_[0]\n" }

sub connect_db {
    my (%attr) = @_;
    my $dsn = "DBI:MariaDB:database=$E{DRV_DB};host=$E{DRV_HOST};port=$E{DRV_PORT}";
    return DBI->connect($dsn, $E{DRV_USER}, $E{DRV_PASSWORD},
        { RaiseError => 1, PrintError => 0, AutoCommit => 1, %attr });
}

# step runs $fn and prints its result (when defined) or the driver's error; it reports success.
sub step {
    my ($dbh, $name, $fn) = @_;
    my $res = eval { $fn->() };
    if ($@) {
        if (defined $dbh->err && $dbh->err ne '') {
            line($name, sprintf('error=%d %s %s', $dbh->err, $dbh->state, $dbh->errstr));
        } else {
            my $msg = "$@";
            $msg =~ s/\s+at \S+ line \d+\.?\s*$//;
            line($name, "error: $msg");
        }
        return 0;
    }
    line($name, $res) if defined $res;
    return 1;
}

sub rows {
    my ($dbh, $name, $sql, @args) = @_;
    return step($dbh, $name, sub {
        my $r = $dbh->selectall_arrayref($sql, undef, @args);
        return 'rows=' . $json->encode($r) . ' warnings=' . ($dbh->{mariadb_warning_count} // 'undef');
    });
}

sub execute {
    my ($dbh, $name, $sql, @args) = @_;
    return step($dbh, $name, sub {
        my $n = $dbh->do($sql, undef, @args);
        return sprintf('affected=%s last_insert_id=%s', $n, $dbh->last_insert_id(undef, undef, undef, undef) // 'undef');
    });
}

sub insert {
    my ($dbh, $note, $v) = @_;
    return execute($dbh, "insert $note", T('INSERT INTO {T} (note, v) VALUES (?, ?)'), $note, $v);
}

my $dbh = connect_db();
rows($dbh, 'setup', 'SELECT @@autocommit, @@tx_isolation, @@sql_mode, @@character_set_client, '
    . '@@character_set_connection, @@character_set_results, @@collation_connection, @@time_zone, DATABASE()');

# AutoCommit toggles.
step($dbh, 'AutoCommit 0', sub { $dbh->{AutoCommit} = 0; undef });
rows($dbh, '@@autocommit', 'SELECT @@autocommit');
committed('ac_off_commit') if insert($dbh, 'ac_off_commit', 1) && step($dbh, 'commit', sub { $dbh->commit ? 'ok' : 'false' });
rolled_back('ac_off_rollback') if insert($dbh, 'ac_off_rollback', 2) && step($dbh, 'rollback', sub { $dbh->rollback ? 'ok' : 'false' });
step($dbh, 'AutoCommit 1', sub { $dbh->{AutoCommit} = 1; undef });
rows($dbh, '@@autocommit', 'SELECT @@autocommit');
committed('ac_on') if insert($dbh, 'ac_on', 3);

# The toggle sequence on a connection of its own, then disconnected.
{
    my $c = connect_db();
    step($c, 'toggle: AutoCommit 0', sub { $c->{AutoCommit} = 0; undef });
    rows($c, 'toggle: query', 'SELECT 1');
    step($c, 'toggle: commit', sub { $c->commit ? 'ok' : 'false' });
    step($c, 'toggle: AutoCommit 1', sub { $c->{AutoCommit} = 1; undef });
    committed('after_toggle') if insert($c, 'after_toggle', 4);
    $c->disconnect;
}
rows($dbh, 'after_toggle visible', T("SELECT COUNT(*) FROM {T} WHERE note = 'after_toggle'"));

# begin_work / commit / rollback; a failing statement inside a transaction.
step($dbh, 'begin_work', sub { $dbh->begin_work ? 'ok' : 'false' });
committed('tx_commit') if insert($dbh, 'tx_commit', 5) && step($dbh, 'commit', sub { $dbh->commit ? 'ok' : 'false' });
step($dbh, 'begin_work', sub { $dbh->begin_work ? 'ok' : 'false' });
rolled_back('tx_rollback') if insert($dbh, 'tx_rollback', 6) && step($dbh, 'rollback', sub { $dbh->rollback ? 'ok' : 'false' });
step($dbh, 'begin_work', sub { $dbh->begin_work ? 'ok' : 'false' });
my $ok = insert($dbh, 'tx_partial', 7);
insert($dbh, 'tx_partial', 8);
committed('tx_partial') if step($dbh, 'commit', sub { $dbh->commit ? 'ok' : 'false' }) && $ok;
for my $lvl ('READ UNCOMMITTED', 'READ COMMITTED', 'REPEATABLE READ', 'SERIALIZABLE') {
    execute($dbh, "set $lvl", "SET SESSION TRANSACTION ISOLATION LEVEL $lvl");
    step($dbh, 'begin_work', sub { $dbh->begin_work ? 'ok' : 'false' });
    rows($dbh, "$lvl: \@\@tx_isolation", 'SELECT @@tx_isolation');
    step($dbh, 'commit', sub { $dbh->commit ? 'ok' : 'false' });
}
execute($dbh, 'isolation back', 'SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ');

# last_insert_id, client-side and server-side prepared statements.
committed('lid_1') if insert($dbh, 'lid_1', 20);
rows($dbh, 'LAST_INSERT_ID()', 'SELECT LAST_INSERT_ID()');
{
    my $sp = connect_db(mariadb_server_prepare => 1);
    for my $row (['ps_1', 30], ['ps_2', 31], ['ps_1', 32]) {
        committed($row->[0]) if step($sp, "server prepared insert $row->[0]", sub {
            my $st = $sp->prepare(T('INSERT INTO {T} (note, v) VALUES (?, ?)'));
            my $n = $st->execute(@$row);
            return sprintf('affected=%s mariadb_insertid=%s', $n, $st->{mariadb_insertid});
        });
    }
    rows($sp, 'server prepared LAST_INSERT_ID()', 'SELECT LAST_INSERT_ID()');
    rows($sp, 'server prepared select', T('SELECT note, v, v * 1.5 FROM {T} WHERE v >= ? ORDER BY id'), 30);
    rows($sp, 'server prepared error', T('SELECT nope FROM {T} WHERE v = ?'), 1);
    rows($sp, 'server prepared after error', 'SELECT ? + 1', 1);
    $sp->disconnect;
}
rows($dbh, 'parameters', 'SELECT ? + 1, ?, ?', 41, "x'y\\z", undef);

# Errors after which the session goes on.
insert($dbh, 'ac_on', 40);
rows($dbh, 'after duplicate', 'SELECT 1');
rows($dbh, 'syntax error', 'SELEC 1');
rows($dbh, 'after syntax error', 'SELECT 2');
rows($dbh, 'warning', "SELECT CAST('1x' AS SIGNED)");
rows($dbh, 'SHOW WARNINGS', 'SHOW WARNINGS');
execute($dbh, 'SET @uv', 'SET @uv = 42');
rows($dbh, '@uv', 'SELECT @uv');
rows($dbh, 'final rows', T('SELECT id, note, v FROM {T} ORDER BY id'));
$dbh->disconnect;

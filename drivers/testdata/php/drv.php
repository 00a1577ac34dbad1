<?php
// Transcript helpers shared by the PHP driver scripts (format: drivers/transcript_test.go).
// Errors print as "error=<code> <sqlstate> <message>"; rows with json_encode of PHP's values.
error_reporting(E_ALL);
set_error_handler(function ($no, $str, $file, $line) {
    throw new ErrorException($str, 0, $no, $file, $line);
});

$E = [];
foreach (['DRV_HOST', 'DRV_PORT', 'DRV_USER', 'DRV_PASSWORD', 'DRV_DB', 'DRV_TABLE', 'DRV_OTHER_USER', 'DRV_OTHER_PASSWORD'] as $k) {
    $E[$k] = getenv($k);
}
const SETUP_QUERY = 'SELECT @@autocommit, @@tx_isolation, @@sql_mode, @@character_set_client, '
    . '@@character_set_connection, @@character_set_results, @@collation_connection, @@time_zone, DATABASE()';

function T($sql) { global $E; return str_replace('{T}', $E['DRV_TABLE'], $sql); }
function line($step, $result) { echo $step, ': ', $result, "\n"; }
function committed($note) { echo "@committed $note\n"; }
function rolled_back($note) { echo "@rolledback $note\n"; }
function show($v) { return json_encode($v, JSON_UNESCAPED_UNICODE | JSON_UNESCAPED_SLASHES | JSON_PRESERVE_ZERO_FRACTION); }

function err_text(Throwable $e) {
    if ($e instanceof PDOException && is_array($e->errorInfo) && isset($e->errorInfo[1])) {
        return sprintf('error=%d %s %s', $e->errorInfo[1], $e->errorInfo[0], $e->errorInfo[2]);
    }
    if ($e instanceof mysqli_sql_exception) {
        return sprintf('error=%d %s %s', $e->getCode(), $e->getSqlState(), $e->getMessage());
    }
    return 'error: ' . get_class($e) . ' ' . $e->getMessage();
}

// step runs $fn and prints its result (when not null) or the error; it reports success.
function step($name, callable $fn) {
    try {
        $res = $fn();
    } catch (PDOException | mysqli_sql_exception $e) {
        line($name, err_text($e));
        return false;
    }
    if ($res !== null) {
        line($name, $res);
    }
    return true;
}

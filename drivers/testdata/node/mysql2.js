// The driver-matrix script for node mysql2 (format: drivers/transcript_test.go): query (text
// protocol), execute (server-side prepared, cached by the driver), beginTransaction/commit/
// rollback, insertId, warningStatus, the multipleStatements option, changeUser, a pool.
// Errors print as "error=<errno> <sqlState> <sqlMessage>", rows as JSON.
'use strict';
const mysql = require('mysql2/promise');

const E = process.env;
const T = (sql) => sql.split('{T}').join(E.DRV_TABLE);
const out = [];
const line = (step, result) => out.push(`${step}: ${result}`);
const committed = (note) => out.push(`@committed ${note}`);
const rolledBack = (note) => out.push(`@rolledback ${note}`);
const show = (v) => JSON.stringify(v, (k, x) => (typeof x === 'bigint' ? x.toString() : Buffer.isBuffer(x) ? x.toString('hex') : x));

function connect(extra = {}) {
  return mysql.createConnection({
    host: E.DRV_HOST, port: Number(E.DRV_PORT), user: E.DRV_USER, password: E.DRV_PASSWORD,
    database: E.DRV_DB, charset: 'utf8mb4_general_ci', ...extra,
  });
}

function errText(e) {
  if (e && e.errno) return `error=${e.errno} ${e.sqlState} ${e.sqlMessage}`;
  return `error: ${e && e.message}`;
}

// step runs fn and records its result (unless undefined) or the error; it reports success.
async function step(name, fn) {
  try {
    const res = await fn();
    if (res !== undefined) line(name, res);
    return true;
  } catch (e) {
    line(name, errText(e));
    return false;
  }
}

// result formats a reply: rows, an OK packet, or (several statements) each of them. Several
// statements give an array of results and an array of their fields.
function result(r, fields) {
  const multi = Array.isArray(fields) && fields.length > 0 && (fields[0] === undefined || Array.isArray(fields[0]));
  if (multi) return r.map((x, i) => result(x, fields[i])).join(' ; ');
  if (Array.isArray(r)) return 'rows=' + show(r);
  return `affected=${r.affectedRows} insertId=${r.insertId} warnings=${r.warningStatus} changed=${r.changedRows}`;
}

const query = (c, name, sql, args) => step(name, async () => result(...(await c.query({ sql, rowsAsArray: true }, args))));
const execute = (c, name, sql, args) => step(name, async () => result(...(await c.execute({ sql, rowsAsArray: true }, args))));
const insert = (c, note, v, how = query) => how(c, `insert ${note}`, T('INSERT INTO {T} (note, v) VALUES (?, ?)'), [note, v]);

async function main() {
  const c = await connect();
  await query(c, 'setup', 'SELECT @@autocommit, @@tx_isolation, @@sql_mode, @@character_set_client, @@character_set_connection, @@character_set_results, @@collation_connection, @@time_zone, DATABASE()');

  // Autocommit toggles (mysql2 has no API: SQL).
  await query(c, 'autocommit 0', 'SET autocommit = 0');
  if (await insert(c, 'ac_off_commit', 1) && await query(c, 'commit', 'COMMIT')) committed('ac_off_commit');
  if (await insert(c, 'ac_off_rollback', 2) && await query(c, 'rollback', 'ROLLBACK')) rolledBack('ac_off_rollback');
  await query(c, 'autocommit 1', 'SET autocommit = 1');
  await query(c, '@@autocommit', 'SELECT @@autocommit');
  if (await insert(c, 'ac_on', 3)) committed('ac_on');

  // The toggle sequence on a connection of its own, then closed.
  const t = await connect();
  await query(t, 'toggle: autocommit 0', 'SET autocommit = 0');
  await query(t, 'toggle: query', 'SELECT 1');
  await query(t, 'toggle: commit', 'COMMIT');
  await query(t, 'toggle: autocommit 1', 'SET autocommit = 1');
  if (await insert(t, 'after_toggle', 4)) committed('after_toggle');
  await t.end();
  await query(c, 'after_toggle visible', T("SELECT COUNT(*) FROM {T} WHERE note = 'after_toggle'"));

  // Transactions.
  await step('beginTransaction', () => c.beginTransaction().then(() => 'ok'));
  if (await insert(c, 'tx_commit', 5) && await step('commit', () => c.commit().then(() => 'ok'))) committed('tx_commit');
  await step('beginTransaction', () => c.beginTransaction().then(() => 'ok'));
  if (await insert(c, 'tx_rollback', 6) && await step('rollback', () => c.rollback().then(() => 'ok'))) rolledBack('tx_rollback');
  await step('beginTransaction', () => c.beginTransaction().then(() => 'ok'));
  const ok = await insert(c, 'tx_partial', 7);
  await insert(c, 'tx_partial', 8);
  if (await step('commit', () => c.commit().then(() => 'ok')) && ok) committed('tx_partial');
  for (const lvl of ['READ UNCOMMITTED', 'READ COMMITTED', 'REPEATABLE READ', 'SERIALIZABLE']) {
    await query(c, `set ${lvl}`, `SET SESSION TRANSACTION ISOLATION LEVEL ${lvl}`);
    await step('beginTransaction', () => c.beginTransaction().then(() => 'ok'));
    await query(c, `${lvl}: @@tx_isolation`, 'SELECT @@tx_isolation');
    await step('commit', () => c.commit().then(() => 'ok'));
  }
  await query(c, 'isolation back', 'SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ');

  // insertId and LAST_INSERT_ID(); execute (server-side prepared statements).
  if (await insert(c, 'lid_1', 20)) committed('lid_1');
  await query(c, 'LAST_INSERT_ID()', 'SELECT LAST_INSERT_ID()');
  for (const [note, v] of [['ps_1', 30], ['ps_2', 31], ['ps_1', 32]]) {
    if (await insert(c, note, v, execute)) committed(note);
  }
  await execute(c, 'execute LAST_INSERT_ID()', 'SELECT LAST_INSERT_ID()');
  await execute(c, 'execute select', T('SELECT note, v, v * 1.5 FROM {T} WHERE v >= ? ORDER BY id'), [30]);
  await execute(c, 'execute select again', T('SELECT note, v, v * 1.5 FROM {T} WHERE v >= ? ORDER BY id'), [31]);
  await execute(c, 'execute parameters', 'SELECT ? + 1, ?, ?', [41, "x'y", null]);
  await execute(c, 'execute error', T('SELECT nope FROM {T} WHERE v = ?'), [1]);
  await query(c, 'query parameters', 'SELECT ? + 1, ?, ?', [41, "x'y", null]);

  // Errors after which the session goes on.
  await insert(c, 'ac_on', 40);
  await query(c, 'after duplicate', 'SELECT 1');
  await query(c, 'syntax error', 'SELEC 1');
  await query(c, 'after syntax error', 'SELECT 2');
  await query(c, 'warning', "SELECT CAST('1x' AS SIGNED)");
  await query(c, 'SHOW WARNINGS', 'SHOW WARNINGS');
  await query(c, 'update unchanged', T("UPDATE {T} SET v = v WHERE note = 'ac_on'"));
  await query(c, 'multiple statements (option off)', 'SELECT 1; SELECT 2');

  // The multipleStatements option.
  const m = await connect({ multipleStatements: true });
  await query(m, 'multiple statements', 'SELECT 1; SELECT 2');
  if (await query(m, 'multiple inserts', T("INSERT INTO {T} (note, v) VALUES ('multi_1', 50); INSERT INTO {T} (note, v) VALUES ('multi_2', 51)"))) {
    committed('multi_1');
    committed('multi_2');
  }
  await m.end();

  // changeUser (COM_CHANGE_USER): a fresh session.
  await query(c, 'SET @uv', 'SET @uv = 42');
  await step('changeUser', () => c.changeUser({ user: E.DRV_OTHER_USER, password: E.DRV_OTHER_PASSWORD, database: E.DRV_DB }).then(() => 'ok'));
  await query(c, 'after changeUser', 'SELECT @uv, @@autocommit');

  // A pool: connections reused between getConnection calls, their session kept.
  const pool = mysql.createPool({ host: E.DRV_HOST, port: Number(E.DRV_PORT), user: E.DRV_USER, password: E.DRV_PASSWORD, database: E.DRV_DB, connectionLimit: 1 });
  const p1 = await pool.getConnection();
  await query(p1, 'pool: SET @pv', 'SET @pv = 7');
  p1.release();
  const p2 = await pool.getConnection();
  await query(p2, 'pool again: @pv', 'SELECT @pv');
  if (await insert(p2, 'pool', 60)) committed('pool');
  p2.release();
  await pool.end();

  await query(c, 'final rows', T('SELECT id, note, v FROM {T} ORDER BY id'));
  await c.end();
}

main().then(() => { console.log(out.join('\n')); }, (e) => {
  console.log(out.join('\n'));
  console.error(e && e.stack);
  process.exit(1);
});

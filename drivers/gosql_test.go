package drivers

import (
	"context"
	"database/sql"
	"strings"
	"testing"
)

// TestGoSQLDriver runs the go-sql-driver/mysql script with each DSN variant users pick: the
// default (server-side prepared statements for queries with arguments), multiStatements,
// clientFoundRows, a latin1 and a binary utf8mb4 collation, and interpolateParams (arguments
// quoted by the driver, no prepares).
func TestGoSQLDriver(t *testing.T) {
	t.Parallel()
	for _, v := range []struct{ name, params string }{
		{"default", ""},
		{"multistatements", "multiStatements=true"},
		{"clientfoundrows", "clientFoundRows=true"},
		{"latin1", "collation=latin1_general_ci"},
		{"utf8mb4bin", "collation=utf8mb4_bin"},
		{"interpolate", "interpolateParams=true"},
	} {
		t.Run(v.name, func(t *testing.T) {
			runMatrix(t, "gosql_"+v.name, goSQLScript(v.params))
		})
	}
}

func goSQLScript(params string) scriptFunc {
	return func(t *testing.T, ctx context.Context, ep endpoint, table string) ([]string, error) {
		db, err := sql.Open("mysql", ep.dsn(params))
		if err != nil {
			return nil, err
		}
		defer db.Close()
		r := &recorder{ctx: ctx}
		c, err := db.Conn(ctx)
		if err != nil {
			return nil, err
		}
		defer c.Close()
		T := func(q string) string { return strings.ReplaceAll(q, "{T}", table) }

		r.query("setup", c, "SELECT @@autocommit, @@tx_isolation, @@sql_mode, @@character_set_client, @@character_set_connection, @@character_set_results, @@collation_connection, @@time_zone, DATABASE()")
		goSQLAutocommit(r, c, T)
		if err := goSQLToggleAndClose(r, ep.dsn(params), T); err != nil {
			return r.lines, err
		}
		r.query("after_toggle visible", c, T("SELECT COUNT(*) FROM {T} WHERE note = 'after_toggle'"))
		b, err := db.Conn(ctx)
		if err != nil {
			return r.lines, err
		}
		defer b.Close()
		goSQLTransactions(r, c, b, T)
		goSQLLastInsertID(r, c, b, T)
		goSQLPrepared(r, c, T)
		goSQLErrors(r, c, T)
		goSQLSessionState(r, c, b, T)
		return r.lines, nil
	}
}

// goSQLAutocommit: SET autocommit toggles, with COMMIT, ROLLBACK and the implicit commit of
// SET autocommit = 1.
func goSQLAutocommit(r *recorder, c *sql.Conn, T func(string) string) {
	r.exec("autocommit 0", c, "SET autocommit = 0")
	r.query("@@autocommit", c, "SELECT @@autocommit")
	if r.exec("insert ac_off_commit", c, T("INSERT INTO {T} (note, v) VALUES ('ac_off_commit', 1)")) && r.exec("commit", c, "COMMIT") {
		r.committed("ac_off_commit")
	}
	if r.exec("insert ac_off_rollback", c, T("INSERT INTO {T} (note, v) VALUES ('ac_off_rollback', 2)")) && r.exec("rollback", c, "ROLLBACK") {
		r.rolledBack("ac_off_rollback")
	}
	if r.exec("insert ac_implicit", c, T("INSERT INTO {T} (note, v) VALUES ('ac_implicit', 3)")) && r.exec("autocommit 1 commits", c, "SET autocommit = 1") {
		r.committed("ac_implicit")
	}
	r.query("@@autocommit", c, "SELECT @@autocommit")
	if r.exec("insert ac_on", c, T("INSERT INTO {T} (note, v) VALUES ('ac_on', 4)")) {
		r.committed("ac_on")
	}
	r.exec("rollback without transaction", c, "ROLLBACK")
	r.query("ac_on still there", c, T("SELECT note FROM {T} WHERE note LIKE 'ac%' ORDER BY id"))
}

// goSQLToggleAndClose is the sequence PyMySQL users run (autocommit off, a query, COMMIT,
// autocommit on, a write, close) on a connection of its own that is really closed.
func goSQLToggleAndClose(r *recorder, dsn string, T func(string) string) error {
	db, err := sql.Open("mysql", dsn)
	if err != nil {
		return err
	}
	db.SetMaxIdleConns(0) // Close closes the connection rather than pooling it
	defer db.Close()
	c, err := db.Conn(r.ctx)
	if err != nil {
		return err
	}
	r.exec("toggle: autocommit 0", c, "SET autocommit = 0")
	r.query("toggle: query", c, "SELECT 1")
	r.exec("toggle: commit", c, "COMMIT")
	r.exec("toggle: autocommit 1", c, "SET autocommit = 1")
	if r.exec("toggle: insert after_toggle", c, T("INSERT INTO {T} (note, v) VALUES ('after_toggle', 5)")) {
		r.committed("after_toggle")
	}
	return c.Close()
}

var isolationLevels = []sql.IsolationLevel{sql.LevelReadUncommitted, sql.LevelReadCommitted, sql.LevelRepeatableRead, sql.LevelSerializable}

// goSQLTransactions: database/sql transactions committed, rolled back, read-only, at each
// isolation level (what the server runs inside, and what it shows: a row another session
// commits meanwhile).
func goSQLTransactions(r *recorder, c, b *sql.Conn, T func(string) string) {
	if r.tx("tx_commit", c, nil, func(tx *sql.Tx) bool {
		return r.exec("tx insert tx_commit", tx, T("INSERT INTO {T} (note, v) VALUES ('tx_commit', 6)"))
	}) {
		r.committed("tx_commit")
	}
	wrote := false
	r.tx("tx_rollback", c, nil, func(tx *sql.Tx) bool {
		wrote = r.exec("tx insert tx_rollback", tx, T("INSERT INTO {T} (note, v) VALUES ('tx_rollback', 7)"))
		return false
	})
	if wrote {
		r.rolledBack("tx_rollback")
	}
	r.tx("read only", c, &sql.TxOptions{ReadOnly: true}, func(tx *sql.Tx) bool {
		r.exec("read-only tx insert", tx, T("INSERT INTO {T} (note, v) VALUES ('tx_read_only', 8)"))
		r.query("read-only tx select", tx, T("SELECT COUNT(*) FROM {T}"))
		return false
	})
	for _, lvl := range isolationLevels {
		name := strings.ReplaceAll(strings.ToLower(lvl.String()), " ", "_")
		r.tx(name, c, &sql.TxOptions{Isolation: lvl}, func(tx *sql.Tx) bool {
			r.query(name+": @@tx_isolation", tx, "SELECT @@tx_isolation")
			r.query(name+": count before", tx, T("SELECT COUNT(*) FROM {T} WHERE note LIKE 'iso%'"))
			// (Under SERIALIZABLE the count locks the range: another session's insert would
			// wait for the lock, so that level only reads.)
			if lvl != sql.LevelSerializable && r.exec(name+": other session inserts", b, T("INSERT INTO {T} (note, v) VALUES ('iso_"+name+"', 9)")) {
				r.committed("iso_" + name)
			}
			r.query(name+": count after", tx, T("SELECT COUNT(*) FROM {T} WHERE note LIKE 'iso%'"))
			return true
		})
	}
	r.query("@@tx_isolation after", c, "SELECT @@tx_isolation")
	// A write that fails inside a transaction rolls back that statement only.
	wrote = false
	if r.tx("tx_partial", c, nil, func(tx *sql.Tx) bool {
		wrote = r.exec("tx insert tx_partial", tx, T("INSERT INTO {T} (note, v) VALUES ('tx_partial', 10)"))
		r.exec("tx duplicate", tx, T("INSERT INTO {T} (note, v) VALUES ('tx_partial', 11)"))
		return true
	}) && wrote {
		r.committed("tx_partial")
	}
	// Two sessions: one's open transaction is invisible to the other until committed.
	r.exec("a begin", c, "BEGIN")
	okA := r.exec("a insert two_a", c, T("INSERT INTO {T} (note, v) VALUES ('two_a', 12)"))
	r.query("b sees two_a", b, T("SELECT COUNT(*) FROM {T} WHERE note = 'two_a'"))
	if r.exec("a commit", c, "COMMIT") && okA {
		r.committed("two_a")
	}
	r.query("b sees two_a", b, T("SELECT COUNT(*) FROM {T} WHERE note = 'two_a'"))
}

// goSQLLastInsertID: the insert id of the OK packet (the driver's LastInsertId) and
// LAST_INSERT_ID() in the session that inserted and in another one.
func goSQLLastInsertID(r *recorder, c, b *sql.Conn, T func(string) string) {
	if r.exec("insert lid_1", c, T("INSERT INTO {T} (note, v) VALUES ('lid_1', 20)")) {
		r.committed("lid_1")
	}
	r.query("LAST_INSERT_ID()", c, "SELECT LAST_INSERT_ID()")
	if r.exec("insert lid_2,lid_3", c, T("INSERT INTO {T} (note, v) VALUES ('lid_2', 21), ('lid_3', 22)")) {
		r.committed("lid_2")
		r.committed("lid_3")
	}
	r.query("select in between", c, "SELECT 1")
	r.query("LAST_INSERT_ID()", c, "SELECT LAST_INSERT_ID()")
	if r.exec("insert explicit id", c, T("INSERT INTO {T} (id, note, v) VALUES (1000, 'lid_explicit', 23)")) {
		r.committed("lid_explicit")
	}
	r.query("LAST_INSERT_ID()", c, "SELECT LAST_INSERT_ID()")
	r.exec("LAST_INSERT_ID(expr)", c, T("UPDATE {T} SET v = LAST_INSERT_ID(v + 100) WHERE note = 'lid_1'"))
	r.query("LAST_INSERT_ID()", c, "SELECT LAST_INSERT_ID()")
	r.query("other session LAST_INSERT_ID()", b, "SELECT LAST_INSERT_ID()")
	if r.exec("insert select", c, T("INSERT INTO {T} (note, v) SELECT CONCAT('lid_sel_', v), v FROM {T} WHERE note IN ('lid_2', 'lid_3')")) {
		r.committed("lid_sel_21")
		r.committed("lid_sel_22")
	}
	r.query("LAST_INSERT_ID()", c, "SELECT LAST_INSERT_ID()")
}

// goSQLPrepared: explicit server-side prepared statements and queries with arguments
// (server-side prepared unless interpolateParams).
func goSQLPrepared(r *recorder, c *sql.Conn, T func(string) string) {
	ins, err := c.PrepareContext(r.ctx, T("INSERT INTO {T} (note, v) VALUES (?, ?)"))
	if err != nil {
		r.fail("prepare insert", err)
	} else {
		for _, row := range []struct {
			note string
			v    int
		}{{"ps_1", 30}, {"ps_2", 31}, {"ps_1", 32}} {
			res, err := ins.ExecContext(r.ctx, row.note, row.v)
			if err != nil {
				r.fail("prepared insert "+row.note, err)
				continue
			}
			r.result("prepared insert "+row.note, res)
			r.committed(row.note)
		}
		r.query("LAST_INSERT_ID() after prepared", c, "SELECT LAST_INSERT_ID()")
		ins.Close()
	}
	sel, err := c.PrepareContext(r.ctx, T("SELECT note, v, v * 1.5, CAST(v AS CHAR) FROM {T} WHERE v >= ? AND note LIKE ? ORDER BY id"))
	if err != nil {
		r.fail("prepare select", err)
	} else {
		for _, v := range []int{30, 31} {
			rows, err := sel.QueryContext(r.ctx, v, "ps%")
			if err != nil {
				r.fail("prepared select", err)
				continue
			}
			r.rows("prepared select", rows)
		}
		sel.Close()
	}
	r.query("query with args", c, "SELECT ? + 1, ?, ?, CAST(? AS DECIMAL(10,3)), ?", 41, "x'y", nil, 2.5, []byte{0, 0xff})
	r.query("prepared error", c, T("SELECT nope FROM {T} WHERE v = ?"), 1)
}

// goSQLErrors: errors after which the session goes on.
func goSQLErrors(r *recorder, c *sql.Conn, T func(string) string) {
	r.exec("duplicate key", c, T("INSERT INTO {T} (note, v) VALUES ('ac_on', 40)"))
	r.query("after duplicate", c, "SELECT 1")
	r.query("syntax error", c, "SELEC 1")
	r.query("after syntax error", c, "SELECT 2")
	r.query("no such table", c, T("SELECT * FROM {T}_nope"))
	r.query("no such variable", c, "SELECT @@no_such_variable")
	r.query("warning", c, "SELECT CAST('1x' AS SIGNED)")
	r.query("@@warning_count", c, "SELECT @@warning_count")
	r.query("SHOW WARNINGS", c, "SHOW WARNINGS")
	r.exec("update unchanged", c, T("UPDATE {T} SET v = v WHERE note = 'ac_on'"))
	r.query("ROW_COUNT()", c, "SELECT ROW_COUNT()")
	r.exec("update changed", c, T("UPDATE {T} SET v = 41 WHERE note = 'ac_on'"))
	r.query("SQL_CALC_FOUND_ROWS", c, T("SELECT SQL_CALC_FOUND_ROWS note FROM {T} ORDER BY id LIMIT 1"))
	r.query("FOUND_ROWS()", c, "SELECT FOUND_ROWS()")
	r.query("multi statements", c, "SELECT 1; SELECT 2")
	if r.exec("multi statement insert", c, T("INSERT INTO {T} (note, v) VALUES ('multi_1', 50); INSERT INTO {T} (note, v) VALUES ('multi_2', 51)")) {
		r.committed("multi_1")
		r.committed("multi_2")
	}
}

// goSQLSessionState: user variables, session variables, temporary tables and the connection
// character set, which stay with the session whatever backend connection serves it.
func goSQLSessionState(r *recorder, c, b *sql.Conn, T func(string) string) {
	r.exec("SET @uv", c, "SET @uv = 42, @us = 'str'")
	r.exec("SET sql_mode", c, "SET SESSION sql_mode = 'ANSI_QUOTES'")
	r.query("statement in between", b, "SELECT @uv, @@sql_mode")
	r.query("@uv, @@sql_mode", c, "SELECT @uv, @us, @@sql_mode")
	r.query("ANSI_QUOTES", c, T(`SELECT "note" FROM {T} ORDER BY id LIMIT 1`))
	r.exec("sql_mode default", c, "SET SESSION sql_mode = DEFAULT")
	r.query("@@sql_mode", c, "SELECT @@sql_mode")
	r.exec("temporary table", c, T("CREATE TEMPORARY TABLE {T}_tmp (x INT)"))
	r.exec("insert temporary", c, T("INSERT INTO {T}_tmp VALUES (1), (2)"))
	r.query("other session", b, T("SELECT COUNT(*) FROM {T}_tmp"))
	r.query("own session", c, T("SELECT COUNT(*) FROM {T}_tmp"))
	r.exec("drop temporary", c, T("DROP TEMPORARY TABLE {T}_tmp"))
	r.query("non-ascii", c, "SELECT 'ünï€', HEX('ünï€'), CHAR_LENGTH('ünï€')")
	r.query("collation compare", c, "SELECT 'a' = 'A', 'ü' = 'Ü', HEX('ü'), CHARSET('x'), COLLATION('x')")
	r.query("final rows", c, T("SELECT id, note, v FROM {T} ORDER BY id"))
}

package tabletserver

// Integration tests of what a router needs to keep sessions right: status flags it can trust,
// errors that end only a statement, kills that cannot hit the wrong query.

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strconv"
	"testing"
	"time"

	"github.com/go-mysql-org/go-mysql/mysql"
	topodatapb "vitess.io/vitess/go/vt/proto/topodata"
)

// sessionTable returns a fresh table of the test's own (no other test counts its rows).
func sessionTable(t *testing.T, name string) string {
	t.Helper()
	m := sharedMariaDB(t)
	table := testDB + "." + name
	if err := execAll(context.Background(), m, testDB,
		"CREATE TABLE IF NOT EXISTS "+table+" (id INT PRIMARY KEY)", "DELETE FROM "+table); err != nil {
		t.Fatal(err)
	}
	return table
}

func mustExec(t *testing.T, c *Conn, q string) Result {
	t.Helper()
	res, err := c.Exec(context.Background(), &Request{Frame: queryFrame(q)}, io.Discard)
	if err != nil || res.Err != nil {
		t.Fatalf("%s: %v %v", q, err, res.Err)
	}
	return res
}

func countRows(t *testing.T, table string) int {
	t.Helper()
	var n int
	if err := openDB(t, sharedMariaDB(t)).QueryRow("SELECT COUNT(*) FROM " + table).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// MariaDB puts the status in the parameters' EOF of a prepare reply without columns, and has
// no status to give for a prepare without parameters and columns, nor for COM_STATISTICS.
func TestIntegrationStatusKnown(t *testing.T) {
	m := sharedMariaDB(t)
	table := sessionTable(t, "status_known")
	ts := startServer(t, m, Config{}, topodatapb.TabletType_PRIMARY, nil)
	ctx := context.Background()
	c, err := ts.Get(ctx, Want{Hold: true})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if res := mustExec(t, c, "BEGIN"); !res.StatusKnown || res.Status&mysql.SERVER_STATUS_IN_TRANS == 0 {
		t.Fatalf("BEGIN: %+v", res)
	}
	tests := []struct {
		query  string
		params int
		known  bool
	}{
		{"INSERT INTO " + table + " VALUES (?)", 1, true}, // parameters' EOF
		{"SELECT id FROM " + table + " WHERE id = ?", 1, true},
		{"SELECT 1", 0, true}, // columns' EOF
		{"DO 1", 0, false},    // the prepare OK only
	}
	for i, tt := range tests {
		params, _, res, err := c.Prepare(ctx, tt.query, uint32(i+1), io.Discard)
		if err != nil || res.Err != nil || params != tt.params {
			t.Fatalf("%s: %d params, %v %v", tt.query, params, err, res.Err)
		}
		if res.StatusKnown != tt.known {
			t.Errorf("%s: StatusKnown = %v, want %v", tt.query, res.StatusKnown, tt.known)
		}
		if tt.known && res.Status&(mysql.SERVER_STATUS_IN_TRANS|mysql.SERVER_STATUS_AUTOCOMMIT) != mysql.SERVER_STATUS_IN_TRANS|mysql.SERVER_STATUS_AUTOCOMMIT {
			t.Errorf("%s: Status %#x, want IN_TRANS|AUTOCOMMIT", tt.query, res.Status)
		}
		if !tt.known && res.Status != 0 {
			t.Errorf("%s: Status %#x without StatusKnown", tt.query, res.Status)
		}
	}
	res, err := c.Exec(ctx, &Request{Frame: []byte{0, 0, 0, 0, mysql.COM_STATISTICS}}, io.Discard)
	if err != nil || res.StatusKnown || !res.Complete {
		t.Fatalf("COM_STATISTICS: %+v %v", res, err)
	}
	mustExec(t, c, "ROLLBACK")
}

// Conn.KillQuery stops the running statement only: the transaction goes on.
func TestIntegrationConnKillQueryKeepsTransaction(t *testing.T) {
	m := sharedMariaDB(t)
	table := sessionTable(t, "kill_keeps_tx")
	ts := startServer(t, m, Config{}, topodatapb.TabletType_PRIMARY, nil)
	db := openDB(t, m)
	ctx := context.Background()
	c, err := ts.Get(ctx, Want{Hold: true})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	mustExec(t, c, "BEGIN")
	mustExec(t, c, "INSERT INTO "+table+" VALUES (1)")

	lease := c.Lease()
	// Nothing runs: both kills are no-ops.
	if err := c.KillQuery(ctx); err != nil {
		t.Fatal(err)
	}
	if err := c.KillQueryOnLease(ctx, lease); err != nil {
		t.Fatal(err)
	}
	type outcome struct {
		res Result
		err error
	}
	done := make(chan outcome, 1) // the Exec's outcome; buffered so the goroutine never blocks
	go func() {
		res, err := c.Exec(ctx, &Request{Frame: queryFrame("SELECT SLEEP(30) AS conn_kill_test")}, io.Discard)
		done <- outcome{res, err}
	}()
	waitFor(t, "the query to run", 10*time.Second, func() bool { return running(t, db, "SELECT SLEEP(30) AS conn_kill_test") })
	// A stale lease (the connection's hand-out before) kills nothing.
	if err := c.KillQueryOnLease(ctx, lease-1); err != nil {
		t.Fatal(err)
	}
	if err := c.KillQueryOnLease(ctx, lease); err != nil {
		t.Fatal(err)
	}
	var o outcome
	select {
	case o = <-done:
	case <-time.After(20 * time.Second):
		t.Fatal("Exec did not return after KillQuery")
	}
	var me *mysql.MyError
	if !StatementOnly(o.err) || !errors.As(o.err, &me) || me.Code != mysql.ER_QUERY_INTERRUPTED {
		t.Fatalf("Exec: %+v, %v; want a StatementOnly 1317", o.res, o.err)
	}
	if st := ts.Stats(); st.Kills != 1 {
		t.Errorf("%d kills", st.Kills)
	}
	// Same connection, same transaction.
	var w bytes.Buffer
	if res, err := c.Exec(ctx, &Request{Frame: queryFrame("SELECT @@in_transaction, COUNT(*) FROM " + table)}, &w); err != nil || res.Err != nil {
		t.Fatalf("after the kill: %v %v", err, res.Err)
	}
	if got := textValues(t, w.Bytes())[0]; got[0] != "1" || got[1] != "1" {
		t.Fatalf("after the kill: in_transaction, rows = %v; want 1, 1", got)
	}
	mustExec(t, c, "COMMIT")
	if n := countRows(t, table); n != 1 {
		t.Fatalf("%d rows committed, want 1", n)
	}
}

// A query timeout ends the statement, not the transaction; so does the result-size limit.
func TestIntegrationStatementOnlyErrorsKeepTransaction(t *testing.T) {
	m := sharedMariaDB(t)
	table := sessionTable(t, "stmt_only")
	ts := startServer(t, m, Config{QueryTimeout: 500 * time.Millisecond, MaxResultRows: 10}, topodatapb.TabletType_PRIMARY, nil)
	ctx := context.Background()
	c, err := ts.Get(ctx, Want{Hold: true})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	mustExec(t, c, "BEGIN")
	mustExec(t, c, "INSERT INTO "+table+" VALUES (1)")
	for _, q := range []string{"SELECT SLEEP(10)", "SELECT seq FROM seq_1_to_100000"} {
		_, err := c.Exec(ctx, &Request{Frame: queryFrame(q)}, io.Discard)
		if !StatementOnly(err) {
			t.Fatalf("%s: %v, want StatementOnly", q, err)
		}
		mustExec(t, c, "INSERT INTO "+table+" SELECT MAX(id) + 1 FROM "+table)
	}
	if res := mustExec(t, c, "COMMIT"); !res.StatusKnown || res.Status&mysql.SERVER_STATUS_IN_TRANS != 0 {
		t.Fatalf("COMMIT: %+v", res)
	}
	if n := countRows(t, table); n != 3 {
		t.Fatalf("%d rows committed, want 3", n)
	}
}

// A CALL that opens a transaction and then fails ends with an ERR, which carries no status:
// the connection must not go back to the pool with the transaction open.
func TestIntegrationRecycleAfterFailedCallInTransaction(t *testing.T) {
	m := sharedMariaDB(t)
	table := sessionTable(t, "call_tx")
	if err := execAll(context.Background(), m, testDB,
		"CREATE PROCEDURE IF NOT EXISTS "+testDB+".tx_then_fail() BEGIN START TRANSACTION; INSERT INTO "+table+" VALUES (1); SELECT 1 AS a; SELECT * FROM no_such_table; END",
	); err != nil {
		t.Fatal(err)
	}
	ts := startServer(t, m, Config{PoolSize: 1}, topodatapb.TabletType_PRIMARY, nil)
	ctx := context.Background()
	c, err := ts.Get(ctx, Want{})
	if err != nil {
		t.Fatal(err)
	}
	res, err := c.Exec(ctx, &Request{Frame: queryFrame("CALL tx_then_fail()")}, io.Discard)
	if err != nil || res.Err == nil || res.Err.Code != 1146 || res.StatusKnown {
		t.Fatalf("CALL: %+v, %v; want ERR 1146 and no known status", res, err)
	}
	c.Release(0)
	if st := ts.Stats().Data; st.Idle != 0 {
		t.Fatalf("a connection inside a transaction went back to the pool: %+v", st)
	}
	c, err = ts.Get(ctx, Want{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Release(0)
	var w bytes.Buffer
	if res, err := c.Exec(ctx, &Request{Frame: queryFrame("SELECT @@in_transaction")}, &w); err != nil || res.Err != nil {
		t.Fatal(err, res.Err)
	}
	if got := textValues(t, w.Bytes())[0][0]; got != "0" {
		t.Fatalf("next client inherited a transaction (in_transaction = %s)", got)
	}
	if n := countRows(t, table); n != 0 {
		t.Fatalf("%d rows: the abandoned transaction was committed", n)
	}
}

// A prepare refused for the server's max_prepared_stmt_count frees the connection's
// statements and succeeds on the retry.
func TestIntegrationMaxPreparedStmtCount(t *testing.T) {
	m := sharedMariaDB(t)
	db := openDB(t, m)
	var old int
	if err := db.QueryRow("SELECT @@global.max_prepared_stmt_count").Scan(&old); err != nil {
		t.Fatal(err)
	}
	ts := startServer(t, m, Config{}, topodatapb.TabletType_PRIMARY, nil)
	ctx := context.Background()
	c, err := ts.Get(ctx, Want{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Release(0)
	if _, err := db.Exec("SET GLOBAL max_prepared_stmt_count = 3"); err != nil {
		t.Fatal(err)
	}
	// Not a server-side prepared statement: the server may be at its limit.
	t.Cleanup(func() { _, _ = db.Exec("SET GLOBAL max_prepared_stmt_count = " + strconv.Itoa(old)) })
	for i, q := range []string{"SELECT ? + 1", "SELECT ? + 2", "SELECT ? + 3"} {
		if res, err := c.ExecStmt(ctx, q, execPayload(int64(i)), nil, &Request{}, io.Discard); err != nil || res.Err != nil {
			t.Fatalf("%s: %v %v", q, err, res.Err)
		}
	}
	// The server is full: the client must not see 1461.
	var w bytes.Buffer
	params, _, res, err := c.Prepare(ctx, "SELECT ? + 4", 1, &w)
	if err != nil || res.Err != nil || params != 1 {
		t.Fatalf("Prepare at the limit: %d, %v, %v", params, err, res.Err)
	}
	if res, err := c.ExecStmt(ctx, "SELECT ? + 5", execPayload(5), nil, &Request{}, io.Discard); err != nil || res.Err != nil {
		t.Fatalf("ExecStmt at the limit: %v %v", err, res.Err)
	}
	if len(c.stmts.m) != 2 {
		t.Errorf("%d statements cached, want 2", len(c.stmts.m))
	}
}

package e2e

import (
	"context"
	"strings"
	"testing"
	"time"
)

// oneConnGateway is a gateway whose tablets have one data connection each, so that every
// session shares it: state that leaks between sessions shows at once.
func oneConnGateway(t *testing.T) *gatewayT {
	return newGateway(t, func(c *gatewayConfigT) { c.TabletServer.PoolSize = 1 })
}

// TestAutocommitOffSurvivesTransactions: autocommit off is session state; each transaction of
// such a session gets its own transaction timeout, and the session keeps no connection
// between transactions.
func TestAutocommitOffSurvivesTransactions(t *testing.T) {
	g := newGateway(t, func(c *gatewayConfigT) { c.TabletServer.TxTimeout = 2 * time.Second })
	db := openDB(t, dsn(g, "commerce"))
	if _, err := db.Exec("CREATE TABLE IF NOT EXISTS e2e_ac (id INT PRIMARY KEY)"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _, _ = db.Exec("DROP TABLE IF EXISTS e2e_ac") })
	c := conn(t, db)
	ctx := t.Context()
	exec := func(q string) {
		t.Helper()
		if _, err := c.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	exec("SET autocommit = 0")
	if got := queryInt(t, c, "SELECT @@autocommit"); got != 0 {
		t.Fatalf("@@autocommit = %d after SET autocommit = 0", got)
	}
	// Four transactions over more than twice the transaction timeout.
	for i := 1; i <= 4; i++ {
		exec("INSERT INTO e2e_ac VALUES (" + string(rune('0'+i)) + ")")
		if got := queryInt(t, db, "SELECT COUNT(*) FROM e2e_ac"); got != int64(i-1) {
			t.Fatalf("before COMMIT %d another session sees %d rows", i, got)
		}
		exec("COMMIT")
		time.Sleep(700 * time.Millisecond)
	}
	exec("INSERT INTO e2e_ac VALUES (9)")
	exec("ROLLBACK")
	if got := queryInt(t, db, "SELECT COUNT(*) FROM e2e_ac"); got != 4 {
		t.Fatalf("after 4 commits and a rollback: %d rows", got)
	}
	// Turning autocommit back on commits the open transaction, as in MySQL.
	exec("INSERT INTO e2e_ac VALUES (5)")
	exec("SET autocommit = 1")
	if got := queryInt(t, db, "SELECT COUNT(*) FROM e2e_ac WHERE id = 5"); got != 1 {
		t.Fatal("SET autocommit = 1 did not commit the open transaction")
	}
	if got := queryInt(t, c, "SELECT @@session.autocommit"); got != 1 {
		t.Fatalf("@@autocommit = %d after SET autocommit = 1", got)
	}
}

// TestSessionStateDoesNotLeak: what one session sets never reaches another, in every form a
// client sets it: session variables, SET SESSION TRANSACTION, mysqldump's executable
// comments, the same variable set several times.
func TestSessionStateDoesNotLeak(t *testing.T) {
	g := oneConnGateway(t)
	a := conn(t, openDB(t, dsn(g, "commerce")))
	b := openDB(t, dsn(g, "commerce"))
	ctx := t.Context()
	for _, q := range []string{
		"SET SESSION TRANSACTION ISOLATION LEVEL SERIALIZABLE",
		"/*!40014 SET FOREIGN_KEY_CHECKS=0 */",
		"SET SESSION unique_checks = 0",
		"SET unique_checks = 1",
		"SET @@session.unique_checks = 0",
	} {
		if _, err := a.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	for i := range 5 {
		if got := queryString(t, a, "SELECT @@tx_isolation"); got != "SERIALIZABLE" {
			t.Fatalf("round %d: session a has isolation %s", i, got)
		}
		if got := queryString(t, b, "SELECT @@tx_isolation"); got != "REPEATABLE-READ" {
			t.Fatalf("round %d: session b has isolation %s: a's setting leaked", i, got)
		}
		if got := queryInt(t, a, "SELECT @@foreign_key_checks + 10 * @@unique_checks"); got != 0 {
			t.Fatalf("round %d: session a has foreign_key_checks + 10*unique_checks = %d, want 0", i, got)
		}
		if got := queryInt(t, b, "SELECT @@foreign_key_checks + 10 * @@unique_checks"); got != 11 {
			t.Fatalf("round %d: session b has foreign_key_checks + 10*unique_checks = %d, want 11", i, got)
		}
	}
}

// TestConnectionStateKeepsTheSession: temporary tables and user variables live on one backend
// connection, so the session keeps it; other sessions neither see them nor starve.
func TestConnectionStateKeepsTheSession(t *testing.T) {
	g := newGateway(t, func(c *gatewayConfigT) { c.TabletServer.PoolSize = 2 })
	a := conn(t, openDB(t, dsn(g, "commerce")))
	b := openDB(t, dsn(g, "commerce"))
	ctx := t.Context()
	for _, q := range []string{"CREATE TEMPORARY TABLE e2e_tmp (id INT)", "INSERT INTO e2e_tmp VALUES (1), (2)", "SET @n = 40"} {
		if _, err := a.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	for range 5 {
		if got := queryInt(t, a, "SELECT COUNT(*) + @n FROM e2e_tmp"); got != 42 {
			t.Fatalf("session a: %d, want 42", got)
		}
		if got := queryInt(t, b, "SELECT COUNT(*) FROM information_schema.tables WHERE table_name = 'e2e_tmp'"); got != 0 {
			t.Fatal("session b sees a's temporary table")
		}
	}
	// Changing the target would lose that state: refused.
	if _, err := a.ExecContext(ctx, "USE `commerce@replica`"); err == nil || !strings.Contains(err.Error(), "connection state") {
		t.Fatalf("USE with connection state: %v", err)
	}
}

// TestTimeoutInTransactionKeepsIt: a query killed by the query timeout ends that statement
// only; the transaction goes on and commits, as in MySQL.
func TestTimeoutInTransactionKeepsIt(t *testing.T) {
	g := newGateway(t, func(c *gatewayConfigT) { c.TabletServer.QueryTimeout = time.Second })
	db := openDB(t, dsn(g, "commerce"))
	if _, err := db.Exec("CREATE TABLE IF NOT EXISTS e2e_tt (id INT PRIMARY KEY)"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _, _ = db.Exec("DROP TABLE IF EXISTS e2e_tt") })
	tx, err := db.BeginTx(t.Context(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec("INSERT INTO e2e_tt VALUES (1)"); err != nil {
		t.Fatal(err)
	}
	_, err = tx.Exec("SELECT SLEEP(10)")
	mysqlErr(t, err, 1317)
	if _, err := tx.Exec("INSERT INTO e2e_tt VALUES (2)"); err != nil {
		t.Fatalf("the transaction did not survive the timeout: %v", err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	if got := queryInt(t, db, "SELECT COUNT(*) FROM e2e_tt"); got != 2 {
		t.Fatalf("%d rows committed, want 2", got)
	}
}

// TestPreparedStatementsDoNotHoldConnections: a session that prepared statements and went
// idle holds no backend connection.
func TestPreparedStatementsDoNotHoldConnections(t *testing.T) {
	g := oneConnGateway(t)
	a := conn(t, openDB(t, dsn(g, "commerce")))
	for _, q := range []string{"INSERT INTO customer (email) VALUES (?)", "DO ?", "SELECT ?"} {
		st, err := a.PrepareContext(t.Context(), q)
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
	}
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	var n int
	if err := openDB(t, dsn(g, "commerce")).QueryRowContext(ctx, "SELECT 1").Scan(&n); err != nil {
		t.Fatalf("another session starved after prepares: %v", err)
	}
}

// TestAutocommitOffWithConnectionState: a session that keeps its connection for a temporary
// table still gets transactions while autocommit is off.
func TestAutocommitOffWithConnectionState(t *testing.T) {
	db := openDB(t, dsn(gw, "commerce"))
	if _, err := db.Exec("CREATE TABLE IF NOT EXISTS e2e_acs (id INT PRIMARY KEY)"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _, _ = db.Exec("DROP TABLE IF EXISTS e2e_acs") })
	c := conn(t, db)
	for _, q := range []string{"CREATE TEMPORARY TABLE e2e_tmp2 (id INT)", "SET autocommit = 0",
		"INSERT INTO e2e_acs VALUES (1)", "INSERT INTO e2e_tmp2 VALUES (1)", "ROLLBACK"} {
		if _, err := c.ExecContext(t.Context(), q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	if got := queryInt(t, db, "SELECT COUNT(*) FROM e2e_acs"); got != 0 {
		t.Fatal("a rolled back insert was committed: autocommit off did not start a transaction on the held connection")
	}
	if got := queryInt(t, c, "SELECT COUNT(*) FROM e2e_tmp2"); got != 0 {
		t.Fatalf("the temporary table has %d rows after ROLLBACK", got)
	}
	if _, err := c.ExecContext(t.Context(), "SET autocommit = 1"); err != nil {
		t.Fatal(err)
	}
}

// TestShutdownDoesNotWaitForQueries: closing a gateway kills the queries it runs.
func TestShutdownDoesNotWaitForQueries(t *testing.T) {
	g, err := startGateway(t.Context(), nil)
	if err != nil {
		t.Fatal(err)
	}
	c := conn(t, openDB(t, dsn(g, "commerce")))
	errc := make(chan error, 1)
	go func() {
		_, err := c.ExecContext(t.Context(), "SELECT SLEEP(120) FROM dual WHERE 'e2e-shutdown' <> ''")
		errc <- err
	}()
	primary := directDB(t, "zone1-100")
	running := func() int64 {
		return queryInt(t, primary, "SELECT COUNT(*) FROM information_schema.processlist WHERE info LIKE '%e2e-shutdown%' AND info NOT LIKE '%processlist%'")
	}
	waitFor(t, "the query to run", func() bool { return running() == 1 })
	closed := make(chan struct{})
	go func() { g.Close(); close(closed) }()
	select {
	case <-closed:
	case <-time.After(30 * time.Second):
		t.Fatal("Close waited for a running query")
	}
	<-errc
	waitFor(t, "the query to leave MariaDB's processlist", func() bool { return running() == 0 })
}

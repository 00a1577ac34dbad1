package e2e

import (
	"database/sql"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
)

// The state a session leaves on its backend connection when it goes away must never reach the
// next session to get that connection. Each case runs on a gateway with one data connection,
// so the next session is on the same one: session a makes the state and disconnects, then
// session b checks it sees a connection as fresh as its own MariaDB connection would be.
func TestNothingLeaksToTheNextSession(t *testing.T) {
	g := oneConnGateway(t)
	admin := openDB(t, dsn(g, "commerce", "multiStatements=true"))
	for _, q := range []string{
		"CREATE TABLE IF NOT EXISTS e2e_leak (id INT AUTO_INCREMENT PRIMARY KEY, v INT NOT NULL, w INT)",
		"CREATE OR REPLACE PROCEDURE e2e_leak_set() SET @leak_pv = 1",
		"CREATE OR REPLACE PROCEDURE e2e_leak_fail() BEGIN SET @leak_pf = 1; SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'e2e_leak_fail'; END",
	} {
		if _, err := admin.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	t.Cleanup(func() {
		_, _ = admin.Exec("DROP TABLE IF EXISTS e2e_leak")
		_, _ = admin.Exec("DROP PROCEDURE IF EXISTS e2e_leak_set")
		_, _ = admin.Exec("DROP PROCEDURE IF EXISTS e2e_leak_fail")
	})
	mysql.RegisterReaderHandler("e2e_leak", func() io.Reader { return strings.NewReader("7\t8\n") })
	t.Cleanup(func() { mysql.DeregisterReaderHandler("e2e_leak") })

	// session runs statements on a client connection of its own and disconnects (COM_QUIT);
	// the statements may fail when fail says so.
	session := func(t *testing.T, fail bool, stmts ...string) {
		t.Helper()
		db, err := sql.Open("mysql", dsn(g, "commerce", "multiStatements=true", "allowAllFiles=false"))
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		db.SetMaxOpenConns(1)
		for _, q := range stmts {
			_, err := db.Exec(q)
			switch {
			case err != nil && !fail:
				t.Fatalf("%s: %v", q, err)
			case err == nil && fail:
				t.Fatalf("%s did not fail", q)
			}
		}
	}
	next := func(t *testing.T) *sql.DB {
		t.Helper()
		db := openDB(t, dsn(g, "commerce"))
		db.SetMaxOpenConns(1)
		return db
	}

	t.Run("table lock", func(t *testing.T) {
		session(t, false, "LOCK TABLES customer READ")
		if got := queryInt(t, next(t), "SELECT COUNT(*) FROM e2e_leak WHERE id < 0"); got != 0 {
			t.Fatalf("count %d", got)
		}
	})
	t.Run("SET TRANSACTION for the next transaction", func(t *testing.T) {
		session(t, false, "SET TRANSACTION READ ONLY")
		tx, err := next(t).Begin()
		if err != nil {
			t.Fatal(err)
		}
		defer tx.Rollback()
		if _, err := tx.Exec("INSERT INTO e2e_leak (v) VALUES (1)"); err != nil {
			t.Fatalf("the next session's transaction is read-only: %v", err)
		}
	})
	t.Run("insert_id for the next statement", func(t *testing.T) {
		session(t, false, "SET insert_id = 424242")
		r, err := next(t).Exec("INSERT INTO e2e_leak (v) VALUES (1)")
		if err != nil {
			t.Fatal(err)
		}
		if id, _ := r.LastInsertId(); id == 424242 {
			t.Fatal("the next session's insert took the id another session set")
		}
	})
	t.Run("prepared XA transaction", func(t *testing.T) {
		session(t, false, "XA START 'e2e_leak'", "INSERT INTO e2e_leak (v) VALUES (2)", "XA END 'e2e_leak'", "XA PREPARE 'e2e_leak'")
		b := next(t)
		if got := queryInt(t, b, "SELECT COUNT(*) FROM e2e_leak WHERE v = 2"); got != 0 {
			t.Fatalf("the prepared branch's row is visible: %d", got)
		}
		// A connection reset with a prepared branch refuses to write (1031) ever after.
		if _, err := b.Exec("INSERT INTO e2e_leak (v) VALUES (3)"); err != nil {
			t.Fatalf("the next session cannot write: %v", err)
		}
		// The disconnected session's branch is prepared still, for XA RECOVER, as in MariaDB.
		if _, err := b.Exec("XA ROLLBACK 'e2e_leak'"); err != nil {
			t.Fatalf("XA ROLLBACK of the disconnected session's prepared branch: %v", err)
		}
	})
	t.Run("USE inside a multi-statement query", func(t *testing.T) {
		db := openDB(t, dsn(g, "commerce", "multiStatements=true"))
		db.SetMaxOpenConns(1)
		want := queryString(t, db, "SELECT DATABASE()")
		_, err := db.Exec("DO 1; USE mysql")
		mysqlErr(t, err, 1235)
		if got := queryString(t, db, "SELECT DATABASE()"); got != want {
			t.Fatalf("DATABASE() = %q after the refused USE, want %q", got, want)
		}
		db.Close()
		if got := queryString(t, next(t), "SELECT DATABASE()"); got != want {
			t.Fatalf("the next session's DATABASE() = %q, want %q", got, want)
		}
	})
	t.Run("a quoted GET_LOCK", func(t *testing.T) {
		session(t, false, "SELECT `get_lock`('e2e_leak', 0)")
		// The lock goes with the session: free once it disconnected.
		direct := directDB(t, "zone1-100")
		deadline := time.Now().Add(10 * time.Second)
		for queryInt(t, direct, "SELECT IS_FREE_LOCK('e2e_leak')") != 1 {
			if time.Now().After(deadline) {
				t.Fatal("the disconnected session's lock is still held by a pooled connection")
			}
			time.Sleep(20 * time.Millisecond)
		}
	})
	t.Run("LOAD DATA into a user variable", func(t *testing.T) {
		session(t, false, "LOAD DATA LOCAL INFILE 'Reader::e2e_leak' INTO TABLE e2e_leak (v, @leak_w) SET w = @leak_w")
		if got := queryInt(t, next(t), "SELECT @leak_w IS NULL"); got != 1 {
			t.Fatal("the next session sees the user variable LOAD DATA set")
		}
	})
	t.Run("a failed statement's user variable", func(t *testing.T) {
		session(t, true, "INSERT INTO e2e_leak (v) VALUES (@leak_x := 5), (NULL)")
		if got := queryInt(t, next(t), "SELECT @leak_x IS NULL"); got != 1 {
			t.Fatal("the next session sees the user variable a failed statement set")
		}
	})
	t.Run("a failed CALL", func(t *testing.T) {
		session(t, true, "CALL e2e_leak_fail()")
		if got := queryInt(t, next(t), "SELECT @leak_pf IS NULL"); got != 1 {
			t.Fatal("the next session sees the user variable a failed procedure set")
		}
	})
	t.Run("session tracking turned off before a CALL", func(t *testing.T) {
		session(t, false, "SET session_track_state_change = OFF; CALL e2e_leak_set()")
		if got := queryInt(t, next(t), "SELECT @leak_pv IS NULL"); got != 1 {
			t.Fatal("the next session sees the user variable a procedure set while tracking was off")
		}
	})
}

// TestTimestampDefault: SET timestamp = DEFAULT gives the session the running clock back, on
// every connection that serves it (the gateway replays the session's settings on another
// session's connection; a replayed timestamp would freeze the clock).
func TestTimestampDefault(t *testing.T) {
	g := oneConnGateway(t)
	a := conn(t, openDB(t, dsn(g, "commerce")))
	b := conn(t, openDB(t, dsn(g, "commerce")))
	ctx := t.Context()
	for _, q := range []string{"SET timestamp = 1000", "SET timestamp = DEFAULT"} {
		if _, err := a.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	// b's settings on the one connection, then a's again.
	if _, err := b.ExecContext(ctx, "SET sql_mode = 'ANSI'"); err != nil {
		t.Fatal(err)
	}
	first := queryString(t, a, "SELECT NOW(6)")
	deadline := time.Now().Add(5 * time.Second)
	for queryString(t, a, "SELECT NOW(6)") == first {
		if time.Now().After(deadline) {
			t.Fatalf("NOW(6) stays %s: the clock is frozen after SET timestamp = DEFAULT", first)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestIdleWarningsDoNotPin: a session whose last statement left warnings does not keep a
// backend connection from others (enough idle such sessions would exhaust the reserved
// connections); SHOW WARNINGS still shows its own warnings while its connection was not taken,
// and never another session's.
func TestIdleWarningsDoNotPin(t *testing.T) {
	g := newGateway(t, func(c *gatewayConfigT) {
		c.TabletServer.PoolSize, c.TabletServer.TxPoolSize = 2, 2
		c.TabletServer.PoolWaitTimeout = 2 * time.Second
	})
	ctx := t.Context()
	var idle []*sql.Conn
	for i := range 4 {
		c := conn(t, openDB(t, dsn(g, "commerce")))
		if got := queryString(t, c, fmt.Sprintf("SELECT CAST('w%d' AS INT)", i)); got != "0" {
			t.Fatalf("CAST = %s", got)
		}
		idle = append(idle, c)
	}
	// Every idle session has warnings; another session still gets connections, for a
	// transaction too.
	db := openDB(t, dsn(g, "commerce"))
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatalf("a transaction while idle sessions have warnings: %v", err)
	}
	if _, err := tx.Exec("SELECT COUNT(*) FROM customer"); err != nil {
		t.Fatalf("a transaction while idle sessions have warnings: %v", err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	for i, c := range idle {
		rows, err := c.QueryContext(ctx, "SHOW WARNINGS")
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var level, msg string
			var code int
			if err := rows.Scan(&level, &code, &msg); err != nil {
				t.Fatal(err)
			}
			if want := fmt.Sprintf("'w%d'", i); !strings.Contains(msg, want) {
				t.Fatalf("session %d sees the warning %q, not its own", i, msg)
			}
		}
		if err := rows.Close(); err != nil {
			t.Fatal(err)
		}
	}
	// The last one's connection was not taken: its warning is there exactly.
	if got := queryInt(t, idle[3], "SELECT CAST('w3' AS INT)"); got != 0 {
		t.Fatal(got)
	}
	if got := queryString(t, idle[3], "SHOW COUNT(*) WARNINGS"); got != "1" {
		t.Fatalf("SHOW COUNT(*) WARNINGS right after the statement: %s", got)
	}
}

package e2e

import (
	"context"
	"database/sql"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
)

// The state a session leaves on its backend connection when it goes away must never reach the
// next session to get that connection. Each case runs on a gateway with at most two backend
// connections (one for autocommit statements, one reserved): session a makes the state and
// disconnects, then the check runs on both connections at once (one session in a transaction,
// another beside it), which must be as fresh as a new MariaDB connection.
func TestNothingLeaksToTheNextSession(t *testing.T) {
	g := newGateway(t, func(c *gatewayConfigT) { c.TabletServer.PoolSize, c.TabletServer.TxPoolSize = 1, 1 })
	admin := directDB(t, "zone1-100")
	for _, q := range []string{
		"CREATE TABLE IF NOT EXISTS e2e_leak (id INT AUTO_INCREMENT PRIMARY KEY, v INT NOT NULL, w INT)",
		"CREATE DATABASE IF NOT EXISTS e2e_leakdb",
		"CREATE OR REPLACE PROCEDURE e2e_leak_set() SET @leak_pv = 1",
		"CREATE OR REPLACE PROCEDURE e2e_leak_fail() BEGIN SET @leak_pf = 1; SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'e2e_leak_fail'; END",
	} {
		if _, err := admin.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	t.Cleanup(func() {
		_, _ = admin.Exec("DROP TABLE IF EXISTS e2e_leak")
		_, _ = admin.Exec("DROP DATABASE IF EXISTS e2e_leakdb")
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
	// everyConn runs check on each of the gateway's backend connections: in a transaction of
	// a new session (the reserved one), and in another new session meanwhile (the other).
	everyConn := func(t *testing.T, check func(t *testing.T, q sqlRunner)) {
		t.Helper()
		tx, err := openDB(t, dsn(g, "commerce")).BeginTx(t.Context(), nil)
		if err != nil {
			t.Fatal(err)
		}
		defer tx.Rollback()
		check(t, tx)
		check(t, openDB(t, dsn(g, "commerce")))
	}
	isNull := func(v string) func(t *testing.T, q sqlRunner) {
		return func(t *testing.T, q sqlRunner) {
			t.Helper()
			if got := queryInt(t, q, "SELECT "+v+" IS NULL"); got != 1 {
				t.Fatalf("a new session sees %s set by another", v)
			}
		}
	}

	t.Run("table lock", func(t *testing.T) {
		session(t, false, "LOCK TABLES customer READ")
		everyConn(t, func(t *testing.T, q sqlRunner) {
			if got := queryInt(t, q, "SELECT COUNT(*) FROM e2e_leak WHERE id < 0"); got != 0 {
				t.Fatalf("count %d", got)
			}
		})
	})
	t.Run("SET TRANSACTION for the next transaction", func(t *testing.T) {
		session(t, false, "SET TRANSACTION READ ONLY")
		everyConn(t, func(t *testing.T, q sqlRunner) {
			if _, err := q.ExecContext(t.Context(), "INSERT INTO e2e_leak (v) VALUES (1)"); err != nil {
				t.Fatalf("a new session's transaction is read-only: %v", err)
			}
		})
	})
	t.Run("insert_id for the next statement", func(t *testing.T) {
		session(t, false, "SET insert_id = 424242")
		everyConn(t, func(t *testing.T, q sqlRunner) {
			r, err := q.ExecContext(t.Context(), "INSERT INTO e2e_leak (v) VALUES (1)")
			if err != nil {
				t.Fatal(err)
			}
			if id, _ := r.LastInsertId(); id == 424242 {
				t.Fatal("a new session's insert took the id another session set")
			}
		})
	})
	t.Run("prepared XA transaction", func(t *testing.T) {
		session(t, false, "XA START 'e2e_leak'", "INSERT INTO e2e_leak (v) VALUES (2)", "XA END 'e2e_leak'", "XA PREPARE 'e2e_leak'")
		everyConn(t, func(t *testing.T, q sqlRunner) {
			// A connection reset with a prepared branch refuses to write (1031) ever after.
			if _, err := q.ExecContext(t.Context(), "INSERT INTO e2e_leak (v) VALUES (3)"); err != nil {
				t.Fatalf("a new session cannot write: %v", err)
			}
		})
		// The disconnected session's branch is prepared still, for XA RECOVER, as in MariaDB.
		if _, err := openDB(t, dsn(g, "commerce")).Exec("XA ROLLBACK 'e2e_leak'"); err != nil {
			t.Fatalf("XA ROLLBACK of the disconnected session's prepared branch: %v", err)
		}
	})
	t.Run("USE inside a multi-statement query", func(t *testing.T) {
		db := openDB(t, dsn(g, "commerce", "multiStatements=true"))
		db.SetMaxOpenConns(1)
		want := queryString(t, db, "SELECT DATABASE()")
		_, err := db.Exec("DO 1; USE e2e_leakdb")
		mysqlErr(t, err, 1235)
		if got := queryString(t, db, "SELECT DATABASE()"); got != want {
			t.Fatalf("DATABASE() = %q after the refused USE, want %q", got, want)
		}
		// Nor prepared, in either protocol (the access rules would not see the database).
		for _, q := range []string{"EXECUTE IMMEDIATE 'USE e2e_leakdb'", "PREPARE s FROM 'USE e2e_leakdb'", "DO 1; EXECUTE IMMEDIATE 'USE e2e_leakdb'"} {
			_, err := db.Exec(q)
			mysqlErr(t, err, 1235)
		}
		_, err = db.Prepare("USE e2e_leakdb")
		mysqlErr(t, err, 1235)
		if got := queryString(t, db, "SELECT DATABASE()"); got != want {
			t.Fatalf("DATABASE() = %q after the refused prepared USE, want %q", got, want)
		}
		db.Close()
		everyConn(t, func(t *testing.T, q sqlRunner) {
			if got := queryString(t, q, "SELECT DATABASE()"); got != want {
				t.Fatalf("a new session's DATABASE() = %q, want %q", got, want)
			}
		})
	})
	t.Run("a quoted GET_LOCK", func(t *testing.T) {
		session(t, false, "SELECT `get_lock`('e2e_leak', 0)")
		// The lock goes with the session: free once it disconnected.
		deadline := time.Now().Add(10 * time.Second)
		for queryInt(t, admin, "SELECT IS_FREE_LOCK('e2e_leak')") != 1 {
			if time.Now().After(deadline) {
				t.Fatal("the disconnected session's lock is still held by a pooled connection")
			}
			time.Sleep(20 * time.Millisecond)
		}
	})
	t.Run("LOAD DATA into a user variable", func(t *testing.T) {
		session(t, false, "LOAD DATA LOCAL INFILE 'Reader::e2e_leak' INTO TABLE e2e_leak (v, @leak_w) SET w = @leak_w")
		everyConn(t, isNull("@leak_w"))
	})
	t.Run("a failed statement's user variable", func(t *testing.T) {
		session(t, true, "INSERT INTO e2e_leak (v) VALUES (@leak_x := 5), (NULL)")
		everyConn(t, isNull("@leak_x"))
	})
	t.Run("a failed CALL", func(t *testing.T) {
		session(t, true, "CALL e2e_leak_fail()")
		everyConn(t, isNull("@leak_pf"))
	})
	t.Run("session tracking turned off before a CALL", func(t *testing.T) {
		session(t, false, "SET session_track_state_change = OFF; CALL e2e_leak_set()")
		everyConn(t, isNull("@leak_pv"))
	})
}

// sqlRunner is a session or a transaction.
type sqlRunner interface {
	querier
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
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

// TestCommitRelease: COMMIT RELEASE, and COMMIT after SET completion_type = RELEASE, commit
// and end the client's connection, as MariaDB does; the backend connection the server closed
// serves nobody.
func TestCommitRelease(t *testing.T) {
	g := oneConnGateway(t)
	admin := openDB(t, dsn(g, "commerce"))
	if _, err := admin.Exec("CREATE TABLE IF NOT EXISTS e2e_release (id INT PRIMARY KEY)"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _, _ = admin.Exec("DROP TABLE IF EXISTS e2e_release") })
	for i, stmts := range [][]string{
		{"BEGIN", "INSERT INTO e2e_release VALUES (1)", "COMMIT RELEASE"},
		{"SET completion_type = 'RELEASE'", "BEGIN", "INSERT INTO e2e_release VALUES (2)", "COMMIT"},
		{"SET completion_type = 2", "INSERT INTO e2e_release VALUES (3)", "BEGIN", "ROLLBACK"},
		{"SET completion_type = 2", "BEGIN", "INSERT INTO e2e_release VALUES (4)", "COMMIT AND CHAIN"},
	} {
		c := conn(t, openDB(t, dsn(g, "commerce")))
		for _, q := range stmts {
			if _, err := c.ExecContext(t.Context(), q); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
		}
		if err := c.PingContext(t.Context()); err == nil {
			t.Fatalf("case %d: the connection answers after %s", i, stmts[len(stmts)-1])
		}
		if got := queryInt(t, admin, "SELECT COUNT(*) FROM e2e_release"); got != int64(i+1) {
			t.Fatalf("case %d: %d rows committed", i, got)
		}
	}
	// SET STATEMENT completion_type = ... FOR COMMIT decides for that COMMIT.
	c := conn(t, openDB(t, dsn(g, "commerce")))
	for _, q := range []string{"BEGIN", "SET STATEMENT completion_type = 2 FOR COMMIT"} {
		if _, err := c.ExecContext(t.Context(), q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	if err := c.PingContext(t.Context()); err == nil {
		t.Fatal("the connection answers after SET STATEMENT completion_type = 2 FOR COMMIT")
	}
	c = conn(t, openDB(t, dsn(g, "commerce")))
	for _, q := range []string{"SET completion_type = 2", "BEGIN", "SET STATEMENT completion_type = 0 FOR COMMIT"} {
		if _, err := c.ExecContext(t.Context(), q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	if err := c.PingContext(t.Context()); err != nil {
		t.Fatalf("SET STATEMENT completion_type = 0 FOR COMMIT ended the connection: %v", err)
	}
	// In one multi-statement query, an earlier SET decides for the COMMIT after it.
	for i, tc := range []struct {
		q       string
		release bool
	}{
		{"SET completion_type = 2; BEGIN; INSERT INTO e2e_release VALUES (5); COMMIT", true},
		{"SET completion_type = 2; SET completion_type = 0; BEGIN; COMMIT", false},
		{"SET SESSION completion_type = 'RELEASE'; BEGIN; ROLLBACK", true},
	} {
		c = conn(t, openDB(t, dsn(g, "commerce", "multiStatements=true")))
		if _, err := c.ExecContext(t.Context(), tc.q); err != nil {
			t.Fatalf("%s: %v", tc.q, err)
		}
		if err := c.PingContext(t.Context()); (err == nil) == tc.release {
			t.Fatalf("multi case %d: %s: ping after it: %v", i, tc.q, err)
		}
		// The one backend connection serves the next session whatever happened.
		if got := queryInt(t, admin, "SELECT COUNT(*) FROM e2e_release WHERE id = 5"); got != 1 {
			t.Fatalf("multi case %d: %d rows with id 5", i, got)
		}
	}
	// A value the gateway cannot read before the query runs: refused, nothing run.
	c = conn(t, openDB(t, dsn(g, "commerce", "multiStatements=true")))
	_, err := c.ExecContext(t.Context(), "SET @ct = 2; SET completion_type = @ct; BEGIN; INSERT INTO e2e_release VALUES (6); COMMIT")
	mysqlErr(t, err, 1235)
	if got := queryInt(t, admin, "SELECT COUNT(*) FROM e2e_release WHERE id = 6"); got != 0 {
		t.Fatalf("the refused query ran: %d rows with id 6", got)
	}
	if err := c.PingContext(t.Context()); err != nil {
		t.Fatalf("the refused query ended the connection: %v", err)
	}
	// COMMIT NO RELEASE keeps the connection.
	c = conn(t, openDB(t, dsn(g, "commerce")))
	for _, q := range []string{"SET completion_type = 'RELEASE'", "BEGIN", "COMMIT NO RELEASE", "BEGIN", "ROLLBACK WORK NO RELEASE"} {
		if _, err := c.ExecContext(t.Context(), q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	if err := c.PingContext(t.Context()); err != nil {
		t.Fatalf("COMMIT NO RELEASE ended the connection: %v", err)
	}
}

package e2e

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/go-mysql-org/go-mysql/client"
	"github.com/go-sql-driver/mysql"
)

// XA ownership: every gateway user reaches MariaDB as one backend user, which may end any of
// its prepared XA branches. Through the gateway a user that is not an admin ends only the
// branch its session started, or one the same user prepared (its session gone); an admin
// ends any; and the forms that would hide an XA statement from the gateway are refused.
func TestXAOwnership(t *testing.T) {
	g := secureGateway(t, nil)
	ctx := t.Context()
	ops := openDB(t, userDSN(g, "ops", "ops-pw", "commerce"))
	if _, err := ops.ExecContext(ctx, "CREATE TABLE IF NOT EXISTS e2e_xa (id VARCHAR(40) PRIMARY KEY, v INT)"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		ops.ExecContext(ctx, "DROP TABLE IF EXISTS e2e_xa")
	})
	rows := func(id string) int64 {
		return queryInt(t, ops, "SELECT COUNT(*) FROM e2e_xa WHERE id = ?", id)
	}
	// prepare starts a branch on a connection of its own, prepares it and closes the
	// connection: the branch outlives it, as XA RECOVER shows.
	prepare := func(user, pass, xid string) {
		t.Helper()
		db := openDB(t, userDSN(g, user, pass, "commerce"))
		c := conn(t, db)
		for _, q := range []string{
			"XA START '" + xid + "'", "INSERT INTO e2e_xa VALUES ('" + xid + "', 1)",
			"XA END '" + xid + "'", "XA PREPARE '" + xid + "'",
		} {
			if _, err := c.ExecContext(ctx, q); err != nil {
				t.Fatalf("%s as %s: %v", q, user, err)
			}
		}
		c.Raw(func(any) error { return driver.ErrBadConn }) // close the client's connection itself
		c.Close()
		db.Close()
	}
	// end runs XA COMMIT | ROLLBACK of a branch whose connection may still be closing: MariaDB
	// answers 1397 (unknown xid) until the branch is detached from it.
	end := func(db *sql.DB, q string) error {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		for {
			_, err := db.ExecContext(ctx, q)
			var me *mysql.MySQLError
			if !errors.As(err, &me) || me.Number != 1397 || time.Now().After(deadline) {
				return err
			}
			time.Sleep(50 * time.Millisecond)
		}
	}

	t.Run("own session", func(t *testing.T) {
		app := openDB(t, userDSN(g, "app", "app", "commerce"))
		c := conn(t, app)
		xid := newToken(t)
		// spelled three ways: MariaDB reads 'x', X'..' and 0x.. as one xid
		hexID := fmt.Sprintf("X'%x'", xid)
		for _, q := range []string{
			"XA START '" + xid + "'", "INSERT INTO e2e_xa VALUES ('" + xid + "', 1)", "XA END " + hexID,
			fmt.Sprintf("XA PREPARE 0x%x", xid), "XA COMMIT '" + xid + "', '', 1",
		} {
			if _, err := c.ExecContext(ctx, q); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
		}
		if rows(xid) != 1 {
			t.Fatal("the committed branch's row is missing")
		}
		// one phase, and a rollback
		xid2 := newToken(t)
		for _, q := range []string{"XA START '" + xid2 + "'", "INSERT INTO e2e_xa VALUES ('" + xid2 + "', 1)", "XA END '" + xid2 + "'", "XA ROLLBACK '" + xid2 + "'"} {
			if _, err := c.ExecContext(ctx, q); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
		}
		if rows(xid2) != 0 {
			t.Fatal("the rolled-back branch's row is there")
		}
		// Once ended, the xid is no longer the session's.
		_, err := c.ExecContext(ctx, "XA COMMIT '"+xid+"'")
		mysqlErr(t, err, 1227)
	})

	t.Run("another user's prepared transaction", func(t *testing.T) {
		gl := startGeneralLog(t)
		xid := newToken(t)
		prepare("app", "app", xid)
		before := len(gl.statements(t, xid))
		other := openDB(t, userDSN(g, "other", "secret", "commerce", "multiStatements=true"))
		hexID := fmt.Sprintf("X'%x'", xid)
		for _, q := range []string{
			"XA COMMIT '" + xid + "'", "XA ROLLBACK " + hexID, fmt.Sprintf("xa commit 0x%x, '', 1", xid),
			"SET STATEMENT max_statement_time = 10 FOR XA ROLLBACK '" + xid + "'",
			"SELECT 1; XA ROLLBACK '" + xid + "'",
			"EXECUTE IMMEDIATE 'XA COMMIT ''" + xid + "'''",
			"PREPARE s FROM 'XA COMMIT ''" + xid + "'''",
			"BEGIN NOT ATOMIC XA COMMIT '" + xid + "'; END",
			// hidden from the gateway's reading (found by review)
			"BEGIN NOT ATOMIC PREPARE s FROM 'XA COMMIT ''" + xid + "'''; EXECUTE s; END",
			"PREPARE s FROM '/*!999999 SELECT 1; */ XA COMMIT ''" + xid + "'''",
			"BEGIN NOT ATOMIC PREPARE s FROM 'X\\A COMMIT ''" + xid + "'''; EXECUTE s; END",
			"BEGIN NOT ATOMIC EXECUTE IMMEDIATE CONCAT('XA COMMIT ', '''" + xid + "'''); END",
			"XA COMMIT '" + xid + "' /*!999999 , 'b' */",
			"XA COMMIT /*!999999 'c', */ '" + xid + "'",
		} {
			_, err := other.ExecContext(ctx, q)
			mysqlErr(t, err, 1227)
		}
		// Its own XA START of the same xid does not make it the other user's.
		c := conn(t, other)
		_, err := c.ExecContext(ctx, "XA START '"+xid+"'")
		mysqlErr(t, err, 1440) // XAER_DUPID: MariaDB's own answer
		_, err = c.ExecContext(ctx, "XA COMMIT '"+xid+"'")
		mysqlErr(t, err, 1227)
		// Nor does MariaDB's "unknown xid" for it, in another branch of its own, take the
		// branch from the user who prepared it.
		mine := newToken(t)
		if _, err := c.ExecContext(ctx, "XA START '"+mine+"'"); err != nil {
			t.Fatal(err)
		}
		_, err = c.ExecContext(ctx, "XA END '"+xid+"'")
		mysqlErr(t, err, 1397)
		for _, q := range []string{"XA END '" + mine + "'", "XA ROLLBACK '" + mine + "'"} {
			if _, err := c.ExecContext(ctx, q); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
		}
		// A connection character set that stores the xid with other bytes (ucs2: 'V' is
		// X'0056') would let the user own another user's xid by name.
		if _, err := c.ExecContext(ctx, "SET character_set_connection = ucs2"); err != nil {
			t.Fatal(err)
		}
		_, err = c.ExecContext(ctx, "XA START '"+xid+"x'")
		mysqlErr(t, err, 1227)
		for _, q := range []string{"SET character_set_connection = DEFAULT", "SET collation_connection = utf16_general_ci"} {
			if _, err := c.ExecContext(ctx, q); err != nil {
				t.Fatal(err)
			}
		}
		_, err = c.ExecContext(ctx, "XA START '"+xid+"x'")
		mysqlErr(t, err, 1227)
		if _, err := c.ExecContext(ctx, "SET NAMES utf8mb4"); err != nil {
			t.Fatal(err)
		}
		_, err = c.ExecContext(ctx, "SET STATEMENT character_set_connection = ucs2 FOR XA START '"+xid+"x'")
		mysqlErr(t, err, 1227)
		// The binary protocol cannot prepare an XA statement either.
		if st, err := other.PrepareContext(ctx, "XA COMMIT '"+xid+"'"); err == nil {
			st.Close()
			t.Fatal("COM_STMT_PREPARE of XA COMMIT: no error")
		} else {
			mysqlErr(t, err, 1227)
		}
		if arrived := gl.statements(t, xid); len(arrived) != before+2 { // the other user's XA START and XA END
			t.Errorf("statements with the xid that reached MariaDB: %q; want the %d of the user who prepared it, an XA START and an XA END", arrived, before)
		}
		// The branch is intact, and the user who prepared it commits it from a new session.
		app := openDB(t, userDSN(g, "app", "app", "commerce"))
		if err := end(app, "XA COMMIT '"+xid+"'"); err != nil {
			t.Fatalf("XA COMMIT by the user who prepared it: %v", err)
		}
		if rows(xid) != 1 {
			t.Fatal("the committed branch's row is missing")
		}
	})

	t.Run("an admin ends any", func(t *testing.T) {
		xid := newToken(t)
		prepare("app", "app", xid)
		var found bool
		deadline := time.Now().Add(30 * time.Second)
		for !found && time.Now().Before(deadline) {
			r, err := ops.QueryContext(ctx, "XA RECOVER")
			if err != nil {
				t.Fatal(err)
			}
			for r.Next() {
				var f, gl, bl int
				var data string
				if err := r.Scan(&f, &gl, &bl, &data); err != nil {
					t.Fatal(err)
				}
				found = found || data == xid
			}
			r.Close()
		}
		if !found {
			t.Fatal("XA RECOVER does not list the prepared branch")
		}
		if err := end(ops, "XA ROLLBACK '"+xid+"'"); err != nil {
			t.Fatalf("admin XA ROLLBACK: %v", err)
		}
		if rows(xid) != 0 {
			t.Fatal("the rolled-back branch's row is there")
		}
		// The branch is gone, and no longer the user's who prepared it.
		app := openDB(t, userDSN(g, "app", "app", "commerce"))
		_, err := app.ExecContext(ctx, "XA COMMIT '"+xid+"'")
		mysqlErr(t, err, 1227)
		// An admin also ends a branch no gateway session prepared.
		xid2 := newToken(t)
		c := conn(t, directDB(t, cluster.Primary().Alias()))
		for _, q := range []string{"XA START '" + xid2 + "'", "INSERT INTO commerce.e2e_xa VALUES ('" + xid2 + "', 1)", "XA END '" + xid2 + "'", "XA PREPARE '" + xid2 + "'"} {
			if _, err := c.ExecContext(ctx, q); err != nil {
				t.Fatalf("direct %s: %v", q, err)
			}
		}
		c.Raw(func(any) error { return driver.ErrBadConn })
		c.Close()
		_, err = app.ExecContext(ctx, "XA COMMIT '"+xid2+"'")
		mysqlErr(t, err, 1227)
		if err := end(ops, "XA COMMIT '"+xid2+"'"); err != nil {
			t.Fatalf("admin XA COMMIT of a branch prepared outside the gateway: %v", err)
		}
		if rows(xid2) != 1 {
			t.Fatal("the committed branch's row is missing")
		}
	})

	// An admin's multi-statement query that ends one branch and prepares another: the
	// connection keeps the prepared one, and no other session may get it (found by review).
	t.Run("an admin's query of several XA statements", func(t *testing.T) {
		db := openDB(t, userDSN(g, "ops", "ops-pw", "commerce", "multiStatements=true"))
		c := conn(t, db)
		id := queryInt(t, c, "SELECT CONNECTION_ID()")
		a, b := newToken(t), newToken(t)
		if _, err := c.ExecContext(ctx, "XA START '"+b+"'; XA END '"+b+"'; XA ROLLBACK '"+b+"'; XA START '"+a+
			"'; INSERT INTO e2e_xa VALUES ('"+a+"', 1); XA END '"+a+"'; XA PREPARE '"+a+"'"); err != nil {
			t.Fatal(err)
		}
		// The session ends: its backend connection must not go back to the pool. Wait until
		// the gateway has ended it.
		c.Raw(func(any) error { return driver.ErrBadConn })
		c.Close()
		db.Close()
		deadline := time.Now().Add(30 * time.Second)
		for processIDs(t, ops, "SHOW PROCESSLIST")[id] {
			if time.Now().After(deadline) {
				t.Fatal("the admin's session did not end")
			}
			time.Sleep(20 * time.Millisecond)
		}
		app := openDB(t, userDSN(g, "app", "app", "commerce"))
		writesEverywhere(t, app, a)
		if err := end(ops, "XA COMMIT '"+a+"'"); err != nil {
			t.Fatalf("XA COMMIT: %v", err)
		}
		if rows(a) != 1 {
			t.Fatal("the committed branch's row is missing")
		}
	})

	// COM_RESET_CONNECTION after XA PREPARE: MariaDB keeps the prepared branch on a reset
	// connection, which then refuses writes; the gateway must not give such a connection to
	// the next session. The branch stays its user's.
	t.Run("reset with a prepared transaction", func(t *testing.T) {
		raw, err := client.Connect(g.MySQLAddr(), "app", "app", "commerce")
		if err != nil {
			t.Fatal(err)
		}
		defer raw.Close()
		xid := newToken(t)
		for _, q := range []string{"XA START '" + xid + "'", "INSERT INTO e2e_xa VALUES ('" + xid + "', 1)", "XA END '" + xid + "'", "XA PREPARE '" + xid + "'"} {
			if _, err := raw.Execute(q); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
		}
		if err := resetConnection(raw); err != nil {
			t.Fatal(err)
		}
		// Every pooled connection still writes: many sessions at once, over the pool.
		app := openDB(t, userDSN(g, "app", "app", "commerce"))
		writesEverywhere(t, app, xid)
		// The session goes on, and its user commits the branch.
		if err := rawWant(raw, "SELECT 5", "5"); err != nil {
			t.Fatal(err)
		}
		if _, err := raw.Execute("INSERT INTO e2e_xa VALUES ('" + xid + "-after', 1)"); err != nil {
			t.Fatalf("a write on the reset session: %v", err)
		}
		if err := end(app, "XA COMMIT '"+xid+"'"); err != nil {
			t.Fatalf("XA COMMIT after the reset: %v", err)
		}
		if rows(xid) != 1 {
			t.Fatal("the committed branch's row is missing")
		}
	})
}

// writesEverywhere writes 64 rows at once through db (16 client connections over the gateway's
// pool of 8): every pooled backend connection gets a write, and each must succeed.
func writesEverywhere(t *testing.T, db *sql.DB, prefix string) {
	t.Helper()
	db.SetMaxOpenConns(16)
	errc := make(chan error, 64)
	for i := range 64 {
		go func() {
			_, err := db.ExecContext(t.Context(), "REPLACE INTO e2e_xa VALUES (?, ?)", fmt.Sprintf("%s-%d", prefix, i), i)
			errc <- err
		}()
	}
	for range 64 {
		if err := <-errc; err != nil {
			t.Fatalf("a write on a pooled connection: %v", err)
		}
	}
}

// TestXARecordEndedFromAnotherKeyspace: an admin ends a user's prepared branch from a
// session on another keyspace of the same MariaDB server (XA RECOVER lists the branch
// there); the gateway forgets its record then, or the user's records would fill up to the
// bound (1637) with branches long gone.
func TestXARecordEndedFromAnotherKeyspace(t *testing.T) {
	g := customerGateway(t) // customer: a keyspace on commerce's primary server
	ctx := t.Context()
	ops := openDB(t, userDSN(g, "ops", "ops-pw", "commerce"))
	if _, err := ops.ExecContext(ctx, "CREATE TABLE IF NOT EXISTS e2e_xa2 (id VARCHAR(40) PRIMARY KEY)"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ops.ExecContext(context.Background(), "DROP TABLE IF EXISTS e2e_xa2") })
	xid := newToken(t)
	before := g.Executor.Stats().XAPrepared
	app := openDB(t, userDSN(g, "app", "app", "commerce"))
	c := conn(t, app)
	for _, q := range []string{"XA START '" + xid + "'", "INSERT INTO e2e_xa2 VALUES ('" + xid + "')", "XA END '" + xid + "'", "XA PREPARE '" + xid + "'"} {
		if _, err := c.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	c.Raw(func(any) error { return driver.ErrBadConn }) // the branch outlives the connection
	c.Close()
	if n := g.Executor.Stats().XAPrepared; n != before+1 {
		t.Fatalf("%d prepared branches remembered after a PREPARE, want %d", n, before+1)
	}
	// from customer (the same server): MariaDB answers 1397 until the branch has left the
	// closed connection
	admin := openDB(t, userDSN(g, "ops", "ops-pw", "customer"))
	deadline := time.Now().Add(30 * time.Second)
	for {
		_, err := admin.ExecContext(ctx, "XA COMMIT '"+xid+"'")
		var me *mysql.MySQLError
		if err == nil {
			break
		}
		if !errors.As(err, &me) || me.Number != 1397 || time.Now().After(deadline) {
			t.Fatalf("the admin's XA COMMIT from customer: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if n := queryInt(t, ops, "SELECT COUNT(*) FROM e2e_xa2 WHERE id = ?", xid); n != 1 {
		t.Fatalf("the committed branch's row: %d", n)
	}
	if n := g.Executor.Stats().XAPrepared; n != before {
		t.Errorf("%d prepared branches remembered after the admin's XA COMMIT, want %d", n, before)
	}
}

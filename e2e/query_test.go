package e2e

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/go-mysql-org/go-mysql/client"
	gomysql "github.com/go-mysql-org/go-mysql/mysql"
)

func TestReadsAndWritesOnThePrimary(t *testing.T) {
	db := openDB(t, dsn(gw, "commerce"))
	if got := queryInt(t, db, "SELECT @@server_id"); got != 100 {
		t.Fatalf("commerce went to server %d, want the primary 100", got)
	}
	if _, err := db.ExecContext(t.Context(), "CREATE TABLE IF NOT EXISTS e2e_rw (id INT PRIMARY KEY, v VARCHAR(64))"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _, _ = db.Exec("DROP TABLE IF EXISTS e2e_rw") })
	res, err := db.ExecContext(t.Context(), "INSERT INTO e2e_rw VALUES (1, 'one'), (2, 'two')")
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := res.RowsAffected(); n != 2 {
		t.Fatalf("rows affected = %d, want 2", n)
	}
	if got := queryString(t, db, "SELECT v FROM e2e_rw WHERE id = 2"); got != "two" {
		t.Fatalf("read back %q, want two", got)
	}
	// The row is on the primary itself, not just visible through the gateway.
	if got := queryString(t, directDB(t, "zone1-100"), "SELECT v FROM e2e_rw WHERE id = 1"); got != "one" {
		t.Fatalf("direct read %q, want one", got)
	}
}

func TestTargetsChooseTheTabletType(t *testing.T) {
	tests := []struct {
		target string
		want   int64
	}{
		{"commerce", 100},
		{"commerce@primary", 100},
		{"commerce@replica", 101}, // the zone1 replica: the gateway is in zone1
		{"commerce:0@replica", 101},
		{"commerce@rdonly", 201}, // the only rdonly, in zone2
	}
	for _, tt := range tests {
		t.Run(tt.target, func(t *testing.T) {
			db := openDB(t, dsn(gw, tt.target))
			for range 5 {
				if got := queryInt(t, db, "SELECT @@server_id"); got != tt.want {
					t.Fatalf("%s went to server %d, want %d", tt.target, got, tt.want)
				}
			}
		})
	}
}

func TestUseChangesTarget(t *testing.T) {
	c := conn(t, openDB(t, dsn(gw, "commerce")))
	if _, err := c.ExecContext(t.Context(), "USE `commerce@rdonly`"); err != nil {
		t.Fatal(err)
	}
	if got := queryInt(t, c, "SELECT @@server_id"); got != 201 {
		t.Fatalf("after USE commerce@rdonly: server %d, want 201", got)
	}
	_, err := c.ExecContext(t.Context(), "USE nosuchkeyspace")
	mysqlErr(t, err, 1049)
	// The failed USE left the target alone.
	if got := queryInt(t, c, "SELECT @@server_id"); got != 201 {
		t.Fatalf("after a failed USE: server %d, want 201", got)
	}
}

func TestShowDatabasesListsKeyspaces(t *testing.T) {
	rows, err := openDB(t, dsn(gw, "commerce")).QueryContext(t.Context(), "SHOW DATABASES")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var got []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		got = append(got, s)
	}
	if strings.Join(got, ",") != "commerce" {
		t.Fatalf("SHOW DATABASES = %v, want [commerce]", got)
	}
}

func TestWriteToReplicaTargetIsRefused(t *testing.T) {
	for _, target := range []string{"commerce@replica", "commerce@rdonly"} {
		db := openDB(t, dsn(gw, target))
		_, err := db.ExecContext(t.Context(), "INSERT INTO customer (email) VALUES ('x@example.com')")
		me := mysqlErr(t, err, 1290)
		if !strings.Contains(me.Message, "read-only") {
			t.Fatalf("message %q does not say why", me.Message)
		}
	}
}

func TestUnknownKeyspace(t *testing.T) {
	db := openDB(t, dsn(gw, "nosuch"))
	mysqlErr(t, db.PingContext(t.Context()), 1049)
	db = openDB(t, dsn(gw, "commerce@spare"))
	mysqlErr(t, db.PingContext(t.Context()), 1049)
}

func TestWrongPassword(t *testing.T) {
	db := openDB(t, fmt.Sprintf("app:wrong@tcp(%s)/commerce", gw.MySQLAddr()))
	mysqlErr(t, db.PingContext(t.Context()), 1045)
	// The gateway still serves others.
	if got := queryInt(t, openDB(t, dsn(gw, "commerce")), "SELECT 1"); got != 1 {
		t.Fatal("gateway stopped serving")
	}
}

func TestBackendErrorReachesClientUnchanged(t *testing.T) {
	db := openDB(t, dsn(gw, "commerce"))
	_, err := db.ExecContext(t.Context(), "SELECT * FROM no_such_table")
	me := mysqlErr(t, err, 1146)
	if me.SQLState != [5]byte{'4', '2', 'S', '0', '2'} || !strings.Contains(me.Message, "no_such_table") {
		t.Fatalf("error = %+v, want MariaDB's 1146 42S02 naming the table", me)
	}
	_, err = db.ExecContext(t.Context(), "SELEC 1")
	mysqlErr(t, err, 1064)
}

func TestTransactions(t *testing.T) {
	db := openDB(t, dsn(gw, "commerce"))
	if _, err := db.Exec("CREATE TABLE IF NOT EXISTS e2e_tx (id INT PRIMARY KEY)"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _, _ = db.Exec("DROP TABLE IF EXISTS e2e_tx") })
	ctx := t.Context()

	t.Run("rollback", func(t *testing.T) {
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tx.ExecContext(ctx, "INSERT INTO e2e_tx VALUES (1)"); err != nil {
			t.Fatal(err)
		}
		// Inside the transaction, one backend connection serves every statement.
		thread := queryInt(t, tx, "SELECT CONNECTION_ID() + 0")
		for range 3 {
			if got := queryInt(t, tx, "SELECT CONNECTION_ID() + 0"); got != thread {
				t.Fatalf("backend connection changed inside a transaction: %d then %d", thread, got)
			}
		}
		if got := queryInt(t, tx, "SELECT COUNT(*) FROM e2e_tx"); got != 1 {
			t.Fatalf("own insert not visible in the transaction: %d", got)
		}
		if got := queryInt(t, db, "SELECT COUNT(*) FROM e2e_tx"); got != 0 {
			t.Fatalf("uncommitted insert visible to another session: %d", got)
		}
		if err := tx.Rollback(); err != nil {
			t.Fatal(err)
		}
		if got := queryInt(t, db, "SELECT COUNT(*) FROM e2e_tx"); got != 0 {
			t.Fatalf("rolled back insert is there: %d", got)
		}
	})
	t.Run("commit", func(t *testing.T) {
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tx.ExecContext(ctx, "INSERT INTO e2e_tx VALUES (2)"); err != nil {
			t.Fatal(err)
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
		if got := queryInt(t, directDB(t, "zone1-100"), "SELECT COUNT(*) FROM e2e_tx WHERE id = 2"); got != 1 {
			t.Fatalf("committed row missing on the primary")
		}
	})
	t.Run("autocommit off", func(t *testing.T) {
		c := conn(t, db)
		for _, q := range []string{"SET autocommit = 0", "INSERT INTO e2e_tx VALUES (3)"} {
			if _, err := c.ExecContext(ctx, q); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
		}
		if got := queryInt(t, db, "SELECT COUNT(*) FROM e2e_tx WHERE id = 3"); got != 0 {
			t.Fatalf("insert with autocommit off is visible before COMMIT")
		}
		if _, err := c.ExecContext(ctx, "ROLLBACK"); err != nil {
			t.Fatal(err)
		}
		if got := queryInt(t, c, "SELECT COUNT(*) FROM e2e_tx WHERE id = 3"); got != 0 {
			t.Fatalf("rolled back insert is there")
		}
		if got := queryInt(t, c, "SELECT @@autocommit"); got != 0 {
			t.Fatalf("autocommit came back on by itself")
		}
		if _, err := c.ExecContext(ctx, "SET autocommit = 1"); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("client leaves", func(t *testing.T) {
		leaving := openDB(t, dsn(gw, "commerce"))
		leaving.SetMaxIdleConns(0) // so that closing the Conn closes the socket
		c := conn(t, leaving)
		if _, err := c.ExecContext(ctx, "BEGIN"); err != nil {
			t.Fatal(err)
		}
		if _, err := c.ExecContext(ctx, "INSERT INTO e2e_tx VALUES (4)"); err != nil {
			t.Fatal(err)
		}
		c.Close()
		primary := directDB(t, "zone1-100")
		// The backend connection is rolled back (COM_RESET_CONNECTION) and pooled, or closed:
		// either way the row and its lock are gone, and inserting the same key directly
		// succeeds (it would wait for the lock, then fail, if the transaction were still open).
		pc := conn(t, primary)
		if _, err := pc.ExecContext(ctx, "SET SESSION innodb_lock_wait_timeout = 1"); err != nil {
			t.Fatal(err)
		}
		var last error
		waitFor(t, "the abandoned transaction to be rolled back", func() bool {
			_, last = pc.ExecContext(ctx, "INSERT INTO e2e_tx VALUES (4)")
			return last == nil
		})
		if _, err := pc.ExecContext(ctx, "DELETE FROM e2e_tx WHERE id = 4"); err != nil {
			t.Fatal(err)
		}
	})
}

func TestAbandonedTransactionTimesOut(t *testing.T) {
	g := newGateway(t, func(c *gatewayConfigT) { c.TabletServer.TxTimeout = time.Second })
	db := openDB(t, dsn(g, "commerce"))
	if _, err := db.Exec("CREATE TABLE IF NOT EXISTS e2e_txto (id INT PRIMARY KEY)"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _, _ = db.Exec("DROP TABLE IF EXISTS e2e_txto") })
	c := conn(t, db)
	ctx := t.Context()
	if _, err := c.ExecContext(ctx, "BEGIN"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.ExecContext(ctx, "INSERT INTO e2e_txto VALUES (1)"); err != nil {
		t.Fatal(err)
	}
	thread := queryInt(t, c, "SELECT CONNECTION_ID() + 0")
	primary := directDB(t, "zone1-100")
	waitFor(t, "the transaction timeout to close the backend connection", func() bool {
		return queryInt(t, primary, "SELECT COUNT(*) FROM information_schema.processlist WHERE id = ?", thread) == 0
	})
	if got := queryInt(t, primary, "SELECT COUNT(*) FROM e2e_txto"); got != 0 {
		t.Fatalf("the timed-out transaction's row is there")
	}
	_, err := c.ExecContext(ctx, "COMMIT")
	if err == nil {
		t.Fatal("COMMIT of a timed-out transaction succeeded")
	}
	if !strings.Contains(err.Error(), "timeout") {
		t.Fatalf("COMMIT error %q does not say the transaction timed out", err)
	}
	// The session goes on.
	if got := queryInt(t, c, "SELECT 7"); got != 7 {
		t.Fatal("session unusable after the timeout")
	}
}

func TestSessionSettingsFollowTheSession(t *testing.T) {
	// A pool of one connection makes every session share it, one statement at a time: the
	// SET must follow its session, and must not leak to the other.
	g := newGateway(t, func(c *gatewayConfigT) { c.TabletServer.PoolSize = 1 })
	db := openDB(t, dsn(g, "commerce"))
	c := conn(t, db)
	if _, err := c.ExecContext(t.Context(), "SET SESSION time_zone = '+05:00'"); err != nil {
		t.Fatal(err)
	}
	others := openDB(t, dsn(g, "commerce"))
	for i := range 30 {
		if got := queryString(t, c, "SELECT @@session.time_zone"); got != "+05:00" {
			t.Fatalf("query %d: the session's time_zone is %q, want +05:00", i, got)
		}
		if got := queryString(t, others, "SELECT @@session.time_zone"); got != "SYSTEM" {
			t.Fatalf("query %d: another session sees time_zone %q: a setting leaked", i, got)
		}
	}
}

func TestPreparedStatements(t *testing.T) {
	db := openDB(t, dsn(gw, "commerce", "parseTime=true"))
	ctx := t.Context()
	if _, err := db.Exec(`CREATE TABLE IF NOT EXISTS e2e_ps (id INT PRIMARY KEY, i BIGINT, f DOUBLE, d DECIMAL(10,2),
		s VARCHAR(100), b LONGBLOB, t DATETIME(6), n INT NULL)`); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _, _ = db.Exec("DROP TABLE IF EXISTS e2e_ps") })
	stmt, err := db.PrepareContext(ctx, "INSERT INTO e2e_ps VALUES (?, ?, ?, ?, ?, ?, ?, ?)")
	if err != nil {
		t.Fatal(err)
	}
	defer stmt.Close()
	big := bytes.Repeat([]byte("0123456789abcdef"), 128<<10) // 2 MiB: sent as long data
	ts := time.Date(2026, 11, 22, 1, 2, 3, 456789000, time.UTC)
	for id := 1; id <= 3; id++ {
		if _, err := stmt.ExecContext(ctx, id, int64(-1)<<40, 2.5, "12.34", fmt.Sprintf("row %d ünï", id), big, ts, nil); err != nil {
			t.Fatalf("execute %d: %v", id, err)
		}
	}
	var (
		i    int64
		f    float64
		d, s string
		b    []byte
		tm   time.Time
		n    sql.NullInt64
	)
	row := db.QueryRowContext(ctx, "SELECT i, f, d, s, b, t, n FROM e2e_ps WHERE id = ?", 2)
	if err := row.Scan(&i, &f, &d, &s, &b, &tm, &n); err != nil {
		t.Fatal(err)
	}
	if i != int64(-1)<<40 || f != 2.5 || d != "12.34" || s != "row 2 ünï" || !bytes.Equal(b, big) || n.Valid {
		t.Fatalf("read back i=%d f=%v d=%s s=%q len(b)=%d n=%v", i, f, d, s, len(b), n)
	}
	if !tm.Equal(ts) {
		t.Fatalf("datetime %v, want %v", tm, ts)
	}
	// An error from a prepared statement reaches the client, and the statement stays usable.
	if _, err := stmt.ExecContext(ctx, 1, 0, 0, "0", "dup", []byte{}, ts, nil); err == nil {
		t.Fatal("duplicate key accepted")
	} else {
		mysqlErr(t, err, 1062)
	}
	if _, err := stmt.ExecContext(ctx, 4, 0, 0, "0", "four", []byte{}, ts, 9); err != nil {
		t.Fatal(err)
	}
	if got := queryInt(t, db, "SELECT n FROM e2e_ps WHERE id = ?", 4); got != 9 {
		t.Fatalf("n = %d, want 9", got)
	}
}

func TestKill(t *testing.T) {
	db := openDB(t, dsn(gw, "commerce"))
	primary := directDB(t, "zone1-100")
	ctx := t.Context()

	t.Run("query", func(t *testing.T) {
		victim := conn(t, db)
		id := queryInt(t, victim, "SELECT CONNECTION_ID()")
		errc := make(chan error, 1)
		go func() {
			_, err := victim.ExecContext(ctx, "SELECT SLEEP(60) FROM dual WHERE 'e2e-kill-query' <> ''")
			errc <- err
		}()
		waitFor(t, "the query to run on MariaDB", func() bool {
			return queryInt(t, primary, "SELECT COUNT(*) FROM information_schema.processlist WHERE info LIKE '%e2e-kill-query%' AND info NOT LIKE '%processlist%'") == 1
		})
		if _, err := db.ExecContext(ctx, fmt.Sprintf("KILL QUERY %d", id)); err != nil {
			t.Fatal(err)
		}
		select {
		case err := <-errc:
			// SLEEP interrupted by KILL QUERY returns 1 without an error in MariaDB, or
			// error 1317; either way it must end now, not in 60 s.
			if err != nil {
				mysqlErr(t, err, 1317)
			}
		case <-time.After(20 * time.Second):
			t.Fatal("KILL QUERY did not stop the query")
		}
		// MariaDB clears the processlist entry just after it answers: wait for it, well
		// within the 60 s the query would run if it had not been killed.
		waitFor(t, "the killed query to leave MariaDB's processlist", func() bool {
			return queryInt(t, primary, "SELECT COUNT(*) FROM information_schema.processlist WHERE info LIKE '%e2e-kill-query%' AND info NOT LIKE '%processlist%'") == 0
		})
		// The victim session goes on.
		if got := queryInt(t, victim, "SELECT 5"); got != 5 {
			t.Fatal("victim unusable after KILL QUERY")
		}
	})
	t.Run("connection", func(t *testing.T) {
		victim := conn(t, db)
		id := queryInt(t, victim, "SELECT CONNECTION_ID()")
		if _, err := db.ExecContext(ctx, fmt.Sprintf("KILL %d", id)); err != nil {
			t.Fatal(err)
		}
		if err := victim.PingContext(ctx); err == nil {
			t.Fatal("killed connection still answers")
		}
	})
	t.Run("COM_PROCESS_KILL", func(t *testing.T) {
		// The command PyMySQL's and mysqlclient's kill() send.
		victim := conn(t, db)
		id := queryInt(t, victim, "SELECT CONNECTION_ID()")
		raw, err := client.Connect(gw.MySQLAddr(), "app", "app", "commerce")
		if err != nil {
			t.Fatal(err)
		}
		defer raw.Close()
		raw.ResetSequence()
		if err := raw.WritePacket([]byte{0, 0, 0, 0, gomysql.COM_PROCESS_KILL, byte(id), byte(id >> 8), byte(id >> 16), byte(id >> 24)}); err != nil {
			t.Fatal(err)
		}
		p, err := raw.ReadPacket()
		if err != nil || len(p) == 0 || p[0] != gomysql.OK_HEADER {
			t.Fatalf("COM_PROCESS_KILL answered % x, %v", p, err)
		}
		if err := victim.PingContext(ctx); err == nil {
			t.Fatal("killed connection still answers")
		}
		if err := rawWant(raw, "SELECT 7", "7"); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("errors", func(t *testing.T) {
		_, err := db.ExecContext(ctx, "KILL QUERY 4000000000")
		mysqlErr(t, err, 1094)
		victim := conn(t, db)
		id := queryInt(t, victim, "SELECT CONNECTION_ID()")
		other := openDB(t, fmt.Sprintf("other:secret@tcp(%s)/commerce", gw.MySQLAddr()))
		_, err = other.ExecContext(ctx, fmt.Sprintf("KILL %d", id))
		mysqlErr(t, err, 1095)
	})
}

func TestQueryTimeoutKillsOnMySQL(t *testing.T) {
	g := newGateway(t, func(c *gatewayConfigT) { c.TabletServer.QueryTimeout = time.Second })
	db := openDB(t, dsn(g, "commerce"))
	start := time.Now()
	_, err := db.ExecContext(t.Context(), "SELECT SLEEP(30) FROM dual WHERE 'e2e-timeout' <> ''")
	if err == nil {
		t.Fatalf("a 30 s query passed a 1 s timeout")
	}
	mysqlErr(t, err, 1317)
	if time.Since(start) > 20*time.Second {
		t.Fatalf("the timeout took %v", time.Since(start))
	}
	primary := directDB(t, "zone1-100")
	waitFor(t, "the timed-out query to leave MariaDB's processlist", func() bool {
		return queryInt(t, primary, "SELECT COUNT(*) FROM information_schema.processlist WHERE info LIKE '%e2e-timeout%' AND info NOT LIKE '%processlist%'") == 0
	})
}

func TestLargeResultStreams(t *testing.T) {
	db := openDB(t, dsn(gw, "commerce"))
	rows, err := db.QueryContext(t.Context(), "SELECT seq, REPEAT('x', 100) FROM seq_1_to_1000000")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var n, sum int64
	var pad []byte
	for rows.Next() {
		var v int64
		if err := rows.Scan(&v, &pad); err != nil {
			t.Fatal(err)
		}
		n++
		sum += v
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if n != 1000000 || sum != 500000500000 {
		t.Fatalf("got %d rows summing to %d", n, sum)
	}
}

func TestMariaDBClient(t *testing.T) {
	host, port, _ := strings.Cut(gw.MySQLAddr(), ":")
	run := func(db, query string) (string, error) {
		cmd := exec.CommandContext(t.Context(), "mariadb", "-h", host, "-P", port, "-u", "app", "-papp",
			"--batch", "--skip-column-names", db, "-e", query)
		out, err := cmd.CombinedOutput()
		return strings.TrimSpace(string(out)), err
	}
	out, err := run("commerce", "SELECT COUNT(*) > 0 FROM customer; SELECT @@server_id")
	if err != nil {
		t.Fatalf("mariadb: %v: %s", err, out)
	}
	if out != "1\n100" {
		t.Fatalf("mariadb printed %q", out)
	}
	out, err = run("commerce@replica", "SELECT @@server_id")
	if err != nil || out != "101" {
		t.Fatalf("mariadb on commerce@replica: %q, %v", out, err)
	}
	out, err = run("commerce@replica", "DELETE FROM customer")
	if err == nil || !strings.Contains(out, "ERROR 1290") {
		t.Fatalf("mariadb wrote to a replica target: %q, %v", out, err)
	}
	// `status` sends COM_STATISTICS, which the gateway forwards to the tablet.
	out, err = run("commerce", "status")
	if err != nil || !strings.Contains(out, "Uptime:") || !strings.Contains(out, "Threads:") {
		t.Fatalf("mariadb status: %q, %v", out, err)
	}
	out, err = run("", "SHOW DATABASES")
	if err != nil || out != "commerce" {
		t.Fatalf("mariadb SHOW DATABASES: %q, %v", out, err)
	}
}

// waitFor polls cond until it holds, failing the test after a deadline.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-ctx.Done():
			t.Fatalf("timed out waiting for %s", what)
		case <-tick.C:
		}
	}
}

// TestStatementRetriedOnALostPooledConnection: a statement whose pooled backend connection the
// server had closed meanwhile (a failover's fence, the server's wait_timeout, an operator's
// KILL) runs again on another connection instead of failing: the server never read it.
func TestStatementRetriedOnALostPooledConnection(t *testing.T) {
	g := newGateway(t, func(c *gatewayConfigT) { c.TabletServer.PoolSize = 1 })
	db := openDB(t, dsn(g, "commerce"))
	db.SetMaxOpenConns(1)
	if _, err := db.Exec("CREATE TABLE IF NOT EXISTS e2e_retry (id INT PRIMARY KEY)"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _, _ = db.Exec("DROP TABLE IF EXISTS e2e_retry") })
	direct := directDB(t, "zone1-100")
	kill := func() {
		t.Helper()
		// The backend thread of the gateway's one connection (0 + : not the gateway's id).
		id := queryInt(t, db, "SELECT 0 + CONNECTION_ID()")
		if _, err := direct.Exec(fmt.Sprintf("KILL CONNECTION %d", id)); err != nil {
			t.Fatal(err)
		}
	}
	for i, q := range []string{"SELECT 2", "SELECT COUNT(*) FROM e2e_retry", "SHOW TABLES"} {
		kill()
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("round %d: %s on a connection the server closed: %v", i, q, err)
		}
	}
	// A write runs again only when the server provably never read it (its write failed);
	// else the client gets 2013, as from MariaDB, and it ran at most once.
	kill()
	_, err := db.Exec("INSERT INTO e2e_retry VALUES (1)")
	n := queryInt(t, direct, "SELECT COUNT(*) FROM e2e_retry")
	switch {
	case err == nil && n != 1:
		t.Fatalf("the insert succeeded, %d rows", n)
	case err != nil:
		mysqlErr(t, err, 2013)
		if n > 1 {
			t.Fatalf("%d rows", n)
		}
	}
}

package local

import (
	"context"
	"database/sql"
	"log/slog"
	"os"
	"testing"
	"time"
)

func testLogger(t *testing.T) *slog.Logger {
	t.Helper()
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	return nil
}

// startTestMariaDB starts a MariaDB in a temp dir on a free port; the test fails (never skips)
// when MariaDB is missing.
func startTestMariaDB(t *testing.T, ctx context.Context, serverID uint32) *MariaDB {
	t.Helper()
	m, err := StartMariaDB(ctx, MariaDBConfig{
		Dir: t.TempDir(), ServerID: serverID, User: "app", Password: "app", Logger: testLogger(t),
	})
	if err != nil {
		t.Fatalf("StartMariaDB: %v", err)
	}
	t.Cleanup(func() {
		stopCtx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := m.Stop(stopCtx); err != nil {
			t.Errorf("Stop: %v", err)
		}
	})
	return m
}

func openDB(t *testing.T, dsn string) *sql.DB {
	t.Helper()
	db, err := sql.Open("mysql", dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// waitCount polls until SELECT COUNT(*) FROM t.t1 returns want on db.
func waitCount(t *testing.T, ctx context.Context, db *sql.DB, want int) {
	t.Helper()
	var got int
	var err error
	for {
		err = db.QueryRowContext(ctx, "SELECT COUNT(*) FROM t.t1").Scan(&got)
		if err == nil && got == want {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("waiting for %d rows on replica: got %d, err %v", want, got, err)
		case <-time.After(pollInterval):
		}
	}
}

func TestMariaDBReplication(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	primary := startTestMariaDB(t, ctx, 1)
	replica := startTestMariaDB(t, ctx, 2)
	if primary.PID() == 0 || !ProcessAlive(primary.PID()) {
		t.Fatalf("primary pid %d not alive", primary.PID())
	}
	if err := SetupReplication(ctx, primary, replica); err != nil {
		t.Fatalf("SetupReplication: %v", err)
	}
	// Idempotent.
	if err := SetupReplication(ctx, primary, replica); err != nil {
		t.Fatalf("SetupReplication again: %v", err)
	}

	pdb := openDB(t, primary.DSN(""))
	for _, s := range []string{
		"CREATE DATABASE t",
		"CREATE TABLE t.t1 (id INT PRIMARY KEY, v VARCHAR(10))",
		"INSERT INTO t.t1 VALUES (1, 'a')",
	} {
		if _, err := pdb.ExecContext(ctx, s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
	rdb := openDB(t, replica.DSN(""))
	waitCount(t, ctx, rdb, 1)

	var ro int
	if err := rdb.QueryRowContext(ctx, "SELECT @@read_only").Scan(&ro); err != nil || ro != 1 {
		t.Fatalf("replica read_only = %d, %v; want 1", ro, err)
	}

	// A crashed replica comes back on the same port, read-only, and catches up.
	oldPID := replica.PID()
	replica.Kill()
	if replica.Running() || ProcessAlive(oldPID) {
		t.Fatalf("replica still running after Kill")
	}
	if _, err := pdb.ExecContext(ctx, "INSERT INTO t.t1 VALUES (2, 'b')"); err != nil {
		t.Fatal(err)
	}
	if err := replica.Start(ctx); err != nil {
		t.Fatalf("restart replica: %v", err)
	}
	if err := WaitReplicating(ctx, replica.DSN("")); err != nil {
		t.Fatalf("WaitReplicating after restart: %v", err)
	}
	waitCount(t, ctx, rdb, 2)
	if err := rdb.QueryRowContext(ctx, "SELECT @@read_only").Scan(&ro); err != nil || ro != 1 {
		t.Fatalf("restarted replica read_only = %d, %v; want 1", ro, err)
	}
	st, ok, err := QueryReplicaStatus(ctx, rdb)
	if err != nil || !ok || !st.Running() || st.MasterPort != primary.Port() {
		t.Fatalf("replica status %+v ok=%v err=%v", st, ok, err)
	}

	// A clean stop and start keeps the data.
	if err := primary.Stop(ctx); err != nil {
		t.Fatalf("Stop primary: %v", err)
	}
	if err := primary.Start(ctx); err != nil {
		t.Fatalf("restart primary: %v", err)
	}
	waitCount(t, ctx, openDB(t, primary.DSN("")), 2)
}

func TestStartMariaDBValidates(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  MariaDBConfig
	}{
		{"no dir", MariaDBConfig{ServerID: 1, User: "u"}},
		{"no server id", MariaDBConfig{Dir: "x", User: "u"}},
		{"no user", MariaDBConfig{Dir: "x", ServerID: 1}},
		{"root user", MariaDBConfig{Dir: "x", ServerID: 1, User: "root"}},
		{"bad port", MariaDBConfig{Dir: "x", ServerID: 1, User: "u", Port: 70000}},
		{"least privilege on no database", MariaDBConfig{Dir: "x", ServerID: 1, User: "u", LeastPrivilege: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := StartMariaDB(context.Background(), tc.cfg); err == nil {
				t.Fatal("want an error")
			}
		})
	}
}

func TestSocketPath(t *testing.T) {
	short := "/tmp/x"
	if got := socketPath(short); got != "/tmp/x/mysql.sock" {
		t.Errorf("socketPath(%q) = %q", short, got)
	}
	long := "/tmp/" + string(make([]byte, 200))
	if got := socketPath(long); len(got) > maxSocketPath || got == socketPath(long+"y") {
		t.Errorf("socketPath(long) = %q: too long or not unique", got)
	}
}

func TestQuoteString(t *testing.T) {
	for in, want := range map[string]string{
		"app":  "'app'",
		"it's": `'it\'s'`,
		`a\b`:  `'a\\b'`,
		"":     "''",
	} {
		if got := quoteString(in); got != want {
			t.Errorf("quoteString(%q) = %s, want %s", in, got, want)
		}
	}
}

func TestFreePort(t *testing.T) {
	for range 20 {
		p, err := FreePort()
		if err != nil {
			t.Fatal(err)
		}
		if p <= 0 || p > 65535 || !portFree(p) {
			t.Fatalf("FreePort() = %d: not a free port", p)
		}
	}
}

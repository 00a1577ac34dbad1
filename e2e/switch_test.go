package e2e

import (
	"database/sql"
	"errors"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/vtdirect/vtdirect/gateway"
	"github.com/vtdirect/vtdirect/tabletserver"
)

// TestFailedSwitchRunsNothing: keyspace swgone shares the primary with the cluster's keyspace,
// on one backend connection. Its database is dropped (before a probe notices); through it, a
// statement that reaches another database gets 1049 and does not run: the row is not
// inserted, the lock not taken. (Sent in the switch's write, it ran in information_schema.)
// One that reaches only its own database's tables goes in the switch's write
// (TestSwitchPipelined): it ran in information_schema and changed nothing either.
func TestFailedSwitchRunsNothing(t *testing.T) {
	const ks = "swgone"
	ctx := t.Context()
	addSharedKeyspace(t, ks)
	pdb := directDB(t, cluster.Primary().Alias())
	main := cluster.Layout.DBName
	if _, err := pdb.ExecContext(ctx, "CREATE TABLE IF NOT EXISTS "+main+".sw_probe (id INT PRIMARY KEY)"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pdb.Exec("DROP TABLE IF EXISTS " + main + ".sw_probe") })
	for _, tt := range []struct {
		name, q string
		ran     func() (bool, error)
	}{
		{"insert into another database", "INSERT INTO " + main + ".sw_probe VALUES (1)", func() (bool, error) {
			var n int
			err := pdb.QueryRowContext(ctx, "SELECT COUNT(*) FROM "+main+".sw_probe").Scan(&n)
			return n > 0, err
		}},
		// Pipelined (its qualifier is its table's): it ran in information_schema, not in the
		// database the connection was on, which has a sw_probe.
		{"pipelined with a qualified column", "INSERT INTO sw_probe (id) VALUES (1) ON DUPLICATE KEY UPDATE id = sw_probe.id", func() (bool, error) {
			var n int
			err := pdb.QueryRowContext(ctx, "SELECT COUNT(*) FROM "+main+".sw_probe").Scan(&n)
			return n > 0, err
		}},
		{"get_lock", "SELECT GET_LOCK('e2e_swgone', 0)", func() (bool, error) {
			var holder *int64
			err := pdb.QueryRowContext(ctx, "SELECT IS_USED_LOCK('e2e_swgone')").Scan(&holder)
			return holder != nil, err
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := pdb.ExecContext(ctx, "CREATE DATABASE IF NOT EXISTS "+ks); err != nil {
				t.Fatal(err)
			}
			// One backend connection for both keyspaces; no probe during the test but the one
			// the failed switch asks for.
			g := newGateway(t, func(c *gateway.Config) {
				c.TabletServer.MaxConnections = 1
				c.TabletServer.HealthInterval = time.Hour
			})
			if err := waitServing(ctx, g, "zone1-900"); err != nil {
				t.Fatal(err)
			}
			a := openDB(t, dsn(g, cluster.Layout.Keyspace))
			if _, err := a.ExecContext(ctx, "SELECT 1"); err != nil {
				t.Fatal(err)
			}
			a.Close() // the backend connection is idle, on the cluster keyspace's database
			if _, err := pdb.ExecContext(ctx, "DROP DATABASE "+ks); err != nil {
				t.Fatal(err)
			}
			b := openDB(t, dsn(g, ks))
			_, err := b.ExecContext(ctx, tt.q)
			var me *mysql.MySQLError
			if !errors.As(err, &me) || me.Number != 1049 {
				t.Fatalf("%s through the dropped keyspace: %v, want 1049", tt.q, err)
			}
			if ran, err := tt.ran(); err != nil || ran {
				t.Fatalf("%s took effect (%v) though its client got %v", tt.q, err, me)
			}
		})
	}
}

// TestSwitchPipelined: a statement bound to its tablet's database goes in the switch's write
// (no switch alone), also with its columns qualified by a table or an alias as ORMs write
// them; one that names another database waits for the switch's OK.
func TestSwitchPipelined(t *testing.T) {
	const ks = "swgone"
	ctx := t.Context()
	addSharedKeyspace(t, ks)
	g := newGateway(t, func(c *gateway.Config) { c.TabletServer.MaxConnections = 1 })
	if err := waitServing(ctx, g, "zone1-900"); err != nil {
		t.Fatal(err)
	}
	primaryBackend := func() tabletserver.BackendStats {
		for _, b := range g.Registry.Backends().All() {
			if st := b.Stats(); st.Tablets > 1 {
				return st
			}
		}
		t.Fatal("no shared backend")
		return tabletserver.BackendStats{}
	}
	a := openDB(t, dsn(g, cluster.Layout.Keyspace))
	b := openDB(t, dsn(g, ks))
	for _, tt := range []struct {
		q        string
		prepared bool // executed with COM_STMT_EXECUTE, prepared before the other keyspace's statement
		alone    uint64
	}{
		{"SELECT v FROM t WHERE id = 1", false, 0},
		{"UPDATE t SET v = 'only swgone' WHERE id = 1", false, 0},
		{"SELECT v FROM " + ks + ".t WHERE id = 1", false, 1},
		{"SELECT t0.id, t0.v FROM t t0 WHERE t0.id = 1", false, 0},
		{"UPDATE t SET t.v = 'only swgone' WHERE t.id = 1", false, 0},
		{"SELECT t0.id, t0.v FROM " + ks + ".t t0 WHERE t0.id = 1", false, 1},
		{"SELECT t0.v FROM t t0 WHERE t0.id IN (SELECT u.id FROM " + ks + ".t u)", false, 1},
		{"SELECT t0.id, t0.v FROM t t0 WHERE t0.id = ?", true, 0},
		{"SELECT t0.id, t0.v FROM " + ks + ".t t0 WHERE t0.id = ?", true, 1},
	} {
		var stmt *sql.Stmt
		if tt.prepared {
			var err error
			if stmt, err = b.PrepareContext(ctx, tt.q); err != nil {
				t.Fatalf("prepare %s: %v", tt.q, err)
			}
		}
		if _, err := a.ExecContext(ctx, "SELECT 1"); err != nil {
			t.Fatal(err)
		}
		before := primaryBackend()
		var err error
		if stmt != nil {
			_, err = stmt.ExecContext(ctx, 1)
			stmt.Close()
		} else {
			_, err = b.ExecContext(ctx, tt.q)
		}
		if err != nil {
			t.Fatalf("%s: %v", tt.q, err)
		}
		after := primaryBackend()
		if after.Switches != before.Switches+1 || after.SwitchesAlone != before.SwitchesAlone+tt.alone {
			t.Errorf("%s (prepared %v): %d switches, %d alone; want 1, %d", tt.q, tt.prepared,
				after.Switches-before.Switches, after.SwitchesAlone-before.SwitchesAlone, tt.alone)
		}
	}
}

package failover_test

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	topodatapb "vitess.io/vitess/go/vt/proto/topodata"

	"github.com/vtdirect/vtdirect/failover"
)

// TestPlannedReparentUnderLoad: 8 clients read and write every 10 ms through the gateway
// while the shard is reparented twice (there and back): no client sees an error, every
// acknowledged write is on every tablet, the old primary replicates from the new one, and
// the topo records it as Vitess does.
func TestPlannedReparentUnderLoad(t *testing.T) {
	c := startCluster(t, failover.PolicySemiSync)
	g := startGateway(t, c, gwOptions{})
	waitSemiSync(t, c)
	db := openDB(t, gatewayDSN(g, "commerce"))
	db.SetMaxOpenConns(16)
	w := startWriters(t, db, 8, 10*time.Millisecond)
	r := startReaders(t, db, 8, 10*time.Millisecond)
	ww := watchWritable(t, c)
	rep := g.Failover().Reparenter()
	for _, to := range []string{"zone2-200", "zone1-100"} {
		w.waitMore(t, 50)
		var lines []string
		var mu sync.Mutex
		rec, err := rep.Planned(t.Context(), "commerce", "0", failover.PlannedOptions{NewPrimary: mustAlias(t, to), Out: func(l string) {
			mu.Lock()
			lines = append(lines, l)
			mu.Unlock()
		}})
		if err != nil {
			t.Fatalf("planned reparent to %s: %v\n%s", to, err, strings.Join(lines, "\n"))
		}
		if rec.Status != failover.StatusSuccess || shardPrimary(t, c) != to {
			t.Fatalf("after the reparent: status %s, primary %s", rec.Status, shardPrimary(t, c))
		}
		t.Logf("reparented to %s in %v", to, rec.Duration(time.Now()).Round(time.Millisecond))
	}
	w.waitMore(t, 50)
	w.halt()
	r.halt()
	ww.check(t)
	if errs := append(w.errors(), r.errors()...); len(errs) > 0 {
		t.Errorf("%d client errors, want none: %v", len(errs), head(errs, 10))
	}
	ids := w.ackedIDs()
	if len(ids) < 100 {
		t.Fatalf("only %d acknowledged writes: the load did not run", len(ids))
	}
	checkAllPresent(t, c, ids)
	waitRejoined(t, c, "zone2-200", "zone1-100")
	if typ := tabletType(t, c, "zone1-100"); typ != topodatapb.TabletType_PRIMARY {
		t.Fatalf("zone1-100 is %s", typ)
	}
	t.Logf("%d writes, %d reads; longest write pause %v", len(ids), r.count(), w.longestPause())
}

// TestPlannedReparentInterruptsTransactions: a transaction open on the old primary gets the
// retryable 1105 that names the reparent; the session then works on the new primary.
func TestPlannedReparentInterruptsTransactions(t *testing.T) {
	c := startCluster(t, failover.PolicyNone)
	g := startGateway(t, c, gwOptions{})
	db := openDB(t, gatewayDSN(g, "commerce"))
	conn, err := db.Conn(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	exec := func(q string) error {
		ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
		defer cancel()
		_, err := conn.ExecContext(ctx, q)
		return err
	}
	if err := exec("BEGIN"); err != nil {
		t.Fatal(err)
	}
	if err := exec("INSERT INTO acked (id, writer) VALUES (1, 0)"); err != nil {
		t.Fatal(err)
	}
	if _, err := g.Failover().Reparenter().Planned(t.Context(), "commerce", "0", failover.PlannedOptions{NewPrimary: mustAlias(t, "zone1-101")}); err != nil {
		t.Fatal(err)
	}
	err = exec("INSERT INTO acked (id, writer) VALUES (2, 0)")
	if !strings.Contains(fmt.Sprint(err), "interrupted by a reparent") {
		t.Fatalf("statement of a transaction open across the reparent: %v, want the reparent 1105", err)
	}
	if !isMySQLErr(err, 1105) {
		t.Fatalf("code of %v, want 1105", err)
	}
	// The transaction is gone (rolled back), the session goes on on the new primary.
	if err := exec("INSERT INTO acked (id, writer) VALUES (3, 0)"); err != nil {
		t.Fatalf("after the error the session must work: %v", err)
	}
	var n int
	if err := conn.QueryRowContext(t.Context(), "SELECT COUNT(*) FROM acked WHERE id IN (1, 2)").Scan(&n); err != nil || n != 0 {
		t.Fatalf("rows of the interrupted transaction: %d, %v; want 0 (rolled back)", n, err)
	}
}

func mustAlias(t *testing.T, s string) *topodatapb.TabletAlias {
	t.Helper()
	a := &topodatapb.TabletAlias{}
	var uid uint32
	i := strings.LastIndexByte(s, '-')
	if _, err := fmt.Sscanf(s[i+1:], "%d", &uid); err != nil {
		t.Fatal(err)
	}
	a.Cell, a.Uid = s[:i], uid
	return a
}

// readers read through the gateway, primary target, every period.
type readers struct {
	stop chan struct{}
	wg   sync.WaitGroup
	mu   sync.Mutex // guards errs and n
	errs []string
	n    int
}

func startReaders(t *testing.T, db *sql.DB, n int, every time.Duration) *readers {
	r := &readers{stop: make(chan struct{})}
	for range n {
		r.wg.Add(1)
		go func() {
			defer r.wg.Done()
			tick := time.NewTicker(every)
			defer tick.Stop()
			for {
				select {
				case <-r.stop:
					return
				case <-tick.C:
				}
				var x int64
				ctx, cancel := context.WithTimeout(t.Context(), 15*time.Second)
				err := db.QueryRowContext(ctx, "SELECT COUNT(*) FROM acked").Scan(&x)
				cancel()
				r.mu.Lock()
				r.n++
				if err != nil {
					r.errs = append(r.errs, time.Now().Format("15:04:05.000")+" read: "+err.Error())
				}
				r.mu.Unlock()
			}
		}()
	}
	return r
}

func (r *readers) halt() {
	close(r.stop)
	r.wg.Wait()
}

func (r *readers) errors() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.errs...)
}

func (r *readers) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.n
}

// TestPlannedReparentStatementInFlight: a statement still running on a reserved connection of
// the old primary when the planned reparent ends it may have been applied (here an autocommit
// insert): the client gets 2013 saying the outcome is unknown, never the 1105 "rolled back;
// retry" that would make it insert twice.
func TestPlannedReparentStatementInFlight(t *testing.T) {
	c := startCluster(t, failover.PolicyNone)
	g := startGateway(t, c, gwOptions{})
	db := openDB(t, gatewayDSN(g, "commerce"))
	conn, err := db.Conn(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	// A temporary table reserves the backend connection, as a transaction would.
	if _, err := conn.ExecContext(t.Context(), "CREATE TEMPORARY TABLE tmp_reserved (a INT)"); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
		defer cancel()
		_, err := conn.ExecContext(ctx, "INSERT INTO acked (id, writer) SELECT 777, SLEEP(5)")
		done <- err
	}()
	// The insert runs on the primary before the reparent starts.
	pdb := openDB(t, c.Tablet("zone1-100").MariaDB.DSN(""))
	waitFor(t, 10*time.Second, "the insert running on zone1-100", func() (bool, string) {
		var n int
		err := pdb.QueryRowContext(t.Context(), "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE INFO LIKE 'INSERT INTO acked (id, writer) SELECT 777%'").Scan(&n)
		return err == nil && n == 1, fmt.Sprint(n, err)
	})
	if _, err := g.Failover().Reparenter().Planned(t.Context(), "commerce", "0", failover.PlannedOptions{NewPrimary: mustAlias(t, "zone1-101")}); err != nil {
		t.Fatal(err)
	}
	err = <-done
	if !isMySQLErr(err, 2013) || !strings.Contains(fmt.Sprint(err), "unknown") {
		t.Fatalf("statement in flight at the reparent: %v; want 2013 saying its outcome is unknown", err)
	}
	if strings.Contains(fmt.Sprint(err), "interrupted by a reparent") {
		t.Fatalf("statement in flight at the reparent told to retry: %v", err)
	}
	// The session goes on, on the new primary.
	if _, err := conn.ExecContext(t.Context(), "INSERT INTO acked (id, writer) VALUES (778, 0)"); err != nil {
		t.Fatalf("after the error the session must work: %v", err)
	}
}

// TestPlannedReparentFencesOldPrimary: a second gateway cut off from the topo keeps a
// transaction open on the old primary and goes on writing there after a planned reparent
// (it never sees the type change). The demotion fences the old primary: its client
// connections are killed (the open transaction rolls back) and the serving user cannot write
// past read_only, so nothing is acknowledged on the old primary that the new one lacks.
func TestPlannedReparentFencesOldPrimary(t *testing.T) {
	c := startCluster(t, failover.PolicyNone)
	a := startGateway(t, c, gwOptions{})
	p := startProxy(t, c.TopoAddr())
	b := startGateway(t, c, gwOptions{noFailover: true, topoAddr: p.Listen})
	conn, err := openDB(t, gatewayDSN(b, "commerce")).Conn(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	exec := func(q string) error {
		ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
		defer cancel()
		_, err := conn.ExecContext(ctx, q)
		return err
	}
	if err := exec("BEGIN"); err != nil {
		t.Fatal(err)
	}
	if err := exec("INSERT INTO acked (id, writer) VALUES (900, 2)"); err != nil {
		t.Fatal(err)
	}
	cut(t, p)
	defer heal(p)
	if _, err := a.Failover().Reparenter().Planned(t.Context(), "commerce", "0", failover.PlannedOptions{NewPrimary: mustAlias(t, "zone1-101")}); err != nil {
		t.Fatal(err)
	}
	acked := map[int64]bool{}
	if exec("INSERT INTO acked (id, writer) VALUES (901, 2)") == nil && exec("COMMIT") == nil {
		acked[900], acked[901] = true, true
	}
	if exec("INSERT INTO acked (id, writer) VALUES (902, 2)") == nil {
		acked[902] = true
	}
	// The serving user itself cannot write on the demoted primary.
	old := openDB(t, c.Tablet("zone1-100").MariaDB.DSN("commerce"))
	if _, err := old.ExecContext(t.Context(), "INSERT INTO acked (id, writer) VALUES (903, 2)"); !isMySQLErr(err, 1290) {
		t.Fatalf("the serving user %s writing on the demoted zone1-100: %v, want 1290 (read-only)", c.User(), err)
	}
	ids := func(alias string) map[int64]bool {
		rows, err := openDB(t, c.Tablet(alias).MariaDB.DSN("commerce")).QueryContext(t.Context(), "SELECT id FROM acked WHERE id >= 900")
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		out := map[int64]bool{}
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				t.Fatal(err)
			}
			out[id] = true
		}
		return out
	}
	onOld, onNew := ids("zone1-100"), ids("zone1-101")
	for id := range onOld {
		if !onNew[id] {
			t.Errorf("row %d is on the demoted zone1-100 only (acknowledged to the client: %v)", id, acked[id])
		}
	}
	for id := range acked {
		if !onNew[id] {
			t.Errorf("insert %d was acknowledged through the cut-off gateway but is not on the new primary", id)
		}
	}
}

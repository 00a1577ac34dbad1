package failover_test

import (
	"database/sql"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vtdirect/vtdirect/failover"
	"github.com/vtdirect/vtdirect/local"
)

// TestTopoUnreachableMidRecovery: the topo goes away after the new primary was promoted and
// the replicas repointed, before the reparent is recorded: the recovery stops (its journal, in
// memory, says at which step and why), exactly one tablet is writable meanwhile, and when the
// topo returns the next analysis finishes the job on the same new primary.
func TestTopoUnreachableMidRecovery(t *testing.T) {
	c := startCluster(t, failover.PolicySemiSync)
	var once sync.Once
	stopped := make(chan struct{})
	g := startGateway(t, c, gwOptions{stepHook: func(id, step string) error {
		if step == "topo" {
			once.Do(func() {
				c.Etcd.Close()
				close(stopped)
			})
		}
		return nil
	}})
	waitSemiSync(t, c)
	ww := watchWritable(t, c)
	c.Primary().MariaDB.Kill()
	select {
	case <-stopped:
	case <-time.After(30 * time.Second):
		t.Fatal("the recovery never reached its topo step")
	}
	var failed *failover.Recovery
	waitFor(t, 30*time.Second, "the recovery to stop", func() (bool, string) {
		for _, r := range g.Failover().Status().Recoveries {
			if r.Kind == failover.KindEmergency && r.Status == failover.StatusFailed {
				failed = r
				return true, ""
			}
		}
		return false, "still running"
	})
	last := failed.Steps[len(failed.Steps)-1]
	if last.Name != "topo" || last.Status != "failed" || failed.NewPrimary == "" {
		t.Fatalf("the journal does not say where it stopped: last step %+v, new primary %q, error %s", last, failed.NewPrimary, failed.Error)
	}
	t.Logf("stopped at step %s: %s", last.Name, failed.Error)
	// The topo returns (same data, same port): the shard ends on the promoted tablet.
	e, err := local.StartEtcd(c.Etcd.Dir(), c.Etcd.Port(), 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.Close)
	waitFor(t, 60*time.Second, "the reparent recorded after the topo returned", func() (bool, string) {
		si, err := c.Topo.GetShard(t.Context(), "commerce", "0")
		if err != nil {
			return false, err.Error()
		}
		return si.PrimaryAlias != nil && fmt.Sprintf("%s-%d", si.PrimaryAlias.Cell, si.PrimaryAlias.Uid) == failed.NewPrimary, "not yet"
	})
	ww.check(t)
	db := openDB(t, gatewayDSN(g, "commerce"))
	waitFor(t, 30*time.Second, "a write through the gateway", func() (bool, string) {
		_, err := db.ExecContext(t.Context(), "INSERT INTO acked (id, writer) VALUES (1, 0)")
		return err == nil, "err"
	})
}

// TestReturningPrimaryWithLostWrites: the old primary took a write no replica received (their
// IO threads were stopped: asynchronous replication under policy none), then died; after the
// failover it comes back holding that write: it is not repointed but taken out of service
// (DRAINED, the reason in its tablet record) and reported as needing a rebuild.
func TestReturningPrimaryWithLostWrites(t *testing.T) {
	c := startCluster(t, failover.PolicyNone)
	g := startGateway(t, c, gwOptions{})
	old := c.Primary()
	direct := openDB(t, old.MariaDB.DSN("commerce"))
	var replicas []*sql.DB
	for _, r := range c.Tablets() {
		if r != old {
			replicas = append(replicas, openDB(t, r.MariaDB.DSN("")))
		}
	}
	// The controller starts stopped replication again (ReplicationStopped): the write counts
	// as lost only if every IO thread is still stopped after it, so the primary is killed
	// then, and the sequence is tried again with another row otherwise.
	for attempt := 0; ; attempt++ {
		if attempt == 5 {
			t.Fatal("the controller restarted replication before every try's write could be lost")
		}
		for _, db := range replicas {
			if _, err := db.ExecContext(t.Context(), "STOP SLAVE IO_THREAD"); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := direct.ExecContext(t.Context(), "INSERT INTO acked (id, writer) VALUES (?, 0)", 99+attempt); err != nil {
			t.Fatal(err)
		}
		stopped := true
		for _, db := range replicas {
			st, ok, err := local.QueryReplicaStatus(t.Context(), db)
			if err != nil {
				t.Fatal(err)
			}
			stopped = stopped && ok && st.IORunning == "No"
		}
		if stopped {
			break
		}
		t.Logf("try %d: replication was started again before the primary died; again", attempt)
	}
	old.MariaDB.Kill()
	next := waitNewPrimary(t, c, "zone1-100", 30*time.Second)
	if err := old.MariaDB.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 30*time.Second, "the old primary quarantined", func() (bool, string) {
		a := analysis(g)
		return a.Has(failover.NeedsRebuild, "zone1-100"), describe(a)
	})
	tab, err := c.Topo.GetTablet(t.Context(), old.Record.Alias)
	if err != nil {
		t.Fatal(err)
	}
	if tab.Type.String() != "DRAINED" || !strings.Contains(tab.Tags[failover.RebuildTag], "0-100-") {
		t.Fatalf("old primary record: %s, tags %v", tab.Type, tab.Tags)
	}
	var ro int
	if err := direct.QueryRowContext(t.Context(), "SELECT @@global.read_only").Scan(&ro); err != nil || ro != 1 {
		t.Fatalf("the quarantined tablet: read_only %d, %v", ro, err)
	}
	st, ok, err := local.QueryReplicaStatus(t.Context(), direct)
	if err != nil || ok {
		t.Fatalf("the quarantined tablet replicates (%+v, %v)", st, err)
	}
	t.Logf("new primary %s; zone1-100: %s", next, tab.Tags[failover.RebuildTag])
}

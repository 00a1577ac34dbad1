package failover_test

import (
	"context"
	"strings"
	"testing"
	"time"

	topodatapb "vitess.io/vitess/go/vt/proto/topodata"

	"github.com/vtdirect/vtdirect/failover"
	"github.com/vtdirect/vtdirect/local"
)

// TestSemiSyncAckerDeadWithPrimary: under semi_sync, the one replica that acknowledged the
// last write dies with the primary. The replicas left never received that write, so
// promoting one would lose it: failover refuses (automatically and when an operator asks),
// says why in the analysis and the journal, and recovers once that replica is back, with the
// write.
func TestSemiSyncAckerDeadWithPrimary(t *testing.T) {
	l := local.DemoLayout()
	l.Tablets = append(l.Tablets, local.TabletSpec{Cell: "zone2", UID: 202, Type: topodatapb.TabletType_REPLICA})
	for i := range l.Tablets {
		l.Tablets[i].MySQLPort = 0
	}
	l.Durability = failover.PolicySemiSync
	ctx, cancel := context.WithTimeout(t.Context(), 4*time.Minute)
	defer cancel()
	c, err := local.StartCluster(ctx, local.ClusterConfig{Dir: t.TempDir(), Layout: &l, Logger: testLogger()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	pdb := openDB(t, c.Primary().MariaDB.DSN("commerce"))
	if _, err := pdb.ExecContext(ctx, "CREATE TABLE acked (id BIGINT PRIMARY KEY, writer INT, at DATETIME(6) DEFAULT NOW(6))"); err != nil {
		t.Fatal(err)
	}
	// A first gateway configures semi-sync on every tablet, then goes: nothing restarts the
	// replication stopped below.
	setup := startGateway(t, c, gwOptions{})
	waitSemiSync(t, c)
	setup.close()

	// zone2-200 and zone2-202 stop receiving (a stand-in for lag): the primary's only
	// semi-sync client is zone1-101 (zone2-201 is RDONLY and sends no acks).
	for _, a := range []string{"zone2-200", "zone2-202"} {
		if _, err := openDB(t, c.Tablet(a).MariaDB.DSN("")).ExecContext(ctx, "STOP SLAVE IO_THREAD"); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, 10*time.Second, "zone1-101 the only semi-sync client", func() (bool, string) {
		var name, v string
		err := pdb.QueryRowContext(ctx, "SHOW GLOBAL STATUS LIKE 'Rpl_semi_sync_master_clients'").Scan(&name, &v)
		return err == nil && v == "1", "clients " + v
	})
	ictx, icancel := context.WithTimeout(ctx, 10*time.Second)
	_, err = pdb.ExecContext(ictx, "INSERT INTO acked (id, writer) VALUES (2, 0)")
	icancel()
	if err != nil {
		t.Fatalf("insert 2 (acknowledged by zone1-101's semi-sync ack): %v", err)
	}
	c.Tablet("zone1-101").MariaDB.Kill()
	c.Tablet("zone1-100").MariaDB.Kill()

	g := startGateway(t, c, gwOptions{})
	waitFor(t, 20*time.Second, "the recovery blocked for the unreachable acker", func() (bool, string) {
		for _, s := range g.Failover().Status().Shards {
			if s.Analysis.Code == failover.DeadPrimaryAndSomeReplicas && strings.Contains(s.Analysis.Blocked, "zone1-101 could have sent the semi-sync ack") {
				return true, ""
			}
			return false, describe(s.Analysis) + " blocked: " + s.Analysis.Blocked
		}
		return false, "no shard"
	})
	// An operator's emergency reparent refuses too, at the same point, and journals why.
	rec, err := g.Failover().Reparenter().Emergency(ctx, "commerce", "0", failover.EmergencyOptions{Trigger: "operator"})
	if err == nil || rec == nil || rec.Status != failover.StatusAborted || !strings.Contains(rec.Error, "zone1-101 could have sent the semi-sync ack") {
		t.Fatalf("operator's emergency reparent: %v (recovery %+v)", err, rec)
	}
	if p := shardPrimary(t, c); p != "zone1-100" {
		t.Fatalf("the shard's primary is %s after the refusals, want zone1-100 still", p)
	}
	for _, a := range []string{"zone2-200", "zone2-202"} {
		if tabletType(t, c, a) != topodatapb.TabletType_REPLICA {
			t.Fatalf("%s is %s after the refusals", a, tabletType(t, c, a))
		}
	}

	// zone1-101 comes back: the shard recovers, with the acknowledged write.
	if err := c.Tablet("zone1-101").MariaDB.Start(ctx); err != nil {
		t.Fatal(err)
	}
	np := waitNewPrimary(t, c, "zone1-100", 60*time.Second)
	ndb := openDB(t, c.Tablet(np).MariaDB.DSN("commerce"))
	var n int
	if err := ndb.QueryRowContext(ctx, "SELECT COUNT(*) FROM acked WHERE id = 2").Scan(&n); err != nil || n != 1 {
		t.Fatalf("acknowledged insert 2 on the new primary %s: count %d, %v", np, n, err)
	}
}

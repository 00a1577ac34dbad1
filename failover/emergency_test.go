package failover_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	topodatapb "vitess.io/vitess/go/vt/proto/topodata"

	"github.com/vtdirect/vtdirect/failover"
	"github.com/vtdirect/vtdirect/local"
)

// TestOperatorEmergencyOfLivePrimary: an operator runs `vtdirect reparent emergency` while the
// primary still answers and holds an acknowledged insert no replica received. The old
// primary is fenced and counted: the new primary catches up from it first, so the insert
// survives, and the old primary becomes a healthy replica of the new one.
func TestOperatorEmergencyOfLivePrimary(t *testing.T) {
	c := startCluster(t, failover.PolicyNone)
	// No failover controller runs (it would restart the replication stopped below): the
	// operator's reparent runs as `vtdirect reparent emergency` runs it with no leader.
	g := startGateway(t, c, gwOptions{noFailover: true})
	ctx := t.Context()
	for _, a := range []string{"zone1-101", "zone2-200", "zone2-201"} {
		if _, err := openDB(t, c.Tablet(a).MariaDB.DSN("")).ExecContext(ctx, "STOP SLAVE IO_THREAD"); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := openDB(t, gatewayDSN(g, "commerce")).ExecContext(ctx, "INSERT INTO acked (id, writer) VALUES (5, 0)"); err != nil {
		t.Fatal(err)
	}
	rep, err := failover.NewReparenter(failover.Config{ID: "operator", DBAUser: c.DBAUser(), DBAPassword: c.DBAPassword(),
		NetTimeout: local.SlaveNetTimeout * time.Second, Logger: testLogger()}, c.Topo, failover.NewAgent(failover.Config{DBAUser: c.DBAUser(), DBAPassword: c.DBAPassword(),
		NetTimeout: local.SlaveNetTimeout * time.Second}), nil)
	if err != nil {
		t.Fatal(err)
	}
	rec, err := rep.Emergency(ctx, "commerce", "0", failover.EmergencyOptions{Trigger: "operator", Out: func(s string) { t.Log(s) }})
	if err != nil {
		t.Fatalf("emergency reparent: %v", err)
	}
	np := shardPrimary(t, c)
	if np == "zone1-100" || np != rec.NewPrimary {
		t.Fatalf("shard primary %s, recovery's new primary %s", np, rec.NewPrimary)
	}
	var n int
	if err := openDB(t, c.Tablet(np).MariaDB.DSN("commerce")).QueryRowContext(ctx, "SELECT COUNT(*) FROM acked WHERE id = 5").Scan(&n); err != nil || n != 1 {
		t.Fatalf("acknowledged insert 5 on the new primary %s: count %d, %v", np, n, err)
	}
	// The old primary replicates from the new one, both threads running, no error.
	old := openDB(t, c.Tablet("zone1-100").MariaDB.DSN(""))
	waitFor(t, 20*time.Second, "zone1-100 replicating from "+np, func() (bool, string) {
		qctx, cancel := context.WithTimeout(ctx, time.Second)
		defer cancel()
		st, ok, err := local.QueryReplicaStatus(qctx, old)
		if err != nil || !ok {
			return false, "not a replica"
		}
		return st.Running() && st.MasterPort == c.Tablet(np).MariaDB.Port(), st.String()
	})
	if typ := tabletType(t, c, "zone1-100"); typ != topodatapb.TabletType_REPLICA {
		t.Fatalf("zone1-100 is %s, want REPLICA", typ)
	}
	// Writes go on through the gateway, to the new primary, and reach every tablet.
	gdb := openDB(t, gatewayDSN(g, "commerce"))
	waitFor(t, 20*time.Second, "an insert through the gateway", func() (bool, string) {
		_, err := gdb.ExecContext(ctx, "INSERT INTO acked (id, writer) VALUES (6, 0)")
		return err == nil, fmt.Sprint(err)
	})
	checkAllPresent(t, c, []int64{5, 6})
}

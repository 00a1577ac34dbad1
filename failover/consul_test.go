package failover_test

import (
	"context"
	"testing"
	"time"

	topodatapb "vitess.io/vitess/go/vt/proto/topodata"

	"github.com/vtdirect/vtdirect/failover"
	"github.com/vtdirect/vtdirect/gateway"
	"github.com/vtdirect/vtdirect/local"
	"github.com/vtdirect/vtdirect/tabletserver"
	"github.com/vtdirect/vtdirect/topo/consultopo"
	"github.com/vtdirect/vtdirect/topo/consultopo/consultest"
)

// TestKillPrimaryOnConsul: the same failover with the topo on Consul: the election, the
// shard lock and the journal are Consul sessions and keys (TTL 10s, Consul's minimum).
func TestKillPrimaryOnConsul(t *testing.T) {
	c := startCluster(t, failover.PolicySemiSync)
	agent := consultest.Start(t, consultest.Options{})
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	ts, err := consultopo.Open(ctx, agent.Addr(), "vitess/global")
	if err != nil {
		t.Fatal(err)
	}
	defer ts.Close()
	l := c.Layout
	l.GlobalRoot, l.CellRootPrefix = "vitess/global", "vitess/"
	var recs []*topodatapb.Tablet
	for _, tab := range c.Tablets() {
		recs = append(recs, tab.Record)
	}
	if err := local.WriteTopo(ctx, ts, l, agent.Addr(), recs); err != nil {
		t.Fatal(err)
	}
	g, err := gateway.Start(t.Context(), gateway.Config{
		Cell: "zone1", MySQLAddr: "127.0.0.1:0", ServerVersion: "8.0.40-vtdirect", Users: map[string]string{"app": "app"}, MaxPacketSize: 16 << 20,
		TabletServer: tabletserver.Config{User: c.User(), Password: c.Password(), HealthInterval: 500 * time.Millisecond, ConnectTimeout: 2 * time.Second},
		Failover: &failover.Config{DBAUser: c.DBAUser(), DBAPassword: c.DBAPassword(), PollInterval: 200 * time.Millisecond,
			LeaseTTL: 10 * time.Second, NetTimeout: local.SlaveNetTimeout * time.Second},
		Logger: testLogger(),
	}, ts)
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	waitFor(t, 30*time.Second, "the leadership on Consul", func() (bool, string) { return g.Failover().IsLeader(), "not yet" })
	waitSemiSync(t, c)
	c.Primary().MariaDB.Kill()
	waitFor(t, 30*time.Second, "a new primary in Consul", func() (bool, string) {
		si, err := ts.GetShard(t.Context(), "commerce", "0")
		if err != nil || si.PrimaryAlias == nil {
			return false, "none"
		}
		return si.PrimaryAlias.Uid != 100, si.PrimaryAlias.String()
	})
	waitFor(t, 30*time.Second, "the successful recovery in the journal on Consul", func() (bool, string) {
		recs, err := failover.NewJournal(ts).Recoveries(t.Context(), "commerce", "0")
		if err != nil {
			return false, err.Error()
		}
		for _, r := range recs {
			if r.Kind == failover.KindEmergency && r.Status == failover.StatusSuccess {
				return true, ""
			}
		}
		return false, "not yet"
	})
}

package interop

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	_ "github.com/go-sql-driver/mysql"
	"google.golang.org/protobuf/proto"
	topodatapb "vitess.io/vitess/go/vt/proto/topodata"
	vtopo "vitess.io/vitess/go/vt/topo"

	"github.com/vtdirect/vtdirect/gateway"
	"github.com/vtdirect/vtdirect/local"
	"github.com/vtdirect/vtdirect/tabletserver"
)

// TestGatewayOnVitessTopology: MariaDB servers described in a topology written by Vitess's own
// topo code (etcd and Consul); a gateway started on it finds the tablets and serves queries
// from them.
func TestGatewayOnVitessTopology(t *testing.T) {
	if err := local.CheckMariaDBInstalled(); err != nil {
		t.Fatalf("this test needs MariaDB (`make test` installs it): %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	layout := local.DemoLayout()
	layout.Cells, layout.CellsAliases = []string{"zone1"}, nil
	layout.Tablets = []local.TabletSpec{
		{Cell: "zone1", UID: 100, Type: topodatapb.TabletType_PRIMARY},
		{Cell: "zone1", UID: 101, Type: topodatapb.TabletType_REPLICA},
	}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	cluster, err := local.StartCluster(ctx, local.ClusterConfig{Dir: t.TempDir(), Layout: &layout, SampleData: true, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	defer cluster.Close()

	backends(t, func(t *testing.T, e *env) {
		ctx := e.ctx
		// Vitess's code writes the cluster's topology; ours only reads it.
		ok(t, e.vts.CreateCellInfo(ctx, "zone1", &topodatapb.CellInfo{ServerAddress: e.addr, Root: e.root("zone1")}))
		ok(t, e.vts.CreateKeyspace(ctx, layout.Keyspace, &topodatapb.Keyspace{}))
		ok(t, e.vts.CreateShard(ctx, layout.Keyspace, layout.Shard))
		for _, tab := range cluster.Tablets() {
			ok(t, e.vts.CreateTablet(ctx, proto.Clone(tab.Record).(*topodatapb.Tablet)))
		}
		_, err := e.vts.UpdateShardFields(ctx, layout.Keyspace, layout.Shard, func(si *vtopo.ShardInfo) error {
			si.PrimaryAlias = cluster.Primary().Spec.TopoAlias()
			return nil
		})
		ok(t, err)

		g, err := gateway.Start(ctx, gateway.Config{
			Cell: "zone1", MySQLAddr: "127.0.0.1:0", ServerVersion: "8.0.40-vtdirect",
			Users: map[string]string{"app": "app"}, MaxPacketSize: 16 << 20,
			TabletServer: tabletserver.Config{
				User: cluster.User(), Password: cluster.Password(), PoolSize: 4, PoolWaitTimeout: 5 * time.Second,
				IdleTimeout: time.Minute, TxPoolSize: 4, TxTimeout: 30 * time.Second,
				HealthInterval: 200 * time.Millisecond, ConnectTimeout: 5 * time.Second,
			},
			Logger: quiet,
		}, e.ts)
		ok(t, err)
		defer g.Close()
		waitServing(t, ctx, g, "zone1-0000000100", "zone1-0000000101")

		direct, err := sql.Open("mysql", cluster.Primary().MariaDB.DSN(layout.DBName))
		ok(t, err)
		defer direct.Close()
		var want int
		ok(t, direct.QueryRowContext(ctx, "SELECT COUNT(*) FROM product").Scan(&want))
		for _, target := range []string{layout.Keyspace, layout.Keyspace + "@replica", layout.Keyspace + "@primary"} {
			db, err := sql.Open("mysql", fmt.Sprintf("app:app@tcp(%s)/%s", g.MySQLAddr(), target))
			ok(t, err)
			var got int
			err = db.QueryRowContext(ctx, "SELECT COUNT(*) FROM product").Scan(&got)
			db.Close()
			if err != nil || got != want || want == 0 {
				t.Fatalf("%s: SELECT COUNT(*) FROM product = %d, %v; want %d (direct)", target, got, err, want)
			}
		}
	})
}

// waitServing waits until the gateway's registry has every alias serving.
func waitServing(t *testing.T, ctx context.Context, g *gateway.Gateway, aliases ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	for {
		changed := g.Registry.Changed()
		snap := g.Registry.Snapshot()
		missing := ""
		for _, a := range aliases {
			found := false
			for _, tab := range snap.Tablets() {
				if tab.Alias == a && tab.Health().Serving {
					found = true
				}
			}
			if !found {
				missing = a
				break
			}
		}
		if missing == "" {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("tablet %s not serving (topo error: %v)", missing, snap.TopoErr)
		case <-changed:
		}
	}
}

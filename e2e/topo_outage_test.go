package e2e

import (
	"context"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"
	topodatapb "vitess.io/vitess/go/vt/proto/topodata"

	"github.com/vtdirect/vtdirect/gateway"
	"github.com/vtdirect/vtdirect/local"
	"github.com/vtdirect/vtdirect/topo"
)

// TestTopoOutage: a gateway whose topo server goes away keeps serving from the last topology
// it saw, says so in /debug/status (topo_error) and /metrics (vtdirect_topo_error 1), and
// when the server returns it clears the error and follows the topology again (a tablet added
// meanwhile is picked up). The gateway has its own etcd, a copy of the shared cluster's
// topology, so stopping it disturbs no other test.
func TestTopoOutage(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	dir := t.TempDir()
	etcd, err := local.StartEtcd(dir, 0, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { etcd.Close() }()
	port := etcd.Port()
	ts, err := topo.Open(ctx, topo.ImplEtcd, etcd.Endpoint(), "/vitess/global")
	if err != nil {
		t.Fatal(err)
	}
	defer ts.Close()
	copyTopology(t, ctx, ts, etcd.Endpoint())

	g, err := gateway.Start(ctx, gatewayConfigWithHTTP(), ts)
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	if err := waitServing(ctx, g, "zone1-100", "zone1-101"); err != nil {
		t.Fatal(err)
	}
	db := openDB(t, dsn(g, "commerce@replica"))
	primary := openDB(t, dsn(g, "commerce"))
	want := queryInt(t, primary, "SELECT COUNT(*) FROM product")

	// The topo goes away: queries keep working, and the gateway says the topo is down.
	etcd.Close()
	pollUntil(t, ctx, "topo_error in /debug/status", func() bool {
		_, body := httpGetFrom(t, g, "/debug/status")
		return strings.Contains(body, `"topo_error"`)
	})
	_, metrics := httpGetFrom(t, g, "/metrics")
	if !strings.Contains(metrics, "vtdirect_topo_error 1") {
		t.Fatalf("/metrics while the topo is down lacks vtdirect_topo_error 1")
	}
	for range 20 {
		if got := queryInt(t, db, "SELECT COUNT(*) FROM product"); got != want {
			t.Fatalf("replica read while the topo is down = %d, want %d", got, want)
		}
		if got := queryInt(t, primary, "SELECT COUNT(*) FROM product"); got != want {
			t.Fatalf("primary read while the topo is down = %d, want %d", got, want)
		}
	}

	// It comes back (same port, same data): the error clears, and a tablet added now (a second
	// record for the zone1 replica's MariaDB) is picked up.
	etcd, err = local.StartEtcd(dir, port, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	added := proto.Clone(cluster.Tablet("zone1-101").Record).(*topodatapb.Tablet)
	added.Alias = &topodatapb.TabletAlias{Cell: "zone1", Uid: 150}
	pollUntil(t, ctx, "a topo write after the restart", func() bool {
		wctx, wcancel := context.WithTimeout(ctx, 2*time.Second)
		defer wcancel()
		return ts.CreateTablet(wctx, added) == nil
	})
	if err := waitServing(ctx, g, "zone1-150"); err != nil {
		t.Fatal(err)
	}
	pollUntil(t, ctx, "topo_error cleared", func() bool {
		_, body := httpGetFrom(t, g, "/debug/status")
		return !strings.Contains(body, `"topo_error"`)
	})
	if _, metrics := httpGetFrom(t, g, "/metrics"); !strings.Contains(metrics, "vtdirect_topo_error 0") {
		t.Fatalf("/metrics after the topo returned lacks vtdirect_topo_error 0")
	}
	if got := queryInt(t, db, "SELECT COUNT(*) FROM product"); got != want {
		t.Fatalf("replica read after the topo returned = %d, want %d", got, want)
	}
}

// gatewayConfigWithHTTP is the default test gateway with an HTTP listener, watching zone1.
func gatewayConfigWithHTTP() gateway.Config {
	cfg := gatewayConfig()
	cfg.HTTPAddr = "127.0.0.1:0"
	cfg.CellsToWatch = []string{"zone1"}
	return cfg
}

// copyTopology writes the shared cluster's zone1 topology into ts (cell roots on addr).
func copyTopology(t *testing.T, ctx context.Context, ts *topo.Server, addr string) {
	t.Helper()
	for _, cell := range cluster.Layout.Cells {
		if err := ts.CreateCellInfo(ctx, cell, &topodatapb.CellInfo{ServerAddress: addr, Root: "/vitess/" + cell}); err != nil {
			t.Fatal(err)
		}
	}
	ks, sh := cluster.Layout.Keyspace, cluster.Layout.Shard
	if err := ts.CreateKeyspace(ctx, ks, nil); err != nil {
		t.Fatal(err)
	}
	if err := ts.CreateShard(ctx, ks, sh); err != nil {
		t.Fatal(err)
	}
	for _, tab := range cluster.Tablets() {
		if tab.Spec.Cell != "zone1" {
			continue
		}
		if err := ts.CreateTablet(ctx, proto.Clone(tab.Record).(*topodatapb.Tablet)); err != nil {
			t.Fatal(err)
		}
	}
	if err := ts.SetShardPrimary(ctx, ks, sh, cluster.Primary().Spec.TopoAlias(), time.Now()); err != nil {
		t.Fatal(err)
	}
}

// pollUntil polls cond until it holds, or fails the test when ctx ends.
func pollUntil(t *testing.T, ctx context.Context, what string, cond func() bool) {
	t.Helper()
	for !cond() {
		select {
		case <-ctx.Done():
			t.Fatalf("waiting for %s: %v", what, ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

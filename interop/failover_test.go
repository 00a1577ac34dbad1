package interop

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"
	topodatapb "vitess.io/vitess/go/vt/proto/topodata"
	vtopo "vitess.io/vitess/go/vt/topo"
	"vitess.io/vitess/go/vt/topo/topoproto"
	"vitess.io/vitess/go/vt/topotools"

	"github.com/vtdirect/vtdirect/buffer"
	"github.com/vtdirect/vtdirect/failover"
	"github.com/vtdirect/vtdirect/gateway"
	"github.com/vtdirect/vtdirect/local"
	"github.com/vtdirect/vtdirect/tabletserver"
)

// TestFailoverLeavesAConsistentShard: after vtdirect's emergency reparent (the primary killed)
// and its planned reparent, Vitess's own topo code reads a consistent shard: the shard record
// names a PRIMARY tablet whose term is the shard's, no other tablet claims PRIMARY,
// topotools.GetShardPrimaryForTablet accepts every tablet, ShardReplication lists them all,
// and Vitess's shard lock is free.
func TestFailoverLeavesAConsistentShard(t *testing.T) {
	if err := local.CheckMariaDBInstalled(); err != nil {
		t.Fatalf("this test needs MariaDB (`make test` installs it): %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	layout := local.DemoLayout()
	for i := range layout.Tablets {
		layout.Tablets[i].MySQLPort = 0
	}
	layout.Durability = failover.PolicySemiSync
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	cluster, err := local.StartCluster(ctx, local.ClusterConfig{Dir: t.TempDir(), Layout: &layout, Logger: quiet})
	ok(t, err)
	defer cluster.Close()
	vts, err := vtopo.OpenServer("etcd2", cluster.TopoAddr(), layout.GlobalRoot)
	ok(t, err)
	defer vts.Close()
	checkConsistent(t, ctx, vts, "zone1-100")

	g, err := gateway.Start(ctx, gateway.Config{
		Cell: "zone1", MySQLAddr: "127.0.0.1:0", HTTPAddr: "127.0.0.1:0", ServerVersion: "8.0.40-vtdirect",
		Users: map[string]string{"app": "app"}, MaxPacketSize: 16 << 20,
		TabletServer: tabletserver.Config{User: cluster.User(), Password: cluster.Password(), PoolSize: 4, TxPoolSize: 4,
			HealthInterval: 200 * time.Millisecond, ConnectTimeout: 2 * time.Second},
		Buffer: &buffer.Config{},
		Failover: &failover.Config{DBAUser: cluster.DBAUser(), DBAPassword: cluster.DBAPassword(), PollInterval: 200 * time.Millisecond,
			LeaseTTL: 2 * time.Second, NetTimeout: local.SlaveNetTimeout * time.Second},
		Logger: quiet,
	}, cluster.Topo)
	ok(t, err)
	defer g.Close()
	db, err := sql.Open("mysql", fmt.Sprintf("app:app@tcp(%s)/commerce", g.MySQLAddr()))
	ok(t, err)
	defer db.Close()
	waitUntil(t, ctx, "a write through the gateway", func() bool {
		_, err := db.ExecContext(ctx, "CREATE TABLE IF NOT EXISTS t (id INT PRIMARY KEY)")
		return err == nil
	})

	// Emergency: the primary dies.
	cluster.Primary().MariaDB.Kill()
	newPrimary := ""
	waitUntil(t, ctx, "an emergency reparent", func() bool {
		si, err := vts.GetShard(ctx, "commerce", "0")
		if err != nil || si.PrimaryAlias == nil || topoproto.TabletAliasString(si.PrimaryAlias) == "zone1-0000000100" {
			return false
		}
		newPrimary = fmt.Sprintf("%s-%d", si.PrimaryAlias.Cell, si.PrimaryAlias.Uid)
		return true
	})
	waitUntil(t, ctx, "the recovery to end", func() bool { return len(g.Failover().Reparenter().Running()) == 0 })
	checkConsistent(t, ctx, vts, newPrimary)
	_, err = db.ExecContext(ctx, "INSERT INTO t VALUES (1)")
	ok(t, err)

	// Planned: back to zone2-200 (the dead zone1-100 stays REPLICA, unreachable).
	a := &topodatapb.TabletAlias{Cell: "zone2", Uid: 200}
	rec, err := g.Failover().Reparenter().Planned(ctx, "commerce", "0", failover.PlannedOptions{NewPrimary: a})
	ok(t, err)
	if rec.Status != failover.StatusSuccess {
		t.Fatalf("planned reparent %s: %s", rec.Status, rec.Error)
	}
	checkConsistent(t, ctx, vts, "zone2-200")
}

// checkConsistent reads the shard with Vitess's topo code.
func checkConsistent(t *testing.T, ctx context.Context, vts *vtopo.Server, primary string) {
	t.Helper()
	si, err := vts.GetShard(ctx, "commerce", "0")
	ok(t, err)
	if got := fmt.Sprintf("%s-%d", si.PrimaryAlias.GetCell(), si.PrimaryAlias.GetUid()); got != primary {
		t.Fatalf("Vitess reads the shard's primary as %s, want %s", got, primary)
	}
	if si.PrimaryTermStartTime == nil {
		t.Fatal("the shard record has no primary_term_start_time")
	}
	tablets, err := vts.GetTabletMapForShard(ctx, "commerce", "0")
	ok(t, err)
	if len(tablets) != 4 {
		t.Fatalf("Vitess finds %d tablets of the shard, want 4", len(tablets))
	}
	primaries := 0
	for alias, ti := range tablets {
		if ti.Type == topodatapb.TabletType_PRIMARY {
			primaries++
			if !proto.Equal(ti.PrimaryTermStartTime, si.PrimaryTermStartTime) {
				t.Errorf("PRIMARY %s has term %v, the shard %v", alias, ti.PrimaryTermStartTime, si.PrimaryTermStartTime)
			}
		} else if ti.PrimaryTermStartTime != nil {
			t.Errorf("%s (%s) keeps a primary term", alias, ti.Type)
		}
		p, err := topotools.GetShardPrimaryForTablet(ctx, vts, ti.Tablet)
		if err != nil {
			t.Errorf("topotools.GetShardPrimaryForTablet(%s): %v", alias, err)
		} else if fmt.Sprintf("%s-%d", p.Alias.Cell, p.Alias.Uid) != primary {
			t.Errorf("topotools.GetShardPrimaryForTablet(%s) = %s", alias, topoproto.TabletAliasString(p.Alias))
		}
	}
	if primaries != 1 {
		t.Fatalf("%d tablets claim PRIMARY", primaries)
	}
	for _, cell := range []string{"zone1", "zone2"} {
		sr, err := vts.GetShardReplication(ctx, cell, "commerce", "0")
		ok(t, err)
		if len(sr.Nodes) != 2 {
			t.Errorf("ShardReplication of %s lists %d tablets, want 2", cell, len(sr.Nodes))
		}
	}
	// The reparent released Vitess's shard lock.
	lctx, unlock, err := vts.LockShard(ctx, "commerce", "0", "interop check")
	ok(t, err)
	var uerr error
	unlock(&uerr)
	ok(t, uerr)
	_ = lctx
}

func waitUntil(t *testing.T, ctx context.Context, what string, cond func() bool) {
	t.Helper()
	for !cond() {
		select {
		case <-ctx.Done():
			t.Fatalf("timed out waiting for %s", what)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

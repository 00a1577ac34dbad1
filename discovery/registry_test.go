package discovery

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"testing"
	"time"

	topodatapb "vitess.io/vitess/go/vt/proto/topodata"

	"github.com/vtdirect/vtdirect/tabletserver"
	"github.com/vtdirect/vtdirect/topo"
	"github.com/vtdirect/vtdirect/topo/memorytopo"
)

func testTopo(t *testing.T) (*topo.Server, *memorytopo.Store) {
	t.Helper()
	ctx := t.Context()
	ts, store, err := memorytopo.NewServer(ctx, "zone1", "zone2")
	if err != nil {
		t.Fatal(err)
	}
	if err := ts.CreateKeyspace(ctx, "commerce", &topodatapb.Keyspace{}); err != nil {
		t.Fatal(err)
	}
	if err := ts.CreateShard(ctx, "commerce", "0"); err != nil {
		t.Fatal(err)
	}
	return ts, store
}

func tablet(cell string, uid uint32, tt topodatapb.TabletType) *topodatapb.Tablet {
	return &topodatapb.Tablet{
		Alias:    &topodatapb.TabletAlias{Cell: cell, Uid: uid},
		Hostname: "127.0.0.1", MysqlHostname: "127.0.0.1", MysqlPort: 1, // nothing listens: probes fail fast
		Keyspace: "commerce", Shard: "0", Type: tt,
	}
}

func startRegistry(t *testing.T, ts Topo, cfg Config) *Registry {
	t.Helper()
	cfg.TabletServer = tabletserver.Config{User: "u", HealthInterval: time.Hour, ConnectTimeout: 100 * time.Millisecond}
	if cfg.RefreshInterval == 0 {
		cfg.RefreshInterval = 20 * time.Millisecond
	}
	r, err := New(cfg, ts, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	r.Start(t.Context())
	t.Cleanup(r.Close)
	return r
}

// waitSnapshot waits until cond holds for a published snapshot.
func waitSnapshot(t *testing.T, r *Registry, what string, cond func(*Snapshot) bool) *Snapshot {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	for {
		changed := r.Changed()
		if s := r.Snapshot(); cond(s) {
			return s
		}
		select {
		case <-ctx.Done():
			t.Fatalf("timed out waiting for %s", what)
		case <-changed:
		}
	}
}

func aliases(s *Snapshot) []string {
	var out []string
	for _, t := range s.Tablets() {
		out = append(out, t.Alias)
	}
	return out
}

func TestRegistryFollowsTablets(t *testing.T) {
	ts, _ := testTopo(t)
	ctx := t.Context()
	if err := ts.CreateTablet(ctx, tablet("zone1", 100, topodatapb.TabletType_PRIMARY)); err != nil {
		t.Fatal(err)
	}
	r := startRegistry(t, ts, Config{})
	s := waitSnapshot(t, r, "the first tablet", func(s *Snapshot) bool { return len(s.Tablets()) == 1 })
	if !s.HasKeyspace("commerce") || s.Shard("commerce", "0").Primary == nil {
		t.Fatalf("snapshot lacks the keyspace or the primary: %+v", s)
	}
	first := s.Tablets()[0].Server

	if err := ts.CreateTablet(ctx, tablet("zone2", 200, topodatapb.TabletType_REPLICA)); err != nil {
		t.Fatal(err)
	}
	s = waitSnapshot(t, r, "the added tablet", func(s *Snapshot) bool { return len(s.Tablets()) == 2 })
	if got := aliases(s); got[0] != "zone1-0000000100" || got[1] != "zone2-0000000200" {
		t.Fatalf("tablets %v", got)
	}
	if s.Tablets()[0].Server != first {
		t.Fatal("an unrelated change restarted the first tablet's server")
	}
	if err := ts.DeleteTablet(ctx, &topodatapb.TabletAlias{Cell: "zone2", Uid: 200}); err != nil {
		t.Fatal(err)
	}
	waitSnapshot(t, r, "the removal", func(s *Snapshot) bool { return len(s.Tablets()) == 1 })
}

func TestRegistryKeyspaceAndCellFilters(t *testing.T) {
	ts, _ := testTopo(t)
	ctx := t.Context()
	for _, tb := range []*topodatapb.Tablet{tablet("zone1", 100, topodatapb.TabletType_PRIMARY), tablet("zone2", 200, topodatapb.TabletType_REPLICA)} {
		if err := ts.CreateTablet(ctx, tb); err != nil {
			t.Fatal(err)
		}
	}
	r := startRegistry(t, ts, Config{Cells: []string{"zone2"}})
	s := waitSnapshot(t, r, "zone2's tablet", func(s *Snapshot) bool { return len(s.Tablets()) == 1 })
	if s.Tablets()[0].Cell != "zone2" {
		t.Fatalf("watching zone2 only, got %v", aliases(s))
	}
	r2 := startRegistry(t, ts, Config{Keyspaces: []string{"other"}})
	// The first refresh, then the cell watchers' first lists (maybe in one rebuild).
	s = waitSnapshot(t, r2, "the watches", func(s *Snapshot) bool { return s.Generation > 1 })
	if len(s.Tablets()) != 0 || s.HasKeyspace("commerce") {
		t.Fatalf("keyspace filter let through %v / %v", aliases(s), s.Keyspaces)
	}
}

// TestRegistryKeepsServingWhenTopoIsDown: with the topo unreachable the registry keeps the
// tablets it has, reports the error, and catches up once the topo is back.
func TestRegistryKeepsServingWhenTopoIsDown(t *testing.T) {
	ts, store := testTopo(t)
	ctx := t.Context()
	if err := ts.CreateTablet(ctx, tablet("zone1", 100, topodatapb.TabletType_PRIMARY)); err != nil {
		t.Fatal(err)
	}
	r := startRegistry(t, ts, Config{})
	waitSnapshot(t, r, "the tablet", func(s *Snapshot) bool { return len(s.Tablets()) == 1 })
	down := errors.New("topo server unreachable")
	store.SetError(down)
	s := waitSnapshot(t, r, "the topo error", func(s *Snapshot) bool { return s.TopoErr != nil })
	if !errors.Is(s.TopoErr, down) || len(s.Tablets()) != 1 || !s.HasKeyspace("commerce") {
		t.Fatalf("while the topo is down: err %v, tablets %v, keyspaces %v", s.TopoErr, aliases(s), s.Keyspaces)
	}
	store.SetError(nil)
	if err := ts.CreateTablet(ctx, tablet("zone1", 101, topodatapb.TabletType_REPLICA)); err != nil {
		t.Fatal(err)
	}
	waitSnapshot(t, r, "catching up", func(s *Snapshot) bool { return s.TopoErr == nil && len(s.Tablets()) == 2 })
}

package discovery

import (
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	topodatapb "vitess.io/vitess/go/vt/proto/topodata"

	"github.com/vtdirect/vtdirect/picker"
	"github.com/vtdirect/vtdirect/tabletserver"
)

// schemaRegistry is a registry of n schemas, each a primary on one MySQL server and a
// replica on another (2n tablets, two backends), not started: nothing watches a topo. The
// servers listen nowhere: their probes fail at once, once (the interval is an hour).
func schemaRegistry(tb testing.TB, n int) *Registry {
	tb.Helper()
	r, err := New(Config{TabletServer: tabletserver.Config{User: "u", HealthInterval: time.Hour, ConnectTimeout: 100 * time.Millisecond}},
		nil, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		tb.Fatal(err)
	}
	r.mu.Lock()
	for i := range n {
		ks := fmt.Sprintf("ks%05d", i)
		for j, typ := range []topodatapb.TabletType{topodatapb.TabletType_PRIMARY, topodatapb.TabletType_REPLICA} {
			r.upsertLocked(&topodatapb.Tablet{
				Alias:    &topodatapb.TabletAlias{Cell: fmt.Sprintf("zone%d", j+1), Uid: uint32(100000*(j+1) + i)},
				Keyspace: ks, Shard: "0", Type: typ, MysqlHostname: "127.0.0.1", MysqlPort: int32(1 + j),
			})
		}
	}
	r.publishLocked()
	r.mu.Unlock()
	tb.Cleanup(r.Close)
	return r
}

// BenchmarkHealthChange is what the registry does when one tablet's health changes: with
// 20,000 tablets (10,000 schemas on two servers) it publishes a snapshot in which only that
// tablet's shard differs. BenchmarkRebuild is the full rebuild a topology change costs.
func BenchmarkHealthChange(b *testing.B) {
	r := schemaRegistry(b, 10000)
	alias := r.Snapshot().Tablets()[12345].Alias
	changed := []string{alias}
	b.ReportAllocs()
	for b.Loop() {
		r.mu.Lock()
		r.publishHealthLocked(changed)
		r.mu.Unlock()
	}
}

func BenchmarkRebuild(b *testing.B) {
	r := schemaRegistry(b, 10000)
	b.ReportAllocs()
	for b.Loop() {
		r.mu.Lock()
		r.publishLocked()
		r.mu.Unlock()
	}
}

// TestHealthChangeKeepsTopology: a health update shares the topology and picks up the new
// health; a rebuild still follows a topology change.
func TestHealthChangeKeepsTopology(t *testing.T) {
	r := schemaRegistry(t, 100)
	before := r.Snapshot()
	alias := before.Tablets()[7].Alias
	r.mu.Lock()
	r.publishHealthLocked([]string{alias})
	r.mu.Unlock()
	after := r.Snapshot()
	if after.Generation != before.Generation+1 || len(after.Tablets()) != 200 || &after.Tablets()[0] != &before.Tablets()[0] {
		t.Fatalf("generation %d → %d, %d tablets, topology shared %v", before.Generation, after.Generation, len(after.Tablets()),
			&after.Tablets()[0] == &before.Tablets()[0])
	}
	if len(r.Backends().All()) != 2 {
		t.Errorf("%d backends for 200 tablets on two servers", len(r.Backends().All()))
	}
	// Each shard's ref points at it in the picker's table, before and after the change (a
	// pick through Snapshot.Pick needs no lookup by name).
	for _, snap := range []*Snapshot{before, after} {
		for _, ks := range snap.Keyspaces {
			for _, sh := range snap.Shards(ks) {
				if ref, ok := snap.Picker.ShardRef(sh.Keyspace, sh.Name); !ok || ref != sh.ref {
					t.Fatalf("generation %d: %s/%s has ref %v, the picker %v (%v)", snap.Generation, sh.Keyspace, sh.Name, sh.ref, ref, ok)
				}
			}
		}
	}
}

// servingSnapshot is r's snapshot with every tablet healthy in its picker view (the
// registry's servers listen nowhere), after 1,000 health changes published as the registry
// publishes them: the picks read a derived shard table, not a fresh one.
func servingSnapshot(r *Registry) *Snapshot {
	snap := *r.Snapshot()
	infos := make([]picker.TabletInfo, 0, len(snap.tablets))
	for _, t := range snap.tablets {
		infos = append(infos, picker.TabletInfo{Tablet: t.Record, Reachable: true, Serving: true, Ref: t})
	}
	snap.Picker = picker.NewSnapshot(infos, picker.Topology{Cells: []string{"zone1", "zone2"}})
	shards := make(map[string][]*Shard, len(snap.shards))
	for ks, list := range snap.shards {
		for _, sh := range list {
			c := *sh
			c.ref, _ = snap.Picker.ShardRef(c.Keyspace, c.Name)
			shards[ks] = append(shards[ks], &c)
		}
	}
	snap.shards = shards
	for i := range 1000 {
		info := infos[(i*7919)%len(infos)]
		info.Lag = time.Duration(i) * time.Millisecond
		snap.Picker = snap.Picker.Update(info)
	}
	return &snap
}

// pickLikeRouter is the router's pick of a keyspace's tablet: its shard, the picker's choice,
// the registry's tablet for it.
func pickLikeRouter(b *testing.B, snap *Snapshot, ks string, c *picker.Criteria, rnd picker.Rand) {
	shards := snap.Shards(ks)
	if len(shards) != 1 {
		b.Fatalf("%s: %d shards", ks, len(shards))
	}
	info, err := snap.Pick(shards[0], c, rnd)
	if err != nil {
		b.Fatal(err)
	}
	if snap.Picked(info) == nil {
		b.Fatal("picked a tablet the snapshot does not have")
	}
}

// BenchmarkPickSchemas: the router's pick of a random schema's replica or primary among
// 20,000 tablets (10,000 schemas on two servers); parallel: every core picks while another
// goroutine publishes a health change every 100 µs.
func BenchmarkPickSchemas(b *testing.B) {
	r := schemaRegistry(b, 10000)
	snap := servingSnapshot(r)
	names := make([]string, 10000)
	for i := range names {
		names[i] = fmt.Sprintf("ks%05d", i)
	}
	for _, tt := range []string{"REPLICA", "PRIMARY"} {
		c, err := picker.Compile(picker.Options{LocalCell: "zone2", TabletTypes: tt}) // the replicas' cell
		if err != nil {
			b.Fatal(err)
		}
		b.Run(strings.ToLower(tt), func(b *testing.B) {
			rnd := rand.New(rand.NewPCG(1, 2))
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				pickLikeRouter(b, snap, names[i%len(names)], c, rnd)
				i += 7919
			}
		})
		b.Run(strings.ToLower(tt)+"/parallel_with_health_changes", func(b *testing.B) {
			var cur atomic.Pointer[Snapshot]
			cur.Store(snap)
			stop, done := make(chan struct{}), make(chan struct{})
			go func() {
				defer close(done)
				tk := time.NewTicker(100 * time.Microsecond)
				defer tk.Stop()
				for i := 0; ; i++ {
					select {
					case <-stop:
						return
					case <-tk.C:
					}
					next := *cur.Load()
					t := next.tablets[(i*104729)%len(next.tablets)]
					next.Picker = next.Picker.Update(picker.TabletInfo{Tablet: t.Record, Reachable: true, Serving: true, Lag: time.Duration(i), Ref: t})
					cur.Store(&next)
				}
			}()
			b.ReportAllocs()
			var seed atomic.Uint64
			b.RunParallel(func(pb *testing.PB) {
				s := seed.Add(1)
				rnd := rand.New(rand.NewPCG(s, s))
				i := int(s)
				for pb.Next() {
					pickLikeRouter(b, cur.Load(), names[i%len(names)], c, rnd)
					i += 7919
				}
			})
			close(stop)
			<-done
		})
	}
}

package discovery

import (
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	topodatapb "vitess.io/vitess/go/vt/proto/topodata"

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
}

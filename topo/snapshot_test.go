package topo_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/vtdirect/vtdirect/topo/memorytopo"
	topodatapb "vitess.io/vitess/go/vt/proto/topodata"
)

func TestSnapshot(t *testing.T) {
	ctx := context.Background()
	ts, _, err := memorytopo.NewServer(ctx, "zone1", "zone2")
	ok(t, err)
	defer ts.Close()
	setupCommerce(t, ctx, ts)
	// A tablet whose shard is gone, and a corrupt shard record.
	ok(t, ts.CreateKeyspace(ctx, "old", nil))
	ok(t, ts.CreateShard(ctx, "old", "0"))
	ok(t, ts.CreateTablet(ctx, tablet(t, "zone2-900", "old", "0", topodatapb.TabletType_REPLICA, 1)))
	_, err = ts.GlobalConn().Update(ctx, "keyspaces/old/shards/0/Shard", []byte("junk"), nil)
	ok(t, err)
	ok(t, ts.GlobalConn().Delete(ctx, "keyspaces/old/shards/0/Shard", nil))
	ok(t, ts.CreateKeyspace(ctx, "broken", nil))
	ok(t, ts.CreateShard(ctx, "broken", "0"))
	_, err = ts.GlobalConn().Update(ctx, "keyspaces/broken/shards/0/Shard", []byte("junk"), nil)
	ok(t, err)

	snap, err := ts.Snapshot(ctx)
	ok(t, err)
	var tree strings.Builder
	ok(t, snap.WriteTree(&tree))
	for _, want := range []string{
		"zone1  server memory  root /vitess/zone1  (2 tablets)",
		"region1: zone1, zone2",
		"shard 0  (primary zone1-0000000100, serving)",
		"      zone2-0000000201  RDONLY   127.0.0.1:17201\n",
		"tablets of unknown shards:\n  zone2-0000000900  REPLICA  127.0.0.1:1  old/0",
		"problems:\n  topo: /vitess/global/keyspaces/broken/shards/0/Shard: corrupt record",
	} {
		if !strings.Contains(tree.String(), want) {
			t.Errorf("tree lacks %q:\n%s", want, tree.String())
		}
	}
	b, err := json.Marshal(snap)
	ok(t, err)
	var back struct {
		Cells []struct {
			Tablets []struct {
				Type  string `json:"type"`
				Alias struct {
					Cell string `json:"cell"`
				} `json:"alias"`
			} `json:"tablets"`
		} `json:"cells"`
		Problems []string `json:"problems"`
	}
	ok(t, json.Unmarshal(b, &back))
	if len(back.Cells) != 2 || back.Cells[0].Tablets[0].Type != "PRIMARY" || len(back.Problems) != 1 {
		t.Fatalf("json = %s", b)
	}
}

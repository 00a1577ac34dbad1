package topo_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vtdirect/vtdirect/topo"
	"github.com/vtdirect/vtdirect/topo/consultopo"
	"github.com/vtdirect/vtdirect/topo/consultopo/consultest"
	"github.com/vtdirect/vtdirect/topo/memorytopo"
	topodatapb "vitess.io/vitess/go/vt/proto/topodata"
)

// backends runs fn against a Server on memory, on a real etcd and on a real Consul agent.
func backends(t *testing.T, fn func(t *testing.T, ctx context.Context, ts *topo.Server)) {
	t.Run("memory", func(t *testing.T) {
		ctx := testCtx(t)
		ts, _, err := memorytopo.NewServer(ctx, "zone1", "zone2")
		if err != nil {
			t.Fatal(err)
		}
		defer ts.Close()
		fn(t, ctx, ts)
	})
	t.Run("etcd", func(t *testing.T) {
		ctx := testCtx(t)
		e := startEtcd(t)
		ts, err := topo.Open(ctx, "etcd2", e.Endpoint(), "/vitess/global")
		if err != nil {
			t.Fatal(err)
		}
		defer ts.Close()
		for _, cell := range []string{"zone1", "zone2"} {
			if err := ts.CreateCellInfo(ctx, cell, &topodatapb.CellInfo{ServerAddress: e.Endpoint(), Root: "/vitess/" + cell}); err != nil {
				t.Fatal(err)
			}
		}
		fn(t, ctx, ts)
	})
	t.Run("consul", func(t *testing.T) {
		ctx := testCtx(t)
		a := consultest.Start(t, consultest.Options{})
		ts, err := consultopo.Open(ctx, a.Addr(), "vitess/global")
		if err != nil {
			t.Fatal(err)
		}
		defer ts.Close()
		for _, cell := range []string{"zone1", "zone2"} {
			if err := ts.CreateCellInfo(ctx, cell, &topodatapb.CellInfo{ServerAddress: a.Addr(), Root: "vitess/" + cell}); err != nil {
				t.Fatal(err)
			}
		}
		fn(t, ctx, ts)
	})
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func ok(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func alias(t *testing.T, s string) *topodatapb.TabletAlias {
	t.Helper()
	a, err := topo.ParseTabletAlias(s)
	ok(t, err)
	return a
}

func tablet(t *testing.T, a, ks, shard string, typ topodatapb.TabletType, port int32) *topodatapb.Tablet {
	return &topodatapb.Tablet{
		Alias: alias(t, a), Keyspace: ks, Shard: shard, Type: typ,
		Hostname: "127.0.0.1", MysqlHostname: "127.0.0.1", MysqlPort: port,
	}
}

func aliasStrings(ts []*topodatapb.Tablet) []string {
	var out []string
	for _, t := range ts {
		out = append(out, topo.TabletAliasString(t.Alias))
	}
	return out
}

// setupCommerce writes the demo topology: commerce/0 with four tablets in two cells.
func setupCommerce(t *testing.T, ctx context.Context, ts *topo.Server) {
	ok(t, ts.CreateCellsAlias(ctx, "region1", &topodatapb.CellsAlias{Cells: []string{"zone1", "zone2"}}))
	ok(t, ts.CreateKeyspace(ctx, "commerce", nil))
	ok(t, ts.CreateShard(ctx, "commerce", "0"))
	for _, tb := range []*topodatapb.Tablet{
		tablet(t, "zone1-100", "commerce", "0", topodatapb.TabletType_PRIMARY, 17100),
		tablet(t, "zone1-101", "commerce", "0", topodatapb.TabletType_REPLICA, 17101),
		tablet(t, "zone2-200", "commerce", "0", topodatapb.TabletType_REPLICA, 17200),
		tablet(t, "zone2-201", "commerce", "0", topodatapb.TabletType_RDONLY, 17201),
	} {
		ok(t, ts.CreateTablet(ctx, tb))
	}
	ok(t, ts.SetShardPrimary(ctx, "commerce", "0", alias(t, "zone1-100"), time.Unix(1700000000, 5)))
}

func TestServerRecords(t *testing.T) {
	backends(t, func(t *testing.T, ctx context.Context, ts *topo.Server) {
		setupCommerce(t, ctx, ts)

		cells, err := ts.ListCells(ctx)
		if err != nil || !slices.Equal(cells, []string{"zone1", "zone2"}) {
			t.Fatalf("ListCells = %v, %v", cells, err)
		}
		ca, err := ts.GetCellsAlias(ctx, "region1")
		if err != nil || !slices.Equal(ca.Cells, []string{"zone1", "zone2"}) {
			t.Fatalf("GetCellsAlias = %v, %v", ca, err)
		}
		kss, err := ts.ListKeyspaces(ctx)
		if err != nil || !slices.Equal(kss, []string{"commerce"}) {
			t.Fatalf("ListKeyspaces = %v, %v", kss, err)
		}
		if _, err := ts.GetVSchema(ctx, "commerce"); err != nil {
			t.Fatalf("GetVSchema: %v", err)
		}
		si, err := ts.GetShard(ctx, "commerce", "0")
		if err != nil || topo.TabletAliasString(si.PrimaryAlias) != "zone1-0000000100" || !si.IsPrimaryServing ||
			si.PrimaryTermStartTime.GetSeconds() != 1700000000 {
			t.Fatalf("GetShard = %v, %v", si, err)
		}
		got, err := ts.ListTablets(ctx, "zone2")
		if err != nil || !slices.Equal(aliasStrings(got), []string{"zone2-0000000200", "zone2-0000000201"}) {
			t.Fatalf("ListTablets(zone2) = %v, %v", aliasStrings(got), err)
		}
		got, err = ts.GetTabletsByShard(ctx, "commerce", "0")
		want := []string{"zone1-0000000100", "zone1-0000000101", "zone2-0000000200", "zone2-0000000201"}
		if err != nil || !slices.Equal(aliasStrings(got), want) {
			t.Fatalf("GetTabletsByShard = %v, %v", aliasStrings(got), err)
		}
		sr, err := ts.GetShardReplication(ctx, "zone1", "commerce", "0")
		if err != nil || len(sr.Nodes) != 2 {
			t.Fatalf("ShardReplication(zone1) = %v, %v", sr, err)
		}

		// Removing a tablet removes it from ShardReplication.
		ok(t, ts.DeleteTablet(ctx, alias(t, "zone1-101")))
		if _, err := ts.GetTablet(ctx, alias(t, "zone1-101")); !errors.Is(err, topo.ErrNoNode) {
			t.Fatalf("GetTablet after delete = %v", err)
		}
		sr, err = ts.GetShardReplication(ctx, "zone1", "commerce", "0")
		if err != nil || len(sr.Nodes) != 1 || sr.Nodes[0].TabletAlias.Uid != 100 {
			t.Fatalf("ShardReplication after delete = %v, %v", sr, err)
		}

		// Updates keep identity fields.
		tb, err := ts.UpdateTabletFields(ctx, alias(t, "zone2-200"), func(tb *topodatapb.Tablet) error {
			tb.Type = topodatapb.TabletType_RDONLY
			return nil
		})
		if err != nil || tb.Type != topodatapb.TabletType_RDONLY {
			t.Fatalf("UpdateTabletFields = %v, %v", tb, err)
		}
		_, err = ts.UpdateTabletFields(ctx, alias(t, "zone2-200"), func(tb *topodatapb.Tablet) error {
			tb.Shard = "-80"
			return nil
		})
		if !errors.Is(err, topo.ErrInvalid) {
			t.Fatalf("changing the shard of a tablet = %v, want ErrInvalid", err)
		}
	})
}

func TestServerRefusals(t *testing.T) {
	backends(t, func(t *testing.T, ctx context.Context, ts *topo.Server) {
		setupCommerce(t, ctx, ts)
		for _, tc := range []struct {
			name string
			err  error
			want error  // errors.Is target, or nil
			says string // substring of the message
		}{
			{"duplicate cell", ts.CreateCellInfo(ctx, "zone1", &topodatapb.CellInfo{ServerAddress: "x", Root: "/x"}), topo.ErrNodeExists, "remove-cell"},
			{"cell without root", ts.CreateCellInfo(ctx, "zone3", &topodatapb.CellInfo{ServerAddress: "x"}), topo.ErrInvalid, "root"},
			{"reserved cell name", ts.CreateCellInfo(ctx, "global", &topodatapb.CellInfo{ServerAddress: "x", Root: "/x"}), topo.ErrInvalid, "reserved"},
			{"alias of unknown cell", ts.CreateCellsAlias(ctx, "r2", &topodatapb.CellsAlias{Cells: []string{"zone9"}}), topo.ErrNoNode, "add-cell zone9"},
			{"overlapping alias", ts.CreateCellsAlias(ctx, "r2", &topodatapb.CellsAlias{Cells: []string{"zone1"}}), topo.ErrInvalid, "region1"},
			{"alias named like a cell", ts.CreateCellsAlias(ctx, "zone1", &topodatapb.CellsAlias{Cells: []string{"zone2"}}), topo.ErrInvalid, "name of a cell"},
			{"empty alias", ts.CreateCellsAlias(ctx, "r3", &topodatapb.CellsAlias{}), topo.ErrInvalid, "--cells"},
			{"cell in alias", ts.DeleteCellInfo(ctx, "zone1", false), nil, "remove-cell-alias region1"},
			{"duplicate keyspace", ts.CreateKeyspace(ctx, "commerce", nil), topo.ErrNodeExists, "commerce"},
			{"bad keyspace name", ts.CreateKeyspace(ctx, "com/merce", nil), topo.ErrInvalid, "com/merce"},
			{"shard of unknown keyspace", ts.CreateShard(ctx, "nope", "0"), topo.ErrNoNode, "add-keyspace nope"},
			{"bad shard range", ts.CreateShard(ctx, "commerce", "80-40"), topo.ErrInvalid, "below"},
			{"keyspace with shards", ts.DeleteKeyspace(ctx, "commerce"), nil, "remove-shard commerce/0"},
			{"shard with tablets", ts.DeleteShard(ctx, "commerce", "0"), nil, "remove-tablet"},
			{"tablet of unknown shard", ts.CreateTablet(ctx, tablet(t, "zone1-300", "commerce", "-80", topodatapb.TabletType_REPLICA, 1)), topo.ErrNoNode, "add-shard commerce/-80"},
			{"tablet of unknown cell", ts.CreateTablet(ctx, tablet(t, "zone9-300", "commerce", "0", topodatapb.TabletType_REPLICA, 1)), topo.ErrNoNode, "add-cell zone9"},
			{"duplicate tablet", ts.CreateTablet(ctx, tablet(t, "zone1-100", "commerce", "0", topodatapb.TabletType_REPLICA, 1)), topo.ErrNodeExists, "zone1-0000000100"},
			{"delete missing tablet", ts.DeleteTablet(ctx, alias(t, "zone1-999")), topo.ErrNoNode, "zone1-0000000999"},
		} {
			if tc.err == nil {
				t.Errorf("%s: no error", tc.name)
				continue
			}
			if tc.want != nil && !errors.Is(tc.err, tc.want) {
				t.Errorf("%s: %v, want %v", tc.name, tc.err, tc.want)
			}
			if !strings.Contains(tc.err.Error(), tc.says) {
				t.Errorf("%s: %q does not say %q", tc.name, tc.err, tc.says)
			}
		}

		// Tear down in the right order works.
		for _, a := range []string{"zone1-100", "zone1-101", "zone2-200", "zone2-201"} {
			ok(t, ts.DeleteTablet(ctx, alias(t, a)))
		}
		ok(t, ts.DeleteShard(ctx, "commerce", "0"))
		ok(t, ts.DeleteKeyspace(ctx, "commerce"))
		ok(t, ts.DeleteCellsAlias(ctx, "region1"))
		ok(t, ts.DeleteCellInfo(ctx, "zone2", false))
		kss, err := ts.ListKeyspaces(ctx)
		if err != nil || len(kss) != 0 {
			t.Fatalf("keyspaces left: %v, %v", kss, err)
		}
		if _, err := ts.GetShardReplication(ctx, "zone1", "commerce", "0"); !errors.Is(err, topo.ErrNoNode) {
			t.Fatalf("ShardReplication left behind: %v", err)
		}
	})
}

func TestShardServing(t *testing.T) {
	ctx := testCtx(t)
	ts, _, err := memorytopo.NewServer(ctx, "zone1")
	ok(t, err)
	defer ts.Close()
	ok(t, ts.CreateKeyspace(ctx, "customer", nil))
	for _, tc := range []struct {
		shard   string
		serving bool
		start   string
	}{
		{"-80", true, ""},
		{"80-", true, "\x80"},
		{"40-c0", false, "\x40"}, // overlaps both
	} {
		ok(t, ts.CreateShard(ctx, "customer", tc.shard))
		si, err := ts.GetShard(ctx, "customer", tc.shard)
		ok(t, err)
		if si.IsPrimaryServing != tc.serving || string(si.KeyRange.GetStart()) != tc.start {
			t.Errorf("shard %s: serving %v range %x, want %v %x", tc.shard, si.IsPrimaryServing, si.KeyRange.GetStart(), tc.serving, tc.start)
		}
	}
}

// TestCellConnFollowsCellInfo: a cell moved to another root is reopened there.
func TestCellConnFollowsCellInfo(t *testing.T) {
	ctx := testCtx(t)
	ts, store, err := memorytopo.NewServer(ctx, "zone1")
	ok(t, err)
	defer ts.Close()
	ok(t, ts.CreateKeyspace(ctx, "ks", nil))
	ok(t, ts.CreateShard(ctx, "ks", "0"))
	ok(t, ts.CreateTablet(ctx, tablet(t, "zone1-1", "ks", "0", topodatapb.TabletType_PRIMARY, 1)))
	ok(t, ts.DeleteCellInfo(ctx, "zone1", true))
	ok(t, ts.CreateCellInfo(ctx, "zone1", &topodatapb.CellInfo{ServerAddress: "memory", Root: "/elsewhere"}))
	got, err := ts.ListTablets(ctx, "zone1")
	if err != nil || len(got) != 0 {
		t.Fatalf("tablets at the new root: %v, %v", got, err)
	}
	if _, _, err := store.Conn("/vitess/zone1").Get(ctx, "tablets/zone1-0000000001/Tablet"); err != nil {
		t.Fatalf("old root lost its tablet: %v", err)
	}
}

package interop

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/vtdirect/vtdirect/local"
	"github.com/vtdirect/vtdirect/topo"
	"github.com/vtdirect/vtdirect/topo/consultopo"
	"github.com/vtdirect/vtdirect/topo/consultopo/consultest"
	"google.golang.org/protobuf/proto"
	topodatapb "vitess.io/vitess/go/vt/proto/topodata"
	vschemapb "vitess.io/vitess/go/vt/proto/vschema"
	vtopo "vitess.io/vitess/go/vt/topo"
	_ "vitess.io/vitess/go/vt/topo/consultopo" // registers "consul"
	_ "vitess.io/vitess/go/vt/topo/etcd2topo"  // registers "etcd2"
	"vitess.io/vitess/go/vt/topo/topoproto"
)

// env is one topo server that Vitess's topo code (vts) and ours (ts) both use, with the roots
// each backend's users write: "/vitess/<cell>" on etcd, "vitess/<cell>" on Consul (Vitess's
// consul backend writes keys with a leading '/' root verbatim in transactions, so Consul users
// give roots without it).
type env struct {
	ctx  context.Context
	impl string // Vitess's implementation name: etcd2, consul
	addr string
	vts  *vtopo.Server // Vitess's
	ts   *topo.Server  // ours
}

// root is the root of cell (or "global") on this env's backend.
func (e *env) root(cell string) string {
	if e.impl == consultopo.Impl {
		return "vitess/" + cell
	}
	return "/vitess/" + cell
}

// backends runs fn once on a real etcd and once on a real Consul agent.
func backends(t *testing.T, fn func(t *testing.T, e *env)) {
	for _, impl := range []string{"etcd2", consultopo.Impl} {
		t.Run(impl, func(t *testing.T) { fn(t, setup(t, impl)) })
	}
}

func setup(t *testing.T, impl string) *env {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	t.Cleanup(cancel)
	e := &env{ctx: ctx, impl: impl}
	var err error
	switch impl {
	case consultopo.Impl:
		a := consultest.Start(t, consultest.Options{})
		e.addr = a.Addr()
		e.ts, err = consultopo.Open(ctx, e.addr, e.root("global"))
	default:
		etcd, err := local.StartEtcd(t.TempDir(), 0, 0, nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(etcd.Close)
		e.addr = etcd.Endpoint()
		e.ts, err = topo.Open(ctx, "etcd2", e.addr, e.root("global"))
		if err != nil {
			t.Fatal(err)
		}
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.ts.Close)
	if e.vts, err = vtopo.OpenServer(impl, e.addr, e.root("global")); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.vts.Close)
	return e
}

func ok(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func mkTablet(cell string, uid uint32, typ topodatapb.TabletType, port int32) *topodatapb.Tablet {
	return &topodatapb.Tablet{
		Alias:    &topodatapb.TabletAlias{Cell: cell, Uid: uid},
		Hostname: "127.0.0.1", MysqlHostname: "127.0.0.1", MysqlPort: port,
		Keyspace: "commerce", Shard: "0", Type: typ,
	}
}

// TestVitessWritesVtdirectReads: a topology made by Vitess's topo code reads back whole here,
// and a change Vitess makes shows up in our tablet watch.
func TestVitessWritesVtdirectReads(t *testing.T) { backends(t, testVitessWritesVtdirectReads) }

func testVitessWritesVtdirectReads(t *testing.T, e *env) {
	ctx := e.ctx
	for _, cell := range []string{"zone1", "zone2"} {
		ok(t, e.vts.CreateCellInfo(ctx, cell, &topodatapb.CellInfo{ServerAddress: e.addr, Root: e.root(cell)}))
	}
	ok(t, e.vts.CreateCellsAlias(ctx, "region1", &topodatapb.CellsAlias{Cells: []string{"zone1", "zone2"}}))
	ok(t, e.vts.CreateKeyspace(ctx, "commerce", &topodatapb.Keyspace{DurabilityPolicy: "semi_sync"}))
	ok(t, e.vts.SaveVSchema(ctx, &vtopo.KeyspaceVSchemaInfo{Name: "commerce", Keyspace: &vschemapb.Keyspace{Tables: map[string]*vschemapb.Table{"customer": {}}}}))
	ok(t, e.vts.CreateShard(ctx, "commerce", "0"))
	ok(t, e.vts.CreateKeyspace(ctx, "customer", &topodatapb.Keyspace{}))
	ok(t, e.vts.CreateShard(ctx, "customer", "-80"))
	ok(t, e.vts.CreateShard(ctx, "customer", "80-"))
	for _, tb := range []*topodatapb.Tablet{
		mkTablet("zone1", 100, topodatapb.TabletType_PRIMARY, 17100),
		mkTablet("zone1", 101, topodatapb.TabletType_REPLICA, 17101),
		mkTablet("zone2", 200, topodatapb.TabletType_REPLICA, 17200),
	} {
		ok(t, e.vts.CreateTablet(ctx, tb))
	}
	_, err := e.vts.UpdateShardFields(ctx, "commerce", "0", func(si *vtopo.ShardInfo) error {
		si.PrimaryAlias = &topodatapb.TabletAlias{Cell: "zone1", Uid: 100}
		return nil
	})
	ok(t, err)

	cells, err := e.ts.ListCells(ctx)
	if err != nil || !slices.Equal(cells, []string{"zone1", "zone2"}) {
		t.Fatalf("cells = %v, %v", cells, err)
	}
	ca, err := e.ts.GetCellsAlias(ctx, "region1")
	if err != nil || !slices.Equal(ca.Cells, []string{"zone1", "zone2"}) {
		t.Fatalf("alias = %v, %v", ca, err)
	}
	kss, err := e.ts.ListKeyspaces(ctx)
	if err != nil || !slices.Equal(kss, []string{"commerce", "customer"}) {
		t.Fatalf("keyspaces = %v, %v", kss, err)
	}
	ks, err := e.ts.GetKeyspace(ctx, "commerce")
	if err != nil || ks.DurabilityPolicy != "semi_sync" {
		t.Fatalf("keyspace = %v, %v", ks, err)
	}
	vs, err := e.ts.GetVSchema(ctx, "commerce")
	if err != nil || vs.Tables["customer"] == nil {
		t.Fatalf("vschema = %v, %v", vs, err)
	}
	shards, err := e.ts.ListShards(ctx, "customer")
	if err != nil || !slices.Equal(shards, []string{"-80", "80-"}) {
		t.Fatalf("shards = %v, %v", shards, err)
	}
	for _, sh := range shards {
		ours, err := e.ts.GetShard(ctx, "customer", sh)
		ok(t, err)
		theirs, err := e.vts.GetShard(ctx, "customer", sh)
		ok(t, err)
		if !proto.Equal(ours, theirs.Shard) {
			t.Fatalf("shard %s: ours %v, Vitess %v", sh, ours, theirs.Shard)
		}
		// And our own CreateShard computes the same record.
		_, kr, err := topo.ShardKeyRange(sh)
		ok(t, err)
		if !proto.Equal(kr, theirs.KeyRange) {
			t.Fatalf("key range of %s: ours %v, Vitess %v", sh, kr, theirs.KeyRange)
		}
	}
	si, err := e.ts.GetShard(ctx, "commerce", "0")
	if err != nil || topo.TabletAliasString(si.PrimaryAlias) != "zone1-0000000100" {
		t.Fatalf("shard = %v, %v", si, err)
	}
	got, err := e.ts.GetTabletsByShard(ctx, "commerce", "0")
	ok(t, err)
	var aliases []string
	for _, tb := range got {
		aliases = append(aliases, topo.TabletAliasString(tb.Alias))
	}
	if !slices.Equal(aliases, []string{"zone1-0000000100", "zone1-0000000101", "zone2-0000000200"}) {
		t.Fatalf("tablets of commerce/0 = %v", aliases)
	}

	// Versions are the same numbers on both sides (etcd ModRevision).
	ti, err := e.vts.GetTablet(ctx, &topodatapb.TabletAlias{Cell: "zone1", Uid: 101})
	ok(t, err)
	conn, err := e.ts.CellConn(ctx, "zone1")
	ok(t, err)
	_, v, err := conn.Get(ctx, "tablets/zone1-0000000101/Tablet")
	ok(t, err)
	if v.String() != ti.Version().String() {
		t.Fatalf("version: ours %v, Vitess %v", v, ti.Version())
	}

	// A watch of ours sees Vitess's changes.
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	initial, ch, err := e.ts.WatchTablets(wctx, "zone1")
	if err != nil || len(initial) != 2 {
		t.Fatalf("watch initial = %d tablets, %v", len(initial), err)
	}
	_, err = e.vts.UpdateTabletFields(ctx, &topodatapb.TabletAlias{Cell: "zone1", Uid: 101}, func(tb *topodatapb.Tablet) error {
		tb.Type = topodatapb.TabletType_RDONLY
		return nil
	})
	ok(t, err)
	ok(t, e.vts.DeleteTablet(ctx, &topodatapb.TabletAlias{Cell: "zone1", Uid: 100}))
	for _, want := range []string{"zone1-0000000101 RDONLY", "zone1-0000000100 deleted"} {
		select {
		case c := <-ch:
			got := topo.TabletAliasString(c.Alias) + " deleted"
			if c.Tablet != nil {
				got = topo.TabletAliasString(c.Alias) + " " + c.Tablet.Type.String()
			}
			if c.Err != nil || got != want {
				t.Fatalf("change = %q (%v), want %q", got, c.Err, want)
			}
		case <-ctx.Done():
			t.Fatal("no change seen")
		}
	}
}

// TestVtdirectWritesVitessReads: what our admin code writes is what Vitess's code expects.
func TestVtdirectWritesVitessReads(t *testing.T) { backends(t, testVtdirectWritesVitessReads) }

func testVtdirectWritesVitessReads(t *testing.T, e *env) {
	ctx := e.ctx
	for _, cell := range []string{"zone1", "zone2"} {
		ok(t, e.ts.CreateCellInfo(ctx, cell, &topodatapb.CellInfo{ServerAddress: e.addr, Root: e.root(cell)}))
	}
	ok(t, e.ts.CreateCellsAlias(ctx, "region1", &topodatapb.CellsAlias{Cells: []string{"zone1", "zone2"}}))
	ok(t, e.ts.CreateKeyspace(ctx, "commerce", nil))
	ok(t, e.ts.CreateShard(ctx, "commerce", "0"))
	for _, tb := range []*topodatapb.Tablet{
		mkTablet("zone1", 100, topodatapb.TabletType_PRIMARY, 17100),
		mkTablet("zone1", 101, topodatapb.TabletType_REPLICA, 17101),
		mkTablet("zone2", 200, topodatapb.TabletType_REPLICA, 17200),
		mkTablet("zone2", 201, topodatapb.TabletType_RDONLY, 17201),
	} {
		ok(t, e.ts.CreateTablet(ctx, tb))
	}
	ok(t, e.ts.SetShardPrimary(ctx, "commerce", "0", &topodatapb.TabletAlias{Cell: "zone1", Uid: 100}, time.Unix(1700000000, 0)))

	names, err := e.vts.GetCellInfoNames(ctx)
	if err != nil || !slices.Equal(names, []string{"zone1", "zone2"}) {
		t.Fatalf("Vitess cells = %v, %v", names, err)
	}
	ci, err := e.vts.GetCellInfo(ctx, "zone2", true)
	if err != nil || ci.Root != e.root("zone2") {
		t.Fatalf("Vitess CellInfo = %v, %v", ci, err)
	}
	aliases, err := e.vts.GetCellsAliases(ctx, true)
	if err != nil || !slices.Equal(aliases["region1"].GetCells(), []string{"zone1", "zone2"}) {
		t.Fatalf("Vitess aliases = %v, %v", aliases, err)
	}
	kss, err := e.vts.GetKeyspaces(ctx)
	if err != nil || !slices.Equal(kss, []string{"commerce"}) {
		t.Fatalf("Vitess keyspaces = %v, %v", kss, err)
	}
	if _, err := e.vts.GetVSchema(ctx, "commerce"); err != nil {
		t.Fatalf("Vitess VSchema: %v", err)
	}
	si, err := e.vts.GetShard(ctx, "commerce", "0")
	if err != nil || topoproto.TabletAliasString(si.PrimaryAlias) != "zone1-0000000100" || !si.IsPrimaryServing {
		t.Fatalf("Vitess shard = %v, %v", si, err)
	}
	// Vitess finds tablets through ShardReplication, which CreateTablet kept.
	tis, err := e.vts.GetTabletsByShard(ctx, "commerce", "0")
	if err != nil || len(tis) != 4 {
		t.Fatalf("Vitess tablets of commerce/0 = %d, %v", len(tis), err)
	}
	byCell, err := e.vts.GetTabletAliasesByCell(ctx, "zone2")
	if err != nil || len(byCell) != 2 {
		t.Fatalf("Vitess tablets of zone2 = %v, %v", byCell, err)
	}
	ti, err := e.vts.GetTablet(ctx, &topodatapb.TabletAlias{Cell: "zone2", Uid: 201})
	if err != nil || ti.Type != topodatapb.TabletType_RDONLY || ti.MysqlPort != 17201 {
		t.Fatalf("Vitess tablet = %v, %v", ti, err)
	}

	// Removing a tablet here updates the ShardReplication Vitess reads.
	ok(t, e.ts.DeleteTablet(ctx, &topodatapb.TabletAlias{Cell: "zone2", Uid: 201}))
	sri, err := e.vts.GetShardReplication(ctx, "zone2", "commerce", "0")
	if err != nil || len(sri.Nodes) != 1 || sri.Nodes[0].TabletAlias.Uid != 200 {
		t.Fatalf("Vitess ShardReplication(zone2) = %v, %v", sri, err)
	}
}

package picker

import (
	"fmt"
	"testing"
)

// bigSnapshot has 10,000 tablets in 20 cells (4 aliases of 5) across 1,000
// shards of 10 tablets: one primary, then replicas and rdonlys in
// consecutive cells.
func bigSnapshot(shards int) *Snapshot {
	topo := Topology{CellsAliases: map[string][]string{}}
	for i := range 20 {
		topo.Cells = append(topo.Cells, fmt.Sprintf("zone%d", i+1))
	}
	for a := range 4 {
		topo.CellsAliases[fmt.Sprintf("region%d", a)] = topo.Cells[a*5 : a*5+5]
	}
	tablets := make([]TabletInfo, 0, shards*10)
	uid := uint32(100)
	for s := range shards {
		for j := range 10 {
			typ := replica
			switch {
			case j == 0:
				typ = primary
			case j%3 == 0:
				typ = rdonly
			}
			cell := topo.Cells[(s+j)%20]
			t := tab(fmt.Sprintf("%s-%d", cell, uid), typ, inShard("ks", fmt.Sprintf("s%04d", s)))
			uid++
			tablets = append(tablets, t)
		}
	}
	return NewSnapshot(tablets, topo)
}

// schemaSnapshot is the multi-schema shape: n keyspaces of one shard each, a primary in zone1
// and a replica in zone2 (two MySQL servers hosting every schema).
func schemaSnapshot(n int) *Snapshot {
	tablets := make([]TabletInfo, 0, 2*n)
	for i := range n {
		ks := fmt.Sprintf("ks%05d", i)
		tablets = append(tablets,
			tab(fmt.Sprintf("zone1-%d", 100000+i), primary, inShard(ks, "0")),
			tab(fmt.Sprintf("zone2-%d", 200000+i), replica, inShard(ks, "0")))
	}
	return NewSnapshot(tablets, Topology{Cells: []string{"zone1", "zone2"}, CellsAliases: map[string][]string{"region1": {"zone1", "zone2"}}})
}

func tinySnapshot() *Snapshot {
	return NewSnapshot([]TabletInfo{
		tab("zone1-100", primary), tab("zone1-101", replica),
		tab("zone2-200", replica), tab("zone2-201", rdonly),
	}, Topology{Cells: []string{"zone1", "zone2"}})
}

func benchPick(b *testing.B, snap *Snapshot, shard string, o Options) {
	c := mustCompile(b, o)
	rnd := newTestRand(1)
	if _, err := Pick(snap, "ks", shard, c, rnd); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Pick(snap, "ks", shard, c, rnd); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPickLarge: 10,000 tablets, 20 cells, 1,000 shards; one shard's
// pick must stay under 10µs and allocate nothing.
func BenchmarkPickLarge(b *testing.B) {
	snap := bigSnapshot(1000)
	b.Run("replica/PreferLocalWithAlias", func(b *testing.B) {
		benchPick(b, snap, "s0500", Options{LocalCell: "zone1", Cells: []string{"region2", "zone20"}, TabletTypes: "REPLICA"})
	})
	b.Run("in_order/PreferLocal", func(b *testing.B) {
		benchPick(b, snap, "s0500", Options{LocalCell: "zone3", CellPreference: PreferLocal, Cells: []string{"region0", "region1", "region2", "region3"}, TabletTypes: "in_order:REPLICA,RDONLY"})
	})
	b.Run("default_types/OnlySpecified", func(b *testing.B) {
		benchPick(b, snap, "s0500", Options{CellPreference: OnlySpecified, Cells: []string{"region0", "region1", "region2", "region3"}})
	})
	b.Run("primary", func(b *testing.B) {
		benchPick(b, snap, "s0500", Options{LocalCell: "zone1", TabletTypes: "PRIMARY"})
	})
}

// BenchmarkPickSchemas: 20,000 tablets as 10,000 schemas on two servers; picks of a random
// schema's replica and primary.
func BenchmarkPickSchemas(b *testing.B) {
	snap := schemaSnapshot(10000)
	for _, o := range []struct {
		name string
		opts Options
	}{
		{"replica", Options{LocalCell: "zone1", TabletTypes: "REPLICA"}},
		{"primary", Options{LocalCell: "zone1", TabletTypes: "PRIMARY"}},
	} {
		b.Run(o.name, func(b *testing.B) {
			c := mustCompile(b, o.opts)
			rnd := newTestRand(1)
			names := make([]string, 10000)
			for i := range names {
				names[i] = fmt.Sprintf("ks%05d", i)
			}
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				if _, err := Pick(snap, names[i%len(names)], "0", c, rnd); err != nil {
					b.Fatal(err)
				}
				i += 7919
			}
		})
	}
}

// BenchmarkPickTiny: the local demo's shape (4 tablets, 2 cells), as the
// router picks for each @replica query.
func BenchmarkPickTiny(b *testing.B) {
	snap := tinySnapshot()
	b.Run("replica", func(b *testing.B) {
		benchPick(b, snap, "0", Options{LocalCell: "zone1", Cells: []string{"zone1", "zone2"}, TabletTypes: "REPLICA"})
	})
	b.Run("replica/global_rand", func(b *testing.B) {
		c := mustCompile(b, Options{LocalCell: "zone1", Cells: []string{"zone1", "zone2"}, TabletTypes: "REPLICA,RDONLY"})
		b.ReportAllocs()
		for b.Loop() {
			if _, err := Pick(snap, "ks", "0", c, nil); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("primary", func(b *testing.B) {
		benchPick(b, snap, "0", Options{LocalCell: "zone1", TabletTypes: "PRIMARY"})
	})
}

// BenchmarkNewSnapshot is the registry's cost per change at 10,000 tablets.
func BenchmarkNewSnapshot(b *testing.B) {
	snap := bigSnapshot(1000)
	var tablets []TabletInfo
	for _, ks := range snap.Shards() {
		for _, t := range snap.Tablets(ks.Keyspace, ks.Shard) {
			tablets = append(tablets, *t)
		}
	}
	topo := Topology{CellsAliases: map[string][]string{"region0": {"zone1", "zone2"}}}
	b.ReportAllocs()
	for b.Loop() {
		NewSnapshot(tablets, topo)
	}
}

// TestPickAllocatesNothing: allocation (not time) is independent of the
// snapshot's size, and zero once the cell ranking is cached.
func TestPickAllocatesNothing(t *testing.T) {
	for _, shards := range []int{10, 1000} {
		snap := bigSnapshot(shards)
		for _, o := range []Options{
			{LocalCell: "zone1", Cells: []string{"region2"}, TabletTypes: "REPLICA"},
			{LocalCell: "zone3", TabletTypes: "in_order:REPLICA,RDONLY", CellPreference: PreferLocal, Cells: []string{"region1"}},
			{LocalCell: "zone1", TabletTypes: "PRIMARY"},
		} {
			c := mustCompile(t, o)
			rnd := newTestRand(3)
			allocs := testing.AllocsPerRun(100, func() {
				if _, err := Pick(snap, "ks", "s0005", c, rnd); err != nil {
					t.Fatal(err)
				}
			})
			if allocs != 0 {
				t.Errorf("%d shards, %+v: %v allocs per pick, want 0", shards, o, allocs)
			}
		}
	}
}

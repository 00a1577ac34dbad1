package picker

import (
	"testing"
)

func aliasesOf(ts []*TabletInfo) []string {
	var out []string
	for _, t := range ts {
		out = append(out, AliasOf(t.Tablet.Alias).String())
	}
	return out
}

func TestSnapshotUpdate(t *testing.T) {
	base := NewSnapshot([]TabletInfo{
		tab("zone1-100", primary, term(1)),
		tab("zone1-101", replica),
		tab("zone2-201", replica),
		tab("zone1-300", replica, inShard("ks", "-80")),
	}, testTopo())
	c := mustCompile(t, Options{LocalCell: "zone1", TabletTypes: "REPLICA"})

	t.Run("health change", func(t *testing.T) {
		next := base.Update(tab("zone1-101", replica, unreachable))
		if got, _ := pickedSet(t, next, "ks", "0", c); len(got) != 1 || got[0] != "zone2-201" {
			t.Errorf("after update picked %v, want zone2-201", got)
		}
		if got, _ := pickedSet(t, base, "ks", "0", c); len(got) != 1 || got[0] != "zone1-101" {
			t.Errorf("the old snapshot changed: picked %v", got)
		}
		if next.shards.get(KeyspaceShard{"ks", "-80"}) != base.shards.get(KeyspaceShard{"ks", "-80"}) || next.cellIndex != base.cellIndex {
			t.Error("an unchanged shard or the cells were copied")
		}
	})
	t.Run("reparent", func(t *testing.T) {
		next := base.Update(tab("zone1-100", replica), tab("zone2-201", primary, term(2)))
		if p := next.Primary("ks", "0"); p == nil || AliasOf(p.Tablet.Alias).String() != "zone2-201" {
			t.Errorf("primary after reparent = %v", p)
		}
		if p := base.Primary("ks", "0"); AliasOf(p.Tablet.Alias).String() != "zone1-100" {
			t.Errorf("the old snapshot's primary changed to %v", p)
		}
	})
	t.Run("new tablet rebuilds", func(t *testing.T) {
		next := base.Update(tab("zone1-102", rdonly))
		if got := aliasesOf(next.Tablets("ks", "0")); len(got) != 4 || got[2] != "zone1-102" {
			t.Errorf("tablets after adding = %v", got)
		}
		if next.Len() != 5 || base.Len() != 4 {
			t.Errorf("Len = %d (old %d)", next.Len(), base.Len())
		}
	})
	t.Run("moved tablet rebuilds", func(t *testing.T) {
		next := base.Update(tab("zone1-101", replica, inShard("ks", "-80")))
		if got := aliasesOf(next.Tablets("ks", "0")); len(got) != 2 {
			t.Errorf("ks/0 after the move = %v", got)
		}
		if got := aliasesOf(next.Tablets("ks", "-80")); len(got) != 2 || got[0] != "zone1-101" {
			t.Errorf("ks/-80 after the move = %v", got)
		}
	})
	t.Run("the cell ranking stays cached", func(t *testing.T) {
		if _, err := Pick(base, "ks", "0", c, nil); err != nil {
			t.Fatal(err)
		}
		next := base.Update(tab("zone2-201", replica, lag(1)))
		allocs := testing.AllocsPerRun(10, func() {
			if _, err := Pick(next, "ks", "0", c, nil); err != nil {
				t.Fatal(err)
			}
		})
		if allocs != 0 {
			t.Errorf("%v allocs per pick after Update, want 0", allocs)
		}
	})
}

func TestSnapshotDuplicateAlias(t *testing.T) {
	s := NewSnapshot([]TabletInfo{tab("zone1-101", replica), tab("zone1-101", rdonly), tab("zone1-101", replica, inShard("ks", "-80"))}, testTopo())
	if s.Len() != 1 || len(s.Tablets("ks", "0")) != 0 || len(s.Tablets("ks", "-80")) != 1 {
		t.Errorf("the last entry of a repeated alias should win: len %d, shards %v", s.Len(), s.Shards())
	}
}

// BenchmarkSnapshotUpdate is the cost of publishing one tablet's health change: 10,000 and
// 20,000 tablets in shards of 10, and 20,000 tablets as 10,000 schemas of a primary and a
// replica (the multi-schema shape).
func BenchmarkSnapshotUpdate(b *testing.B) {
	for _, c := range []struct {
		name  string
		snap  *Snapshot
		shard string
	}{
		{"10000_tablets", bigSnapshot(1000), "s0500"},
		{"20000_tablets", bigSnapshot(2000), "s1500"},
		{"20000_tablets_10000_schemas", schemaSnapshot(10000), "0"},
	} {
		b.Run(c.name, func(b *testing.B) {
			ks := "ks"
			if c.shard == "0" {
				ks = "ks05000"
			}
			t := *c.snap.Tablets(ks, c.shard)[1]
			t.Serving = false
			b.ReportAllocs()
			for b.Loop() {
				c.snap.Update(t)
			}
		})
	}
}

// TestSnapshotUpdateShares: an update copies the changed shard's chunk only.
func TestSnapshotUpdateShares(t *testing.T) {
	snap := schemaSnapshot(1000)
	tab := *snap.Tablets("ks00500", "0")[1]
	tab.Serving = false
	next := snap.Update(tab)
	same := 0
	for i := range snap.shards.chunks {
		if snap.shards.chunks[i] == next.shards.chunks[i] {
			same++
		}
	}
	if same != len(snap.shards.chunks)-1 {
		t.Errorf("%d of %d chunks shared, want all but one", same, len(snap.shards.chunks))
	}
	if got := next.Tablets("ks00500", "0")[1]; got.Serving {
		t.Error("the update was lost")
	}
	if got := snap.Tablets("ks00500", "0")[1]; !got.Serving {
		t.Error("the old snapshot changed")
	}
}

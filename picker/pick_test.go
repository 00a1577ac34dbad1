package picker

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-mysql-org/go-mysql/mysql"
)

func TestPick(t *testing.T) {
	local1 := Options{LocalCell: "zone1"}
	with := func(o Options, f func(*Options)) Options { f(&o); return o }

	tests := []struct {
		name      string
		tablets   []TabletInfo
		primaries map[KeyspaceShard]Alias
		opts      Options
		want      []string // every alias the pick may choose, and must choose over many seeds
		wantErr   []string // substrings of the NoTabletError text
	}{
		// PRIMARY alone: the shard primary, its cell ignored.
		{
			name:    "primary only ignores the cell",
			tablets: []TabletInfo{tab("zone1-101", replica), tab("zone3-100", primary)},
			opts:    with(local1, func(o *Options) { o.TabletTypes = "PRIMARY"; o.Cells = []string{"zone1"} }),
			want:    []string{"zone3-100"},
		},
		{
			name:    "primary only ignores the cell with OnlySpecified",
			tablets: []TabletInfo{tab("zone1-101", replica), tab("zone5-100", primary)},
			opts:    Options{CellPreference: OnlySpecified, Cells: []string{"zone1"}, TabletTypes: "primary"},
			want:    []string{"zone5-100"},
		},
		{
			name:      "primary only follows the shard record",
			tablets:   []TabletInfo{tab("zone1-100", primary, term(10)), tab("zone2-200", primary, term(20))},
			primaries: map[KeyspaceShard]Alias{{"ks", "0"}: {"zone1", 100}},
			opts:      with(local1, func(o *Options) { o.TabletTypes = "PRIMARY" }),
			want:      []string{"zone1-100"},
		},
		{
			name:    "primary only without a record takes the newest term",
			tablets: []TabletInfo{tab("zone1-100", primary, term(10)), tab("zone2-200", primary, term(20))},
			opts:    with(local1, func(o *Options) { o.TabletTypes = "PRIMARY" }),
			want:    []string{"zone2-200"},
		},
		{
			name:    "no primary",
			tablets: []TabletInfo{tab("zone1-101", replica), tab("zone1-102", rdonly)},
			opts:    with(local1, func(o *Options) { o.TabletTypes = "PRIMARY" }),
			wantErr: []string{"the shard has no primary", "zone1-101 REPLICA: wrong type (want PRIMARY)", "zone1-102 RDONLY: wrong type"},
		},
		{
			name:      "the record's primary is missing: a PRIMARY tablet is stale",
			tablets:   []TabletInfo{tab("zone1-101", primary), tab("zone1-102", replica)},
			primaries: map[KeyspaceShard]Alias{{"ks", "0"}: {"zone2", 200}},
			opts:      with(local1, func(o *Options) { o.TabletTypes = "PRIMARY" }),
			wantErr:   []string{"the shard has no primary", "zone1-101 PRIMARY: stale primary (the shard record names zone2-200)"},
		},
		{
			name:      "unreachable primary",
			tablets:   []TabletInfo{tab("zone1-100", primary, unreachable)},
			primaries: map[KeyspaceShard]Alias{{"ks", "0"}: {"zone1", 100}},
			opts:      with(local1, func(o *Options) { o.TabletTypes = "PRIMARY" }),
			wantErr:   []string{"zone1-100 PRIMARY: unhealthy: dial tcp: connection refused"},
		},
		{
			name:    "a lagging primary is still the primary",
			tablets: []TabletInfo{tab("zone1-100", primary, lag(time.Hour)), tab("zone1-101", replica, lag(time.Hour))},
			opts:    with(local1, func(o *Options) { o.TabletTypes = "PRIMARY,REPLICA"; o.MaxLag = time.Second }),
			want:    []string{"zone1-100"},
		},
		{
			name:    "stale primary is not picked with several types",
			tablets: []TabletInfo{tab("zone1-100", primary, term(5)), tab("zone1-101", primary, term(9))},
			opts:    local1,
			want:    []string{"zone1-101"},
		},

		// Any: every equal tablet is picked.
		{
			name:    "Any picks every equal tablet",
			tablets: []TabletInfo{tab("zone1-101", replica), tab("zone1-102", replica), tab("zone1-103", rdonly), tab("zone2-201", replica)},
			opts:    with(local1, func(o *Options) { o.TabletTypes = "REPLICA,RDONLY" }),
			want:    []string{"zone1-101", "zone1-102", "zone1-103"},
		},
		{
			name:    "default types are REPLICA,RDONLY,PRIMARY, all equal",
			tablets: []TabletInfo{tab("zone1-100", primary), tab("zone1-101", replica), tab("zone1-102", rdonly), tab("zone1-103", spare)},
			opts:    local1,
			want:    []string{"zone1-100", "zone1-101", "zone1-102"},
		},

		// Type order against cell preference.
		{
			name:    "Any: the local cell wins over the type order",
			tablets: []TabletInfo{tab("zone1-101", rdonly), tab("zone2-201", replica)},
			opts:    with(local1, func(o *Options) { o.TabletTypes = "REPLICA,RDONLY" }),
			want:    []string{"zone1-101"},
		},
		{
			name:    "InOrder option: a remote REPLICA beats a local RDONLY",
			tablets: []TabletInfo{tab("zone1-101", rdonly), tab("zone2-201", replica)},
			opts:    with(local1, func(o *Options) { o.TabletTypes = "REPLICA,RDONLY"; o.TabletOrder = InOrder }),
			want:    []string{"zone2-201"},
		},
		{
			name:    "in_order: prefix: a remote REPLICA beats a local RDONLY",
			tablets: []TabletInfo{tab("zone1-101", rdonly), tab("zone2-201", replica)},
			opts:    with(local1, func(o *Options) { o.TabletTypes = "in_order:REPLICA,RDONLY" }),
			want:    []string{"zone2-201"},
		},
		{
			name:    "in_order: the other way round: a remote RDONLY beats a local REPLICA",
			tablets: []TabletInfo{tab("zone1-101", replica), tab("zone2-201", rdonly)},
			opts:    with(local1, func(o *Options) { o.TabletTypes = "IN_ORDER:rdonly,replica" }),
			want:    []string{"zone2-201"},
		},
		{
			name:    "the prefix wins over the option Any",
			tablets: []TabletInfo{tab("zone1-101", rdonly), tab("zone2-201", replica)},
			opts:    with(local1, func(o *Options) { o.TabletTypes = "in_order:REPLICA,RDONLY"; o.TabletOrder = Any }),
			want:    []string{"zone2-201"},
		},
		{
			name:    "option and prefix agreeing",
			tablets: []TabletInfo{tab("zone1-101", rdonly), tab("zone2-201", replica), tab("zone1-102", replica)},
			opts:    with(local1, func(o *Options) { o.TabletTypes = "in_order:REPLICA,RDONLY"; o.TabletOrder = InOrder }),
			want:    []string{"zone1-102"}, // the type first, then the local cell among REPLICAs
		},
		{
			name:    "InOrder: the first type missing falls to the second, local first",
			tablets: []TabletInfo{tab("zone1-101", rdonly), tab("zone2-201", rdonly), tab("zone2-202", replica, unreachable)},
			opts:    with(local1, func(o *Options) { o.TabletTypes = "in_order:REPLICA,RDONLY" }),
			want:    []string{"zone1-101"},
		},
		{
			name:    "a primary is never picked when not asked for",
			tablets: []TabletInfo{tab("zone1-100", primary), tab("zone2-201", replica)},
			opts:    with(local1, func(o *Options) { o.TabletTypes = "REPLICA" }),
			want:    []string{"zone2-201"},
		},
		{
			name:    "a primary alone in the shard, not asked for",
			tablets: []TabletInfo{tab("zone1-100", primary)},
			opts:    with(local1, func(o *Options) { o.TabletTypes = "REPLICA,RDONLY" }),
			wantErr: []string{"zone1-100 PRIMARY: wrong type (want REPLICA,RDONLY)"},
		},

		// Cell preference.
		{
			name:    "PreferLocal falls back to a specified cell when the local has none",
			tablets: []TabletInfo{tab("zone1-101", replica, unreachable), tab("zone3-301", replica)},
			opts:    Options{LocalCell: "zone1", CellPreference: PreferLocal, Cells: []string{"zone3"}, TabletTypes: "REPLICA"},
			want:    []string{"zone3-301"},
		},
		{
			name:    "PreferLocalWithAlias falls back to a specified cell after the alias",
			tablets: []TabletInfo{tab("zone1-101", replica, notServing), tab("zone5-501", replica)},
			opts:    Options{LocalCell: "zone1", Cells: []string{"zone5"}, TabletTypes: "REPLICA"},
			want:    []string{"zone5-501"},
		},
		{
			name:    "OnlySpecified does not fall back",
			tablets: []TabletInfo{tab("zone1-101", replica, unreachable), tab("zone2-201", replica)},
			opts:    Options{LocalCell: "zone2", CellPreference: OnlySpecified, Cells: []string{"zone1"}, TabletTypes: "REPLICA"},
			wantErr: []string{"zone1-101 REPLICA: unhealthy", "zone2-201 REPLICA: other cell (allowed: zone1)"},
		},
		{
			name:    "OnlySpecified treats the specified cells as equal, local or not",
			tablets: []TabletInfo{tab("zone1-101", replica), tab("zone3-301", replica), tab("zone2-201", replica)},
			opts:    Options{LocalCell: "zone1", CellPreference: OnlySpecified, Cells: []string{"zone1", "zone3"}, TabletTypes: "REPLICA"},
			want:    []string{"zone1-101", "zone3-301"},
		},
		{
			name:    "OnlySpecified without cells uses the local cell",
			tablets: []TabletInfo{tab("zone1-101", replica), tab("zone2-201", replica)},
			opts:    Options{LocalCell: "zone1", CellPreference: OnlySpecified, TabletTypes: "REPLICA"},
			want:    []string{"zone1-101"},
		},
		{
			name:    "PreferLocal prefers the local cell",
			tablets: []TabletInfo{tab("zone1-101", replica), tab("zone3-301", replica)},
			opts:    Options{LocalCell: "zone1", CellPreference: PreferLocal, Cells: []string{"zone1", "zone3"}, TabletTypes: "REPLICA"},
			want:    []string{"zone1-101"},
		},
		{
			name:    "PreferLocalWithAlias prefers the local cell",
			tablets: []TabletInfo{tab("zone1-101", replica), tab("zone2-201", replica), tab("zone3-301", replica)},
			opts:    Options{LocalCell: "zone1", Cells: []string{"zone3"}, TabletTypes: "REPLICA"},
			want:    []string{"zone1-101"},
		},
		{
			name:    "PreferLocalWithAlias: the alias before the specified cells",
			tablets: []TabletInfo{tab("zone2-201", replica), tab("zone3-301", replica)},
			opts:    Options{LocalCell: "zone1", Cells: []string{"zone3"}, TabletTypes: "REPLICA"},
			want:    []string{"zone2-201"},
		},
		{
			name:    "PreferLocal does not use the local cell's alias",
			tablets: []TabletInfo{tab("zone2-201", replica), tab("zone3-301", replica)},
			opts:    Options{LocalCell: "zone1", CellPreference: PreferLocal, Cells: []string{"zone3"}, TabletTypes: "REPLICA"},
			want:    []string{"zone3-301"},
		},
		{
			name:    "a local preference without cells stays in the local cell (and its alias)",
			tablets: []TabletInfo{tab("zone2-201", replica), tab("zone3-301", replica)},
			opts:    Options{LocalCell: "zone1", TabletTypes: "REPLICA"},
			want:    []string{"zone2-201"},
		},
		{
			name:    "PreferLocal without cells has no fallback",
			tablets: []TabletInfo{tab("zone2-201", replica)},
			opts:    Options{LocalCell: "zone1", CellPreference: PreferLocal, TabletTypes: "REPLICA"},
			wantErr: []string{"cells local zone1)", "zone2-201 REPLICA: other cell (allowed: zone1)"},
		},

		// Aliases.
		{
			name:    "an alias expands to its cells, and a cell outside it is never picked",
			tablets: []TabletInfo{tab("zone3-301", replica), tab("zone4-401", replica), tab("zone5-501", replica), tab("zone1-101", replica)},
			opts:    Options{CellPreference: OnlySpecified, Cells: []string{"west"}, TabletTypes: "REPLICA"},
			want:    []string{"zone3-301", "zone4-401"},
		},
		{
			name:    "an alias outside: nothing in the alias",
			tablets: []TabletInfo{tab("zone5-501", replica)},
			opts:    Options{CellPreference: OnlySpecified, Cells: []string{"west"}, TabletTypes: "REPLICA"},
			wantErr: []string{"zone5-501 REPLICA: other cell (allowed: zone3,zone4)"},
		},
		{
			name:    "an alias given as the local cell",
			tablets: []TabletInfo{tab("zone1-101", replica), tab("zone2-201", replica), tab("zone3-301", replica)},
			opts:    Options{LocalCell: "east", CellPreference: PreferLocal, Cells: []string{"zone3"}, TabletTypes: "REPLICA"},
			want:    []string{"zone1-101", "zone2-201"},
		},
		{
			name:    "an alias given with PreferLocal as a specified cell",
			tablets: []TabletInfo{tab("zone3-301", replica), tab("zone4-401", replica), tab("zone5-501", replica)},
			opts:    Options{LocalCell: "zone1", CellPreference: PreferLocal, Cells: []string{"west"}, TabletTypes: "REPLICA"},
			want:    []string{"zone3-301", "zone4-401"},
		},
		{
			name:    "unknown cell names are ignored",
			tablets: []TabletInfo{tab("zone3-301", replica)},
			opts:    Options{CellPreference: OnlySpecified, Cells: []string{"atlantis", "zone3"}, TabletTypes: "REPLICA"},
			want:    []string{"zone3-301"},
		},
		{
			name:    "only unknown cells: the error says so",
			tablets: []TabletInfo{tab("zone3-301", replica)},
			opts:    Options{CellPreference: OnlySpecified, Cells: []string{"atlantis"}, TabletTypes: "REPLICA"},
			wantErr: []string{"cells none known", "unknown cells ignored: atlantis", "other cell (no known cell is allowed)"},
		},

		// Exclusion and health.
		{
			name:    "excluded tablets",
			tablets: []TabletInfo{tab("zone1-101", replica), tab("zone1-102", replica)},
			opts:    with(local1, func(o *Options) { o.TabletTypes = "REPLICA"; o.Exclude = []Alias{{"zone1", 101}} }),
			want:    []string{"zone1-102"},
		},
		{
			name:    "excluded local tablet falls back to the alias",
			tablets: []TabletInfo{tab("zone1-101", replica), tab("zone2-201", replica)},
			opts:    with(local1, func(o *Options) { o.TabletTypes = "REPLICA"; o.Exclude = []Alias{{"zone1", 101}} }),
			want:    []string{"zone2-201"},
		},
		{
			name:    "non-serving, unhealthy and lagging tablets are turned down",
			tablets: []TabletInfo{tab("zone1-101", replica, notServing), tab("zone1-102", replica, unreachable), tab("zone1-103", replica, lag(time.Minute)), tab("zone1-104", replica, lag(time.Second))},
			opts:    with(local1, func(o *Options) { o.TabletTypes = "REPLICA"; o.MaxLag = 10 * time.Second }),
			want:    []string{"zone1-104"},
		},
		{
			name:    "IncludeNonServing accepts a non-serving tablet",
			tablets: []TabletInfo{tab("zone1-101", replica, notServing), tab("zone1-102", replica, unreachable)},
			opts:    with(local1, func(o *Options) { o.TabletTypes = "REPLICA"; o.IncludeNonServing = true }),
			want:    []string{"zone1-101"},
		},
		{
			name:    "no MaxLag: lag does not matter",
			tablets: []TabletInfo{tab("zone1-101", replica, lag(time.Hour))},
			opts:    with(local1, func(o *Options) { o.TabletTypes = "REPLICA" }),
			want:    []string{"zone1-101"},
		},
		{
			name:    "every reason in one error",
			tablets: []TabletInfo{tab("zone1-101", replica, notServing), tab("zone1-102", replica, unreachable), tab("zone1-103", replica, lag(time.Minute)), tab("zone1-104", replica), tab("zone5-501", replica), tab("zone1-100", primary)},
			opts: with(local1, func(o *Options) {
				o.TabletTypes = "REPLICA"
				o.MaxLag = 10 * time.Second
				o.Exclude = []Alias{{"zone1", 104}}
			}),
			wantErr: []string{
				"vtdirect: no healthy tablet for ks/0 (types REPLICA, cells local zone1 > local alias zone2)",
				"zone1-100 PRIMARY: wrong type (want REPLICA)",
				"zone1-101 REPLICA: not serving",
				"zone1-102 REPLICA: unhealthy: dial tcp: connection refused",
				"zone1-103 REPLICA: lagging 1m0s > max 10s",
				"zone1-104 REPLICA: excluded",
				"zone5-501 REPLICA: other cell (allowed: zone1,zone2)",
			},
		},
		{
			name:    "unknown shard",
			tablets: []TabletInfo{tab("zone1-101", replica, inShard("ks", "-80"))},
			opts:    local1,
			wantErr: []string{"no healthy tablet for ks/0", "no tablets known for this shard"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			topo := testTopo()
			topo.Primaries = tt.primaries
			snap := NewSnapshot(tt.tablets, topo)
			c := mustCompile(t, tt.opts)
			got, err := pickedSet(t, snap, "ks", "0", c)
			if tt.wantErr != nil {
				if err == nil {
					t.Fatalf("picked %v, want an error", got)
				}
				var nt *NoTabletError
				if !errors.As(err, &nt) {
					t.Fatalf("error %T %v, want *NoTabletError", err, err)
				}
				var my *mysql.MyError
				if !errors.As(err, &my) || my.Code != mysql.ER_UNKNOWN_ERROR || my.State != "HY000" {
					t.Errorf("MySQL error = %v, want 1105 HY000", my)
				}
				for _, s := range tt.wantErr {
					if !strings.Contains(err.Error(), s) {
						t.Errorf("error %q\n does not contain %q", err, s)
					}
				}
				return
			}
			if err != nil {
				t.Fatalf("Pick: %v", err)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("picked %v, want %v", got, tt.want)
			}
			// Explain agrees with Pick: rank 1 is exactly the picked set.
			x := Explain(snap, "ks", "0", c)
			var rank1 []string
			for _, cand := range x.Candidates {
				if cand.Rank == 1 {
					rank1 = append(rank1, cand.Alias)
				}
			}
			if !slices.Equal(rank1, tt.want) {
				t.Errorf("Explain rank 1 = %v, want %v\n%s", rank1, tt.want, x)
			}
		})
	}
}

func TestPickNilSnapshot(t *testing.T) {
	c := mustCompile(t, Options{LocalCell: "zone1"})
	_, err := Pick(nil, "ks", "0", c, nil)
	var nt *NoTabletError
	if !errors.As(err, &nt) || !strings.Contains(err.Error(), "no tablet health known yet") {
		t.Fatalf("Pick(nil) = %v, want a NoTabletError saying nothing is known", err)
	}
}

// TestPickUniform checks that equal tablets are chosen about equally often
// (reservoir sampling), with a fixed seed so the test is deterministic.
func TestPickUniform(t *testing.T) {
	snap := NewSnapshot([]TabletInfo{tab("zone1-101", replica), tab("zone1-102", replica), tab("zone1-103", replica), tab("zone1-104", replica)}, testTopo())
	c := mustCompile(t, Options{LocalCell: "zone1", TabletTypes: "REPLICA"})
	rnd := newTestRand(42)
	counts := map[string]int{}
	const n = 40000
	for range n {
		ti, err := Pick(snap, "ks", "0", c, rnd)
		if err != nil {
			t.Fatal(err)
		}
		counts[AliasOf(ti.Tablet.Alias).String()]++
	}
	for a, k := range counts {
		if k < n/4*9/10 || k > n/4*11/10 {
			t.Errorf("%s chosen %d times of %d, want about %d", a, k, n, n/4)
		}
	}
}

// TestPickConcurrent exercises the cell-ranking cache from many goroutines
// with alternating snapshots (run with -race).
func TestPickConcurrent(t *testing.T) {
	s1 := NewSnapshot([]TabletInfo{tab("zone1-101", replica)}, testTopo())
	s2 := NewSnapshot([]TabletInfo{tab("zone2-201", replica)}, testTopo())
	c := mustCompile(t, Options{LocalCell: "zone1", TabletTypes: "REPLICA"})
	done := make(chan error, 4) // one slot per goroutine, so none blocks
	for g := range 4 {
		go func() {
			for i := range 500 {
				snap, want := s1, "zone1-101"
				if (i+g)%2 == 1 {
					snap, want = s2, "zone2-201"
				}
				ti, err := Pick(snap, "ks", "0", c, nil)
				if err != nil {
					done <- err
					return
				}
				if got := AliasOf(ti.Tablet.Alias).String(); got != want {
					done <- errors.New("picked " + got + ", want " + want)
					return
				}
			}
			done <- nil
		}()
	}
	for range 4 {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
}

// PickRef picks exactly as Pick does from a ref that points at its shard, in the snapshot it
// came from or one Update derived; a ref from a rebuilt snapshot, or of another shard, falls
// back to the lookup by name; a ref of a missing shard gives Pick's error.
func TestPickRef(t *testing.T) {
	var tablets []TabletInfo
	for i := range 200 {
		ks := fmt.Sprintf("ks%03d", i)
		tablets = append(tablets, tab(fmt.Sprintf("zone1-%d", 1000+i), primary, inShard(ks, "0")), tab(fmt.Sprintf("zone2-%d", 2000+i), replica, inShard(ks, "0")))
	}
	snap := NewSnapshot(tablets, Topology{Cells: []string{"zone1", "zone2"}})
	c := mustCompile(t, Options{LocalCell: "zone2", TabletTypes: "REPLICA"})
	ref, ok := snap.ShardRef("ks042", "0")
	if !ok {
		t.Fatal("no ref for ks042/0")
	}
	other, _ := snap.ShardRef("ks043", "0")
	// Rebuilt from the same tablets: every shard may sit elsewhere.
	rebuilt := NewSnapshot(tablets, Topology{Cells: []string{"zone1", "zone2"}})
	updated := snap.Update(tab("zone2-2042", replica, inShard("ks042", "0"), lag(time.Second)))
	for _, tc := range []struct {
		name string
		snap *Snapshot
		ref  ShardRef
	}{
		{"same snapshot", snap, ref},
		{"updated snapshot", updated, ref},
		{"rebuilt snapshot", rebuilt, ref},
		{"another shard's ref", snap, other},
		{"out of range", snap, ShardRef{slot: 1 << 20}},
	} {
		got, err := PickRef(tc.snap, tc.ref, "ks042", "0", c, newTestRand(1))
		if err != nil || got.Tablet.Alias.Uid != 2042 {
			t.Errorf("%s: %v %v, want zone2-2042", tc.name, got, err)
		}
	}
	if _, err := PickRef(snap, ref, "nope", "0", c, nil); err == nil {
		t.Error("a missing shard picked a tablet")
	}
	allocs := testing.AllocsPerRun(100, func() {
		if _, err := PickRef(updated, ref, "ks042", "0", c, nil); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Errorf("%v allocs per PickRef, want 0", allocs)
	}
}

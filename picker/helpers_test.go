package picker

import (
	"math/rand/v2"
	"sort"
	"testing"
	"time"

	topodatapb "vitess.io/vitess/go/vt/proto/topodata"
	vttimepb "vitess.io/vitess/go/vt/proto/vttime"
)

const (
	primary = topodatapb.TabletType_PRIMARY
	replica = topodatapb.TabletType_REPLICA
	rdonly  = topodatapb.TabletType_RDONLY
	spare   = topodatapb.TabletType_SPARE
)

// tab makes a healthy, serving tablet of ks/0 with the given alias.
func tab(alias string, typ topodatapb.TabletType, mods ...func(*TabletInfo)) TabletInfo {
	a, err := ParseAlias(alias)
	if err != nil {
		panic(err)
	}
	t := TabletInfo{
		Tablet: &topodatapb.Tablet{
			Alias:    a.Proto(),
			Keyspace: "ks",
			Shard:    "0",
			Type:     typ,
			Hostname: "h-" + alias,
		},
		Reachable: true,
		Serving:   true,
	}
	for _, m := range mods {
		m(&t)
	}
	return t
}

func unreachable(t *TabletInfo) { t.Reachable = false; t.HealthError = "dial tcp: connection refused" }
func notServing(t *TabletInfo)  { t.Serving = false }
func lag(d time.Duration) func(*TabletInfo) {
	return func(t *TabletInfo) { t.Lag = d }
}
func inShard(ks, shard string) func(*TabletInfo) {
	return func(t *TabletInfo) { t.Tablet.Keyspace, t.Tablet.Shard = ks, shard }
}
func term(sec int64) func(*TabletInfo) {
	return func(t *TabletInfo) { t.Tablet.PrimaryTermStartTime = &vttimepb.Time{Seconds: sec} }
}

// testTopo: zone1..zone5; alias east = zone1,zone2; west = zone3,zone4;
// zone5 is in no alias.
func testTopo() Topology {
	return Topology{
		Cells: []string{"zone1", "zone2", "zone3", "zone4", "zone5"},
		CellsAliases: map[string][]string{
			"east": {"zone1", "zone2"},
			"west": {"zone3", "zone4"},
		},
	}
}

func mustCompile(t testing.TB, o Options) *Criteria {
	t.Helper()
	c, err := Compile(o)
	if err != nil {
		t.Fatalf("Compile(%+v): %v", o, err)
	}
	return c
}

// pickedSet picks many times with different seeds and returns every alias
// chosen (sorted), or the first error.
func pickedSet(t testing.TB, snap *Snapshot, ks, shard string, c *Criteria) ([]string, error) {
	t.Helper()
	seen := map[string]bool{}
	for seed := uint64(0); seed < 200; seed++ {
		rnd := rand.New(rand.NewPCG(seed, seed*7+1))
		ti, err := Pick(snap, ks, shard, c, rnd)
		if err != nil {
			return nil, err
		}
		seen[AliasOf(ti.Tablet.Alias).String()] = true
	}
	out := make([]string, 0, len(seen))
	for a := range seen {
		out = append(out, a)
	}
	sort.Strings(out)
	return out, nil
}

func newTestRand(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, seed)) }

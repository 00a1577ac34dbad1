package picker

import (
	"math"
	"math/rand/v2"

	topodatapb "vitess.io/vitess/go/vt/proto/topodata"
)

// Rand is the randomness a pick uses to choose within its best group.
// *rand.Rand from math/rand/v2 satisfies it (not safe for concurrent use:
// give each goroutine its own, or pass nil to use the global source).
type Rand interface {
	IntN(n int) int
}

// Reason says why a tablet was turned down, or Eligible.
type Reason uint8

const (
	Eligible     Reason = iota // ranked: a pick may choose it
	WrongType                  // its type is not among the wanted types
	StalePrimary               // type PRIMARY, but the shard's primary is another tablet
	OtherCell                  // its cell is not among the allowed cells
	Excluded                   // listed in Options.Exclude
	Unhealthy                  // the health probe cannot reach it
	NotServing                 // it reports not serving
	Lagging                    // a non-primary lagging more than MaxLag
	Unfit                      // listed in Options.Unfit: not fit for this use (e.g. as a VStream source)
)

var reasonNames = [...]string{"eligible", "wrong type", "stale primary", "other cell", "excluded", "unhealthy", "not serving", "lagging", "unfit"}

func (r Reason) String() string {
	if int(r) < len(reasonNames) {
		return reasonNames[r]
	}
	return "unknown"
}

// MarshalText makes a Reason read as its name in JSON.
func (r Reason) MarshalText() ([]byte, error) { return []byte(r.String()), nil }

// classify decides one tablet. For an eligible tablet it also returns its
// rank key (lower is better): with InOrder the type rank comes first and
// the cell tier second; with Any only the cell tier counts. The check order
// makes the reported reason the most basic one.
func (c *Criteria) classify(e *entry, r *resolution) (Reason, int) {
	if e.typ < 0 || e.typ >= typeSlots || c.typeRank[e.typ] < 0 {
		return WrongType, 0
	}
	if e.stalePrimary {
		return StalePrimary, 0
	}
	tier := 0
	if !c.primaryOnly { // the shard primary is wanted wherever it is
		tier = int(r.tier[e.cell])
		if tier < 0 {
			return OtherCell, 0
		}
	}
	for _, x := range c.exclude {
		if x.UID == e.alias.UID && x.Cell == e.alias.Cell {
			return Excluded, 0
		}
	}
	if _, bad := c.opts.Unfit[e.alias]; bad {
		return Unfit, 0
	}
	if !e.info.Reachable {
		return Unhealthy, 0
	}
	if !e.info.Serving && !c.opts.IncludeNonServing {
		return NotServing, 0
	}
	if c.opts.MaxLag > 0 && e.typ != topodatapb.TabletType_PRIMARY && e.info.Lag > c.opts.MaxLag {
		return Lagging, 0
	}
	if c.inOrder {
		return Eligible, int(c.typeRank[e.typ])*8 + tier // at most 3 tiers
	}
	return Eligible, tier
}

// Pick chooses a tablet of keyspace/shard from snap: the best group by the
// criteria's precedence, then a random member of it (rnd, or the global
// source when nil). It does no I/O, and allocates nothing unless no tablet
// matches, in which case it returns a *NoTabletError listing every tablet
// and its reason. The result points into snap: do not modify it.
func Pick(snap *Snapshot, keyspace, shard string, c *Criteria, rnd Rand) (*TabletInfo, error) {
	if c == nil {
		return nil, invalidArg("picker criteria", "nil", "compile the options with picker.Compile")
	}
	if snap == nil {
		return nil, noTablet(snap, keyspace, shard, c, nil)
	}
	return pickIn(snap, snap.shards.get(KeyspaceShard{keyspace, shard}), keyspace, shard, c, rnd)
}

// ShardRef is where a shard sits in a snapshot's shard table: the lookup Pick does by name,
// done once by a caller that keeps its own list of shards (the registry), for PickRef. It
// stays valid for the snapshots Update derives without a rebuild.
type ShardRef struct{ slot int32 }

// ShardRef returns the shard's ref in s.
func (s *Snapshot) ShardRef(keyspace, shard string) (ShardRef, bool) {
	i, ok := s.shards.index[KeyspaceShard{keyspace, shard}]
	return ShardRef{i}, ok
}

// PickRef is Pick of the shard at ref, without Pick's lookup by name. A ref that does not
// point at keyspace/shard in snap (taken from a snapshot since rebuilt) falls back to it.
func PickRef(snap *Snapshot, ref ShardRef, keyspace, shard string, c *Criteria, rnd Rand) (*TabletInfo, error) {
	if c == nil {
		return nil, invalidArg("picker criteria", "nil", "compile the options with picker.Compile")
	}
	if snap == nil {
		return nil, noTablet(snap, keyspace, shard, c, nil)
	}
	sh := snap.shards.at(ref.slot)
	if sh == nil || sh.ks.Keyspace != keyspace || sh.ks.Shard != shard {
		sh = snap.shards.get(KeyspaceShard{keyspace, shard})
	}
	return pickIn(snap, sh, keyspace, shard, c, rnd)
}

// pickIn picks among the tablets of sh, the shard keyspace/shard of snap (nil: none).
func pickIn(snap *Snapshot, sh *shardTablets, keyspace, shard string, c *Criteria, rnd Rand) (*TabletInfo, error) {
	if sh == nil {
		return nil, noTablet(snap, keyspace, shard, c, nil)
	}
	r := c.resolve(snap)
	best, n, chosen := math.MaxInt, 0, -1
	for i := range sh.tablets {
		reason, key := c.classify(&sh.tablets[i], r)
		switch {
		case reason != Eligible || key > best:
			continue
		case key < best:
			best, n, chosen = key, 1, i
		default:
			// Reservoir sampling: the i-th equal tablet replaces the choice
			// with probability 1/n, so each is chosen with 1/count.
			n++
			if randIntN(rnd, n) == 0 {
				chosen = i
			}
		}
	}
	if chosen < 0 {
		return nil, noTablet(snap, keyspace, shard, c, nil)
	}
	return &sh.tablets[chosen].info, nil
}

func randIntN(rnd Rand, n int) int {
	if rnd == nil {
		return rand.IntN(n)
	}
	return rnd.IntN(n)
}

func noTablet(snap *Snapshot, keyspace, shard string, c *Criteria, cause error) *NoTabletError {
	return &NoTabletError{Explanation: Explain(snap, keyspace, shard, c), Cause: cause}
}

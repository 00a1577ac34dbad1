package picker

import (
	"cmp"
	"slices"
	"sort"
	"strings"
	"time"

	topodatapb "vitess.io/vitess/go/vt/proto/topodata"
)

// TabletInfo is one tablet and its latest health, as the registry knows it.
type TabletInfo struct {
	Tablet    *topodatapb.Tablet
	Reachable bool          // the last health probe reached MySQL
	Serving   bool          // the tablet accepts queries (not draining, not stopped)
	Lag       time.Duration // replication lag; ignored for the primary
	// HealthError is the probe's error, if any; shown in explanations.
	HealthError string
	// Ref is the caller's own handle on the tablet (the registry's), handed back untouched
	// with the TabletInfo a pick returns: finding it costs the caller no lookup.
	Ref any `json:"-"`
}

// Topology is the part of the topo a pick needs besides the tablets.
type Topology struct {
	// Cells lists the known cells (CellInfo names), so that a cell without
	// tablets is not reported as unknown. Cells of tablets and aliases are
	// known anyway.
	Cells []string
	// CellsAliases maps an alias name to its cells.
	CellsAliases map[string][]string
	// Primaries maps a shard to its primary (the Shard record's
	// PrimaryAlias). A shard without an entry falls back to the tablet of
	// type PRIMARY with the newest primary term, if any.
	Primaries map[KeyspaceShard]Alias
}

// Snapshot is an immutable, indexed view of every tablet and its health.
// The registry builds one per topology or health change (NewSnapshot costs
// O(tablets log tablets)); a pick then costs O(tablets of one shard).
// Never modify a Snapshot, nor the TabletInfo values it hands out.
type Snapshot struct {
	*cellIndex // shared by the snapshots Update derives
	shards     shardTable
	size       int
	topo       Topology // kept for Update's full rebuild
}

// cellIndex numbers the cells and expands the aliases of one topology.
type cellIndex struct {
	cellNames []string         // cell id -> name, sorted
	cellIDs   map[string]int32 // name -> cell id
	aliases   map[string][]int32
	// aliasesOf lists, per cell id, the cell ids sharing an alias with it
	// (itself excluded): the "local alias" tier of PreferLocalWithAlias.
	aliasesOf [][]int32
}

// shardTablets holds the tablets of one shard, sorted by alias.
type shardTablets struct {
	ks      KeyspaceShard // the shard's name, which PickRef checks a ShardRef against
	tablets []entry
	primary int   // index of the shard primary in tablets, -1 if none
	named   Alias // the primary named by the shard record, if any
	hasName bool
}

// entry is a tablet with the fields a pick reads laid out flat.
type entry struct {
	info         TabletInfo
	alias        Alias
	cell         int32
	typ          topodatapb.TabletType
	stalePrimary bool // type PRIMARY but not the shard's primary
}

// NewSnapshot indexes tablets by shard and cells by name. Tablets without
// an alias, keyspace or shard are skipped; for a repeated alias the last
// entry wins.
func NewSnapshot(tablets []TabletInfo, topo Topology) *Snapshot {
	s := &Snapshot{
		cellIndex: &cellIndex{
			cellIDs: make(map[string]int32),
			aliases: make(map[string][]int32, len(topo.CellsAliases)),
		},
		topo: topo,
	}
	shards := make(map[KeyspaceShard]*shardTablets)

	// Cells first, sorted, so ids (and explanations) are deterministic.
	names := map[string]bool{}
	for _, c := range topo.Cells {
		names[c] = true
	}
	for _, cells := range topo.CellsAliases {
		for _, c := range cells {
			names[c] = true
		}
	}
	order := sortedTablets(tablets)
	for _, i := range order {
		names[tablets[i].Tablet.Alias.Cell] = true
	}
	for n := range names {
		if n != "" {
			s.cellNames = append(s.cellNames, n)
		}
	}
	sort.Strings(s.cellNames)
	for i, n := range s.cellNames {
		s.cellIDs[n] = int32(i)
	}

	// Aliases, and for each cell the other cells of its aliases.
	peers := make([]map[int32]bool, len(s.cellNames))
	for name, cells := range topo.CellsAliases {
		ids := make([]int32, 0, len(cells))
		for _, c := range cells {
			if id, ok := s.cellIDs[c]; ok {
				ids = append(ids, id)
			}
		}
		ids = sortedUnique(ids)
		s.aliases[name] = ids
		for _, a := range ids {
			for _, b := range ids {
				if a != b {
					if peers[a] == nil {
						peers[a] = map[int32]bool{}
					}
					peers[a][b] = true
				}
			}
		}
	}
	s.aliasesOf = make([][]int32, len(s.cellNames))
	for id, m := range peers {
		for p := range m {
			s.aliasesOf[id] = append(s.aliasesOf[id], p)
		}
		s.aliasesOf[id] = sortedUnique(s.aliasesOf[id])
	}

	// Tablets, grouped by shard in one backing array: count, then place.
	// order is sorted by alias, so each shard's tablets come out sorted.
	counts := map[KeyspaceShard]int{}
	for _, i := range order {
		counts[KeyspaceShard{tablets[i].Tablet.Keyspace, tablets[i].Tablet.Shard}]++
	}
	all := make([]entry, len(order))
	next := 0
	for ks, n := range counts {
		shards[ks] = &shardTablets{ks: ks, tablets: all[next : next : next+n], primary: -1}
		next += n
	}
	for _, i := range order {
		t := tablets[i]
		sh := shards[KeyspaceShard{t.Tablet.Keyspace, t.Tablet.Shard}]
		a := AliasOf(t.Tablet.Alias)
		sh.tablets = append(sh.tablets, entry{info: t, alias: a, cell: s.cellIDs[a.Cell], typ: t.Tablet.Type})
	}
	s.size = len(order)
	for ks, sh := range shards {
		sh.named, sh.hasName = topo.Primaries[ks]
		sh.markPrimary()
	}
	// A shard whose record names a primary that has no tablet still exists.
	for ks, a := range topo.Primaries {
		if shards[ks] == nil {
			shards[ks] = &shardTablets{ks: ks, primary: -1, named: a, hasName: true}
		}
	}
	s.shards = buildShardTable(shards)
	return s
}

// markPrimary finds the shard primary and flags the other PRIMARY tablets.
func (sh *shardTablets) markPrimary() {
	sh.primary = findPrimary(sh)
	for i := range sh.tablets {
		e := &sh.tablets[i]
		e.stalePrimary = e.typ == topodatapb.TabletType_PRIMARY && i != sh.primary
	}
}

// findPrimary returns the index of the shard's primary: the tablet the shard
// record names, if it is of type PRIMARY; without a record, the PRIMARY
// tablet with the newest term (ties: the lowest alias).
func findPrimary(sh *shardTablets) int {
	best := -1
	for i := range sh.tablets {
		e := &sh.tablets[i]
		if e.typ != topodatapb.TabletType_PRIMARY {
			continue
		}
		if sh.hasName {
			if e.alias == sh.named {
				return i
			}
			continue
		}
		if best < 0 || termStart(e) > termStart(&sh.tablets[best]) {
			best = i
		}
	}
	return best
}

func termStart(e *entry) int64 {
	t := e.info.Tablet.PrimaryTermStartTime
	if t == nil {
		return 0
	}
	return t.Seconds*1e9 + int64(t.Nanoseconds)
}

// sortedTablets returns the indices of the usable tablets sorted by alias,
// keeping only the last entry of a repeated alias.
func sortedTablets(tablets []TabletInfo) []int32 {
	order := make([]int32, 0, len(tablets))
	for i, t := range tablets {
		if t.Tablet == nil || t.Tablet.Alias == nil || t.Tablet.Keyspace == "" || t.Tablet.Shard == "" {
			continue
		}
		order = append(order, int32(i))
	}
	slices.SortStableFunc(order, func(i, j int32) int {
		a, b := tablets[i].Tablet.Alias, tablets[j].Tablet.Alias
		if c := strings.Compare(a.Cell, b.Cell); c != 0 {
			return c
		}
		return cmp.Compare(a.Uid, b.Uid)
	})
	out := order[:0]
	for k, i := range order {
		if k+1 < len(order) {
			a, b := tablets[i].Tablet.Alias, tablets[order[k+1]].Tablet.Alias
			if a.Cell == b.Cell && a.Uid == b.Uid {
				continue // a later entry of the same alias wins
			}
		}
		out = append(out, i)
	}
	return out
}

func sortedUnique(ids []int32) []int32 {
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	out := ids[:0]
	for i, id := range ids {
		if i == 0 || id != ids[i-1] {
			out = append(out, id)
		}
	}
	return out
}

// Len is the number of tablets in the snapshot.
func (s *Snapshot) Len() int {
	if s == nil {
		return 0
	}
	return s.size
}

// Shards lists the shards the snapshot knows, sorted.
func (s *Snapshot) Shards() []KeyspaceShard {
	if s == nil {
		return nil
	}
	out := make([]KeyspaceShard, 0, s.shards.len())
	for ks := range s.shards.index {
		out = append(out, ks)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Keyspace != out[j].Keyspace {
			return out[i].Keyspace < out[j].Keyspace
		}
		return out[i].Shard < out[j].Shard
	})
	return out
}

// Tablets returns the tablets of one shard, sorted by alias. The values are
// shared: do not modify them.
func (s *Snapshot) Tablets(keyspace, shard string) []*TabletInfo {
	if s == nil {
		return nil
	}
	sh := s.shards.get(KeyspaceShard{keyspace, shard})
	if sh == nil {
		return nil
	}
	out := make([]*TabletInfo, len(sh.tablets))
	for i := range sh.tablets {
		out[i] = &sh.tablets[i].info
	}
	return out
}

// Primary returns the shard's primary, or nil if it has none.
func (s *Snapshot) Primary(keyspace, shard string) *TabletInfo {
	if s == nil {
		return nil
	}
	sh := s.shards.get(KeyspaceShard{keyspace, shard})
	if sh == nil || sh.primary < 0 {
		return nil
	}
	return &sh.tablets[sh.primary].info
}

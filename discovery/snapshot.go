package discovery

import (
	"sort"

	topodatapb "vitess.io/vitess/go/vt/proto/topodata"

	"github.com/vtdirect/vtdirect/picker"
	"github.com/vtdirect/vtdirect/tabletserver"
)

// Tablet is one tablet as the registry last saw it. Tablets and their records are shared
// between snapshots and never modified: treat them as read-only.
type Tablet struct {
	Alias    string // <cell>-<uid>, Vitess's padded form
	Cell     string
	Keyspace string
	Shard    string
	Type     topodatapb.TabletType
	Record   *topodatapb.Tablet
	Server   *tabletserver.TabletServer
}

// Health is the tablet's latest health (its backend's latest probe), which may be newer than
// the snapshot's picker view of it.
func (t *Tablet) Health() tabletserver.Health { return t.Server.Health() }

// Shard is the tablets of one keyspace/shard, sorted by alias.
type Shard struct {
	Keyspace string
	Name     string
	Tablets  []*Tablet
	Primary  *Tablet // nil when the shard has no PRIMARY tablet

	ref picker.ShardRef // where the snapshot's Picker has it
}

// Snapshot is an immutable view of the registry. A new one is published on every change of
// the topology or of a tablet's health.
type Snapshot struct {
	Generation   uint64
	Keyspaces    []string            // sorted; from the topo and from the tablets seen
	CellsAliases map[string][]string // alias -> cells
	TopoErr      error               // last topo error, nil when the topo was last read fine

	// Picker is the same tablets as the picker reads them.
	Picker *picker.Snapshot

	shards  map[string][]*Shard // keyspace -> shards sorted by name
	tablets []*Tablet           // sorted by alias
	byAlias map[picker.Alias]*Tablet
	byName  map[string]*Tablet // by Alias
}

// TabletByAlias returns a tablet by its alias ("zone1-0000000100"), or nil.
func (s *Snapshot) TabletByAlias(alias string) *Tablet { return s.byName[alias] }

// Tablet returns the tablet a pick chose, or nil if it is not in this snapshot.
func (s *Snapshot) Tablet(a picker.Alias) *Tablet { return s.byAlias[a] }

// Pick is picker.Pick of one of s's shards from s.Picker, without the picker's lookup of the
// shard by name.
func (s *Snapshot) Pick(sh *Shard, c *picker.Criteria, rnd picker.Rand) (*picker.TabletInfo, error) {
	return picker.PickRef(s.Picker, sh.ref, sh.Keyspace, sh.Name, c, rnd)
}

// Picked returns the tablet of a TabletInfo that a pick on s.Picker returned, or nil if it is
// not in this snapshot. It reads the info's Ref (no map lookup, no record read) when the
// registry built it.
func (s *Snapshot) Picked(info *picker.TabletInfo) *Tablet {
	if t, ok := info.Ref.(*Tablet); ok {
		return t
	}
	return s.byAlias[picker.AliasOf(info.Tablet.GetAlias())]
}

// Shards returns the shards of a keyspace that have tablets, sorted by name.
func (s *Snapshot) Shards(keyspace string) []*Shard { return s.shards[keyspace] }

// Shard returns one shard, or nil.
func (s *Snapshot) Shard(keyspace, shard string) *Shard {
	for _, sh := range s.shards[keyspace] {
		if sh.Name == shard {
			return sh
		}
	}
	return nil
}

// Tablets returns every tablet, sorted by alias.
func (s *Snapshot) Tablets() []*Tablet { return s.tablets }

// HasKeyspace reports whether the keyspace is known, from the topo or from its tablets.
func (s *Snapshot) HasKeyspace(keyspace string) bool {
	i := sort.SearchStrings(s.Keyspaces, keyspace)
	return i < len(s.Keyspaces) && s.Keyspaces[i] == keyspace
}

// buildSnapshot indexes the tablets. It runs on every change, never per query.
func buildSnapshot(gen uint64, tablets []*Tablet, topoKeyspaces, cells []string, aliases map[string][]string, topoErr error) *Snapshot {
	s := &Snapshot{Generation: gen, CellsAliases: aliases, TopoErr: topoErr, shards: map[string][]*Shard{},
		byAlias: make(map[picker.Alias]*Tablet, len(tablets)), byName: make(map[string]*Tablet, len(tablets))}
	sort.Slice(tablets, func(i, j int) bool { return tablets[i].Alias < tablets[j].Alias })
	s.tablets = tablets
	infos := make([]picker.TabletInfo, 0, len(tablets))
	for _, t := range tablets {
		s.byAlias[picker.AliasOf(t.Record.GetAlias())] = t
		s.byName[t.Alias] = t
		infos = append(infos, pickerInfo(t))
	}
	s.Picker = picker.NewSnapshot(infos, picker.Topology{Cells: cells, CellsAliases: aliases})
	ks := map[string]bool{}
	for _, k := range topoKeyspaces {
		ks[k] = true
	}
	index := map[[2]string]*Shard{}
	for _, t := range tablets {
		ks[t.Keyspace] = true
		key := [2]string{t.Keyspace, t.Shard}
		sh := index[key]
		if sh == nil {
			sh = &Shard{Keyspace: t.Keyspace, Name: t.Shard}
			sh.ref, _ = s.Picker.ShardRef(t.Keyspace, t.Shard)
			index[key] = sh
			s.shards[t.Keyspace] = append(s.shards[t.Keyspace], sh)
		}
		sh.Tablets = append(sh.Tablets, t)
		if t.Type == topodatapb.TabletType_PRIMARY && newerPrimary(t, sh.Primary) {
			sh.Primary = t
		}
	}
	for _, shards := range s.shards {
		sort.Slice(shards, func(i, j int) bool { return shards[i].Name < shards[j].Name })
	}
	for k := range ks {
		s.Keyspaces = append(s.Keyspaces, k)
	}
	sort.Strings(s.Keyspaces)
	return s
}

// newerPrimary prefers the PRIMARY with the latest primary term, as Vitess does when two
// tablets claim the shard during a reparent.
func newerPrimary(t, cur *Tablet) bool {
	if cur == nil {
		return true
	}
	a, b := t.Record.GetPrimaryTermStartTime(), cur.Record.GetPrimaryTermStartTime()
	if a.GetSeconds() != b.GetSeconds() {
		return a.GetSeconds() > b.GetSeconds()
	}
	return a.GetNanoseconds() > b.GetNanoseconds()
}

// pickerInfo is a tablet's health as the picker reads it. A PRIMARY not probed yet counts as
// serving, so that the first writes after a start need not wait for the first probe; other
// tablets wait for theirs.
func pickerInfo(t *Tablet) picker.TabletInfo {
	h := t.Health()
	info := picker.TabletInfo{Tablet: t.Record, Reachable: h.Reachable, Serving: h.Serving, Lag: h.Lag, Ref: t}
	if h.LastProbe.IsZero() {
		if t.Type == topodatapb.TabletType_PRIMARY {
			info.Reachable, info.Serving = true, true
		} else {
			info.HealthError = "not probed yet"
		}
	} else if h.Err != nil {
		info.HealthError = h.Err.Error()
	}
	return info
}

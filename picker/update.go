package picker

import "sort"

// Update returns a snapshot in which each changed tablet replaces the one
// of the same alias, sharing everything else with s. It is how the registry
// publishes a health change cheaply: it copies the shard index (a pointer
// per shard) and the changed shards, not every tablet (about 0.2ms instead of
// 5-7ms for NewSnapshot at 10,000 tablets). A tablet that is new, or moved
// to another keyspace or shard, makes it fall back to a full rebuild. To
// remove tablets or change the topology, call NewSnapshot. s is unchanged.
func (s *Snapshot) Update(changed ...TabletInfo) *Snapshot {
	if s == nil {
		return NewSnapshot(changed, Topology{})
	}
	n := *s
	n.shards = make(map[KeyspaceShard]*shardTablets, len(s.shards))
	for ks, sh := range s.shards {
		n.shards[ks] = sh
	}
	copied := map[*shardTablets]bool{} // shards already copied for this update
	for _, t := range changed {
		if t.Tablet == nil || t.Tablet.Alias == nil {
			continue
		}
		ks := KeyspaceShard{t.Tablet.Keyspace, t.Tablet.Shard}
		sh := n.shards[ks]
		i := -1
		if sh != nil {
			i = sh.find(AliasOf(t.Tablet.Alias))
		}
		if i < 0 {
			return NewSnapshot(s.withReplaced(changed), s.topo)
		}
		if !copied[sh] {
			c := *sh
			c.tablets = append([]entry(nil), sh.tablets...)
			sh = &c
			n.shards[ks] = sh
			copied[sh] = true
		}
		e := &sh.tablets[i]
		e.info, e.typ = t, t.Tablet.Type
	}
	for sh := range copied {
		sh.markPrimary()
	}
	return &n
}

// find returns the index of alias in the shard's sorted tablets, or -1.
func (sh *shardTablets) find(a Alias) int {
	i := sort.Search(len(sh.tablets), func(i int) bool {
		b := sh.tablets[i].alias
		return b.Cell > a.Cell || (b.Cell == a.Cell && b.UID >= a.UID)
	})
	if i < len(sh.tablets) && sh.tablets[i].alias == a {
		return i
	}
	return -1
}

// withReplaced lists every tablet of s, then the changed ones, which win
// as later entries of the same alias.
func (s *Snapshot) withReplaced(changed []TabletInfo) []TabletInfo {
	all := make([]TabletInfo, 0, s.size+len(changed))
	for _, sh := range s.shards {
		for i := range sh.tablets {
			all = append(all, sh.tablets[i].info)
		}
	}
	return append(all, changed...)
}

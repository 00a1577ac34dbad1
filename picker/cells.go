package picker

// This file turns a criteria's cell options into a rank per cell of one
// snapshot: the cell preference of RFC vitess#11999.

// Tier names, in the order a pick falls back through them.
const (
	tierLocal      = "local"
	tierLocalAlias = "local alias"
	tierSpecified  = "specified"
)

// resolution is the cell ranking of one Criteria against the cells of a
// snapshot. It is computed on the first pick against new cells and then
// reused, so alias expansion costs nothing per pick.
type resolution struct {
	cells   *cellIndex // the cells this ranking numbers
	tier    []int8     // by cell id: the tier a tablet of that cell is in; -1 = not allowed
	tiers   []cellTier // by tier: its name and cells (for explanations)
	unknown []string   // names in Cells or LocalCell that are neither cell nor alias
}

type cellTier struct {
	name  string
	cells []int32
}

// resolve returns the ranking for s, from the cache when s shares its cells
// with the last snapshot seen (Update keeps them). Concurrent callers may
// both compute it; either result is right, so the race is harmless.
func (c *Criteria) resolve(s *Snapshot) *resolution {
	if r := c.res.Load(); r != nil && r.cells == s.cellIndex {
		return r
	}
	r := c.computeResolution(s)
	c.res.Store(r)
	return r
}

func (c *Criteria) computeResolution(s *Snapshot) *resolution {
	r := &resolution{cells: s.cellIndex, tier: make([]int8, len(s.cellNames))}
	for i := range r.tier {
		r.tier[i] = -1
	}
	// add puts cells in a tier unless an earlier tier already has them.
	add := func(name string, ids []int32) {
		var t *cellTier
		for i := range r.tiers {
			if r.tiers[i].name == name {
				t = &r.tiers[i]
			}
		}
		if t == nil {
			r.tiers = append(r.tiers, cellTier{name: name})
			t = &r.tiers[len(r.tiers)-1]
		}
		n := int8(len(r.tiers) - 1)
		for _, id := range ids {
			if r.tier[id] < 0 {
				r.tier[id] = n
				t.cells = append(t.cells, id)
			}
		}
	}
	var local []int32
	if c.opts.LocalCell != "" {
		local = r.expand(c.opts.LocalCell)
	}
	var specified []int32
	for _, name := range c.cells {
		specified = append(specified, r.expand(name)...)
	}

	switch c.opts.CellPreference {
	case PreferLocal:
		add(tierLocal, local)
		add(tierSpecified, specified)
	case PreferLocalWithAlias:
		add(tierLocal, local)
		var peers []int32
		for _, id := range local {
			peers = append(peers, s.aliasesOf[id]...)
		}
		add(tierLocalAlias, sortedUnique(peers))
		add(tierSpecified, specified)
	case OnlySpecified:
		if len(c.cells) == 0 {
			specified = local // validate() made sure there is one
		}
		add(tierSpecified, specified)
	}
	// Drop empty tiers from the explanation, keeping the numbering of the
	// others consecutive.
	kept := r.tiers[:0]
	renum := make([]int8, len(r.tiers))
	for i, t := range r.tiers {
		renum[i] = int8(len(kept))
		if len(t.cells) > 0 {
			kept = append(kept, t)
		}
	}
	for id, t := range r.tier {
		if t >= 0 {
			r.tier[id] = renum[t]
		}
	}
	r.tiers = kept
	return r
}

// expand resolves a cell or alias name to cell ids; an unknown name is
// recorded and gives none. A name that is both a cell and an alias is the
// cell, as in Vitess.
func (r *resolution) expand(name string) []int32 {
	if id, ok := r.cells.cellIDs[name]; ok {
		return []int32{id}
	}
	if ids, ok := r.cells.aliases[name]; ok {
		return ids
	}
	for _, u := range r.unknown {
		if u == name {
			return nil
		}
	}
	r.unknown = append(r.unknown, name)
	return nil
}

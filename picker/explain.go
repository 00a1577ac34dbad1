package picker

import (
	"fmt"
	"sort"
	"strings"
	"text/tabwriter"
)

// Explanation is a pick laid open: the cell order the options give against
// a snapshot, every tablet of the shard ranked (rank 1 is the group a pick
// chooses from at random) or rejected with its reason. It is what
// /debug/picker and `vtdirect picker explain` show, and what a
// NoTabletError lists.
type Explanation struct {
	Keyspace       string   `json:"keyspace"`
	Shard          string   `json:"shard"`
	TabletTypes    []string `json:"tablet_types"`
	TabletOrder    string   `json:"tablet_order"` // as applied (the in_order: prefix counted)
	CellPreference string   `json:"cell_preference"`
	LocalCell      string   `json:"local_cell,omitempty"`
	Cells          []string `json:"cells,omitempty"`         // as given
	CellOrder      []Tier   `json:"cell_order,omitempty"`    // the tiers a pick falls back through
	UnknownCells   []string `json:"unknown_cells,omitempty"` // ignored names
	PrimaryOnly    bool     `json:"primary_only,omitempty"`  // PRIMARY alone: the shard primary, any cell
	ShardPrimary   string   `json:"shard_primary,omitempty"` // the primary tablet, if the snapshot has it
	// RecordPrimary is the primary the shard record names when the snapshot
	// has no PRIMARY tablet of that alias (mid-failover, or not yet seen).
	RecordPrimary string      `json:"record_primary,omitempty"`
	NoSnapshot    bool        `json:"no_snapshot,omitempty"` // no health known yet
	ShardKnown    bool        `json:"shard_known"`
	Candidates    []Candidate `json:"candidates"` // eligible, best rank first
	Rejected      []Candidate `json:"rejected"`   // by alias
}

// Tier is one step of the cell fallback order.
type Tier struct {
	Name  string   `json:"name"` // local, local alias, specified
	Cells []string `json:"cells"`
}

// Candidate is one tablet and the decision about it.
type Candidate struct {
	Alias     string `json:"alias"`
	Cell      string `json:"cell"`
	Type      string `json:"type"`
	Rank      int    `json:"rank,omitempty"` // 1 = best; 0 = rejected
	Reason    Reason `json:"reason"`
	Why       string `json:"why"` // the reason, or what earned the rank, in words
	Reachable bool   `json:"reachable"`
	Serving   bool   `json:"serving"`
	Lag       string `json:"lag,omitempty"`
}

// Explain gives the whole decision Pick would make for keyspace/shard,
// without choosing at random. It allocates: it is for operators and errors,
// not for the per-query path.
//
// c must not be nil (Compile never returns a nil *Criteria without an error).
func Explain(snap *Snapshot, keyspace, shard string, c *Criteria) *Explanation {
	x := &Explanation{
		Keyspace:       keyspace,
		Shard:          shard,
		TabletTypes:    strings.Split(c.typesLabel, ","),
		TabletOrder:    Any.String(),
		CellPreference: c.opts.CellPreference.String(),
		LocalCell:      c.opts.LocalCell,
		Cells:          c.cells,
		PrimaryOnly:    c.primaryOnly,
		Candidates:     []Candidate{},
		Rejected:       []Candidate{},
	}
	if c.inOrder {
		x.TabletOrder = InOrder.String()
	}
	if snap == nil {
		x.NoSnapshot = true
		return x
	}
	r := c.computeResolution(snap)
	for _, t := range r.tiers {
		tier := Tier{Name: t.name}
		for _, id := range t.cells {
			tier.Cells = append(tier.Cells, snap.cellNames[id])
		}
		x.CellOrder = append(x.CellOrder, tier)
	}
	x.UnknownCells = r.unknown
	sh := snap.shards.get(KeyspaceShard{keyspace, shard})
	if sh == nil {
		return x
	}
	x.ShardKnown = true
	switch {
	case sh.primary >= 0:
		x.ShardPrimary = sh.tablets[sh.primary].alias.String()
	case sh.hasName:
		x.RecordPrimary = sh.named.String()
	}

	keys := map[string]int{}
	for i := range sh.tablets {
		e := &sh.tablets[i]
		reason, key := c.classify(e, r)
		cand := Candidate{
			Alias:     e.alias.String(),
			Cell:      e.alias.Cell,
			Type:      typeName(e.typ),
			Reason:    reason,
			Reachable: e.info.Reachable,
			Serving:   e.info.Serving,
		}
		if e.info.Lag > 0 {
			cand.Lag = e.info.Lag.String()
		}
		if reason == Eligible {
			cand.Why = c.rankWhy(e, r)
			keys[cand.Alias] = key
			x.Candidates = append(x.Candidates, cand)
		} else {
			cand.Why = c.rejectWhy(reason, e, sh, r)
			x.Rejected = append(x.Rejected, cand)
		}
	}
	sort.SliceStable(x.Candidates, func(i, j int) bool {
		return keys[x.Candidates[i].Alias] < keys[x.Candidates[j].Alias]
	})
	rank, last := 0, -1
	for i := range x.Candidates {
		if k := keys[x.Candidates[i].Alias]; k != last {
			rank, last = rank+1, k
		}
		x.Candidates[i].Rank = rank
	}
	return x
}

func (c *Criteria) rankWhy(e *entry, r *resolution) string {
	if c.primaryOnly {
		return "the shard primary (cell not considered)"
	}
	cell := r.tiers[r.tier[e.cell]].name + " cell"
	if c.inOrder && len(c.types) > 1 {
		return fmt.Sprintf("type %d of %d (%s), then %s", c.typeRank[e.typ]+1, len(c.types), typeName(e.typ), cell)
	}
	return cell
}

func (c *Criteria) rejectWhy(reason Reason, e *entry, sh *shardTablets, r *resolution) string {
	switch reason {
	case WrongType:
		return "wrong type (want " + c.typesLabel + ")"
	case StalePrimary:
		if sh.primary >= 0 {
			return "stale primary (the shard primary is " + sh.tablets[sh.primary].alias.String() + ")"
		}
		if sh.hasName {
			return "stale primary (the shard record names " + sh.named.String() + ")"
		}
		return "stale primary"
	case OtherCell:
		var allowed []string
		for _, t := range r.tiers {
			for _, id := range t.cells {
				allowed = append(allowed, r.cells.cellNames[id])
			}
		}
		if len(allowed) == 0 {
			return "other cell (no known cell is allowed)"
		}
		return "other cell (allowed: " + strings.Join(allowed, ",") + ")"
	case Excluded:
		return "excluded"
	case Unfit:
		return "unfit: " + c.opts.Unfit[e.alias]
	case Unhealthy:
		if e.info.HealthError != "" {
			return "unhealthy: " + e.info.HealthError
		}
		return "unhealthy (unreachable)"
	case NotServing:
		return "not serving"
	case Lagging:
		return "lagging " + e.info.Lag.String() + " > max " + c.opts.MaxLag.String()
	}
	return reason.String()
}

// cellOrder renders the fallback order, "local zone1 > local alias zone2,zone3".
func (x *Explanation) cellOrder() string {
	if len(x.CellOrder) == 0 {
		return "none known"
	}
	parts := make([]string, len(x.CellOrder))
	for i, t := range x.CellOrder {
		parts[i] = t.Name + " " + strings.Join(t.Cells, ",")
	}
	return strings.Join(parts, " > ")
}

// String renders the explanation for a terminal, one tablet per line.
func (x *Explanation) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "shard: %s/%s\n", x.Keyspace, x.Shard)
	fmt.Fprintf(&b, "tablet types: %s (%s)\n", strings.Join(x.TabletTypes, ","), x.TabletOrder)
	if x.PrimaryOnly {
		b.WriteString("cells: not considered (PRIMARY alone means the shard primary)\n")
	} else {
		fmt.Fprintf(&b, "cell preference: %s, local cell %q, cells %q\n", x.CellPreference, x.LocalCell, strings.Join(x.Cells, ","))
		fmt.Fprintf(&b, "cell order: %s\n", x.cellOrder())
	}
	if len(x.UnknownCells) > 0 {
		fmt.Fprintf(&b, "unknown cells (ignored): %s\n", strings.Join(x.UnknownCells, ","))
	}
	switch {
	case x.NoSnapshot:
		b.WriteString("no tablet health known yet\n")
		return b.String()
	case !x.ShardKnown:
		b.WriteString("no tablets known for this shard\n")
		return b.String()
	}
	switch {
	case x.RecordPrimary != "":
		fmt.Fprintf(&b, "shard primary: none (the shard record names %s, not a PRIMARY tablet here)\n", x.RecordPrimary)
	case x.ShardPrimary == "":
		b.WriteString("shard primary: none\n")
	default:
		fmt.Fprintf(&b, "shard primary: %s\n", x.ShardPrimary)
	}
	w := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintf(w, "rank\talias\ttype\tcell\twhy\n")
	for _, c := range x.Candidates {
		fmt.Fprintf(w, "%d\t%s\t%s\t%s\t%s\n", c.Rank, c.Alias, c.Type, c.Cell, c.Why)
	}
	for _, c := range x.Rejected {
		fmt.Fprintf(w, "-\t%s\t%s\t%s\t%s\n", c.Alias, c.Type, c.Cell, c.Why)
	}
	_ = w.Flush() // writes to a strings.Builder cannot fail
	switch n := countRank1(x.Candidates); n {
	case 0:
		b.WriteString("no tablet matches\n")
	case 1:
		b.WriteString("pick: the rank-1 tablet\n")
	default:
		fmt.Fprintf(&b, "pick: one of the %d rank-1 tablets at random\n", n)
	}
	return b.String()
}

func countRank1(cs []Candidate) int {
	n := 0
	for _, c := range cs {
		if c.Rank == 1 {
			n++
		}
	}
	return n
}

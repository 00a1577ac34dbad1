package picker

import (
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	topodatapb "vitess.io/vitess/go/vt/proto/topodata"
)

// CellPreference says which cells a pick may use and in which order
// (RFC vitess#11999). The zero value is the default, PreferLocalWithAlias.
type CellPreference int8

const (
	// PreferLocalWithAlias: the local cell, then the other cells of the
	// alias that contains it, then the specified cells.
	PreferLocalWithAlias CellPreference = iota
	// PreferLocal: the local cell, then the specified cells.
	PreferLocal
	// OnlySpecified: the specified cells only, all equal, no fallback.
	OnlySpecified
)

var cellPreferenceNames = [...]string{"PreferLocalWithAlias", "PreferLocal", "OnlySpecified"}

func (p CellPreference) String() string {
	if p < 0 || int(p) >= len(cellPreferenceNames) {
		return "CellPreference(" + strconv.Itoa(int(p)) + ")"
	}
	return cellPreferenceNames[p]
}

// ParseCellPreference reads a preference name in any letter case; "" is the
// default. An unknown name is an *InvalidArgumentError listing the valid ones.
func ParseCellPreference(s string) (CellPreference, error) {
	if s == "" {
		return PreferLocalWithAlias, nil
	}
	for i, n := range cellPreferenceNames {
		if strings.EqualFold(s, n) {
			return CellPreference(i), nil
		}
	}
	return 0, invalidArg("cell preference", s, "", cellPreferenceNames[:]...)
}

// TabletOrder says whether the listed tablet types are equal or ranked.
type TabletOrder int8

const (
	// Any: all listed types are equal; the cell preference decides.
	Any TabletOrder = iota
	// InOrder: earlier types are preferred, over the cell preference too.
	InOrder
)

var tabletOrderNames = [...]string{"Any", "InOrder"}

func (o TabletOrder) String() string {
	if o < 0 || int(o) >= len(tabletOrderNames) {
		return "TabletOrder(" + strconv.Itoa(int(o)) + ")"
	}
	return tabletOrderNames[o]
}

// ParseTabletOrder reads "Any" or "InOrder" in any letter case; "" is Any.
func ParseTabletOrder(s string) (TabletOrder, error) {
	if s == "" {
		return Any, nil
	}
	for i, n := range tabletOrderNames {
		if strings.EqualFold(s, n) {
			return TabletOrder(i), nil
		}
	}
	return 0, invalidArg("tablet order", s, "", tabletOrderNames[:]...)
}

// InOrderHint is the legacy prefix of a types string that means InOrder.
const InOrderHint = "in_order:"

// DefaultTabletTypes is used when no type is given.
const DefaultTabletTypes = "REPLICA,RDONLY,PRIMARY"

// Options is what a caller asks for. Compile it once and reuse the result.
type Options struct {
	// Cells may hold cell names and cell-alias names; an alias stands for
	// its cells. Names that are neither are ignored (Explain reports them).
	Cells []string
	// LocalCell is the caller's cell (the gateway's --cell). It may also
	// name an alias, whose cells are then all "local".
	LocalCell      string
	CellPreference CellPreference
	// TabletTypes is a comma list (REPLICA,RDONLY), optionally with the
	// legacy "in_order:" prefix, which means InOrder and wins over
	// TabletOrder. Empty (with Types empty) means DefaultTabletTypes.
	TabletTypes string
	// Types is the same list as values; set TabletTypes or Types, not both.
	Types       []topodatapb.TabletType
	TabletOrder TabletOrder
	// Exclude lists tablets never to pick (a source that just failed).
	Exclude []Alias
	// Unfit lists tablets not fit for this use, with why (a VStream source whose binlog
	// settings a change stream cannot use); explanations give the reason. Query routing
	// leaves it empty.
	Unfit map[Alias]string
	// MaxLag turns down non-primary tablets lagging more; 0 = no bound.
	MaxLag time.Duration
	// IncludeNonServing accepts tablets that report not serving.
	IncludeNonServing bool
}

// Criteria is compiled Options: immutable, safe for concurrent use, and
// meant to be kept (per target, per stream) so that a pick does no parsing.
// It caches the cell ranking for the last snapshot it saw.
type Criteria struct {
	opts        Options                 // as given, Types normalised
	types       []topodatapb.TabletType // deduplicated, in the given order
	typeRank    [typeSlots]int8         // by TabletType value; -1 = not wanted
	inOrder     bool
	primaryOnly bool // PRIMARY is the only type: the shard primary, any cell
	cells       []string
	exclude     []Alias
	typesLabel  string // "REPLICA,RDONLY", for metrics and errors
	cellsLabel  string // the cells as given, or the local cell

	res atomic.Pointer[resolution] // cell ranks for the last snapshot used
}

// typeSlots bounds the TabletType values the rank table covers.
const typeSlots = 16

// pickableTypes are the types a query or a stream may be sent to; the
// others (SPARE, BACKUP, DRAINED...) are never picked.
var pickableTypes = []string{"PRIMARY", "REPLICA", "RDONLY"}

// Compile validates the options and prepares them for Pick. Errors are
// *InvalidArgumentError.
func Compile(o Options) (*Criteria, error) {
	if err := o.validate(); err != nil {
		return nil, err
	}
	c := &Criteria{opts: o, inOrder: o.TabletOrder == InOrder}
	types := o.Types
	if len(types) == 0 {
		var inOrder bool
		var err error
		types, inOrder, err = ParseTabletTypes(o.TabletTypes)
		if err != nil {
			return nil, err
		}
		c.inOrder = c.inOrder || inOrder // the prefix wins over the option
	}
	for i := range c.typeRank {
		c.typeRank[i] = -1
	}
	names := make([]string, 0, len(types))
	for _, t := range types {
		if !isPickable(t) {
			return nil, invalidArg("tablet type", t.String(), "", pickableTypes...)
		}
		if c.typeRank[t] >= 0 {
			continue // a repeated type keeps its first place
		}
		c.typeRank[t] = int8(len(c.types))
		c.types = append(c.types, t)
		names = append(names, typeName(t))
	}
	c.opts.Types = c.types
	c.primaryOnly = len(c.types) == 1 && c.types[0] == topodatapb.TabletType_PRIMARY
	c.typesLabel = strings.Join(names, ",")

	seen := make(map[string]bool, len(o.Cells))
	for _, cell := range o.Cells {
		cell = strings.TrimSpace(cell)
		if cell == "" || seen[cell] {
			continue
		}
		seen[cell] = true
		c.cells = append(c.cells, cell)
	}
	if len(c.cells) > 0 {
		c.cellsLabel = strings.Join(c.cells, ",")
	} else {
		c.cellsLabel = o.LocalCell
	}
	c.exclude = append([]Alias(nil), o.Exclude...)
	c.opts.Exclude = c.exclude
	return c, nil
}

func (o *Options) validate() error {
	if o.CellPreference < 0 || int(o.CellPreference) >= len(cellPreferenceNames) {
		return invalidArg("cell preference", o.CellPreference.String(), "", cellPreferenceNames[:]...)
	}
	if o.TabletOrder < 0 || int(o.TabletOrder) >= len(tabletOrderNames) {
		return invalidArg("tablet order", o.TabletOrder.String(), "", tabletOrderNames[:]...)
	}
	if o.CellPreference != OnlySpecified && o.LocalCell == "" {
		return invalidArg("cell preference", o.CellPreference.String(),
			"a local preference needs a local cell: set the local cell (--cell) or use OnlySpecified")
	}
	if o.CellPreference == OnlySpecified && o.LocalCell == "" && len(SplitCells(strings.Join(o.Cells, ","))) == 0 {
		return invalidArg("cells", "", "OnlySpecified needs at least one cell or a local cell")
	}
	if o.TabletTypes != "" && len(o.Types) > 0 {
		return invalidArg("tablet types", o.TabletTypes, "give the types as a string or as values, not both")
	}
	if o.MaxLag < 0 {
		return invalidArg("max lag", o.MaxLag.String(), "must be zero (no bound) or positive")
	}
	for _, a := range o.Exclude {
		if a.Cell == "" {
			return invalidArg("excluded tablet", a.String(), "an alias needs a cell")
		}
	}
	return nil
}

// ParseTabletTypes reads a comma list of tablet types in any letter case,
// with the legacy "in_order:" prefix reported as inOrder. "" gives
// DefaultTabletTypes. MASTER and BATCH are read as PRIMARY and RDONLY.
func ParseTabletTypes(s string) (types []topodatapb.TabletType, inOrder bool, err error) {
	s = strings.TrimSpace(s)
	if len(s) >= len(InOrderHint) && strings.EqualFold(s[:len(InOrderHint)], InOrderHint) {
		inOrder = true
		s = strings.TrimSpace(s[len(InOrderHint):])
		if s == "" {
			return nil, false, invalidArg("tablet types", InOrderHint, "in_order: needs at least one type after it", pickableTypes...)
		}
	}
	if s == "" {
		s = DefaultTabletTypes
	}
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		v, ok := topodatapb.TabletType_value[strings.ToUpper(part)]
		if !ok || !isPickable(topodatapb.TabletType(v)) {
			return nil, false, invalidArg("tablet type", part, "", pickableTypes...)
		}
		types = append(types, topodatapb.TabletType(v))
	}
	return types, inOrder, nil
}

// SplitCells splits a comma list of cells (a flag or a URL parameter),
// dropping blanks.
func SplitCells(s string) []string {
	var out []string
	for _, c := range strings.Split(s, ",") {
		if c = strings.TrimSpace(c); c != "" {
			out = append(out, c)
		}
	}
	return out
}

func isPickable(t topodatapb.TabletType) bool {
	switch t {
	case topodatapb.TabletType_PRIMARY, topodatapb.TabletType_REPLICA, topodatapb.TabletType_RDONLY:
		return true
	}
	return false
}

// typeName avoids the protobuf reflection behind TabletType.String.
func typeName(t topodatapb.TabletType) string {
	switch t {
	case topodatapb.TabletType_PRIMARY:
		return "PRIMARY"
	case topodatapb.TabletType_REPLICA:
		return "REPLICA"
	case topodatapb.TabletType_RDONLY:
		return "RDONLY"
	}
	return t.String()
}

// Options returns the options the criteria were compiled from, with Types
// filled in (deduplicated) and TabletOrder as applied.
func (c *Criteria) Options() Options {
	o := c.opts
	o.Types = append([]topodatapb.TabletType(nil), c.types...)
	o.Cells = append([]string(nil), c.cells...)
	o.TabletTypes = ""
	if c.inOrder {
		o.TabletOrder = InOrder
	}
	return o
}

// TypesLabel is the type list as "REPLICA,RDONLY" (used in metrics).
func (c *Criteria) TypesLabel() string { return c.typesLabel }

// CellsLabel is the cell list as given, or the local cell (used in metrics).
func (c *Criteria) CellsLabel() string { return c.cellsLabel }

package vschema

import (
	"sort"
	"strings"

	vschemapb "vitess.io/vitess/go/vt/proto/vschema"

	"github.com/vtdirect/vtdirect/vindex"
)

// VSchema is every keyspace's vschema, built. It is immutable: a change builds a new one.
type VSchema struct {
	// Generation counts the VSchemas a Watcher published (0 for one built directly).
	Generation uint64
	keyspaces  map[string]*Keyspace
}

// Keyspace returns a keyspace's vschema, or nil when the topo has none for it.
func (v *VSchema) Keyspace(name string) *Keyspace {
	if v == nil {
		return nil
	}
	return v.keyspaces[name]
}

// Keyspaces returns the keyspace names, sorted.
func (v *VSchema) Keyspaces() []string {
	if v == nil {
		return nil
	}
	out := make([]string, 0, len(v.keyspaces))
	for k := range v.keyspaces {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Sharded reports whether a keyspace's vschema says it is sharded (false for an unknown
// keyspace or one without a vschema).
func (v *VSchema) Sharded(keyspace string) bool {
	ks := v.Keyspace(keyspace)
	return ks != nil && ks.Sharded
}

// Keyspace is one keyspace's vschema.
type Keyspace struct {
	Name    string
	Sharded bool
	// Err is what is wrong with the keyspace's vschema (nil when it built): its statements are
	// refused with it until the vschema is fixed.
	Err error
	// Vindexes by name; Tables by name (MySQL table names are case-sensitive on the servers
	// vtdirect runs with, as in Vitess).
	Vindexes map[string]vindex.Vindex
	Tables   map[string]*Table
	// RequireExplicitRouting: the keyspace's tables are reached only by naming the keyspace.
	RequireExplicitRouting bool
	// Proto is the vschema as the topo has it (what SHOW VSCHEMA shows); nil when none.
	Proto *vschemapb.Keyspace
}

// Table returns a table of the keyspace, or nil.
func (k *Keyspace) Table(name string) *Table {
	if k == nil {
		return nil
	}
	return k.Tables[name]
}

// TableNames returns the table names, sorted.
func (k *Keyspace) TableNames() []string {
	out := make([]string, 0, len(k.Tables))
	for n := range k.Tables {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// Table types.
const (
	TypeNormal    = ""
	TypeReference = "reference"
	TypeSequence  = "sequence"
)

// Table is one table of a keyspace's vschema.
type Table struct {
	Keyspace *Keyspace
	Name     string
	// Type is TypeNormal, TypeReference or TypeSequence.
	Type string
	// ColumnVindexes are the table's vindexes; the first is its primary vindex (which says
	// where each row lives), the others are secondary (lookups that can route queries).
	ColumnVindexes []*ColumnVindex
	// AutoIncrement gives the column its values from a sequence, or is nil.
	AutoIncrement *AutoIncrement
	// Source is, for a reference table, the table its rows come from (writes go there); nil
	// when the reference table has no source (writes are then refused).
	Source *Table
	// Pinned is the keyspace id of a table of a sharded keyspace that lives on one shard.
	Pinned []byte
	// Columns are the columns the vschema lists (optional), in order.
	Columns []string
	// ColumnListAuthoritative: Columns are all the columns.
	ColumnListAuthoritative bool
}

// QualifiedName is "keyspace.table".
func (t *Table) QualifiedName() string { return t.Keyspace.Name + "." + t.Name }

// Primary returns the table's primary vindex, or nil (unsharded keyspace, reference,
// sequence or pinned tables have none).
func (t *Table) Primary() *ColumnVindex {
	if len(t.ColumnVindexes) == 0 {
		return nil
	}
	return t.ColumnVindexes[0]
}

// ColumnVindex finds the vindex on a column (compared case-insensitively, as MySQL compares
// column names), the cheapest unique one first; nil when the column has none.
func (t *Table) ColumnVindex(column string) *ColumnVindex {
	var best *ColumnVindex
	for _, cv := range t.ColumnVindexes {
		if !strings.EqualFold(cv.Column, column) {
			continue
		}
		if best == nil || betterVindex(cv.Vindex, best.Vindex) {
			best = cv
		}
	}
	return best
}

func betterVindex(a, b vindex.Vindex) bool {
	if a.Unique() != b.Unique() {
		return a.Unique()
	}
	return a.Cost() < b.Cost()
}

// ColumnVindex is a vindex on one column of a table.
type ColumnVindex struct {
	Column string // as the vschema names it
	Vindex vindex.Vindex
	// Owned: the table owns the vindex (a lookup vindex's rows are created and deleted with
	// the table's rows).
	Owned bool
}

// AutoIncrement is a column filled from a sequence when an insert does not give it.
type AutoIncrement struct {
	Column   string
	Sequence *Table // a TypeSequence table of an unsharded keyspace
}

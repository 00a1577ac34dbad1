package vschema

import (
	"encoding/hex"
	"errors"
	"fmt"
	"sort"
	"strings"

	vschemapb "vitess.io/vitess/go/vt/proto/vschema"

	"github.com/vtdirect/vtdirect/vindex"
)

// Error is a problem in a keyspace's vschema, naming where it is.
type Error struct {
	Keyspace string
	// Table and Vindex name the table or vindex the problem is in ("" when neither);
	// Field is the path of the field within it ("column_vindexes[0].name").
	Table, Vindex, Field string
	Msg                  string
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("vschema of keyspace ")
	b.WriteString(e.Keyspace)
	b.WriteString(": ")
	switch {
	case e.Table != "":
		fmt.Fprintf(&b, "table %q: ", e.Table)
	case e.Vindex != "":
		fmt.Fprintf(&b, "vindex %q: ", e.Vindex)
	}
	if e.Field != "" {
		b.WriteString(e.Field)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Build builds every keyspace's vschema. A keyspace whose vschema has a problem gets it in
// Keyspace.Err (the first problem found, in a stable order); the others build regardless.
func Build(src map[string]*vschemapb.Keyspace) *VSchema {
	vs := &VSchema{keyspaces: make(map[string]*Keyspace, len(src))}
	names := make([]string, 0, len(src))
	for name := range src {
		names = append(names, name)
	}
	sort.Strings(names)
	// First each keyspace on its own, then what refers to other keyspaces.
	for _, name := range names {
		vs.keyspaces[name] = buildKeyspace(name, src[name])
	}
	for _, name := range names {
		ks := vs.keyspaces[name]
		if ks.Err == nil {
			ks.Err = vs.resolve(ks, src[name])
		}
	}
	return vs
}

// Check reports the first problem of keyspace's vschema pb, given the vschemas of the other
// keyspaces (which its sequences, reference sources and lookup tables may name).
func Check(keyspace string, pb *vschemapb.Keyspace, others map[string]*vschemapb.Keyspace) error {
	all := make(map[string]*vschemapb.Keyspace, len(others)+1)
	for k, v := range others {
		all[k] = v
	}
	all[keyspace] = pb
	return Build(all).Keyspace(keyspace).Err
}

func buildKeyspace(name string, pb *vschemapb.Keyspace) *Keyspace {
	ks := &Keyspace{Name: name, Vindexes: map[string]vindex.Vindex{}, Tables: map[string]*Table{}}
	if pb == nil {
		return ks
	}
	ks.Sharded = pb.Sharded
	ks.RequireExplicitRouting = pb.RequireExplicitRouting
	ks.Proto = pb
	ks.Err = ks.build(pb)
	return ks
}

func (ks *Keyspace) errf(table, vdx, field, format string, args ...any) error {
	return &Error{Keyspace: ks.Name, Table: table, Vindex: vdx, Field: field, Msg: fmt.Sprintf(format, args...)}
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func (ks *Keyspace) build(pb *vschemapb.Keyspace) error {
	for _, name := range sortedKeys(pb.Vindexes) {
		v := pb.Vindexes[name]
		if name == "" {
			return ks.errf("", "", "vindexes", "a vindex has an empty name")
		}
		if v == nil || v.Type == "" {
			return ks.errf("", name, "type", "missing; give a vindex type such as \"hash\" (supported: %s)", strings.Join(vindex.Types(), ", "))
		}
		vdx, unknown, err := vindex.New(name, v.Type, v.Params)
		if err != nil {
			var ute *vindex.UnknownTypeError
			if errors.As(err, &ute) {
				return ks.errf("", name, "type", "%v", err)
			}
			return ks.errf("", name, "params", "%v", err)
		}
		if len(unknown) > 0 {
			return ks.errf("", name, "params", "unknown param(s) %s for type %s", strings.Join(unknown, ", "), v.Type)
		}
		if !ks.Sharded {
			return ks.errf("", name, "", "an unsharded keyspace has no vindexes; set \"sharded\": true or remove the vindex")
		}
		ks.Vindexes[name] = vdx
	}
	for _, name := range sortedKeys(pb.Tables) {
		t, err := ks.buildTable(name, pb.Tables[name])
		if err != nil {
			return err
		}
		ks.Tables[name] = t
	}
	// Owners: a vindex's owner must be a table that uses it.
	for _, name := range sortedKeys(pb.Vindexes) {
		owner := pb.Vindexes[name].Owner
		if owner == "" {
			continue
		}
		t := ks.Tables[owner]
		if t == nil {
			return ks.errf("", name, "owner", "table %q is not in the keyspace's tables", owner)
		}
		found := false
		for i, cv := range t.ColumnVindexes {
			if cv.Vindex.Name() == name {
				found = true
				t.ColumnVindexes[i].Owned = true
			}
		}
		if !found {
			return ks.errf("", name, "owner", "table %q does not use vindex %q in its column_vindexes", owner, name)
		}
	}
	return nil
}

func (ks *Keyspace) buildTable(name string, pb *vschemapb.Table) (*Table, error) {
	if name == "" {
		return nil, ks.errf("", "", "tables", "a table has an empty name")
	}
	t := &Table{Keyspace: ks, Name: name}
	if pb == nil {
		pb = &vschemapb.Table{}
	}
	switch pb.Type {
	case TypeNormal, TypeReference, TypeSequence:
		t.Type = pb.Type
	default:
		return nil, ks.errf(name, "", "type", "%q is not a table type; use \"reference\", \"sequence\" or leave it out", pb.Type)
	}
	for _, c := range pb.Columns {
		if c.GetName() == "" {
			return nil, ks.errf(name, "", "columns", "a column has an empty name")
		}
		t.Columns = append(t.Columns, c.Name)
	}
	t.ColumnListAuthoritative = pb.ColumnListAuthoritative
	if pb.Source != "" && t.Type != TypeReference {
		return nil, ks.errf(name, "", "source", "only a reference table has a source; add \"type\": \"reference\"")
	}
	if t.Type == TypeSequence && ks.Sharded {
		return nil, ks.errf(name, "", "type", "a sequence table must be in an unsharded keyspace (one shard serves its ids)")
	}
	if t.Type != TypeNormal && len(pb.ColumnVindexes) > 0 {
		return nil, ks.errf(name, "", "column_vindexes", "a %s table has no vindexes", t.Type)
	}
	if pb.Pinned != "" {
		id, err := hex.DecodeString(pb.Pinned)
		if err != nil || len(id) == 0 {
			return nil, ks.errf(name, "", "pinned", "%q is not a hex keyspace id", pb.Pinned)
		}
		if !ks.Sharded {
			return nil, ks.errf(name, "", "pinned", "only tables of a sharded keyspace are pinned")
		}
		if len(pb.ColumnVindexes) > 0 {
			return nil, ks.errf(name, "", "pinned", "a pinned table has no column_vindexes")
		}
		t.Pinned = id
	}
	for i, cv := range pb.ColumnVindexes {
		field := fmt.Sprintf("column_vindexes[%d]", i)
		if !ks.Sharded {
			return nil, ks.errf(name, "", field, "a table of an unsharded keyspace has no vindexes")
		}
		col := cv.Column
		switch {
		case col != "" && len(cv.Columns) > 0:
			return nil, ks.errf(name, "", field, "give \"column\" or \"columns\", not both")
		case len(cv.Columns) > 1:
			return nil, ks.errf(name, "", field+".columns", "multi-column vindexes are not supported; use one column")
		case len(cv.Columns) == 1:
			col = cv.Columns[0]
		}
		if col == "" {
			return nil, ks.errf(name, "", field+".column", "missing; name the column the vindex reads")
		}
		vdx := ks.Vindexes[cv.Name]
		if vdx == nil {
			return nil, ks.errf(name, "", field+".name", "vindex %q is not defined under \"vindexes\" (defined: %s)", cv.Name, strings.Join(sortedKeys(ks.Vindexes), ", "))
		}
		if i == 0 && !vdx.Unique() {
			return nil, ks.errf(name, "", field+".name", "the primary vindex (the first) must be unique; %q is not", cv.Name)
		}
		if i == 0 {
			if _, ok := vdx.(*vindex.Lookup); ok {
				return nil, ks.errf(name, "", field+".name", "a lookup vindex (%q) cannot be the primary vindex: the first must compute the keyspace id (hash, xxhash...)", cv.Name)
			}
		}
		t.ColumnVindexes = append(t.ColumnVindexes, &ColumnVindex{Column: col, Vindex: vdx})
	}
	if ks.Sharded && t.Type == TypeNormal && len(t.ColumnVindexes) == 0 && t.Pinned == nil {
		return nil, ks.errf(name, "", "column_vindexes", "a table of a sharded keyspace needs a primary vindex (the first column vindex), or \"type\": \"reference\", or \"pinned\"")
	}
	if ai := pb.AutoIncrement; ai != nil {
		if ai.Column == "" {
			return nil, ks.errf(name, "", "auto_increment.column", "missing; name the column the sequence fills")
		}
		if ai.Sequence == "" {
			return nil, ks.errf(name, "", "auto_increment.sequence", "missing; name the sequence table (keyspace.table)")
		}
		t.AutoIncrement = &AutoIncrement{Column: ai.Column} // Sequence resolved across keyspaces
	}
	return t, nil
}

// resolve links what a keyspace's vschema names in other keyspaces: sequences, reference
// sources, lookup tables.
func (v *VSchema) resolve(ks *Keyspace, pb *vschemapb.Keyspace) error {
	for _, name := range ks.TableNames() {
		t := ks.Tables[name]
		tpb := pb.Tables[name]
		if t.AutoIncrement != nil {
			seq, err := v.findTable(ks.Name, tpb.AutoIncrement.Sequence)
			if err != nil {
				return ks.errf(name, "", "auto_increment.sequence", "%v", err)
			}
			if seq.Type != TypeSequence {
				return ks.errf(name, "", "auto_increment.sequence", "table %s is not a sequence (its vschema needs \"type\": \"sequence\")", seq.QualifiedName())
			}
			t.AutoIncrement.Sequence = seq
		}
		if tpb != nil && tpb.Source != "" {
			src, err := v.findTable(ks.Name, tpb.Source)
			if err != nil {
				return ks.errf(name, "", "source", "%v", err)
			}
			if src.Keyspace == ks {
				return ks.errf(name, "", "source", "the source of a reference table is in another keyspace")
			}
			if src.Keyspace.Sharded && src.Type != TypeReference {
				return ks.errf(name, "", "source", "%s is a sharded table; a reference table's source is an unsharded table (or another reference table)", src.QualifiedName())
			}
			t.Source = src
		}
	}
	for _, name := range sortedKeys(ks.Vindexes) {
		l, ok := ks.Vindexes[name].(*vindex.Lookup)
		if !ok {
			continue
		}
		lks, ltable := l.TableName()
		if lks == "" {
			lks = ks.Name
		}
		target := v.keyspaces[lks]
		switch {
		case target == nil:
			return ks.errf("", name, "params.table", "keyspace %q of lookup table %q has no vschema", lks, l.Table)
		case target.Err != nil:
			return ks.errf("", name, "params.table", "keyspace %q of lookup table %q has a broken vschema", lks, l.Table)
		case target.Sharded && target.Tables[ltable] == nil:
			return ks.errf("", name, "params.table", "table %q is not in the vschema of sharded keyspace %s", ltable, lks)
		}
	}
	return nil
}

// findTable finds "keyspace.table", or "table" in the only keyspace that has it (the given
// keyspace first).
func (v *VSchema) findTable(from, name string) (*Table, error) {
	if ksName, tname, ok := strings.Cut(name, "."); ok {
		ks := v.keyspaces[ksName]
		if ks == nil {
			return nil, fmt.Errorf("keyspace %q of %q has no vschema", ksName, name)
		}
		t := ks.Tables[tname]
		if t == nil {
			return nil, fmt.Errorf("table %q is not in the vschema of keyspace %s", tname, ksName)
		}
		return t, nil
	}
	if t := v.keyspaces[from].Table(name); t != nil {
		return t, nil
	}
	var found []*Table
	for _, ks := range v.keyspaces {
		if t := ks.Tables[name]; t != nil {
			found = append(found, t)
		}
	}
	switch len(found) {
	case 0:
		return nil, fmt.Errorf("no keyspace's vschema has table %q; name it as keyspace.table", name)
	case 1:
		return found[0], nil
	}
	return nil, fmt.Errorf("table %q is in several keyspaces; name it as keyspace.table", name)
}

// Empty is a keyspace's vschema when the topo has none.
func Empty() *vschemapb.Keyspace { return &vschemapb.Keyspace{} }

package planner

import (
	"vitess.io/vitess/go/vt/sqlparser"

	"github.com/vtdirect/vtdirect/vindex"
	"github.com/vtdirect/vtdirect/vschema"
)

// routeInfo is where a statement's tables are.
type routeInfo struct {
	opcode Opcode
	ks     *vschema.Keyspace
	vdx    vindex.Vindex
	values []ValueExpr
	pinned []byte
	table  *vschema.Table
	// group are the sharded tables that go together (co-located on the route's shards).
	group []*tableRef
}

// singleShard reports a route to at most one shard.
func (r *routeInfo) singleShard() bool { return r.opcode != Scatter && r.opcode != In }

// conjuncts splits conditions at their top-level ANDs.
func conjuncts(exprs ...sqlparser.Expr) []sqlparser.Expr {
	var out []sqlparser.Expr
	for _, e := range exprs {
		if e != nil {
			out = sqlparser.SplitAndExpression(out, e)
		}
	}
	return out
}

// route decides the shards of a scope given its WHERE.
func (b *builder) route(s *scope, where sqlparser.Expr) (*routeInfo, error) {
	var sharded, refs, pinned []*tableRef
	var other *vschema.Keyspace
	for _, r := range s.refs {
		switch {
		case r.system, r.table == nil:
			continue
		case r.table.Keyspace != b.ks:
			if r.table.Keyspace.Sharded {
				return nil, unsupported("a statement on keyspace %s reading table %s of another sharded keyspace; make %s the target", b.ks.Name, r.table.QualifiedName(), r.table.Keyspace.Name)
			}
			if other != nil && other != r.table.Keyspace {
				return nil, unsupported("a join across keyspaces %s and %s", other.Name, r.table.Keyspace.Name)
			}
			other = r.table.Keyspace
		case r.table.Type == vschema.TypeReference:
			refs = append(refs, r)
		case r.table.Type == vschema.TypeSequence:
			return nil, unsupported("reading sequence table %s directly; use SELECT NEXT n VALUES FROM %s", r.table.Name, r.table.Name)
		case r.table.Pinned != nil:
			pinned = append(pinned, r)
		default:
			sharded = append(sharded, r)
		}
	}
	if other != nil {
		if len(sharded)+len(refs)+len(pinned) > 0 {
			return nil, unsupported("a join of keyspace %s's tables with tables of unsharded keyspace %s", b.ks.Name, other.Name)
		}
		return &routeInfo{opcode: Unsharded, ks: other}, nil
	}
	r := &routeInfo{ks: b.ks}
	switch {
	case len(pinned) > 0:
		if len(sharded) > 0 {
			return nil, unsupported("a join of pinned table %s with sharded table %s", pinned[0].table.Name, sharded[0].table.Name)
		}
		for _, p := range pinned[1:] {
			if string(p.table.Pinned) != string(pinned[0].table.Pinned) {
				return nil, unsupported("a join of tables pinned to different keyspace ids (%s, %s)", pinned[0].table.Name, p.table.Name)
			}
		}
		r.opcode, r.pinned, r.table = Pinned, pinned[0].table.Pinned, pinned[0].table
		return r, nil
	case len(sharded) == 0:
		r.opcode = AnyOne // reference tables, information_schema, dual: any shard has them
		if len(refs) > 0 {
			r.table = refs[0].table
		}
		return r, nil
	}
	conds := conjuncts(where)
	conds = append(conds, conjuncts(s.on...)...)
	if err := b.colocate(s, sharded, append(append([]sqlparser.Expr{}, conds...), conjuncts(s.outerOn...)...)); err != nil {
		return nil, err
	}
	r.group = sharded
	r.opcode, r.table = Scatter, sharded[0].table
	b.bestVindex(s, r, conds)
	return r, nil
}

// colocate checks that the sharded tables of a scope are joined on their primary vindex
// columns (with vindexes of the same type), so that each row's partners are on its shard.
func (b *builder) colocate(s *scope, sharded []*tableRef, conds []sqlparser.Expr) error {
	if len(sharded) < 2 {
		return nil
	}
	parent := map[*tableRef]*tableRef{}
	var find func(r *tableRef) *tableRef
	find = func(r *tableRef) *tableRef {
		if p, ok := parent[r]; ok && p != r {
			root := find(p)
			parent[r] = root
			return root
		}
		return r
	}
	for _, c := range conds {
		l, r, ok := primaryJoin(s, c)
		if ok {
			parent[find(l)] = find(r)
		}
	}
	root := find(sharded[0])
	for _, t := range sharded[1:] {
		if find(t) != root {
			return unsupported("a join of %s and %s that is not on their primary vindex columns (the gateway does not join rows across shards; join tables sharded alike on their vindex columns, e.g. %s.%s = %s.%s)",
				sharded[0].table.Name, t.table.Name, sharded[0].name, sharded[0].table.Primary().Column, t.name, t.table.Primary().Column)
		}
	}
	return nil
}

// primaryJoin recognises a = b between the primary vindex columns of two sharded tables
// whose vindexes have the same type.
func primaryJoin(s *scope, c sqlparser.Expr) (*tableRef, *tableRef, bool) {
	cmp, ok := c.(*sqlparser.ComparisonExpr)
	if !ok || cmp.Operator != sqlparser.EqualOp {
		return nil, nil, false
	}
	lc, ok1 := cmp.Left.(*sqlparser.ColName)
	rc, ok2 := cmp.Right.(*sqlparser.ColName)
	if !ok1 || !ok2 {
		return nil, nil, false
	}
	l, r := s.lookupRef(lc), s.lookupRef(rc)
	if l == nil || r == nil || l == r || !l.sharded() || !r.sharded() {
		return nil, nil, false
	}
	lp, rp := l.table.Primary(), r.table.Primary()
	if !equalFold(lp.Column, lc.Name.String()) || !equalFold(rp.Column, rc.Name.String()) || lp.Vindex.Type() != rp.Vindex.Type() {
		return nil, nil, false
	}
	return l, r, true
}

func equalFold(a, b string) bool { return lowerString(a) == lowerString(b) }

// bestVindex finds the cheapest vindex condition among the conditions: = on a unique vindex,
// then IN; primary vindexes before lookups.
func (b *builder) bestVindex(s *scope, r *routeInfo, conds []sqlparser.Expr) {
	bestScore := 1 << 30
	for _, c := range conds {
		cmp, ok := c.(*sqlparser.ComparisonExpr)
		if !ok {
			continue
		}
		var col *sqlparser.ColName
		var vals []ValueExpr
		op := EqualUnique
		switch cmp.Operator {
		case sqlparser.EqualOp:
			if cn, ok := cmp.Left.(*sqlparser.ColName); ok {
				if v, ok := b.value(cmp.Right); ok {
					col, vals = cn, []ValueExpr{v}
				}
			}
			if col == nil {
				if cn, ok := cmp.Right.(*sqlparser.ColName); ok {
					if v, ok := b.value(cmp.Left); ok {
						col, vals = cn, []ValueExpr{v}
					}
				}
			}
		case sqlparser.InOp:
			cn, ok := cmp.Left.(*sqlparser.ColName)
			tuple, ok2 := cmp.Right.(sqlparser.ValTuple)
			if !ok || !ok2 {
				continue
			}
			all := true
			for _, e := range tuple {
				v, ok := b.value(e)
				if !ok {
					all = false
					break
				}
				vals = append(vals, v)
			}
			if all {
				col, op = cn, In
			}
		}
		if col == nil {
			continue
		}
		ref := s.lookupRef(col)
		if ref == nil || !ref.sharded() || !inGroup(r.group, ref) {
			continue
		}
		cv := ref.table.ColumnVindex(col.Name.String())
		if cv == nil || !cv.Vindex.Unique() {
			continue
		}
		score := cv.Vindex.Cost()
		if op == In {
			score += 1000
		}
		if score < bestScore {
			bestScore = score
			r.opcode, r.vdx, r.values, r.table = op, cv.Vindex, vals, ref.table
		}
	}
}

func inGroup(group []*tableRef, r *tableRef) bool {
	for _, g := range group {
		if g == r {
			return true
		}
	}
	return false
}

package planner

import (
	"fmt"

	"vitess.io/vitess/go/vt/sqlparser"

	"github.com/vtdirect/vtdirect/vschema"
)

func fmtType(v any) string { return fmt.Sprintf("%T", v) }

// NextValues is SELECT NEXT n VALUES FROM sequence.
type NextValues struct {
	Sequence *vschema.Table
	Count    ValueExpr
}

func (b *builder) selectStatement(sel *sqlparser.Select) (*Plan, error) {
	if p, ok, err := b.specialSelect(sel); ok || err != nil {
		return p, err
	}
	if sel.Into != nil {
		return nil, unsupported("SELECT ... INTO on a sharded keyspace")
	}
	if sel.With != nil {
		return nil, unsupported("WITH (common table expressions) on a sharded keyspace")
	}
	s, err := b.tables(sel.From, nil)
	if err != nil {
		return nil, err
	}
	r, err := b.selectRoute(sel, s)
	if err != nil {
		return nil, err
	}
	plan := &Plan{Kind: KindRoute, ReadOnly: sel.Lock != sqlparser.ForUpdateLock && !isNoWaitUpdate(sel.Lock)}
	route := &Route{Opcode: r.opcode, Keyspace: r.ks, Vindex: r.vdx, Values: r.values, Pinned: r.pinned, Table: r.table}
	plan.Route = route
	if r.singleShard() {
		b.setQuery(route, sel)
		return plan, nil
	}
	if sel.SQLCalcFoundRows {
		return nil, unsupported("SQL_CALC_FOUND_ROWS on several shards")
	}
	m, shardSel, err := b.mergePlan(sel)
	if err != nil {
		return nil, err
	}
	if b.hasQualifiers(sel) {
		route.One = b.template(sel)
	} else {
		route.One, route.OneVerbatim = b.verbatimText(), true
	}
	if m == nil {
		b.setQuery(route, sel) // rows are concatenated: the statement as written
		return plan, nil
	}
	plan.Merge = m
	if shardSel == sel {
		b.setQuery(route, sel) // the merge needs nothing the statement does not give
	} else {
		route.Query = b.template(shardSel)
	}
	return plan, nil
}

func isNoWaitUpdate(l sqlparser.Lock) bool {
	return l == sqlparser.ForUpdateLockNoWait || l == sqlparser.ForUpdateLockSkipLocked
}

// setQuery sends the statement as written when the shards can run it so, else rendered.
func (b *builder) setQuery(r *Route, node sqlparser.SQLNode) {
	if b.hasQualifiers(node) {
		r.Query = b.template(node)
		return
	}
	r.Query, r.Verbatim = b.verbatimText(), true
	if b.prepared {
		r.Query = b.template(node)
	}
}

// specialSelect plans the SELECTs the gateway answers itself or sends to one shard.
func (b *builder) specialSelect(sel *sqlparser.Select) (*Plan, bool, error) {
	items := sel.SelectExprs.Exprs
	if len(items) == 1 {
		if nv, ok := items[0].(*sqlparser.Nextval); ok {
			if len(sel.From) != 1 {
				return nil, true, unsupported("NEXT VALUES from several tables")
			}
			ate, ok := sel.From[0].(*sqlparser.AliasedTableExpr)
			tn, ok2 := ate.Expr.(sqlparser.TableName)
			if !ok || !ok2 {
				return nil, true, unsupported("NEXT VALUES from something that is not a sequence table")
			}
			seq, err := b.findSequence(tn)
			if err != nil {
				return nil, true, err
			}
			count, ok := b.value(nv.Expr)
			if !ok {
				return nil, true, unsupported("NEXT VALUES with a count that is not a number")
			}
			return &Plan{Kind: KindNextValues, Next: &NextValues{Sequence: seq, Count: count}}, true, nil
		}
	}
	if !onlyDual(sel.From) {
		return nil, false, nil
	}
	if len(items) == 1 && sel.Where == nil && sel.GroupBy == nil && sel.Having == nil && len(sel.OrderBy) == 0 && sel.Limit == nil && sel.Into == nil {
		if ae, ok := items[0].(*sqlparser.AliasedExpr); ok {
			if f, ok := ae.Expr.(*sqlparser.FuncExpr); ok && f.Name.Lowered() == "last_insert_id" && len(f.Exprs) == 0 {
				name := "last_insert_id()"
				if !ae.As.IsEmpty() {
					name = ae.As.String()
				} else if it := b.selectItems(); len(it) == 1 {
					name = it[0].text
				}
				return &Plan{Kind: KindLastInsertID, ReadOnly: true, Name: name}, true, nil
			}
		}
	}
	if containsSubquery(sel) {
		return nil, false, nil // planned as a route: its subqueries name tables
	}
	// No table: any shard computes it (SELECT 1, SELECT NOW(), SELECT @@version).
	r := &Route{Opcode: AnyOne, Keyspace: b.ks}
	b.setQuery(r, sel)
	return &Plan{Kind: KindRoute, ReadOnly: sel.Lock == sqlparser.NoLock, Route: r}, true, nil
}

func onlyDual(from []sqlparser.TableExpr) bool {
	for _, te := range from {
		ate, ok := te.(*sqlparser.AliasedTableExpr)
		if !ok {
			return false
		}
		tn, ok := ate.Expr.(sqlparser.TableName)
		if !ok || tn.Name.String() != "dual" || !tn.Qualifier.IsEmpty() {
			return false
		}
	}
	return true
}

func containsSubquery(node sqlparser.SQLNode) bool {
	found := false
	_ = sqlparser.Walk(func(n sqlparser.SQLNode) (bool, error) {
		switch n.(type) {
		case *sqlparser.Subquery, *sqlparser.DerivedTable:
			found = true
		}
		return !found, nil
	}, node)
	return found
}

// findSequence finds a sequence table named in a statement.
func (b *builder) findSequence(tn sqlparser.TableName) (*vschema.Table, error) {
	ref, err := b.resolveTable(tn)
	if err != nil {
		// The sequence usually lives in an unsharded keyspace: look there.
		for _, name := range b.vs.Keyspaces() {
			if t := b.vs.Keyspace(name).Table(tn.Name.String()); t != nil && t.Type == vschema.TypeSequence && tn.Qualifier.IsEmpty() {
				return t, nil
			}
		}
		return nil, err
	}
	if ref.table == nil || ref.table.Type != vschema.TypeSequence {
		return nil, unsupported("NEXT VALUES from %s, which is not a sequence (its vschema needs \"type\": \"sequence\")", tn.Name.String())
	}
	return ref.table, nil
}

// selectRoute routes a SELECT: its tables, then its derived tables and subqueries, which must
// be on the same shard as the rows they go with.
func (b *builder) selectRoute(sel *sqlparser.Select, s *scope) (*routeInfo, error) {
	var where sqlparser.Expr
	if sel.Where != nil {
		where = sel.Where.Expr
	}
	r, err := b.route(s, where)
	if err != nil {
		return nil, err
	}
	for _, d := range s.derived {
		if r, err = b.mergeDerived(r, d); err != nil {
			return nil, err
		}
	}
	if err := b.checkSubqueries(sel, s, r); err != nil {
		return nil, err
	}
	return r, nil
}

// mergeDerived combines a route with a derived table's (FROM (SELECT ...) x).
func (b *builder) mergeDerived(r *routeInfo, d *sqlparser.DerivedTable) (*routeInfo, error) {
	inner, ok := d.Select.(*sqlparser.Select)
	if !ok {
		return nil, unsupported("a UNION in FROM on a sharded keyspace")
	}
	s, err := b.tables(inner.From, nil)
	if err != nil {
		return nil, err
	}
	ir, err := b.selectRoute(inner, s)
	if err != nil {
		return nil, err
	}
	switch {
	case ir.opcode == AnyOne:
		return r, nil
	case r.opcode == AnyOne && len(r.group) == 0 && ir.singleShard():
		return ir, nil // the derived table is all there is
	case r.opcode == EqualUnique && ir.opcode == EqualUnique && sameShardValue(r, ir):
		return r, nil
	case ir.opcode == Unsharded && r.opcode == AnyOne && len(r.group) == 0:
		return ir, nil
	}
	return nil, unsupported("a derived table (FROM (SELECT ...)) on other shards than the rest of the query; the gateway merges only what one shard computes")
}

// sameShardValue: two EqualUnique routes with the same vindex type on the same value are on
// the same shard.
func sameShardValue(a, b *routeInfo) bool {
	if a.vdx.Type() != b.vdx.Type() || a.vdx.Type() == "consistent_lookup_unique" {
		return false
	}
	va, vb := a.values[0], b.values[0]
	if va.Arg >= 0 || vb.Arg >= 0 {
		return va.Arg == vb.Arg
	}
	return va.Const.Kind == vb.Const.Kind && string(va.Const.Raw) == string(vb.Const.Raw)
}

// checkSubqueries checks that every subquery of node reads only reference tables, or rows on
// the same shard as its outer query's (correlated on the primary vindex, or an = on the same
// value).
func (b *builder) checkSubqueries(node sqlparser.SQLNode, outer *scope, r *routeInfo) error {
	var err error
	_ = sqlparser.Walk(func(n sqlparser.SQLNode) (bool, error) {
		if err != nil {
			return false, nil
		}
		sq, ok := n.(*sqlparser.Subquery)
		if !ok {
			if _, isDerived := n.(*sqlparser.DerivedTable); isDerived {
				return false, nil // planned by mergeDerived
			}
			return true, nil
		}
		err = b.checkSubquery(sq, outer, r)
		return false, nil
	}, node)
	return err
}

func (b *builder) checkSubquery(sq *sqlparser.Subquery, outer *scope, r *routeInfo) error {
	sel, ok := sq.Select.(*sqlparser.Select)
	if !ok {
		return unsupported("a UNION in a subquery on a sharded keyspace")
	}
	s, err := b.tables(sel.From, outer)
	if err != nil {
		return err
	}
	var where sqlparser.Expr
	if sel.Where != nil {
		where = sel.Where.Expr
	}
	ir, err := b.route(s, where)
	if err != nil {
		return err
	}
	for _, d := range s.derived {
		if ir, err = b.mergeDerived(ir, d); err != nil {
			return err
		}
	}
	switch {
	case ir.opcode == AnyOne:
	case ir.opcode == Unsharded:
		if r.opcode != Unsharded || r.ks != ir.ks {
			return unsupported("a subquery on unsharded keyspace %s inside a query on %s", ir.ks.Name, b.ks.Name)
		}
	case correlatedOnPrimary(s, where):
	case r.opcode == EqualUnique && ir.opcode == EqualUnique && sameShardValue(r, ir):
	default:
		t := ""
		if ir.table != nil {
			t = " on table " + ir.table.Name
		}
		return unsupported("a subquery%s whose rows are not on the shard of the outer query's row (correlate it on the primary vindex column, or use one shard's value in both)", t)
	}
	return b.checkSubqueries(sel, s, r)
}

// correlatedOnPrimary reports a condition inner.pv = outer.pv joining a table of the
// subquery's scope to one of an enclosing scope on their primary vindex columns.
func correlatedOnPrimary(s *scope, where sqlparser.Expr) bool {
	for _, c := range conjuncts(where) {
		l, r, ok := primaryJoin(s, c)
		if !ok {
			continue
		}
		if inRefs(s.refs, l) != inRefs(s.refs, r) {
			return true
		}
	}
	return false
}

func inRefs(refs []*tableRef, r *tableRef) bool {
	for _, x := range refs {
		if x == r {
			return true
		}
	}
	return false
}

// union plans a UNION: on one shard (every part routed to the same single shard, or
// reference tables only) as written; UNION ALL of parts that scatter without merging is sent
// to every shard and its rows concatenated.
func (b *builder) union(u *sqlparser.Union) (*Plan, error) {
	var parts []*sqlparser.Select
	var collect func(ts sqlparser.TableStatement) error
	allDistinct := u.Distinct
	collect = func(ts sqlparser.TableStatement) error {
		switch x := ts.(type) {
		case *sqlparser.Select:
			parts = append(parts, x)
		case *sqlparser.Union:
			allDistinct = allDistinct || x.Distinct
			if err := collect(x.Left); err != nil {
				return err
			}
			return collect(x.Right)
		default:
			return unsupported("this UNION part on a sharded keyspace")
		}
		return nil
	}
	if err := collect(u.Left); err != nil {
		return nil, err
	}
	if err := collect(u.Right); err != nil {
		return nil, err
	}
	var first *routeInfo
	same := true
	scatterPlain := true
	for _, p := range parts {
		s, err := b.tables(p.From, nil)
		if err != nil {
			return nil, err
		}
		r, err := b.selectRoute(p, s)
		if err != nil {
			return nil, err
		}
		if r.opcode != Scatter || p.Distinct || p.GroupBy != nil || len(p.OrderBy) > 0 || p.Limit != nil || sqlparser.ContainsAggregation(p.SelectExprs) {
			scatterPlain = false
		}
		if first == nil {
			first = r
			continue
		}
		switch {
		case r.opcode == AnyOne && first.opcode == AnyOne:
		case r.opcode == EqualUnique && first.opcode == EqualUnique && sameShardValue(first, r):
		case r.opcode == Unsharded && first.opcode == Unsharded && r.ks == first.ks:
		default:
			same = false
		}
	}
	plan := &Plan{Kind: KindRoute, ReadOnly: u.Lock != sqlparser.ForUpdateLock}
	switch {
	case same && first.singleShard():
		plan.Route = &Route{Opcode: first.opcode, Keyspace: first.ks, Vindex: first.vdx, Values: first.values, Table: first.table}
	case scatterPlain && !allDistinct && len(u.OrderBy) == 0 && u.Limit == nil:
		plan.Route = &Route{Opcode: Scatter, Keyspace: b.ks, Table: first.table}
	default:
		return nil, unsupported("UNION whose parts are on several shards (only UNION ALL of plain selects, or parts on one shard, are routed)")
	}
	b.setQuery(plan.Route, u)
	return plan, nil
}

package planner

import (
	"vitess.io/vitess/go/vt/sqlparser"

	"github.com/vtdirect/vtdirect/vindex"
	"github.com/vtdirect/vtdirect/vschema"
)

// writeTarget checks the table a write goes to and returns the route it takes when it is not
// a sharded table of the keyspace: its unsharded keyspace, or a reference table's source.
func (b *builder) writeTarget(ref *tableRef, what string) (*Route, error) {
	t := ref.table
	switch {
	case ref.system:
		return nil, unsupported("%s of a system table on a sharded keyspace", what)
	case t == nil:
		return nil, unsupported("%s of a derived table", what)
	case t.Type == vschema.TypeSequence:
		return nil, unsupported("%s of sequence table %s; its rows are the gateway's (SELECT NEXT n VALUES FROM %s)", what, t.Name, t.Name)
	case t.Type == vschema.TypeReference:
		if t.Source == nil {
			return nil, unsupported("%s of reference table %s, which has no source: the same rows are on every shard; give the table a \"source\" in the vschema (a table of an unsharded keyspace) and write there", what, t.Name)
		}
		return &Route{Opcode: Unsharded, Keyspace: t.Source.Keyspace, Table: t.Source, Write: true}, nil
	case t.Keyspace != b.ks && !t.Keyspace.Sharded:
		return &Route{Opcode: Unsharded, Keyspace: t.Keyspace, Table: t, Write: true}, nil
	case t.Pinned != nil:
		return &Route{Opcode: Pinned, Keyspace: t.Keyspace, Pinned: t.Pinned, Table: t, Write: true}, nil
	}
	return nil, nil
}

// renameToSource rewrites the reference table's name in a write to its source's.
func (b *builder) renameToSource(node sqlparser.SQLNode, ref *tableRef, r *Route) sqlparser.SQLNode {
	if ref.table.Type != vschema.TypeReference {
		return node
	}
	node = sqlparser.CloneSQLNode(node)
	return sqlparser.Rewrite(node, func(c *sqlparser.Cursor) bool {
		if tn, ok := c.Node().(sqlparser.TableName); ok && tn.Name.String() == ref.table.Name {
			c.Replace(sqlparser.TableName{Name: sqlparser.NewIdentifierCS(r.Table.Name)})
		}
		return true
	}, nil)
}

func (b *builder) update(st *sqlparser.Update) (*Plan, error) {
	if st.With != nil {
		return nil, unsupported("WITH on a sharded keyspace")
	}
	s, err := b.tables(st.TableExprs, nil)
	if err != nil {
		return nil, err
	}
	if len(s.refs) != 1 || len(s.derived) > 0 {
		return b.multiTableWrite(st, s, "UPDATE")
	}
	ref := s.refs[0]
	if r, err := b.writeTarget(ref, "UPDATE"); r != nil || err != nil {
		if err != nil {
			return nil, err
		}
		if err := b.checkSubqueries(st, s, &routeInfo{opcode: r.Opcode, ks: r.Keyspace}); err != nil {
			return nil, err
		}
		r.Query = b.template(b.renameToSource(st, ref, r))
		return &Plan{Kind: KindRoute, Route: r}, nil
	}
	t := ref.table
	dml := &DML{Table: t}
	for _, ue := range st.Exprs {
		col := ue.Name.Name.String()
		if q := ue.Name.Qualifier.Name.String(); q != "" && q != ref.name {
			continue
		}
		if cv := t.Primary(); equalFold(cv.Column, col) {
			return nil, unsupported("UPDATE of the primary vindex column %s of table %s (the row would move to another shard); do it as DELETE then INSERT", col, t.Name)
		}
		for _, cv := range t.ColumnVindexes[1:] {
			if !equalFold(cv.Column, col) || !cv.Owned {
				continue
			}
			l, ok := cv.Vindex.(*vindex.Lookup)
			if !ok {
				continue
			}
			v, ok := b.value(ue.Expr)
			if !ok {
				return nil, unsupported("UPDATE of lookup vindex column %s of table %s to an expression; give a value", col, t.Name)
			}
			dml.Lookups = append(dml.Lookups, LookupChange{Column: cv.Column, Vindex: l, New: &v, newExpr: ue.Expr})
		}
	}
	return b.shardedWrite(st, s, st.Where, st.Limit, st.OrderBy, dml, "UPDATE")
}

func (b *builder) delete(st *sqlparser.Delete) (*Plan, error) {
	if st.With != nil {
		return nil, unsupported("WITH on a sharded keyspace")
	}
	s, err := b.tables(st.TableExprs, nil)
	if err != nil {
		return nil, err
	}
	if len(s.refs) != 1 || len(s.derived) > 0 || len(st.Targets) > 1 {
		return b.multiTableWrite(st, s, "DELETE")
	}
	ref := s.refs[0]
	if r, err := b.writeTarget(ref, "DELETE"); r != nil || err != nil {
		if err != nil {
			return nil, err
		}
		if err := b.checkSubqueries(st, s, &routeInfo{opcode: r.Opcode, ks: r.Keyspace}); err != nil {
			return nil, err
		}
		r.Query = b.template(b.renameToSource(st, ref, r))
		return &Plan{Kind: KindRoute, Route: r}, nil
	}
	t := ref.table
	dml := &DML{Table: t}
	for _, cv := range t.ColumnVindexes[1:] {
		if l, ok := cv.Vindex.(*vindex.Lookup); ok && cv.Owned {
			dml.Lookups = append(dml.Lookups, LookupChange{Column: cv.Column, Vindex: l})
		}
	}
	return b.shardedWrite(st, s, st.Where, st.Limit, st.OrderBy, dml, "DELETE")
}

// shardedWrite routes an UPDATE or DELETE of a sharded table.
func (b *builder) shardedWrite(st sqlparser.Statement, s *scope, where *sqlparser.Where, limit *sqlparser.Limit, order sqlparser.OrderBy, dml *DML, what string) (*Plan, error) {
	var w sqlparser.Expr
	if where != nil {
		w = where.Expr
	}
	r, err := b.route(s, w)
	if err != nil {
		return nil, err
	}
	if err := b.checkSubqueries(st, s, r); err != nil {
		return nil, err
	}
	if !r.singleShard() && limit != nil {
		return nil, unsupported("%s with LIMIT on several shards (which rows would be changed depends on the shard); filter on the primary vindex column", what)
	}
	route := &Route{Opcode: r.opcode, Keyspace: r.ks, Vindex: r.vdx, Values: r.values, Table: dml.Table, Write: true}
	b.setQuery(route, st)
	if len(dml.Lookups) > 0 {
		sel := &sqlparser.Select{
			SelectExprs: &sqlparser.SelectExprs{},
			From:        []sqlparser.TableExpr{&sqlparser.AliasedTableExpr{Expr: sqlparser.NewTableName(dml.Table.Name)}},
			Where:       where,
			OrderBy:     order,
			Limit:       limit,
			Lock:        sqlparser.ForUpdateLock,
		}
		sel.SelectExprs.Exprs = append(sel.SelectExprs.Exprs, &sqlparser.AliasedExpr{Expr: sqlparser.NewColName(dml.Table.Primary().Column)})
		for _, l := range dml.Lookups {
			sel.SelectExprs.Exprs = append(sel.SelectExprs.Exprs, &sqlparser.AliasedExpr{Expr: sqlparser.NewColName(l.Column)})
		}
		// Whether each new value equals the old one by the column's collation (<=>: NULL
		// equals NULL, not ''): an UPDATE that only changes the case of a value under a
		// case-insensitive collation leaves its lookup row as it is.
		for _, l := range dml.Lookups {
			if l.New != nil {
				sel.SelectExprs.Exprs = append(sel.SelectExprs.Exprs, &sqlparser.AliasedExpr{Expr: &sqlparser.ComparisonExpr{
					Operator: sqlparser.NullSafeEqualOp, Left: sqlparser.NewColName(l.Column), Right: l.newExpr}})
			}
		}
		dml.Select = b.template(sel)
		route.DML = dml
	}
	return &Plan{Kind: KindRoute, Route: route}, nil
}

// multiTableWrite routes an UPDATE or DELETE of several tables: allowed when they are
// co-located (each shard changes its own rows) and no lookup vindex must follow.
func (b *builder) multiTableWrite(st sqlparser.Statement, s *scope, what string) (*Plan, error) {
	if len(s.derived) > 0 {
		return nil, unsupported("%s with a derived table on a sharded keyspace", what)
	}
	for _, ref := range s.refs {
		if ref.table == nil {
			continue
		}
		if ref.table.Type == vschema.TypeReference && ref.table.Keyspace == b.ks {
			continue // read on every shard; writing it is refused below if targeted
		}
		for _, cv := range ref.table.ColumnVindexes {
			if _, ok := cv.Vindex.(*vindex.Lookup); ok && cv.Owned {
				return nil, unsupported("multi-table %s of table %s, which owns lookup vindex %s", what, ref.table.Name, cv.Vindex.Name())
			}
		}
	}
	var where sqlparser.Expr
	var limit *sqlparser.Limit
	switch x := st.(type) {
	case *sqlparser.Update:
		if x.Where != nil {
			where = x.Where.Expr
		}
		limit = x.Limit
		for _, ue := range x.Exprs {
			if ref := s.lookupRef(ue.Name); ref != nil && ref.table != nil {
				if ref.table.Type == vschema.TypeReference {
					return nil, unsupported("UPDATE of reference table %s in a multi-table statement", ref.table.Name)
				}
				if p := ref.table.Primary(); p != nil && equalFold(p.Column, ue.Name.Name.String()) {
					return nil, unsupported("UPDATE of the primary vindex column %s of table %s", p.Column, ref.table.Name)
				}
			}
		}
	case *sqlparser.Delete:
		if x.Where != nil {
			where = x.Where.Expr
		}
		limit = x.Limit
		for _, tn := range x.Targets {
			for _, ref := range s.refs {
				if ref.name == tn.Name.String() && ref.table != nil && ref.table.Type == vschema.TypeReference {
					return nil, unsupported("DELETE from reference table %s in a multi-table statement", ref.table.Name)
				}
			}
		}
	}
	r, err := b.route(s, where)
	if err != nil {
		return nil, err
	}
	if r.opcode == AnyOne {
		return nil, unsupported("multi-table %s of reference tables only; write to their source", what)
	}
	if err := b.checkSubqueries(st, s, r); err != nil {
		return nil, err
	}
	if !r.singleShard() && limit != nil {
		return nil, unsupported("%s with LIMIT on several shards", what)
	}
	route := &Route{Opcode: r.opcode, Keyspace: r.ks, Vindex: r.vdx, Values: r.values, Table: r.table, Write: true}
	b.setQuery(route, st)
	return &Plan{Kind: KindRoute, Route: route}, nil
}

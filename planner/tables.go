package planner

import (
	"vitess.io/vitess/go/vt/sqlparser"

	"github.com/vtdirect/vtdirect/vschema"
)

// tableRef is one table of a FROM clause.
type tableRef struct {
	name  string // how the statement refers to it: its alias, else its name
	table *vschema.Table
	// system: a table of a schema that is not a keyspace (information_schema, mysql...).
	system bool
}

func (r *tableRef) sharded() bool {
	return r.table != nil && r.table.Keyspace.Sharded && r.table.Type == vschema.TypeNormal && r.table.Pinned == nil
}

// scope is the tables a statement (or subquery) reads, and the conditions that relate them.
type scope struct {
	refs []*tableRef
	// on are the ON conditions of inner joins (they restrict like WHERE); outerOn those of
	// outer joins (they relate tables, but do not restrict the preserved side).
	on, outerOn []sqlparser.Expr
	// derived are the subqueries in FROM.
	derived []*sqlparser.DerivedTable
	parent  *scope
}

// tables reads a FROM clause.
func (b *builder) tables(from []sqlparser.TableExpr, parent *scope) (*scope, error) {
	s := &scope{parent: parent}
	for _, te := range from {
		if err := b.tableExpr(te, s, false); err != nil {
			return nil, err
		}
	}
	return s, nil
}

func (b *builder) tableExpr(te sqlparser.TableExpr, s *scope, outer bool) error {
	switch t := te.(type) {
	case *sqlparser.AliasedTableExpr:
		switch e := t.Expr.(type) {
		case sqlparser.TableName:
			ref, err := b.resolveTable(e)
			if err != nil {
				return err
			}
			ref.name = e.Name.String()
			if !t.As.IsEmpty() {
				ref.name = t.As.String()
			}
			s.refs = append(s.refs, ref)
		case *sqlparser.DerivedTable:
			s.derived = append(s.derived, e)
			s.refs = append(s.refs, &tableRef{name: t.As.String()}) // columns of a derived table route nothing
		default:
			return unsupported("this table expression on a sharded keyspace")
		}
	case *sqlparser.ParenTableExpr:
		for _, inner := range t.Exprs {
			if err := b.tableExpr(inner, s, outer); err != nil {
				return err
			}
		}
	case *sqlparser.JoinTableExpr:
		isOuter := t.Join == sqlparser.LeftJoinType || t.Join == sqlparser.RightJoinType ||
			t.Join == sqlparser.NaturalLeftJoinType || t.Join == sqlparser.NaturalRightJoinType
		if err := b.tableExpr(t.LeftExpr, s, outer); err != nil {
			return err
		}
		if err := b.tableExpr(t.RightExpr, s, outer); err != nil {
			return err
		}
		if t.Condition != nil {
			if t.Condition.On != nil {
				if isOuter || outer {
					s.outerOn = append(s.outerOn, t.Condition.On)
				} else {
					s.on = append(s.on, t.Condition.On)
				}
			}
			if len(t.Condition.Using) > 0 {
				// USING (c): the tables just joined are equal on c; relate the last two.
				l, r := s.refs[len(s.refs)-2], s.refs[len(s.refs)-1]
				for _, c := range t.Condition.Using {
					eq := &sqlparser.ComparisonExpr{Operator: sqlparser.EqualOp,
						Left:  sqlparser.NewColNameWithQualifier(c.String(), sqlparser.NewTableName(l.name)),
						Right: sqlparser.NewColNameWithQualifier(c.String(), sqlparser.NewTableName(r.name))}
					if isOuter || outer {
						s.outerOn = append(s.outerOn, eq)
					} else {
						s.on = append(s.on, eq)
					}
				}
			}
		}
	default:
		return unsupported("this table expression on a sharded keyspace")
	}
	return nil
}

// systemSchemas are schemas of the servers themselves: any shard answers for them.
var systemSchemas = map[string]bool{"information_schema": true, "mysql": true, "performance_schema": true, "sys": true}

// resolveTable finds a table in the vschema: qualified with a keyspace, or in the target.
func (b *builder) resolveTable(tn sqlparser.TableName) (*tableRef, error) {
	name := tn.Name.String()
	q := tn.Qualifier.String()
	switch {
	case q == "":
		if name == "dual" {
			return &tableRef{system: true}, nil
		}
		t := b.ks.Table(name)
		if t == nil {
			return nil, noSuchTable(b.ks.Name, name)
		}
		return &tableRef{table: t}, nil
	case systemSchemas[lowerString(q)]:
		return &tableRef{system: true}, nil
	}
	ks := b.vs.Keyspace(q)
	if ks == nil {
		return nil, unsupported("table %s.%s: %s is not a keyspace (the keyspaces are %v)", q, name, q, b.vs.Keyspaces())
	}
	if ks.Err != nil {
		return nil, brokenVSchema(ks.Err)
	}
	t := ks.Table(name)
	if t == nil {
		if ks.Sharded {
			return nil, noSuchTable(ks.Name, name)
		}
		// An unsharded keyspace's vschema need not list its tables.
		t = &vschema.Table{Keyspace: ks, Name: name}
	}
	return &tableRef{table: t}, nil
}

func lowerString(s string) string { return lower([]byte(s)) }

// lookupRef finds the table a column belongs to: by its qualifier, or, unqualified, the only
// table of the scope, or the only one with a vindex on a column of that name (MySQL refuses
// an unqualified column two tables have, so that one is it). It searches enclosing scopes
// too (correlated subqueries); nil when unknown.
func (s *scope) lookupRef(col *sqlparser.ColName) *tableRef {
	for sc := s; sc != nil; sc = sc.parent {
		if q := col.Qualifier.Name.String(); q != "" {
			for _, r := range sc.refs {
				if r.name == q {
					return r
				}
			}
			continue
		}
		if len(sc.refs) == 1 {
			return sc.refs[0]
		}
		var found *tableRef
		for _, r := range sc.refs {
			if r.table != nil && r.table.ColumnVindex(col.Name.String()) != nil {
				if found != nil {
					return nil
				}
				found = r
			}
		}
		if found != nil {
			return found
		}
		if len(sc.refs) > 0 {
			return nil
		}
	}
	return nil
}

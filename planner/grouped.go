package planner

import (
	"vitess.io/vitess/go/vt/sqlparser"
)

// grouped plans GROUP BY, DISTINCT and aggregates on several shards: the shards group by the
// keys and sort by them; the gateway merges the sorted rows and combines those with equal
// keys.
func (m *mergeBuilder) grouped(out *Merge) error {
	out.Grouped = true
	sel := m.sel
	var keyExprs []sqlparser.Expr
	switch {
	case sel.GroupBy != nil && len(sel.GroupBy.Exprs) > 0:
		if sel.Distinct {
			return unsupported("DISTINCT with GROUP BY on several shards")
		}
		keyExprs = sel.GroupBy.Exprs
	case sel.Distinct:
		if sqlparser.ContainsAggregation(sel.SelectExprs) {
			return unsupported("DISTINCT with aggregates on several shards")
		}
		for i := 0; i < m.visible; i++ {
			keyExprs = append(keyExprs, sqlparser.NewIntLiteral(itoa(i+1)))
		}
	}
	for _, e := range keyExprs {
		if containsSubquery(e) || sqlparser.ContainsAggregation(e) {
			return unsupported("GROUP BY an aggregate or a subquery on several shards")
		}
		k, err := m.keyOf(e, false)
		if err != nil {
			return err
		}
		out.Order = append(out.Order, k)
		m.aggs[k.Col] = Agg{Op: AggKey, Weight: k.Weight, Count: NoColumn}
	}
	out.GroupKeys = len(out.Order)

	// COUNT(DISTINCT x) and SUM(DISTINCT x): x joins the shards' grouping, as the last key.
	distinctArg, err := m.distinctArg()
	if err != nil {
		return err
	}
	if distinctArg != nil {
		k, err := m.keyOf(distinctArg, false)
		if err != nil {
			return err
		}
		out.Order = append(out.Order, k)
		if _, isKey := m.aggs[k.Col]; !isKey {
			m.aggs[k.Col] = Agg{Op: AggAny, Weight: NoColumn, Count: NoColumn}
		}
		if sel.GroupBy == nil {
			sel.GroupBy = &sqlparser.GroupBy{}
		}
		if sel.Distinct {
			return unsupported("DISTINCT with COUNT(DISTINCT) on several shards")
		}
		sel.GroupBy.Exprs = append(sel.GroupBy.Exprs, sqlparser.CloneExpr(distinctArg))
		m.changed = true
	}

	// The visible columns.
	for i := 0; i < m.visible; i++ {
		ae := sel.SelectExprs.Exprs[i].(*sqlparser.AliasedExpr)
		if _, isKey := m.aggs[i]; isKey {
			continue
		}
		if err := m.aggColumn(i, ae); err != nil {
			return err
		}
	}

	// The shards sort by the keys: the client's ORDER BY when it is over keys only (then the
	// merge order is the result's), else the keys and the gateway sorts the groups.
	if err := m.groupOrder(out); err != nil {
		return err
	}
	if err := m.having(out); err != nil {
		return err
	}
	return nil
}

func itoa(i int) string {
	if i < 10 {
		return string(rune('0' + i))
	}
	return itoa(i/10) + string(rune('0'+i%10))
}

// distinctArg is the argument of the statement's COUNT(DISTINCT x) and SUM(DISTINCT x), when
// there are (all on the same x).
func (m *mergeBuilder) distinctArg() (sqlparser.Expr, error) {
	var arg sqlparser.Expr
	var err error
	check := func(e sqlparser.Expr) {
		_ = sqlparser.Walk(func(n sqlparser.SQLNode) (bool, error) {
			var a sqlparser.Expr
			switch x := n.(type) {
			case *sqlparser.Count:
				if !x.Distinct {
					return true, nil
				}
				if len(x.Args) != 1 {
					err = unsupported("COUNT(DISTINCT a, b) on several shards")
					return false, nil
				}
				a = x.Args[0]
			case *sqlparser.Sum:
				if !x.Distinct {
					return true, nil
				}
				a = x.Arg
			case *sqlparser.Avg, *sqlparser.Min, *sqlparser.Max:
				if n.(sqlparser.AggrFunc).(interface{ IsDistinct() bool }).IsDistinct() {
					switch n.(type) {
					case *sqlparser.Avg:
						err = unsupported("AVG(DISTINCT) on several shards")
					}
				}
				return true, nil
			default:
				return true, nil
			}
			if arg != nil && !sqlparser.Equals.Expr(arg, a) {
				err = unsupported("DISTINCT aggregates of different expressions on several shards")
				return false, nil
			}
			arg = a
			return true, nil
		}, e)
	}
	for _, it := range m.sel.SelectExprs.Exprs {
		check(it.(*sqlparser.AliasedExpr).Expr)
	}
	if m.sel.Having != nil {
		check(m.sel.Having.Expr)
	}
	for _, o := range m.sel.OrderBy {
		check(o.Expr)
	}
	return arg, err
}

// aggColumn plans column i of a group's row, an aggregate or an expression of the group.
func (m *mergeBuilder) aggColumn(i int, ae *sqlparser.AliasedExpr) error {
	switch x := ae.Expr.(type) {
	case *sqlparser.CountStar:
		m.aggs[i] = Agg{Op: AggCount, Weight: NoColumn, Count: NoColumn}
	case *sqlparser.Count:
		op := AggCount
		if x.Distinct {
			op = AggCountDistinct
		}
		m.aggs[i] = Agg{Op: op, Weight: NoColumn, Count: NoColumn}
	case *sqlparser.Sum:
		op := AggSum
		if x.Distinct {
			op = AggSumDistinct
		}
		m.aggs[i] = Agg{Op: op, Weight: NoColumn, Count: NoColumn}
	case *sqlparser.Min, *sqlparser.Max:
		op := AggMin
		if _, ok := x.(*sqlparser.Max); ok {
			op = AggMax
		}
		w := NoColumn
		if !numeric(x) {
			w = m.addHidden(&sqlparser.WeightStringFuncExpr{Expr: sqlparser.CloneExpr(x)})
		}
		m.aggs[i] = Agg{Op: op, Weight: w, Count: NoColumn}
	case *sqlparser.Avg:
		// The shards give SUM(x) (named as the client's AVG) and, hidden, COUNT(x).
		cnt := m.addHidden(&sqlparser.Count{Args: []sqlparser.Expr{sqlparser.CloneExpr(x.Arg)}})
		m.aggs[cnt] = Agg{Op: AggCount, Weight: NoColumn, Count: NoColumn}
		ae.Expr = &sqlparser.Sum{Arg: x.Arg}
		m.changed = true
		m.aggs[i] = Agg{Op: AggAvg, Weight: NoColumn, Count: cnt}
	default:
		if _, ok := ae.Expr.(sqlparser.AggrFunc); ok {
			return unsupported("aggregate %s on several shards (COUNT, SUM, MIN, MAX and AVG are merged)", sqlparser.String(ae.Expr))
		}
		if sqlparser.ContainsAggregation(ae.Expr) {
			return unsupported("an expression over aggregates (%s) on several shards; select the aggregates themselves", sqlparser.String(ae.Expr))
		}
		// A column of the group that is not one of its keys: any row's value, as MySQL
		// without ONLY_FULL_GROUP_BY (with it, the shards refuse the statement).
		m.aggs[i] = Agg{Op: AggAny, Weight: NoColumn, Count: NoColumn}
	}
	return nil
}

// aggFor returns the column holding an aggregate in a group's row, adding it hidden when the
// select list does not have it (HAVING COUNT(*) > 1, ORDER BY SUM(x)).
func (m *mergeBuilder) aggFor(e sqlparser.Expr) (int, error) {
	for i := 0; i < m.visible; i++ {
		if ie := m.itemExpr(i); ie != nil && sqlparser.Equals.Expr(ie, e) {
			return i, nil
		}
	}
	if avg, ok := e.(*sqlparser.Avg); ok {
		// A hidden AVG: SUM and COUNT columns.
		sum := m.addHidden(&sqlparser.Sum{Arg: sqlparser.CloneExpr(avg.Arg)})
		cnt := m.addHidden(&sqlparser.Count{Args: []sqlparser.Expr{sqlparser.CloneExpr(avg.Arg)}})
		m.aggs[cnt] = Agg{Op: AggCount, Weight: NoColumn, Count: NoColumn}
		m.aggs[sum] = Agg{Op: AggAvg, Weight: NoColumn, Count: cnt}
		return sum, nil
	}
	col := m.addHidden(sqlparser.CloneExpr(e))
	if err := m.aggColumn(col, &sqlparser.AliasedExpr{Expr: sqlparser.CloneExpr(e)}); err != nil {
		return 0, err
	}
	return col, nil
}

// groupOrder decides the shards' ORDER BY and the gateway's sort after grouping.
func (m *mergeBuilder) groupOrder(out *Merge) error {
	sel := m.sel
	var userKeys []SortKey
	overKeys := true
	for _, o := range sel.OrderBy {
		if _, ok := o.Expr.(*sqlparser.NullVal); ok {
			continue
		}
		if containsSubquery(o.Expr) {
			return unsupported("ORDER BY a subquery on several shards")
		}
		desc := o.Direction == sqlparser.DescOrder
		var k SortKey
		if sqlparser.ContainsAggregation(o.Expr) {
			col, err := m.aggFor(o.Expr)
			if err != nil {
				return err
			}
			k = SortKey{Col: col, Weight: NoColumn, Desc: desc}
			if a := m.aggs[col]; a.Op == AggMin || a.Op == AggMax {
				k.Weight = a.Weight
			}
			overKeys = false
		} else {
			var err error
			if k, err = m.keyOf(o.Expr, desc); err != nil {
				return err
			}
			if !isKeyCol(out.Order[:out.GroupKeys], k.Col) {
				overKeys = false
			}
		}
		userKeys = append(userKeys, k)
	}
	var order []SortKey
	if overKeys {
		// The client's order first, then the other keys: the merge order is the result's.
		order = append(order, userKeys...)
		for _, k := range out.Order {
			if !isKeyCol(order, k.Col) {
				order = append(order, k)
			}
		}
	} else {
		order = out.Order
		out.PostOrder = userKeys
	}
	out.Order = order
	if len(order) == 0 && len(sel.OrderBy) == 0 {
		return nil
	}
	sel.OrderBy = nil
	for _, k := range order {
		dir := sqlparser.AscOrder
		if k.Desc {
			dir = sqlparser.DescOrder
		}
		sel.OrderBy = append(sel.OrderBy, &sqlparser.Order{Expr: m.orderExpr(k.Col), Direction: dir})
	}
	m.changed = true
	return nil
}

func isKeyCol(keys []SortKey, col int) bool {
	for _, k := range keys {
		if k.Col == col {
			return true
		}
	}
	return false
}

// orderExpr is how the shards' ORDER BY names a column: its position when visible, its
// expression when hidden.
func (m *mergeBuilder) orderExpr(col int) sqlparser.Expr {
	if col >= 0 && col < m.visible {
		return sqlparser.NewIntLiteral(itoa(col + 1))
	}
	return sqlparser.CloneExpr(m.hidden[col-hiddenBase])
}

// having splits HAVING: conditions without aggregates stay with the shards (they are about
// the group's keys, the same on every shard); the others are the gateway's.
func (m *mergeBuilder) having(out *Merge) error {
	if m.sel.Having == nil {
		return nil
	}
	var keep []sqlparser.Expr
	for _, c := range conjuncts(m.sel.Having.Expr) {
		if containsSubquery(c) {
			return unsupported("HAVING with a subquery on several shards")
		}
		if !sqlparser.ContainsAggregation(c) {
			keep = append(keep, c)
			continue
		}
		cond, err := m.cond(c)
		if err != nil {
			return err
		}
		if out.Having == nil {
			out.Having = cond
		} else {
			out.Having = CondAnd{out.Having, cond}
		}
		m.changed = true
	}
	if len(keep) == 0 {
		m.sel.Having = nil
	} else {
		m.sel.Having = &sqlparser.Where{Type: sqlparser.HavingClause, Expr: sqlparser.AndExpressions(keep...)}
	}
	return nil
}

// cond translates a HAVING condition over aggregates for the gateway (numbers only).
func (m *mergeBuilder) cond(e sqlparser.Expr) (Cond, error) {
	switch x := e.(type) {
	case *sqlparser.AndExpr:
		l, err := m.cond(x.Left)
		if err != nil {
			return nil, err
		}
		r, err := m.cond(x.Right)
		return CondAnd{l, r}, err
	case *sqlparser.OrExpr:
		l, err := m.cond(x.Left)
		if err != nil {
			return nil, err
		}
		r, err := m.cond(x.Right)
		return CondOr{l, r}, err
	case *sqlparser.NotExpr:
		c, err := m.cond(x.Expr)
		return CondNot{c}, err
	case *sqlparser.IsExpr:
		v, err := m.condExpr(x.Left)
		if err != nil {
			return nil, err
		}
		switch x.Right {
		case sqlparser.IsNullOp:
			return CondIsNull{E: v}, nil
		case sqlparser.IsNotNullOp:
			return CondIsNull{E: v, Not: true}, nil
		}
	case *sqlparser.ComparisonExpr:
		op := ""
		switch x.Operator {
		case sqlparser.EqualOp:
			op = "="
		case sqlparser.NotEqualOp:
			op = "!="
		case sqlparser.LessThanOp:
			op = "<"
		case sqlparser.LessEqualOp:
			op = "<="
		case sqlparser.GreaterThanOp:
			op = ">"
		case sqlparser.GreaterEqualOp:
			op = ">="
		case sqlparser.NullSafeEqualOp:
			op = "<=>"
		}
		if op != "" {
			l, err := m.condExpr(x.Left)
			if err != nil {
				return nil, err
			}
			r, err := m.condExpr(x.Right)
			if err != nil {
				return nil, err
			}
			return CondCmp{Op: op, L: l, R: r}, nil
		}
	default:
		v, err := m.condExpr(e)
		if err == nil {
			return CondTruth{v}, nil
		}
	}
	return nil, unsupported("HAVING %s on several shards (the gateway evaluates comparisons, AND, OR, NOT, IS NULL and arithmetic of aggregates and numbers)", sqlparser.String(e))
}

func (m *mergeBuilder) condExpr(e sqlparser.Expr) (CondExpr, error) {
	switch x := e.(type) {
	case sqlparser.AggrFunc:
		col, err := m.aggFor(e)
		return ExprCol{col}, err
	case *sqlparser.Argument, *sqlparser.Literal:
		v, ok := m.b.value(e)
		if !ok || v.Arg < 0 && !isNumberKind(v.Const.Kind) {
			break
		}
		return ExprValue{v}, nil
	case *sqlparser.NullVal:
		v, _ := m.b.value(e)
		return ExprValue{v}, nil
	case *sqlparser.ColName:
		col, err := m.resolve(x)
		if err != nil || col < 0 {
			break
		}
		return ExprCol{col}, nil
	case *sqlparser.UnaryExpr:
		if x.Operator == sqlparser.UMinusOp {
			v, err := m.condExpr(x.Expr)
			return ExprNeg{v}, err
		}
	case *sqlparser.BinaryExpr:
		var op byte
		switch x.Operator {
		case sqlparser.PlusOp:
			op = '+'
		case sqlparser.MinusOp:
			op = '-'
		case sqlparser.MultOp:
			op = '*'
		case sqlparser.DivOp:
			op = '/'
		}
		if op != 0 {
			l, err := m.condExpr(x.Left)
			if err != nil {
				return nil, err
			}
			r, err := m.condExpr(x.Right)
			return ExprArith{Op: op, L: l, R: r}, err
		}
	}
	return nil, unsupported("HAVING with %s on several shards (aggregates, numbers and arithmetic are evaluated by the gateway)", sqlparser.String(e))
}

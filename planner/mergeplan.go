package planner

import (
	"strconv"

	"vitess.io/vitess/go/vt/sqlparser"

	"github.com/vtdirect/vtdirect/vindex"
)

// mergeBuilder builds the Merge of a SELECT on several shards and the statement the shards
// get (sel, a copy the builder changes).
type mergeBuilder struct {
	b       *builder
	sel     *sqlparser.Select
	visible int
	star    bool
	hidden  []sqlparser.Expr // columns the gateway adds, after the visible ones
	aggs    map[int]Agg      // column -> what it is in a group's row (grouped plans)
	changed bool             // the shards cannot get the statement as written
}

// hiddenBase marks a provisional hidden column index (fixed in finish).
const hiddenBase = -1 << 20

func (m *mergeBuilder) addHidden(e sqlparser.Expr) int {
	for i, h := range m.hidden {
		if sqlparser.Equals.Expr(h, e) {
			return hiddenBase + i
		}
	}
	m.hidden = append(m.hidden, e)
	m.changed = true
	return hiddenBase + len(m.hidden) - 1
}

// fix turns a provisional column index into the row's.
func (m *mergeBuilder) fix(i int) int {
	if i == NoColumn || i >= 0 {
		return i
	}
	k := i - hiddenBase
	if m.star {
		return -(len(m.hidden) - k) // counted from the end of the row
	}
	return m.visible + k
}

func isIntKind(k vindex.Kind) bool { return k == vindex.Int64 || k == vindex.Uint64 }

func isNumberKind(k vindex.Kind) bool {
	return k == vindex.Int64 || k == vindex.Uint64 || k == vindex.Decimal || k == vindex.Float64
}

// mergePlan returns the merge of a SELECT on several shards and the shards' statement, or
// nil when the shards' rows are simply concatenated.
func (b *builder) mergePlan(sel *sqlparser.Select) (*Merge, *sqlparser.Select, error) {
	grouped := sel.Distinct || (sel.GroupBy != nil && len(sel.GroupBy.Exprs) > 0) || sqlparser.ContainsAggregation(sel.SelectExprs)
	if !grouped && len(sel.OrderBy) == 0 && sel.Limit == nil {
		if sel.Having != nil {
			return nil, nil, unsupported("HAVING without GROUP BY or aggregates on several shards")
		}
		return nil, nil, nil
	}
	if hasWindow(sel) {
		return nil, nil, unsupported("window functions (OVER) on several shards")
	}
	if sel.GroupBy != nil && sel.GroupBy.WithRollup {
		return nil, nil, unsupported("GROUP BY ... WITH ROLLUP on several shards")
	}
	m := &mergeBuilder{b: b, sel: sqlparser.CloneRefOfSelect(sel), aggs: map[int]Agg{}}
	items := m.sel.SelectExprs.Exprs
	m.visible = len(items)
	for _, it := range items {
		switch it.(type) {
		case *sqlparser.StarExpr:
			m.star = true
		case *sqlparser.Nextval:
			return nil, nil, unsupported("NEXT VALUES with other columns")
		}
	}
	if m.star && (len(items) > 1 || grouped) {
		return nil, nil, unsupported("SELECT * with other columns, GROUP BY, DISTINCT or aggregates on several shards; list the columns")
	}
	out := &Merge{Star: m.star, Visible: m.visible}
	var err error
	if grouped {
		err = m.grouped(out)
	} else {
		err = m.ordered(out)
	}
	if err != nil {
		return nil, nil, err
	}
	if err := m.limit(out); err != nil {
		return nil, nil, err
	}
	m.finish(out)
	if !m.changed {
		return out, sel, nil
	}
	m.nameItems(items)
	return out, m.sel, nil
}

func hasWindow(node sqlparser.SQLNode) bool {
	found := false
	_ = sqlparser.Walk(func(n sqlparser.SQLNode) (bool, error) {
		if _, ok := n.(*sqlparser.OverClause); ok {
			found = true
		}
		return !found, nil
	}, node)
	return found
}

// itemExpr returns the expression of visible item i (nil for *).
func (m *mergeBuilder) itemExpr(i int) sqlparser.Expr {
	if ae, ok := m.sel.SelectExprs.Exprs[i].(*sqlparser.AliasedExpr); ok {
		return ae.Expr
	}
	return nil
}

// resolve finds the visible column an ORDER BY or GROUP BY expression names: a position
// (ORDER BY 2), an alias, or the same expression; -1 when none.
func (m *mergeBuilder) resolve(e sqlparser.Expr) (int, error) {
	if lit, ok := e.(*sqlparser.Literal); ok && lit.Type == sqlparser.IntVal {
		n, err := strconv.Atoi(lit.Val)
		if err != nil || n < 1 || (!m.star && n > m.visible) {
			return 0, unsupported("ORDER BY or GROUP BY position %s out of the select list", lit.Val)
		}
		if m.star {
			return 0, unsupported("ORDER BY or GROUP BY position with SELECT * on several shards; name the column")
		}
		return n - 1, nil
	}
	if m.star {
		return -1, nil
	}
	if col, ok := e.(*sqlparser.ColName); ok && col.Qualifier.IsEmpty() {
		for i, it := range m.sel.SelectExprs.Exprs {
			if ae, ok := it.(*sqlparser.AliasedExpr); ok && !ae.As.IsEmpty() && ae.As.EqualString(col.Name.String()) {
				return i, nil
			}
		}
	}
	for i := range m.sel.SelectExprs.Exprs {
		ie := m.itemExpr(i)
		if ie == nil {
			continue
		}
		if sqlparser.Equals.Expr(ie, e) {
			return i, nil
		}
		// t.c and c name the same column when the select list has it unqualified.
		ic, ok1 := ie.(*sqlparser.ColName)
		ec, ok2 := e.(*sqlparser.ColName)
		if ok1 && ok2 && ic.Name.Equal(ec.Name) && (ic.Qualifier.IsEmpty() || ec.Qualifier.IsEmpty()) {
			return i, nil
		}
	}
	return -1, nil
}

// keyOf returns the sort key of an expression: its column (visible or hidden) and, unless it
// is surely a number, a hidden WEIGHT_STRING() of it.
func (m *mergeBuilder) keyOf(e sqlparser.Expr, desc bool) (SortKey, error) {
	col, err := m.resolve(e)
	if err != nil {
		return SortKey{}, err
	}
	expr := e
	if col >= 0 {
		if ie := m.itemExpr(col); ie != nil {
			expr = ie
		}
	} else {
		col = m.addHidden(e)
	}
	k := SortKey{Col: col, Weight: NoColumn, Desc: desc}
	if !numeric(expr) {
		k.Weight = m.addHidden(&sqlparser.WeightStringFuncExpr{Expr: sqlparser.CloneExpr(expr)})
	}
	return k, nil
}

// numeric reports an expression that is surely a number (needs no collation).
func numeric(e sqlparser.Expr) bool {
	switch x := e.(type) {
	case *sqlparser.CountStar, *sqlparser.Count, *sqlparser.Sum, *sqlparser.Avg:
		return true
	case *sqlparser.Literal:
		return x.Type == sqlparser.IntVal || x.Type == sqlparser.DecimalVal || x.Type == sqlparser.FloatVal
	case *sqlparser.BinaryExpr:
		return true // arithmetic and bit operators give numbers
	case *sqlparser.Min:
		return numeric(x.Arg)
	case *sqlparser.Max:
		return numeric(x.Arg)
	}
	return false
}

// ordered plans a SELECT without grouping: the shards sort, the gateway merges.
func (m *mergeBuilder) ordered(out *Merge) error {
	for _, o := range m.sel.OrderBy {
		if _, ok := o.Expr.(*sqlparser.NullVal); ok {
			continue // ORDER BY NULL
		}
		if containsSubquery(o.Expr) {
			return unsupported("ORDER BY a subquery on several shards")
		}
		k, err := m.keyOf(o.Expr, o.Direction == sqlparser.DescOrder)
		if err != nil {
			return err
		}
		out.Order = append(out.Order, k)
	}
	return nil
}

// limit plans LIMIT [offset,] count: the gateway skips and counts; ungrouped shards get
// LIMIT offset+count.
func (m *mergeBuilder) limit(out *Merge) error {
	l := m.sel.Limit
	if l == nil {
		return nil
	}
	count, ok := m.b.value(l.Rowcount)
	if !ok || count.Arg < 0 && !isIntKind(count.Const.Kind) {
		return unsupported("a LIMIT that is not a number on several shards")
	}
	out.Limit = &count
	var off ValueExpr
	if l.Offset != nil {
		if off, ok = m.b.value(l.Offset); !ok || off.Arg < 0 && !isIntKind(off.Const.Kind) {
			return unsupported("an OFFSET that is not a number on several shards")
		}
		out.Offset = &off
	}
	if out.Grouped {
		m.sel.Limit = nil // groups span shards: the gateway limits after grouping
		m.changed = true
		return nil
	}
	if l.Offset == nil {
		return nil // LIMIT n: the same for each shard
	}
	m.changed = true
	if count.Arg >= 0 && off.Arg >= 0 {
		m.sel.Limit = &sqlparser.Limit{Rowcount: sqlparser.NewArgument(argLimitPrefix + strconv.Itoa(off.Arg) + "_" + strconv.Itoa(count.Arg))}
		return nil
	}
	if count.Arg < 0 && off.Arg < 0 {
		c, _ := strconv.ParseUint(string(count.Const.Raw), 10, 64)
		o, _ := strconv.ParseUint(string(off.Const.Raw), 10, 64)
		m.sel.Limit = &sqlparser.Limit{Rowcount: sqlparser.NewIntLiteral(strconv.FormatUint(c+o, 10))}
		return nil
	}
	return unsupported("a LIMIT mixing a literal and a parameter on several shards")
}

// finish fixes the column indices and appends the hidden columns to the shards' select list.
func (m *mergeBuilder) finish(out *Merge) {
	out.Hidden = len(m.hidden)
	for i := range out.Order {
		out.Order[i].Col, out.Order[i].Weight = m.fix(out.Order[i].Col), m.fix(out.Order[i].Weight)
	}
	for i := range out.PostOrder {
		out.PostOrder[i].Col, out.PostOrder[i].Weight = m.fix(out.PostOrder[i].Col), m.fix(out.PostOrder[i].Weight)
	}
	if out.Grouped {
		n := m.visible + len(m.hidden)
		out.Aggs = make([]Agg, n)
		for i := range out.Aggs {
			out.Aggs[i] = Agg{Op: AggAny, Col: i, Weight: NoColumn, Count: NoColumn}
		}
		for col, a := range m.aggs {
			c := m.fix(col)
			a.Col, a.Weight, a.Count = c, m.fix(a.Weight), m.fix(a.Count)
			out.Aggs[c] = a
		}
		out.Having = m.fixCond(out.Having)
	}
	for _, h := range m.hidden {
		m.sel.SelectExprs.Exprs = append(m.sel.SelectExprs.Exprs, &sqlparser.AliasedExpr{Expr: h})
	}
}

func (m *mergeBuilder) fixCond(c Cond) Cond {
	switch x := c.(type) {
	case nil:
		return nil
	case CondAnd:
		return CondAnd{m.fixCond(x.L), m.fixCond(x.R)}
	case CondOr:
		return CondOr{m.fixCond(x.L), m.fixCond(x.R)}
	case CondNot:
		return CondNot{m.fixCond(x.C)}
	case CondIsNull:
		return CondIsNull{E: m.fixExpr(x.E), Not: x.Not}
	case CondCmp:
		return CondCmp{Op: x.Op, L: m.fixExpr(x.L), R: m.fixExpr(x.R)}
	case CondTruth:
		return CondTruth{m.fixExpr(x.E)}
	}
	return c
}

func (m *mergeBuilder) fixExpr(e CondExpr) CondExpr {
	switch x := e.(type) {
	case ExprCol:
		return ExprCol{m.fix(x.Col)}
	case ExprArith:
		return ExprArith{Op: x.Op, L: m.fixExpr(x.L), R: m.fixExpr(x.R)}
	case ExprNeg:
		return ExprNeg{m.fixExpr(x.E)}
	}
	return e
}

// nameItems gives the visible items that are neither columns nor literals their names as the
// client wrote them, as aliases: the shards' statement is printed anew, and MariaDB names
// such a column after its text.
func (m *mergeBuilder) nameItems(orig []sqlparser.SelectExpr) {
	texts := m.b.selectItems()
	if len(texts) != len(orig) {
		return
	}
	for i := 0; i < m.visible; i++ {
		ae, ok := m.sel.SelectExprs.Exprs[i].(*sqlparser.AliasedExpr)
		if !ok || !ae.As.IsEmpty() {
			continue
		}
		switch ae.Expr.(type) {
		case *sqlparser.ColName, *sqlparser.Literal, *sqlparser.Argument, *sqlparser.NullVal:
			if _, replaced := orig[i].(*sqlparser.AliasedExpr).Expr.(*sqlparser.Avg); !replaced {
				continue
			}
		}
		m.b.aliases = append(m.b.aliases, aliasTemplate(texts[i]))
		ae.As = sqlparser.NewIdentifierCI(aliasMarker(len(m.b.aliases) - 1))
	}
}

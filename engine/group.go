package engine

import (
	"math/big"
	"strconv"

	"github.com/go-mysql-org/go-mysql/mysql"

	"github.com/vtdirect/vtdirect/planner"
	"github.com/vtdirect/vtdirect/vindex"
)

// aggState accumulates one column of a group.
type aggState struct {
	op      planner.AggOp
	col     int
	weight  int // -1: none
	count   int // AggAvg: the COUNT column; -1 otherwise
	kind    cmpKind
	pad     []byte
	float   bool // AggSum/AggAvg over doubles
	val     []byte
	wval    []byte // the weight of val (AggMin, AggMax)
	n       uint64
	dec     decimal
	f       float64
	null    bool // no value yet (AggSum, AggMin, AggMax)
	lastKey [][]byte
}

// grouped merges, groups and aggregates.
func (m *merger) grouped() error {
	mp := m.in.Merge
	width := len(m.cols)
	aggs := make([]*aggState, width)
	for i, a := range mp.Aggs {
		col := m.index(a.Col)
		if col < 0 || col >= width {
			continue
		}
		st := &aggState{op: a.Op, col: col, weight: m.index(a.Weight), count: m.index(a.Count)}
		c := m.cols[col]
		st.kind = kindOf(c, st.weight >= 0)
		st.float = c.Type == mysql.MYSQL_TYPE_DOUBLE || c.Type == mysql.MYSQL_TYPE_FLOAT
		if st.kind == cmpWeight && m.in.PadFor != nil {
			pad, err := m.in.PadFor(c.Charset)
			if err != nil {
				return err
			}
			st.pad = pad
		}
		aggs[i] = st
	}
	for i := range aggs {
		if aggs[i] == nil {
			aggs[i] = &aggState{op: planner.AggAny, col: i, weight: -1, count: -1}
		}
	}
	// The columns of a group's row: AVG's become a decimal with 4 more digits (or stay
	// double).
	outCols := append([]Column(nil), m.cols...)
	for _, st := range aggs {
		if st.op == planner.AggAvg && !st.float {
			c := m.cols[st.col]
			outCols[st.col] = c.withDecimals(min(c.Decimals+4, 38), c.Length+4, mysql.MYSQL_TYPE_NEWDECIMAL)
		}
	}
	groupKeys := m.order[:mp.GroupKeys]
	var distinctKey *keyCmp
	if len(m.order) > mp.GroupKeys {
		distinctKey = &m.order[mp.GroupKeys]
	}
	post, err := m.keys(mp.PostOrder, outCols)
	if err != nil {
		return err
	}
	m.w.Header(outCols[:m.visible], m.in.Status)

	var buffered [][][]byte
	var first [][]byte // the current group's first row
	emit := func(row [][]byte) bool {
		if mp.Having != nil && !evalCond(mp.Having, row, outCols, m.in.Vals) {
			return true
		}
		if post != nil {
			buffered = append(buffered, row)
			return true
		}
		return m.emit(row)
	}
	for {
		s, err := m.nextRow()
		if err != nil {
			return err
		}
		if s == nil {
			break
		}
		if first != nil && compareRows(groupKeys, first, s.vals) != 0 {
			if !emit(finishGroup(aggs, first)) {
				return m.finish()
			}
			first = nil
		}
		if first == nil {
			first = cloneRow(s.vals)
			for _, st := range aggs {
				st.start(first)
			}
		}
		for _, st := range aggs {
			st.add(s.vals, distinctKey)
		}
	}
	if first != nil {
		if !emit(finishGroup(aggs, first)) {
			return m.finish()
		}
	} else if mp.GroupKeys == 0 {
		// Aggregates without GROUP BY over no row (the shards grouped by a COUNT(DISTINCT)
		// argument, which gives no row for no input): MySQL returns one row all the same,
		// COUNTs 0 and the rest NULL.
		if !emit(emptyGroup(aggs, width)) {
			return m.finish()
		}
	}
	if post != nil {
		sortRows(buffered, post)
		for _, row := range buffered {
			if !m.emit(row) {
				break
			}
		}
	}
	return m.finish()
}

// emptyGroup is the row of aggregates over no row.
func emptyGroup(aggs []*aggState, width int) [][]byte {
	row := make([][]byte, width)
	for _, st := range aggs {
		switch st.op {
		case planner.AggCount, planner.AggCountDistinct:
			row[st.col] = []byte("0")
		}
	}
	return row
}

func cloneRow(vals [][]byte) [][]byte {
	out := make([][]byte, len(vals))
	for i, v := range vals {
		if v != nil {
			out[i] = append([]byte{}, v...)
		}
	}
	return out
}

// emit writes a group's row after OFFSET, within LIMIT; false when LIMIT is reached.
func (m *merger) emit(row [][]byte) bool {
	if m.limit == 0 {
		return false
	}
	if m.offset > 0 {
		m.offset--
		return true
	}
	m.w.Row(row[:m.visible])
	m.res.Rows++
	if m.limit > 0 {
		m.limit--
	}
	return m.limit != 0 && m.w.Err() == nil
}

func (st *aggState) start(first [][]byte) {
	st.val, st.wval, st.n, st.f, st.null, st.lastKey = nil, nil, 0, 0, true, nil
	st.dec = decimal{}
	switch st.op {
	case planner.AggKey, planner.AggAny:
		st.val = first[st.col]
	}
}

// add takes one row of the group.
func (st *aggState) add(row [][]byte, distinct *keyCmp) {
	v := row[st.col]
	switch st.op {
	case planner.AggCount:
		n, _ := strconv.ParseUint(string(v), 10, 64)
		st.n += n
	case planner.AggSum, planner.AggAvg:
		st.addNumber(v)
	case planner.AggMin, planner.AggMax:
		if v == nil {
			return
		}
		var w []byte
		if st.weight >= 0 {
			w = row[st.weight]
		}
		if st.null {
			st.val, st.wval, st.null = clone(v), clone(w), false
			return
		}
		var c int
		if st.kind == cmpWeight && w != nil && st.wval != nil {
			c = compareValues(w, st.wval, cmpWeight, st.pad)
		} else {
			c = compareValues(v, st.val, st.kind, nil)
		}
		if (st.op == planner.AggMin && c < 0) || (st.op == planner.AggMax && c > 0) {
			st.val, st.wval = clone(v), clone(w)
		}
	case planner.AggCountDistinct, planner.AggSumDistinct:
		if distinct == nil {
			return
		}
		key := row[distinct.col]
		if key == nil {
			return
		}
		if st.lastKey != nil && compareKey(*distinct, st.lastKey, row) == 0 {
			return // the same value from another shard
		}
		st.lastKey = cloneRow(row)
		if st.op == planner.AggCountDistinct {
			st.n++
		} else {
			st.addNumber(v)
		}
	}
}

func clone(b []byte) []byte {
	if b == nil {
		return nil
	}
	return append([]byte{}, b...)
}

func (st *aggState) addNumber(v []byte) {
	if v == nil {
		return
	}
	if st.float {
		f, _ := strconv.ParseFloat(string(v), 64)
		st.f += f
		st.null = false
		return
	}
	d, ok := parseDecimal(v)
	if !ok {
		f, _ := strconv.ParseFloat(string(v), 64)
		st.float, st.f = true, st.f+f
		st.null = false
		return
	}
	if st.null {
		st.dec = d
	} else {
		st.dec.add(d)
	}
	st.null = false
}

// finishGroup makes a group's row from its aggregates.
func finishGroup(aggs []*aggState, first [][]byte) [][]byte {
	row := make([][]byte, len(aggs))
	copy(row, first)
	counts := map[int]uint64{}
	for _, st := range aggs {
		if st.op == planner.AggCount {
			counts[st.col] = st.n
		}
	}
	for _, st := range aggs {
		switch st.op {
		case planner.AggKey, planner.AggAny:
			row[st.col] = st.val
		case planner.AggCount, planner.AggCountDistinct:
			row[st.col] = strconv.AppendUint(nil, st.n, 10)
		case planner.AggSum, planner.AggSumDistinct:
			row[st.col] = st.number()
		case planner.AggMin, planner.AggMax:
			row[st.col] = st.val
		case planner.AggAvg:
			n := counts[st.count]
			switch {
			case st.null || n == 0:
				row[st.col] = nil
			case st.float:
				row[st.col] = formatFloat(st.f / float64(n))
			default:
				q := st.dec.divide(n, 4)
				row[st.col] = q.format()
			}
		}
	}
	// A MIN or MAX's weight goes with the value it chose (its column is an AggAny).
	for _, st := range aggs {
		if (st.op == planner.AggMin || st.op == planner.AggMax) && st.weight >= 0 {
			row[st.weight] = st.wval
		}
	}
	return row
}

func (st *aggState) number() []byte {
	if st.null {
		return nil
	}
	if st.float {
		return formatFloat(st.f)
	}
	return st.dec.format()
}

// evalCond evaluates a HAVING condition on a group's row: true only when it holds (NULL is
// not true).
func evalCond(c planner.Cond, row [][]byte, cols []Column, vals []vindex.Value) bool {
	t, known := truth(c, row, cols, vals)
	return known && t
}

// truth is three-valued logic: known false means NULL.
func truth(c planner.Cond, row [][]byte, cols []Column, vals []vindex.Value) (bool, bool) {
	switch x := c.(type) {
	case planner.CondAnd:
		l, lk := truth(x.L, row, cols, vals)
		r, rk := truth(x.R, row, cols, vals)
		switch {
		case lk && !l, rk && !r:
			return false, true
		case lk && rk:
			return true, true
		}
		return false, false
	case planner.CondOr:
		l, lk := truth(x.L, row, cols, vals)
		r, rk := truth(x.R, row, cols, vals)
		switch {
		case lk && l, rk && r:
			return true, true
		case lk && rk:
			return false, true
		}
		return false, false
	case planner.CondNot:
		v, k := truth(x.C, row, cols, vals)
		return !v, k
	case planner.CondIsNull:
		v := number(x.E, row, cols, vals)
		return (v == nil) != x.Not, true
	case planner.CondTruth:
		v := number(x.E, row, cols, vals)
		if v == nil {
			return false, false
		}
		return v.Sign() != 0, true
	case planner.CondCmp:
		l, r := number(x.L, row, cols, vals), number(x.R, row, cols, vals)
		if x.Op == "<=>" {
			if l == nil || r == nil {
				return l == nil && r == nil, true
			}
			return l.Cmp(r) == 0, true
		}
		if l == nil || r == nil {
			return false, false
		}
		c := l.Cmp(r)
		switch x.Op {
		case "=":
			return c == 0, true
		case "!=":
			return c != 0, true
		case "<":
			return c < 0, true
		case "<=":
			return c <= 0, true
		case ">":
			return c > 0, true
		case ">=":
			return c >= 0, true
		}
	}
	return false, false
}

// number evaluates a HAVING value; nil is NULL.
func number(e planner.CondExpr, row [][]byte, cols []Column, vals []vindex.Value) *big.Rat {
	switch x := e.(type) {
	case planner.ExprCol:
		col := x.Col
		if col < 0 {
			col += len(row)
		}
		r, ok := rat(row[col], kindOf(cols[col], false))
		if !ok {
			return nil
		}
		return r
	case planner.ExprValue:
		v := x.V.Value(vals)
		if v.IsNull() {
			return nil
		}
		r, _ := rat(v.Raw, cmpDecimal)
		return r
	case planner.ExprNeg:
		v := number(x.E, row, cols, vals)
		if v == nil {
			return nil
		}
		return new(big.Rat).Neg(v)
	case planner.ExprArith:
		l, r := number(x.L, row, cols, vals), number(x.R, row, cols, vals)
		if l == nil || r == nil {
			return nil
		}
		switch x.Op {
		case '+':
			return new(big.Rat).Add(l, r)
		case '-':
			return new(big.Rat).Sub(l, r)
		case '*':
			return new(big.Rat).Mul(l, r)
		case '/':
			if r.Sign() == 0 {
				return nil
			}
			return new(big.Rat).Quo(l, r)
		}
	}
	return nil
}

package engine

import (
	"errors"
	"fmt"
	"sort"

	"github.com/go-mysql-org/go-mysql/mysql"

	"github.com/vtdirect/vtdirect/planner"
	"github.com/vtdirect/vtdirect/vindex"
)

// SelectInput is a SELECT that ran on several shards.
type SelectInput struct {
	Merge *planner.Merge // nil: rows concatenated
	// Vals are the statement's arguments (LIMIT, OFFSET, HAVING read them).
	Vals []vindex.Value
	// Sources are the shards' replies, Names the shards (for messages).
	Sources []*Collector
	Names   []string
	// PadFor returns the weight of a space in a PAD SPACE collation (nil for NO PAD).
	PadFor func(collation uint16) ([]byte, error)
	// Status goes in the result's last packet.
	Status uint16
	// ScatterErrorsAsWarnings: a failed shard is left out, its error made a warning.
	ScatterErrorsAsWarnings bool
	// DropRows: write the columns and no row (a route to no shard asked one for the columns).
	DropRows bool
}

// Warning is a condition for SHOW WARNINGS.
type Warning struct {
	Level   string
	Code    uint16
	Message string
}

// SelectResult says what a merged SELECT sent.
type SelectResult struct {
	Rows     uint64
	Warnings uint16 // the shards' warnings, plus those of ScatterErrorsAsWarnings
	// Failed are the shards left out by ScatterErrorsAsWarnings.
	Failed []Warning
	// InTrans: some shard's reply said a transaction is open.
	InTrans bool
	// Ends are how each source's reply ended, in the input's order (nil: not read to its
	// end, as after a LIMIT).
	Ends []*End
}

// errAbort stops a merge that the client's connection failed under.
var errAbort = errors.New("client write failed")

// Select merges the shards' replies into the client's result. On error nothing or part of
// the result was written (ResultWriter.Wrote); every source is abandoned and drained by its
// producer.
func Select(in *SelectInput, w *ResultWriter) (SelectResult, error) {
	res := SelectResult{Ends: make([]*End, len(in.Sources))}
	srcs := make([]*source, 0, len(in.Sources))
	all := make([]*source, len(in.Sources))
	defer func() {
		for i, s := range all {
			if s != nil && s.end != nil && s.end.Err == nil {
				res.Ends[i] = s.end
			}
		}
	}()
	defer func() {
		for _, c := range in.Sources {
			c.Abandon()
		}
	}()
	for i, c := range in.Sources {
		s := &source{c: c, name: in.Names[i]}
		all[i] = s
		if err := s.first(); err != nil {
			return res, err
		}
		if s.end != nil && s.end.Err != nil {
			if in.ScatterErrorsAsWarnings {
				res.Failed = append(res.Failed, shardWarning(s.name, s.end.Err))
				continue
			}
			return res, shardError(s.name, s.end.Err)
		}
		if s.cols == nil {
			return res, fmt.Errorf("vtdirect: shard %s returned no rows for a SELECT", s.name)
		}
		srcs = append(srcs, s)
	}
	if len(srcs) == 0 {
		if len(res.Failed) > 0 {
			return res, fmt.Errorf("vtdirect: every shard failed: %s", res.Failed[0].Message)
		}
		return res, errors.New("vtdirect: no shard to read from")
	}
	cols := srcs[0].cols
	for _, s := range srcs[1:] {
		if len(s.cols) != len(cols) {
			return res, fmt.Errorf("vtdirect: shards %s and %s return %d and %d columns; their schemas differ", srcs[0].name, s.name, len(cols), len(s.cols))
		}
	}
	m := &merger{in: in, w: w, srcs: srcs, cols: cols, res: &res}
	err := m.run()
	for _, s := range srcs {
		if s.end != nil {
			res.Warnings += s.end.Warnings
			res.InTrans = res.InTrans || s.end.Status&mysql.SERVER_STATUS_IN_TRANS != 0
		}
	}
	res.Warnings += uint16(len(res.Failed))
	if err != nil {
		return res, err
	}
	status := in.Status
	if res.InTrans {
		status |= mysql.SERVER_STATUS_IN_TRANS
	}
	if err := w.End(status, res.Warnings); err != nil {
		return res, errAbort
	}
	return res, nil
}

// IsClientError reports that the merge stopped because the client's connection failed.
func IsClientError(err error) bool { return errors.Is(err, errAbort) }

func shardError(name string, err error) error {
	var me *mysql.MyError
	if errors.As(err, &me) {
		return &mysql.MyError{Code: me.Code, State: me.State, Message: me.Message + " (shard " + name + ")"}
	}
	return fmt.Errorf("shard %s: %w", name, err)
}

func shardWarning(name string, err error) Warning {
	var me *mysql.MyError
	if errors.As(err, &me) {
		return Warning{Level: "Warning", Code: me.Code, Message: "shard " + name + ": " + me.Message}
	}
	return Warning{Level: "Warning", Code: mysql.ER_UNKNOWN_ERROR, Message: "shard " + name + ": " + err.Error()}
}

// merger runs one merge.
type merger struct {
	in    *SelectInput
	w     *ResultWriter
	srcs  []*source
	cols  []Column
	res   *SelectResult
	order []keyCmp
	// offset and limit left to apply; limit < 0: none.
	offset, limit int64
	visible       int
}

// keyCmp compares rows on one sort key.
type keyCmp struct {
	col, weight int // indices in the row; weight -1: none
	desc        bool
	kind        cmpKind
	pad         []byte
}

func (m *merger) index(i int) int {
	if i == planner.NoColumn {
		return -1
	}
	if i < 0 {
		return len(m.cols) + i
	}
	return i
}

func (m *merger) keys(keys []planner.SortKey, cols []Column) ([]keyCmp, error) {
	out := make([]keyCmp, len(keys))
	for i, k := range keys {
		c := keyCmp{col: m.index(k.Col), weight: m.index(k.Weight), desc: k.Desc}
		if c.col < 0 || c.col >= len(cols) || c.weight >= len(cols) {
			return nil, fmt.Errorf("vtdirect: sort key column %d out of the %d columns the shards returned", k.Col, len(cols))
		}
		col := cols[c.col]
		if col.Flags&(mysql.ENUM_FLAG|mysql.SET_FLAG) != 0 {
			return nil, fmt.Errorf("vtdirect: sorting or grouping by ENUM or SET column %s on several shards is not supported (they sort by their definition's order); %w",
				col.Name, errUnsupported)
		}
		c.kind = kindOf(col, c.weight >= 0)
		if c.kind == cmpWeight && m.in.PadFor != nil {
			pad, err := m.in.PadFor(col.Charset)
			if err != nil {
				return nil, err
			}
			c.pad = pad
		}
		out[i] = c
	}
	return out, nil
}

// errUnsupported marks errors the router reports as 1235.
var errUnsupported = errors.New("unsupported")

// IsUnsupported reports an error that is a refusal of the construct.
func IsUnsupported(err error) bool { return errors.Is(err, errUnsupported) }

// compareRows compares two rows on keys.
func compareRows(keys []keyCmp, a, b [][]byte) int {
	for _, k := range keys {
		c := compareKey(k, a, b)
		if c != 0 {
			if k.desc {
				return -c
			}
			return c
		}
	}
	return 0
}

func compareKey(k keyCmp, a, b [][]byte) int {
	va, vb := a[k.col], b[k.col]
	switch {
	case va == nil && vb == nil:
		return 0
	case va == nil:
		return -1
	case vb == nil:
		return 1
	}
	if k.kind == cmpWeight {
		wa, wb := a[k.weight], b[k.weight]
		if wa != nil && wb != nil {
			return compareValues(wa, wb, cmpWeight, k.pad)
		}
	}
	return compareValues(va, vb, k.kind, nil)
}

func (m *merger) run() error {
	mp := m.in.Merge
	m.limit, m.offset = -1, 0
	m.visible = len(m.cols)
	if mp != nil {
		m.visible = len(m.cols) - mp.Hidden
		if mp.Limit != nil {
			m.limit = int64(argUint(mp.Limit.Value(m.in.Vals)))
		}
		if mp.Offset != nil {
			m.offset = int64(argUint(mp.Offset.Value(m.in.Vals)))
		}
		var err error
		if m.order, err = m.keys(mp.Order, m.cols); err != nil {
			return err
		}
	}
	if mp != nil && mp.Grouped {
		return m.grouped()
	}
	m.w.Header(m.cols[:m.visible], m.in.Status)
	if m.in.DropRows {
		return m.finish()
	}
	for {
		if m.limit == 0 {
			break
		}
		s, err := m.nextRow()
		if err != nil {
			return err
		}
		if s == nil {
			break
		}
		if m.offset > 0 {
			m.offset--
			continue
		}
		if m.w.Binary {
			m.w.Row(s.vals[:m.visible])
		} else if m.visible == len(m.cols) {
			m.w.RowPayload(s.row)
		} else {
			m.w.RowPayload(visiblePrefix(s.row, m.visible))
		}
		m.res.Rows++
		if m.limit > 0 {
			m.limit--
		}
		if m.w.Err() != nil {
			return errAbort
		}
	}
	return m.finish()
}

// finish drains the sources (for their status and warnings) unless the result is complete
// early (LIMIT), then the caller writes the end.
func (m *merger) finish() error {
	for _, s := range m.srcs {
		if m.limit == 0 || m.in.DropRows {
			s.c.Abandon()
		}
		s.drain()
		if s.end != nil && s.end.Err != nil && m.limit != 0 && !m.in.DropRows {
			if m.in.ScatterErrorsAsWarnings {
				m.res.Failed = append(m.res.Failed, shardWarning(s.name, s.end.Err))
				continue
			}
			return shardError(s.name, s.end.Err)
		}
	}
	return nil
}

// nextRow returns the source holding the next row (merged by the sort keys, or the sources
// one after another), advanced past it on the following call; nil at the end.
func (m *merger) nextRow() (*source, error) {
	if len(m.order) == 0 {
		for _, s := range m.srcs {
			if s.done {
				continue
			}
			ok, err := s.next()
			if err != nil {
				return nil, err
			}
			if ok {
				return s, nil
			}
			if s.end != nil && s.end.Err != nil {
				if m.in.ScatterErrorsAsWarnings {
					m.res.Failed = append(m.res.Failed, shardWarning(s.name, s.end.Err))
					s.end.Err = nil
					continue
				}
				return nil, shardError(s.name, s.end.Err)
			}
		}
		return nil, nil
	}
	// Each source's head is its current row once primed.
	for _, s := range m.srcs {
		if s.vals == nil && !s.done {
			if _, err := s.next(); err != nil {
				return nil, err
			}
			if s.done && s.end != nil && s.end.Err != nil {
				if !m.in.ScatterErrorsAsWarnings {
					return nil, shardError(s.name, s.end.Err)
				}
				m.res.Failed = append(m.res.Failed, shardWarning(s.name, s.end.Err))
				s.end.Err = nil
			}
		}
	}
	var best *source
	for _, s := range m.srcs {
		if s.done {
			continue
		}
		if best == nil || compareRows(m.order, s.vals, best.vals) < 0 {
			best = s
		}
	}
	if best == nil {
		return nil, nil
	}
	// Hand out a copy of the head; the source moves on.
	out := &source{row: best.row, vals: append([][]byte(nil), best.vals...), name: best.name}
	if _, err := best.next(); err != nil {
		return nil, err
	}
	if best.done && best.end != nil && best.end.Err != nil {
		if !m.in.ScatterErrorsAsWarnings {
			return nil, shardError(best.name, best.end.Err)
		}
		m.res.Failed = append(m.res.Failed, shardWarning(best.name, best.end.Err))
		best.end.Err = nil
	}
	return out, nil
}

// visiblePrefix is the part of a text row holding its first n values.
func visiblePrefix(row []byte, n int) []byte {
	p := 0
	for i := 0; i < n && p < len(row); i++ {
		if row[p] == 0xfb {
			p++
			continue
		}
		l, k, ok := readLenEnc(row[p:])
		if !ok {
			return row
		}
		p += k + int(l)
	}
	return row[:p]
}

func argUint(v vindex.Value) uint64 {
	var n uint64
	for _, c := range v.Raw {
		if c < '0' || c > '9' {
			break
		}
		n = n*10 + uint64(c-'0')
	}
	return n
}

// sortRows sorts buffered rows (stable: equal rows keep the merge order).
func sortRows(rows [][][]byte, keys []keyCmp) {
	sort.SliceStable(rows, func(i, j int) bool { return compareRows(keys, rows[i], rows[j]) < 0 })
}

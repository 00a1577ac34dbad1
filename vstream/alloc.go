package vstream

// Fewer, larger allocations on the per-event path. A one-row transaction becomes about ten
// protobuf objects (BEGIN, ROW, GTID/VGTID, COMMIT events, the row event, its change, the row,
// its lengths and values, the VGTID); allocated one by one, they and the GC's work on them
// were a third of the CPU of a burst. Here the objects that live and die together are
// allocated together: the fixed events of a transaction in one block, a one-row event with
// its change and rows in another, and rows' lengths and values carved from large blocks. The
// blocks are never reused: a response references them until it is marshalled, and the GC
// frees a block with the last object in it.

import (
	binlogdatapb "vitess.io/vitess/go/vt/proto/binlogdata"
	querypb "vitess.io/vitess/go/vt/proto/query"
)

// txEvents holds the fixed events of one transaction.
type txEvents struct {
	begin, gtid, commit binlogdatapb.VEvent
}

// rowEventBlock holds a ROW event with one row change (the common case: a single-row
// statement), its before and after images.
type rowEventBlock struct {
	ev            binlogdatapb.VEvent
	re            binlogdatapb.RowEvent
	changes       [1]*binlogdatapb.RowChange
	rc            binlogdatapb.RowChange
	before, after querypb.Row
}

// vgtidBlock is a one-shard VGTID.
type vgtidBlock struct {
	v    binlogdatapb.VGtid
	list [1]*binlogdatapb.ShardGtid
	sg   binlogdatapb.ShardGtid
}

const (
	arenaValues  = 64 << 10 // bytes of row values per block
	arenaLengths = 4 << 10  // row lengths per block
	arenaSlab    = 32       // transactions' fixed events, or one-row ROW events, per slab
)

// rowArena hands out the Lengths and Values of rows. Owned by one shard stream.
type rowArena struct {
	vals    []byte  // free tail of the current values block
	lens    []int64 // free tail of the current lengths block
	scratch []byte  // one row's values being encoded
	txs     []txEvents
	rows    []rowEventBlock
}

// txEvents returns fresh (zero) fixed events for one transaction.
func (a *rowArena) txEvents() *txEvents { return fromSlab(&a.txs) }

// rowBlock returns a fresh (zero) ROW event block.
func (a *rowArena) rowBlock() *rowEventBlock { return fromSlab(&a.rows) }

// fromSlab hands out the next element of *slab, starting a new slab when it is used up.
func fromSlab[T any](slab *[]T) *T {
	if len(*slab) == 0 {
		*slab = make([]T, arenaSlab)
	}
	t := &(*slab)[0]
	*slab = (*slab)[1:]
	return t
}

// lengths returns n zeroed lengths.
func (a *rowArena) lengths(n int) []int64 {
	if n > len(a.lens) {
		if n > arenaLengths/8 {
			return make([]int64, n)
		}
		a.lens = make([]int64, arenaLengths)
	}
	l := a.lens[:n:n]
	a.lens = a.lens[n:]
	return l
}

// values returns a copy of b that stays valid for good.
func (a *rowArena) values(b []byte) []byte {
	n := len(b)
	if n > len(a.vals) {
		if n > arenaValues/8 {
			return append([]byte(nil), b...)
		}
		a.vals = make([]byte, arenaValues)
	}
	v := a.vals[:n:n]
	a.vals = a.vals[n:]
	copy(v, b)
	return v
}

// fillRow encodes the projected columns (cols: source column indexes) of a binlog row into
// row, in Vitess's text form (see values.go).
func (a *rowArena) fillRow(row *querypb.Row, t *tableMeta, cols []int, vals []any) error {
	row.Lengths = a.lengths(len(cols))
	b := a.scratch[:0]
	for i, ci := range cols {
		if ci >= len(vals) || vals[ci] == nil {
			row.Lengths[i] = -1
			continue
		}
		n := len(b)
		var err error
		if b, err = appendValue(b, &t.Columns[ci], vals[ci]); err != nil {
			return err
		}
		row.Lengths[i] = int64(len(b) - n)
	}
	a.scratch = b
	row.Values = a.values(b)
	return nil
}

// cloneVGtid copies v for one VGTID event: one allocation for a one-shard VGTID outside the
// copy phase, a deep copy otherwise.
func cloneVGtid(v *binlogdatapb.VGtid) *binlogdatapb.VGtid {
	if len(v.ShardGtids) != 1 || len(v.ShardGtids[0].TablePKs) > 0 {
		return v.CloneVT()
	}
	src := v.ShardGtids[0]
	b := &vgtidBlock{}
	b.sg.Keyspace, b.sg.Shard, b.sg.Gtid = src.Keyspace, src.Shard, src.Gtid
	b.list[0] = &b.sg
	b.v.ShardGtids = b.list[:]
	return &b.v
}

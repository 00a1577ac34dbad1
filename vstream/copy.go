package vstream

// The copy phase: tables are copied in primary-key order, one chunk per consistent snapshot.
// Before a chunk is read at snapshot position S, the binlog is caught up from the last
// position sent to S, passing on only changes to rows the consumer already has (pk <= lastpk of
// the table being copied, every row of a table already copied, nothing of tables not begun).
// After the chunk, the consumer holds exactly the table's rows with pk <= the new lastpk as of
// S, so it ends with exactly the table however the rows change during the copy. Unlike Vitess's
// at-least-once copy, nothing is sent twice.

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	binlogdatapb "vitess.io/vitess/go/vt/proto/binlogdata"
	querypb "vitess.io/vitess/go/vt/proto/query"
)

// copyTable is the progress of one table still to copy.
type copyTable struct {
	name    string
	started bool     // a chunk was sent (or lastpk came from the request)
	lastpk  [][]byte // text values of the pk columns of the last row sent
	// weights are the sort keys of the collated lastpk columns (nil: not known yet, or not
	// collated); see keyorder.go.
	weights [][]byte
}

// copyState is the set of tables still to copy; keep() is the catch-up rule.
type copyState struct {
	order  []string
	tables map[string]*copyTable
	weigh  weigher // sort keys of collated key values, from the current source
	err    error   // the first failure to weigh a key: ends the attempt
}

// keep decides what of a binlog row change the consumer may receive during the copy.
func (c *copyState) keep(p *tablePlan, before, after []any) ([]any, []any) {
	t, ok := c.tables[p.meta.Name]
	if !ok {
		return before, after // copied already, or not part of the copy
	}
	if !t.started {
		return nil, nil
	}
	if before != nil && !c.copied(p.meta, before, t) {
		before = nil
	}
	if after != nil && !c.copied(p.meta, after, t) {
		after = nil
	}
	return before, after
}

// copied reports whether row's key is at or before t's last copied key, in MariaDB's order
// (nil lastpk: a key-less table copied whole).
func (c *copyState) copied(m *tableMeta, row []any, t *copyTable) bool {
	if t.lastpk == nil {
		return true
	}
	var buf [32]byte
	for k, ci := range m.PK {
		if k >= len(t.lastpk) || ci >= len(row) {
			return false
		}
		v, err := appendValue(buf[:0], &m.Columns[ci], row[ci])
		if err != nil {
			c.fail(err)
			return false
		}
		var w []byte
		if k < len(t.weights) {
			w = t.weights[k]
		}
		r, err := compareKey(m, ci, v, t.lastpk[k], w, c.weigh)
		if err != nil {
			c.fail(err)
			return false
		}
		if r != 0 {
			return r < 0
		}
	}
	return true
}

func (c *copyState) fail(err error) {
	if c.err == nil {
		c.err = fmt.Errorf("compare a changed row with the last copied key: %w", err)
	}
}

func cmpOrdered[T int64 | uint64](x, y T) int {
	switch {
	case x < y:
		return -1
	case x > y:
		return 1
	}
	return 0
}

// newCopyState lists the tables to copy: those in lastPKs when resuming, else every table the
// filter streams (limited to tablesToCopy when given).
func (s *shardStream) newCopyState(ctx context.Context, lastPKs []*binlogdatapb.TableLastPK, tablesToCopy []string) (*copyState, error) {
	if len(lastPKs) > 0 {
		return decodeLastPKs(lastPKs)
	}
	c := &copyState{tables: make(map[string]*copyTable)}
	names, err := s.schema.listTables(ctx)
	if err != nil {
		return nil, err
	}
	want := map[string]bool{}
	for _, n := range tablesToCopy {
		want[n] = true
	}
	for _, n := range names {
		if s.filter.match(n) == nil || (len(want) > 0 && !want[n]) {
			continue
		}
		c.order = append(c.order, n)
		c.tables[n] = &copyTable{name: n}
	}
	return c, nil
}

// decodeLastPKs reads a copy's progress from a client's VGTID (table_p_ks, as this gateway or
// Vitess sent it in VGTID events): each table once, by name, with at most one lastpk row
// whose lengths fit its values and hold no NULL (key columns are NOT NULL). The values' count
// against the table's key is checked when the table's chunk query is made (checkLastPK).
func decodeLastPKs(lastPKs []*binlogdatapb.TableLastPK) (*copyState, error) {
	c := &copyState{tables: make(map[string]*copyTable)}
	for _, tl := range lastPKs {
		if tl == nil || tl.TableName == "" {
			return nil, errors.New("table_p_ks: an entry without a table name")
		}
		if c.tables[tl.TableName] != nil {
			return nil, fmt.Errorf("table_p_ks: table %s twice", tl.TableName)
		}
		t := &copyTable{name: tl.TableName}
		if qr := tl.Lastpk; qr != nil && len(qr.Rows) > 0 {
			if len(qr.Rows) > 1 {
				return nil, fmt.Errorf("table_p_ks of %s: lastpk has %d rows, want one", tl.TableName, len(qr.Rows))
			}
			vals, err := splitRow(qr.Rows[0])
			if err != nil {
				return nil, fmt.Errorf("table_p_ks of %s: lastpk: %w", tl.TableName, err)
			}
			if len(qr.Fields) > 0 && len(qr.Fields) != len(vals) {
				return nil, fmt.Errorf("table_p_ks of %s: lastpk has %d fields and %d values", tl.TableName, len(qr.Fields), len(vals))
			}
			for i, v := range vals {
				if v == nil {
					return nil, fmt.Errorf("table_p_ks of %s: lastpk value %d is NULL", tl.TableName, i+1)
				}
			}
			if len(vals) == 0 {
				return nil, fmt.Errorf("table_p_ks of %s: lastpk row has no values", tl.TableName)
			}
			t.started, t.lastpk = true, vals
		}
		c.order = append(c.order, t.name)
		c.tables[t.name] = t
	}
	return c, nil
}

// splitRow turns a querypb.Row into its values (nil for NULL), refusing lengths that do not
// add up to its values (a row from a client, not only from this gateway).
func splitRow(r *querypb.Row) ([][]byte, error) {
	out := make([][]byte, len(r.Lengths))
	off := int64(0)
	for i, l := range r.Lengths {
		if l < -1 {
			return nil, fmt.Errorf("value %d has length %d", i+1, l)
		}
		if l < 0 {
			continue
		}
		if l > int64(len(r.Values))-off {
			return nil, fmt.Errorf("value %d (%d bytes) runs past the row's %d bytes", i+1, l, len(r.Values))
		}
		out[i] = r.Values[off : off+l]
		off += l
	}
	if off != int64(len(r.Values)) {
		return nil, fmt.Errorf("the values' lengths add up to %d of the row's %d bytes", off, len(r.Values))
	}
	return out, nil
}

// checkLastPK checks that a copy resumed from a client's lastpk gives one value per key
// column of the table as the source has it.
func checkLastPK(m *tableMeta, t *copyTable) error {
	if t.started && len(m.PK) > 0 && len(t.lastpk) != len(m.PK) {
		return invalidArg("table_p_ks of %s: lastpk has %d values, the table's primary key %d columns", t.name, len(t.lastpk), len(m.PK))
	}
	return nil
}

// copyPhase copies every table of s.copying, then sends COPY_COMPLETED.
func (s *shardStream) copyPhase(ctx context.Context) error {
	s.copying.weigh, s.copying.err = s.serverWeigher(ctx), nil
	for len(s.copying.order) > 0 {
		t := s.copying.tables[s.copying.order[0]]
		done, err := s.copyChunk(ctx, t)
		if err != nil {
			return fmt.Errorf("copy %s from %s: %w", t.name, s.src.Alias, err)
		}
		if done {
			delete(s.copying.tables, t.name)
			s.copying.order = s.copying.order[1:]
		}
	}
	s.copying = nil
	return s.emit([]*binlogdatapb.VEvent{{Type: binlogdatapb.VEventType_COPY_COMPLETED, Keyspace: s.ks, Shard: s.shard}})
}

// copyChunk copies the next chunk of t; done reports that t is complete.
func (s *shardStream) copyChunk(ctx context.Context, t *copyTable) (done bool, err error) {
	conn, snap, err := s.snapshot(ctx)
	if err != nil {
		return false, err
	}
	defer func() {
		s.release() // a key-less table's copy that failed between its parts
		_, _ = conn.ExecContext(context.WithoutCancel(ctx), "ROLLBACK")
		_ = conn.Close()
	}()
	if s.pos.IsZero() {
		s.pos = snap
	} else {
		if s.reader == nil {
			if s.reader, err = s.openBinlog(ctx, s.pos); err != nil {
				return false, err
			}
		}
		if err := s.replicate(ctx, s.reader, snap); err != nil {
			return false, err
		}
		if !snap.AtLeast(s.pos) {
			return false, fmt.Errorf("catch-up went past the snapshot %s to %s", snap, s.pos)
		}
	}
	p, err := s.plan(ctx, t.name)
	if err != nil {
		return false, err
	}
	if p != nil {
		if err := checkLastPK(p.meta, t); err != nil {
			return false, err
		}
	}
	var evs []*binlogdatapb.VEvent
	evs = append(evs, &binlogdatapb.VEvent{Type: binlogdatapb.VEventType_BEGIN, Keyspace: s.ks, Shard: s.shard})
	var last [][]byte
	if p != nil {
		if s.fieldSent[t.name] != p.fieldEvent {
			evs = append(evs, &binlogdatapb.VEvent{Type: binlogdatapb.VEventType_FIELD, FieldEvent: p.fieldEvent, Keyspace: s.ks, Shard: s.shard})
			s.fieldSent[t.name] = p.fieldEvent
		}
		var weights [][]byte
		if evs, last, weights, err = s.readChunk(ctx, conn, p, t, evs); err != nil {
			return false, err
		}
		t.weights = weights
	}
	lpk := &binlogdatapb.LastPKEvent{TableLastPK: &binlogdatapb.TableLastPK{TableName: t.name}}
	if last == nil || len(p.meta.PK) == 0 {
		done = true
		lpk.Completed = true
	}
	if last != nil && len(p.meta.PK) > 0 {
		t.started, t.lastpk = true, last
		lpk.TableLastPK.Lastpk = &querypb.QueryResult{Fields: p.pkFields, Rows: []*querypb.Row{joinRow(last)}}
	}
	evs = append(evs,
		&binlogdatapb.VEvent{Type: binlogdatapb.VEventType_LASTPK, LastPKEvent: lpk, Gtid: s.pos.String(), Keyspace: s.ks, Shard: s.shard},
		&binlogdatapb.VEvent{Type: binlogdatapb.VEventType_COMMIT, Keyspace: s.ks, Shard: s.shard})
	if s.holding { // a key-less table sent in parts: its last part, then the lock goes back
		err := s.queue(evs)
		if err == nil {
			err = s.flush()
		}
		s.release()
		return done, err
	}
	return done, s.emit(evs)
}

// readChunk reads the rows after t.lastpk in key order and appends one ROW event per row, up
// to the chunk's bounds in rows and bytes. It returns the key of the last row read (nil when
// there was none) and its sort keys. A key-less table is read whole from this one snapshot,
// its rows sent in parts of at most a chunk each as they are read (see keyless).
func (s *shardStream) readChunk(ctx context.Context, conn *sql.Conn, p *tablePlan, t *copyTable, evs []*binlogdatapb.VEvent) ([]*binlogdatapb.VEvent, [][]byte, [][]byte, error) {
	q, args := chunkQuery(p.meta, t, s.m.cfg.CopyChunkRows)
	rows, err := conn.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, nil, nil, err
	}
	defer rows.Close()
	nw := 0
	for k := range p.meta.PK {
		if _, ok := collated(p.meta, p.meta.PK[k]); ok {
			nw++
		}
	}
	vals := make([]sql.RawBytes, len(p.meta.Columns)+nw)
	ptrs := make([]any, len(vals))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	var last, weights [][]byte
	size, n := 0, 0
	keyless := len(p.meta.PK) == 0
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return nil, nil, nil, err
		}
		row := &querypb.Row{Lengths: make([]int64, len(p.cols))}
		var b []byte
		for i, ci := range p.cols {
			if vals[ci] == nil {
				row.Lengths[i] = -1
				continue
			}
			row.Lengths[i] = int64(len(vals[ci]))
			b = append(b, vals[ci]...)
		}
		row.Values = b
		size += len(b)
		n++
		evs = append(evs, &binlogdatapb.VEvent{Type: binlogdatapb.VEventType_ROW, Keyspace: s.ks, Shard: s.shard,
			RowEvent: &binlogdatapb.RowEvent{TableName: p.fieldEvent.TableName, Keyspace: s.ks, Shard: s.shard,
				RowChanges: []*binlogdatapb.RowChange{{After: row}}}})
		if keyless {
			if n%s.m.cfg.CopyChunkRows == 0 || size >= s.m.cfg.CopyChunkBytes {
				if evs, err = s.sendKeylessPart(evs); err != nil {
					return nil, nil, nil, err
				}
				size = 0
			}
			continue
		}
		last = make([][]byte, len(p.meta.PK))
		weights = make([][]byte, len(p.meta.PK))
		w := len(p.meta.Columns)
		for k, ci := range p.meta.PK {
			last[k] = bytes.Clone(vals[ci])
			if _, ok := collated(p.meta, ci); ok {
				weights[k] = bytes.Clone(vals[w])
				w++
			}
		}
		if size >= s.m.cfg.CopyChunkBytes {
			break
		}
	}
	if err := rows.Err(); err != nil {
		return nil, nil, nil, err
	}
	if keyless {
		last = [][]byte{} // done: a key-less table is read in one snapshot
	}
	return evs, last, weights, nil
}

// sendKeylessPart sends the rows of a key-less table read so far (the first part with the
// BEGIN and FIELD events) and keeps the send lock until the table's COMMIT: nothing comes
// between its parts. The parts carry no VGTID: a stream interrupted during such a table copies
// it again from its start (see README: tables without a usable key).
func (s *shardStream) sendKeylessPart(evs []*binlogdatapb.VEvent) ([]*binlogdatapb.VEvent, error) {
	if !s.holding {
		if err := s.flush(); err != nil {
			return nil, err
		}
		s.st.mu.Lock()
		s.holding = true
	}
	if err := s.sendPackets(evs); err != nil {
		return nil, err
	}
	return evs[:0:0], nil
}

// chunkQuery builds "SELECT cols [, WEIGHT_STRING(collated key cols)] FROM t WHERE key >
// lastpk ORDER BY key LIMIT n"; a composite key expands to (a > ?) OR (a = ? AND b > ?) ...
// so that an index range scan is used. Key values are passed typed: DECIMAL through CAST (a
// string compared with a DECIMAL would be compared as a double), binary strings as _binary.
func chunkQuery(t *tableMeta, ct *copyTable, limit int) (string, []any) {
	var b strings.Builder
	b.WriteString("SELECT ")
	for i, c := range t.Columns {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(quoteIdent(c.Name))
	}
	for _, ci := range t.PK {
		if _, ok := collated(t, ci); ok {
			b.WriteString(", WEIGHT_STRING(" + quoteIdent(t.Columns[ci].Name) + ")")
		}
	}
	b.WriteString(" FROM ")
	b.WriteString(quoteIdent(t.Name))
	if len(t.PK) == 0 {
		return b.String(), nil
	}
	var args []any
	if ct.started {
		b.WriteString(" WHERE ")
		for k := range t.PK {
			if k > 0 {
				b.WriteString(" OR ")
			}
			b.WriteString("(")
			for j := 0; j < k; j++ {
				b.WriteString(quoteIdent(t.Columns[t.PK[j]].Name))
				b.WriteString(" = " + keyParam(t, t.PK[j]) + " AND ")
				args = append(args, keyArg(t, t.PK[j], ct.lastpk[j]))
			}
			b.WriteString(quoteIdent(t.Columns[t.PK[k]].Name))
			b.WriteString(" > " + keyParam(t, t.PK[k]) + ")")
			args = append(args, keyArg(t, t.PK[k], ct.lastpk[k]))
		}
	}
	b.WriteString(" ORDER BY ")
	for k, ci := range t.PK {
		if k > 0 {
			b.WriteString(", ")
		}
		b.WriteString(quoteIdent(t.Columns[ci].Name))
	}
	fmt.Fprintf(&b, " LIMIT %d", limit)
	return b.String(), args
}

// keyParam is the placeholder of a key value of column ci, typed as the column.
func keyParam(t *tableMeta, ci int) string {
	if t.Columns[ci].Type == querypb.Type_DECIMAL {
		return "CAST(? AS DECIMAL(65," + strconv.Itoa(t.Columns[ci].Scale) + "))"
	}
	return "?"
}

// keyArg is a key value as a query argument: bytes (sent as _binary) for binary strings,
// text otherwise.
func keyArg(t *tableMeta, ci int, v []byte) any {
	switch t.Columns[ci].Type {
	case querypb.Type_BINARY, querypb.Type_VARBINARY, querypb.Type_BLOB, querypb.Type_BIT:
		return v
	}
	return string(v)
}

func quoteIdent(s string) string { return "`" + strings.ReplaceAll(s, "`", "``") + "`" }

func joinRow(vals [][]byte) *querypb.Row {
	r := &querypb.Row{Lengths: make([]int64, len(vals))}
	for i, v := range vals {
		r.Lengths[i] = int64(len(v))
		r.Values = append(r.Values, v...)
	}
	return r
}

// snapshot opens a consistent-snapshot transaction on a connection of its own and returns the
// binlog position it reads at. A source still behind the position already sent is waited for.
func (s *shardStream) snapshot(ctx context.Context) (*sql.Conn, Position, error) {
	deadline := s.m.cfg.Now().Add(s.m.cfg.SnapshotWait)
	for {
		conn, pos, err := s.openSnapshot(ctx)
		if err != nil {
			return nil, Position{}, err
		}
		if pos.AtLeast(s.pos) {
			return conn, pos, nil
		}
		_, _ = conn.ExecContext(ctx, "ROLLBACK")
		_ = conn.Close()
		if s.m.cfg.Now().After(deadline) {
			return nil, Position{}, fmt.Errorf("%w: source %s stays at %s, behind %s", errPositionUnavailable, s.src.Alias, pos, s.pos)
		}
		select {
		case <-ctx.Done():
			return nil, Position{}, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func (s *shardStream) openSnapshot(ctx context.Context) (*sql.Conn, Position, error) {
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return nil, Position{}, err
	}
	pos, err := s.snapshotPosition(ctx, conn)
	if err != nil {
		_ = conn.Close()
		return nil, Position{}, fmt.Errorf("consistent snapshot on %s: %w", s.src.Alias, err)
	}
	return conn, pos, nil
}

// snapshotPosition starts the snapshot transaction and returns its position. MariaDB reports the
// binlog coordinates of a consistent snapshot (binlog_snapshot_file/position) without locking;
// BINLOG_GTID_POS turns them into a GTID position. MySQL needs a brief global read lock.
func (s *shardStream) snapshotPosition(ctx context.Context, conn *sql.Conn) (Position, error) {
	if s.flavor == flavorMySQL {
		if _, err := conn.ExecContext(ctx, "FLUSH TABLES WITH READ LOCK"); err != nil {
			return Position{}, err
		}
		defer func() { _, _ = conn.ExecContext(context.WithoutCancel(ctx), "UNLOCK TABLES") }()
		if _, err := conn.ExecContext(ctx, "START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY"); err != nil {
			return Position{}, err
		}
		var set string
		if err := conn.QueryRowContext(ctx, "SELECT @@GLOBAL.gtid_executed").Scan(&set); err != nil {
			return Position{}, err
		}
		return ParsePosition(flavorMySQL + "/" + strings.ReplaceAll(set, "\n", ""))
	}
	if _, err := conn.ExecContext(ctx, "START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY"); err != nil {
		return Position{}, err
	}
	var file string
	var off uint64
	rows, err := conn.QueryContext(ctx, "SHOW STATUS LIKE 'binlog_snapshot_%'")
	if err != nil {
		return Position{}, err
	}
	for rows.Next() {
		var k, v string
		if err := rows.Scan(&k, &v); err != nil {
			rows.Close()
			return Position{}, err
		}
		switch strings.ToLower(k) {
		case "binlog_snapshot_file":
			file = v
		case "binlog_snapshot_position":
			off, _ = strconv.ParseUint(v, 10, 64)
		}
	}
	rows.Close()
	if file == "" {
		return Position{}, fmt.Errorf("source has no binary log (log_bin is off)")
	}
	var gtid sql.NullString
	if err := conn.QueryRowContext(ctx, "SELECT BINLOG_GTID_POS(?, ?)", file, off).Scan(&gtid); err != nil {
		return Position{}, err
	}
	return parseMariaDBSet(gtid.String)
}

// lastPKResult is t's progress as the QueryResult Vitess puts in TableLastPK.
func (s *shardStream) lastPKResult(name string, t *copyTable) *querypb.QueryResult {
	var fields []*querypb.Field
	if p := s.plans[name]; p != nil {
		fields = p.pkFields
	}
	return &querypb.QueryResult{Fields: fields, Rows: []*querypb.Row{joinRow(t.lastpk)}}
}

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
}

// copyState is the set of tables still to copy; keep() is the catch-up rule.
type copyState struct {
	order  []string
	tables map[string]*copyTable
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
	if before != nil && !copied(p.meta, before, t.lastpk) {
		before = nil
	}
	if after != nil && !copied(p.meta, after, t.lastpk) {
		after = nil
	}
	return before, after
}

// copied reports whether row's primary key is <= lastpk (nil lastpk: a key-less table copied whole).
func copied(t *tableMeta, row []any, lastpk [][]byte) bool {
	if lastpk == nil {
		return true
	}
	var buf [32]byte
	for k, ci := range t.PK {
		if k >= len(lastpk) || ci >= len(row) {
			return false
		}
		c := &t.Columns[ci]
		v, err := appendValue(buf[:0], c, row[ci])
		if err != nil {
			return false
		}
		if r := comparePK(c, v, lastpk[k]); r != 0 {
			return r < 0
		}
	}
	return true
}

// comparePK compares two text values of a key column: numerically for integers, else bytewise
// (exact for binary and _bin collations; case-insensitive collations order differently).
func comparePK(c *column, a, b []byte) int {
	if integral, unsigned := isIntegral(c.Type); integral {
		if unsigned {
			x, _ := strconv.ParseUint(string(a), 10, 64)
			y, _ := strconv.ParseUint(string(b), 10, 64)
			return cmpOrdered(x, y)
		}
		x, _ := strconv.ParseInt(string(a), 10, 64)
		y, _ := strconv.ParseInt(string(b), 10, 64)
		return cmpOrdered(x, y)
	}
	return bytes.Compare(a, b)
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
	c := &copyState{tables: make(map[string]*copyTable)}
	if len(lastPKs) > 0 {
		for _, tl := range lastPKs {
			t := &copyTable{name: tl.TableName}
			if qr := tl.Lastpk; qr != nil && len(qr.Rows) == 1 {
				t.started = true
				t.lastpk = splitRow(qr.Rows[0])
			}
			c.order = append(c.order, t.name)
			c.tables[t.name] = t
		}
		return c, nil
	}
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

// splitRow turns a querypb.Row into its values (nil for NULL).
func splitRow(r *querypb.Row) [][]byte {
	out := make([][]byte, len(r.Lengths))
	off := int64(0)
	for i, l := range r.Lengths {
		if l < 0 {
			continue
		}
		out[i] = r.Values[off : off+l]
		off += l
	}
	return out
}

// copyPhase copies every table of s.copying, then sends COPY_COMPLETED.
func (s *shardStream) copyPhase(ctx context.Context) error {
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
	var evs []*binlogdatapb.VEvent
	evs = append(evs, &binlogdatapb.VEvent{Type: binlogdatapb.VEventType_BEGIN, Keyspace: s.ks, Shard: s.shard})
	var last [][]byte
	if p != nil {
		if s.fieldSent[t.name] != p.fieldEvent {
			evs = append(evs, &binlogdatapb.VEvent{Type: binlogdatapb.VEventType_FIELD, FieldEvent: p.fieldEvent, Keyspace: s.ks, Shard: s.shard})
			s.fieldSent[t.name] = p.fieldEvent
		}
		if evs, last, err = s.readChunk(ctx, conn, p, t, evs); err != nil {
			return false, err
		}
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
	return done, s.emit(evs)
}

// readChunk reads the rows after t.lastpk in pk order and appends one ROW event per row.
// It returns the pk of the last row read (nil when there was none).
func (s *shardStream) readChunk(ctx context.Context, conn *sql.Conn, p *tablePlan, t *copyTable, evs []*binlogdatapb.VEvent) ([]*binlogdatapb.VEvent, [][]byte, error) {
	q, args := chunkQuery(p.meta, t, s.m.cfg.CopyChunkRows)
	rows, err := conn.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	vals := make([]sql.RawBytes, len(p.meta.Columns))
	ptrs := make([]any, len(vals))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	var last [][]byte
	size := 0
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return nil, nil, err
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
		evs = append(evs, &binlogdatapb.VEvent{Type: binlogdatapb.VEventType_ROW, Keyspace: s.ks, Shard: s.shard,
			RowEvent: &binlogdatapb.RowEvent{TableName: p.fieldEvent.TableName, Keyspace: s.ks, Shard: s.shard,
				RowChanges: []*binlogdatapb.RowChange{{After: row}}}})
		last = make([][]byte, len(p.meta.PK))
		for k, ci := range p.meta.PK {
			last[k] = bytes.Clone(vals[ci])
		}
		if len(p.meta.PK) > 0 && size >= s.m.cfg.CopyChunkBytes {
			break
		}
	}
	if err := rows.Err(); err != nil {
		return nil, nil, err
	}
	if last == nil && len(p.meta.PK) == 0 {
		last = [][]byte{} // a key-less table is copied whole in one chunk
	}
	return evs, last, nil
}

// chunkQuery builds "SELECT cols FROM t WHERE pk > lastpk ORDER BY pk LIMIT n"; a composite
// key expands to (a > ?) OR (a = ? AND b > ?) ... so that an index range scan is used.
func chunkQuery(t *tableMeta, ct *copyTable, limit int) (string, []any) {
	var b strings.Builder
	b.WriteString("SELECT ")
	for i, c := range t.Columns {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(quoteIdent(c.Name))
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
				b.WriteString(" = ? AND ")
				args = append(args, string(ct.lastpk[j]))
			}
			b.WriteString(quoteIdent(t.Columns[t.PK[k]].Name))
			b.WriteString(" > ?)")
			args = append(args, string(ct.lastpk[k]))
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

package vstream

// The binlog side of a shard stream: read the source's binlog as a replica (binlogconn.go),
// parse its events (go-mysql's parser, except the few fixed fields decoded here), and turn them
// into Vitess VEvents, one whole transaction at a time:
//   GTID ... TABLE_MAP ROWS... XID           -> BEGIN [FIELD] ROW... GTID COMMIT
//   GTID (standalone) QUERY <ddl>            -> GTID DDL
//   GTID (standalone) QUERY <other>          -> GTID OTHER
// The GTID VEvent carries the whole position after the transaction; the manager turns it into
// a VGTID, as Vitess's vtgate does.

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"log/slog"
	"strings"
	"sync/atomic"
	"time"

	"github.com/go-mysql-org/go-mysql/mysql"
	"github.com/go-mysql-org/go-mysql/replication"
	binlogdatapb "vitess.io/vitess/go/vt/proto/binlogdata"
	querypb "vitess.io/vitess/go/vt/proto/query"
)

// binlogReader owns one replication connection (or one subscription to a shared dump,
// sharedbinlog.go) and its parser. It is read by the shard stream's goroutine; a watchdog
// goroutine (owned by the reader: close stops it and waits) closes a silent connection, and
// ctx's end closes it too, so a blocked read always returns.
type binlogReader struct {
	conn      rawEvents
	parser    *replication.BinlogParser
	seen      atomic.Int64             // events read, for the watchdog
	waiting   atomic.Int64             // unix ns since when a read has been waiting for input, 0 when not waiting
	silent    atomic.Bool              // the watchdog closed the connection
	stop      chan struct{}            // closed by close() to end the watchdog
	done      chan struct{}            // closed when the watchdog has exited
	stopAfter func() bool              // unregisters the close-on-ctx-end hook
	ev        binlogEvent              // the event next returned last
	tableMaps map[uint64]tableMapCache // by table id (see next)
	crc       bool                     // events end with a CRC32 checksum (from the format description)
}

// rawEvents is where a binlogReader gets its events: a replication connection of its own
// (*binlogConn) or a subscription to a server's shared dump (*subscription). Read by one
// goroutine; close may be called from any goroutine and unblocks a read.
type rawEvents interface {
	readEvent() ([]byte, error)
	buffered() bool
	close()
}

// openBinlog starts a binlog dump of the stream's own from pos; ctx bounds the setup and its
// end closes the connection.
func (s *shardStream) openBinlog(ctx context.Context, pos Position) (*binlogReader, error) {
	return s.dialReader(ctx, ctx, pos)
}

// dialReader starts a binlog dump from pos: ctx bounds the setup; life's end closes it.
func (s *shardStream) dialReader(ctx, life context.Context, pos Position) (*binlogReader, error) {
	conn, err := s.m.dialConn(ctx, s.src, pos)
	if err != nil {
		return nil, err
	}
	return s.newReader(life, conn, pos.flavor), nil
}

// dialConn starts a binlog dump of src from pos; ctx bounds the setup.
func (m *Manager) dialConn(ctx context.Context, src Source, pos Position) (*binlogConn, error) {
	if pos.IsZero() {
		return nil, fmt.Errorf("open binlog of %s: no start position", src.Alias)
	}
	conn, err := dialBinlog(ctx, dumpRequest{
		addr:         src.Addr,
		user:         m.cfg.User,
		password:     m.cfg.Password,
		tlsMode:      m.cfg.TLSMode,
		tlsConfig:    m.cfg.TLSConfig,
		serverID:     m.nextServerID(),
		pos:          pos,
		heartbeat:    m.cfg.BinlogHeartbeat,
		setupTimeout: 10 * time.Second,
	})
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, classifyMySQL(fmt.Errorf("start binlog dump from %s at %s: %w", src.Alias, pos, err))
	}
	return conn, nil
}

// newReader reads conn with a parser of flavor's; ctx's end closes conn.
func (s *shardStream) newReader(ctx context.Context, conn rawEvents, flavor string) *binlogReader {
	p := replication.NewBinlogParser()
	if flavor == flavorMySQL {
		p.SetFlavor(mysql.MySQLFlavor)
	} else {
		p.SetFlavor(mysql.MariaDBFlavor)
	}
	// Values as Vitess sends them: DECIMAL exact (shopspring Decimal, printed at the column's
	// scale), times as strings in UTC, no checksum verification (TCP already checks).
	p.SetUseDecimal(true)
	p.SetParseTime(false)
	p.SetTimestampStringLocation(time.UTC)
	p.SetVerifyChecksum(false)
	r := &binlogReader{conn: conn, parser: p, stop: make(chan struct{}), done: make(chan struct{})}
	p.SetRowsEventDecodeFunc(r.decodeRows)
	r.stopAfter = context.AfterFunc(ctx, conn.close)
	// A read deadline per packet costs a syscall-heavy timer update per event; a watchdog that
	// closes a silent connection (no event, not even a heartbeat, for 4 periods) costs nothing.
	go r.watch(4 * s.m.cfg.BinlogHeartbeat)
	return r
}

// watch closes the connection when no event arrived for a whole period while the stream was
// waiting for one (a stream blocked on a slow client is not a silent source).
func (r *binlogReader) watch(period time.Duration) {
	defer close(r.done)
	t := time.NewTicker(period)
	defer t.Stop()
	last := r.seen.Load()
	for {
		select {
		case <-r.stop:
			return
		case <-t.C:
			n := r.seen.Load()
			since := r.waiting.Load()
			if n == last && since != 0 && time.Since(time.Unix(0, since)) >= period {
				r.silent.Store(true)
				r.conn.close()
				return
			}
			last = n
		}
	}
}

// buffered reports whether more input is already here, so that the next read does not wait.
func (r *binlogReader) buffered() bool { return r.conn.buffered() }

// binlogEvent is one binlog event: the header fields vstream uses and, for the two events of
// every transaction that carry a few fixed fields (MariaDB's GTID, XID), those fields decoded
// here; every other event is parsed by go-mysql. Why: go-mysql allocates three objects per
// event (event, header, body), and these two events are half of a one-row transaction's.
type binlogEvent struct {
	typ        replication.EventType
	timestamp  uint32
	gtid       mariaGTID         // MARIADB_GTID_EVENT
	standalone bool              // MARIADB_GTID_EVENT: a statement with no COMMIT of its own
	preparedXA bool              // MARIADB_GTID_EVENT: the group of an XA PREPARE
	parsed     replication.Event // other types
}

// mariaFlPreparedXA is the GTID event flag of an XA PREPARE's group (sql/log_event.h,
// Gtid_log_event::FL_PREPARED_XA).
const mariaFlPreparedXA = 64

// binlogHeaderSize is the size of a v4 event header: timestamp, type, server_id, size,
// log_pos, flags (https://mariadb.com/kb/en/2-binlog-event-header/).
const binlogHeaderSize = 19

// next reads and decodes the next binlog event, in the caller's goroutine. The event is valid
// until the next call.
func (r *binlogReader) next() (*binlogEvent, error) {
	data, err := r.nextRaw()
	if err != nil {
		return nil, err
	}
	if len(data) < binlogHeaderSize {
		return nil, fmt.Errorf("binlog event of %d bytes, shorter than its header", len(data))
	}
	ev := &r.ev
	*ev = binlogEvent{typ: replication.EventType(data[4]), timestamp: binary.LittleEndian.Uint32(data)}
	body := data[binlogHeaderSize:]
	switch ev.typ {
	case replication.MARIADB_GTID_EVENT:
		// https://mariadb.com/kb/en/gtid_event/: seq_no 8, domain_id 4, flags 1, ...
		if len(body) < 13 {
			return nil, fmt.Errorf("MariaDB GTID event of %d bytes", len(data))
		}
		ev.gtid = mariaGTID{Seq: binary.LittleEndian.Uint64(body), Domain: binary.LittleEndian.Uint32(body[8:]),
			Server: binary.LittleEndian.Uint32(data[5:])}
		ev.standalone = body[12]&replication.BINLOG_MARIADB_FL_STANDALONE != 0
		ev.preparedXA = body[12]&mariaFlPreparedXA != 0
		return ev, nil
	case replication.XID_EVENT:
		return ev, nil // only the header's timestamp is used
	}
	if ev.typ == replication.TABLE_MAP_EVENT && len(body) >= 6 {
		// Every transaction repeats its tables' TABLE_MAP events; with full row metadata they
		// are large to decode. An event identical to the last one of its table id (but for
		// its checksum, which covers the header's log position) is the same table in the same
		// shape: reuse its decoding (decodeRows finds it for the rows that follow).
		id := uint64(body[0]) | uint64(body[1])<<8 | uint64(body[2])<<16 | uint64(body[3])<<24 | uint64(body[4])<<32 | uint64(body[5])<<40
		key := body
		if r.crc && len(key) >= replication.BinlogChecksumLength {
			key = key[:len(key)-replication.BinlogChecksumLength]
		}
		if c, ok := r.tableMaps[id]; ok && bytes.Equal(c.body, key) {
			ev.parsed = c.ev
			return ev, nil
		}
		parsed, err := r.parser.Parse(data)
		if err != nil {
			return nil, err
		}
		ev.parsed = parsed.Event
		if tm, ok := parsed.Event.(*replication.TableMapEvent); ok {
			if r.tableMaps == nil || len(r.tableMaps) > 4096 {
				r.tableMaps = make(map[uint64]tableMapCache)
			}
			r.tableMaps[id] = tableMapCache{body: key, ev: tm}
		}
		return ev, nil
	}
	parsed, err := r.parser.Parse(data)
	if err != nil {
		return nil, err
	}
	ev.parsed = parsed.Event
	if fd, ok := parsed.Event.(*replication.FormatDescriptionEvent); ok {
		r.crc = fd.ChecksumAlgorithm == replication.BINLOG_CHECKSUM_ALG_CRC32
		clear(r.tableMaps) // a new binlog file: table ids may be reused
	}
	return ev, nil
}

// decodeRows decodes a rows event for the parser. The parser forgets its table maps at the
// end of every statement, and a TABLE_MAP event that next served from its cache never
// reached the parser: the table comes from the cache instead (the table map the source sent
// last for this id: the protocol sends one before the rows of every statement). The header
// is read here (go-mysql's DecodeHeader would fail the lookup, building an error with a
// stack trace each time); the rows are decoded by go-mysql.
func (r *binlogReader) decodeRows(e *replication.RowsEvent, data []byte) error {
	if pos, ok := r.rowsHeader(e, data); ok {
		return e.DecodeData(pos, data)
	}
	pos, err := e.DecodeHeader(data)
	if err != nil {
		return err
	}
	return e.DecodeData(pos, data)
}

// rowsHeader decodes the header of a v1/v2 rows event of a table in the cache, as
// DecodeHeader does (https://mariadb.com/kb/en/rows_event_v1v2-rows_compressed_event_v1/),
// and returns where the rows start. ok is false for anything else (v0 events, v2 extra row
// data, MySQL's partial updates), left to DecodeHeader.
func (r *binlogReader) rowsHeader(e *replication.RowsEvent, data []byte) (int, bool) {
	const idSize = 6
	typ := e.Type()
	if e.Version < 1 || typ == replication.EnumRowsEventTypeUnknown || len(data) < idSize+2 {
		return 0, false
	}
	id := uint64(data[0]) | uint64(data[1])<<8 | uint64(data[2])<<16 | uint64(data[3])<<24 | uint64(data[4])<<32 | uint64(data[5])<<40
	c, ok := r.tableMaps[id]
	if !ok {
		return 0, false
	}
	pos := idSize
	flags := binary.LittleEndian.Uint16(data[pos:])
	pos += 2
	if e.Version == 2 {
		if len(data) < pos+2 || binary.LittleEndian.Uint16(data[pos:]) != 2 {
			return 0, false // extra row data: DecodeHeader decodes it
		}
		pos += 2
	}
	if pos >= len(data) {
		return 0, false
	}
	count, _, n := mysql.LengthEncodedInt(data[pos:])
	pos += n
	bitmap := int(count+7) / 8
	bitmaps := 1
	if typ == replication.EnumRowsEventTypeUpdate {
		bitmaps = 2
	}
	if n == 0 || count > uint64(len(data)) || len(data) < pos+bitmaps*bitmap {
		return 0, false
	}
	e.TableID, e.Flags, e.ColumnCount, e.Table = id, flags, count, c.ev
	e.ColumnBitmap1 = data[pos : pos+bitmap]
	pos += bitmap
	if bitmaps == 2 {
		e.ColumnBitmap2 = data[pos : pos+bitmap]
		pos += bitmap
	}
	return pos, true
}

// nextRaw reads the next event's data, unparsed (the shared dump's reader uses it alone).
func (r *binlogReader) nextRaw() ([]byte, error) {
	// Only a read that may block is timed for the watchdog: a burst costs no clock reads.
	wait := !r.conn.buffered()
	if wait {
		r.waiting.Store(time.Now().UnixNano())
	}
	data, err := r.conn.readEvent()
	if wait {
		r.waiting.Store(0)
	}
	if err != nil {
		if r.silent.Load() {
			return nil, fmt.Errorf("source sent nothing, not even a heartbeat, for too long: %w", err)
		}
		return nil, err
	}
	r.seen.Add(1)
	return data, nil
}

// tableMapCache is the last TABLE_MAP event of a table id, raw and decoded.
type tableMapCache struct {
	body []byte
	ev   *replication.TableMapEvent
}

func (r *binlogReader) close() {
	if r != nil {
		r.stopAfter()
		close(r.stop)
		<-r.done
		r.conn.close()
	}
}

// txState is the transaction being assembled from binlog events.
type txState struct {
	open   bool
	events []*binlogdatapb.VEvent // reused: queue copies the events out
	fixed  *txEvents              // BEGIN, GTID and COMMIT, allocated together
	ts     int64
	bytes  int // estimated size of events, since the last chunk sent
	// xa marks a prepared XA transaction's group (held whole until its XA COMMIT, see xa.go),
	// xid its id; fields are the FIELD events its rows were decoded with.
	xa     bool
	xid    string
	fields map[string]*binlogdatapb.FieldEvent
}

// reset starts a new transaction, keeping the events slice.
func (t *txState) reset(ts int64) {
	clear(t.events)
	*t = txState{ts: ts, events: t.events[:0]}
}

// beginEvent starts the transaction's fixed events and returns its BEGIN.
func (s *shardStream) beginEvent(ts int64) *binlogdatapb.VEvent {
	s.tx.fixed = s.arena.txEvents()
	b := &s.tx.fixed.begin
	b.Type, b.Timestamp, b.Keyspace, b.Shard = binlogdatapb.VEventType_BEGIN, ts, s.ks, s.shard
	return b
}

// replicate reads the binlog and sends whole transactions to the client until ctx ends, an
// error occurs, or (when stop is set) the position reaches stop (the copy phase's catch-up,
// during which s.copying decides the fate of each row change). Everything read has been sent
// when it returns.
func (s *shardStream) replicate(ctx context.Context, r *binlogReader, stop Position) (err error) {
	if !stop.IsZero() && s.pos.AtLeast(stop) {
		return nil
	}
	// Whatever ends the loop, the transactions read so far are handed on first: s.pos already
	// counts them, and a retry resumes from s.pos.
	defer func() {
		if s.holding {
			// Ended inside a chunked transaction: its chunks were sent, its COMMIT was not. The
			// retry resumes before it and sends it again from its BEGIN.
			s.discardOpenTx()
		}
		if ferr := s.flush(); ferr != nil {
			err = ferr
		}
	}()
	for {
		// Batching without a timer: completed transactions wait only while more input is
		// already here; a lone transaction goes out as soon as its commit is read.
		if !r.buffered() {
			if err := s.flush(); err != nil {
				return err
			}
		}
		ev, err := r.next()
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return classifyMySQL(fmt.Errorf("read binlog from %s: %w", s.src.Alias, err))
		}
		done, err := s.onEvent(ctx, ev)
		if err != nil {
			return err
		}
		if done && len(s.journals) > 0 {
			if err := s.flush(); err != nil {
				return err
			}
			js := s.journals
			s.journals = nil
			for _, j := range js {
				end, err := s.onJournal(ctx, j)
				if err != nil {
					return err
				}
				if end {
					return errJournalEnd
				}
			}
		}
		if done && !stop.IsZero() && s.pos.AtLeast(stop) {
			return nil
		}
	}
}

// onEvent handles one binlog event; done reports that a transaction was completed.
func (s *shardStream) onEvent(ctx context.Context, ev *binlogEvent) (done bool, err error) {
	ts := int64(ev.timestamp)
	switch ev.typ {
	case replication.MARIADB_GTID_EVENT:
		s.next = s.pos.withMariaGTID(ev.gtid)
		s.curMaria = ev.gtid
		s.tx.reset(ts)
		if !ev.standalone {
			s.tx.open = true
			s.tx.xa = ev.preparedXA
			s.tx.events = append(s.tx.events, s.beginEvent(ts))
		}
		return false, nil
	case replication.XID_EVENT:
		return true, s.commit(ts)
	case replication.XA_PREPARE_LOG_EVENT:
		return true, s.prepareXA(ts)
	}
	switch e := ev.parsed.(type) {
	case *replication.GTIDEvent:
		set, err := e.GTIDNext()
		if err != nil {
			return false, err
		}
		g := set.String()
		next, err := s.pos.withMySQLGTID(g)
		if err != nil {
			return false, err
		}
		s.next, s.curGTID = next, g
		s.tx.reset(ts)
	case *replication.RowsEvent:
		return false, s.onRows(ctx, e, ts)
	case *replication.QueryEvent:
		return s.onQuery(ctx, e, ts)
	}
	return false, nil
}

func (s *shardStream) onQuery(ctx context.Context, e *replication.QueryEvent, ts int64) (bool, error) {
	q := strings.TrimSpace(string(e.Query))
	verb := strings.ToUpper(firstWord(q))
	switch verb {
	case "BEGIN":
		s.tx.reset(ts)
		s.tx.open = true
		s.tx.events = append(s.tx.events, s.beginEvent(ts))
		return false, nil
	case "COMMIT":
		return true, s.commit(ts)
	case "SAVEPOINT", "ROLLBACK":
		return false, nil
	case "XA":
		return s.onXA(q, ts)
	}
	// A statement of its own (DDL or other): positions advance; the cache forgets the schema.
	s.pos = s.next
	ev := &binlogdatapb.VEvent{Type: binlogdatapb.VEventType_OTHER, Timestamp: ts, Keyspace: s.ks, Shard: s.shard}
	switch verb {
	case "CREATE", "ALTER", "DROP", "RENAME", "TRUNCATE":
		s.forgetSchema()
		if s.ddlTouchesDB(string(e.Schema), q) && !strings.Contains(q, historyDB) {
			ev.Type = binlogdatapb.VEventType_DDL
			ev.Statement = q
			s.noteDDL()
		}
	}
	batch := []*binlogdatapb.VEvent{
		{Type: binlogdatapb.VEventType_GTID, Gtid: s.positionString(), Keyspace: s.ks, Shard: s.shard},
		ev,
	}
	s.tx.reset(0)
	return true, s.queue(batch)
}

// commit ends the open transaction: GTID then COMMIT, sent as one batch.
func (s *shardStream) commit(ts int64) error {
	s.pos = s.next
	evs := s.tx.events
	if !s.tx.open {
		evs = append(evs[:0], s.beginEvent(ts))
	}
	f := s.tx.fixed
	if f == nil {
		f = s.arena.txEvents()
	}
	g, c := &f.gtid, &f.commit
	g.Type, g.Gtid, g.Keyspace, g.Shard = binlogdatapb.VEventType_GTID, s.positionString(), s.ks, s.shard
	c.Type, c.Timestamp, c.CurrentTime, c.Keyspace, c.Shard = binlogdatapb.VEventType_COMMIT, ts, s.m.cfg.Now().UnixNano(), s.ks, s.shard
	evs = append(evs, g, c)
	err := s.queue(evs) // copies the events out
	if s.holding {
		// The last chunk of a chunked transaction goes out now, then the lock is released.
		if ferr := s.flush(); err == nil {
			err = ferr
		}
		s.release()
	}
	s.tx.events = evs
	s.tx.reset(0)
	return err
}

// positionString is s.pos.String() with one allocation instead of three.
func (s *shardStream) positionString() string {
	s.posBuf = s.pos.appendTo(s.posBuf[:0])
	return string(s.posBuf)
}

// onRows translates one rows event of a streamed table into a ROW VEvent.
func (s *shardStream) onRows(ctx context.Context, e *replication.RowsEvent, ts int64) error {
	if e.Table == nil {
		return nil
	}
	if string(e.Table.Schema) != s.src.DBName {
		if string(e.Table.Schema) == journalDB && string(e.Table.Table) == journalTable && e.Type() == replication.EnumRowsEventTypeInsert {
			evs, err := s.journalRows(e.Rows, e.Table.ColumnNameString())
			if err != nil {
				return err
			}
			s.tx.events = append(s.tx.events, evs...)
			for _, ev := range evs {
				s.journals = append(s.journals, ev.Journal)
			}
		}
		return nil
	}
	p, err := s.rowPlan(ctx, e.Table)
	if err != nil || p == nil {
		return err
	}
	blk := s.arena.rowBlock()
	re := &blk.re
	re.TableName, re.Keyspace, re.Shard, re.Flags = p.fieldEvent.TableName, s.ks, s.shard, uint32(e.Flags)
	re.RowChanges = blk.changes[:0]
	var before, after []any
	step := 1
	if e.Type() == replication.EnumRowsEventTypeUpdate {
		step = 2
	}
	for i := 0; i+step-1 < len(e.Rows); i += step {
		switch e.Type() {
		case replication.EnumRowsEventTypeInsert:
			before, after = nil, e.Rows[i]
		case replication.EnumRowsEventTypeDelete:
			before, after = e.Rows[i], nil
		case replication.EnumRowsEventTypeUpdate:
			before, after = e.Rows[i], e.Rows[i+1]
		default:
			continue
		}
		if s.copying != nil {
			before, after = s.copying.keep(p, before, after)
			if err := s.copying.err; err != nil {
				return err
			}
			if before == nil && after == nil {
				continue
			}
		}
		// The first change and its rows live in the block; later ones get their own.
		rc, bRow, aRow := &blk.rc, &blk.before, &blk.after
		if len(re.RowChanges) > 0 {
			rc, bRow, aRow = &binlogdatapb.RowChange{}, &querypb.Row{}, &querypb.Row{}
		}
		if before != nil {
			if err := s.arena.fillRow(bRow, p.meta, p.cols, before); err != nil {
				return err
			}
			rc.Before = bRow
		}
		if after != nil {
			if err := s.arena.fillRow(aRow, p.meta, p.cols, after); err != nil {
				return err
			}
			rc.After = aRow
		}
		re.RowChanges = append(re.RowChanges, rc)
	}
	if len(re.RowChanges) == 0 {
		return nil
	}
	if s.fieldSent[p.meta.Name] != p.fieldEvent {
		// The table's first row on this stream, or its first in a new shape.
		s.tx.events = append(s.tx.events, &binlogdatapb.VEvent{Type: binlogdatapb.VEventType_FIELD, FieldEvent: p.fieldEvent, Timestamp: ts, Keyspace: s.ks, Shard: s.shard})
		s.fieldSent[p.meta.Name] = p.fieldEvent
	}
	ev := &blk.ev
	ev.Type, ev.RowEvent, ev.Timestamp, ev.Keyspace, ev.Shard = binlogdatapb.VEventType_ROW, re, ts, s.ks, s.shard
	if s.tx.xa {
		if s.tx.fields == nil {
			s.tx.fields = map[string]*binlogdatapb.FieldEvent{}
		}
		s.tx.fields[p.fieldEvent.TableName] = p.fieldEvent
		s.tx.events = append(s.tx.events, ev) // held whole until the XA COMMIT
		return nil
	}
	return s.addTxEvent(ev)
}

func firstWord(q string) string {
	for len(q) > 0 && (q[0] == '/' || q[0] == ' ') { // skip a leading /* comment */
		if strings.HasPrefix(q, "/*") {
			if end := strings.Index(q, "*/"); end >= 0 {
				q = strings.TrimSpace(q[end+2:])
				continue
			}
		}
		break
	}
	if i := strings.IndexAny(q, " \t\n\r("); i >= 0 {
		return q[:i]
	}
	return q
}

// ddlTouchesDB reports whether a DDL ran in the source database or names one of its tables
// (Vitess sends only the DDLs of the streamed database).
func (s *shardStream) ddlTouchesDB(schema, q string) bool { return ddlInDB(s.src.DBName, schema, q) }

// forgetSchema drops cached table metadata and plans; the next row of each table is preceded
// by a fresh FIELD event.
func (s *shardStream) forgetSchema() {
	s.schema.invalidate()
	clear(s.plans)
	clear(s.tmPlans) // a DDL may keep a TABLE_MAP's types while it renames or reorders columns
	clear(s.fieldSent)
}

// warnOnly passes on records of level Warn and above.
type warnOnly struct{ slog.Handler }

func (w warnOnly) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= slog.LevelWarn && w.Handler.Enabled(ctx, l)
}
func (w warnOnly) WithAttrs(a []slog.Attr) slog.Handler { return warnOnly{w.Handler.WithAttrs(a)} }
func (w warnOnly) WithGroup(g string) slog.Handler      { return warnOnly{w.Handler.WithGroup(g)} }

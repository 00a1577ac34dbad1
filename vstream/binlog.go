package vstream

// The binlog side of a shard stream: connect to the source as a replica (COM_REGISTER_SLAVE +
// COM_BINLOG_DUMP_GTID, https://mariadb.com/kb/en/com_binlog_dump_gtid/) with go-mysql, and turn
// its events into Vitess VEvents, one whole transaction at a time:
//   GTID ... TABLE_MAP ROWS... XID           -> BEGIN [FIELD] ROW... GTID COMMIT
//   GTID (standalone) QUERY <ddl>            -> GTID DDL
//   GTID (standalone) QUERY <other>          -> GTID OTHER
// The GTID VEvent carries the whole position after the transaction; the manager turns it into
// a VGTID, as Vitess's vtgate does.

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/go-mysql-org/go-mysql/mysql"
	"github.com/go-mysql-org/go-mysql/replication"
	binlogdatapb "vitess.io/vitess/go/vt/proto/binlogdata"
)

// binlogReader owns one replication connection. Close stops go-mysql's reading goroutine and
// waits for it.
type binlogReader struct {
	syncer *replication.BinlogSyncer
	stream *replication.BinlogStreamer
	seen   atomic.Int64  // events read, for the watchdog
	silent atomic.Bool   // the watchdog closed the connection
	stop   chan struct{} // closed by close() to end the watchdog
	done   chan struct{} // closed when the watchdog has exited
}

func (s *shardStream) openBinlog(pos Position) (*binlogReader, error) {
	host, portStr, err := net.SplitHostPort(s.src.Addr)
	if err != nil {
		return nil, fmt.Errorf("source %s address %q: %w", s.src.Alias, s.src.Addr, err)
	}
	port, err := strconv.Atoi(portStr)
	if err != nil {
		return nil, fmt.Errorf("source %s address %q: %w", s.src.Alias, s.src.Addr, err)
	}
	flavor := mysql.MariaDBFlavor
	if pos.flavor == flavorMySQL {
		flavor = mysql.MySQLFlavor
	}
	syncer := replication.NewBinlogSyncer(replication.BinlogSyncerConfig{
		ServerID:                s.m.nextServerID(),
		Flavor:                  flavor,
		Host:                    host,
		Port:                    uint16(port),
		User:                    s.m.cfg.User,
		Password:                s.m.cfg.Password,
		UseDecimal:              true,
		TimestampStringLocation: time.UTC,
		HeartbeatPeriod:         s.m.cfg.BinlogHeartbeat,
		DisableRetrySync:        true,                                // the shard stream re-picks a source and resumes itself
		DiscardGTIDSet:          true,                                // positions are tracked here; go-mysql's per-event set clone is costly
		Logger:                  slog.New(warnOnly{s.log.Handler()}), // its per-connection Info lines are noise
		EventCacheCount:         4096,                                // read-ahead, bounded; TCP back-pressure beyond it
	})
	set, err := pos.gtidSet()
	if err != nil {
		syncer.Close()
		return nil, err
	}
	stream, err := syncer.StartSyncGTID(set)
	if err != nil {
		syncer.Close()
		return nil, classifyMySQL(fmt.Errorf("start binlog dump from %s at %s: %w", s.src.Alias, pos, err))
	}
	r := &binlogReader{syncer: syncer, stream: stream, stop: make(chan struct{}), done: make(chan struct{})}
	// A read deadline per packet costs a syscall-heavy timer update per event; a watchdog that
	// closes a silent connection (no event, not even a heartbeat, for 4 periods) costs nothing.
	go r.watch(4 * s.m.cfg.BinlogHeartbeat)
	return r, nil
}

// watch closes the syncer when no event arrived for a whole period. Owned by the reader:
// close() stops it and waits.
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
			if n == last {
				r.silent.Store(true)
				r.syncer.Close()
				return
			}
			last = n
		}
	}
}

// next returns the next binlog event.
func (r *binlogReader) next(ctx context.Context) (*replication.BinlogEvent, error) {
	ev, err := r.stream.GetEvent(ctx)
	if err != nil {
		if r.silent.Load() {
			return nil, fmt.Errorf("source sent nothing, not even a heartbeat, for too long: %w", err)
		}
		return nil, err
	}
	r.seen.Add(1)
	return ev, nil
}

func (r *binlogReader) close() {
	if r != nil {
		close(r.stop)
		<-r.done
		r.syncer.Close()
	}
}

// txState is the transaction being assembled from binlog events.
type txState struct {
	open   bool
	events []*binlogdatapb.VEvent
	ts     int64
}

// replicate reads the binlog and hands whole transactions to the manager until ctx ends, an
// error occurs, or (when stop is set) the position reaches stop. rowFilter, when set, decides
// the fate of each row change (the copy phase's catch-up).
func (s *shardStream) replicate(ctx context.Context, r *binlogReader, stop Position) error {
	if !stop.IsZero() && s.pos.AtLeast(stop) {
		return nil
	}
	for {
		ev, err := r.next(ctx)
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
		if done && !stop.IsZero() && s.pos.AtLeast(stop) {
			return nil
		}
	}
}

// onEvent handles one binlog event; done reports that a transaction was completed and sent.
func (s *shardStream) onEvent(ctx context.Context, ev *replication.BinlogEvent) (done bool, err error) {
	ts := int64(ev.Header.Timestamp)
	switch e := ev.Event.(type) {
	case *replication.MariadbGTIDEvent:
		s.next = s.pos.withMariaGTID(mariaGTID{Domain: e.GTID.DomainID, Server: e.GTID.ServerID, Seq: e.GTID.SequenceNumber})
		s.tx = txState{ts: ts, events: s.tx.events[:0]}
		if !e.IsStandalone() {
			s.tx.open = true
			s.tx.events = append(s.tx.events, &binlogdatapb.VEvent{Type: binlogdatapb.VEventType_BEGIN, Timestamp: ts, Keyspace: s.ks, Shard: s.shard})
		}
	case *replication.GTIDEvent:
		set, err := e.GTIDNext()
		if err != nil {
			return false, err
		}
		next, err := s.pos.withMySQLGTID(set.String())
		if err != nil {
			return false, err
		}
		s.next = next
		s.tx = txState{ts: ts, events: s.tx.events[:0]}
	case *replication.RowsEvent:
		return false, s.onRows(ctx, e, ts)
	case *replication.XIDEvent:
		return true, s.commit(ctx, ts)
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
		s.tx.open = true
		s.tx.events = append(s.tx.events[:0], &binlogdatapb.VEvent{Type: binlogdatapb.VEventType_BEGIN, Timestamp: ts, Keyspace: s.ks, Shard: s.shard})
		return false, nil
	case "COMMIT":
		return true, s.commit(ctx, ts)
	case "SAVEPOINT", "ROLLBACK":
		return false, nil
	}
	// A statement of its own (DDL or other): positions advance; the cache forgets the schema.
	s.pos = s.next
	ev := &binlogdatapb.VEvent{Type: binlogdatapb.VEventType_OTHER, Timestamp: ts, Keyspace: s.ks, Shard: s.shard}
	switch verb {
	case "CREATE", "ALTER", "DROP", "RENAME", "TRUNCATE":
		s.forgetSchema()
		if s.ddlTouchesDB(string(e.Schema), q) {
			ev.Type = binlogdatapb.VEventType_DDL
			ev.Statement = q
		}
	}
	batch := []*binlogdatapb.VEvent{
		{Type: binlogdatapb.VEventType_GTID, Gtid: s.pos.String(), Keyspace: s.ks, Shard: s.shard},
		ev,
	}
	s.tx = txState{}
	return true, s.emit(ctx, batch)
}

// commit ends the open transaction: GTID then COMMIT, sent as one batch.
func (s *shardStream) commit(ctx context.Context, ts int64) error {
	s.pos = s.next
	evs := s.tx.events
	if !s.tx.open {
		evs = append(evs[:0], &binlogdatapb.VEvent{Type: binlogdatapb.VEventType_BEGIN, Timestamp: ts, Keyspace: s.ks, Shard: s.shard})
	}
	now := s.m.cfg.Now().UnixNano()
	evs = append(evs,
		&binlogdatapb.VEvent{Type: binlogdatapb.VEventType_GTID, Gtid: s.pos.String(), Keyspace: s.ks, Shard: s.shard},
		&binlogdatapb.VEvent{Type: binlogdatapb.VEventType_COMMIT, Timestamp: ts, CurrentTime: now, Keyspace: s.ks, Shard: s.shard})
	// The batch goes to another goroutine: hand over this slice and start a new one.
	s.tx = txState{}
	return s.emit(ctx, evs)
}

// onRows translates one rows event of a streamed table into a ROW VEvent.
func (s *shardStream) onRows(ctx context.Context, e *replication.RowsEvent, ts int64) error {
	if e.Table == nil || string(e.Table.Schema) != s.src.DBName {
		return nil
	}
	p, err := s.plan(ctx, string(e.Table.Table))
	if err != nil || p == nil {
		return err
	}
	if int(e.ColumnCount) != len(p.meta.Columns) {
		// The binlog was written with another schema than information_schema now shows.
		s.forgetSchema()
		if p, err = s.plan(ctx, string(e.Table.Table)); err != nil || p == nil {
			return err
		}
		if int(e.ColumnCount) != len(p.meta.Columns) {
			return fmt.Errorf("table %s: binlog row has %d columns, schema has %d", p.meta.Name, e.ColumnCount, len(p.meta.Columns))
		}
	}
	re := &binlogdatapb.RowEvent{TableName: p.fieldEvent.TableName, Keyspace: s.ks, Shard: s.shard, Flags: uint32(e.Flags)}
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
			if before == nil && after == nil {
				continue
			}
		}
		rc := &binlogdatapb.RowChange{}
		if before != nil {
			if rc.Before, err = buildRow(p.meta, p.cols, before); err != nil {
				return err
			}
		}
		if after != nil {
			if rc.After, err = buildRow(p.meta, p.cols, after); err != nil {
				return err
			}
		}
		re.RowChanges = append(re.RowChanges, rc)
	}
	if len(re.RowChanges) == 0 {
		return nil
	}
	if !s.fieldSent[p.meta.Name] {
		s.tx.events = append(s.tx.events, &binlogdatapb.VEvent{Type: binlogdatapb.VEventType_FIELD, FieldEvent: p.fieldEvent, Timestamp: ts, Keyspace: s.ks, Shard: s.shard})
		s.fieldSent[p.meta.Name] = true
	}
	{
		s.tx.events = append(s.tx.events, &binlogdatapb.VEvent{Type: binlogdatapb.VEventType_ROW, RowEvent: re, Timestamp: ts, Keyspace: s.ks, Shard: s.shard})
	}
	return nil
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
func (s *shardStream) ddlTouchesDB(schema, q string) bool {
	if schema == s.src.DBName {
		return true
	}
	lq := strings.ToLower(q)
	db := strings.ToLower(s.src.DBName)
	return strings.Contains(lq, db+".") || strings.Contains(lq, "`"+db+"`.")
}

// forgetSchema drops cached table metadata and plans; the next row of each table is preceded
// by a fresh FIELD event.
func (s *shardStream) forgetSchema() {
	s.schema.invalidate()
	clear(s.plans)
	clear(s.fieldSent)
}

// warnOnly passes on records of level Warn and above.
type warnOnly struct{ slog.Handler }

func (w warnOnly) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= slog.LevelWarn && w.Handler.Enabled(ctx, l)
}
func (w warnOnly) WithAttrs(a []slog.Attr) slog.Handler { return warnOnly{w.Handler.WithAttrs(a)} }
func (w warnOnly) WithGroup(g string) slog.Handler      { return warnOnly{w.Handler.WithGroup(g)} }

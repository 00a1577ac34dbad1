package vstream

// The schema tracker writes the schema history (history.go) of one shard. It follows the
// primary's binlog and replays every DDL of the database, in binlog order, on a shadow copy of
// the schema (database _vtdirect_shadow_<db>: the same tables, empty, created with
// sql_log_bin=0 so that nothing of it reaches the binlog), then records the shadow's tables as
// the shape right after that DDL. MariaDB itself computes each result, and since the replay
// follows the binlog rather than the live schema, DDLs in quick succession are each seen alone.
// The shadow starts from the live schema (SHOW CREATE TABLE), which is trusted only if the
// binlog shows no DDL between the positions read before and after it (else it is read again),
// and restarts from the CREATE statements of the history's last entry. A DDL the shadow cannot
// replay is recorded as "unknown" and the shadow rebuilt (a new baseline). The Manager starts
// one tracker per shard the first time a stream of that shard needs the history, and stops it
// on Close. Several gateways may track the same shard: their entries agree.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/go-mysql-org/go-mysql/replication"
	topodatapb "vitess.io/vitess/go/vt/proto/topodata"
)

// trackerSet owns the Manager's trackers.
type trackerSet struct {
	m      *Manager
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu      sync.Mutex // guards running and reached
	running map[string]bool
	reached map[string]Position // by "ks/shard": binlog position up to which the history is written
}

func newTrackerSet(m *Manager) *trackerSet {
	ctx, cancel := context.WithCancel(context.Background())
	return &trackerSet{m: m, ctx: ctx, cancel: cancel, running: map[string]bool{}, reached: map[string]Position{}}
}

// progress records that the tracker of ks/shard has recorded every DDL up to pos.
func (t *trackerSet) progress(ks, shard string, pos Position) {
	t.mu.Lock()
	t.reached[ks+"/"+shard] = pos
	t.mu.Unlock()
}

// caughtUp reports whether the tracker of ks/shard has recorded every DDL up to pos.
func (t *trackerSet) caughtUp(ks, shard string, pos Position) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	r, ok := t.reached[ks+"/"+shard]
	return ok && r.AtLeast(pos)
}

// ensure starts the tracker of ks/shard (database db) unless it runs.
func (t *trackerSet) ensure(ks, shard, db string) {
	key := ks + "/" + shard
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.running[key] || t.ctx.Err() != nil {
		return
	}
	t.running[key] = true
	t.wg.Add(1)
	go func() {
		defer t.wg.Done()
		t.m.track(t.ctx, ks, shard, db)
	}()
}

// close stops every tracker and waits for them.
func (t *trackerSet) close() {
	t.cancel()
	t.wg.Wait()
}

// track keeps the history of ks/shard until ctx ends, re-picking the primary after failures.
func (m *Manager) track(ctx context.Context, ks, shard, db string) {
	log := m.cfg.Logger.With("keyspace", ks, "shard", shard)
	for ctx.Err() == nil {
		err := m.trackOnce(ctx, ks, shard, db)
		if ctx.Err() != nil {
			return
		}
		log.Warn("vstream schema tracker failed; retrying", "err", err)
		select {
		case <-ctx.Done():
			return
		case <-time.After(max(m.cfg.RetryBackoff, 5*time.Second)):
		}
	}
}

// pendingEntry is a history entry to write: a baseline waits until the binlog reached until
// with no DDL in between.
type pendingEntry struct {
	kind, gtid, ddl string
	pos, until      Position
	tables          []*tableDef
}

// trackOnce follows the primary's binlog and records DDLs until an error.
func (m *Manager) trackOnce(ctx context.Context, ks, shard, db string) error {
	src, err := m.cfg.Picker.PickSource(ctx, SourceRequest{Keyspace: ks, Shard: shard, TabletTypes: []topodatapb.TabletType{topodatapb.TabletType_PRIMARY}})
	if err != nil {
		return err
	}
	s := &shardStream{m: m, log: m.cfg.Logger, ks: ks, shard: shard, src: src, refused: map[string]string{}}
	if err := s.connect(ctx); err != nil {
		return err
	}
	defer s.disconnect()
	for _, q := range historyDDL {
		if _, err := s.db.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("create the schema history on %s: %w", src.Alias, err)
		}
	}
	sh, err := openShadow(ctx, s.db, db)
	if err != nil {
		return err
	}
	defer sh.close()
	h, err := loadHistory(ctx, s.db, db, s.flavor)
	if err != nil {
		return err
	}
	var pending *pendingEntry
	var start Position
	if n := len(h.entries); n > 0 && h.entries[n-1].kind != "unknown" {
		last := &h.entries[n-1]
		if err := sh.restore(ctx, last.tables); err == nil {
			start = last.pos
		}
	}
	if start.IsZero() {
		if pending, start, err = s.baseline(ctx, sh); err != nil {
			return err
		}
	}
	r, err := s.openBinlog(ctx, start)
	if errors.Is(err, errPositionUnavailable) {
		// The binlog since the last entry is gone: start again from a new baseline (a gap).
		if pending, start, err = s.baseline(ctx, sh); err == nil {
			r, err = s.openBinlog(ctx, start)
		}
	}
	if err != nil {
		return err
	}
	s.reader = r
	s.pos = start
	for {
		if pending != nil && s.pos.AtLeast(pending.until) {
			if err := s.writeEntry(ctx, db, pending); err != nil {
				return err
			}
			pending = nil
		}
		ev, err := r.next()
		if err != nil {
			return fmt.Errorf("read binlog of %s: %w", src.Alias, err)
		}
		if pending == nil {
			// Every event group before this event is recorded: streams may trust the history
			// up to here.
			m.trackers.progress(ks, shard, s.pos)
		}
		switch ev.typ {
		case replication.MARIADB_GTID_EVENT:
			s.pos = s.pos.withMariaGTID(ev.gtid)
			s.curMaria, s.curGTID = ev.gtid, ""
			continue
		}
		switch e := ev.parsed.(type) {
		case *replication.GTIDEvent:
			set, err := e.GTIDNext()
			if err != nil {
				return err
			}
			if s.pos, err = s.pos.withMySQLGTID(set.String()); err != nil {
				return err
			}
			s.curGTID = set.String()
		case *replication.QueryEvent:
			q := strings.TrimSpace(string(e.Query))
			if !isDDL(q) || string(e.Schema) == historyDB || strings.Contains(q, historyDB) || !ddlInDB(db, string(e.Schema), q) {
				continue
			}
			if pending != nil {
				// A DDL ran while the baseline was read: read it again, after this DDL.
				if pending, _, err = s.baseline(ctx, sh); err != nil {
					return err
				}
				continue
			}
			entry := &pendingEntry{kind: "ddl", gtid: s.ddlGTID(), ddl: q, pos: s.pos}
			if err := sh.replay(ctx, db, q); err != nil {
				s.log.Warn("vstream schema tracker cannot replay a DDL; rows until the next baseline need full row metadata",
					"keyspace", s.ks, "shard", s.shard, "gtid", entry.gtid, "ddl", q, "err", err)
				entry.kind = "unknown"
				if err := s.writeEntry(ctx, db, entry); err != nil {
					return err
				}
				if pending, _, err = s.baseline(ctx, sh); err != nil {
					return err
				}
				continue
			}
			if entry.tables, err = sh.tables(ctx, db); err != nil {
				return err
			}
			if err := s.writeEntry(ctx, db, entry); err != nil {
				return err
			}
		}
	}
}

// baseline rebuilds the shadow from the live schema and returns the baseline entry, to be
// written once the binlog reached its until position with no DDL, and the position to read
// the binlog from.
func (s *shardStream) baseline(ctx context.Context, sh *shadow) (*pendingEntry, Position, error) {
	before, err := s.currentPosition(ctx)
	if err != nil {
		return nil, Position{}, err
	}
	if err := sh.copyLive(ctx); err != nil {
		return nil, Position{}, err
	}
	p := &pendingEntry{kind: "baseline"}
	if p.until, err = s.currentPosition(ctx); err != nil {
		return nil, Position{}, err
	}
	p.pos = p.until
	if p.tables, err = sh.tables(ctx, sh.live); err != nil {
		return nil, Position{}, err
	}
	return p, before, nil
}

// writeEntry records p in the history.
func (s *shardStream) writeEntry(ctx context.Context, db string, p *pendingEntry) error {
	var tables any
	if p.tables != nil {
		b, err := json.Marshal(p.tables)
		if err != nil {
			return err
		}
		tables = b
	}
	_, err := s.db.ExecContext(ctx, "INSERT INTO "+historyTable+" (db, kind, gtid, pos, ddl, tables, time_updated) VALUES (?, ?, ?, ?, ?, ?, ?)",
		db, p.kind, p.gtid, p.pos.String(), p.ddl, tables, s.m.cfg.Now().Unix())
	if err != nil {
		return fmt.Errorf("write the schema history: %w", err)
	}
	s.log.Info("vstream schema history entry", "keyspace", s.ks, "shard", s.shard, "kind", p.kind, "gtid", p.gtid, "position", p.pos.String())
	return nil
}

func mariaGTIDString(g mariaGTID) string {
	return strconv.FormatUint(uint64(g.Domain), 10) + "-" + strconv.FormatUint(uint64(g.Server), 10) + "-" + strconv.FormatUint(g.Seq, 10)
}

// isDDL reports whether a statement changes the schema.
func isDDL(q string) bool {
	switch strings.ToUpper(firstWord(q)) {
	case "CREATE", "ALTER", "DROP", "RENAME", "TRUNCATE":
		return true
	}
	return false
}

// ddlInDB reports whether a DDL ran in db or names one of its tables.
func ddlInDB(db, schema, q string) bool {
	return schema == db || slices.Contains(qualifiers(q), db)
}

// ddlGTID is the GTID of the statement being read, in the position's syntax.
func (s *shardStream) ddlGTID() string {
	if s.curGTID != "" {
		return s.curGTID
	}
	return mariaGTIDString(s.curMaria)
}

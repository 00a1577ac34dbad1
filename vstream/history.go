package vstream

// The schema history, for sources whose TABLE_MAP events carry no column names
// (binlog_row_metadata MINIMAL or NO_LOG). Like Vitess's _vt.schema_version (kept by
// vttablet's schema tracker with --track-schema-versions), it is a table on the shard's
// primary, replicated to every replica with the data, so a restarted gateway and every source
// tablet find it:
//
//	_vtdirect.schema_version: id (insertion order = binlog order), kind, gtid (of the DDL),
//	pos (the position the shape holds from), ddl, tables (JSON of the tables' shapes)
//
// kind "baseline" is the whole schema at pos, written when tracking starts (or restarts after
// a gap in the binlog): nothing is known before it. kind "ddl" is the schema right after the
// DDL with that gtid. kind "unknown" marks a DDL after which the schema could not be read
// before another DDL ran: rows until the next entry cannot be decoded without full metadata.
// The tracker (tracker.go) writes the entries; a shard stream reads them (shapeFor) to decode
// the rows of its position, and fails with FAILED_PRECONDITION for a position the history
// does not cover.

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	mysqldrv "github.com/go-sql-driver/mysql"
)

const (
	historyDB    = "_vtdirect"
	historyTable = "`_vtdirect`.`schema_version`"
)

// historyDDL creates the history table.
var historyDDL = []string{
	"CREATE DATABASE IF NOT EXISTS `_vtdirect`",
	"CREATE TABLE IF NOT EXISTS " + historyTable + ` (
		id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
		db VARBINARY(255) NOT NULL,
		kind VARBINARY(16) NOT NULL,
		gtid VARBINARY(255) NOT NULL,
		pos VARBINARY(10000) NOT NULL,
		ddl LONGBLOB,
		tables LONGBLOB,
		time_updated BIGINT NOT NULL,
		KEY (db, id)
	) ENGINE=InnoDB`,
}

// historyEntry is one row of the history.
type historyEntry struct {
	id     int64
	kind   string // "baseline", "ddl", "unknown"
	gtid   string // the DDL's GTID, in the position's syntax ("0-100-7", "uuid:7")
	pos    Position
	tables map[string]*tableDef
}

// schemaHistory is the history of one database as a stream loaded it.
type schemaHistory struct {
	entries []historyEntry // by id
}

// covers reports whether entry e lies at or before position p.
func (e *historyEntry) before(p Position) bool {
	if e.kind == "baseline" {
		return p.AtLeast(e.pos)
	}
	g, err := gtidPosition(p.flavor, e.gtid)
	return err == nil && p.AtLeast(g)
}

// gtidPosition turns one GTID into a position holding it.
func gtidPosition(flavor, gtid string) (Position, error) {
	return ParsePosition(flavor + "/" + gtid)
}

// at returns the entry that holds at position p, or an error saying why none does.
func (h *schemaHistory) at(p Position) (*historyEntry, error) {
	var found *historyEntry
	for i := range h.entries {
		e := &h.entries[i]
		if e.before(p) {
			found = e
			continue
		}
		if e.kind == "baseline" && found != nil {
			// Tracking restarted after a gap: what happened between found and e is unknown.
			return nil, fmt.Errorf("the schema history has a gap before %s", e.pos)
		}
	}
	if found == nil {
		if len(h.entries) == 0 {
			return nil, errors.New("the schema history is empty")
		}
		return nil, fmt.Errorf("the position is older than the schema history, which starts at %s", h.entries[0].pos)
	}
	if found.kind == "unknown" {
		return nil, fmt.Errorf("the schema after DDL %s could not be read before the next DDL", found.gtid)
	}
	return found, nil
}

// has reports whether the history has an entry for the DDL with gtid.
func (h *schemaHistory) has(gtid string) bool {
	for i := range h.entries {
		if h.entries[i].gtid == gtid && h.entries[i].kind != "baseline" {
			return true
		}
	}
	return false
}

// loadHistory reads the history of database db; an absent table is an empty history.
func loadHistory(ctx context.Context, q interface {
	QueryContext(context.Context, string, ...any) (*sql.Rows, error)
}, db, flavor string) (*schemaHistory, error) {
	rows, err := q.QueryContext(ctx, "SELECT id, kind, gtid, pos, tables FROM "+historyTable+" WHERE db = ? ORDER BY id", db)
	if err != nil {
		var me *mysqldrv.MySQLError
		if errors.As(err, &me) && (me.Number == 1146 || me.Number == 1049) { // no such table / database
			return &schemaHistory{}, nil
		}
		return nil, fmt.Errorf("read the schema history: %w", err)
	}
	defer rows.Close()
	h := &schemaHistory{}
	for rows.Next() {
		var e historyEntry
		var pos string
		var tables []byte
		if err := rows.Scan(&e.id, &e.kind, &e.gtid, &pos, &tables); err != nil {
			return nil, err
		}
		if e.pos, err = ParsePosition(pos); err != nil || e.pos.flavor != flavor {
			continue // another flavor's history (a restored backup): not ours to read
		}
		if len(tables) > 0 {
			var list []*tableDef
			if err := json.Unmarshal(tables, &list); err != nil {
				return nil, fmt.Errorf("schema history entry %d: %w", e.id, err)
			}
			e.tables = make(map[string]*tableDef, len(list))
			for _, d := range list {
				e.tables[d.Name] = d
			}
		}
		h.entries = append(h.entries, e)
	}
	return h, rows.Err()
}

// historyShape returns the shape of table at the stream's position from the schema history.
// It reloads the history when the stream passed a DDL the loaded history lacks, waiting a
// little for the tracker to record it.
func (s *shardStream) historyShape(ctx context.Context, table string) (*tableDef, error) {
	s.m.trackers.ensure(s.ks, s.shard, s.src.DBName)
	deadline := time.Now().Add(s.m.cfg.HistoryWait)
	for {
		// The tracker must have read the primary's binlog past this position (a DDL before it
		// that the stream did not see itself, such as one before a resume, is then recorded).
		caughtUp := s.m.trackers.caughtUp(s.ks, s.shard, s.pos)
		if caughtUp && (s.history == nil || s.historyStale()) {
			h, err := loadHistory(ctx, s.db, s.src.DBName, s.flavor)
			if err != nil {
				return nil, err
			}
			s.history = h
		}
		if caughtUp && !s.historyStale() {
			break
		}
		if time.Now().After(deadline) {
			why := fmt.Sprintf("the schema history has no entry yet for DDL %s", s.lastDDL)
			if !caughtUp {
				why = "the schema tracker has not read the primary's binlog up to this position yet"
			}
			return nil, s.shapeUnknown(table, why+" (is the primary reachable? the history is written there; see the gateway's log)")
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
		s.history = nil
	}
	e, err := s.history.at(s.pos)
	if err != nil {
		return nil, s.shapeUnknown(table, err.Error())
	}
	d, ok := e.tables[table]
	if !ok {
		return nil, s.shapeUnknown(table, fmt.Sprintf("the schema history has no table %s at %s", table, s.pos))
	}
	return d, nil
}

// historyStale reports whether the stream passed a DDL that the loaded history lacks.
func (s *shardStream) historyStale() bool {
	if s.history == nil {
		return true
	}
	return s.lastDDL != "" && !s.history.has(s.lastDDL)
}

// noteDDL records that the stream passed a DDL of its database: the history must have it
// before the stream decodes another row from the history.
// Entries are written in binlog order, so a history that has the last DDL has every earlier one.
func (s *shardStream) noteDDL() { s.lastDDL = s.ddlGTID() }

// awaitHistory starts the shard's tracker and, for a stream that starts at the source's
// current position (or copies), waits until the source has the history's first entry, so
// that every row the stream reads is covered.
func (s *shardStream) awaitHistory(ctx context.Context, wait bool) error {
	s.m.trackers.ensure(s.ks, s.shard, s.src.DBName)
	deadline := time.Now().Add(s.m.cfg.HistoryWait)
	for wait {
		h, err := loadHistory(ctx, s.db, s.src.DBName, s.flavor)
		if err != nil {
			return err
		}
		if len(h.entries) > 0 {
			s.history = h
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("no schema history on %s after %v: the tracker writes it on the primary (see the gateway's log)", s.src.Alias, s.m.cfg.HistoryWait)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
	return nil
}

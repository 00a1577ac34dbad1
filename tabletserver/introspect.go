package tabletserver

// What the status pages show of a tablet's connections: those handed out to it now (running
// a statement, held by a session, inside a transaction), and what MySQL says they run.

import (
	"context"
	"database/sql"
	"sort"
	"strconv"
	"strings"
	"time"
)

// ConnInfo is one backend connection handed out to a tablet.
type ConnInfo struct {
	ThreadID uint32    // the backend's connection id
	Held     bool      // a session keeps it between statements (a reserved connection)
	Running  time.Time // when its running command began; zero when none runs
	TxStart  time.Time // when its session's transaction began; zero outside one
	Schema   string    // the tablet's database, which it is on for its commands
}

// Connections lists the tablet's connections in use, sorted by thread id.
func (t *TabletServer) Connections() []ConnInfo {
	p := t.be.pool
	p.mu.Lock()
	var out []ConnInfo
	for _, c := range p.inUse {
		if c.ts != t {
			continue
		}
		ci := ConnInfo{ThreadID: c.threadID, Held: c.slot == slotHold, TxStart: c.txStart, Schema: c.wantSchema}
		if ns := c.started.Load(); ns != 0 {
			ci.Running = time.Unix(0, ns)
		}
		out = append(out, ci)
	}
	p.mu.Unlock()
	sort.Slice(out, func(i, j int) bool { return out[i].ThreadID < out[j].ThreadID })
	return out
}

// Process is a server thread as information_schema.PROCESSLIST shows it.
type Process struct {
	ID                uint32
	User, DB, Command string
	Time              time.Duration
	State, Info       string
}

// ProcessList reads the server's threads among ids (all of the backend's user when ids is
// empty) through the control connection.
func (b *Backend) ProcessList(ctx context.Context, ids []uint32) ([]Process, error) {
	q := "SELECT ID, USER, COALESCE(DB, ''), COMMAND, TIME_MS, COALESCE(STATE, ''), COALESCE(INFO, '') FROM information_schema.PROCESSLIST WHERE USER = ?"
	args := []any{b.key.User}
	if len(ids) > 0 {
		parts := make([]string, len(ids))
		for i, id := range ids {
			parts[i] = strconv.FormatUint(uint64(id), 10)
		}
		q += " AND ID IN (" + strings.Join(parts, ",") + ")"
	}
	rows, err := b.control.Load().QueryContext(ctx, q+" ORDER BY ID", args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Process
	for rows.Next() {
		var p Process
		var ms float64
		var info sql.NullString
		if err := rows.Scan(&p.ID, &p.User, &p.DB, &p.Command, &ms, &p.State, &info); err != nil {
			return nil, err
		}
		p.Time, p.Info = time.Duration(ms*float64(time.Millisecond)), info.String
		out = append(out, p)
	}
	return out, rows.Err()
}

// Readings returns the latest probe's readings, nil before the first.
func (b *Backend) Readings() *Readings { return b.readings.Load() }

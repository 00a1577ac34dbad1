package tabletserver

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	topodatapb "vitess.io/vitess/go/vt/proto/topodata"

	"github.com/vtdirect/vtdirect/flavor"
)

// Health is the result of the latest probe of a tablet's MySQL.
type Health struct {
	// Reachable: the probe connected and got answers.
	Reachable bool
	// Serving: reachable, and for a PRIMARY writable (read_only OFF), for other types the
	// replication SQL thread running. A replica whose IO thread reconnects to a lost primary
	// still serves (as in Vitess).
	Serving  bool
	ReadOnly bool
	// ReplicationRunning: both replication threads run (non-primaries only).
	ReplicationRunning bool
	// Lag is the replica's Seconds_Behind_Master; 0 when unknown (replication stopped: see
	// ReplicationRunning) and for a primary.
	Lag time.Duration
	// Err says why the tablet is not reachable or not serving; nil when serving.
	Err       error
	LastProbe time.Time
}

// errNotProbed is the health before the first probe.
var errNotProbed = errors.New("not probed yet")

// same reports whether h and o differ only in LastProbe (cheap enough to run every probe).
func (h *Health) same(o *Health) bool {
	if h.Reachable != o.Reachable || h.Serving != o.Serving || h.ReadOnly != o.ReadOnly ||
		h.ReplicationRunning != o.ReplicationRunning || h.Lag != o.Lag || (h.Err == nil) != (o.Err == nil) {
		return false
	}
	return h.Err == nil || h.Err.Error() == o.Err.Error()
}

// Health returns the latest probe's result.
func (t *TabletServer) Health() Health { return *t.health.Load() }

// probeLoop probes at once, then every HealthInterval, until Close.
func (t *TabletServer) probeLoop() {
	defer t.wg.Done()
	tk := time.NewTicker(t.cfg.HealthInterval)
	defer tk.Stop()
	for {
		t.probeOnce()
		select {
		case <-t.ctx.Done():
			return
		case <-tk.C:
		}
	}
}

// probeOnce probes, stores the result and tells onHealth if it changed.
func (t *TabletServer) probeOnce() {
	ctx, cancel := context.WithTimeout(t.ctx, t.cfg.ConnectTimeout)
	h := t.probe(ctx, t.tablet.GetType())
	cancel()
	if t.ctx.Err() != nil {
		return // closing: a probe cut short says nothing about the tablet
	}
	t.stats.probes.Add(1)
	if !h.Reachable {
		t.stats.probeErrors.Add(1)
		// Idle data connections to a server that went away are dead: drop them now rather
		// than fail the next queries.
		t.pool.flushIdle()
	}
	old := t.health.Swap(&h)
	if !h.same(old) {
		if h.Serving {
			t.log.Info("tablet health", "serving", true, "read_only", h.ReadOnly, "lag", h.Lag)
		} else {
			t.log.Warn("tablet health", "serving", false, "reachable", h.Reachable, "err", h.Err)
		}
		if t.onHealth != nil {
			t.onHealth()
		}
	}
}

// probe reads what Health reports through the control connection.
func (t *TabletServer) probe(ctx context.Context, typ topodatapb.TabletType) Health {
	h := Health{LastProbe: time.Now()}
	var version string
	var readOnly int
	if err := t.control.QueryRowContext(ctx, "SELECT @@version, @@global.read_only").Scan(&version, &readOnly); err != nil {
		h.Err = fmt.Errorf("tablet %s (%s) unreachable: %w", t.alias, t.addr, err)
		return h
	}
	h.Reachable, h.ReadOnly = true, readOnly != 0
	if t.info.Load() == nil || t.info.Load().Flavor != flavor.Detect(version) {
		if err := t.readInfo(ctx, version); err != nil {
			t.log.Warn("cannot read the server's session defaults", "err", err)
		}
	}
	if typ == topodatapb.TabletType_PRIMARY {
		h.Serving = !h.ReadOnly
		if !h.Serving {
			h.Err = fmt.Errorf("primary %s is read_only", t.alias)
		}
		return h
	}
	f := flavor.Detect(version)
	row, ok, err := queryRow(ctx, t.control, f.ReplicaStatusQuery())
	if err != nil {
		// Reachable (it answered above), but its replication cannot be judged: the user may
		// lack the REPLICATION CLIENT privilege.
		h.Err = fmt.Errorf("tablet %s (%s): %s: %w", t.alias, t.addr, f.ReplicaStatusQuery(), err)
		return h
	}
	if !ok {
		h.Err = fmt.Errorf("%s %s does not replicate (%s is empty)", typ, t.alias, f.ReplicaStatusQuery())
		return h
	}
	st, err := f.ParseReplicaStatus(row)
	if err != nil {
		h.Err = err
		return h
	}
	h.ReplicationRunning = st.IORunning && st.SQLRunning
	h.Serving = st.SQLRunning
	if st.LagKnown {
		h.Lag = st.Lag
	}
	if !st.SQLRunning {
		h.Err = fmt.Errorf("replication SQL thread of %s is not running: %s", t.alias, orNone(st.LastSQLError))
	}
	return h
}

func orNone(s string) string {
	if s == "" {
		return "no error reported"
	}
	return s
}

// queryRow runs a statement that returns at most one row and returns it as column → value
// (NULL columns absent).
func queryRow(ctx context.Context, db *sql.DB, query string) (map[string]string, bool, error) {
	rows, err := db.QueryContext(ctx, query)
	if err != nil {
		return nil, false, err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return nil, false, err
	}
	if !rows.Next() {
		return nil, false, rows.Err()
	}
	vals := make([]sql.RawBytes, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	if err := rows.Scan(ptrs...); err != nil {
		return nil, false, err
	}
	row := make(map[string]string, len(cols))
	for i, c := range cols {
		if vals[i] != nil {
			row[c] = string(vals[i])
		}
	}
	return row, true, rows.Err()
}

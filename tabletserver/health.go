package tabletserver

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"

	topodatapb "vitess.io/vitess/go/vt/proto/topodata"

	"github.com/vtdirect/vtdirect/flavor"
)

// Health is a tablet's state as its backend's latest probe shows it.
type Health struct {
	// Reachable: the probe connected and got answers.
	Reachable bool
	// Serving: reachable, the tablet's database exists (and its user sees it), and for a
	// PRIMARY writable (read_only OFF), for other types the replication SQL thread running. A
	// replica whose IO thread reconnects to a lost primary still serves (as in Vitess).
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

// Health returns the tablet's latest health.
func (t *TabletServer) Health() Health { return *t.health.Load() }

// Readings are what one probe of a backend's server read, for all its tablets.
type Readings struct {
	Reachable bool
	Err       error // why unreachable
	Version   string
	ReadOnly  bool
	// Replica is the replica status row (Replicates false: the server replicates from nobody);
	// ReplicaErr says why it could not be read (a missing REPLICATION CLIENT privilege).
	Replicates bool
	Replica    flavor.ReplicaStatus
	ReplicaErr error
	// Databases are the databases the backend's user sees (SHOW DATABASES).
	Databases map[string]bool
	LastProbe time.Time
	Took      time.Duration
}

func (r *Readings) hasDatabase(db string) bool { return r.Databases[db] }

// probeLoop probes at once, then every HealthInterval and whenever a tablet asks, until close.
func (b *Backend) probeLoop() {
	defer b.wg.Done()
	tk := time.NewTicker(b.cfg.Load().HealthInterval)
	defer tk.Stop()
	for {
		b.probeOnce()
		select {
		case <-b.ctx.Done():
			return
		case <-tk.C:
		case <-b.probe:
		}
	}
}

// probeOnce probes, stores the readings and gives every tablet its health.
func (b *Backend) probeOnce() {
	cfg := b.cfg.Load()
	ctx, cancel := context.WithTimeout(b.ctx, cfg.ConnectTimeout)
	start := time.Now()
	r := b.read(ctx)
	cancel()
	if b.ctx.Err() != nil {
		return // closing: a probe cut short says nothing about the server
	}
	r.LastProbe, r.Took = start, time.Since(start)
	b.stats.probes.Add(1)
	if !r.Reachable {
		b.stats.probeErrors.Add(1)
		// Idle data connections to a server that went away are dead: drop them now rather
		// than fail the next queries.
		b.pool.flushIdle()
	}
	b.readings.Store(r)
	for _, t := range b.tablets() {
		t.applyReadings(r)
	}
}

// needsReplicaStatus reports whether a tablet of the backend is not a primary.
func (b *Backend) needsReplicaStatus() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	for t := range b.tabs {
		if t.tablet.GetType() != topodatapb.TabletType_PRIMARY {
			return true
		}
	}
	return false
}

// read runs the probe: one query (several statements) through the control connection.
func (b *Backend) read(ctx context.Context) *Readings {
	r := &Readings{}
	db := b.control.Load()
	f, known := b.flavor()
	if !known {
		var version string
		if err := db.QueryRowContext(ctx, "SELECT @@version").Scan(&version); err != nil {
			r.Err = fmt.Errorf("%s unreachable: %w", b.key.Addr, err)
			return r
		}
		f = flavor.Detect(version)
	}
	q := "SELECT @@version, @@global.read_only; SHOW DATABASES"
	replica := b.needsReplicaStatus()
	if replica {
		q += "; " + f.ReplicaStatusQuery()
	}
	rows, err := db.QueryContext(ctx, q)
	if err != nil {
		r.Err = fmt.Errorf("%s unreachable: %w", b.key.Addr, err)
		return r
	}
	defer rows.Close()
	var readOnly int
	if !rows.Next() {
		r.Err = fmt.Errorf("%s unreachable: %v", b.key.Addr, orEmpty(rows.Err()))
		return r
	}
	if err := rows.Scan(&r.Version, &readOnly); err != nil {
		r.Err = fmt.Errorf("%s unreachable: %w", b.key.Addr, err)
		return r
	}
	r.Reachable, r.ReadOnly = true, readOnly != 0
	r.Databases = map[string]bool{}
	if rows.NextResultSet() {
		for rows.Next() {
			var name string
			if err := rows.Scan(&name); err == nil {
				r.Databases[name] = true
			}
		}
	}
	if replica {
		if !rows.NextResultSet() {
			r.ReplicaErr = fmt.Errorf("%s: %s: %v", b.key.Addr, f.ReplicaStatusQuery(), orEmpty(rows.Err()))
		} else if row, ok, err := scanRow(rows); err != nil {
			r.ReplicaErr = fmt.Errorf("%s: %s: %w", b.key.Addr, f.ReplicaStatusQuery(), err)
		} else if ok {
			r.Replicates = true
			if r.Replica, err = flavor.Detect(r.Version).ParseReplicaStatus(row); err != nil {
				r.ReplicaErr = err
			}
		}
	}
	if info := b.info.Load(); info == nil || info.Flavor != flavor.Detect(r.Version) {
		if err := b.readInfo(ctx, r.Version); err != nil {
			b.log.Warn("cannot read the server's session defaults", "err", err)
		}
	}
	return r
}

func orEmpty(err error) error {
	if err == nil {
		return errors.New("no result")
	}
	return err
}

// flavor is the server's flavor, once known.
func (b *Backend) flavor() (flavor.Flavor, bool) {
	if i := b.info.Load(); i != nil {
		return i.Flavor, true
	}
	if r := b.readings.Load(); r != nil && r.Version != "" {
		return flavor.Detect(r.Version), true
	}
	return flavor.Flavor{}, false
}

// scanRow reads the current result set's only row as column → value (NULL columns absent).
func scanRow(rows *sql.Rows) (map[string]string, bool, error) {
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
	for rows.Next() {
	}
	return row, true, nil
}

// healthFrom is the tablet's health given its backend's readings.
func (t *TabletServer) healthFrom(r *Readings) Health {
	h := Health{LastProbe: r.LastProbe}
	typ := t.tablet.GetType()
	if !r.Reachable {
		h.Err = fmt.Errorf("tablet %s: %w", t.alias, r.Err)
		return h
	}
	h.Reachable, h.ReadOnly = true, r.ReadOnly
	if !r.hasDatabase(t.dbName) {
		h.Err = fmt.Errorf("tablet %s: database %s does not exist on %s (or user %s cannot see it)", t.alias, t.dbName, t.addr, t.be.key.User)
		return h
	}
	if typ == topodatapb.TabletType_PRIMARY {
		h.Serving = !h.ReadOnly
		if !h.Serving {
			h.Err = fmt.Errorf("primary %s is read_only", t.alias)
		}
		return h
	}
	if r.ReplicaErr != nil {
		// Reachable, but its replication cannot be judged: the user may lack the REPLICATION
		// CLIENT privilege.
		h.Err = fmt.Errorf("tablet %s: %w", t.alias, r.ReplicaErr)
		return h
	}
	if !r.Replicates {
		f := flavor.Detect(r.Version)
		h.Err = fmt.Errorf("%s %s does not replicate (%s is empty)", typ, t.alias, f.ReplicaStatusQuery())
		return h
	}
	st := r.Replica
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

// applyReadings stores the tablet's health from r and tells onHealth if it changed.
func (t *TabletServer) applyReadings(r *Readings) {
	if t.closed.Load() {
		return
	}
	h := t.healthFrom(r)
	old := t.health.Swap(&h)
	if h.same(old) {
		return
	}
	t.history.add(h)
	if h.Serving {
		t.log.Info("tablet health", "serving", true, "read_only", h.ReadOnly, "lag", h.Lag)
	} else {
		t.log.Warn("tablet health", "serving", false, "reachable", h.Reachable, "err", h.Err)
	}
	if t.onHealth != nil {
		t.onHealth()
	}
}

func orNone(s string) string {
	if s == "" {
		return "no error reported"
	}
	return s
}

// healthHistoryLen is how many health changes a tablet remembers (its health history page).
const healthHistoryLen = 20

// healthHistory is a tablet's latest health changes, oldest first.
type healthHistory struct {
	mu      sync.Mutex // guards entries
	entries []HealthChange
}

// HealthChange is one change of a tablet's health.
type HealthChange struct {
	Time   time.Time
	Health Health
}

func (h *healthHistory) add(x Health) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.entries) == healthHistoryLen {
		copy(h.entries, h.entries[1:])
		h.entries = h.entries[:len(h.entries)-1]
	}
	h.entries = append(h.entries, HealthChange{Time: x.LastProbe, Health: x})
}

// HealthHistory returns the tablet's latest health changes, newest first.
func (t *TabletServer) HealthHistory() []HealthChange {
	t.history.mu.Lock()
	out := append([]HealthChange(nil), t.history.entries...)
	t.history.mu.Unlock()
	sort.SliceStable(out, func(i, j int) bool { return out[i].Time.After(out[j].Time) })
	return out
}

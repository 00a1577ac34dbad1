package tabletserver

import (
	"sync/atomic"
	"time"
)

// counters are the tablet server's own counters; pools keep theirs.
type counters struct {
	queries, rows, backendErrors, ioErrors     atomic.Uint64
	queryTimeouts, maxRowsExceeded, kills      atomic.Uint64
	dials, dialErrors, resets, settingsApplied atomic.Uint64
	probes, probeErrors                        atomic.Uint64
}

// PoolStats describes the connections of one cap: Data (statements on connections nobody
// holds, PoolSize) or Reserved (connections held by sessions between statements, TxPoolSize).
// Idle connections are shared: both report them.
type PoolStats struct {
	Capacity, InUse, Idle int
	Gets                  uint64        // connections handed out
	Waits, WaitTimeouts   uint64        // gets that found the cap reached, and those that gave up
	WaitTime              time.Duration // total time spent waiting (both caps)
	IdleClosed            uint64        // closed by the idle timeout
	Killed                uint64        // taken away by the transaction killer or Close
}

// Stats is a snapshot of a tablet server's counters, for metrics. Counters only grow.
type Stats struct {
	Data, Reserved PoolStats
	// HoldOverflows counts connections a session had to keep while no reserved slot was free
	// (they kept their statement slot); Reclaims and ReclaimMisses count a session's next
	// statements that found, or did not find, its last connection; Steals the connections
	// handed to a session while another session's last one.
	HoldOverflows, Reclaims, ReclaimMisses, Steals uint64
	// Queries counts commands run (Exec, Prepare, ExecStmt and the SETs of settings); Rows
	// the rows forwarded; BackendErrors the ERR replies; IOErrors the connections lost.
	Queries, Rows, BackendErrors, IOErrors uint64
	// QueryTimeouts and MaxRowsExceeded count queries stopped for those limits; Kills the
	// KILL QUERY statements sent for them.
	QueryTimeouts, MaxRowsExceeded, Kills uint64
	Dials, DialErrors                     uint64
	// Resets counts COM_RESET_CONNECTION sent to change settings; SettingsApplied the
	// settings lists replayed.
	Resets, SettingsApplied uint64
	Probes, ProbeErrors     uint64
}

// Stats returns the current counters.
func (t *TabletServer) Stats() Stats {
	s := &t.stats
	data, reserved := t.pool.snapshot()
	ps := &t.pool.stats
	return Stats{
		Data: data, Reserved: reserved,
		HoldOverflows: ps.holdOverflows.Load(), Reclaims: ps.reclaims.Load(),
		ReclaimMisses: ps.reclaimMisses.Load(), Steals: ps.steals.Load(),
		Queries: s.queries.Load(), Rows: s.rows.Load(), BackendErrors: s.backendErrors.Load(),
		IOErrors: s.ioErrors.Load(), QueryTimeouts: s.queryTimeouts.Load(),
		MaxRowsExceeded: s.maxRowsExceeded.Load(), Kills: s.kills.Load(),
		Dials: s.dials.Load(), DialErrors: s.dialErrors.Load(),
		Resets: s.resets.Load(), SettingsApplied: s.settingsApplied.Load(),
		Probes: s.probes.Load(), ProbeErrors: s.probeErrors.Load(),
	}
}

func (p *pool) snapshot() (data, reserved PoolStats) {
	running, held, idle := p.counts()
	s := &p.stats
	data = PoolStats{
		Capacity: cap(p.run), InUse: running, Idle: idle,
		Gets: s.gets.Load(), Waits: s.waits.Load(), WaitTimeouts: s.waitTimeouts.Load(),
		WaitTime:   time.Duration(s.waitNanos.Load()),
		IdleClosed: s.idleClosed.Load(), Killed: s.killed.Load(),
	}
	reserved = PoolStats{
		Capacity: cap(p.hold), InUse: held, Idle: idle,
		Gets: s.holdGets.Load(), Waits: s.holdWaits.Load(), WaitTimeouts: s.holdWaitTimeouts.Load(),
		WaitTime: time.Duration(s.waitNanos.Load()), Killed: s.killed.Load(),
	}
	return data, reserved
}

package tabletserver

import (
	"sync/atomic"
	"time"

	"github.com/vtdirect/vtdirect/stats"
)

// counters are a tablet server's own counters (its share of the backend's pool included).
type counters struct {
	queries, rows, backendErrors, ioErrors     atomic.Uint64
	queryTimeouts, maxRowsExceeded, kills      atomic.Uint64
	dials, dialErrors, resets, settingsApplied atomic.Uint64

	gets, waits, waitTimeouts, waitNanos, killed         atomic.Uint64
	holdGets, holdWaits, holdWaitTimeouts, holdOverflows atomic.Uint64
	reclaims, reclaimMisses, steals                      atomic.Uint64

	// queryTime times every command sent to MySQL (Vitess's "Mysql" timings).
	queryTime stats.Histogram
}

// PoolStats describes the tablet's connections of one cap: Data (statements on connections
// nobody holds, PoolSize) or Reserved (connections held by sessions between statements,
// TxPoolSize). Idle connections are the backend's, shared by every tablet on its server: both
// report them.
type PoolStats struct {
	Capacity, InUse, Idle int
	Gets                  uint64        // connections handed out
	Waits, WaitTimeouts   uint64        // gets that found the cap reached, and those that gave up
	WaitTime              time.Duration // total time spent waiting (both caps, and the backend's)
	IdleClosed            uint64        // closed by the idle timeout (the backend's)
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
	// Probes and ProbeErrors are the backend's (one probe serves every tablet on it).
	Probes, ProbeErrors uint64
	// QueryTime is the time of the commands sent to MySQL, from the first byte written to
	// the last byte of the reply forwarded.
	QueryTime stats.HistogramSnapshot
}

// Stats returns the current counters.
func (t *TabletServer) Stats() Stats {
	s := &t.stats
	running, held := t.be.pool.counts(t)
	_, idle := t.be.pool.sizes()
	runCap, _ := t.run.counts()
	holdCap, _ := t.hold.counts()
	wait := time.Duration(s.waitNanos.Load())
	closed := t.be.pool.stats.idleClosed.Load()
	return Stats{
		Data: PoolStats{Capacity: runCap, InUse: running, Idle: idle, Gets: s.gets.Load(), Waits: s.waits.Load(),
			WaitTimeouts: s.waitTimeouts.Load(), WaitTime: wait, IdleClosed: closed, Killed: s.killed.Load()},
		Reserved: PoolStats{Capacity: holdCap, InUse: held, Idle: idle, Gets: s.holdGets.Load(), Waits: s.holdWaits.Load(),
			WaitTimeouts: s.holdWaitTimeouts.Load(), WaitTime: wait, Killed: s.killed.Load()},
		HoldOverflows: s.holdOverflows.Load(), Reclaims: s.reclaims.Load(),
		ReclaimMisses: s.reclaimMisses.Load(), Steals: s.steals.Load(),
		Queries: s.queries.Load(), Rows: s.rows.Load(), BackendErrors: s.backendErrors.Load(),
		IOErrors: s.ioErrors.Load(), QueryTimeouts: s.queryTimeouts.Load(),
		MaxRowsExceeded: s.maxRowsExceeded.Load(), Kills: s.kills.Load(),
		Dials: s.dials.Load(), DialErrors: s.dialErrors.Load(),
		Resets: s.resets.Load(), SettingsApplied: s.settingsApplied.Load(),
		Probes: t.be.stats.probes.Load(), ProbeErrors: t.be.stats.probeErrors.Load(),
		QueryTime: s.queryTime.Snapshot(),
	}
}

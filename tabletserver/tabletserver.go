package tabletserver

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	topodatapb "vitess.io/vitess/go/vt/proto/topodata"
)

// TabletServer is the embedded tablet server of one tablet: its share of its backend's
// connections (statement and reserved caps), its timeouts, its health and its statistics. The
// backend (one per MySQL server and user) owns the connections, the control connection and
// the health probe; a TabletServer has no goroutine of its own.
type TabletServer struct {
	cfg      atomic.Pointer[Config] // the tablet-level fields apply (see Config)
	tablet   *topodatapb.Tablet
	alias    string
	addr     string
	dbName   string
	log      *slog.Logger
	onHealth func()

	be       *Backend
	backends *Backends // where be came from (a private one for New)
	// run and hold are the tablet's caps on the backend's connections: PoolSize statements on
	// connections nobody holds, TxPoolSize connections its sessions keep.
	run, hold *quota

	lifeMu sync.Mutex // guards opened
	opened bool
	closed atomic.Bool

	health  atomic.Pointer[Health]
	history healthHistory
	stats   counters
	seqs    sequences // sequence tables served by this tablet (sequence.go)
}

// New creates the tablet server of tablet with a backend of its own (no other tablet shares
// its connections); nothing is dialed until Open (health) and Get (data). onHealth, if not
// nil, is called from the probe goroutine whenever Health changes; it must not block. Zero
// Config fields get defaults (see Config).
func New(cfg Config, tablet *topodatapb.Tablet, log *slog.Logger, onHealth func()) *TabletServer {
	return NewShared(NewBackends(log), cfg, tablet, log, onHealth)
}

// NewShared creates the tablet server of tablet on the backend of backends that serves its
// MySQL server as cfg.User, creating it if needed. The backend-level fields of cfg (see
// Config) apply only when this creates the backend.
func NewShared(backends *Backends, cfg Config, tablet *topodatapb.Tablet, log *slog.Logger, onHealth func()) *TabletServer {
	cfg = cfg.withDefaults()
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	t := &TabletServer{
		tablet:   tablet,
		alias:    aliasString(tablet.GetAlias()),
		addr:     mysqlAddr(tablet),
		dbName:   dbName(tablet),
		log:      log,
		onHealth: onHealth,
		backends: backends,
		run:      newQuota(cfg.PoolSize),
		hold:     newQuota(cfg.TxPoolSize),
	}
	t.cfg.Store(&cfg)
	t.be = backends.acquire(cfg, t.addr)
	t.health.Store(&Health{Err: errNotProbed})
	return t
}

// aliasString formats an alias as Vitess and the topo package do: "zone1-0000000100".
func aliasString(a *topodatapb.TabletAlias) string {
	return fmt.Sprintf("%s-%010d", a.GetCell(), a.GetUid())
}

// mysqlAddr is the tablet's MySQL address: mysql_hostname:mysql_port, else the hostname and
// its "mysql" port.
func mysqlAddr(t *topodatapb.Tablet) string {
	host, port := t.GetMysqlHostname(), t.GetMysqlPort()
	if host == "" {
		host = t.GetHostname()
	}
	if port == 0 {
		port = t.GetPortMap()["mysql"]
	}
	return net.JoinHostPort(host, strconv.Itoa(int(port)))
}

// DBName is the database the tablet's connections use.
func (t *TabletServer) DBName() string { return t.dbName }

// dbName is the tablet's database: db_name_override, else "vt_" + keyspace as in Vitess.
func dbName(t *topodatapb.Tablet) string {
	if n := t.GetDbNameOverride(); n != "" {
		return n
	}
	return "vt_" + t.GetKeyspace()
}

// Tablet is the tablet record the server was created with.
func (t *TabletServer) Tablet() *topodatapb.Tablet { return t.tablet }

// Alias is the tablet alias, "zone1-0000000100".
func (t *TabletServer) Alias() string { return t.alias }

// Addr is the tablet's MySQL address.
func (t *TabletServer) Addr() string { return t.addr }

// Backend is the backend the tablet shares with the other tablets on its MySQL server.
func (t *TabletServer) Backend() *Backend { return t.be }

// config is the tablet's current configuration.
func (t *TabletServer) config() *Config { return t.cfg.Load() }

// Config returns the tablet's configuration.
func (t *TabletServer) Config() Config { return *t.cfg.Load() }

func (t *TabletServer) isClosed() bool { return t.closed.Load() }

// Open joins the backend's health probe (which starts with the first tablet) and takes the
// tablet's health from its latest readings; when they do not show the tablet's database yet,
// or the tablet not serving, the backend probes again at once.
func (t *TabletServer) Open() {
	t.lifeMu.Lock()
	defer t.lifeMu.Unlock()
	if t.opened || t.closed.Load() {
		return
	}
	t.opened = true
	if r := t.be.addTablet(t); r != nil {
		t.applyReadings(r)
		if r.Reachable && (!r.hasDatabase(t.dbName) || !t.Health().Serving) {
			// The readings predate the tablet (its database is new) or its record (a replica
			// just promoted is read_only in them): probe again now rather than at the next
			// interval, which a reparent's writes would wait for.
			t.be.requestProbe()
		}
	}
}

// Close kills the reserved connections of the tablet in use (their transactions roll back),
// fails the Gets waiting for it, and leaves the backend (closing it when it was the last
// tablet). Connections running a statement for it go back to the backend's pool as usual.
func (t *TabletServer) Close() {
	if t.closed.Swap(true) {
		return
	}
	t.lifeMu.Lock()
	opened := t.opened
	t.lifeMu.Unlock()
	t.run.close()
	t.hold.close()
	if opened {
		t.be.removeTablet(t)
	}
	t.be.pool.closeTablet(t)
	t.backends.release(t.be)
}

// Configure applies the tablet-level fields of cfg (a reload): caps, timeouts, row limit. A
// smaller cap takes effect as connections come back; a running query keeps its timeout.
func (t *TabletServer) Configure(cfg Config) {
	cfg = cfg.withDefaults()
	old := t.cfg.Swap(&cfg)
	if cfg.PoolSize != old.PoolSize {
		t.run.setLimit(cfg.PoolSize)
	}
	if cfg.TxPoolSize != old.TxPoolSize {
		t.hold.setLimit(cfg.TxPoolSize)
	}
}

// acquire takes one of the tablet's slots of the kind, waiting up to PoolWaitTimeout.
func (t *TabletServer) acquire(ctx context.Context, slot uint8) error {
	q, gets, waits, timeouts := t.run, &t.stats.gets, &t.stats.waits, &t.stats.waitTimeouts
	if slot == slotHold {
		q, gets, waits, timeouts = t.hold, &t.stats.holdGets, &t.stats.holdWaits, &t.stats.holdWaitTimeouts
	}
	if q.tryAcquire() {
		gets.Add(1)
		return nil
	}
	waits.Add(1)
	wait := t.config().PoolWaitTimeout
	start := time.Now()
	res, _ := q.acquire(ctx.Done(), start.Add(wait))
	t.stats.waitNanos.Add(uint64(time.Since(start)))
	switch res {
	case quotaOK:
		gets.Add(1)
		return nil
	case quotaTimeout:
		timeouts.Add(1)
		limit, _ := q.counts()
		if slot == slotHold {
			return errPoolExhausted(t.alias, "reserved (transaction and session-state)", limit, wait, flagTxPoolSize)
		}
		return errPoolExhausted(t.alias, "query", limit, wait, flagPoolSize)
	case quotaCanceled:
		return errCanceled(t.alias, ctx.Err())
	}
	return errClosed(t.alias)
}

// releaseSlot gives a slot of the kind back.
func (t *TabletServer) releaseSlot(slot uint8) {
	switch slot {
	case slotRun:
		t.run.release()
	case slotHold:
		t.hold.release()
	}
}

// Get returns a connection as want says: the reply-format capabilities of the client it will
// serve and the session's settings applied, on the tablet's database, waiting up to
// PoolWaitTimeout for a free slot (a run slot, or with want.Hold a reserved one) and a free
// backend connection. The caller Releases or Closes it.
func (t *TabletServer) Get(ctx context.Context, want Want) (*Conn, error) {
	return t.be.pool.get(ctx, t, want)
}

// Reclaim hands out c again, with want's settings, if it is idle and nobody had it since the
// hand-out lease (the connection a session released last, which holds its per-connection
// results); ok is false otherwise, and the caller Gets another.
func (t *TabletServer) Reclaim(ctx context.Context, c *Conn, lease uint64, want Want) (*Conn, bool) {
	return t.be.pool.reclaim(ctx, t, c, lease, want)
}

// Version is the server's handshake version string ("5.5.5-10.11.6-MariaDB-..."), from the
// first backend connection; "" before one was made.
func (t *TabletServer) Version() string { return t.be.Version() }

// KillQuery runs KILL QUERY threadID on the tablet through the control connection. It is not
// synchronised with the connection's commands: the KILL may reach a later command than the one
// meant. Prefer (*Conn).KillQuery or KillQueryOnLease, which cannot.
func (t *TabletServer) KillQuery(ctx context.Context, threadID uint32) error {
	return t.be.killThread(ctx, threadID)
}

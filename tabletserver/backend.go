package tabletserver

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"io"
	"log/slog"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	gomysql "github.com/go-sql-driver/mysql"

	"github.com/vtdirect/vtdirect/backendconn"
)

// BackendKey names a Backend: one MySQL server (host:port) reached as one user.
type BackendKey struct {
	Addr, User string
}

func (k BackendKey) String() string { return k.User + "@" + k.Addr }

// Backend is what every tablet living on one MySQL server shares when they connect as the
// same user (tablets of many keyspaces on one server, each its own database, as Vitess's
// db_name_override allows): one pool of backend connections, bounded by MaxConnections
// whatever the number of tablets, in which each tablet's PoolSize and TxPoolSize are
// sub-quotas; one control connection (health probe, KILL QUERY); one health probe per
// interval, whose readings every tablet turns into its own Health; the server's defaults.
// A connection carries the schema it is on; a tablet borrowing one on another schema
// switches it in the same write as its first command (schema.go).
type Backend struct {
	key BackendKey
	log *slog.Logger
	cfg atomic.Pointer[Config] // the backend-level fields apply (see Config)

	pool *pool
	// control is a few connections: health probe and KILL QUERY; replaced when a reload
	// changes the password.
	control atomic.Pointer[sql.DB]
	// killQuery sends KILL QUERY for a backend thread: killThread, a fake in unit tests.
	killQuery func(ctx context.Context, threadID uint32) error

	// ctx ends at close; it bounds the loops and the kills of timed-out queries.
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup // the probe and maintenance loops, started with the first tablet
	probe  chan struct{}  // capacity 1: requests for a probe now coalesce
	owner  *Backends      // nil for a private backend (New)
	mu     sync.Mutex     // guards tablets, refs, started and closed
	tabs   map[*TabletServer]struct{}
	ntabs  atomic.Int32 // len(tabs), read on the release path
	refs   int
	start  bool
	closed bool

	readings atomic.Pointer[Readings]   // the latest probe's
	version  atomic.Pointer[string]     // the server's handshake version, from the first dial
	info     atomic.Pointer[ServerInfo] // the server's defaults, read by the first probe
	infoMu   sync.Mutex                 // serialises ensureInfo
	stats    backendCounters
}

type backendCounters struct {
	probes, probeErrors, dials, dialErrors, ioErrors atomic.Uint64
}

func newBackend(cfg Config, key BackendKey, log *slog.Logger, owner *Backends) *Backend {
	cfg = cfg.withDefaults()
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	b := &Backend{key: key, log: log, owner: owner, probe: make(chan struct{}, 1), tabs: map[*TabletServer]struct{}{}}
	b.cfg.Store(&cfg)
	b.ctx, b.cancel = context.WithCancel(context.Background())
	b.pool = newPool(b)
	b.control.Store(b.openControl())
	b.killQuery = b.killThread
	return b
}

// Key is the backend's server address and user.
func (b *Backend) Key() BackendKey { return b.key }

// openControl opens the control pool (sql.Open does not dial). multiStatements lets the health
// probe read everything in one query.
func (b *Backend) openControl() *sql.DB {
	cfg := b.cfg.Load()
	c := gomysql.NewConfig()
	c.User, c.Passwd = cfg.User, cfg.Password
	if cfg.ControlUser != "" {
		c.User, c.Passwd = cfg.ControlUser, cfg.ControlPassword
	}
	c.Net, c.Addr = "tcp", b.key.Addr
	c.Timeout = cfg.ConnectTimeout
	c.MultiStatements = true
	// Backstops; every call also has a context deadline.
	c.ReadTimeout, c.WriteTimeout = 2*cfg.ConnectTimeout, 2*cfg.ConnectTimeout
	c.TLS, c.AllowFallbackToPlaintext = backendconn.DriverTLS(cfg.TLSMode, cfg.TLSConfig, b.key.Addr)
	// A connector, not a DSN: a DSN cannot carry the TLS configuration. A bad address shows
	// in the first probe.
	db := sql.OpenDB(driverConnector(c))
	db.SetMaxOpenConns(4)
	db.SetMaxIdleConns(2)
	return db
}

// addTablet registers an opened tablet: the first one starts the loops. It returns the latest
// readings, nil before the first probe.
func (b *Backend) addTablet(t *TabletServer) *Readings {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.tabs[t] = struct{}{}
	b.ntabs.Store(int32(len(b.tabs)))
	if !b.start && !b.closed {
		b.start = true
		b.wg.Add(2)
		go b.probeLoop()
		go b.maintainLoop()
	}
	return b.readings.Load()
}

// removeTablet forgets a closed tablet.
func (b *Backend) removeTablet(t *TabletServer) {
	b.mu.Lock()
	delete(b.tabs, t)
	b.ntabs.Store(int32(len(b.tabs)))
	b.mu.Unlock()
}

// tablets returns the open tablets, sorted by alias.
func (b *Backend) tablets() []*TabletServer {
	b.mu.Lock()
	out := make([]*TabletServer, 0, len(b.tabs))
	for t := range b.tabs {
		out = append(out, t)
	}
	b.mu.Unlock()
	sort.Slice(out, func(i, j int) bool { return out[i].alias < out[j].alias })
	return out
}

// Tablets counts the open tablets sharing the backend.
func (b *Backend) Tablets() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.tabs)
}

// close stops the loops and waits for them, closes the idle connections and the control
// connection; connections still handed out close when they come back.
func (b *Backend) close() {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return
	}
	b.closed = true
	b.mu.Unlock()
	b.cancel()
	b.wg.Wait()
	b.pool.close()
	b.control.Load().Close()
}

// shared reports whether several tablets use the backend: its connections move between
// databases.
func (b *Backend) shared() bool { return b.ntabs.Load() > 1 }

// requestProbe asks for a probe now (a tablet's database was not seen yet), without waiting.
func (b *Backend) requestProbe() {
	select {
	case b.probe <- struct{}{}:
	default:
	}
}

// configure applies the backend-level fields of cfg that can change while running: the
// password (new connections), MaxConnections, the idle timeout. It reports those it could not.
func (b *Backend) configure(cfg Config) []string {
	cfg = cfg.withDefaults()
	old := b.cfg.Load()
	var not []string
	if cfg.HealthInterval != old.HealthInterval {
		not = append(not, fmt.Sprintf("health check interval of %s stays %v until restart", b.key, old.HealthInterval))
		cfg.HealthInterval = old.HealthInterval
	}
	if cfg.ConnectTimeout != old.ConnectTimeout {
		not = append(not, fmt.Sprintf("connect timeout of %s stays %v until restart", b.key, old.ConnectTimeout))
		cfg.ConnectTimeout = old.ConnectTimeout
	}
	if cfg.TLSMode != old.TLSMode || cfg.TLSConfig != old.TLSConfig {
		cfg.TLSMode, cfg.TLSConfig = old.TLSMode, old.TLSConfig
	}
	b.cfg.Store(&cfg)
	if cfg.Password != old.Password || cfg.ControlUser != old.ControlUser || cfg.ControlPassword != old.ControlPassword {
		// Connections in use on the old pool finish their statement; it closes them after.
		b.control.Swap(b.openControl()).Close()
	}
	b.pool.setLimit(cfg.maxConnections())
	b.pool.setIdleTimeout(cfg.IdleTimeout)
	return not
}

// Version is the server's handshake version string ("5.5.5-10.11.6-MariaDB-..."), from the
// first backend connection; "" before one was made.
func (b *Backend) Version() string {
	if v := b.version.Load(); v != nil {
		return *v
	}
	return ""
}

func (b *Backend) noteVersion(v string) {
	if old := b.version.Load(); old == nil || *old != v {
		b.version.Store(&v)
	}
}

// killThread runs KILL QUERY threadID through the control connection.
func (b *Backend) killThread(ctx context.Context, threadID uint32) error {
	if _, err := b.control.Load().ExecContext(ctx, "KILL QUERY "+strconv.FormatUint(uint64(threadID), 10)); err != nil {
		return fmt.Errorf("kill query %d on %s: %w", threadID, b.key.Addr, err)
	}
	return nil
}

// maintainLoop closes idle connections and kills transactions over their tablet's TxTimeout.
func (b *Backend) maintainLoop() {
	defer b.wg.Done()
	tk := time.NewTicker(b.cfg.Load().tick())
	defer tk.Stop()
	for {
		select {
		case <-b.ctx.Done():
			return
		case now := <-tk.C:
			b.pool.closeIdle()
			for _, e := range b.pool.expired(now) {
				// The snapshot may be stale: killExpired re-checks under the pool's lock that
				// the connection was not returned (and maybe handed out again) since.
				if b.pool.killExpired(e, now) {
					b.log.Info("rolled back a transaction after timeout", "tablet", e.ts.alias, "thread", e.c.threadID, "timeout", e.timeout)
				}
			}
		}
	}
}

// Stats of a backend, for metrics and pages.
type BackendStats struct {
	Key                BackendKey
	Tablets            int
	MaxConnections     int
	InUse, Idle        int // read together: InUse+Idle is the connections open (or being dialed)
	Waits, WaitTimeout uint64
	Dials, DialErrors  uint64
	Probes, ProbeErrs  uint64
	Switches           uint64 // connections switched to another tablet's database
	SwitchesAlone      uint64 // of those, switches sent alone before their statement (schema.go)
}

// Stats returns the backend's counters.
func (b *Backend) Stats() BackendStats {
	limit, _ := b.pool.conns.counts()
	inUse, idle := b.pool.sizes()
	return BackendStats{
		Key: b.key, Tablets: b.Tablets(), MaxConnections: limit, InUse: inUse, Idle: idle,
		Waits: b.pool.stats.connWaits.Load(), WaitTimeout: b.pool.stats.connWaitTimeouts.Load(),
		Dials: b.stats.dials.Load(), DialErrors: b.stats.dialErrors.Load(),
		Probes: b.stats.probes.Load(), ProbeErrs: b.stats.probeErrors.Load(),
		Switches: b.pool.stats.switches.Load(), SwitchesAlone: b.pool.stats.switchesAlone.Load(),
	}
}

// Backends shares backends between the tablet servers of a registry: one per (server, user).
type Backends struct {
	log *slog.Logger
	mu  sync.Mutex // guards m
	m   map[BackendKey]*Backend
}

// NewBackends makes an empty set.
func NewBackends(log *slog.Logger) *Backends {
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return &Backends{log: log, m: map[BackendKey]*Backend{}}
}

// acquire returns the backend of (addr, cfg.User), creating it with cfg's backend-level fields
// if needed, and counts a reference.
func (bs *Backends) acquire(cfg Config, addr string) *Backend {
	key := BackendKey{Addr: addr, User: cfg.User}
	bs.mu.Lock()
	defer bs.mu.Unlock()
	b := bs.m[key]
	if b == nil {
		b = newBackend(cfg, key, bs.log.With("mysql", addr, "user", cfg.User), bs)
		bs.m[key] = b
	}
	b.mu.Lock()
	b.refs++
	b.mu.Unlock()
	return b
}

// release drops a reference; the last closes the backend.
func (bs *Backends) release(b *Backend) {
	bs.mu.Lock()
	b.mu.Lock()
	b.refs--
	last := b.refs == 0
	b.mu.Unlock()
	if last && bs.m[b.key] == b {
		delete(bs.m, b.key)
	}
	bs.mu.Unlock()
	if last {
		b.close()
	}
}

// All returns the backends in use, sorted by address and user.
func (bs *Backends) All() []*Backend {
	bs.mu.Lock()
	out := make([]*Backend, 0, len(bs.m))
	for _, b := range bs.m {
		out = append(out, b)
	}
	bs.mu.Unlock()
	sort.Slice(out, func(i, j int) bool {
		if out[i].key.Addr != out[j].key.Addr {
			return out[i].key.Addr < out[j].key.Addr
		}
		return out[i].key.User < out[j].key.User
	})
	return out
}

// Configure applies the backend-level fields that cfgOf gives each backend's key (a reload)
// and reports what could not change while running.
func (bs *Backends) Configure(cfgOf func(BackendKey) (Config, bool)) []string {
	var not []string
	for _, b := range bs.All() {
		if cfg, ok := cfgOf(b.key); ok {
			not = append(not, b.configure(cfg)...)
		}
	}
	return not
}

// driverConnector is go-sql-driver's connector for c; a configuration it refuses (none that
// openControl makes) fails every connection with its error.
func driverConnector(c *gomysql.Config) driver.Connector {
	conn, err := gomysql.NewConnector(c)
	if err != nil {
		return failedConnector{err}
	}
	return conn
}

type failedConnector struct{ err error }

func (f failedConnector) Connect(context.Context) (driver.Conn, error) { return nil, f.err }
func (f failedConnector) Driver() driver.Driver                        { return gomysql.MySQLDriver{} }

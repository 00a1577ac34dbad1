package tabletserver

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	gomysql "github.com/go-sql-driver/mysql"
	topodatapb "vitess.io/vitess/go/vt/proto/topodata"

	"github.com/vtdirect/vtdirect/backendconn"
)

// TabletServer is the embedded tablet server of one tablet: its data and reserved pools, its
// control connection (health probe, KILL QUERY) and its statistics.
type TabletServer struct {
	cfg      Config
	tablet   *topodatapb.Tablet
	alias    string
	addr     string
	dbName   string
	log      *slog.Logger
	onHealth func()

	pool    *pool
	control *sql.DB // 1-2 connections: health probe and KILL QUERY
	// killQuery sends KILL QUERY for a backend thread: killThread, a fake in unit tests.
	killQuery func(ctx context.Context, threadID uint32) error

	// ctx ends at Close; it bounds the goroutines below and the kills of timed-out queries.
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup // the probe and maintenance goroutines, started by Open

	lifeMu sync.Mutex // guards opened and closed
	opened bool
	closed bool

	health  atomic.Pointer[Health]
	version atomic.Pointer[string]     // the server's handshake version, from the first dial
	info    atomic.Pointer[ServerInfo] // the server's defaults, read by the first probe
	infoMu  sync.Mutex                 // serialises ensureInfo
	stats   counters
	seqs    sequences // sequence tables served by this tablet (sequence.go)
}

// New creates the tablet server of tablet; nothing is dialed until Open (health) and Get
// (data). onHealth, if not nil, is called from the probe goroutine whenever Health changes;
// it must not block. Zero Config fields get defaults (see Config).
func New(cfg Config, tablet *topodatapb.Tablet, log *slog.Logger, onHealth func()) *TabletServer {
	cfg = cfg.withDefaults()
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	t := &TabletServer{
		cfg:      cfg,
		tablet:   tablet,
		alias:    aliasString(tablet.GetAlias()),
		addr:     mysqlAddr(tablet),
		dbName:   dbName(tablet),
		log:      log,
		onHealth: onHealth,
	}
	t.ctx, t.cancel = context.WithCancel(context.Background())
	t.pool = newPool(t)
	t.control = t.openControl()
	t.killQuery = t.killThread
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

// openControl opens the control pool (sql.Open does not dial).
func (t *TabletServer) openControl() *sql.DB {
	c := gomysql.NewConfig()
	c.User, c.Passwd = t.cfg.User, t.cfg.Password
	c.Net, c.Addr = "tcp", t.addr
	c.TLS, c.AllowFallbackToPlaintext = backendconn.DriverTLS(t.cfg.TLSMode, t.cfg.TLSConfig, t.addr)
	c.Timeout = t.cfg.ConnectTimeout
	// Backstops; every call also has a context deadline.
	c.ReadTimeout, c.WriteTimeout = 2*t.cfg.ConnectTimeout, 2*t.cfg.ConnectTimeout
	// A connector, not a DSN: a DSN cannot carry the TLS configuration. A bad address shows
	// in the first probe.
	db := sql.OpenDB(driverConnector(c))
	db.SetMaxOpenConns(2)
	db.SetMaxIdleConns(2)
	return db
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

// Tablet is the tablet record the server was created with.
func (t *TabletServer) Tablet() *topodatapb.Tablet { return t.tablet }

// Alias is the tablet alias, "zone1-0000000100".
func (t *TabletServer) Alias() string { return t.alias }

// Addr is the tablet's MySQL address.
func (t *TabletServer) Addr() string { return t.addr }

// Open starts the health probe (the first probe runs at once, in the background) and the
// maintenance loop (idle connections, transaction timeouts).
func (t *TabletServer) Open() {
	t.lifeMu.Lock()
	defer t.lifeMu.Unlock()
	if t.opened || t.closed {
		return
	}
	t.opened = true
	t.wg.Add(2)
	go t.probeLoop()
	go t.maintainLoop()
}

// Close stops the goroutines and waits for them, closes idle connections and the control
// connection, kills reserved connections in use (their transactions roll back) and makes the
// data connections in use close when they are returned.
func (t *TabletServer) Close() {
	t.lifeMu.Lock()
	if t.closed {
		t.lifeMu.Unlock()
		return
	}
	t.closed = true
	t.lifeMu.Unlock()
	t.cancel()
	t.wg.Wait()
	t.pool.close()
	t.control.Close()
}

// Get returns a connection as want says: the reply-format capabilities of the client it will
// serve and the session's settings applied, waiting up to PoolWaitTimeout for a free slot (a
// run slot, or with want.Hold a reserved one). The caller Releases or Closes it.
func (t *TabletServer) Get(ctx context.Context, want Want) (*Conn, error) {
	return t.pool.get(ctx, want)
}

// Reclaim hands out c again, with want's settings, if it is idle and nobody had it since the
// hand-out lease (the connection a session released last, which holds its per-connection
// results); ok is false otherwise, and the caller Gets another.
func (t *TabletServer) Reclaim(ctx context.Context, c *Conn, lease uint64, want Want) (*Conn, bool) {
	return t.pool.reclaim(ctx, c, lease, want)
}

// Version is the server's handshake version string ("5.5.5-10.11.6-MariaDB-..."), from the
// first backend connection; "" before one was made.
func (t *TabletServer) Version() string {
	if v := t.version.Load(); v != nil {
		return *v
	}
	return ""
}

func (t *TabletServer) noteVersion(v string) {
	if old := t.version.Load(); old == nil || *old != v {
		t.version.Store(&v)
	}
}

// KillQuery runs KILL QUERY threadID on the tablet through the control connection. It is not
// synchronised with the connection's commands: the KILL may reach a later command than the one
// meant. Prefer (*Conn).KillQuery or KillQueryOnLease, which cannot.
func (t *TabletServer) KillQuery(ctx context.Context, threadID uint32) error {
	return t.killThread(ctx, threadID)
}

// killThread runs KILL QUERY threadID through the control connection.
func (t *TabletServer) killThread(ctx context.Context, threadID uint32) error {
	if _, err := t.control.ExecContext(ctx, "KILL QUERY "+strconv.FormatUint(uint64(threadID), 10)); err != nil {
		return fmt.Errorf("kill query %d on tablet %s: %w", threadID, t.alias, err)
	}
	return nil
}

// killExpired closes the connections whose transaction is older than TxTimeout at now,
// rolling it back.
func (t *TabletServer) killExpired(now time.Time) {
	for _, e := range t.pool.expired(now, t.cfg.TxTimeout) {
		// The snapshot may be stale: killExpired re-checks under the pool's lock that the
		// connection was not returned (and maybe handed out again) since.
		if t.pool.killExpired(e, now, t.cfg.TxTimeout, errTxKilled(t.alias, t.cfg.TxTimeout)) {
			t.log.Info("rolled back a transaction after timeout", "thread", e.c.threadID, "timeout", t.cfg.TxTimeout)
		}
	}
}

// maintainLoop closes idle connections and kills transactions over TxTimeout, every tick.
func (t *TabletServer) maintainLoop() {
	defer t.wg.Done()
	tk := time.NewTicker(t.cfg.tick())
	defer tk.Stop()
	for {
		select {
		case <-t.ctx.Done():
			return
		case now := <-tk.C:
			t.pool.closeIdle()
			t.killExpired(now)
		}
	}
}

// Package gateway assembles a running vtdirect gateway from its parts: the tablet registry
// over a topo, the router, the MySQL protocol listener and the HTTP listener (metrics and
// status). `vtdirect serve` and the end-to-end tests both start gateways through it.
package gateway

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/pprof"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"google.golang.org/grpc"
	topodatapb "vitess.io/vitess/go/vt/proto/topodata"
	"vitess.io/vitess/go/vt/proto/vtgateservice"

	"github.com/vtdirect/vtdirect/acl"
	"github.com/vtdirect/vtdirect/buffer"
	"github.com/vtdirect/vtdirect/discovery"
	"github.com/vtdirect/vtdirect/failover"
	"github.com/vtdirect/vtdirect/grpcvtgate"
	"github.com/vtdirect/vtdirect/mysqlserver"
	"github.com/vtdirect/vtdirect/picker"
	"github.com/vtdirect/vtdirect/router"
	"github.com/vtdirect/vtdirect/stats"
	"github.com/vtdirect/vtdirect/tabletserver"
	"github.com/vtdirect/vtdirect/topo"
	"github.com/vtdirect/vtdirect/vschema"
	"github.com/vtdirect/vtdirect/vstream"
)

// Config is everything a gateway needs; cmd/vtdirect fills it from flags.
type Config struct {
	Cell           string   // the gateway's own cell
	Cells          []string // cells and cell aliases reads may fall back to
	CellPreference picker.CellPreference
	MaxLag         time.Duration // replicas lagging more get no reads (0: no bound)
	CellsToWatch   []string      // empty: every cell
	Keyspaces      []string      // empty: all

	MySQLAddr string // host:port; port 0 picks a free one
	HTTPAddr  string // empty: no HTTP listener
	GRPCAddr  string // empty: no gRPC listener (Vitess API: VStream, Execute)

	// VStream tunes the change stream; its Picker, User and Password are filled in.
	VStream vstream.Config

	ServerVersion  string
	Users          map[string]string // user -> password
	InsecureNoAuth bool
	TLSConfig      *tls.Config
	RequireTLS     bool
	MaxPacketSize  int
	WriteTimeout   time.Duration // a client write blocked longer ends the session (0: no bound)
	// IdleTimeout disconnects a session idle this long while it keeps a backend connection
	// (its wait_timeout applies too, and alone to the others); 0: wait_timeout only.
	IdleTimeout time.Duration
	// LocalInfile lets LOAD DATA LOCAL INFILE reach clients that allow it.
	LocalInfile bool

	TabletServer tabletserver.Config

	// Security (gateway/security.go): the users' access rules (nil: acl.Open(), every
	// keyspace, no admin), the bounds no client breaks, TLS of the gRPC listener (nil:
	// cleartext; with ClientCAs and ClientAuth for client certificates), and the token that
	// opens the /debug/ pages on a non-loopback HTTP address ("" : they are off there).
	Access     *acl.Policy
	Limits     Limits
	GRPCTLS    *tls.Config
	DebugToken string

	// TabletConfig, if set, gives each tablet's server configuration (the config file's
	// sections folded); TabletServer is then the base it starts from.
	TabletConfig func(*topodatapb.Tablet) tabletserver.Config
	// KeyspacePickers are the picker settings of keyspaces that have their own (the config
	// file's keyspaces: max_replication_lag, cells, cell_preference).
	KeyspacePickers map[string]router.KeyspacePicker
	// Folding folds metric dimensions away (--drop-dimensions, --stats-combine-dimensions).
	Folding stats.Folding
	// Buffer holds PRIMARY traffic while a shard is reparented (--enable-buffer); nil: off.
	Buffer *buffer.Config
	// Failover runs the failover controller in this gateway (--enable-failover); nil: off.
	Failover *failover.Config
	// TransactionMode is vtgate's --transaction-mode for sharded keyspaces: multi (default)
	// or single.
	TransactionMode string
	Logger          *slog.Logger
}

func (c *Config) validate() error {
	if c.Cell == "" {
		return errors.New("the gateway's cell is required (--cell): the cell (availability zone) it runs in, e.g. --cell zone1")
	}
	if len(c.Users) == 0 && !c.InsecureNoAuth {
		return errors.New("no MySQL users: give --mysql-auth-server-static-file (or users: in the --config file), or --insecure-no-auth for a test setup")
	}
	if c.RequireTLS && c.TLSConfig == nil {
		return errors.New("--mysql-server-require-secure-transport needs --mysql-server-ssl-cert and --mysql-server-ssl-key")
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return nil
}

// vstreamUser is the backend user change streams read with: VStream's own (--db-filtered-user),
// else the app user.
func (c *Config) vstreamUser() (user, password string) {
	if c.VStream.User != "" {
		return c.VStream.User, c.VStream.Password
	}
	return c.TabletServer.User, c.TabletServer.Password
}

// Gateway is a running gateway. Close stops it.
type Gateway struct {
	cfg       Config
	Registry  *discovery.Registry
	VSchema   *vschema.Watcher
	Executor  *router.Executor
	mysql     *mysqlserver.Listener
	mysqlAddr net.Addr
	httpSrv   *http.Server
	httpAddr  net.Addr
	grpcSrv   *grpc.Server
	grpcAddr  net.Addr
	Metrics   *prometheus.Registry
	stats     *stats.Collector
	users     atomic.Pointer[users]
	userMax   atomic.Pointer[map[string]int] // each user's own connection bound (Limits)
	fo        failoverParts
	reloadMu  sync.Mutex // serialises Reload
	reloader  atomic.Pointer[ReloadFunc]
	// vstreamFit remembers which tablets are fit as VStream sources (vstream_fitness.go).
	vstreamFit *sourceFitness
	vstreamMgr *vstream.Manager
	// vstreamStats exports the VStream Manager's metrics (its shared binlog dumps), folded as
	// the tablets' are.
	vstreamStats *stats.Collector

	wg      sync.WaitGroup // the listeners' Serve goroutines
	errOnce sync.Once
	err     error // first listener error
	done    chan struct{}
}

type users map[string]string

func (u users) Password(user string) (string, bool) { p, ok := u[user]; return p, ok }

// liveUsers is the gateway's users as the latest configuration says (a reload may change
// them): the listeners' Authenticator.
type liveUsers struct{ g *Gateway }

func (l liveUsers) Password(user string) (string, bool) { return (*l.g.users.Load()).Password(user) }

// Start starts a gateway over a topo server. It returns once the listeners accept.
func Start(ctx context.Context, cfg Config, ts *topo.Server) (*Gateway, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	log := cfg.Logger
	vsUser, vsPassword := cfg.vstreamUser()
	g := &Gateway{cfg: cfg, done: make(chan struct{}), Metrics: prometheus.NewRegistry(),
		vstreamFit: newSourceFitness(vsUser, vsPassword, cfg.TabletServer.TLSMode, cfg.TabletServer.TLSConfig)}
	g.Metrics.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))

	reg, err := discovery.New(discovery.Config{
		Cells:        cfg.CellsToWatch,
		Keyspaces:    cfg.Keyspaces,
		TabletServer: cfg.TabletServer,
		TabletConfig: cfg.TabletConfig,
	}, ts, log)
	if err != nil {
		return nil, err
	}
	reg.Start(ctx)
	g.Registry = reg
	g.stats = stats.NewCollector(cfg.Folding, tabletSource{reg})
	g.Metrics.MustRegister(g.stats)
	u := users(cfg.Users)
	g.users.Store(&u)

	pm, err := picker.NewMetrics(g.Metrics)
	if err != nil {
		reg.Close()
		return nil, err
	}
	g.VSchema = vschema.NewWatcher(ts, log)
	g.VSchema.Start(ctx)
	rcfg := router.Config{
		Cell: cfg.Cell, Cells: cfg.Cells, CellPreference: cfg.CellPreference, MaxLag: cfg.MaxLag,
		IdleTimeout: cfg.IdleTimeout, PickerMetrics: pm, Logger: log, Access: cfg.Access,
		VSchema: g.VSchema, TransactionMode: cfg.TransactionMode,
	}
	if cfg.Buffer != nil {
		if err := g.startBuffer(ctx, ts); err != nil {
			g.VSchema.Close()
			reg.Close()
			return nil, err
		}
		rcfg.Buffer = g.fo.buf
	}
	g.Executor, err = router.NewExecutor(rcfg, reg)
	if err == nil && len(cfg.KeyspacePickers) > 0 {
		err = g.Executor.SetPickerDefaults(router.PickerDefaults{Cells: cfg.Cells, CellPreference: cfg.CellPreference,
			MaxLag: cfg.MaxLag, Keyspaces: cfg.KeyspacePickers})
	}
	if err != nil {
		g.closeFailover()
		g.VSchema.Close()
		reg.Close()
		return nil, err
	}
	g.Metrics.MustRegister(newSessionCollector(g.Executor), newSecurityCollector(g))
	var auth mysqlserver.Authenticator
	if len(cfg.Users) > 0 {
		auth = liveUsers{g}
	}
	lis, err := mysqlserver.Listen(ctx, cfg.MySQLAddr) // TCP keep-alive set once, on the listener
	if err != nil {
		g.VSchema.Close()
		reg.Close()
		return nil, fmt.Errorf("MySQL listener on %s: %w (is another gateway running? choose another --mysql-server-port)", cfg.MySQLAddr, err)
	}
	g.mysqlAddr = lis.Addr()
	mcfg := mysqlserver.Config{
		ServerVersion:     cfg.ServerVersion,
		Auth:              auth,
		InsecureNoAuth:    cfg.InsecureNoAuth,
		TLSConfig:         cfg.TLSConfig,
		RequireTLS:        cfg.RequireTLS,
		MaxPacketSize:     cfg.MaxPacketSize,
		WriteTimeout:      cfg.WriteTimeout,
		Logger:            log,
		LocalInfile:       cfg.LocalInfile,
		ServerVersionFunc: g.backendVersion,
	}
	cfg.Limits.apply(&mcfg, g)
	g.mysql, err = mysqlserver.NewListener(mcfg, lis, g.Executor)
	if err != nil {
		lis.Close()
		g.VSchema.Close()
		reg.Close()
		return nil, err
	}
	g.serve(func() error { return g.mysql.Serve() })

	if cfg.GRPCAddr != "" {
		if err := g.startGRPC(cfg, auth); err != nil {
			g.Close()
			return nil, err
		}
	}

	if cfg.HTTPAddr != "" {
		hl, err := net.Listen("tcp", cfg.HTTPAddr)
		if err != nil {
			g.Close()
			return nil, fmt.Errorf("HTTP listener on %s: %w (choose another --port)", cfg.HTTPAddr, err)
		}
		g.httpAddr = hl.Addr()
		mux := http.NewServeMux()
		mux.Handle("/metrics", promhttp.HandlerFor(g.Metrics, promhttp.HandlerOpts{}))
		mux.Handle("/debug/vars", stats.VarsHandler(g.Metrics))
		g.pages(mux)
		mux.HandleFunc("/debug/config/reload", g.configReloadHandler)
		mux.HandleFunc("/debug/status", statusHandler(reg, cfg.Cell))
		mux.HandleFunc("/debug/picker", pickerHandler(reg, cfg.Cell, cfg.MaxLag.String(), g.vstreamFit))
		mux.HandleFunc("/debug/failover", failoverHandler(g))
		mux.HandleFunc("/debug/failover/reparent", reparentHandler(g))
		mux.HandleFunc("/debug/failover/ack", ackHandler(g, ts))
		mux.HandleFunc("/debug/pprof/", pprof.Index) // no /debug/pprof/cmdline: the command line may hold secrets
		mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
		mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
		mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
		mux.HandleFunc("/{$}", func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			fmt.Fprintf(w, `<!doctype html><title>vtdirect %s</title><h1>vtdirect gateway, cell %s</h1><ul>
<li><a href="/debug/tablets">/debug/tablets</a>: every tablet, its health, pools and pages</li>
<li><a href="/debug/status">/debug/status</a>: tablets and their health (JSON)</li>
<li><a href="/debug/pools">/debug/pools</a>: the connections of each MySQL server and tablet (JSON)</li>
<li><a href="/debug/livequeryz">/debug/livequeryz</a>: running queries, every tablet (JSON)</li>
<li><a href="/debug/txz">/debug/txz</a>: open transactions, every tablet (JSON)</li>
<li><a href="/debug/health">/debug/health</a>: tablets not serving and recent health changes (JSON)</li>
<li><a href="/debug/vars">/debug/vars</a>: every metric as JSON, as Vitess's expvar</li>
<li><a href="/debug/picker?keyspace=commerce&amp;types=REPLICA&amp;format=text">/debug/picker</a>: how a tablet is chosen (keyspace, shard, types, cells, cell_preference, tablet_order)</li>
<li><a href="/debug/failover?format=text">/debug/failover</a>: failover analysis, readings and recoveries</li>
<li><a href="/metrics">/metrics</a>: Prometheus metrics</li>
<li><a href="/debug/pprof/">/debug/pprof/</a>: profiles</li></ul>`, cfg.Cell, cfg.Cell)
		})
		mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "ok") })
		g.httpSrv = &http.Server{Handler: guardDebug(mux, hl.Addr(), cfg.DebugToken), ReadHeaderTimeout: 10 * time.Second}
		g.serve(func() error {
			if err := g.httpSrv.Serve(hl); !errors.Is(err, http.ErrServerClosed) {
				return err
			}
			return nil
		})
	}
	if cfg.Failover != nil {
		if err := g.startFailover(ctx, ts); err != nil {
			g.Close()
			return nil, err
		}
	}
	log.Info("vtdirect gateway serving", "cell", cfg.Cell, "mysql", g.mysqlAddr.String(), "grpc", g.GRPCAddr(), "http", g.HTTPAddr())
	return g, nil
}

func (g *Gateway) serve(run func() error) {
	g.wg.Add(1)
	go func() {
		defer g.wg.Done()
		if err := run(); err != nil {
			g.errOnce.Do(func() { g.err = err; close(g.done) })
		}
	}()
}

// startGRPC serves the Vitess gRPC API: VStream from package vstream, Execute from the router.
func (g *Gateway) startGRPC(cfg Config, auth mysqlserver.Authenticator) error {
	w, err := picker.NewWaiter(g.Registry, picker.WaiterConfig{})
	if err != nil {
		return err
	}
	vc := cfg.VStream
	vc.Picker = &vstreamSources{reg: g.Registry, waiter: w, cell: cfg.Cell, maxLag: cfg.MaxLag, wait: 10 * time.Second,
		fit: g.vstreamFit}
	if vc.User == "" { // the stream's own user (--db-filtered-user), else the app user
		vc.User, vc.Password = cfg.TabletServer.User, cfg.TabletServer.Password
	}
	vc.TLSMode, vc.TLSConfig = cfg.TabletServer.TLSMode, cfg.TabletServer.TLSConfig
	if vc.ServerIDBase == 0 {
		// Each stream registers with MySQL as a replica with its own server_id: gateways
		// sharing a MySQL must not collide, or MySQL drops the older stream.
		vc.ServerIDBase = 1_900_000_000 + uint32(rand.IntN(90_000_000))
	}
	if vc.Logger == nil {
		vc.Logger = cfg.Logger
	}
	mgr, err := vstream.NewManager(vc)
	if err != nil {
		return err
	}
	g.vstreamMgr = mgr
	g.vstreamStats = stats.NewCollector(cfg.Folding, mgr)
	g.Metrics.MustRegister(g.vstreamStats)
	lis, err := net.Listen("tcp", cfg.GRPCAddr)
	if err != nil {
		return fmt.Errorf("gRPC listener on %s: %w (choose another --grpc-port)", cfg.GRPCAddr, err)
	}
	g.grpcAddr = lis.Addr()
	var ga grpcvtgate.Authenticator
	if auth != nil {
		ga = auth
	}
	g.grpcSrv = grpc.NewServer(append(grpcvtgate.ServerOptions(ga), grpcTLS(cfg.GRPCTLS)...)...)
	vtgateservice.RegisterVitessServer(g.grpcSrv, grpcvtgate.New(grpcvtgate.Config{
		VStream: mgr, Executor: g.Executor, Access: g.Executor, Logger: cfg.Logger,
	}))
	g.serve(func() error { return g.grpcSrv.Serve(lis) })
	return nil
}

// GRPCAddr is the address of the gRPC listener, or "".
func (g *Gateway) GRPCAddr() string {
	if g.grpcAddr == nil {
		return ""
	}
	return g.grpcAddr.String()
}

// MySQLAddr is the address of the MySQL protocol listener.
func (g *Gateway) MySQLAddr() string { return g.mysqlAddr.String() }

// HTTPAddr is the address of the HTTP listener, or "".
func (g *Gateway) HTTPAddr() string {
	if g.httpAddr == nil {
		return ""
	}
	return g.httpAddr.String()
}

// Failed is closed when a listener fails; Err then says why.
func (g *Gateway) Failed() <-chan struct{} { return g.done }

// Err is the first listener failure.
func (g *Gateway) Err() error {
	select {
	case <-g.done:
		return g.err
	default:
		return nil
	}
}

// Close stops the listeners, closes every client connection and tablet server, and waits.
func (g *Gateway) Close() {
	if g.fo.ctrl != nil {
		g.fo.ctrl.Close() // first: no recovery runs while the gateway goes
	}
	if g.httpSrv != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_ = g.httpSrv.Shutdown(ctx)
		cancel()
	}
	if g.grpcSrv != nil {
		// Stop, not GracefulStop: VStreams never end on their own.
		g.grpcSrv.Stop()
	}
	if g.vstreamMgr != nil {
		g.vstreamMgr.Close() // its schema trackers
	}
	if g.mysql != nil {
		// Kill running queries first: closing the listener waits for every session.
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		g.Executor.KillAll(ctx)
		cancel()
		_ = g.mysql.Close()
	}
	g.wg.Wait()
	g.closeFailover()
	if g.VSchema != nil {
		g.VSchema.Close()
	}
	g.Registry.Close()
}

// backendVersion is what the MySQL greeting announces: the version of the backends (the first
// tablet that was connected to), so that drivers speak its dialect, with "-vtdirect" added.
func (g *Gateway) backendVersion() string {
	for _, t := range g.Registry.Snapshot().Tablets() {
		if v := t.Server.Version(); v != "" {
			return v + "-vtdirect"
		}
	}
	return ""
}

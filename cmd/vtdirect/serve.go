package main

import (
	"context"
	"crypto/tls"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	topodatapb "vitess.io/vitess/go/vt/proto/topodata"

	"github.com/vtdirect/vtdirect/config"
	"github.com/vtdirect/vtdirect/gateway"
	"github.com/vtdirect/vtdirect/picker"
	"github.com/vtdirect/vtdirect/tabletserver"
	"github.com/vtdirect/vtdirect/vstream"
)

// serveFlags are the gateway's flags, named after vtgate's and vttablet's where they have one.
type serveFlags struct {
	topo *topoFlags

	cell           string
	cells          string
	cellPreference string
	maxLag         time.Duration
	cellsToWatch   string
	keyspaces      string
	bindAddress    string
	mysqlPort      int
	grpcPort       int
	httpPort       int

	serverVersion   string
	authFile        string
	dropDims        string
	combineDims     string
	configPath      string // --config: the YAML file, which supersedes every other flag
	file            *config.File
	insecureNoAuth  bool
	sslCert, sslKey string
	requireTLS      bool
	maxPacketSize   int
	writeTimeout    time.Duration
	idleTimeout     time.Duration
	localInfile     bool
	txMode          string

	ts       tabletserver.Config
	vstream  vstream.Config
	logLevel string

	fo  failoverFlags
	sec securityFlags
}

func newServeCmd() *cobra.Command {
	f := &serveFlags{}
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the gateway: MySQL protocol, gRPC (VStream) and HTTP (metrics, status)",
		Long: `Run the gateway. Configure it with flags, or with a YAML file (--config), which supersedes every
other flag: per-server, per-keyspace and per-tablet settings, and secrets from files or the
environment. SIGHUP (or ` + "`vtdirect config reload`" + `) re-reads the file.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if f.configPath != "" {
				if err := f.useConfigFile(cmd.Flags()); err != nil {
					return err
				}
			} else if err := f.useCredentials(); err != nil {
				return err
			}
			return runServe(cmd.Context(), f)
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&f.configPath, "config", "", "YAML configuration file; given, no other flag may be (see README: The configuration file)")
	defineServeFlags(fs, f)
	return cmd
}

// defineServeFlags defines serve's flags on fs, their values going to f.
func defineServeFlags(fs *pflag.FlagSet, f *serveFlags) {
	f.topo = addTopoFlags(fs)
	fs.StringVar(&f.cell, "cell", "", "the gateway's own cell: replica and rdonly reads prefer its tablets (required)")
	fs.StringVar(&f.cells, "cells", "", "comma-separated cells and cell aliases that replica/rdonly reads may fall back to")
	fs.StringVar(&f.cellPreference, "cell-preference", "PreferLocalWithAlias", "order of cells for replica/rdonly reads: PreferLocalWithAlias, PreferLocal or OnlySpecified")
	fs.DurationVar(&f.maxLag, "discovery-low-replication-lag", 30*time.Second, "replicas lagging more than this get no reads (0: no bound)")
	fs.StringVar(&f.cellsToWatch, "cells-to-watch", "", "comma-separated cells whose tablets are served (default: every cell in the topo)")
	fs.StringVar(&f.keyspaces, "keyspaces-to-watch", "", "comma-separated keyspaces served (default: all)")
	fs.StringVar(&f.bindAddress, "bind-address", "127.0.0.1", "address the HTTP listener (/metrics, /debug pages) binds to; on a non-loopback address the /debug/ pages need --debug-token-file")
	fs.IntVar(&f.mysqlPort, "mysql-server-port", 15306, "MySQL protocol port")
	fs.IntVar(&f.grpcPort, "grpc-port", 15991, "gRPC port for the Vitess API: VStream and Execute (0: none)")
	fs.IntVar(&f.httpPort, "port", 15000, "HTTP port for /metrics and /debug pages")
	fs.StringVar(&f.serverVersion, "mysql-server-version", "", "server version announced in the MySQL handshake (empty: the backends' own version, which clients adapt their SQL to)")
	fs.StringVar(&f.authFile, "mysql-auth-server-static-file", "", "JSON file of users in Vitess's static auth format: {\"user\": [{\"Password\": \"pw\"}]}")
	fs.StringVar(&f.dropDims, "drop-dimensions", "", "comma-separated metric dimensions to fold away (keyspace, shard, tablet...): their series are summed")
	fs.StringVar(&f.combineDims, "stats-combine-dimensions", "", "comma-separated metric dimensions to combine into one \"all\" value, as Vitess's flag does")
	fs.BoolVar(&f.insecureNoAuth, "insecure-no-auth", false, "accept any user without a password (for tests only)")
	fs.StringVar(&f.txMode, "transaction-mode", "MULTI", "transactions on sharded keyspaces: MULTI (may write to several shards, committed shard by shard) or SINGLE (a transaction writing to a second shard is refused and rolled back); sessions change theirs with SET transaction_mode")
	fs.StringVar(&f.sslCert, "mysql-server-ssl-cert", "", "TLS certificate (PEM) offered to MySQL clients")
	fs.StringVar(&f.sslKey, "mysql-server-ssl-key", "", "TLS key (PEM) for --mysql-server-ssl-cert")
	fs.BoolVar(&f.requireTLS, "mysql-server-require-secure-transport", false, "refuse MySQL clients that do not use TLS")
	fs.IntVar(&f.maxPacketSize, "mysql-max-packet-size", 64<<20, "largest client command accepted, in bytes (like max_allowed_packet)")
	fs.DurationVar(&f.writeTimeout, "mysql-server-write-timeout", 60*time.Second, "a client that stops reading its result for this long is disconnected, freeing its backend connection, like MySQL's net_write_timeout (0: never)")
	fs.DurationVar(&f.idleTimeout, "mysql-server-idle-timeout", 0, "a session idle this long while it keeps a backend connection (a transaction, user variables, temporary tables...) is disconnected; its wait_timeout applies too, whichever is shorter, and alone to sessions that keep none, as in MariaDB (0: wait_timeout only)")
	fs.BoolVar(&f.localInfile, "mysql-server-local-infile", true, "relay LOAD DATA LOCAL INFILE to clients that allow it (false: MariaDB answers such statements with error 4166)")
	fs.StringVar(&f.ts.User, "db-app-user", "vt_app", "user for the backend MySQL connections (its password: --db-credentials-file, or the config file)")
	fs.IntVar(&f.ts.PoolSize, "queryserver-config-pool-size", 16, "backend connections per tablet for queries")
	fs.IntVar(&f.ts.MaxConnections, "db-max-connections", 0, "backend connections per MySQL server (and user), shared by all its tablets (0: pool size + transaction cap)")
	fs.DurationVar(&f.ts.PoolWaitTimeout, "queryserver-config-query-pool-timeout", 5*time.Second, "how long a query waits for a free backend connection before it fails")
	fs.DurationVar(&f.ts.IdleTimeout, "queryserver-config-idle-timeout", 30*time.Minute, "idle backend connections are closed after this long")
	fs.IntVar(&f.ts.TxPoolSize, "queryserver-config-transaction-cap", 32, "backend connections per tablet for transactions")
	fs.DurationVar(&f.ts.TxTimeout, "queryserver-config-transaction-timeout", 30*time.Second, "a transaction open longer than this is rolled back")
	fs.DurationVar(&f.ts.QueryTimeout, "queryserver-config-query-timeout", 0, "a query running longer than this is killed on MySQL (0: no limit)")
	fs.IntVar(&f.ts.MaxResultRows, "queryserver-config-max-result-size", 0, "a query returning more rows than this fails (0: no limit; results are streamed)")
	fs.DurationVar(&f.ts.HealthInterval, "health-check-interval", 2*time.Second, "how often each tablet's MySQL is probed")
	fs.DurationVar(&f.ts.ConnectTimeout, "db-connect-timeout", 5*time.Second, "timeout to connect to a tablet's MySQL")
	fs.BoolVar(&f.vstream.PrivateBinlogDumps, "vstream-private-binlog-dumps", false, "give every VStream a binlog dump of its own instead of one dump per MariaDB server shared by the streams of its schemas (for diagnosis)")
	fs.IntVar(&f.vstream.MaxResponseBytes, "vstream-packet-size", 250000, "VStream responses hold at most this many bytes of events (vttablet's --vstream-packet-size); a larger transaction goes out in several responses. Keep it well below the consumers' gRPC message limit (4 MiB in grpc-go, 16 MiB in Vitess's client)")
	fs.StringVar(&f.logLevel, "log-level", "info", "debug, info, warn or error")
	addFailoverFlags(fs, &f.fo)
	addSecurityFlags(fs, &f.sec)
}

func runServe(ctx context.Context, f *serveFlags) error {
	log, err := newLogger(f.logLevel)
	if err != nil {
		return err
	}
	users, err := f.users()
	if err != nil {
		return err
	}
	var tlsConfig *tls.Config
	if f.sslCert != "" || f.sslKey != "" {
		cert, err := tls.LoadX509KeyPair(f.sslCert, f.sslKey)
		if err != nil {
			return fmt.Errorf("--mysql-server-ssl-cert/--mysql-server-ssl-key: %w", err)
		}
		tlsConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	}
	pref, err := picker.ParseCellPreference(f.cellPreference)
	if err != nil {
		return fmt.Errorf("--cell-preference: %w", err)
	}
	cfg := gateway.Config{
		Cell:            f.cell,
		Cells:           splitList(f.cells),
		CellPreference:  pref,
		MaxLag:          f.maxLag,
		CellsToWatch:    splitList(f.cellsToWatch),
		Keyspaces:       splitList(f.keyspaces),
		MySQLAddr:       net.JoinHostPort(f.sec.mysqlBind, strconv.Itoa(f.mysqlPort)),
		ServerVersion:   f.serverVersion,
		Users:           users,
		InsecureNoAuth:  f.insecureNoAuth,
		TLSConfig:       tlsConfig,
		RequireTLS:      f.requireTLS,
		MaxPacketSize:   f.maxPacketSize,
		WriteTimeout:    f.writeTimeout,
		IdleTimeout:     f.idleTimeout,
		LocalInfile:     f.localInfile,
		TabletServer:    f.ts,
		Folding:         f.folding(),
		VStream:         f.vstream,
		TransactionMode: strings.ToLower(f.txMode),
		Logger:          log,
	}
	if f.file != nil {
		file, base := f.file, f.ts
		cfg.TabletConfig = func(t *topodatapb.Tablet) tabletserver.Config { return file.TabletConfig(base, t) }
		if cfg.KeyspacePickers, err = keyspacePickers(file); err != nil {
			return err
		}
	}
	if f.httpPort > 0 {
		cfg.HTTPAddr = net.JoinHostPort(f.bindAddress, strconv.Itoa(f.httpPort))
	}
	if err := f.sec.apply(&cfg, f); err != nil {
		return err
	}
	if cfg.Buffer, cfg.Failover, err = f.fo.configs(log); err != nil {
		return err
	}
	if f.grpcPort > 0 {
		cfg.GRPCAddr = net.JoinHostPort(f.sec.grpcBind, strconv.Itoa(f.grpcPort))
	}
	ts, err := f.topo.open(ctx)
	if err != nil {
		return err
	}
	defer ts.Close()
	// A wrong --topo-root would otherwise serve an empty topology without a word.
	if err := ts.CheckRoot(ctx); err != nil {
		return fmt.Errorf("%w (create the topology with `vtdirect topo add-cell ...`, or start the demo with `vtdirect local up`)", err)
	}
	g, err := gateway.Start(ctx, cfg, ts)
	if err != nil {
		return err
	}
	defer g.Close()
	hup := make(chan os.Signal, 1) // one pending SIGHUP is enough: a reload reads the latest file
	if f.configPath != "" {
		r := &reloader{path: f.configPath, file: f.file, g: g, log: log}
		signal.Notify(hup, syscall.SIGHUP) // before the reloader: once one reload works, both do
		defer signal.Stop(hup)
		g.SetReloader(r.reload)
		log.Info("configuration file in use; SIGHUP or `vtdirect config reload` re-reads it", "file", f.configPath)
	}
	for {
		select {
		case <-ctx.Done():
			log.Info("vtdirect stopping")
			return nil
		case <-g.Failed():
			return g.Err()
		case <-hup:
			if _, err := g.ReloadConfig(); err != nil {
				log.Error("configuration reload failed; the running configuration stays", "err", err)
			}
		}
	}
}

func newLogger(level string) (*slog.Logger, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("--log-level %q: use debug, info, warn or error", level)
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: l})), nil
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

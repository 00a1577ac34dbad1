package local

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"time"

	topodatapb "vitess.io/vitess/go/vt/proto/topodata"

	"github.com/vtdirect/vtdirect/topo"
)

// DemoConfig describes the demo cluster of `vtdirect local up`: every server is a detached
// process that keeps running after the command returns, with its files under Dir.
type DemoConfig struct {
	Dir    string
	Layout Layout
	// User and Password: the MariaDB account on every tablet, also accepted by the gateway.
	User, Password string
	// DBAUser and DBAPassword: the admin account on every tablet (control, failover).
	DBAUser, DBAPassword string
	// ReplUser: the account replicas connect to their primary with; FilteredUser: the
	// gateway's change streams' (VStream). Default vt_repl and vt_filtered (their names as
	// passwords). User, the data path's, has neither's rights (MariaDBConfig.LeastPrivilege).
	ReplUser, ReplPassword         string `json:",omitempty"`
	FilteredUser, FilteredPassword string `json:",omitempty"`
	EtcdPort                       int
	EtcdPeerPort                   int
	Gateway                        DemoGateway
	// Sharded are the sharded keyspaces beside the layout's (the demo's customer).
	Sharded []ShardedKeyspace `json:",omitempty"`
	// Schemas is how many schema keyspaces (ks0001...) the demo also serves (schemas.go).
	Schemas int
	// Executable is the vtdirect binary, which runs the embedded etcd (EtcdArgs) and the
	// gateway (Gateway.Args). Not saved in the state file.
	Executable string   `json:"-"`
	EtcdArgs   []string `json:"-"`
}

// DemoGateway is the gateway process of the demo.
type DemoGateway struct {
	Cell                          string
	MySQLPort, GRPCPort, HTTPPort int
	Args                          []string `json:"-"`
	// Files are written (mode 0600, directories made) before the gateway starts: its
	// configuration file and the password files it names.
	Files map[string]string `json:"-"`
}

// stateFile records the DemoConfig of the last `up` in Dir, so that `down` and `status` find
// the processes whatever flags they are given; its presence also marks Dir as a cluster dir
// that `down --purge` may remove.
const stateFile = "cluster.json"

// EtcdDir is where the demo etcd keeps its data and logs.
func (c *DemoConfig) EtcdDir() string { return filepath.Join(c.Dir, "etcd") }

// EtcdAddr is the etcd client address.
func (c *DemoConfig) EtcdAddr() string {
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(c.EtcdPort))
}

func (c *DemoConfig) gatewayDir() string { return filepath.Join(c.Dir, "gateway") }

// gatewayMarks tell the demo's gateway among processes: a `serve` whose command line names a
// file of its directory (its --config), not its port, which is in that file and not on the
// command line.
func (c *DemoConfig) gatewayMarks() []string        { return []string{"serve", c.gatewayDir()} }
func (c *DemoConfig) tabletDir(s TabletSpec) string { return filepath.Join(c.Dir, s.Alias()) }

func (c *DemoConfig) validate() error {
	if c.Dir == "" {
		return errors.New("demo: Dir is empty")
	}
	if c.User == "" || c.User == "root" {
		return errors.New("demo: User must be set and not root")
	}
	if c.DBAUser == "" {
		c.DBAUser, c.DBAPassword = DefaultDBAUser, DefaultDBAPassword
	}
	if c.ReplUser == "" {
		c.ReplUser, c.ReplPassword = DefaultReplUser, DefaultReplPassword
	}
	if c.FilteredUser == "" {
		c.FilteredUser, c.FilteredPassword = DefaultFilteredUser, DefaultFilteredPassword
	}
	for _, t := range c.Layout.Tablets {
		if t.MySQLPort == 0 {
			return fmt.Errorf("demo: tablet %s needs a fixed port", t.Alias())
		}
	}
	for _, ks := range c.Sharded {
		if err := ks.Validate(); err != nil {
			return fmt.Errorf("demo: %w", err)
		}
	}
	return c.Layout.Validate()
}

// LoadDemoConfig reads the state file of the cluster in dir; ok is false when there is none.
func LoadDemoConfig(dir string) (cfg DemoConfig, ok bool, err error) {
	b, err := os.ReadFile(filepath.Join(dir, stateFile))
	if errors.Is(err, os.ErrNotExist) {
		return cfg, false, nil
	}
	if err != nil {
		return cfg, false, err
	}
	if err := json.Unmarshal(b, &cfg); err != nil {
		return cfg, false, fmt.Errorf("read %s: %w", filepath.Join(dir, stateFile), err)
	}
	cfg.Dir = dir
	return cfg, true, nil
}

func (c *DemoConfig) save() error {
	b, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(c.Dir, stateFile), append(b, '\n'), 0o644)
}

// Up starts whatever part of the demo cluster is not running (all of it the first time) and
// prints progress and then how to connect to out. Running it again while up is harmless.
func Up(ctx context.Context, cfg DemoConfig, out io.Writer) error {
	if err := cfg.validate(); err != nil {
		return err
	}
	if err := CheckMariaDBInstalled(); err != nil {
		return err
	}
	if err := os.MkdirAll(cfg.Dir, 0o755); err != nil {
		return fmt.Errorf("create %s: %w", cfg.Dir, err)
	}
	unlock, err := lockDir(cfg.Dir)
	if err != nil {
		return err
	}
	defer unlock()
	if err := cfg.save(); err != nil {
		return err
	}
	p := progress{out}
	if err := upEtcd(ctx, &cfg, p); err != nil {
		return err
	}
	r := currentRoles(ctx, &cfg)
	if err := upMariaDBs(ctx, &cfg, r, p); err != nil {
		return err
	}
	if r.primary != "" {
		// Failover may have moved the primary: the servers that were restarted boot read-only
		// and the gateway's failover makes them what they must be.
		p.line("shard %s/%s is initialised (primary %s): replication is the gateway's failover's business", cfg.Layout.Keyspace, cfg.Layout.Shard, r.primary)
	} else {
		if err := upReplication(ctx, &cfg, p); err != nil {
			return err
		}
		primaryDSN := tabletDSN(&cfg, cfg.Layout.Primary(), "")
		if err := p.step(fmt.Sprintf("loading sample schema into %s on %s", cfg.Layout.DBName, cfg.Layout.Primary().Alias()), func() error {
			return LoadSampleSchema(ctx, primaryDSN, cfg.Layout.DBName)
		}); err != nil {
			return err
		}
	}
	if err := upTopo(ctx, &cfg, p); err != nil {
		return err
	}
	if err := upSharded(ctx, &cfg, p); err != nil { // demo_sharded.go
		return err
	}
	if err := upSchemas(ctx, &cfg, p); err != nil {
		return err
	}
	if err := upGateway(ctx, &cfg, p); err != nil {
		return err
	}
	printConnect(&cfg, currentRoles(ctx, &cfg), out)
	return nil
}

// progress prints "doing x ... ok" lines.
type progress struct{ w io.Writer }

func (p progress) step(what string, f func() error) error {
	fmt.Fprintf(p.w, "%s ... ", what)
	if err := f(); err != nil {
		fmt.Fprintln(p.w, "FAILED")
		return fmt.Errorf("%s: %w", what, err)
	}
	fmt.Fprintln(p.w, "ok")
	return nil
}

func (p progress) line(format string, args ...any) { fmt.Fprintf(p.w, format+"\n", args...) }

func upEtcd(ctx context.Context, cfg *DemoConfig, p progress) error {
	pidFile := filepath.Join(cfg.EtcdDir(), "etcd.pid")
	if pid := liveProcess(pidFile, cfg.EtcdDir()); pid != 0 {
		p.line("etcd already running on %s (pid %d)", cfg.EtcdAddr(), pid)
		return nil
	}
	return p.step("starting etcd on "+cfg.EtcdAddr(), func() error {
		if err := checkPortFree(cfg.EtcdPort, "--etcd-port"); err != nil {
			return err
		}
		if err := checkPortFree(cfg.EtcdPeerPort, "--etcd-peer-port"); err != nil {
			return err
		}
		d, err := spawnDetached(cfg.Executable, cfg.EtcdArgs, filepath.Join(cfg.EtcdDir(), "etcd.out"), pidFile)
		if err != nil {
			return err
		}
		wctx, cancel := context.WithTimeout(ctx, 60*time.Second)
		defer cancel()
		return d.waitTCP(wctx, cfg.EtcdAddr())
	})
}

func upMariaDBs(ctx context.Context, cfg *DemoConfig, r roles, p progress) error {
	for _, spec := range cfg.Layout.Tablets {
		mc := cfg.tabletServer(spec, cfg.unshardedDatabases())
		if err := upMariaDB(ctx, cfg, mc, spec.Alias(), r.typeOf(spec).String(), "--tablet-port-base", p); err != nil {
			return err
		}
	}
	return nil
}

// upMariaDB starts the demo server mc (what names it for the progress lines, portFlag the
// flag that chooses its port) unless it runs. A running one, maybe started by an older
// version, gets its accounts' grants made what mc says.
func upMariaDB(ctx context.Context, cfg *DemoConfig, mc MariaDBConfig, alias, what, portFlag string, p progress) error {
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(mc.Port))
	if pid := liveProcess(filepath.Join(mc.Dir, pidFileName), filepath.Join(mc.Dir, myCnfName)); pid != 0 {
		p.line("mariadbd %s (%s) already running on %s (pid %d)", alias, what, addr, pid)
		return p.step("granting the accounts of "+alias, func() error {
			m := &MariaDB{cfg: MariaDBConfig{Port: mc.Port, DBAUser: cfg.DBAUser, DBAPassword: cfg.DBAPassword}}
			return RegrantAccounts(ctx, m.DBADSN(""), mc)
		})
	}
	return p.step(fmt.Sprintf("starting mariadbd %s (%s) on %s", alias, what, addr), func() error {
		if err := checkPortFree(mc.Port, portFlag); err != nil {
			return err
		}
		_, err := StartMariaDB(ctx, mc)
		return err
	})
}

// tabletServer is the MariaDBConfig of the demo's server of spec, which holds the databases
// dbs (GRANT patterns): the gateway's data path gets no admin or replication rights, and
// rights on dbs only (LeastPrivilege).
func (c *DemoConfig) tabletServer(spec TabletSpec, dbs []string) MariaDBConfig {
	return MariaDBConfig{
		Dir: c.tabletDir(spec), Port: spec.MySQLPort, ServerID: spec.UID,
		User: c.User, Password: c.Password, DBAUser: c.DBAUser, DBAPassword: c.DBAPassword,
		FenceUser: true, Detached: true,
		LeastPrivilege: true, AppDatabases: dbs,
		ReplUser: c.ReplUser, ReplPassword: c.ReplPassword,
		FilteredUser: c.FilteredUser, FilteredPassword: c.FilteredPassword,
	}
}

// unshardedDatabases are the databases on the layout's servers, as GRANT patterns: the
// keyspace's (which also holds the sharded keyspaces' sequences) and, with Schemas, every
// schema keyspace's.
func (c *DemoConfig) unshardedDatabases() []string {
	dbs := []string{GrantDB(c.Layout.DBName)}
	if c.Schemas > 0 {
		dbs = append(dbs, SchemaDBPattern)
	}
	return dbs
}

func upReplication(ctx context.Context, cfg *DemoConfig, p progress) error {
	primary := cfg.Layout.Primary()
	// Every server boots read-only: the new cluster's primary is made writable here, once.
	if err := p.step("making "+primary.Alias()+" writable", func() error {
		db, err := sql.Open("mysql", tabletDBADSN(cfg, primary, ""))
		if err != nil {
			return err
		}
		defer db.Close()
		_, err = db.ExecContext(ctx, "SET GLOBAL read_only = OFF")
		return err
	}); err != nil {
		return err
	}
	for _, r := range cfg.Layout.Replicas() {
		err := p.step(fmt.Sprintf("replication %s <- %s", r.Alias(), primary.Alias()), func() error {
			rctx, cancel := context.WithTimeout(ctx, defaultReplicationTimeout)
			defer cancel()
			dsn := tabletDBADSN(cfg, r, "")
			if err := ChangePrimary(rctx, dsn, "127.0.0.1", primary.MySQLPort, cfg.ReplUser, cfg.ReplPassword); err != nil {
				return err
			}
			return WaitReplicating(rctx, dsn)
		})
		if err != nil {
			return err
		}
	}
	return nil
}

func upTopo(ctx context.Context, cfg *DemoConfig, p progress) error {
	return p.step(fmt.Sprintf("writing topology (cells %v, keyspace %s/%s, %d tablets) to etcd %s%s",
		cfg.Layout.Cells, cfg.Layout.Keyspace, cfg.Layout.Shard, len(cfg.Layout.Tablets), cfg.EtcdAddr(), cfg.Layout.GlobalRoot), func() error {
		tctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		ts, err := topo.Open(tctx, topo.ImplEtcd, cfg.EtcdAddr(), cfg.Layout.GlobalRoot)
		if err != nil {
			return err
		}
		defer ts.Close()
		var recs []*topodatapb.Tablet
		for _, spec := range cfg.Layout.Tablets {
			rec, err := cfg.Layout.TabletRecord(spec, spec.MySQLPort)
			if err != nil {
				return err
			}
			recs = append(recs, rec)
		}
		return WriteTopo(tctx, ts, cfg.Layout, cfg.EtcdAddr(), recs)
	})
}

// upSchemas adds the schema keyspaces: their databases on the primary (the replicas get them
// by replication) and their topo records.
func upSchemas(ctx context.Context, cfg *DemoConfig, p progress) error {
	if cfg.Schemas <= 0 {
		return nil
	}
	if cfg.Schemas > MaxSchemas {
		return fmt.Errorf("--schemas %d: at most %d", cfg.Schemas, MaxSchemas)
	}
	r := currentRoles(ctx, cfg)
	primary := cfg.Layout.Primary()
	var servers []SchemaServer
	for _, spec := range cfg.Layout.Tablets {
		typ := r.typeOf(spec)
		if typ == topodatapb.TabletType_PRIMARY {
			primary = spec
		}
		servers = append(servers, SchemaServer{Spec: spec, Port: spec.MySQLPort, Type: typ})
	}
	if err := p.step(fmt.Sprintf("creating databases vt_ks0001..%s on %s", SchemaDB(cfg.Schemas), primary.Alias()), func() error {
		return CreateSchemaDatabases(ctx, tabletDSN(cfg, primary, ""), 1, cfg.Schemas)
	}); err != nil {
		return err
	}
	return p.step(fmt.Sprintf("writing the topology of keyspaces ks0001..%s (%d tablets)", SchemaKeyspace(cfg.Schemas), cfg.Schemas*len(servers)), func() error {
		tctx, cancel := context.WithTimeout(ctx, 10*time.Minute)
		defer cancel()
		ts, err := topo.Open(tctx, topo.ImplEtcd, cfg.EtcdAddr(), cfg.Layout.GlobalRoot)
		if err != nil {
			return err
		}
		defer ts.Close()
		return WriteSchemaTopo(tctx, ts, servers, 1, cfg.Schemas, nil)
	})
}

func upGateway(ctx context.Context, cfg *DemoConfig, p progress) error {
	g := cfg.Gateway
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(g.MySQLPort))
	pidFile := filepath.Join(cfg.gatewayDir(), "gateway.pid")
	if pid := liveProcess(pidFile, cfg.gatewayMarks()...); pid != 0 {
		p.line("gateway already running on %s (pid %d)", addr, pid)
		return nil
	}
	return p.step(fmt.Sprintf("starting gateway in cell %s (mysql %s, grpc %d, http %d)", g.Cell, addr, g.GRPCPort, g.HTTPPort), func() error {
		for _, port := range []struct {
			n    int
			flag string
		}{{g.MySQLPort, "--mysql-port"}, {g.GRPCPort, "--grpc-port"}, {g.HTTPPort, "--http-port"}} {
			if err := checkPortFree(port.n, port.flag); err != nil {
				return err
			}
		}
		for path, content := range g.Files {
			if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
				return err
			}
			if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
				return err
			}
		}
		logPath := filepath.Join(cfg.gatewayDir(), "gateway.log")
		d, err := spawnDetached(cfg.Executable, g.Args, logPath, pidFile)
		if err != nil {
			return err
		}
		wctx, cancel := context.WithTimeout(ctx, 60*time.Second)
		defer cancel()
		if err := d.waitTCP(wctx, addr); err != nil {
			return err
		}
		return waitGatewayServes(wctx, d, cfg)
	})
}

// waitGatewayServes polls a query through the gateway until it answers: the gateway has read
// the topo and reached the primary.
func waitGatewayServes(ctx context.Context, d *detached, cfg *DemoConfig) error {
	db, err := sql.Open("mysql", gatewayDSN(cfg))
	if err != nil {
		return err
	}
	defer db.Close()
	t := time.NewTicker(200 * time.Millisecond)
	defer t.Stop()
	for {
		var n int
		err = db.QueryRowContext(ctx, "SELECT COUNT(*) FROM customer").Scan(&n)
		if err == nil {
			return nil
		}
		select {
		case <-d.done:
			return fmt.Errorf("exited during start-up; last lines of %s:\n%s", d.log, tailFile(d.log, 15))
		case <-ctx.Done():
			return fmt.Errorf("no answer through the gateway (last error: %v); see %s", err, d.log)
		case <-t.C:
		}
	}
}

func tabletDSN(cfg *DemoConfig, spec TabletSpec, db string) string {
	m := &MariaDB{cfg: MariaDBConfig{Port: spec.MySQLPort, User: cfg.User, Password: cfg.Password}}
	return m.DSN(db)
}

// tabletDBADSN is tabletDSN for the admin user, which alone may change read_only.
func tabletDBADSN(cfg *DemoConfig, spec TabletSpec, db string) string {
	m := &MariaDB{cfg: MariaDBConfig{Port: spec.MySQLPort, DBAUser: cfg.DBAUser, DBAPassword: cfg.DBAPassword}}
	return m.DBADSN(db)
}

func gatewayDSN(cfg *DemoConfig) string {
	m := &MariaDB{cfg: MariaDBConfig{Port: cfg.Gateway.MySQLPort, User: cfg.User, Password: cfg.Password}}
	return m.DSN(cfg.Layout.Keyspace)
}

func printConnect(cfg *DemoConfig, r roles, out io.Writer) {
	g := cfg.Gateway
	fmt.Fprintf(out, "\nvtdirect local cluster is up (files in %s).\n\n", cfg.Dir)
	fmt.Fprintf(out, "Connect through the gateway:\n  mariadb -h 127.0.0.1 -P %d -u %s -p%s %s\n", g.MySQLPort, cfg.User, cfg.Password, cfg.Layout.Keyspace)
	fmt.Fprintf(out, "  (targets: %[1]s, %[1]s@replica, %[1]s@rdonly, %[1]s:%[2]s@primary)\n", cfg.Layout.Keyspace, cfg.Layout.Shard)
	for _, ks := range cfg.Sharded {
		fmt.Fprintf(out, "Sharded keyspace %s (shards %s; vindexes and sequences: SHOW VSCHEMA VINDEXES):\n  mariadb -h 127.0.0.1 -P %d -u %s -p%s %s\n",
			ks.Name, shardNames(ks), g.MySQLPort, cfg.User, cfg.Password, ks.Name)
	}
	fmt.Fprintf(out, "Or straight to a MariaDB, to compare:\n")
	for _, t := range cfg.Layout.Tablets {
		fmt.Fprintf(out, "  %-10s %-8s mariadb -h 127.0.0.1 -P %d -u %s -p%s %s\n", t.Alias(), r.typeOf(t), t.MySQLPort, cfg.User, cfg.Password, cfg.Layout.DBName)
	}
	for _, s := range cfg.shardedSpecs() {
		fmt.Fprintf(out, "  %-10s %-8s mariadb -h 127.0.0.1 -P %d -u %s -p%s %s   (%s/%s)\n", s.spec.Alias(), s.spec.Type, s.spec.MySQLPort, cfg.User, cfg.Password, s.ks.DBName, s.ks.Name, s.shard.Name)
	}
	fmt.Fprintf(out, "gRPC (VStream) on 127.0.0.1:%d, metrics and status on http://127.0.0.1:%d/, topo etcd on %s\n", g.GRPCPort, g.HTTPPort, cfg.EtcdAddr())
	fmt.Fprintf(out, "Status: vtdirect local status --dir %s\n", cfg.Dir)
	fmt.Fprintf(out, "Failover: kill the primary (vtdirect local kill %s --dir %s) and watch http://127.0.0.1:%d/debug/failover?format=text\n",
		orLayout(r.primary, cfg.Layout.Primary().Alias()), cfg.Dir, g.HTTPPort)
	fmt.Fprintf(out, "Stop:   make down  (or: vtdirect local down --dir %s)\n", cfg.Dir)
}

func orLayout(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

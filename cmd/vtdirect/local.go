package main

import (
	"fmt"
	"io"
	"log"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"

	"github.com/go-sql-driver/mysql"
	"github.com/spf13/cobra"

	"github.com/vtdirect/vtdirect/local"
)

// localDirEnv overrides the default cluster directory of `vtdirect local`.
const localDirEnv = "VTDIRECT_LOCAL_DIR"

// localFlags are the flags of `vtdirect local ...`.
type localFlags struct {
	dir            string
	user, password string
	tabletPortBase int
	etcdPort       int
	etcdPeerPort   int
	cell           string
	mysqlPort      int
	grpcPort       int
	httpPort       int
	schemas        int
	purge          bool
}

func newLocalCmd() *cobra.Command {
	f := &localFlags{}
	cmd := &cobra.Command{
		Use:   "local",
		Short: "Run a demo cluster on this machine: MariaDB tablets, an etcd topo and the gateway",
		Long: `local up starts a demo cluster whose processes keep running after the command returns:
an embedded etcd topo, cells zone1 and zone2 (alias region1), keyspace commerce (shard 0) with
a PRIMARY zone1-100, a REPLICA zone1-101, a REPLICA zone2-200 and an RDONLY zone2-201, each a
mariadbd on 127.0.0.1:17000+uid, and the gateway on 127.0.0.1:15306 (MySQL), 15991 (gRPC) and
15000 (HTTP). User app, password app everywhere. local down stops it; local status shows it.`,
	}
	cmd.PersistentFlags().StringVar(&f.dir, "dir", "", "cluster directory (default $"+localDirEnv+", else ~/.vtdirect/local, else a temp dir)")
	cmd.AddCommand(newLocalUpCmd(f), newLocalDownCmd(f), newLocalStatusCmd(f), newLocalKillCmd(f), newLocalEtcdCmd(f))
	return cmd
}

func newLocalUpCmd(f *localFlags) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "up",
		Short: "Start the demo cluster (or the parts of it that are not running)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			quietMySQLDriver()
			dir, err := resolveLocalDir(f.dir, cmd)
			if err != nil {
				return err
			}
			exe, err := os.Executable()
			if err != nil {
				return fmt.Errorf("find the vtdirect binary: %w", err)
			}
			cfg := demoConfig(f, dir, exe)
			return local.Up(cmd.Context(), cfg, cmd.OutOrStdout())
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&f.user, "user", "app", "user (and --password) created on every MariaDB and accepted by the gateway")
	fs.StringVar(&f.password, "password", "app", "password of --user")
	fs.IntVar(&f.tabletPortBase, "tablet-port-base", local.DemoPortBase, "each MariaDB listens on this + tablet uid")
	fs.IntVar(&f.etcdPort, "etcd-port", 2379, "client port of the embedded etcd")
	fs.IntVar(&f.etcdPeerPort, "etcd-peer-port", 2380, "peer port of the embedded etcd")
	fs.StringVar(&f.cell, "cell", "zone1", "the gateway's cell")
	fs.IntVar(&f.mysqlPort, "mysql-port", 15306, "the gateway's MySQL port")
	fs.IntVar(&f.grpcPort, "grpc-port", 15991, "the gateway's gRPC port")
	fs.IntVar(&f.httpPort, "http-port", 15000, "the gateway's HTTP port")
	fs.IntVar(&f.schemas, "schemas", 0, fmt.Sprintf("also serve N small keyspaces ks0001..ksN (databases vt_ks0001..., a tablet of each on every MariaDB; at most %d); 0 keeps those of the last up", local.MaxSchemas))
	return cmd
}

func newLocalDownCmd(f *localFlags) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "down",
		Short: "Stop every process of the demo cluster",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			quietMySQLDriver()
			dir, err := resolveLocalDir(f.dir, cmd)
			if err != nil {
				return err
			}
			return local.Down(cmd.Context(), dir, f.purge, cmd.OutOrStdout())
		},
	}
	cmd.Flags().BoolVar(&f.purge, "purge", false, "also remove the cluster directory (all data)")
	return cmd
}

func newLocalStatusCmd(f *localFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "status",
		Short: "Show the processes of the demo cluster and the replication state of the replicas",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			quietMySQLDriver()
			dir, err := resolveLocalDir(f.dir, cmd)
			if err != nil {
				return err
			}
			return local.Status(cmd.Context(), dir, cmd.OutOrStdout())
		},
	}
}

func newLocalKillCmd(f *localFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "kill ALIAS",
		Short: "Crash one tablet's MariaDB with SIGKILL (e.g. the primary, zone1-100) to watch the gateway fail over",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			quietMySQLDriver()
			dir, err := resolveLocalDir(f.dir, cmd)
			if err != nil {
				return err
			}
			return local.Kill(cmd.Context(), dir, args[0], cmd.OutOrStdout())
		},
	}
}

// newLocalEtcdCmd is the hidden command that `local up` runs detached: the embedded etcd in a
// process of its own. Here --dir is the etcd directory.
func newLocalEtcdCmd(f *localFlags) *cobra.Command {
	var port, peerPort int
	cmd := &cobra.Command{
		Use:    "etcd",
		Short:  "Run the embedded etcd of the demo cluster (started by local up)",
		Hidden: true,
		Args:   cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if f.dir == "" {
				return fmt.Errorf("--dir is required")
			}
			log := slog.New(slog.NewTextHandler(os.Stderr, nil))
			return local.RunEtcd(cmd.Context(), f.dir, port, peerPort, log)
		},
	}
	cmd.Flags().IntVar(&port, "port", 2379, "client port")
	cmd.Flags().IntVar(&peerPort, "peer-port", 2380, "peer port")
	return cmd
}

// demoConfig turns the flags into the demo's configuration.
func demoConfig(f *localFlags, dir, exe string) local.DemoConfig {
	layout := local.DemoLayout()
	for i := range layout.Tablets {
		layout.Tablets[i].MySQLPort = f.tabletPortBase + int(layout.Tablets[i].UID)
	}
	cfg := local.DemoConfig{
		Dir:              dir,
		Layout:           layout,
		User:             f.user,
		Password:         f.password,
		DBAUser:          local.DefaultDBAUser,
		DBAPassword:      local.DefaultDBAPassword,
		ReplUser:         local.DefaultReplUser,
		ReplPassword:     local.DefaultReplPassword,
		FilteredUser:     local.DefaultFilteredUser,
		FilteredPassword: local.DefaultFilteredPassword,
		EtcdPort:         f.etcdPort,
		EtcdPeerPort:     f.etcdPeerPort,
		Gateway: local.DemoGateway{
			Cell: f.cell, MySQLPort: f.mysqlPort, GRPCPort: f.grpcPort, HTTPPort: f.httpPort,
		},
		Sharded:    []local.ShardedKeyspace{local.CustomerKeyspace()},
		Executable: exe,
		Schemas:    f.schemas,
	}
	if f.schemas == 0 {
		if old, ok, err := local.LoadDemoConfig(dir); err == nil && ok {
			cfg.Schemas = old.Schemas // `local up` again keeps the schemas
		}
	}
	for _, ks := range cfg.Sharded {
		for _, sh := range ks.Shards {
			for i := range sh.Tablets {
				sh.Tablets[i].MySQLPort = f.tabletPortBase + int(sh.Tablets[i].UID)
			}
		}
	}
	cfg.EtcdArgs = []string{"local", "etcd", "--dir", cfg.EtcdDir(),
		"--port", strconv.Itoa(cfg.EtcdPort), "--peer-port", strconv.Itoa(cfg.EtcdPeerPort)}
	cfg.Gateway.Args, cfg.Gateway.Files = gatewayConfig(&cfg)
	return cfg
}

// gatewayConfig is the demo gateway's command line and the files it reads: its configuration
// file and the password files the configuration names (passwords are never flags). The keys
// are those of package config: this is the one place to keep in step with them.
func gatewayConfig(c *local.DemoConfig) ([]string, map[string]string) {
	dir := filepath.Join(c.Dir, "gateway")
	file := filepath.Join(dir, "vtdirect.yaml")
	failoverKeyspaces := ""
	if c.Schemas > 0 {
		// Failover moves commerce's tablet records; the schema keyspaces on the same servers
		// are not yet moved with them (see README: Many schemas on one server).
		failoverKeyspaces = "\n  keyspaces: [" + c.Layout.Keyspace + "]"
	}
	yaml := fmt.Sprintf(`# The demo gateway's configuration, written by vtdirect local up.
gateway:
  cell: %s
  topo_implementation: etcd2
  topo_address: %s
  topo_root: %s
  mysql_port: %d
  grpc_port: %d
  http_port: %d
users:
  %s:
    password_file: secrets/app.password
global:
  user: %s                # the data path: DML and DDL on the keyspaces' databases, nothing on *.*
  password_file: secrets/app.password
  filtered_user: %s       # VStream: REPLICATION SLAVE, BINLOG MONITOR, SLAVE MONITOR; SELECT on the keyspaces' databases
  filtered_password_file: secrets/filtered.password
failover:                 # on, with semi_sync (the keyspace's durability policy)
  enabled: true
  dba_user: %s            # also the control connection: health probe, KILL QUERY
  dba_password_file: secrets/dba.password
  repl_user: %s           # replicas' MASTER_USER: REPLICATION SLAVE only
  repl_password_file: secrets/repl.password
  replica_net_timeout: %ds%s
buffer:
  enabled: true
`, c.Gateway.Cell, c.EtcdAddr(), c.Layout.GlobalRoot, c.Gateway.MySQLPort, c.Gateway.GRPCPort, c.Gateway.HTTPPort,
		c.User, c.User, c.FilteredUser, c.DBAUser, c.ReplUser, local.SlaveNetTimeout, failoverKeyspaces)
	files := map[string]string{
		file: yaml,
		filepath.Join(dir, "secrets", "app.password"):      c.Password + "\n",
		filepath.Join(dir, "secrets", "dba.password"):      c.DBAPassword + "\n",
		filepath.Join(dir, "secrets", "filtered.password"): c.FilteredPassword + "\n",
		filepath.Join(dir, "secrets", "repl.password"):     c.ReplPassword + "\n",
	}
	return []string{"serve", "--config", file}, files
}

// resolveLocalDir picks the cluster directory: --dir, else $VTDIRECT_LOCAL_DIR, else
// ~/.vtdirect/local when the home directory is writable, else <tmp>/vtdirect-local. It says
// which on stderr when it was not given explicitly.
func resolveLocalDir(flagDir string, cmd *cobra.Command) (string, error) {
	dir, why := flagDir, "--dir"
	switch {
	case dir != "":
	case os.Getenv(localDirEnv) != "":
		dir, why = os.Getenv(localDirEnv), "$"+localDirEnv
	default:
		dir, why = filepath.Join(os.TempDir(), "vtdirect-local"), "no writable home directory"
		if home, err := os.UserHomeDir(); err == nil && home != "" {
			parent := filepath.Join(home, ".vtdirect")
			if os.MkdirAll(parent, 0o755) == nil && writable(parent) {
				dir, why = filepath.Join(parent, "local"), "default"
			}
		}
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", fmt.Errorf("cluster directory %s: %w", dir, err)
	}
	if why != "--dir" {
		fmt.Fprintf(cmd.OutOrStdout(), "cluster directory: %s (%s; change it with --dir or $%s)\n", abs, why, localDirEnv)
	}
	return abs, nil
}

// quietMySQLDriver silences go-sql-driver/mysql's own logging (it reports connections reset
// while a starting mariadbd is probed): the local commands print their own progress.
func quietMySQLDriver() { _ = mysql.SetLogger(log.New(io.Discard, "", 0)) }

// writable reports whether a file can be created in dir.
func writable(dir string) bool {
	f, err := os.CreateTemp(dir, ".probe-")
	if err != nil {
		return false
	}
	name := f.Name()
	f.Close()
	os.Remove(name)
	return true
}

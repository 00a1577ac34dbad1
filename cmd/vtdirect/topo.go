package main

// `vtdirect topo ...`: edit and show the topology (cells, cell aliases, keyspaces, shards,
// tablets) on any topo backend. Each subcommand is one call into topo.Server; the checks and
// the error messages (what is wrong, what to run next) live there.

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"github.com/vtdirect/vtdirect/failover"
	"github.com/vtdirect/vtdirect/topo"
	"github.com/vtdirect/vtdirect/topo/consultopo"
	topodatapb "vitess.io/vitess/go/vt/proto/topodata"
)

// topoFlags are the flags that say where the global topo is; serve.go reuses them.
type topoFlags struct {
	impl string // --topo-implementation
	addr string // --topo-addr
	root string // --topo-root
	// --topo-etcd-tls-ca, --topo-etcd-tls-cert, --topo-etcd-tls-key (Vitess's names)
	etcdCA, etcdCert, etcdKey string
}

// addTopoFlags defines --topo-implementation, --topo-addr and --topo-root on fs.
func addTopoFlags(fs *pflag.FlagSet) *topoFlags {
	f := &topoFlags{}
	fs.StringVar(&f.impl, "topo-implementation", topo.ImplEtcd, "topo backend: etcd2 or consul")
	fs.StringVar(&f.addr, "topo-addr", "127.0.0.1:2379", "address of the global topo server: etcd host:port[,host:port...], or one Consul agent's HTTP host:port (e.g. 127.0.0.1:8500)")
	fs.StringVar(&f.root, "topo-root", "/vitess/global", "root path of the global topo (Consul: Vitess writes it without the leading '/', e.g. vitess/global; both name the same keys)")
	fs.StringVar(&f.etcdCA, "topo-etcd-tls-ca", "", "CA (PEM) that etcd's certificates are verified with; etcd is then reached over TLS (Consul: set CONSUL_HTTP_SSL, CONSUL_CACERT...)")
	fs.StringVar(&f.etcdCert, "topo-etcd-tls-cert", "", "client certificate (PEM) presented to etcd")
	fs.StringVar(&f.etcdKey, "topo-etcd-tls-key", "", "key (PEM) for --topo-etcd-tls-cert")
	return f
}

// open connects to the global topo.
func (f *topoFlags) open(ctx context.Context) (*topo.Server, error) {
	if f.impl == consultopo.Impl {
		if f.etcdCA != "" || f.etcdCert != "" {
			return nil, errors.New("--topo-etcd-tls-* are for etcd; Consul's client takes its TLS from CONSUL_HTTP_SSL, CONSUL_CACERT, CONSUL_CLIENT_CERT and CONSUL_CLIENT_KEY")
		}
		return consultopo.Open(ctx, f.addr, f.root)
	}
	var opts []topo.Option
	if f.etcdCA != "" || f.etcdCert != "" || f.etcdKey != "" {
		c := &tls.Config{MinVersion: tls.VersionTLS12}
		if f.etcdCA != "" {
			pool, err := loadPool(f.etcdCA)
			if err != nil {
				return nil, fmt.Errorf("--topo-etcd-tls-ca: %w", err)
			}
			c.RootCAs = pool
		}
		if f.etcdCert != "" || f.etcdKey != "" {
			cert, err := tls.LoadX509KeyPair(f.etcdCert, f.etcdKey)
			if err != nil {
				return nil, fmt.Errorf("--topo-etcd-tls-cert/--topo-etcd-tls-key: %w", err)
			}
			c.Certificates = []tls.Certificate{cert}
		}
		opts = append(opts, topo.WithTLS(c))
	}
	return topo.Open(ctx, f.impl, f.addr, f.root, opts...)
}

func newTopoCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "topo",
		Short: "Edit and show the topology: cells, cell aliases, keyspaces, shards, tablets",
		Long: `Edit and show the topology kept in the topo server (etcd), in Vitess's own format, so Vitess's
tools see the same records. Build it top-down: cells, cell aliases, keyspaces, shards, tablets;
remove it bottom-up.

  vtdirect topo add-cell zone1
  vtdirect topo add-keyspace commerce
  vtdirect topo add-shard commerce/0
  vtdirect topo add-tablet zone1-100 --keyspace commerce --shard 0 --type primary --mysql-port 17100
  vtdirect topo apply-vschema customer customer_vschema.json
  vtdirect topo show`,
	}
	tf := addTopoFlags(cmd.PersistentFlags())
	cmd.AddCommand(
		addCellCmd(tf), removeCellCmd(tf),
		addCellAliasCmd(tf), removeCellAliasCmd(tf),
		addKeyspaceCmd(tf), removeKeyspaceCmd(tf),
		addShardCmd(tf), removeShardCmd(tf),
		addTabletCmd(tf), removeTabletCmd(tf),
		setPrimaryCmd(tf), showCmd(tf),
		applyVSchemaCmd(tf), getVSchemaCmd(tf),
	)
	return cmd
}

// withTopo opens the topo, runs fn and closes it.
func withTopo(cmd *cobra.Command, tf *topoFlags, fn func(ctx context.Context, ts *topo.Server, out io.Writer) error) error {
	ctx := cmd.Context()
	if ctx == nil {
		ctx = context.Background()
	}
	ts, err := tf.open(ctx)
	if err != nil {
		return err
	}
	defer ts.Close()
	return fn(ctx, ts, cmd.OutOrStdout())
}

func addCellCmd(tf *topoFlags) *cobra.Command {
	var serverAddr, root string
	cmd := &cobra.Command{
		Use:   "add-cell NAME",
		Short: "Register a cell and where its topo lives",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			name := args[0]
			ci := &topodatapb.CellInfo{ServerAddress: serverAddr, Root: root}
			if ci.ServerAddress == "" {
				ci.ServerAddress = tf.addr
			}
			if ci.Root == "" {
				// Vitess's own tools write Consul roots without the leading '/'.
				ci.Root = "/vitess/" + name
				if tf.impl == consultopo.Impl {
					ci.Root = "vitess/" + name
				}
			}
			return withTopo(cmd, tf, func(ctx context.Context, ts *topo.Server, out io.Writer) error {
				if err := ts.CreateCellInfo(ctx, name, ci); err != nil {
					return err
				}
				_, err := fmt.Fprintf(out, "added cell %s (server %s, root %s)\n", name, ci.ServerAddress, ci.Root)
				return err
			})
		},
	}
	cmd.Flags().StringVar(&serverAddr, "server-address", "", "topo server of the cell (default: --topo-addr)")
	cmd.Flags().StringVar(&root, "root", "", "root path of the cell in its topo server (default: /vitess/NAME)")
	return cmd
}

func removeCellCmd(tf *topoFlags) *cobra.Command {
	var force bool
	cmd := &cobra.Command{
		Use:   "remove-cell NAME",
		Short: "Remove a cell (refused while it has tablets or is in a cell alias, unless --force)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withTopo(cmd, tf, func(ctx context.Context, ts *topo.Server, out io.Writer) error {
				if err := ts.DeleteCellInfo(ctx, args[0], force); err != nil {
					return err
				}
				_, err := fmt.Fprintf(out, "removed cell %s\n", args[0])
				return err
			})
		},
	}
	cmd.Flags().BoolVar(&force, "force", false, "remove even if the cell still has tablets or is in a cell alias")
	return cmd
}

func addCellAliasCmd(tf *topoFlags) *cobra.Command {
	var cells []string
	cmd := &cobra.Command{
		Use:   "add-cell-alias NAME --cells CELL,CELL",
		Short: "Name a group of existing cells",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withTopo(cmd, tf, func(ctx context.Context, ts *topo.Server, out io.Writer) error {
				if err := ts.CreateCellsAlias(ctx, args[0], &topodatapb.CellsAlias{Cells: cells}); err != nil {
					return err
				}
				_, err := fmt.Fprintf(out, "added cell alias %s: %s\n", args[0], strings.Join(cells, ", "))
				return err
			})
		},
	}
	cmd.Flags().StringSliceVar(&cells, "cells", nil, "cells of the alias, comma-separated")
	return cmd
}

func removeCellAliasCmd(tf *topoFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "remove-cell-alias NAME",
		Short: "Remove a cell alias (its cells stay)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withTopo(cmd, tf, func(ctx context.Context, ts *topo.Server, out io.Writer) error {
				if err := ts.DeleteCellsAlias(ctx, args[0]); err != nil {
					return err
				}
				_, err := fmt.Fprintf(out, "removed cell alias %s\n", args[0])
				return err
			})
		},
	}
}

func addKeyspaceCmd(tf *topoFlags) *cobra.Command {
	var durability string
	cmd := &cobra.Command{
		Use:   "add-keyspace NAME",
		Short: "Add a keyspace (with an empty VSchema)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withTopo(cmd, tf, func(ctx context.Context, ts *topo.Server, out io.Writer) error {
				if _, err := failover.PolicyByName(durability); err != nil {
					return fmt.Errorf("--durability-policy: %w", err)
				}
				if err := ts.CreateKeyspace(ctx, args[0], &topodatapb.Keyspace{DurabilityPolicy: durability}); err != nil {
					return err
				}
				_, err := fmt.Fprintf(out, "added keyspace %s; next: vtdirect topo add-shard %s/0\n", args[0], args[0])
				return err
			})
		},
	}
	cmd.Flags().StringVar(&durability, "durability-policy", "none", "the keyspace's durability policy, as Vitess's: none, semi_sync or cross_cell (failover follows it)")
	return cmd
}

func removeKeyspaceCmd(tf *topoFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "remove-keyspace NAME",
		Short: "Remove a keyspace that has no shards left",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withTopo(cmd, tf, func(ctx context.Context, ts *topo.Server, out io.Writer) error {
				if err := ts.DeleteKeyspace(ctx, args[0]); err != nil {
					return err
				}
				_, err := fmt.Fprintf(out, "removed keyspace %s\n", args[0])
				return err
			})
		},
	}
}

func addShardCmd(tf *topoFlags) *cobra.Command {
	return shardCmd(tf, "add-shard", "Add a shard to a keyspace (0 when unsharded; -80, 80- ... when sharded)", "added",
		func(ctx context.Context, ts *topo.Server, ks, shard string) error {
			return ts.CreateShard(ctx, ks, shard)
		})
}

func removeShardCmd(tf *topoFlags) *cobra.Command {
	return shardCmd(tf, "remove-shard", "Remove a shard that has no tablets left", "removed",
		func(ctx context.Context, ts *topo.Server, ks, shard string) error {
			return ts.DeleteShard(ctx, ks, shard)
		})
}

// shardCmd is a command NAME KEYSPACE/SHARD that runs do on the shard and says "<done> shard".
func shardCmd(tf *topoFlags, name, short, done string, do func(ctx context.Context, ts *topo.Server, ks, shard string) error) *cobra.Command {
	return &cobra.Command{
		Use:   name + " KEYSPACE/SHARD",
		Short: short,
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ks, shard, err := topo.ParseKeyspaceShard(args[0])
			if err != nil {
				return err
			}
			return withTopo(cmd, tf, func(ctx context.Context, ts *topo.Server, out io.Writer) error {
				if err := do(ctx, ts, ks, shard); err != nil {
					return err
				}
				_, err := fmt.Fprintf(out, "%s shard %s/%s\n", done, ks, shard)
				return err
			})
		},
	}
}

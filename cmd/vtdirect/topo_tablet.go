package main

// `vtdirect topo add-tablet | remove-tablet | set-primary | show`.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/vtdirect/vtdirect/topo"
	topodatapb "vitess.io/vitess/go/vt/proto/topodata"
	vttimepb "vitess.io/vitess/go/vt/proto/vttime"
)

// tabletTypes are the types a vtdirect tablet can be given.
var tabletTypes = map[string]topodatapb.TabletType{
	"primary": topodatapb.TabletType_PRIMARY,
	"replica": topodatapb.TabletType_REPLICA,
	"rdonly":  topodatapb.TabletType_RDONLY,
}

func parseTabletType(s string) (topodatapb.TabletType, error) {
	if t, ok := tabletTypes[strings.ToLower(s)]; ok {
		return t, nil
	}
	return 0, fmt.Errorf("--type %q: want primary, replica or rdonly", s)
}

func addTabletCmd(tf *topoFlags) *cobra.Command {
	var ks, shard, typ, host, dbName string
	var port int32
	cmd := &cobra.Command{
		Use:   "add-tablet ALIAS --keyspace KS --shard SHARD --type TYPE --mysql-port PORT",
		Short: "Add a tablet: one MySQL server holding a shard (ALIAS is <cell>-<uid>, e.g. zone1-100)",
		Long: `Add a tablet: one MySQL server holding one shard of one keyspace. The cell and the shard must
exist. A primary tablet becomes the shard's primary if the shard has none; a shard that already
has one refuses a second (add it as a replica, then use set-primary).`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			alias, err := topo.ParseTabletAlias(args[0])
			if err != nil {
				return err
			}
			tt, err := parseTabletType(typ)
			if err != nil {
				return err
			}
			if ks == "" || shard == "" {
				return errors.New("add-tablet needs --keyspace and --shard")
			}
			if port <= 0 || port > 65535 {
				return fmt.Errorf("--mysql-port %d: give the port the tablet's MySQL listens on", port)
			}
			name, kr, err := topo.ShardKeyRange(shard)
			if err != nil {
				return err
			}
			t := &topodatapb.Tablet{
				Alias: alias, Hostname: host, MysqlHostname: host, MysqlPort: port,
				Keyspace: ks, Shard: name, KeyRange: kr, Type: tt, DbNameOverride: dbName,
			}
			return withTopo(cmd, tf, func(ctx context.Context, ts *topo.Server, out io.Writer) error {
				return addTablet(ctx, ts, t, time.Now(), out)
			})
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&ks, "keyspace", "", "keyspace of the tablet")
	fs.StringVar(&shard, "shard", "", "shard of the tablet (e.g. 0, -80)")
	fs.StringVar(&typ, "type", "replica", "tablet type: primary, replica or rdonly")
	fs.StringVar(&host, "mysql-host", "127.0.0.1", "host of the tablet's MySQL server")
	fs.Int32Var(&port, "mysql-port", 0, "port of the tablet's MySQL server")
	fs.StringVar(&dbName, "db-name", "", "database name on the MySQL server (default: vt_KEYSPACE, as in Vitess)")
	return cmd
}

// addTablet creates the tablet record; a primary also becomes the shard's primary, unless the
// shard already has a live one.
func addTablet(ctx context.Context, ts *topo.Server, t *topodatapb.Tablet, now time.Time, out io.Writer) error {
	aliasStr := topo.TabletAliasString(t.Alias)
	if t.Type == topodatapb.TabletType_PRIMARY {
		si, err := ts.GetShard(ctx, t.Keyspace, t.Shard)
		if err != nil {
			return err
		}
		if p := si.PrimaryAlias; p != nil && topo.TabletAliasString(p) != aliasStr {
			if _, err := ts.GetTablet(ctx, p); err == nil {
				return fmt.Errorf("shard %s/%s already has primary %s; add %s with --type replica, then run `vtdirect topo set-primary %s/%s %s`",
					t.Keyspace, t.Shard, topo.TabletAliasString(p), aliasStr, t.Keyspace, t.Shard, aliasStr)
			}
		}
		t.PrimaryTermStartTime = &vttimepb.Time{Seconds: now.Unix(), Nanoseconds: int32(now.Nanosecond())}
	}
	if err := ts.CreateTablet(ctx, t); err != nil {
		return err
	}
	if t.Type == topodatapb.TabletType_PRIMARY {
		if err := ts.SetShardPrimary(ctx, t.Keyspace, t.Shard, t.Alias, now); err != nil {
			return fmt.Errorf("tablet %s added, but recording it as the primary of %s/%s failed (run `vtdirect topo set-primary %s/%s %s`): %w",
				aliasStr, t.Keyspace, t.Shard, t.Keyspace, t.Shard, aliasStr, err)
		}
	}
	_, err := fmt.Fprintf(out, "added tablet %s (%s, %s/%s, %s:%d)\n", aliasStr, strings.ToLower(t.Type.String()), t.Keyspace, t.Shard, t.MysqlHostname, t.MysqlPort)
	return err
}

func removeTabletCmd(tf *topoFlags) *cobra.Command {
	var allowPrimary bool
	cmd := &cobra.Command{
		Use:   "remove-tablet ALIAS",
		Short: "Remove a tablet (a shard's primary only with --allow-primary)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			alias, err := topo.ParseTabletAlias(args[0])
			if err != nil {
				return err
			}
			return withTopo(cmd, tf, func(ctx context.Context, ts *topo.Server, out io.Writer) error {
				return removeTablet(ctx, ts, alias, allowPrimary, out)
			})
		},
	}
	cmd.Flags().BoolVar(&allowPrimary, "allow-primary", false, "also remove a tablet that is its shard's primary (the shard is left without one)")
	return cmd
}

func removeTablet(ctx context.Context, ts *topo.Server, alias *topodatapb.TabletAlias, allowPrimary bool, out io.Writer) error {
	aliasStr := topo.TabletAliasString(alias)
	t, err := ts.GetTablet(ctx, alias)
	if err != nil && !errors.Is(err, topo.ErrCorrupt) {
		return err
	}
	if t != nil {
		si, err := ts.GetShard(ctx, t.Keyspace, t.Shard)
		if err != nil && !errors.Is(err, topo.ErrNoNode) {
			return err
		}
		if si != nil && si.PrimaryAlias != nil && topo.TabletAliasString(si.PrimaryAlias) == aliasStr {
			if !allowPrimary {
				return fmt.Errorf("tablet %s is the primary of %s/%s; run `vtdirect topo set-primary %s/%s OTHER_ALIAS` first, or pass --allow-primary",
					aliasStr, t.Keyspace, t.Shard, t.Keyspace, t.Shard)
			}
			if _, err := ts.UpdateShardFields(ctx, t.Keyspace, t.Shard, func(s *topodatapb.Shard) error {
				s.PrimaryAlias, s.PrimaryTermStartTime = nil, nil
				return nil
			}); err != nil {
				return err
			}
		}
	}
	if err := ts.DeleteTablet(ctx, alias); err != nil {
		return err
	}
	_, err = fmt.Fprintf(out, "removed tablet %s\n", aliasStr)
	return err
}

func setPrimaryCmd(tf *topoFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "set-primary KEYSPACE/SHARD ALIAS",
		Short: "Record ALIAS as the shard's primary (topo only: MySQL replication is not changed)",
		Long: `Record ALIAS as the shard's primary: the tablet becomes PRIMARY, the previous primary becomes
REPLICA, and the shard record names the new primary. This only changes the topology: point
MySQL replication at the new primary yourself (and make it writable).`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			ks, shard, err := topo.ParseKeyspaceShard(args[0])
			if err != nil {
				return err
			}
			alias, err := topo.ParseTabletAlias(args[1])
			if err != nil {
				return err
			}
			return withTopo(cmd, tf, func(ctx context.Context, ts *topo.Server, out io.Writer) error {
				return setPrimary(ctx, ts, ks, shard, alias, time.Now(), out)
			})
		},
	}
}

// setPrimary demotes the old primary before promoting the new one, so that the topo never
// shows two primaries (a moment with none only delays writes).
func setPrimary(ctx context.Context, ts *topo.Server, ks, shard string, alias *topodatapb.TabletAlias, now time.Time, out io.Writer) error {
	aliasStr := topo.TabletAliasString(alias)
	t, err := ts.GetTablet(ctx, alias)
	if err != nil {
		return err
	}
	if t.Keyspace != ks || t.Shard != shard {
		return fmt.Errorf("tablet %s belongs to %s/%s, not %s/%s", aliasStr, t.Keyspace, t.Shard, ks, shard)
	}
	si, err := ts.GetShard(ctx, ks, shard)
	if err != nil {
		return err
	}
	if old := si.PrimaryAlias; old != nil && topo.TabletAliasString(old) != aliasStr {
		_, err := ts.UpdateTabletFields(ctx, old, func(t *topodatapb.Tablet) error {
			t.Type = topodatapb.TabletType_REPLICA
			t.PrimaryTermStartTime = nil
			return nil
		})
		if err != nil && !errors.Is(err, topo.ErrNoNode) {
			return fmt.Errorf("demote old primary %s: %w", topo.TabletAliasString(old), err)
		}
	}
	term := &vttimepb.Time{Seconds: now.Unix(), Nanoseconds: int32(now.Nanosecond())}
	if _, err := ts.UpdateTabletFields(ctx, alias, func(t *topodatapb.Tablet) error {
		t.Type = topodatapb.TabletType_PRIMARY
		t.PrimaryTermStartTime = term
		return nil
	}); err != nil {
		return err
	}
	if err := ts.SetShardPrimary(ctx, ks, shard, alias, now); err != nil {
		return err
	}
	_, err = fmt.Fprintf(out, "%s is now the primary of %s/%s in the topo; MySQL replication was not changed\n", aliasStr, ks, shard)
	return err
}

func showCmd(tf *topoFlags) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "show",
		Short: "Show the topology as a tree (or --json)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return withTopo(cmd, tf, func(ctx context.Context, ts *topo.Server, out io.Writer) error {
				snap, err := ts.Snapshot(ctx)
				if err != nil {
					return err
				}
				if asJSON {
					b, err := json.MarshalIndent(snap, "", "  ")
					if err != nil {
						return err
					}
					if _, err := fmt.Fprintf(out, "%s\n", b); err != nil {
						return err
					}
				} else if err := snap.WriteTree(out); err != nil {
					return err
				}
				if len(snap.Problems) > 0 {
					return fmt.Errorf("%d record(s) could not be read (listed under problems); fix or remove them", len(snap.Problems))
				}
				return nil
			})
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON (records in protojson form)")
	return cmd
}

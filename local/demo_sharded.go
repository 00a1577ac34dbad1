package local

// The demo's sharded keyspaces (DemoConfig.Sharded, `make demo`'s customer): detached
// mariadbd processes like the layout's tablets, their replication, schema and rows, and
// their topo records and vschemas, written before the gateway starts.

import (
	"context"
	"database/sql"
	"fmt"
	"net"
	"path/filepath"
	"strconv"
	"time"

	topodatapb "vitess.io/vitess/go/vt/proto/topodata"

	"github.com/vtdirect/vtdirect/topo"
)

// shardedSpecs lists the demo's sharded tablets with their keyspace and shard.
func (c *DemoConfig) shardedSpecs() []shardedSpec {
	var out []shardedSpec
	for _, ks := range c.Sharded {
		for _, sh := range ks.Shards {
			for _, t := range sh.Tablets {
				out = append(out, shardedSpec{ks: ks, shard: sh, spec: t})
			}
		}
	}
	return out
}

type shardedSpec struct {
	ks    ShardedKeyspace
	shard ShardSpec
	spec  TabletSpec
}

// shardedProcesses are the demo processes of the sharded keyspaces' tablets.
func (c *DemoConfig) shardedProcesses() []demoProcess {
	var ps []demoProcess
	for _, s := range c.shardedSpecs() {
		dir := c.tabletDir(s.spec)
		ps = append(ps, demoProcess{
			name: s.spec.Alias(), role: s.spec.Type.String() + " " + s.ks.Name + "/" + s.shard.Name,
			addr:    net.JoinHostPort("127.0.0.1", strconv.Itoa(s.spec.MySQLPort)),
			pidFile: filepath.Join(dir, pidFileName), marks: []string{filepath.Join(dir, myCnfName)},
			replica: s.spec.Type != topodatapb.TabletType_PRIMARY,
		})
	}
	return ps
}

// upSharded starts what is not running of the sharded keyspaces and, for a shard not yet
// initialised (no primary in the topo), sets up its replication and loads its schema and
// rows. It writes their topo records and vschemas (and the sequences of the unsharded
// keyspace). Running it again is harmless.
func upSharded(ctx context.Context, cfg *DemoConfig, p progress) error {
	if len(cfg.Sharded) == 0 {
		return nil
	}
	for _, s := range cfg.shardedSpecs() {
		mc := cfg.tabletServer(s.spec, []string{GrantDB(s.ks.DBName)})
		what := fmt.Sprintf("%s %s/%s", s.spec.Type, s.ks.Name, s.shard.Name)
		if err := upMariaDB(ctx, cfg, mc, s.spec.Alias(), what, "the sharded keyspace's port", p); err != nil {
			return err
		}
	}
	tctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	ts, err := topo.Open(tctx, topo.ImplEtcd, cfg.EtcdAddr(), cfg.Layout.GlobalRoot)
	if err != nil {
		return err
	}
	defer ts.Close()
	r := currentRoles(ctx, cfg)
	primary := cfg.Layout.Primary()
	if r.primary != "" {
		for _, t := range cfg.Layout.Tablets {
			if t.Alias() == r.primary {
				primary = t
			}
		}
	}
	if err := p.step("creating the sequence tables in "+cfg.Layout.DBName, func() error {
		return loadUnshardedSide(tctx, tabletDSN(cfg, primary, ""), cfg.Layout.DBName)
	}); err != nil {
		return err
	}
	for _, ks := range cfg.Sharded {
		recs := map[string][]*topodatapb.Tablet{}
		for _, sh := range ks.Shards {
			for _, t := range sh.Tablets {
				rec, err := ks.tabletRecord(sh, t, t.MySQLPort)
				if err != nil {
					return err
				}
				recs[sh.Name] = append(recs[sh.Name], rec)
			}
			si, err := ts.GetShard(tctx, ks.Name, sh.Name)
			if err == nil && si.GetPrimaryAlias() != nil {
				p.line("shard %s/%s is initialised (primary %s)", ks.Name, sh.Name, topo.TabletAliasString(si.PrimaryAlias))
				continue
			}
			if err := p.step(fmt.Sprintf("replication and rows of shard %s/%s", ks.Name, sh.Name), func() error {
				return initDemoShard(tctx, cfg, ks, sh)
			}); err != nil {
				return err
			}
		}
		if err := p.step(fmt.Sprintf("writing keyspace %s (shards %s) and its vschema to the topo", ks.Name, shardNames(ks)), func() error {
			return writeShardedTopo(tctx, ts, ks, cfg.Layout.Keyspace, recs)
		}); err != nil {
			return err
		}
	}
	return nil
}

func shardNames(ks ShardedKeyspace) string {
	s := ""
	for i, sh := range ks.Shards {
		if i > 0 {
			s += ", "
		}
		s += sh.Name
	}
	return s
}

// initDemoShard makes a new shard's primary writable, its replicas follow it, and loads the
// schema and sample rows.
func initDemoShard(ctx context.Context, cfg *DemoConfig, ks ShardedKeyspace, sh ShardSpec) error {
	var primary TabletSpec
	for _, t := range sh.Tablets {
		if t.Type == topodatapb.TabletType_PRIMARY {
			primary = t
		}
	}
	db, err := sql.Open("mysql", tabletDBADSN(cfg, primary, ""))
	if err != nil {
		return err
	}
	_, err = db.ExecContext(ctx, "SET GLOBAL read_only = OFF")
	db.Close()
	if err != nil {
		return err
	}
	for _, t := range sh.Tablets {
		if t.Type == topodatapb.TabletType_PRIMARY {
			continue
		}
		dsn := tabletDBADSN(cfg, t, "")
		if err := ChangePrimary(ctx, dsn, "127.0.0.1", primary.MySQLPort, cfg.ReplUser, cfg.ReplPassword); err != nil {
			return err
		}
		if err := WaitReplicating(ctx, dsn); err != nil {
			return err
		}
	}
	return loadShardedSchema(ctx, tabletDSN(cfg, primary, ""), ks.DBName, sh.Name, true)
}

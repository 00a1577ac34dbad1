package local

// A sharded keyspace beside the layout's unsharded one: `make demo`'s customer keyspace
// (shards -80 and 80-, each a primary and a replica, sharded by a hash vindex, ids from
// sequences in commerce, a reference table copied from commerce), and the same for tests
// (StartShardedKeyspace on a running Cluster).

import (
	"context"
	"database/sql"
	"encoding/binary"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"
	"google.golang.org/protobuf/proto"
	topodatapb "vitess.io/vitess/go/vt/proto/topodata"
	vttimepb "vitess.io/vitess/go/vt/proto/vttime"

	"github.com/vtdirect/vtdirect/topo"
	"github.com/vtdirect/vtdirect/vindex"
	"github.com/vtdirect/vtdirect/vschema"
)

// ShardSpec is one shard of a sharded keyspace and its tablets (one PRIMARY).
type ShardSpec struct {
	Name    string
	Tablets []TabletSpec
}

// ShardedKeyspace is a sharded keyspace of a local cluster.
type ShardedKeyspace struct {
	Name   string
	DBName string
	Shards []ShardSpec
	// VSchema is the keyspace's vschema (Vitess's JSON); UnshardedVSchema the vschema of the
	// layout's unsharded keyspace that goes with it (its sequences, reference sources).
	VSchema, UnshardedVSchema string
}

// CustomerKeyspace is the demo's sharded keyspace: customer with shards -80 (PRIMARY
// zone1-300, REPLICA zone1-301) and 80- (PRIMARY zone1-400, REPLICA zone1-401), on ports
// DemoPortBase + uid.
func CustomerKeyspace() ShardedKeyspace {
	ks := ShardedKeyspace{
		Name: "customer", DBName: "customer",
		Shards: []ShardSpec{
			{Name: "-80", Tablets: []TabletSpec{{Cell: "zone1", UID: 300, Type: topodatapb.TabletType_PRIMARY}, {Cell: "zone1", UID: 301, Type: topodatapb.TabletType_REPLICA}}},
			{Name: "80-", Tablets: []TabletSpec{{Cell: "zone1", UID: 400, Type: topodatapb.TabletType_PRIMARY}, {Cell: "zone1", UID: 401, Type: topodatapb.TabletType_REPLICA}}},
		},
		VSchema:          customerVSchema,
		UnshardedVSchema: commerceVSchema,
	}
	for _, sh := range ks.Shards {
		for i := range sh.Tablets {
			sh.Tablets[i].MySQLPort = DemoPortBase + int(sh.Tablets[i].UID)
		}
	}
	return ks
}

const customerVSchema = `{
  "sharded": true,
  "vindexes": {"hash": {"type": "hash"}},
  "tables": {
    "customer": {
      "column_vindexes": [{"column": "customer_id", "name": "hash"}],
      "auto_increment": {"column": "customer_id", "sequence": "commerce.customer_seq"}
    },
    "corder": {
      "column_vindexes": [{"column": "customer_id", "name": "hash"}],
      "auto_increment": {"column": "order_id", "sequence": "commerce.corder_seq"}
    },
    "product": {"type": "reference", "source": "commerce.product"}
  }
}`

const commerceVSchema = `{
  "tables": {
    "customer_seq": {"type": "sequence"},
    "corder_seq": {"type": "sequence"},
    "product": {}
  }
}`

// customerTables are the sharded keyspace's tables: the commerce example's, without
// AUTO_INCREMENT (the sequences give the ids), and product as a reference table.
var customerTables = []string{
	`CREATE TABLE IF NOT EXISTS customer (
  customer_id BIGINT NOT NULL,
  email VARCHAR(128),
  PRIMARY KEY (customer_id)
) ENGINE=InnoDB`,
	`CREATE TABLE IF NOT EXISTS corder (
  order_id BIGINT NOT NULL,
  customer_id BIGINT,
  sku VARCHAR(128),
  price BIGINT,
  PRIMARY KEY (order_id),
  KEY customer_id (customer_id)
) ENGINE=InnoDB`,
	sampleTables[0], // product
}

// sequenceTables are Vitess's sequence tables, in the unsharded keyspace; their ids start
// after the sample rows'.
var sequenceTables = []string{
	`CREATE TABLE IF NOT EXISTS customer_seq (id INT, next_id BIGINT, cache BIGINT, PRIMARY KEY (id)) COMMENT 'vitess_sequence'`,
	`INSERT IGNORE INTO customer_seq (id, next_id, cache) VALUES (0, 1000, 100)`,
	`CREATE TABLE IF NOT EXISTS corder_seq (id INT, next_id BIGINT, cache BIGINT, PRIMARY KEY (id)) COMMENT 'vitess_sequence'`,
	`INSERT IGNORE INTO corder_seq (id, next_id, cache) VALUES (0, 1000, 100)`,
}

// Validate checks the keyspace: one primary per shard, shard names that are key ranges.
func (k ShardedKeyspace) Validate() error {
	if k.Name == "" || k.DBName == "" || len(k.Shards) == 0 {
		return fmt.Errorf("sharded keyspace: name, db name and shards are required")
	}
	for _, sh := range k.Shards {
		if _, err := vindex.ParseShard(sh.Name); err != nil {
			return fmt.Errorf("sharded keyspace %s: %w", k.Name, err)
		}
		n := 0
		for _, t := range sh.Tablets {
			if t.Type == topodatapb.TabletType_PRIMARY {
				n++
			}
		}
		if n != 1 {
			return fmt.Errorf("sharded keyspace %s: shard %s has %d primaries, want 1", k.Name, sh.Name, n)
		}
	}
	return nil
}

// tabletRecord is the topo record of a tablet of the keyspace.
func (k ShardedKeyspace) tabletRecord(sh ShardSpec, spec TabletSpec, port int) (*topodatapb.Tablet, error) {
	_, kr, err := topo.ShardKeyRange(sh.Name)
	if err != nil {
		return nil, err
	}
	return &topodatapb.Tablet{
		Alias: spec.TopoAlias(), Hostname: "127.0.0.1", PortMap: map[string]int32{"mysql": int32(port)},
		Keyspace: k.Name, Shard: sh.Name, KeyRange: kr, Type: spec.Type, DbNameOverride: k.DBName,
		MysqlHostname: "127.0.0.1", MysqlPort: int32(port),
	}, nil
}

// writeShardedTopo writes the keyspace, its shards and tablets (their primaries) and both
// vschemas. Idempotent: a shard that has a primary keeps its records.
func writeShardedTopo(ctx context.Context, ts *topo.Server, k ShardedKeyspace, unsharded string, recs map[string][]*topodatapb.Tablet) error {
	if err := ignoreExists(ts.CreateKeyspace(ctx, k.Name, nil)); err != nil {
		return err
	}
	for _, sh := range k.Shards {
		if err := ignoreExists(ts.CreateShard(ctx, k.Name, sh.Name)); err != nil {
			return err
		}
		si, err := ts.GetShard(ctx, k.Name, sh.Name)
		if err != nil {
			return err
		}
		term := time.Now()
		for _, rec := range recs[sh.Name] {
			if si.PrimaryAlias != nil {
				if _, err := ts.GetTablet(ctx, rec.Alias); err == nil {
					continue
				}
			}
			rec = proto.Clone(rec).(*topodatapb.Tablet)
			if rec.Type == topodatapb.TabletType_PRIMARY && si.PrimaryAlias == nil {
				rec.PrimaryTermStartTime = &vttimepb.Time{Seconds: term.Unix(), Nanoseconds: int32(term.Nanosecond())}
			} else if rec.Type == topodatapb.TabletType_PRIMARY {
				rec.Type = topodatapb.TabletType_REPLICA
			}
			if err := PutTablet(ctx, ts, rec); err != nil {
				return err
			}
			if rec.Type == topodatapb.TabletType_PRIMARY {
				if err := ts.SetShardPrimary(ctx, k.Name, sh.Name, rec.Alias, term); err != nil {
					return err
				}
			}
		}
	}
	for ks, js := range map[string]string{k.Name: k.VSchema, unsharded: k.UnshardedVSchema} {
		if js == "" {
			continue
		}
		pb, err := vschema.Parse([]byte(js))
		if err != nil {
			return fmt.Errorf("vschema of %s: %w", ks, err)
		}
		if err := ts.SaveVSchema(ctx, ks, pb); err != nil {
			return err
		}
	}
	return nil
}

// loadShardedSchema creates the keyspace's tables on a shard's primary and, with sample, the
// sample rows that live on the shard (by the hash of customer_id) and every product.
func loadShardedSchema(ctx context.Context, dsn, dbName, shard string, sample bool) error {
	if err := CreateDatabase(ctx, dsn, dbName); err != nil {
		return err
	}
	db, err := sql.Open("mysql", dsn)
	if err != nil {
		return err
	}
	defer db.Close()
	conn, err := db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	stmts := []string{"USE `" + strings.ReplaceAll(dbName, "`", "``") + "`"}
	stmts = append(stmts, customerTables...)
	if sample {
		stmts = append(stmts, shardRows(shard)...)
	}
	for _, s := range stmts {
		if _, err := conn.ExecContext(ctx, s); err != nil {
			return fmt.Errorf("load schema of shard %s: %s: %w", shard, firstLine(s), err)
		}
	}
	return nil
}

// onShard reports whether customer_id's row lives on shard (hash vindex).
func onShard(shard string, customerID uint64) bool {
	kr, err := vindex.ParseShard(shard)
	return err == nil && kr.Contains(vindex.HashUint64(customerID))
}

// shardRows are the sample rows of one shard.
func shardRows(shard string) []string {
	var out []string
	var c, o []string
	for i := 1; i <= sampleCustomers; i++ {
		if onShard(shard, uint64(i)) {
			name := sampleFirstNames[(i-1)%len(sampleFirstNames)]
			c = append(c, fmt.Sprintf("(%d, '%s%d@example.com')", i, name, i))
		}
	}
	for i := 1; i <= sampleOrders; i++ {
		cust := (i*3)%sampleCustomers + 1
		if onShard(shard, uint64(cust)) {
			prod := (i*7)%sampleProducts + 1
			o = append(o, fmt.Sprintf("(%d, %d, 'SKU-%04d', %d)", i, cust, 1000+prod, 100*prod+99))
		}
	}
	if len(c) > 0 {
		out = append(out, "INSERT IGNORE INTO customer (customer_id, email) VALUES "+strings.Join(c, ", "))
	}
	if len(o) > 0 {
		out = append(out, "INSERT IGNORE INTO corder (order_id, customer_id, sku, price) VALUES "+strings.Join(o, ", "))
	}
	return append(out, sampleRows()[0]) // the products, on every shard
}

// loadUnshardedSide creates the sequence tables in the unsharded keyspace's database.
func loadUnshardedSide(ctx context.Context, dsn, dbName string) error {
	db, err := sql.Open("mysql", dsn)
	if err != nil {
		return err
	}
	defer db.Close()
	conn, err := db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	for _, s := range append([]string{"CREATE DATABASE IF NOT EXISTS `" + dbName + "`", "USE `" + dbName + "`"}, sequenceTables...) {
		if _, err := conn.ExecContext(ctx, s); err != nil {
			return fmt.Errorf("load sequences: %s: %w", firstLine(s), err)
		}
	}
	return nil
}

// ShardedCluster is a sharded keyspace started beside a test Cluster.
type ShardedCluster struct {
	Keyspace ShardedKeyspace
	tablets  []*ClusterTablet
}

// Tablet returns a tablet by alias ("zone1-300"), or nil.
func (k *ShardedCluster) Tablet(alias string) *ClusterTablet {
	for _, t := range k.tablets {
		if t.Alias() == alias {
			return t
		}
	}
	return nil
}

// Tablets returns every tablet of the keyspace.
func (k *ShardedCluster) Tablets() []*ClusterTablet {
	return append([]*ClusterTablet(nil), k.tablets...)
}

// Primary returns a shard's primary.
func (k *ShardedCluster) Primary(shard string) *ClusterTablet {
	for _, t := range k.tablets {
		if t.Record.Shard == shard && t.Spec.Type == topodatapb.TabletType_PRIMARY {
			return t
		}
	}
	return nil
}

// Close kills the keyspace's MariaDBs.
func (k *ShardedCluster) Close() {
	for _, t := range k.tablets {
		t.MariaDB.Kill()
	}
}

// ShardedConfig says how StartShardedKeyspace starts a keyspace.
type ShardedConfig struct {
	// Keyspace defaults to CustomerKeyspace with free ports.
	Keyspace *ShardedKeyspace
	// SampleData loads the demo's rows; otherwise only the tables (and the sequence tables in
	// the unsharded keyspace) are created.
	SampleData bool
	// MariaDBArgs are extra mariadbd arguments (the cluster's are used too).
	MariaDBArgs []string
}

// StartShardedKeyspace starts a sharded keyspace beside a running test cluster: its tablets'
// MariaDBs (in parallel), replication in each shard, the schema, the sequence tables in the
// cluster's unsharded keyspace, and the topo records with both vschemas. On error what was
// started is stopped.
func StartShardedKeyspace(ctx context.Context, c *Cluster, cfg ShardedConfig) (k *ShardedCluster, err error) {
	spec := CustomerKeyspace()
	if cfg.Keyspace != nil {
		spec = *cfg.Keyspace
	} else {
		for _, sh := range spec.Shards {
			for i := range sh.Tablets {
				sh.Tablets[i].MySQLPort = 0
			}
		}
	}
	if err := spec.Validate(); err != nil {
		return nil, err
	}
	k = &ShardedCluster{Keyspace: spec}
	defer func() {
		if err != nil {
			k.Close()
		}
	}()
	type started struct {
		sh ShardSpec
		t  *ClusterTablet
	}
	var all []started
	for _, sh := range spec.Shards {
		for _, t := range sh.Tablets {
			all = append(all, started{sh: sh, t: &ClusterTablet{Spec: t}})
		}
	}
	g, gctx := errgroup.WithContext(ctx)
	for i := range all {
		st := &all[i]
		g.Go(func() error {
			m, err := StartMariaDB(gctx, MariaDBConfig{
				Dir: filepath.Join(c.cfg.Dir, st.t.Spec.Alias()), Port: st.t.Spec.MySQLPort, ServerID: st.t.Spec.UID,
				User: c.cfg.User, Password: c.cfg.Password, DBAUser: c.cfg.DBAUser, DBAPassword: c.cfg.DBAPassword,
				Logger: c.log.With("tablet", st.t.Spec.Alias()), ExtraArgs: append(append([]string{}, c.cfg.MariaDBArgs...), cfg.MariaDBArgs...),
			})
			if err != nil {
				return err
			}
			st.t.MariaDB = m
			st.t.Record, err = spec.tabletRecord(st.sh, st.t.Spec, m.Port())
			return err
		})
	}
	err = g.Wait()
	for _, st := range all {
		if st.t.MariaDB != nil {
			k.tablets = append(k.tablets, st.t)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("start sharded keyspace %s: %w", spec.Name, err)
	}
	recs := map[string][]*topodatapb.Tablet{}
	for _, sh := range spec.Shards {
		var primary *MariaDB
		var replicas []*MariaDB
		for _, st := range all {
			if st.sh.Name != sh.Name {
				continue
			}
			recs[sh.Name] = append(recs[sh.Name], st.t.Record)
			if st.t.Spec.Type == topodatapb.TabletType_PRIMARY {
				primary = st.t.MariaDB
			} else {
				replicas = append(replicas, st.t.MariaDB)
			}
		}
		if err := SetupReplication(ctx, primary, replicas...); err != nil {
			return nil, fmt.Errorf("start sharded keyspace %s: %w", spec.Name, err)
		}
		if err := loadShardedSchema(ctx, primary.DSN(""), spec.DBName, sh.Name, cfg.SampleData); err != nil {
			return nil, err
		}
		for _, r := range replicas {
			if err := WaitCaughtUp(ctx, primary, r); err != nil {
				return nil, err
			}
		}
	}
	if err := loadUnshardedSide(ctx, c.Primary().MariaDB.DSN(""), c.Layout.DBName); err != nil {
		return nil, err
	}
	if err := writeShardedTopo(ctx, c.Topo, spec, c.Layout.Keyspace, recs); err != nil {
		return nil, fmt.Errorf("start sharded keyspace %s: write topo: %w", spec.Name, err)
	}
	return k, nil
}

var _ = binary.BigEndian

package local

// Many schemas on the same MariaDB servers (`vtdirect local up --schemas N`, and the tests and
// the benchmark of multi-schema): keyspace ksNNNN (1-based) has one unsharded shard, database
// vt_ksNNNN (Vitess's default name) with a table t holding one row, and a tablet on every
// server of the layout, of the type the layout's tablet of that server has. The topo gets
// what Vitess writes for such a keyspace: its Keyspace record, its Shard record naming the
// primary (with the term), the tablet records and each cell's ShardReplication.

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"
	"google.golang.org/protobuf/proto"
	topodatapb "vitess.io/vitess/go/vt/proto/topodata"
	vttimepb "vitess.io/vitess/go/vt/proto/vttime"

	"github.com/vtdirect/vtdirect/topo"
)

// MaxSchemas is the most schema keyspaces a layout can have (tablet uids are
// uid*100000 + i).
const MaxSchemas = 99999

// SchemaKeyspace is the i-th schema keyspace's name (1-based): ks0001.
func SchemaKeyspace(i int) string { return fmt.Sprintf("ks%04d", i) }

// SchemaDB is the i-th schema keyspace's database: vt_ks0001.
func SchemaDB(i int) string { return "vt_" + SchemaKeyspace(i) }

// SchemaTabletUID is the uid of the i-th schema keyspace's tablet on the server of spec.
func SchemaTabletUID(spec TabletSpec, i int) uint32 { return spec.UID*100000 + uint32(i) }

// SchemaTablet is the record of the i-th schema keyspace's tablet on spec's server, which
// listens on 127.0.0.1:mysqlPort, with type typ.
func SchemaTablet(spec TabletSpec, mysqlPort, i int, typ topodatapb.TabletType) *topodatapb.Tablet {
	return &topodatapb.Tablet{
		Alias:         &topodatapb.TabletAlias{Cell: spec.Cell, Uid: SchemaTabletUID(spec, i)},
		Hostname:      "127.0.0.1",
		PortMap:       map[string]int32{"mysql": int32(mysqlPort)},
		Keyspace:      SchemaKeyspace(i),
		Shard:         "0",
		Type:          typ,
		MysqlHostname: "127.0.0.1",
		MysqlPort:     int32(mysqlPort),
	}
}

// SchemaServer is one server of a layout for AddSchemas: its tablet spec, port and type now.
type SchemaServer struct {
	Spec TabletSpec
	Port int
	Type topodatapb.TabletType
}

// CreateSchemaDatabases creates the databases of schemas from..to (1-based, inclusive) on the
// primary (dsn, without a database), with table t (id, name) and one row; existing ones are
// kept. The replicas get them by replication.
func CreateSchemaDatabases(ctx context.Context, dsn string, from, to int) error {
	db, err := sql.Open("mysql", dsn+multiStatementsParam(dsn))
	if err != nil {
		return err
	}
	defer db.Close()
	const batch = 100
	for lo := from; lo <= to; lo += batch {
		var b strings.Builder
		for i := lo; i <= min(lo+batch-1, to); i++ {
			d := SchemaDB(i)
			fmt.Fprintf(&b, "CREATE DATABASE IF NOT EXISTS %s; CREATE TABLE IF NOT EXISTS %s.t (id INT PRIMARY KEY, name VARCHAR(64)); INSERT IGNORE INTO %s.t VALUES (1, '%s'); ", d, d, d, SchemaKeyspace(i))
		}
		if _, err := db.ExecContext(ctx, b.String()); err != nil {
			return fmt.Errorf("create schema databases %d..%d: %w", lo, min(lo+batch-1, to), err)
		}
	}
	return nil
}

// DropSchemaDatabases drops the databases of schemas from..to on the primary.
func DropSchemaDatabases(ctx context.Context, dsn string, from, to int) error {
	db, err := sql.Open("mysql", dsn+multiStatementsParam(dsn))
	if err != nil {
		return err
	}
	defer db.Close()
	var b strings.Builder
	for i := from; i <= to; i++ {
		fmt.Fprintf(&b, "DROP DATABASE IF EXISTS %s; ", SchemaDB(i))
	}
	if _, err := db.ExecContext(ctx, b.String()); err != nil {
		return fmt.Errorf("drop schema databases %d..%d: %w", from, to, err)
	}
	return nil
}

func multiStatementsParam(dsn string) string {
	if strings.Contains(dsn, "?") {
		return "&multiStatements=true"
	}
	return "?multiStatements=true"
}

// WriteSchemaTopo writes the records of schemas from..to: keyspace, shard, a tablet on every
// server, the shard's primary. Existing records are kept (an initialised shard keeps its
// tablets' types), so it may run again. It reports progress on progress (may be nil).
func WriteSchemaTopo(ctx context.Context, ts *topo.Server, servers []SchemaServer, from, to int, progress func(done int)) error {
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(16) // the topo's round trips dominate: a few in flight
	done := make(chan struct{}, to-from+1)
	for i := from; i <= to; i++ {
		g.Go(func() error {
			if err := writeSchemaKeyspace(gctx, ts, servers, i); err != nil {
				return fmt.Errorf("write topo of %s: %w", SchemaKeyspace(i), err)
			}
			done <- struct{}{}
			return nil
		})
	}
	if progress != nil {
		go func() {
			n := 0
			for range done {
				n++
				if n%100 == 0 {
					progress(n)
				}
			}
		}()
	}
	err := g.Wait()
	close(done)
	return err
}

func writeSchemaKeyspace(ctx context.Context, ts *topo.Server, servers []SchemaServer, i int) error {
	ks := SchemaKeyspace(i)
	if err := ignoreExists(ts.CreateKeyspace(ctx, ks, &topodatapb.Keyspace{})); err != nil {
		return err
	}
	if err := ignoreExists(ts.CreateShard(ctx, ks, "0")); err != nil {
		return err
	}
	si, err := ts.GetShard(ctx, ks, "0")
	if err != nil {
		return err
	}
	term := time.Now()
	var primary *topodatapb.TabletAlias
	for _, s := range servers {
		rec := SchemaTablet(s.Spec, s.Port, i, s.Type)
		if si.PrimaryAlias != nil {
			if _, err := ts.GetTablet(ctx, rec.Alias); err == nil {
				continue
			}
			if rec.Type == topodatapb.TabletType_PRIMARY {
				rec.Type = topodatapb.TabletType_REPLICA
			}
		} else if rec.Type == topodatapb.TabletType_PRIMARY {
			rec.PrimaryTermStartTime = &vttimepb.Time{Seconds: term.Unix(), Nanoseconds: int32(term.Nanosecond())}
			primary = proto.Clone(rec.Alias).(*topodatapb.TabletAlias)
		}
		if err := PutTablet(ctx, ts, rec); err != nil {
			return err
		}
	}
	if primary != nil {
		return ts.SetShardPrimary(ctx, ks, "0", primary, term)
	}
	return nil
}

// RemoveSchemaTopo deletes the records of schemas from..to: the tablets, the shard, the
// keyspace.
func RemoveSchemaTopo(ctx context.Context, ts *topo.Server, servers []SchemaServer, from, to int) error {
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(16)
	for i := from; i <= to; i++ {
		g.Go(func() error {
			for _, s := range servers {
				a := &topodatapb.TabletAlias{Cell: s.Spec.Cell, Uid: SchemaTabletUID(s.Spec, i)}
				if err := ts.DeleteTablet(gctx, a); err != nil && !errors.Is(err, topo.ErrNoNode) {
					return fmt.Errorf("delete tablet %s: %w", topo.TabletAliasString(a), err)
				}
			}
			if err := ts.DeleteShard(gctx, SchemaKeyspace(i), "0"); err != nil && !errors.Is(err, topo.ErrNoNode) {
				return err
			}
			if err := ts.DeleteKeyspace(gctx, SchemaKeyspace(i)); err != nil && !errors.Is(err, topo.ErrNoNode) {
				return err
			}
			return nil
		})
	}
	return g.Wait()
}

// SchemaServers are a cluster's servers for AddSchemas, with the types their tablets have in
// the topo now.
func (c *Cluster) SchemaServers() []SchemaServer {
	var out []SchemaServer
	for _, t := range c.Tablets() {
		out = append(out, SchemaServer{Spec: t.Spec, Port: t.MariaDB.Port(), Type: t.Record.GetType()})
	}
	return out
}

// AddSchemas adds schemas from..to to the cluster: databases on the primary (waiting for the
// replicas to have them), then the topo records.
func (c *Cluster) AddSchemas(ctx context.Context, from, to int) error {
	if from < 1 || to > MaxSchemas || from > to {
		return fmt.Errorf("add schemas %d..%d: want 1 <= from <= to <= %d", from, to, MaxSchemas)
	}
	p := c.Primary()
	if p == nil {
		return errors.New("add schemas: the cluster has no primary")
	}
	if err := CreateSchemaDatabases(ctx, p.MariaDB.DSN(""), from, to); err != nil {
		return err
	}
	if err := c.waitReplicasHave(ctx, SchemaDB(to)); err != nil {
		return err
	}
	return WriteSchemaTopo(ctx, c.Topo, c.SchemaServers(), from, to, nil)
}

// RemoveSchemas removes schemas from..to: topo records first (the gateway stops serving
// them), then the databases.
func (c *Cluster) RemoveSchemas(ctx context.Context, from, to int) error {
	if err := RemoveSchemaTopo(ctx, c.Topo, c.SchemaServers(), from, to); err != nil {
		return err
	}
	p := c.Primary()
	if p == nil {
		return errors.New("remove schemas: the cluster has no primary")
	}
	return DropSchemaDatabases(ctx, p.MariaDB.DSN(""), from, to)
}

// waitReplicasHave waits until every replica has database db (replication carried it).
func (c *Cluster) waitReplicasHave(ctx context.Context, db string) error {
	ctx, cancel := context.WithTimeout(ctx, defaultReplicationTimeout)
	defer cancel()
	for _, t := range c.Tablets() {
		if t.Record.GetType() == topodatapb.TabletType_PRIMARY {
			continue
		}
		d, err := sql.Open("mysql", t.MariaDB.DSN(""))
		if err != nil {
			return err
		}
		for {
			var name string
			err := d.QueryRowContext(ctx, "SELECT SCHEMA_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?", db).Scan(&name)
			if err == nil {
				break
			}
			select {
			case <-ctx.Done():
				d.Close()
				return fmt.Errorf("replica %s does not have database %s: %w (last: %v)", t.Alias(), db, ctx.Err(), err)
			case <-time.After(50 * time.Millisecond):
			}
		}
		d.Close()
	}
	return nil
}

package interop

import (
	"context"
	"database/sql"
	"strings"
	"testing"
	"time"

	binlogdatapb "vitess.io/vitess/go/vt/proto/binlogdata"
	topodatapb "vitess.io/vitess/go/vt/proto/topodata"
	vtgatepb "vitess.io/vitess/go/vt/proto/vtgate"
	"vitess.io/vitess/go/vt/vtgate/vtgateconn"
)

// TestDebeziumStartupWithVitessClient replays the Debezium Vitess connector's start-up with
// Vitess's own client: its Execute metadata queries, then a VStream with a `select * from t`
// rule per table, stop_on_reshard, a heartbeat interval and an empty gtid per shard (copy
// first). It must get the keyspace's shards and tables, each table's rows as copy events,
// COPY_COMPLETED, and then the changes made after it.
func TestDebeziumStartupWithVitessClient(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cluster, g := startStreamingGateway(t, ctx)
	conn, err := vtgateconn.DialProtocol(ctx, "grpc", g.GRPCAddr())
	ok(t, err)
	defer conn.Close()

	const comment = "/*vt+ WORKLOAD_NAME=debezium */ "
	session := conn.Session("", nil)
	dbs, err := session.Execute(ctx, comment+"SHOW DATABASES;", nil, false)
	ok(t, err)
	if len(dbs.Rows) != 1 || dbs.Rows[0][0].ToString() != "commerce" {
		t.Fatalf("SHOW DATABASES = %v", dbs.Rows)
	}
	shards, err := session.Execute(ctx, comment+"SHOW VITESS_SHARDS LIKE 'commerce/%'", nil, false)
	ok(t, err)
	var shardNames []string
	for _, r := range shards.Rows {
		_, shard, _ := strings.Cut(r[0].ToString(), "/")
		shardNames = append(shardNames, shard)
	}
	if strings.Join(shardNames, ",") != "0" {
		t.Fatalf("SHOW VITESS_SHARDS = %v", shards.Rows)
	}
	tables, err := session.Execute(ctx, comment+"SHOW TABLES FROM commerce", nil, false)
	ok(t, err)
	var rules []*binlogdatapb.Rule
	for _, r := range tables.Rows {
		name := r[0].ToString()
		rules = append(rules, &binlogdatapb.Rule{Match: name, Filter: "select * from `" + name + "`"})
	}
	if len(rules) != 3 {
		t.Fatalf("SHOW TABLES FROM commerce = %v, want customer, product and corder", tables.Rows)
	}

	vgtid := &binlogdatapb.VGtid{}
	for _, sh := range shardNames {
		vgtid.ShardGtids = append(vgtid.ShardGtids, &binlogdatapb.ShardGtid{Keyspace: "commerce", Shard: sh, Gtid: ""})
	}
	r, err := conn.VStream(ctx, topodatapb.TabletType_REPLICA, vgtid, &binlogdatapb.Filter{Rules: rules},
		&vtgatepb.VStreamFlags{StopOnReshard: true, HeartbeatInterval: 1})
	ok(t, err)
	copied := map[string]int{}
	completed := 0
	for completed < 2 { // once for the shard, once for the whole stream
		evs, err := r.Recv()
		ok(t, err)
		for _, ev := range evs {
			switch ev.Type {
			case binlogdatapb.VEventType_ROW:
				copied[ev.RowEvent.TableName] += len(ev.RowEvent.RowChanges)
			case binlogdatapb.VEventType_COPY_COMPLETED:
				completed++
			}
		}
	}
	if copied["commerce.customer"] != 20 || copied["commerce.product"] != 10 || copied["commerce.corder"] != 40 {
		t.Fatalf("copied rows per table: %v", copied)
	}

	// A change after the copy arrives as a ROW event.
	primary := openSQL(t, cluster.Primary().MariaDB.DSN(cluster.Layout.DBName))
	_, err = primary.ExecContext(ctx, "INSERT INTO customer (email) VALUES ('debezium@example.com')")
	ok(t, err)
	for {
		evs, err := r.Recv()
		ok(t, err)
		for _, ev := range evs {
			if ev.Type == binlogdatapb.VEventType_ROW && ev.RowEvent.TableName == "commerce.customer" &&
				strings.Contains(string(ev.RowEvent.RowChanges[0].After.GetValues()), "debezium@example.com") {
				return
			}
		}
	}
}

func openSQL(t *testing.T, dsn string) *sql.DB {
	t.Helper()
	db, err := sql.Open("mysql", dsn)
	ok(t, err)
	t.Cleanup(func() { db.Close() })
	return db
}

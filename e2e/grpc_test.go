package e2e

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	binlogdatapb "vitess.io/vitess/go/vt/proto/binlogdata"
	querypb "vitess.io/vitess/go/vt/proto/query"
	topodatapb "vitess.io/vitess/go/vt/proto/topodata"
	vtgatepb "vitess.io/vitess/go/vt/proto/vtgate"
	"vitess.io/vitess/go/vt/proto/vtgateservice"
)

// staticCreds sends username/password call credentials, as Vitess's static gRPC auth does.
type staticCreds struct{ user, pass string }

func (c staticCreds) GetRequestMetadata(context.Context, ...string) (map[string]string, error) {
	return map[string]string{"username": c.user, "password": c.pass}, nil
}
func (staticCreds) RequireTransportSecurity() bool { return false }

func vitessClient(t *testing.T, user, pass string) vtgateservice.VitessClient {
	t.Helper()
	cc, err := grpc.NewClient(gw.GRPCAddr(), grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithPerRPCCredentials(staticCreds{user, pass}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cc.Close() })
	return vtgateservice.NewVitessClient(cc)
}

func execute(t *testing.T, c vtgateservice.VitessClient, target, sql string) *querypb.QueryResult {
	t.Helper()
	resp, err := c.Execute(t.Context(), &vtgatepb.ExecuteRequest{
		Session: &vtgatepb.Session{TargetString: target, Autocommit: true},
		Query:   &querypb.BoundQuery{Sql: sql},
	})
	if err != nil {
		t.Fatalf("Execute(%q): %v", sql, err)
	}
	if resp.Error != nil {
		t.Fatalf("Execute(%q): %v", sql, resp.Error)
	}
	return resp.Result
}

func column(qr *querypb.QueryResult, i int) []string {
	var out []string
	for _, r := range qr.Rows {
		off := int64(0)
		for j, l := range r.Lengths {
			if j == i {
				if l < 0 {
					out = append(out, "NULL")
				} else {
					out = append(out, string(r.Values[off:off+l]))
				}
			}
			if l > 0 {
				off += l
			}
		}
	}
	return out
}

// TestExecuteAsDebeziumDoes replays the statements the Debezium connector runs through
// Execute before it streams.
func TestExecuteAsDebeziumDoes(t *testing.T) {
	c := vitessClient(t, "app", "app")
	if got := column(execute(t, c, "", "/*vt+ WORKLOAD_NAME=debezium */ SHOW DATABASES;"), 0); strings.Join(got, ",") != "commerce" {
		t.Fatalf("SHOW DATABASES = %v", got)
	}
	if got := column(execute(t, c, "", "/*vt+ WORKLOAD_NAME=debezium */ SHOW VITESS_SHARDS LIKE 'commerce/%'"), 0); strings.Join(got, ",") != "commerce/0" {
		t.Fatalf("SHOW VITESS_SHARDS = %v", got)
	}
	qr := execute(t, c, "", "SHOW VITESS_TABLETS")
	if len(qr.Fields) != 8 || qr.Fields[1].Name != "Keyspace" || len(qr.Rows) != 4 {
		t.Fatalf("SHOW VITESS_TABLETS: fields %v, %d rows", qr.Fields, len(qr.Rows))
	}
	if ks, sh := column(qr, 1), column(qr, 2); ks[0] != "commerce" || sh[0] != "0" {
		t.Fatalf("SHOW VITESS_TABLETS keyspace/shard columns %v %v", ks, sh)
	}
	tables := execute(t, c, "", "/*vt+ WORKLOAD_NAME=debezium */ SHOW TABLES FROM commerce")
	if tables.Fields[0].Name != "Tables_in_commerce" || !strings.Contains(strings.Join(column(tables, 0), ","), "customer") {
		t.Fatalf("SHOW TABLES FROM commerce: %v %v", tables.Fields, column(tables, 0))
	}
	if got := column(execute(t, c, "commerce:0@replica", "SHOW TABLES"), 0); !strings.Contains(strings.Join(got, ","), "corder") {
		t.Fatalf("SHOW TABLES on commerce:0@replica: %v", got)
	}
	qr = execute(t, c, "commerce@replica", "SELECT @@server_id, customer_id FROM customer ORDER BY customer_id LIMIT 2")
	if column(qr, 0)[0] != "101" || qr.Fields[1].Type != querypb.Type_INT64 && qr.Fields[1].Type != querypb.Type_UINT64 {
		t.Fatalf("SELECT through Execute: fields %v, rows %v", qr.Fields, column(qr, 0))
	}

	// Errors come back as Vitess reports them, with the MySQL code in the message.
	resp, err := c.Execute(t.Context(), &vtgatepb.ExecuteRequest{
		Session: &vtgatepb.Session{TargetString: "commerce"}, Query: &querypb.BoundQuery{Sql: "SELECT * FROM no_such_table"}})
	if err != nil || resp.Error == nil || !strings.Contains(resp.Error.Message, "errno 1146") {
		t.Fatalf("error reply: %v, %v", resp, err)
	}
	resp, err = c.Execute(t.Context(), &vtgatepb.ExecuteRequest{
		Session: &vtgatepb.Session{TargetString: "commerce@replica"}, Query: &querypb.BoundQuery{Sql: "DELETE FROM customer"}})
	if err != nil || resp.Error == nil || !strings.Contains(resp.Error.Message, "errno 1290") {
		t.Fatalf("a write to a replica through Execute: %v, %v", resp, err)
	}
}

func TestGRPCCredentialsAreChecked(t *testing.T) {
	c := vitessClient(t, "app", "wrong")
	_, err := c.Execute(t.Context(), &vtgatepb.ExecuteRequest{Query: &querypb.BoundQuery{Sql: "SELECT 1"}})
	if status.Code(err) != codes.Unauthenticated {
		t.Fatalf("wrong password: %v, want Unauthenticated", err)
	}
}

// TestVStreamThroughGateway streams from "current" on a zone1 gateway: an insert made through
// the gateway arrives as a ROW event, read from the zone1 replica.
func TestVStreamThroughGateway(t *testing.T) {
	c := vitessClient(t, "app", "app")
	db := openDB(t, dsn(gw, "commerce"))
	if _, err := db.Exec("CREATE TABLE IF NOT EXISTS e2e_vs (id INT PRIMARY KEY, v VARCHAR(20))"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _, _ = db.Exec("DROP TABLE IF EXISTS e2e_vs") })
	if err := waitCaughtUp(t, "zone1-101"); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	stream, err := c.VStream(ctx, &vtgatepb.VStreamRequest{
		TabletType: topodatapb.TabletType_REPLICA,
		Vgtid:      &binlogdatapb.VGtid{ShardGtids: []*binlogdatapb.ShardGtid{{Keyspace: "commerce", Shard: "0", Gtid: "current"}}},
		Filter:     &binlogdatapb.Filter{Rules: []*binlogdatapb.Rule{{Match: "e2e_vs"}}},
		Flags:      &vtgatepb.VStreamFlags{HeartbeatInterval: 1},
	})
	if err != nil {
		t.Fatal(err)
	}
	// The first response (the starting VGTID) says the stream is up; then write.
	if _, err := stream.Recv(); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec("INSERT INTO e2e_vs VALUES (1, 'streamed')"); err != nil {
		t.Fatal(err)
	}
	for {
		resp, err := stream.Recv()
		if errors.Is(err, io.EOF) || err != nil {
			t.Fatalf("stream ended before the row: %v", err)
		}
		for _, ev := range resp.Events {
			if ev.Type == binlogdatapb.VEventType_ROW && ev.RowEvent.TableName == "commerce.e2e_vs" {
				after := ev.RowEvent.RowChanges[0].After
				if got := string(after.Values); got != "1streamed" {
					t.Fatalf("row values %q", got)
				}
				// The source is the zone1 replica (the gateway's cell).
				if n := queryInt(t, directDB(t, "zone1-101"), "SELECT COUNT(*) FROM information_schema.processlist WHERE command LIKE 'Binlog Dump%'"); n != 1 {
					t.Fatalf("%d binlog dumps on zone1-101, want the stream's", n)
				}
				return
			}
		}
	}
}

// waitCaughtUp waits until a replica has everything the primary wrote.
func waitCaughtUp(t *testing.T, alias string) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	return localWaitCaughtUp(ctx, alias)
}

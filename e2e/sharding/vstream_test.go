package sharding

import (
	"context"
	"fmt"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	binlogdatapb "vitess.io/vitess/go/vt/proto/binlogdata"
	topodatapb "vitess.io/vitess/go/vt/proto/topodata"
	vtgatepb "vitess.io/vitess/go/vt/proto/vtgate"
	"vitess.io/vitess/go/vt/proto/vtgateservice"

	"github.com/vtdirect/vtdirect/gateway"
)

type staticCreds struct{ user, pass string }

func (c staticCreds) GetRequestMetadata(context.Context, ...string) (map[string]string, error) {
	return map[string]string{"username": c.user, "password": c.pass}, nil
}
func (staticCreds) RequireTransportSecurity() bool { return false }

// TestVStreamAllShards: a VStream of keyspace customer with shard "" covers both shards: its
// VGTID names -80 and 80-, and rows inserted through the gateway arrive from the shard that
// holds each (read from the replicas).
func TestVStreamAllShards(t *testing.T) {
	g := newGateway(t, func(c *gateway.Config) { c.GRPCAddr = "127.0.0.1:0" })
	addTable(t, "CREATE TABLE v_evt (id BIGINT NOT NULL PRIMARY KEY, v VARCHAR(16))", "v_evt",
		`{"column_vindexes": [{"column": "id", "name": "hash"}]}`)
	cc, err := grpc.NewClient(g.GRPCAddr(), grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithPerRPCCredentials(staticCreds{"app", "app"}))
	if err != nil {
		t.Fatal(err)
	}
	defer cc.Close()
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	stream, err := vtgateservice.NewVitessClient(cc).VStream(ctx, &vtgatepb.VStreamRequest{
		TabletType: topodatapb.TabletType_REPLICA,
		Vgtid:      &binlogdatapb.VGtid{ShardGtids: []*binlogdatapb.ShardGtid{{Keyspace: "customer", Shard: "", Gtid: "current"}}},
		Filter:     &binlogdatapb.Filter{Rules: []*binlogdatapb.Rule{{Match: "v_evt"}}},
		Flags:      &vtgatepb.VStreamFlags{HeartbeatInterval: 1},
	})
	if err != nil {
		t.Fatal(err)
	}
	// The first response is the starting VGTID: one position per shard.
	first, err := stream.Recv()
	if err != nil {
		t.Fatal(err)
	}
	shards := map[string]bool{}
	for _, ev := range first.Events {
		if ev.Type == binlogdatapb.VEventType_VGTID {
			for _, sg := range ev.Vgtid.ShardGtids {
				shards[sg.Keyspace+"/"+sg.Shard] = sg.Gtid != ""
			}
		}
	}
	if len(shards) != 2 || !shards["customer/-80"] || !shards["customer/80-"] {
		t.Fatalf("starting VGTID %v, want positions of customer/-80 and customer/80-", shards)
	}
	low, high := idsOnShards(1, 3)
	ids := append(low, high...)
	db := openDB(t, dsn(gw, "customer"))
	for _, id := range ids {
		mustExec(t, db, fmt.Sprintf("INSERT INTO v_evt (id, v) VALUES (%d, 'v%d')", id, id))
	}
	want := map[string]string{} // row values -> shard
	for _, id := range ids {
		want[fmt.Sprintf("%dv%d", id, id)] = shardOf(id)
	}
	for len(want) > 0 {
		resp, err := stream.Recv()
		if err != nil {
			t.Fatalf("stream ended with rows %v missing: %v", want, err)
		}
		for _, ev := range resp.Events {
			if ev.Type != binlogdatapb.VEventType_ROW || ev.RowEvent.TableName != "customer.v_evt" {
				continue
			}
			for _, rc := range ev.RowEvent.RowChanges {
				vals := string(rc.After.Values)
				sh, ok := want[vals]
				if !ok {
					t.Fatalf("unexpected row %q", vals)
				}
				if ev.RowEvent.Shard != sh {
					t.Errorf("row %q came from shard %s, it is on %s", vals, ev.RowEvent.Shard, sh)
				}
				delete(want, vals)
			}
		}
	}
}

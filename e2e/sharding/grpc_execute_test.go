package sharding

import (
	"context"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	querypb "vitess.io/vitess/go/vt/proto/query"
	vtgatepb "vitess.io/vitess/go/vt/proto/vtgate"
	"vitess.io/vitess/go/vt/proto/vtgateservice"

	"github.com/vtdirect/vtdirect/gateway"
)

// TestGRPCExecuteOnShardedKeyspace: gRPC Execute runs a statement on one tablet, so on a
// sharded keyspace it would answer from whichever shard it picked. Without a shard in the
// target it is refused with a message naming a shard target; with one it runs there; the gateway's
// own answers (SHOW VITESS_SHARDS) still work.
func TestGRPCExecuteOnShardedKeyspace(t *testing.T) {
	g := newGateway(t, func(c *gateway.Config) { c.GRPCAddr = "127.0.0.1:0" })
	cc, err := grpc.NewClient(g.GRPCAddr(), grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithPerRPCCredentials(staticCreds{"app", "app"}))
	if err != nil {
		t.Fatal(err)
	}
	defer cc.Close()
	vc := vtgateservice.NewVitessClient(cc)
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	exec := func(target, sql string) *vtgatepb.ExecuteResponse {
		t.Helper()
		resp, err := vc.Execute(ctx, &vtgatepb.ExecuteRequest{
			Session: &vtgatepb.Session{TargetString: target, Autocommit: true},
			Query:   &querypb.BoundQuery{Sql: sql},
		})
		if err != nil {
			t.Fatalf("Execute %q in %s: %v", sql, target, err)
		}
		return resp
	}
	total := queryInt(t, openDB(t, dsn(gw, "customer")), "SELECT COUNT(*) FROM customer")
	if total == 0 {
		t.Fatal("no sample rows in customer.customer")
	}
	resp := exec("customer", "SELECT COUNT(*) FROM customer")
	if resp.Error == nil {
		t.Fatalf("Execute on sharded customer without a shard: %v rows, want an error (the whole keyspace has %d)", resp.Result.GetRows(), total)
	}
	if !strings.Contains(resp.Error.Message, "customer:-80") {
		t.Errorf("error %q: want one naming a shard target", resp.Error.Message)
	}
	var sum int64
	for _, sh := range []string{"-80", "80-"} {
		resp := exec("customer:"+sh, "SELECT COUNT(*) FROM customer")
		if resp.Error != nil || len(resp.Result.GetRows()) != 1 {
			t.Fatalf("Execute in customer:%s: %v", sh, resp.Error)
		}
		n := int64(0)
		for _, c := range string(resp.Result.Rows[0].Values) {
			n = n*10 + int64(c-'0')
		}
		sum += n
	}
	if sum != total {
		t.Errorf("the shards count %d rows, the keyspace %d", sum, total)
	}
	if resp := exec("customer", "SHOW VITESS_SHARDS"); resp.Error != nil || len(resp.Result.GetRows()) == 0 {
		t.Errorf("SHOW VITESS_SHARDS: %v", resp.Error)
	}
}

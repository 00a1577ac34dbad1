package vstream_test

import (
	"context"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	binlogdatapb "vitess.io/vitess/go/vt/proto/binlogdata"
	querypb "vitess.io/vitess/go/vt/proto/query"
	topodatapb "vitess.io/vitess/go/vt/proto/topodata"
	vtgatepb "vitess.io/vitess/go/vt/proto/vtgate"
)

// A copy resumed from table_p_ks a client made up is refused with InvalidArgument, and the
// server keeps serving: a lastpk whose lengths run past its values, a NULL key value, and a
// lastpk of two values for t1's one-column key (before, the copy retried it until the client
// gave up; fewer values than key columns indexed past the lastpk's end).
func TestResumeFromBadLastPK(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	c := startCluster(t, ctx, 0)
	fill(t, c, 10)
	client := serve(t, newPicker(c), nil)
	row := func(lengths []int64, values string) *querypb.QueryResult {
		return &querypb.QueryResult{Rows: []*querypb.Row{{Lengths: lengths, Values: []byte(values)}}}
	}
	for name, lastpk := range map[string]*querypb.QueryResult{
		"lengths past the values": row([]int64{9}, "5"),
		"NULL key":                row([]int64{-1}, ""),
		"two values, one key":     row([]int64{1, 1}, "57"),
	} {
		vg := vgtid("")
		vg.ShardGtids[0].TablePKs = []*binlogdatapb.TableLastPK{{TableName: "t1", Lastpk: lastpk}}
		req := &vtgatepb.VStreamRequest{TabletType: topodatapb.TabletType_PRIMARY, Vgtid: vg,
			Filter: &binlogdatapb.Filter{Rules: []*binlogdatapb.Rule{{Match: "t1"}}}}
		sctx, scancel := context.WithTimeout(ctx, 20*time.Second)
		err := stream(sctx, client, req, newConsumer())
		scancel()
		if status.Code(err) != codes.InvalidArgument {
			t.Errorf("%s: stream ended with %v, want InvalidArgument", name, err)
		}
	}
	// The server still streams: a good resume point copies t1 after id 5.
	vg := vgtid("")
	vg.ShardGtids[0].TablePKs = []*binlogdatapb.TableLastPK{{TableName: "t1", Lastpk: row([]int64{1}, "5")}}
	cons := newConsumer()
	sctx, scancel := context.WithCancel(ctx)
	defer scancel()
	go func() {
		_ = stream(sctx, client, &vtgatepb.VStreamRequest{TabletType: topodatapb.TabletType_PRIMARY, Vgtid: vg,
			Filter: &binlogdatapb.Filter{Rules: []*binlogdatapb.Rule{{Match: "t1"}}}}, cons)
	}()
	waitFor(t, ctx, "copy completed", func() (bool, string) {
		cons.mu.Lock()
		defer cons.mu.Unlock()
		return cons.copyDone, "no COPY_COMPLETED"
	})
}

package vstream_test

import (
	"context"
	"io"
	"sync"
	"testing"
	"time"

	binlogdatapb "vitess.io/vitess/go/vt/proto/binlogdata"
	topodatapb "vitess.io/vitess/go/vt/proto/topodata"
	vtgatepb "vitess.io/vitess/go/vt/proto/vtgate"

	"github.com/vtdirect/vtdirect/vstream"
)

// TestLargeTransactions: two shards each commit a transaction of about 12 MiB at the same time
// (3 times grpc-go's default 4 MiB message limit, which the test's client keeps). Each goes out
// in many responses, none larger than the packet size plus one row; with
// transaction_chunk_size, the chunks of one transaction are not interleaved with the other
// shard's events; every row arrives once, between its BEGIN and COMMIT.
func TestLargeTransactions(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	a, b := startCluster(t, ctx, 0), startCluster(t, ctx, 0)
	for _, c := range []*cluster{a, b} {
		c.exec(t, "CREATE TABLE t.big (id INT PRIMARY KEY, pad LONGTEXT)")
	}
	const packet = 200_000
	client := serve(t, shardPicker{shards: map[string]*cluster{"-80": a, "80-": b}}, func(cfg *vstream.Config) { cfg.MaxResponseBytes = packet })
	s, err := client.VStream(ctx, &vtgatepb.VStreamRequest{TabletType: topodatapb.TabletType_PRIMARY,
		Vgtid:  &binlogdatapb.VGtid{ShardGtids: []*binlogdatapb.ShardGtid{{Keyspace: "ks", Gtid: "current"}}},
		Filter: &binlogdatapb.Filter{Rules: []*binlogdatapb.Rule{{Match: "big"}}},
		Flags:  &vtgatepb.VStreamFlags{TransactionChunkSize: 1 << 20}})
	if err != nil {
		t.Fatal(err)
	}
	// Both shards' "current" VGTIDs first, so that the inserts come after the stream started.
	starts := 0
	for starts < 2 {
		resp, err := s.Recv()
		if err != nil {
			t.Fatal(err)
		}
		for _, ev := range resp.Events {
			if ev.Type == binlogdatapb.VEventType_OTHER {
				starts++
			}
		}
	}
	const rows, rowBytes = 3000, 4000
	var wg sync.WaitGroup
	for _, c := range []*cluster{a, b} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := c.pdb.ExecContext(ctx, "INSERT INTO t.big SELECT seq, REPEAT('x', ?) FROM t.seq_1_to_3000", rowBytes); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	var (
		inTx      string // shard whose transaction is open
		got       = map[string]int{}
		responses = map[string]int{} // responses that carried rows, per shard
		commits   int
	)
	for commits < 2 {
		resp, err := s.Recv()
		if err == io.EOF || err != nil {
			t.Fatalf("stream ended after %v rows: %v", got, err)
		}
		if n := resp.SizeVT(); n > packet+rowBytes+1024 {
			t.Fatalf("response of %d bytes, packet size %d", n, packet)
		}
		withRows := map[string]bool{}
		for _, ev := range resp.Events {
			switch ev.Type {
			case binlogdatapb.VEventType_BEGIN:
				if inTx != "" {
					t.Fatalf("BEGIN of shard %s inside the open transaction of shard %s", ev.Shard, inTx)
				}
				inTx = ev.Shard
			case binlogdatapb.VEventType_ROW:
				if ev.Shard != inTx {
					t.Fatalf("row of shard %s inside the transaction of shard %q", ev.Shard, inTx)
				}
				got[ev.Shard] += len(ev.RowEvent.RowChanges)
				withRows[ev.Shard] = true
			case binlogdatapb.VEventType_COMMIT:
				if ev.Shard != inTx {
					t.Fatalf("COMMIT of shard %s inside the transaction of shard %q", ev.Shard, inTx)
				}
				inTx = ""
				commits++
			}
		}
		for sh := range withRows {
			responses[sh]++
		}
	}
	for _, sh := range []string{"-80", "80-"} {
		if got[sh] != rows {
			t.Errorf("shard %s: %d rows, want %d", sh, got[sh], rows)
		}
		if min := rows * rowBytes / packet; responses[sh] < min {
			t.Errorf("shard %s: rows in %d responses, want at least %d", sh, responses[sh], min)
		}
	}
}

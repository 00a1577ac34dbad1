package vstream_test

import (
	"context"
	"testing"
	"time"

	binlogdatapb "vitess.io/vitess/go/vt/proto/binlogdata"
	topodatapb "vitess.io/vitess/go/vt/proto/topodata"
	vtgatepb "vitess.io/vitess/go/vt/proto/vtgate"
)

// TestHistoryBounds: on a source without full row metadata, rows are decoded from the schema
// history, which starts when vtdirect first streams the shard: rows after it arrive in their
// shape (here across a column rename, which keeps the binlog's column types), and a resume
// from a position older than the history fails with FAILED_PRECONDITION saying so, instead of
// decoding the old rows with today's columns.
func TestHistoryBounds(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c := startClusterArgs(t, ctx, []string{"--binlog-row-metadata=MINIMAL"})
	var old string
	if err := c.pdb.QueryRow("SELECT @@gtid_binlog_pos").Scan(&old); err != nil {
		t.Fatal(err)
	}
	c.exec(t, "INSERT INTO t.t2 VALUES ('before', 1)")
	client := serve(t, newPicker(c), nil)
	filter := &binlogdatapb.Filter{Rules: []*binlogdatapb.Rule{{Match: "t2"}}}
	cons := newConsumer()
	sctx, scancel := context.WithCancel(ctx)
	defer scancel()
	go func() {
		_ = stream(sctx, client, &vtgatepb.VStreamRequest{TabletType: topodatapb.TabletType_PRIMARY, Vgtid: vgtid("current"), Filter: filter}, cons)
	}()
	waitFor(t, ctx, "the stream's start", func() (bool, string) {
		cons.mu.Lock()
		defer cons.mu.Unlock()
		return cons.vgtid != nil, "no VGTID"
	})
	c.exec(t, "INSERT INTO t.t2 VALUES ('a', 2)")
	c.exec(t, "ALTER TABLE t.t2 RENAME COLUMN w TO w2")
	c.exec(t, "INSERT INTO t.t2 VALUES ('b', 3)")
	waitFor(t, ctx, "both rows", func() (bool, string) { return len(cons.snapshot("ks.t2")) == 2, "" })
	cons.mu.Lock()
	var shapes []string
	for _, ev := range cons.events {
		if ev.Type == binlogdatapb.VEventType_FIELD {
			shapes = append(shapes, ev.FieldEvent.Fields[1].Name)
		}
	}
	cons.mu.Unlock()
	if len(shapes) != 2 || shapes[0] != "w" || shapes[1] != "w2" {
		t.Errorf("FIELD events name the second column %v, want [w w2]", shapes)
	}
	rctx, rcancel := context.WithTimeout(ctx, 60*time.Second)
	defer rcancel()
	err := stream(rctx, client, &vtgatepb.VStreamRequest{TabletType: topodatapb.TabletType_PRIMARY, Vgtid: vgtid("MariaDB/" + old), Filter: filter}, newConsumer())
	wantPrecondition(t, err, "older than the schema history", "binlog_row_metadata=FULL")
}

package vstream_test

import (
	"context"
	"testing"
	"time"

	binlogdatapb "vitess.io/vitess/go/vt/proto/binlogdata"
	topodatapb "vitess.io/vitess/go/vt/proto/topodata"
	vtgatepb "vitess.io/vitess/go/vt/proto/vtgate"
)

// TestXA: a prepared XA transaction's rows arrive when it commits, as one transaction at the
// commit's position (after transactions committed in between); a rolled back one sends no
// rows; ONE PHASE commits are ordinary transactions.
func TestXA(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c := startCluster(t, ctx, 0)
	client := serve(t, newPicker(c), nil)
	cons := newConsumer()
	sctx, scancel := context.WithCancel(ctx)
	defer scancel()
	go func() {
		_ = stream(sctx, client, &vtgatepb.VStreamRequest{TabletType: topodatapb.TabletType_PRIMARY, Vgtid: vgtid("current"),
			Filter: &binlogdatapb.Filter{Rules: []*binlogdatapb.Rule{{Match: "t1"}}}}, cons)
	}()
	waitFor(t, ctx, "stream start", func() (bool, string) {
		cons.mu.Lock()
		defer cons.mu.Unlock()
		return cons.vgtid != nil, "no VGTID"
	})
	xa, err := c.pdb.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer xa.Close()
	run := func(q string) {
		t.Helper()
		if _, err := xa.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	run("XA START 'x1'")
	run("INSERT INTO t.t1 (id, v) VALUES (1, 'prepared')")
	run("XA END 'x1'")
	run("XA PREPARE 'x1'")
	c.exec(t, "INSERT INTO t.t1 (id, v) VALUES (2, 'plain')")
	run("XA COMMIT 'x1'")
	run("XA START 'x2'")
	run("INSERT INTO t.t1 (id, v) VALUES (3, 'rolled back')")
	run("XA END 'x2'")
	run("XA PREPARE 'x2'")
	run("XA ROLLBACK 'x2'")
	run("XA START 'x3'")
	run("INSERT INTO t.t1 (id, v) VALUES (4, 'one phase')")
	run("XA END 'x3'")
	run("XA COMMIT 'x3' ONE PHASE")
	waitFor(t, ctx, "rows", func() (bool, string) { return sameRows(t, cons, c.pdb, "t1") })
	cons.mu.Lock()
	defer cons.mu.Unlock()
	if cons.err != nil {
		t.Fatal(cons.err)
	}
	checkPairs(t, cons.events)
	var order []string
	for _, ev := range cons.events {
		if ev.Type == binlogdatapb.VEventType_ROW {
			pk, _ := rowText(ev.RowEvent.RowChanges[0].After)
			order = append(order, pk)
		}
	}
	if len(order) != 3 || order[0] != "2" || order[1] != "1" || order[2] != "4" {
		t.Errorf("rows in order %v, want [2 1 4] (the prepared row at its commit, no rolled back row)", order)
	}
}

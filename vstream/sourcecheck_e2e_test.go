package vstream_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	binlogdatapb "vitess.io/vitess/go/vt/proto/binlogdata"
	topodatapb "vitess.io/vitess/go/vt/proto/topodata"
	vtgatepb "vitess.io/vitess/go/vt/proto/vtgate"
)

// wantPrecondition checks that err is FAILED_PRECONDITION and names every word.
func wantPrecondition(t *testing.T, err error, words ...string) {
	t.Helper()
	if status.Code(err) != codes.FailedPrecondition {
		t.Fatalf("stream error %v (%v), want FAILED_PRECONDITION", err, status.Code(err))
	}
	for _, w := range words {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q does not name %q", err, w)
		}
	}
}

// TestSourceChecks: sources whose binlog settings would make the stream silently wrong are
// refused; the stream uses a fit tablet when there is one and fails with FAILED_PRECONDITION
// naming the setting when there is none.
func TestSourceChecks(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	c := startClusterArgs(t, ctx, nil, []string{"--binlog-row-image=MINIMAL"}, []string{"--log-slave-updates=OFF"}, []string{"--binlog-format=MIXED"})
	p := newPicker(c)
	client := serve(t, p, nil)
	run := func(types string, tt topodatapb.TabletType) (*consumer, error) {
		cons := newConsumer()
		sctx, scancel := context.WithTimeout(ctx, 20*time.Second)
		defer scancel()
		errc := make(chan error, 1)
		go func() {
			errc <- stream(sctx, client, &vtgatepb.VStreamRequest{TabletType: tt, Vgtid: vgtid("current"),
				Filter: &binlogdatapb.Filter{Rules: []*binlogdatapb.Rule{{Match: "t1"}}}, Flags: &vtgatepb.VStreamFlags{TabletOrder: types, Cells: "zone1,zone2"}}, cons)
		}()
		select {
		case err := <-errc:
			return cons, err
		case <-time.After(3 * time.Second):
		}
		c.exec(t, "INSERT INTO t.t1 (id, v) VALUES (?, 'x')", time.Now().UnixNano()%1e9)
		waitFor(t, sctx, "a row", func() (bool, string) {
			cons.mu.Lock()
			defer cons.mu.Unlock()
			return len(cons.rows["ks.t1"]) > 0, "no row"
		})
		scancel()
		return cons, <-errc
	}
	// Replicas only: every one is unfit (zone1-101 MINIMAL image, zone2-102 no log_slave_updates,
	// zone1-103 MIXED).
	_, err := run("", topodatapb.TabletType_REPLICA)
	wantPrecondition(t, err, "zone1-101", "binlog_row_image is MINIMAL", "zone2-102", "log_slave_updates is OFF", "zone1-103", "binlog_format is MIXED")
	// Replicas, then the primary: the primary serves, the unfit replicas are skipped.
	p.mu.Lock()
	p.picks = nil
	p.mu.Unlock()
	if _, err := run("in_order:REPLICA,PRIMARY", topodatapb.TabletType_REPLICA); err != nil && status.Code(err) != codes.Canceled && status.Code(err) != codes.DeadlineExceeded {
		t.Fatalf("stream with a fit primary: %v", err)
	}
	if picks := p.picked(); len(picks) == 0 || picks[len(picks)-1] != "zone1-100" {
		t.Errorf("picks %v, want the primary zone1-100 last", picks)
	}
}

// TestPurgedPosition: a resume from a position whose binlogs the source purged fails with
// FAILED_PRECONDITION naming the position, instead of retrying forever.
func TestPurgedPosition(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c := startCluster(t, ctx, 0)
	c.exec(t, "INSERT INTO t.t1 (id, v) VALUES (1, 'a')")
	var pos string
	if err := c.pdb.QueryRow("SELECT @@gtid_binlog_pos").Scan(&pos); err != nil {
		t.Fatal(err)
	}
	c.exec(t, "INSERT INTO t.t1 (id, v) VALUES (2, 'b')")
	c.exec(t, "FLUSH BINARY LOGS")
	c.exec(t, "INSERT INTO t.t1 (id, v) VALUES (3, 'c')")
	var file string
	var x any
	if err := c.pdb.QueryRow("SHOW MASTER STATUS").Scan(&file, &x, &x, &x); err != nil {
		t.Fatal(err)
	}
	c.exec(t, "PURGE BINARY LOGS TO '"+file+"'")
	client := serve(t, newPicker(c), nil)
	sctx, scancel := context.WithTimeout(ctx, 60*time.Second)
	defer scancel()
	err := stream(sctx, client, &vtgatepb.VStreamRequest{TabletType: topodatapb.TabletType_PRIMARY, Vgtid: vgtid("MariaDB/" + pos)}, newConsumer())
	wantPrecondition(t, err, "MariaDB/"+pos, "zone1-100")
}

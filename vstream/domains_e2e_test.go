package vstream_test

import (
	"context"
	"strings"
	"testing"
	"time"

	binlogdatapb "vitess.io/vitess/go/vt/proto/binlogdata"
	topodatapb "vitess.io/vitess/go/vt/proto/topodata"
	vtgatepb "vitess.io/vitess/go/vt/proto/vtgate"
)

// TestGTIDDomains: writes in two MariaDB replication domains (gtid_domain_id 0 and 7) give
// VGTIDs with one GTID per domain; a stream resumed from a VGTID saved mid-way gets exactly
// the changes after it, in both domains.
func TestGTIDDomains(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c := startCluster(t, ctx, 0)
	client := serve(t, newPicker(c), nil)
	conn, err := c.pdb.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "SET SESSION gtid_domain_id = 7"); err != nil {
		t.Fatal(err)
	}
	write := func(id int, domain7 bool) {
		t.Helper()
		q := "INSERT INTO t.t1 (id, v) VALUES (?, 'x')"
		var err error
		if domain7 {
			_, err = conn.ExecContext(ctx, q, id)
		} else {
			_, err = c.pdb.ExecContext(ctx, q, id)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	first := newConsumer()
	sctx, scancel := context.WithCancel(ctx)
	go func() {
		_ = stream(sctx, client, &vtgatepb.VStreamRequest{TabletType: topodatapb.TabletType_PRIMARY, Vgtid: vgtid("current"),
			Filter: &binlogdatapb.Filter{Rules: []*binlogdatapb.Rule{{Match: "t1"}}}}, first)
	}()
	waitFor(t, ctx, "start", func() (bool, string) {
		first.mu.Lock()
		defer first.mu.Unlock()
		return first.vgtid != nil, ""
	})
	write(1, false)
	write(2, true)
	write(3, false)
	waitFor(t, ctx, "three rows", func() (bool, string) { return len(first.snapshot("ks.t1")) == 3, "" })
	first.mu.Lock()
	saved := first.vgtid.CloneVT()
	first.mu.Unlock()
	scancel()
	pos := saved.ShardGtids[0].Gtid
	if !strings.Contains(pos, "0-100-") || !strings.Contains(pos, "7-100-") {
		t.Fatalf("VGTID %s, want a GTID of domains 0 and 7", pos)
	}
	write(4, true)
	write(5, false)
	write(6, true)
	resumed := newConsumer()
	rctx, rcancel := context.WithCancel(ctx)
	defer rcancel()
	go func() {
		_ = stream(rctx, client, &vtgatepb.VStreamRequest{TabletType: topodatapb.TabletType_PRIMARY, Vgtid: saved,
			Filter: &binlogdatapb.Filter{Rules: []*binlogdatapb.Rule{{Match: "t1"}}}}, resumed)
	}()
	waitFor(t, ctx, "the rows after the saved VGTID", func() (bool, string) {
		got := resumed.snapshot("ks.t1")
		return len(got) == 3 && got["4"] != "" && got["5"] != "" && got["6"] != "", ""
	})
	var now string
	if err := c.pdb.QueryRow("SELECT @@gtid_binlog_pos").Scan(&now); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, "the final VGTID", func() (bool, string) {
		resumed.mu.Lock()
		defer resumed.mu.Unlock()
		g := resumed.vgtid.GetShardGtids()
		return len(g) == 1 && g[0].Gtid == "MariaDB/"+now, "vgtid " + resumed.vgtid.String() + ", server " + now
	})
}

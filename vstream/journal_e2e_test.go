package vstream_test

import (
	"context"
	"io"
	"testing"
	"time"

	"google.golang.org/protobuf/encoding/prototext"
	binlogdatapb "vitess.io/vitess/go/vt/proto/binlogdata"
	topodatapb "vitess.io/vitess/go/vt/proto/topodata"
	vtgatepb "vitess.io/vitess/go/vt/proto/vtgate"
)

// TestReshardJournal: shards -80 and 80- are resharded into shard 0; each old shard gets the
// journal row Vitess writes at the cut-over. With stop_on_reshard the client gets both JOURNAL
// events and then the end of the stream; without it, the stream moves to shard 0 at the
// journal's position and goes on with its changes.
func TestReshardJournal(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	a, b, n := startCluster(t, ctx, 0), startCluster(t, ctx, 0), startCluster(t, ctx, 0)
	var newPos string
	if err := n.pdb.QueryRow("SELECT @@gtid_binlog_pos").Scan(&newPos); err != nil {
		t.Fatal(err)
	}
	journal := &binlogdatapb.Journal{Id: 7, MigrationType: binlogdatapb.MigrationType_SHARDS,
		Participants: []*binlogdatapb.KeyspaceShard{{Keyspace: "ks", Shard: "-80"}, {Keyspace: "ks", Shard: "80-"}},
		ShardGtids:   []*binlogdatapb.ShardGtid{{Keyspace: "ks", Shard: "0", Gtid: "MariaDB/" + newPos}}}
	val, err := prototext.Marshal(journal)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []*cluster{a, b} {
		c.exec(t, "CREATE DATABASE _vt")
		c.exec(t, "CREATE TABLE _vt.resharding_journal (id BIGINT NOT NULL PRIMARY KEY, db_name VARBINARY(255), val LONGBLOB)")
	}
	client := serve(t, shardPicker{shards: map[string]*cluster{"-80": a, "80-": b, "0": n}}, nil)
	run := func(stop bool) (*consumer, chan error, context.CancelFunc) {
		cons := newConsumer()
		sctx, scancel := context.WithCancel(ctx)
		done := make(chan error, 1)
		go func() {
			done <- stream(sctx, client, &vtgatepb.VStreamRequest{TabletType: topodatapb.TabletType_PRIMARY,
				Vgtid:  &binlogdatapb.VGtid{ShardGtids: []*binlogdatapb.ShardGtid{{Keyspace: "ks", Gtid: "current"}}},
				Filter: &binlogdatapb.Filter{Rules: []*binlogdatapb.Rule{{Match: "t1"}}},
				Flags:  &vtgatepb.VStreamFlags{StopOnReshard: stop}}, cons)
		}()
		waitFor(t, ctx, "both shards started", func() (bool, string) {
			cons.mu.Lock()
			defer cons.mu.Unlock()
			return len(cons.vgtid.GetShardGtids()) == 2 && cons.vgtid.ShardGtids[0].Gtid != "current" && cons.vgtid.ShardGtids[1].Gtid != "current", "no VGTID yet"
		})
		return cons, done, scancel
	}

	// stop_on_reshard.
	cons, done, scancel := run(true)
	defer scancel()
	a.exec(t, "INSERT INTO t.t1 (id, v) VALUES (1, 'old a')")
	for _, c := range []*cluster{a, b} {
		c.exec(t, "INSERT INTO _vt.resharding_journal VALUES (?, 't', ?)", 7, val)
	}
	select {
	case err := <-done:
		if err != nil && err != io.EOF {
			t.Fatalf("stream with stop_on_reshard ended with %v, want the end of the stream", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("stream with stop_on_reshard did not end at the journal")
	}
	cons.mu.Lock()
	journals := 0
	for _, ev := range cons.events {
		if ev.Type == binlogdatapb.VEventType_JOURNAL {
			journals++
			if ev.Journal.Id != 7 || len(ev.Journal.ShardGtids) != 1 {
				t.Errorf("journal %v", ev.Journal)
			}
		}
	}
	rows := len(cons.rows["ks.t1"])
	cons.mu.Unlock()
	if journals != 2 || rows != 1 {
		t.Errorf("%d JOURNAL events and %d rows, want 2 and 1", journals, rows)
	}

	// Without stop_on_reshard: from a position before the journals, the stream follows the
	// reshard to shard 0.
	for _, c := range []*cluster{a, b} {
		c.exec(t, "DELETE FROM _vt.resharding_journal")
	}
	cons, done, scancel = run(false)
	defer scancel()
	for _, c := range []*cluster{a, b} {
		c.exec(t, "INSERT INTO _vt.resharding_journal VALUES (7, 't', ?)", val)
	}
	n.exec(t, "INSERT INTO t.t1 (id, v) VALUES (2, 'new shard')")
	waitFor(t, ctx, "the new shard's row", func() (bool, string) {
		cons.mu.Lock()
		defer cons.mu.Unlock()
		return len(cons.rows["ks.t1"]) == 1, "no row from shard 0"
	})
	cons.mu.Lock()
	defer cons.mu.Unlock()
	if sg := cons.vgtid.GetShardGtids(); len(sg) != 1 || sg[0].Shard != "0" {
		t.Errorf("VGTID after the reshard %v, want shard 0 only", cons.vgtid)
	}
	for _, ev := range cons.events {
		if ev.Type == binlogdatapb.VEventType_JOURNAL {
			t.Errorf("JOURNAL event sent without stop_on_reshard or include_reshard_journal_events")
		}
	}
	select {
	case err := <-done:
		t.Fatalf("stream ended: %v", err)
	default:
	}
}

package vstream_test

import (
	"context"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	binlogdatapb "vitess.io/vitess/go/vt/proto/binlogdata"
	topodatapb "vitess.io/vitess/go/vt/proto/topodata"
	vtgatepb "vitess.io/vitess/go/vt/proto/vtgate"

	"github.com/vtdirect/vtdirect/vstream"
)

func vgtid(gtid string) *binlogdatapb.VGtid {
	return &binlogdatapb.VGtid{ShardGtids: []*binlogdatapb.ShardGtid{{Keyspace: "ks", Shard: "0", Gtid: gtid}}}
}

// writer changes t.t1 at random until stopped: inserts, updates (also of the key) and deletes.
func writer(t *testing.T, c *cluster, stop <-chan struct{}, wg *sync.WaitGroup, seed uint64) {
	defer wg.Done()
	r := rand.New(rand.NewPCG(seed, 1))
	for i := 0; ; i++ {
		select {
		case <-stop:
			return
		default:
		}
		id := r.IntN(3000)
		var err error
		switch r.IntN(4) {
		case 0:
			_, err = c.pdb.Exec("INSERT IGNORE INTO t.t1 (id, v, n, e, s) VALUES (?, ?, ?, 'b', 'x,y')", id, "w", i)
		case 1:
			_, err = c.pdb.Exec("UPDATE t.t1 SET v = CONCAT(v, '+'), n = ? WHERE id = ?", i, id)
		case 2:
			_, err = c.pdb.Exec("DELETE FROM t.t1 WHERE id = ?", id)
		case 3:
			_, err = c.pdb.Exec("UPDATE IGNORE t.t1 SET id = ? WHERE id = ?", r.IntN(3000), id)
		}
		if err != nil {
			t.Errorf("writer: %v", err)
			return
		}
	}
}

func fill(t *testing.T, c *cluster, n int) {
	t.Helper()
	c.exec(t, "INSERT INTO t.t1 (id, v, n, e, s) SELECT seq, CONCAT('v', seq), seq * 2, 'a', 'y' FROM t.seq_1_to_"+strconv.Itoa(n))
}

// TestCopyThenStream copies a table that changes during the copy (small chunks), then streams;
// the consumer must end with exactly the table, with no duplicate and no gap.
func TestCopyThenStream(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	c := startCluster(t, ctx, 1)
	fill(t, c, 2000)
	c.exec(t, "INSERT INTO t.t2 VALUES ('a', 1), ('b', 2)")
	p := newPicker(c)
	client := serve(t, p, func(cfg *vstream.Config) { cfg.CopyChunkRows = 97 })

	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go writer(t, c, stop, &wg, 1)

	cons := newConsumer()
	sctx, scancel := context.WithCancel(ctx)
	errc := make(chan error, 1)
	go func() {
		errc <- stream(sctx, client, &vtgatepb.VStreamRequest{TabletType: topodatapb.TabletType_REPLICA, Vgtid: vgtid("")}, cons)
	}()
	waitFor(t, ctx, "copy completed", func() (bool, string) {
		cons.mu.Lock()
		defer cons.mu.Unlock()
		return cons.copyDone, "no COPY_COMPLETED yet"
	})
	close(stop)
	wg.Wait()
	waitFor(t, ctx, "consumer == t1", func() (bool, string) { return sameRows(t, cons, c.pdb, "t1") })
	waitFor(t, ctx, "consumer == t2", func() (bool, string) { return sameRows(t, cons, c.pdb, "t2") })
	scancel()
	<-errc
	cons.mu.Lock()
	defer cons.mu.Unlock()
	if cons.err != nil {
		t.Fatal(cons.err)
	}
	if f := cons.fields["ks.t1"]; f == nil || len(f.Fields) != 5 || f.Fields[0].Flags&uint32(2) == 0 || f.Fields[1].Flags&1 == 0 ||
		f.Fields[2].Type.String() != "UINT32" || f.Fields[3].Type.String() != "ENUM" || f.Fields[3].ColumnType != "enum('a','b','c')" {
		t.Errorf("FIELD of ks.t1 = %v", f)
	}
	if sg := cons.vgtid.GetShardGtids(); len(sg) != 1 || !strings.HasPrefix(sg[0].Gtid, "MariaDB/0-100-") || len(sg[0].TablePKs) != 0 {
		t.Errorf("final vgtid = %v", cons.vgtid)
	}
	checkPairs(t, cons.events)
}

// checkPairs checks that BEGIN and COMMIT alternate.
func checkPairs(t *testing.T, evs []*binlogdatapb.VEvent) {
	t.Helper()
	open := false
	for i, ev := range evs {
		switch ev.Type {
		case binlogdatapb.VEventType_BEGIN:
			if open {
				t.Fatalf("event %d: BEGIN inside a transaction", i)
			}
			open = true
		case binlogdatapb.VEventType_COMMIT:
			if !open {
				t.Fatalf("event %d: COMMIT without BEGIN", i)
			}
			open = false
		case binlogdatapb.VEventType_ROW:
			if !open {
				t.Fatalf("event %d: ROW outside a transaction", i)
			}
		}
	}
}

// TestResumeCurrentHeartbeat: "current" starts with VGTID+OTHER; a saved VGTID resumes with
// exactly the later changes; heartbeats arrive when idle.
func TestResumeCurrentHeartbeat(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c := startCluster(t, ctx, 0)
	fill(t, c, 10)
	client := serve(t, newPicker(c), nil)
	req := &vtgatepb.VStreamRequest{TabletType: topodatapb.TabletType_PRIMARY, Vgtid: vgtid("current"),
		Flags: &vtgatepb.VStreamFlags{HeartbeatInterval: 1}}

	cons := newConsumer()
	sctx, scancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- stream(sctx, client, req, cons) }()
	waitFor(t, ctx, "start vgtid", func() (bool, string) {
		cons.mu.Lock()
		defer cons.mu.Unlock()
		return len(cons.events) >= 2 && cons.events[0].Type == binlogdatapb.VEventType_VGTID && cons.events[1].Type == binlogdatapb.VEventType_OTHER, "no VGTID, OTHER"
	})
	c.exec(t, "INSERT INTO t.t1 (id, v) VALUES (100, 'x')")
	waitFor(t, ctx, "row 100", func() (bool, string) { return cons.snapshot("ks.t1")["100"] != "", "missing" })
	waitFor(t, ctx, "heartbeat", func() (bool, string) {
		cons.mu.Lock()
		defer cons.mu.Unlock()
		for _, ev := range cons.events {
			if ev.Type == binlogdatapb.VEventType_HEARTBEAT {
				return true, ""
			}
		}
		return false, "none"
	})
	scancel()
	<-done
	cons.mu.Lock()
	saved := cons.vgtid
	cons.mu.Unlock()

	c.exec(t, "INSERT INTO t.t1 (id, v) VALUES (101, 'y')")
	c.exec(t, "UPDATE t.t1 SET v = 'z' WHERE id = 100")
	cons2 := newConsumer()
	cons2.rows["ks.t1"] = map[string]string{"100": "100|x|NULL|NULL|NULL"}
	sctx2, scancel2 := context.WithCancel(ctx)
	defer scancel2()
	go func() {
		_ = stream(sctx2, client, &vtgatepb.VStreamRequest{TabletType: topodatapb.TabletType_PRIMARY, Vgtid: saved}, cons2)
	}()
	waitFor(t, ctx, "resumed changes", func() (bool, string) {
		r := cons2.snapshot("ks.t1")
		return r["101"] == "101|y|NULL|NULL|NULL" && r["100"] == "100|z|NULL|NULL|NULL", ""
	})
	cons2.mu.Lock()
	defer cons2.mu.Unlock()
	if cons2.err != nil {
		t.Fatal(cons2.err)
	}
}

// TestFilters: projections rename columns and skip others; a bad rule is InvalidArgument.
func TestFilters(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c := startCluster(t, ctx, 0)
	fill(t, c, 3)
	client := serve(t, newPicker(c), nil)

	bad := &vtgatepb.VStreamRequest{TabletType: topodatapb.TabletType_PRIMARY, Vgtid: vgtid("current"),
		Filter: &binlogdatapb.Filter{Rules: []*binlogdatapb.Rule{{Match: "t1", Filter: "select id from t1 where id > 3"}}}}
	err := stream(ctx, client, bad, newConsumer())
	if status.Code(err) != codes.InvalidArgument || !strings.Contains(err.Error(), "t1") {
		t.Fatalf("bad filter: got %v, want InvalidArgument naming the rule", err)
	}

	req := &vtgatepb.VStreamRequest{TabletType: topodatapb.TabletType_PRIMARY, Vgtid: vgtid(""),
		Filter: &binlogdatapb.Filter{Rules: []*binlogdatapb.Rule{{Match: "t1", Filter: "select id, v as val from t1 where in_keyrange('-')"}}},
		Flags:  &vtgatepb.VStreamFlags{ExcludeKeyspaceFromTableName: true}}
	cons := newConsumer()
	sctx, scancel := context.WithCancel(ctx)
	defer scancel()
	go func() { _ = stream(sctx, client, req, cons) }()
	c.exec(t, "INSERT INTO t.t2 VALUES ('zz', 1)")
	c.exec(t, "INSERT INTO t.t1 (id, v) VALUES (50, 'fifty')")
	waitFor(t, ctx, "row 50", func() (bool, string) {
		r := cons.snapshot("t1")
		return r["50"] == "50|fifty" && r["1"] == "1|v1", ""
	})
	cons.mu.Lock()
	defer cons.mu.Unlock()
	f := cons.fields["t1"]
	if f == nil || len(f.Fields) != 2 || f.Fields[1].Name != "val" {
		t.Fatalf("FIELD = %v", f)
	}
	if _, ok := cons.rows["t2"]; ok {
		t.Fatalf("t2 streamed despite the filter")
	}

	// flags.tables_to_copy: only t2 is copied; t1 still streams its changes.
	only := newConsumer()
	go func() {
		_ = stream(sctx, client, &vtgatepb.VStreamRequest{TabletType: topodatapb.TabletType_PRIMARY, Vgtid: vgtid(""),
			Flags: &vtgatepb.VStreamFlags{TablesToCopy: []string{"t2"}}}, only)
	}()
	waitFor(t, ctx, "copy of t2", func() (bool, string) {
		only.mu.Lock()
		defer only.mu.Unlock()
		return only.copyDone, ""
	})
	if got := only.snapshot("ks.t1"); len(got) != 0 {
		t.Fatalf("t1 copied despite tables_to_copy: %v", got)
	}
	if ok, msg := sameRows(t, only, c.pdb, "t2"); !ok {
		t.Fatalf("t2 copy: %s", msg)
	}
	c.exec(t, "INSERT INTO t.t1 (id, v) VALUES (51, 'x')")
	waitFor(t, ctx, "t1 change", func() (bool, string) { return only.snapshot("ks.t1")["51"] != "", "" })
}

// TestSourceFailover kills the replica being streamed from while rows change; the stream moves
// to the other replica and the consumer ends with exactly the table.
func TestSourceFailover(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 150*time.Second)
	defer cancel()
	c := startCluster(t, ctx, 2)
	fill(t, c, 500)
	p := newPicker(c)
	client := serve(t, p, nil)

	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go writer(t, c, stop, &wg, 2)

	cons := newConsumer()
	sctx, scancel := context.WithCancel(ctx)
	errc := make(chan error, 1)
	go func() {
		errc <- stream(sctx, client, &vtgatepb.VStreamRequest{TabletType: topodatapb.TabletType_REPLICA, Vgtid: vgtid(""),
			Flags: &vtgatepb.VStreamFlags{Cells: "zone1,zone2"}}, cons)
	}()
	waitFor(t, ctx, "copy completed", func() (bool, string) {
		cons.mu.Lock()
		defer cons.mu.Unlock()
		return cons.copyDone, "no COPY_COMPLETED yet"
	})
	if got := p.picked(); len(got) == 0 || got[len(got)-1] != "zone1-101" {
		t.Fatalf("picked %v, want zone1-101 first", got)
	}
	time.Sleep(200 * time.Millisecond) // let changes flow from the first source (not a correctness wait)
	p.setDown("zone1-101")
	c.replicas[0].Kill()
	waitFor(t, ctx, "switch to zone2-102", func() (bool, string) {
		got := p.picked()
		return got[len(got)-1] == "zone2-102", strings.Join(got, ",")
	})
	time.Sleep(200 * time.Millisecond)
	close(stop)
	wg.Wait()
	waitFor(t, ctx, "consumer == t1", func() (bool, string) { return sameRows(t, cons, c.pdb, "t1") })
	scancel()
	<-errc
	cons.mu.Lock()
	defer cons.mu.Unlock()
	if cons.err != nil {
		t.Fatal(cons.err)
	}
	checkPairs(t, cons.events)
}

// TestDebeziumStartup replays the VStream the Debezium Vitess connector opens: "select * from t"
// rules, stop_on_reshard, heartbeat_interval and an empty gtid (copy) for every shard ("").
func TestDebeziumStartup(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	c := startCluster(t, ctx, 1)
	fill(t, c, 5)
	c.exec(t, "INSERT INTO t.t2 VALUES ('a', 1)")
	client := serve(t, newPicker(c), nil)
	req := &vtgatepb.VStreamRequest{
		TabletType: topodatapb.TabletType_REPLICA,
		Vgtid:      &binlogdatapb.VGtid{ShardGtids: []*binlogdatapb.ShardGtid{{Keyspace: "ks", Shard: "", Gtid: ""}}},
		Filter: &binlogdatapb.Filter{Rules: []*binlogdatapb.Rule{
			{Match: "t1", Filter: "select * from t1"}, {Match: "t2", Filter: "select * from t2"}}},
		Flags: &vtgatepb.VStreamFlags{StopOnReshard: true, HeartbeatInterval: 1, Cells: "zone1", TabletOrder: "in_order:REPLICA,PRIMARY"},
	}
	cons := newConsumer()
	sctx, scancel := context.WithCancel(ctx)
	defer scancel()
	go func() { _ = stream(sctx, client, req, cons) }()
	waitFor(t, ctx, "copy completed", func() (bool, string) {
		cons.mu.Lock()
		defer cons.mu.Unlock()
		return cons.copyDone, "no COPY_COMPLETED"
	})
	c.exec(t, "INSERT INTO t.t2 VALUES ('b', 2)")
	waitFor(t, ctx, "t1", func() (bool, string) { return sameRows(t, cons, c.pdb, "t1") })
	waitFor(t, ctx, "t2", func() (bool, string) { return sameRows(t, cons, c.pdb, "t2") })
	cons.mu.Lock()
	defer cons.mu.Unlock()
	var copyCompleted []string
	for _, ev := range cons.events {
		if ev.Type == binlogdatapb.VEventType_COPY_COMPLETED {
			copyCompleted = append(copyCompleted, ev.Keyspace+"/"+ev.Shard)
		}
	}
	if strings.Join(copyCompleted, ",") != "ks/0,/" {
		t.Errorf("COPY_COMPLETED events %v, want one for ks/0 then one overall", copyCompleted)
	}
	if sg := cons.vgtid.GetShardGtids(); len(sg) != 1 || sg[0].Shard != "0" {
		t.Errorf("vgtid %v: want shard \"\" expanded to 0", cons.vgtid)
	}
}

// TestCopyResume stops a stream in the middle of the copy and resumes it from the last VGTID
// (table_p_ks with the last copied key) while the table changes; the consumer ends exact.
func TestCopyResume(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	c := startCluster(t, ctx, 0)
	fill(t, c, 3000)
	client := serve(t, newPicker(c), func(cfg *vstream.Config) { cfg.CopyChunkRows = 20 })
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go writer(t, c, stop, &wg, 3)
	defer func() {
		select {
		case <-stop:
		default:
			close(stop)
		}
		wg.Wait()
	}()

	req := &vtgatepb.VStreamRequest{TabletType: topodatapb.TabletType_PRIMARY, Vgtid: vgtid("")}
	cons := newConsumer()
	sctx, scancel := context.WithCancel(ctx)
	errc := make(chan error, 1)
	go func() { errc <- stream(sctx, client, req, cons) }()
	waitFor(t, ctx, "copy in progress", func() (bool, string) {
		cons.mu.Lock()
		defer cons.mu.Unlock()
		for _, tp := range cons.vgtid.GetShardGtids()[0:min(1, len(cons.vgtid.GetShardGtids()))] {
			for _, pk := range tp.TablePKs {
				if pk.TableName == "t1" && pk.Lastpk != nil {
					return true, ""
				}
			}
		}
		return false, "no lastpk for t1 yet"
	})
	scancel()
	<-errc
	cons.mu.Lock()
	saved := cons.vgtid.CloneVT()
	cons.mu.Unlock()
	if len(saved.ShardGtids[0].TablePKs) == 0 {
		t.Fatalf("saved vgtid %v has no table_p_ks", saved)
	}
	t.Logf("resuming from %v", saved)

	req.Vgtid = saved
	sctx2, scancel2 := context.WithCancel(ctx)
	defer scancel2()
	go func() { _ = stream(sctx2, client, req, cons) }()
	waitFor(t, ctx, "copy completed", func() (bool, string) {
		cons.mu.Lock()
		defer cons.mu.Unlock()
		return cons.copyDone, "no COPY_COMPLETED"
	})
	close(stop)
	wg.Wait()
	waitFor(t, ctx, "consumer == t1", func() (bool, string) { return sameRows(t, cons, c.pdb, "t1") })
	waitFor(t, ctx, "consumer == t2", func() (bool, string) { return sameRows(t, cons, c.pdb, "t2") })
	cons.mu.Lock()
	defer cons.mu.Unlock()
	if cons.err != nil {
		t.Fatal(cons.err)
	}
}

// TestDDL: a DDL arrives as VGTID, DDL, and the next rows carry a new FIELD with the new column.
func TestDDL(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	c := startCluster(t, ctx, 0)
	client := serve(t, newPicker(c), nil)
	cons := newConsumer()
	sctx, scancel := context.WithCancel(ctx)
	defer scancel()
	go func() {
		_ = stream(sctx, client, &vtgatepb.VStreamRequest{TabletType: topodatapb.TabletType_PRIMARY, Vgtid: vgtid("current")}, cons)
	}()
	waitFor(t, ctx, "start", func() (bool, string) {
		cons.mu.Lock()
		defer cons.mu.Unlock()
		return cons.vgtid != nil, ""
	})
	c.exec(t, "INSERT INTO t.t2 VALUES ('a', 1)")
	c.exec(t, "ALTER TABLE t.t2 ADD COLUMN z VARCHAR(3) DEFAULT 'zz'")
	c.exec(t, "INSERT INTO t.t2 (k, w) VALUES ('b', 2)")
	waitFor(t, ctx, "row b", func() (bool, string) { r := cons.snapshot("ks.t2"); return r["b"] == "b|2|zz", r["b"] })
	cons.mu.Lock()
	defer cons.mu.Unlock()
	var seq []string
	for _, ev := range cons.events {
		switch ev.Type {
		case binlogdatapb.VEventType_DDL:
			seq = append(seq, "DDL")
			if !strings.Contains(ev.Statement, "ADD COLUMN z") {
				t.Errorf("DDL statement %q", ev.Statement)
			}
		case binlogdatapb.VEventType_FIELD:
			seq = append(seq, "FIELD"+strconv.Itoa(len(ev.FieldEvent.Fields)))
		}
	}
	if strings.Join(seq, ",") != "FIELD2,DDL,FIELD3" {
		t.Errorf("events %v, want FIELD2,DDL,FIELD3", seq)
	}
}

// shardPicker maps each shard of "ks" to its own cluster's primary.
type shardPicker struct{ shards map[string]*cluster }

func (p shardPicker) PickSource(ctx context.Context, req vstream.SourceRequest) (vstream.Source, error) {
	c := p.shards[req.Shard]
	return vstream.Source{Alias: "zone1-" + req.Shard, Cell: "zone1", TabletType: topodatapb.TabletType_PRIMARY, Addr: c.primary.Addr(), DBName: testDB}, nil
}

func (p shardPicker) Shards(ctx context.Context, keyspace string) ([]string, error) {
	return []string{"-80", "80-"}, nil
}

// TestMultiShard merges two shards (copy, then concurrent changes) into one stream; every
// transaction's events come from one shard, and the consumer ends with both shards' rows.
func TestMultiShard(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	a, b := startCluster(t, ctx, 0), startCluster(t, ctx, 0)
	a.exec(t, "INSERT INTO t.t1 (id, v) SELECT seq, 'a' FROM t.seq_1_to_300")
	b.exec(t, "INSERT INTO t.t1 (id, v) SELECT seq, 'b' FROM t.seq_1001_to_1300")
	client := serve(t, shardPicker{shards: map[string]*cluster{"-80": a, "80-": b}}, func(cfg *vstream.Config) { cfg.CopyChunkRows = 40 })
	cons := newConsumer()
	sctx, scancel := context.WithCancel(ctx)
	defer scancel()
	go func() {
		_ = stream(sctx, client, &vtgatepb.VStreamRequest{TabletType: topodatapb.TabletType_PRIMARY,
			Vgtid: &binlogdatapb.VGtid{ShardGtids: []*binlogdatapb.ShardGtid{{Keyspace: "ks", Gtid: ""}}}}, cons)
	}()
	var wg sync.WaitGroup
	for _, c := range []*cluster{a, b} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 200 {
				if _, err := c.pdb.Exec("UPDATE t.t1 SET v = CONCAT(v, '.') WHERE id % 300 BETWEEN ? AND ?", i%290, i%290+3); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	waitFor(t, ctx, "both shards", func() (bool, string) {
		want := tableRows(t, a.pdb, "t1")
		for k, v := range tableRows(t, b.pdb, "t1") {
			want[k] = v
		}
		got := cons.snapshot("ks.t1")
		if len(got) != len(want) {
			return false, "row count"
		}
		for k, v := range want {
			if got[k] != v {
				return false, k + ": " + got[k] + " != " + v
			}
		}
		return true, ""
	})
	cons.mu.Lock()
	defer cons.mu.Unlock()
	if cons.err != nil {
		t.Fatal(cons.err)
	}
	checkPairs(t, cons.events)
	shard := ""
	for i, ev := range cons.events {
		switch ev.Type {
		case binlogdatapb.VEventType_BEGIN:
			shard = ev.Shard
		case binlogdatapb.VEventType_ROW, binlogdatapb.VEventType_FIELD, binlogdatapb.VEventType_COMMIT, binlogdatapb.VEventType_VGTID:
			if shard != "" && ev.Shard != shard {
				t.Fatalf("event %d (%v) from shard %s inside a transaction of shard %s", i, ev.Type, ev.Shard, shard)
			}
			if ev.Type == binlogdatapb.VEventType_COMMIT {
				shard = ""
			}
		}
	}
	if sg := cons.vgtid.GetShardGtids(); len(sg) != 2 || sg[0].Shard != "-80" || sg[1].Shard != "80-" {
		t.Errorf("vgtid %v", cons.vgtid)
	}
}

// TestSourceUnhealthy: a source the picker reports unhealthy (not serving, lagging) is left for
// another tablet while it still runs; the consumer ends exact.
func TestSourceUnhealthy(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	c := startCluster(t, ctx, 2)
	fill(t, c, 200)
	p := newPicker(c)
	client := serve(t, p, func(cfg *vstream.Config) { cfg.HealthInterval = 50 * time.Millisecond })
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go writer(t, c, stop, &wg, 5)
	cons := newConsumer()
	sctx, scancel := context.WithCancel(ctx)
	defer scancel()
	go func() {
		_ = stream(sctx, client, &vtgatepb.VStreamRequest{TabletType: topodatapb.TabletType_REPLICA, Vgtid: vgtid("")}, cons)
	}()
	waitFor(t, ctx, "copy completed", func() (bool, string) {
		cons.mu.Lock()
		defer cons.mu.Unlock()
		return cons.copyDone, "no COPY_COMPLETED"
	})
	if got := p.picked(); got[len(got)-1] != "zone1-101" {
		t.Fatalf("picked %v, want zone1-101", got)
	}
	p.setDown("zone1-101")
	waitFor(t, ctx, "moved to zone2-102", func() (bool, string) {
		got := p.picked()
		return got[len(got)-1] == "zone2-102", strings.Join(got, ",")
	})
	close(stop)
	wg.Wait()
	waitFor(t, ctx, "consumer == t1", func() (bool, string) { return sameRows(t, cons, c.pdb, "t1") })
	cons.mu.Lock()
	defer cons.mu.Unlock()
	if cons.err != nil {
		t.Fatal(cons.err)
	}
	checkPairs(t, cons.events)
}

// TestSilentSource freezes (SIGSTOP) the replica being streamed from: its connection stays open
// but sends nothing, not even binlog heartbeats, so the stream's watchdog must notice, move to
// the primary and go on with no gap and no repeat.
func TestSilentSource(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	c := startCluster(t, ctx, 1)
	fill(t, c, 100)
	p := newPicker(c)
	client := serve(t, p, func(cfg *vstream.Config) { cfg.BinlogHeartbeat = 100 * time.Millisecond })
	frozen := c.replicas[0]
	t.Cleanup(func() { _ = syscall.Kill(frozen.PID(), syscall.SIGCONT) }) // before the cluster stops

	cons := newConsumer()
	sctx, scancel := context.WithCancel(ctx)
	defer scancel()
	go func() {
		_ = stream(sctx, client, &vtgatepb.VStreamRequest{TabletType: topodatapb.TabletType_REPLICA, Vgtid: vgtid(""),
			Flags: &vtgatepb.VStreamFlags{TabletOrder: "in_order:REPLICA,PRIMARY"}}, cons)
	}()
	waitFor(t, ctx, "copy completed", func() (bool, string) {
		cons.mu.Lock()
		defer cons.mu.Unlock()
		return cons.copyDone, "no COPY_COMPLETED yet"
	})
	if err := syscall.Kill(frozen.PID(), syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	for i := 1000; i < 1050; i++ {
		c.exec(t, "INSERT INTO t.t1 (id, v) VALUES (?, 'after-freeze')", i)
	}
	waitFor(t, ctx, "switch to the primary", func() (bool, string) {
		got := p.picked()
		return got[len(got)-1] == "zone1-100", strings.Join(got, ",")
	})
	waitFor(t, ctx, "consumer == t1", func() (bool, string) { return sameRows(t, cons, c.pdb, "t1") })
	cons.mu.Lock()
	defer cons.mu.Unlock()
	if cons.err != nil {
		t.Fatal(cons.err)
	}
	checkPairs(t, cons.events)
}

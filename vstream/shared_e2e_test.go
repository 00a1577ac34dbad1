package vstream_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	binlogdatapb "vitess.io/vitess/go/vt/proto/binlogdata"
	topodatapb "vitess.io/vitess/go/vt/proto/topodata"
	vtgatepb "vitess.io/vitess/go/vt/proto/vtgate"
	"vitess.io/vitess/go/vt/proto/vtgateservice"

	"github.com/vtdirect/vtdirect/vstream"
)

// schemaPicker serves keyspace ks<N> from database s<N> of one MariaDB server (many schemas
// per server, as issue 11 has them).
type schemaPicker struct{ addr string }

func (p schemaPicker) PickSource(ctx context.Context, req vstream.SourceRequest) (vstream.Source, error) {
	return vstream.Source{Alias: "zone1-100", Cell: "zone1", TabletType: topodatapb.TabletType_PRIMARY, Addr: p.addr,
		DBName: "s" + strings.TrimPrefix(req.Keyspace, "ks")}, nil
}

func (p schemaPicker) Shards(ctx context.Context, keyspace string) ([]string, error) {
	return []string{"0"}, nil
}

// binlogDumps counts the server's binlog dump threads (SHOW PROCESSLIST).
func (c *cluster) binlogDumps(t testing.TB) int {
	t.Helper()
	var n int
	if err := c.pdb.QueryRow("SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE COMMAND LIKE 'Binlog Dump%'").Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// recorder keeps a stream's events in a comparable text form (no timestamps) and its last VGTID.
type recorder struct {
	mu    sync.Mutex // guards the fields below
	lines []string
	gtid  string
	rows  int
}

func (r *recorder) apply(evs []*binlogdatapb.VEvent) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, ev := range evs {
		line := ev.Type.String()
		switch ev.Type {
		case binlogdatapb.VEventType_VGTID:
			r.gtid = ev.Vgtid.ShardGtids[0].Gtid
			line += " " + r.gtid
		case binlogdatapb.VEventType_FIELD:
			var names []string
			for _, f := range ev.FieldEvent.Fields {
				names = append(names, f.Name+":"+f.Type.String())
			}
			line += " " + ev.FieldEvent.TableName + " " + strings.Join(names, ",")
		case binlogdatapb.VEventType_ROW:
			line += " " + ev.RowEvent.TableName
			for _, rc := range ev.RowEvent.RowChanges {
				if rc.Before != nil {
					_, b := rowText(rc.Before)
					line += " -" + b
				}
				if rc.After != nil {
					_, a := rowText(rc.After)
					line += " +" + a
				}
				r.rows++
			}
		case binlogdatapb.VEventType_DDL:
			line += " " + ev.Statement
		case binlogdatapb.VEventType_HEARTBEAT:
			continue // timing, not content
		}
		r.lines = append(r.lines, line)
	}
}

func (r *recorder) at() (string, int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.gtid, r.rows
}

// fastAndSlow starts two streams on the shared dump of addr: ks1's, read at once by a recorder
// (its end on fastDone), and ks2's, which the caller reads (or leaves unread) itself.
func fastAndSlow(t *testing.T, ctx, sctx context.Context, client vtgateservice.VitessClient, srvAddr string,
	m *vstream.Manager, addr string) (*recorder, chan error, vtgateservice.Vitess_VStreamClient) {
	t.Helper()
	fast := &recorder{}
	fastDone := make(chan error, 1)
	go func() { fastDone <- fast.run(sctx, client, schemaRequest("ks1", "current")) }()
	slow, err := dialClient(t, srvAddr).VStream(sctx, schemaRequest("ks2", "current"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := slow.Recv(); err != nil { // its first VGTID: it is on the dump
		t.Fatal(err)
	}
	waitFor(t, ctx, "two streams on the shared dump", func() (bool, string) {
		n := m.SharedDumpReaders(addr)
		return n == 2, fmt.Sprintf("%d streams on it", n)
	})
	return fast, fastDone, slow
}

// waitAtEnd waits until every stream (ks1, ks2... in order) has reached the primary's
// binlog position of now, which it returns as a VGTID position.
func waitAtEnd[S interface{ at() (string, int) }](t *testing.T, ctx context.Context, c *cluster, streams []S) string {
	t.Helper()
	var end string
	if err := c.pdb.QueryRow("SELECT @@gtid_binlog_pos").Scan(&end); err != nil {
		t.Fatal(err)
	}
	endPos := "MariaDB/" + end
	for i, s := range streams {
		waitFor(t, ctx, fmt.Sprintf("ks%d at the end position", i+1), func() (bool, string) {
			g, _ := s.at()
			return g == endPos, "at " + g
		})
	}
	return endPos
}

// upTo returns the lines up to the VGTID gtid (inclusive) and the COMMIT after it, if any.
func (r *recorder) upTo(gtid string) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	for i, l := range r.lines {
		if l == "VGTID "+gtid {
			end := i + 1
			if end < len(r.lines) && r.lines[end] == "COMMIT" {
				end++
			}
			return append([]string(nil), r.lines[:end]...)
		}
	}
	return nil
}

// run streams req into r until ctx ends.
func (r *recorder) run(ctx context.Context, client vtgateservice.VitessClient, req *vtgatepb.VStreamRequest) error {
	s, err := client.VStream(ctx, req)
	if err != nil {
		return err
	}
	for {
		resp, err := s.Recv()
		if err != nil {
			return err
		}
		r.apply(resp.Events)
	}
}

func schemaRequest(ks, gtid string) *vtgatepb.VStreamRequest {
	return &vtgatepb.VStreamRequest{TabletType: topodatapb.TabletType_PRIMARY,
		Vgtid:  &binlogdatapb.VGtid{ShardGtids: []*binlogdatapb.ShardGtid{{Keyspace: ks, Shard: "0", Gtid: gtid}}},
		Filter: &binlogdatapb.Filter{Rules: []*binlogdatapb.Rule{{Match: "/.*"}}}}
}

// TestSharedBinlogDump streams four schemas of one server through one binlog dump, checks
// that MariaDB shows one dump thread, and that each stream's events are exactly those of a
// stream of the same schema from the same position on a dump of its own; then a stream that
// joins late (from "current", on the shared dump) and one from a position the shared reader
// has passed (on a dump of its own, with the same events, until it rejoins).
func TestSharedBinlogDump(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	c := startCluster(t, ctx, 0)
	const schemas = 4
	for i := 1; i <= schemas; i++ {
		c.exec(t, fmt.Sprintf("CREATE DATABASE s%d", i))
		c.exec(t, fmt.Sprintf("CREATE TABLE s%d.t1 (id INT PRIMARY KEY, v VARCHAR(64) NOT NULL)", i))
	}
	var start string
	if err := c.pdb.QueryRow("SELECT @@gtid_binlog_pos").Scan(&start); err != nil {
		t.Fatal(err)
	}
	p := schemaPicker{addr: c.primary.Addr()}
	tune := func(buffer int, private bool) func(*vstream.Config) {
		return func(cfg *vstream.Config) {
			cfg.BinlogHeartbeat = 200 * time.Millisecond
			cfg.SharedBinlogBuffer = buffer
			cfg.PrivateBinlogDumps = private
		}
	}
	client, _, m := serveManager(t, p, tune(0, false))
	sctx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer wg.Wait()
	defer stop()
	run := func(r *recorder, client vtgateservice.VitessClient, req *vtgatepb.VStreamRequest) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := r.run(sctx, client, req); err != nil && sctx.Err() == nil {
				t.Errorf("stream %s: %v", req.Vgtid.ShardGtids[0].Keyspace, err)
			}
		}()
	}
	shared := make([]*recorder, schemas)
	for i := range shared {
		shared[i] = &recorder{}
		run(shared[i], client, schemaRequest(fmt.Sprintf("ks%d", i+1), "MariaDB/"+start))
	}
	waitFor(t, ctx, "four streams on the shared dump", func() (bool, string) {
		n := m.SharedDumpReaders(c.primary.Addr())
		return n == schemas, fmt.Sprintf("%d streams on it", n)
	})
	if n := c.binlogDumps(t); n != 1 {
		t.Fatalf("%d binlog dump threads on the server for %d streams, want 1", n, schemas)
	}

	// Writes to every schema, interleaved: single-row transactions, a transaction over two
	// schemas, updates and deletes, and a DDL in one schema half-way.
	for i := range 40 {
		db := i%schemas + 1
		c.exec(t, fmt.Sprintf("INSERT INTO s%d.t1 (id, v) VALUES (?, ?)", db), i, fmt.Sprintf("row %d", i))
		if i == 20 {
			c.exec(t, "ALTER TABLE s2.t1 ADD COLUMN extra INT")
		}
	}
	tx, err := c.pdb.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{"INSERT INTO s1.t1 VALUES (100, 'both')", "INSERT INTO s3.t1 VALUES (100, 'both')", "UPDATE s4.t1 SET v = 'changed' WHERE id < 20"} {
		if _, err := tx.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	c.exec(t, "DELETE FROM s2.t1 WHERE id > 30")

	// A stream that joins late, from "current", is on the same dump.
	late := &recorder{}
	run(late, client, schemaRequest("ks3", "current"))
	waitFor(t, ctx, "the late stream on the shared dump", func() (bool, string) {
		n := m.SharedDumpReaders(c.primary.Addr())
		return n == schemas+1, fmt.Sprintf("%d streams on it", n)
	})
	waitFor(t, ctx, "the late stream's first VGTID", func() (bool, string) {
		g, _ := late.at()
		return g != "", "none yet"
	})
	c.exec(t, "INSERT INTO s3.t1 VALUES (200, 'late')")
	c.exec(t, "INSERT INTO s1.t1 VALUES (200, 'not for ks3')")
	if n := c.binlogDumps(t); n != 1 {
		t.Fatalf("%d binlog dump threads with a late joiner, want 1", n)
	}
	var end string
	if err := c.pdb.QueryRow("SELECT @@gtid_binlog_pos").Scan(&end); err != nil {
		t.Fatal(err)
	}
	endPos := "MariaDB/" + end
	for i, r := range append(shared, late) {
		waitFor(t, ctx, fmt.Sprintf("stream %d at the end position", i), func() (bool, string) {
			g, _ := r.at()
			return g == endPos, "at " + g
		})
	}
	lateLines := late.upTo(endPos)
	if got := strings.Join(lateLines, "\n"); !strings.Contains(got, "ROW ks3.t1 +200|late") || strings.Contains(got, "not for ks3") || strings.Contains(got, "+100|both") {
		t.Errorf("the late stream got:\n%s", got)
	}

	// A stream from a position the shared reader has passed reads a dump of its own until it
	// has caught up, then rejoins the shared dump (its own closes), with the same events as
	// the shared stream of its schema.
	behind := &recorder{}
	run(behind, client, schemaRequest("ks2", "MariaDB/"+start))
	waitFor(t, ctx, "the stream from behind at the end position", func() (bool, string) {
		g, _ := behind.at()
		return g == endPos, "at " + g
	})
	waitFor(t, ctx, "the stream from behind on the shared dump", func() (bool, string) {
		n := m.SharedDumpReaders(c.primary.Addr())
		return n == schemas+2, fmt.Sprintf("%d streams on it", n)
	})
	waitFor(t, ctx, "one binlog dump thread", func() (bool, string) {
		n := c.binlogDumps(t)
		return n == 1, fmt.Sprintf("%d dump threads", n)
	})
	c.exec(t, "INSERT INTO s2.t1 (id, v) VALUES (300, 'after the rejoin')")
	if err := c.pdb.QueryRow("SELECT @@gtid_binlog_pos").Scan(&end); err != nil {
		t.Fatal(err)
	}
	endPos = "MariaDB/" + end
	for i, r := range append(shared, late, behind) {
		waitFor(t, ctx, fmt.Sprintf("stream %d at the new end position", i), func() (bool, string) {
			g, _ := r.at()
			return g == endPos, "at " + g
		})
	}
	if got, want := behind.upTo(endPos), shared[1].upTo(endPos); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("ks2 from behind differs from ks2 on the shared dump:\n%s\nshared:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	// The same schemas from the same position, each on a dump of its own: the same events.
	privClient, _, _ := serveManager(t, p, tune(0, true))
	for i := range schemas {
		alone := &recorder{}
		run(alone, privClient, schemaRequest(fmt.Sprintf("ks%d", i+1), "MariaDB/"+start))
		waitFor(t, ctx, fmt.Sprintf("ks%d alone at the end position", i+1), func() (bool, string) {
			g, _ := alone.at()
			return g == endPos, "at " + g
		})
		got, want := shared[i].upTo(endPos), alone.upTo(endPos)
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("ks%d on the shared dump differs from alone:\nshared:\n%s\nalone:\n%s", i+1, strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
		if _, rows := shared[i].at(); rows == 0 {
			t.Errorf("ks%d got no rows", i+1)
		}
	}
}

// TestSharedDumpSlowSubscriber: a client that stops reading fills its queue; it is detached
// to a dump of its own (in the middle of a large transaction) while the other stream keeps
// up, and once it reads again it has every row exactly once (the consumer fails on a
// duplicate insert: no part of the large transaction is sent twice); caught up, it rejoins
// the shared dump.
func TestSharedDumpSlowSubscriber(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	c := startCluster(t, ctx, 0)
	for i := 1; i <= 2; i++ {
		c.exec(t, fmt.Sprintf("CREATE DATABASE s%d", i))
		c.exec(t, fmt.Sprintf("CREATE TABLE s%d.t1 (id INT PRIMARY KEY, v VARCHAR(200) NOT NULL)", i))
	}
	client, srvAddr, m := serveManager(t, schemaPicker{addr: c.primary.Addr()}, func(cfg *vstream.Config) {
		cfg.BinlogHeartbeat = 200 * time.Millisecond
		cfg.SharedBinlogBuffer = 32 << 10 // two read blocks (the least)
	})
	sctx, stop := context.WithCancel(ctx)
	defer stop()
	fast, fastDone, slow := fastAndSlow(t, ctx, sctx, client, srvAddr, m, c.primary.Addr())
	// Rows for the slow stream (which does not read): single-row transactions, then one large
	// transaction (sent in chunks, and cut by the detachment in its middle), then one row for
	// the fast stream.
	const single, bulk = 50, 10000
	const rows = single + bulk
	pad := strings.Repeat("x", 150)
	for i := range single {
		c.exec(t, fmt.Sprintf("INSERT INTO s2.t1 VALUES (%d, '%s')", i, pad))
	}
	c.exec(t, fmt.Sprintf("INSERT INTO s2.t1 SELECT seq, '%s' FROM seq.seq_%d_to_%d", pad, single, rows-1))
	c.exec(t, "INSERT INTO s1.t1 VALUES (1, 'fast')")
	waitFor(t, ctx, "the fast stream's row while the slow client reads nothing", func() (bool, string) {
		_, n := fast.at()
		return n == 1, fmt.Sprintf("%d rows", n)
	})
	waitFor(t, ctx, "the slow stream detached", func() (bool, string) {
		n := m.SharedDumpReaders(c.primary.Addr())
		return n == 1, fmt.Sprintf("%d streams on the shared dump", n)
	})
	// Detached, it has a dump of its own at once (its backlog waits at the source), before
	// its client reads anything.
	waitFor(t, ctx, "two binlog dump threads", func() (bool, string) {
		n := c.binlogDumps(t)
		return n == 2, fmt.Sprintf("%d dump threads", n)
	})
	// Now the slow client reads: every row once, in order.
	slowRec := newConsumer()
	got := 0
	for got < rows {
		resp, err := slow.Recv()
		if err != nil {
			t.Fatalf("slow stream after %d rows: %v", got, err)
		}
		slowRec.apply(resp.Events)
		for _, ev := range resp.Events {
			if ev.Type == binlogdatapb.VEventType_ROW {
				got += len(ev.RowEvent.RowChanges)
			}
		}
	}
	if slowRec.err != nil {
		t.Fatal(slowRec.err)
	}
	if n := len(slowRec.snapshot("ks2.t1")); n != rows {
		t.Fatalf("slow stream has %d distinct rows, want %d", n, rows)
	}
	// Caught up, it rejoins the shared dump, and its own dump closes.
	waitFor(t, ctx, "the slow stream back on the shared dump", func() (bool, string) {
		n := m.SharedDumpReaders(c.primary.Addr())
		return n == 2, fmt.Sprintf("%d streams on it", n)
	})
	waitFor(t, ctx, "one binlog dump thread", func() (bool, string) {
		n := c.binlogDumps(t)
		return n == 1, fmt.Sprintf("%d dump threads", n)
	})
	c.exec(t, "INSERT INTO s2.t1 VALUES (-1, 'after')")
	c.exec(t, "INSERT INTO s1.t1 VALUES (2, 'fast again')")
	for {
		resp, err := slow.Recv()
		if err != nil {
			t.Fatal(err)
		}
		slowRec.apply(resp.Events)
		if _, ok := slowRec.snapshot("ks2.t1")["-1"]; ok {
			break
		}
	}
	if slowRec.err != nil || len(slowRec.snapshot("ks2.t1")) != rows+1 {
		t.Fatalf("slow stream after the detachment: %v, %d rows", slowRec.err, len(slowRec.snapshot("ks2.t1")))
	}
	waitFor(t, ctx, "the fast stream's second row", func() (bool, string) {
		_, n := fast.at()
		return n == 2, fmt.Sprintf("%d rows", n)
	})
	stop()
	<-fastDone
}

package vstream_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vtdirect/vtdirect/vstream"
)

// TestSharedDumpHubRestart: the shared dump's thread on the server is killed three times
// while writes (three GTID domains, XA, rotations) go on; each time the hub starts its dump
// again where it was, so no stream re-picks or moves to a dump of its own, and every stream's
// events are exactly those of a dump of its own.
func TestSharedDumpHubRestart(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	c := startCluster(t, ctx, 0)
	const schemas = 3
	for i := 1; i <= schemas; i++ {
		c.exec(t, fmt.Sprintf("CREATE DATABASE s%d", i))
		c.exec(t, fmt.Sprintf("CREATE TABLE s%d.t1 (id INT PRIMARY KEY, v VARCHAR(200) NOT NULL)", i))
	}
	var start string
	if err := c.pdb.QueryRow("SELECT @@gtid_binlog_pos").Scan(&start); err != nil {
		t.Fatal(err)
	}
	addr := c.primary.Addr()
	p := &countingPicker{schemaPicker: schemaPicker{addr: addr}}
	tune := func(private bool) func(*vstream.Config) {
		return func(cfg *vstream.Config) {
			cfg.BinlogHeartbeat = 200 * time.Millisecond
			cfg.PrivateBinlogDumps = private
		}
	}
	client, _, m := serveManager(t, p, tune(false))
	sctx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer wg.Wait()
	defer stop()
	run := func(r *recorder, cl func() error, what string) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := cl(); err != nil && sctx.Err() == nil {
				t.Errorf("%s: %v", what, err)
			}
		}()
	}
	streams := make([]*recorder, schemas)
	for i := range streams {
		streams[i] = &recorder{}
		req := schemaRequest(fmt.Sprintf("ks%d", i+1), "MariaDB/"+start)
		run(streams[i], func() error { return streams[i].run(sctx, client, req) }, fmt.Sprintf("ks%d", i+1))
	}
	waitFor(t, ctx, "the streams on the shared dump", func() (bool, string) {
		n := m.SharedDumpReaders(addr)
		return n == schemas, fmt.Sprintf("%d streams on it", n)
	})
	w := startMixedWriter(t, ctx, c.pdb, schemas)
	dumpID := func() (int64, int) {
		var id int64
		var n int
		if err := c.pdb.QueryRow("SELECT IFNULL(MAX(ID), 0), COUNT(*) FROM information_schema.PROCESSLIST WHERE COMMAND LIKE 'Binlog Dump%'").Scan(&id, &n); err != nil {
			t.Fatal(err)
		}
		return id, n
	}
	for k := range 3 {
		id, n := dumpID()
		if n != 1 {
			t.Fatalf("%d binlog dump threads before kill %d, want 1", n, k+1)
		}
		_, rows := streams[0].at()
		c.exec(t, fmt.Sprintf("KILL %d", id))
		waitFor(t, ctx, "the shared dump started again", func() (bool, string) {
			nid, n := dumpID()
			return n == 1 && nid != id, fmt.Sprintf("%d dump threads, id %d (killed %d)", n, nid, id)
		})
		waitFor(t, ctx, "rows after the restart", func() (bool, string) {
			_, r := streams[0].at()
			return r > rows, fmt.Sprintf("%d rows", r)
		})
	}
	w.finish(t)
	endPos := waitAtEnd(t, ctx, c, streams)
	if n := p.picks.Load(); n != schemas {
		t.Errorf("%d picks for %d streams: the kill made streams start over", n, schemas)
	}
	if r := sharedMetric(t, m, "vtdirect_vstream_shared_dump_reconnects_total", addr); r != 3 {
		t.Errorf("reconnects_total = %v, want 3", r)
	}
	if n := m.SharedDumpReaders(addr); n != schemas {
		t.Errorf("%d streams on the shared dump, want %d", n, schemas)
	}
	privClient, _, _ := serveManager(t, schemaPicker{addr: addr}, tune(true))
	for i := range schemas {
		alone := &recorder{}
		req := schemaRequest(fmt.Sprintf("ks%d", i+1), "MariaDB/"+start)
		run(alone, func() error { return alone.run(sctx, privClient, req) }, fmt.Sprintf("ks%d alone", i+1))
		waitFor(t, ctx, fmt.Sprintf("ks%d alone at the end position", i+1), func() (bool, string) {
			g, _ := alone.at()
			return g == endPos, "at " + g
		})
		if got, want := streams[i].upTo(endPos), alone.upTo(endPos); strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("ks%d through the restarts differs from alone (%d and %d lines); first difference: %s", i+1, len(got), len(want), firstDiff(got, want))
		}
	}
}

// TestSharedDumpDetachedIdle: a detached stream whose client reads nothing for longer than
// the source's net_write_timeout (2 s here) does not lose its dump to the timeout: the dump
// it started waits unread for DetachedDumpIdle (1 s) at most, is closed, and is started
// again when the stream gets to it; the stream then has every row exactly once, without a
// re-pick.
func TestSharedDumpDetachedIdle(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	c := startCluster(t, ctx, 0)
	for i := 1; i <= 2; i++ {
		c.exec(t, fmt.Sprintf("CREATE DATABASE s%d", i))
		c.exec(t, fmt.Sprintf("CREATE TABLE s%d.t1 (id INT PRIMARY KEY, v VARCHAR(200) NOT NULL)", i))
	}
	c.exec(t, "SET GLOBAL net_write_timeout = 2")
	addr := c.primary.Addr()
	p := &countingPicker{schemaPicker: schemaPicker{addr: addr}}
	client, srvAddr, m := serveManager(t, p, func(cfg *vstream.Config) {
		cfg.BinlogHeartbeat = 200 * time.Millisecond
		cfg.DetachedDumpIdle = time.Second // the queue holds the default 4 MiB, more than the client's window
	})
	sctx, stop := context.WithCancel(ctx)
	defer stop()
	_, fastDone, slow := fastAndSlow(t, ctx, sctx, client, srvAddr, m, addr)
	// 30 MiB for the slow stream, more than its queue and the sockets hold.
	const rows = 200_000
	c.exec(t, fmt.Sprintf("INSERT INTO s2.t1 SELECT seq, '%s' FROM seq.seq_1_to_%d", strings.Repeat("x", 150), rows))
	c.exec(t, "INSERT INTO s1.t1 VALUES (1, 'fast')")
	waitFor(t, ctx, "the slow stream detached", func() (bool, string) {
		n := m.SharedDumpReaders(addr)
		return n == 1, fmt.Sprintf("%d streams on the shared dump", n)
	})
	// Its own dump goes away unread (closed by the gateway, or dropped by the server at its
	// net_write_timeout), then the time out has passed for sure.
	waitFor(t, ctx, "the detached stream's unread dump gone", func() (bool, string) {
		n := c.binlogDumps(t)
		return n == 1, fmt.Sprintf("%d dump threads", n)
	})
	deadline := time.Now().Add(3 * time.Second)
	waitFor(t, ctx, "past the server's net_write_timeout", func() (bool, string) {
		return time.Now().After(deadline), "not yet"
	})
	slowRec := newConsumer()
	got := 0
	for got < rows {
		resp, err := slow.Recv()
		if err != nil {
			t.Fatalf("slow stream after %d rows: %v", got, err)
		}
		slowRec.apply(resp.Events)
		for _, ev := range resp.Events {
			if ev.RowEvent != nil {
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
	if n := p.picks.Load(); n != 2 {
		t.Errorf("%d picks for 2 streams: the slow one started over", n)
	}
	if r := sharedMetric(t, m, "vtdirect_vstream_detached_dump_restarts_total", addr); r != 1 {
		t.Errorf("detached_dump_restarts_total = %v, want 1", r)
	}
	stop()
	<-fastDone
}

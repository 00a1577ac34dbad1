package vstream_test

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/vtdirect/vtdirect/vstream"
)

// TestJoinIdleDomain: with a GTID domain that had one write and then none (domain 1, idle)
// and writes in domain 0 only, a stream that starts at the server's position (naming both
// domains) while the shared dump runs joins it at once, without waiting out the join timeout
// or reading a dump of its own; the stream detached later (a paused client) rejoins it
// without a rejoin given up.
func TestJoinIdleDomain(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	c := idleDomainCluster(t, ctx)
	addr := c.primary.Addr()
	p := &countingPicker{schemaPicker: schemaPicker{addr: addr}}
	_, srvAddr, m := serveManager(t, p, func(cfg *vstream.Config) {
		cfg.BinlogHeartbeat = 200 * time.Millisecond
		cfg.SharedBinlogBuffer = 256 << 10
	})
	sctx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer wg.Wait()
	defer stop()
	run := func(r *pausable, ks, gtid string) {
		cl := dialClient(t, srvAddr)
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := r.run(sctx, cl, schemaRequest(ks, gtid)); err != nil && sctx.Err() == nil {
				t.Errorf("stream %s: %v", ks, err)
			}
		}()
	}
	first := &pausable{}
	run(first, "ks1", "current")
	waitFor(t, ctx, "the first stream on the shared dump", func() (bool, string) {
		n := m.SharedDumpReaders(addr)
		return n == 1, fmt.Sprintf("%d streams on it", n)
	})
	for i := range 5 {
		c.exec(t, fmt.Sprintf("INSERT INTO s1.t1 VALUES (%d, 'domain 0')", i))
	}
	var pos string
	if err := c.pdb.QueryRow("SELECT @@gtid_binlog_pos").Scan(&pos); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(pos, ",") {
		t.Fatalf("position %q: want two domains", pos)
	}
	waitFor(t, ctx, "the first stream at the server's position", func() (bool, string) {
		g, _ := first.at()
		return g == "MariaDB/"+pos, "at " + g
	})

	// The joiner: at the server's position, both domains named, domain 1 idle.
	second := &pausable{}
	run(second, "ks2", "MariaDB/"+pos)
	waitFor(t, ctx, "the second stream on the shared dump", func() (bool, string) {
		n := m.SharedDumpReaders(addr)
		return n == 2, fmt.Sprintf("%d streams on it", n)
	})
	for name, want := range map[string]float64{
		"vtdirect_vstream_shared_dump_joins_total":         1,
		"vtdirect_vstream_shared_dump_join_timeouts_total": 0,
		"vtdirect_vstream_shared_dump_rejoins_total":       0, // on the dump by joining, not by rejoining
	} {
		if got := sharedMetric(t, m, name, addr); got != want {
			t.Errorf("after the join: %s = %v, want %v", name, got, want)
		}
	}

	// Detach the second stream (its client reads nothing while 3 MiB of s2 go by), then let
	// it catch up: it rejoins, the idle domain named in both positions.
	second.pause()
	c.exec(t, fmt.Sprintf("INSERT INTO s2.t1 SELECT seq, '%s' FROM seq.seq_1_to_20000", strings.Repeat("b", 150)))
	c.exec(t, "INSERT INTO s1.t1 VALUES (100, 'after the burst')")
	waitFor(t, ctx, "the paused stream detached", func() (bool, string) {
		n := sharedMetric(t, m, "vtdirect_vstream_shared_dump_detaches_total", addr)
		return n == 1, fmt.Sprintf("%v detaches", n)
	})
	second.resume()
	waitFor(t, ctx, "the detached stream rejoined", func() (bool, string) {
		n := sharedMetric(t, m, "vtdirect_vstream_shared_dump_rejoins_total", addr)
		return n == 1 && m.SharedDumpReaders(addr) == 2, fmt.Sprintf("%v rejoins", n)
	})
	if f := sharedMetric(t, m, "vtdirect_vstream_shared_dump_rejoin_failures_total", addr); f != 0 {
		t.Errorf("rejoin_failures_total = %v, want 0", f)
	}
	if n := p.picks.Load(); n != 2 {
		t.Errorf("%d picks for 2 streams: a stream started over", n)
	}
	waitAtEnd(t, ctx, c, []*pausable{first, second})
}

// TestJoinAheadPosition: a stream from a position the server does not have, ahead of it in
// its idle domain or naming a domain it never had, is turned away by the shared dump at once
// (no join timeout) and gets the error its own dump would give (ahead); one naming a domain
// the server never had, which a dump ignores, joins it at once.
func TestJoinAheadPosition(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	c := idleDomainCluster(t, ctx)
	addr := c.primary.Addr()
	p := &countingPicker{schemaPicker: schemaPicker{addr: addr}}
	_, srvAddr, m := serveManager(t, p, func(cfg *vstream.Config) {
		cfg.BinlogHeartbeat = 200 * time.Millisecond
		cfg.MaxRetries = 1
	})
	sctx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer wg.Wait()
	defer stop()
	first := &pausable{}
	cl := dialClient(t, srvAddr)
	wg.Add(1)
	go func() {
		defer wg.Done()
		if err := first.run(sctx, cl, schemaRequest("ks1", "current")); err != nil && sctx.Err() == nil {
			t.Errorf("stream ks1: %v", err)
		}
	}()
	waitFor(t, ctx, "the first stream on the shared dump", func() (bool, string) {
		n := m.SharedDumpReaders(addr)
		return n == 1, fmt.Sprintf("%d streams on it", n)
	})
	c.exec(t, "INSERT INTO s1.t1 VALUES (1, 'domain 0')")
	var pos string
	if err := c.pdb.QueryRow("SELECT @@gtid_binlog_pos").Scan(&pos); err != nil {
		t.Fatal(err)
	}
	var parts []string
	for _, g := range strings.Split(pos, ",") {
		if d, rest, _ := strings.Cut(g, "-"); d == "1" {
			server, seq, _ := strings.Cut(rest, "-")
			n, _ := strconv.Atoi(seq)
			g = fmt.Sprintf("1-%s-%d", server, n+3)
		}
		parts = append(parts, g)
	}
	ahead := strings.Join(parts, ",")
	// Ahead of the server in its idle domain: the server's error at once, no join timeout.
	err := (&pausable{}).run(sctx, cl, schemaRequest("ks2", "MariaDB/"+ahead))
	if code := status.Code(err); code != codes.FailedPrecondition || !strings.Contains(err.Error(), "1236") {
		t.Errorf("stream from %s: %v, want FailedPrecondition with the server's error 1236", ahead, err)
	}
	if n := sharedMetric(t, m, "vtdirect_vstream_shared_dump_join_timeouts_total", addr); n != 0 {
		t.Errorf("join_timeouts_total = %v after a position ahead of the server, want 0", n)
	}

	// A domain the server never had (a dump ignores it): on the shared dump at once, the
	// domain kept in the stream's VGTIDs.
	foreign := pos + ",9-100-1"
	r := &pausable{}
	wg.Add(1)
	go func() {
		defer wg.Done()
		if err := r.run(sctx, cl, schemaRequest("ks2", "MariaDB/"+foreign)); err != nil && sctx.Err() == nil {
			t.Errorf("stream from %s: %v", foreign, err)
		}
	}()
	waitFor(t, ctx, "the stream naming a foreign domain on the shared dump", func() (bool, string) {
		n := m.SharedDumpReaders(addr)
		return n == 2, fmt.Sprintf("%d streams on it", n)
	})
	c.exec(t, "INSERT INTO s2.t1 VALUES (1, 'for ks2')")
	waitFor(t, ctx, "the row on the stream naming a foreign domain", func() (bool, string) {
		g, rows := r.at()
		return rows == 1 && strings.Contains(g, ",9-100-1"), fmt.Sprintf("%d rows at %s", rows, g)
	})
	for name, want := range map[string]float64{
		"vtdirect_vstream_shared_dump_joins_total":         1,
		"vtdirect_vstream_shared_dump_join_timeouts_total": 0,
	} {
		if got := sharedMetric(t, m, name, addr); got != want {
			t.Errorf("%s = %v, want %v", name, got, want)
		}
	}

	// The domain comes to the server, with the stream's GTID first: as from a dump of its
	// own, the stream does not get that transaction again, and gets the next.
	d9, err := c.pdb.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer d9.Close()
	for i, q := range []string{"SET SESSION gtid_domain_id = 9", "SET SESSION gtid_seq_no = 1",
		"INSERT INTO s2.t1 VALUES (2, 'domain 9, the stream has it')", "INSERT INTO s2.t1 VALUES (3, 'domain 9, new')"} {
		if _, err := d9.ExecContext(ctx, q); err != nil {
			t.Fatalf("statement %d: %v", i, err)
		}
	}
	waitFor(t, ctx, "the stream at 9-100-2", func() (bool, string) {
		g, rows := r.at()
		return strings.Contains(g, ",9-100-2"), fmt.Sprintf("%d rows at %s", rows, g)
	})
	if _, rows := r.at(); rows != 2 {
		t.Errorf("%d rows on the stream naming domain 9, want 2 (not the transaction 9-100-1 again)", rows)
	}
}

// idleDomainCluster starts a server with tables s1.t1 and s2.t1 and one write in GTID domain
// 1, which stays idle after it.
func idleDomainCluster(t *testing.T, ctx context.Context) *cluster {
	t.Helper()
	c := startCluster(t, ctx, 0)
	for i := 1; i <= 2; i++ {
		c.exec(t, fmt.Sprintf("CREATE DATABASE s%d", i))
		c.exec(t, fmt.Sprintf("CREATE TABLE s%d.t1 (id INT PRIMARY KEY, v VARCHAR(200) NOT NULL)", i))
	}
	idle, err := c.pdb.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := idle.ExecContext(ctx, "SET SESSION gtid_domain_id = 1"); err != nil {
		t.Fatal(err)
	}
	if _, err := idle.ExecContext(ctx, "INSERT INTO s1.t1 VALUES (-1, 'domain 1, once')"); err != nil {
		t.Fatal(err)
	}
	idle.Close()
	return c
}

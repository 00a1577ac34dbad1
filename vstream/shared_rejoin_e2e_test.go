package vstream_test

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	vtgatepb "vitess.io/vitess/go/vt/proto/vtgate"
	"vitess.io/vitess/go/vt/proto/vtgateservice"

	"github.com/vtdirect/vtdirect/grpcvtgate"
	"github.com/vtdirect/vtdirect/stats"
	"github.com/vtdirect/vtdirect/vstream"
)

// countingPicker is a schemaPicker that counts its picks (a re-pick is a stream that had to
// start over on another dump).
type countingPicker struct {
	schemaPicker
	picks atomic.Int64
}

func (p *countingPicker) PickSource(ctx context.Context, req vstream.SourceRequest) (vstream.Source, error) {
	p.picks.Add(1)
	return p.schemaPicker.PickSource(ctx, req)
}

// dialClient opens a gRPC client connection of its own to a served Manager: a paused
// stream's flow-control window is then its own, and fixed at 64 KiB (grpc-go grows the
// windows of a busy connection up to 16 MiB otherwise, which a paused client would take in).
func dialClient(t testing.TB, addr string) vtgateservice.VitessClient {
	t.Helper()
	cc, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithInitialWindowSize(64<<10), grpc.WithInitialConnWindowSize(64<<10),
		grpc.WithDefaultCallOptions(grpc.ForceCodecV2(grpcvtgate.Codec())))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cc.Close() })
	return vtgateservice.NewVitessClient(cc)
}

// pausable records a stream whose client can stop reading (pause) and go on (resume).
type pausable struct {
	recorder
	gate sync.RWMutex // held by pause
}

func (p *pausable) pause()  { p.gate.Lock() }
func (p *pausable) resume() { p.gate.Unlock() }

func (p *pausable) run(ctx context.Context, client vtgateservice.VitessClient, req *vtgatepb.VStreamRequest) error {
	s, err := client.VStream(ctx, req)
	if err != nil {
		return err
	}
	for {
		p.gate.RLock()
		p.gate.RUnlock()
		resp, err := s.Recv()
		if err != nil {
			return err
		}
		p.apply(resp.Events)
	}
}

// sharedMetric reads one of the Manager's metrics for server addr.
func sharedMetric(t testing.TB, m *vstream.Manager, name, addr string) float64 {
	t.Helper()
	reg := prometheus.NewRegistry()
	reg.MustRegister(stats.NewCollector(stats.Folding{}, m))
	fams, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fams {
		if f.GetName() != name {
			continue
		}
		for _, mt := range f.GetMetric() {
			for _, l := range mt.GetLabel() {
				if l.GetName() == "server" && l.GetValue() == addr {
					if mt.GetCounter() != nil {
						return mt.GetCounter().GetValue()
					}
					return mt.GetGauge().GetValue()
				}
			}
		}
	}
	return 0
}

// mixedWriter writes, until stopped, small transactions to every schema in three GTID
// domains, XA transactions (with other writes between their PREPARE and COMMIT) and binlog
// rotations.
type mixedWriter struct {
	stop chan struct{}
	done chan error
}

func startMixedWriter(t *testing.T, ctx context.Context, db *sql.DB, schemas int) *mixedWriter {
	w := &mixedWriter{stop: make(chan struct{}), done: make(chan error, 1)}
	conns := make([]*sql.Conn, 3)
	for d := range conns {
		c, err := db.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		if _, err := c.ExecContext(ctx, fmt.Sprintf("SET SESSION gtid_domain_id = %d", d)); err != nil {
			t.Fatal(err)
		}
		conns[d] = c
	}
	go func() {
		w.done <- func() error {
			for i := 0; ; i++ {
				select {
				case <-w.stop:
					return nil
				default:
				}
				c, other := conns[i%3], conns[(i+1)%3]
				s := i%schemas + 1
				type stmt struct {
					c *sql.Conn
					q string
				}
				qs := []stmt{{c, fmt.Sprintf("INSERT INTO s%d.t1 VALUES (%d, 'w%d')", s, 1_000_000+i, i)}}
				switch {
				case i%25 == 7:
					x := fmt.Sprintf("'x%d'", i)
					qs = []stmt{{c, "XA START " + x}, {c, fmt.Sprintf("INSERT INTO s%d.t1 VALUES (%d, 'xa')", s, 1_000_000+i)}, {c, "XA END " + x}, {c, "XA PREPARE " + x},
						{other, fmt.Sprintf("INSERT INTO s%d.t1 VALUES (%d, 'between')", s%schemas+1, 2_000_000+i)}, {c, "XA COMMIT " + x}}
				case i%40 == 13:
					qs = append(qs, stmt{c, "FLUSH BINARY LOGS"})
				}
				for _, st := range qs {
					if _, err := st.c.ExecContext(ctx, st.q); err != nil {
						return fmt.Errorf("%s: %w", st.q, err)
					}
				}
			}
		}()
	}()
	return w
}

func (w *mixedWriter) finish(t *testing.T) {
	t.Helper()
	close(w.stop)
	if err := <-w.done; err != nil {
		t.Fatal(err)
	}
}

// TestSharedDumpBurstRejoin: a burst in three schemas whose clients stop reading detaches
// their streams to dumps of their own (one more binlog dump thread each); once the clients
// read again and the streams have caught up, they rejoin the shared dump and their own dumps
// close (one dump thread again), while writes in three GTID domains, XA transactions and
// binlog rotations go on through the detachments and the rejoins. Every stream's events are
// then exactly those of a stream of its schema on a dump of its own from the same position.
func TestSharedDumpBurstRejoin(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	c := startCluster(t, ctx, 0)
	const schemas = 4
	for i := 1; i <= schemas; i++ {
		c.exec(t, fmt.Sprintf("CREATE DATABASE s%d", i))
		c.exec(t, fmt.Sprintf("CREATE TABLE s%d.t1 (id INT PRIMARY KEY, v VARCHAR(200) NOT NULL)", i))
	}
	for d := 1; d <= 2; d++ { // the start position names three domains
		c.exec(t, fmt.Sprintf("SET SESSION gtid_domain_id = %d", d))
		c.exec(t, fmt.Sprintf("INSERT INTO s1.t1 VALUES (%d, 'domain %d')", -d, d))
	}
	c.exec(t, "SET SESSION gtid_domain_id = 0")
	var start string
	if err := c.pdb.QueryRow("SELECT @@gtid_binlog_pos").Scan(&start); err != nil {
		t.Fatal(err)
	}
	if strings.Count(start, ",") != 2 {
		t.Fatalf("start position %q: want three domains", start)
	}
	p := &countingPicker{schemaPicker: schemaPicker{addr: c.primary.Addr()}}
	addr := c.primary.Addr()
	tune := func(private bool) func(*vstream.Config) {
		return func(cfg *vstream.Config) {
			cfg.BinlogHeartbeat = 200 * time.Millisecond
			cfg.SharedBinlogBuffer = 256 << 10
			cfg.PrivateBinlogDumps = private
		}
	}
	client, srvAddr, m := serveManager(t, p, tune(false))
	sctx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer wg.Wait()
	defer stop()
	streams := make([]*pausable, schemas)
	for i := range streams {
		streams[i] = &pausable{}
		cl := client
		if i > 0 {
			cl = dialClient(t, srvAddr)
		}
		req := schemaRequest(fmt.Sprintf("ks%d", i+1), "MariaDB/"+start)
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := streams[i].run(sctx, cl, req); err != nil && sctx.Err() == nil {
				t.Errorf("stream ks%d: %v", i+1, err)
			}
		}()
	}
	waitFor(t, ctx, "four streams on the shared dump", func() (bool, string) {
		n := m.SharedDumpReaders(addr)
		return n == schemas, fmt.Sprintf("%d streams on it", n)
	})
	if n := c.binlogDumps(t); n != 1 {
		t.Fatalf("%d binlog dump threads for %d streams, want 1", n, schemas)
	}

	// The burst: 3 MiB in each of s2..s4, whose clients read nothing meanwhile.
	w := startMixedWriter(t, ctx, c.pdb, schemas)
	for _, s := range streams[1:] {
		s.pause()
	}
	pad := strings.Repeat("b", 150)
	for i := 2; i <= schemas; i++ {
		c.exec(t, fmt.Sprintf("INSERT INTO s%d.t1 SELECT seq, '%s' FROM seq.seq_1_to_20000", i, pad))
	}
	waitFor(t, ctx, "the three paused streams detached", func() (bool, string) {
		n := m.SharedDumpReaders(addr)
		return n == 1, fmt.Sprintf("%d streams on the shared dump", n)
	})
	if n := c.binlogDumps(t); n < 2 {
		t.Errorf("%d binlog dump threads after the detachments, want more than 1", n)
	}
	if d := sharedMetric(t, m, "vtdirect_vstream_shared_dump_detaches_total", addr); d < 3 {
		t.Errorf("detaches_total = %v, want at least 3", d)
	}
	for _, s := range streams[1:] {
		s.resume()
	}
	waitFor(t, ctx, "every stream back on the shared dump", func() (bool, string) {
		n := m.SharedDumpReaders(addr)
		return n == schemas, fmt.Sprintf("%d streams on it", n)
	})
	waitFor(t, ctx, "one binlog dump thread again", func() (bool, string) {
		n := c.binlogDumps(t)
		return n == 1, fmt.Sprintf("%d dump threads", n)
	})
	w.finish(t)
	endPos := waitAtEnd(t, ctx, c, streams)
	if r := sharedMetric(t, m, "vtdirect_vstream_shared_dump_rejoins_total", addr); r < 3 {
		t.Errorf("rejoins_total = %v, want at least 3", r)
	}
	for name, want := range map[string]float64{"vtdirect_vstream_shared_dumps": 1, "vtdirect_vstream_shared_dump_subscribers": schemas, "vtdirect_vstream_own_dumps": 0} {
		if got := sharedMetric(t, m, name, addr); got != want {
			t.Errorf("%s = %v, want %v", name, got, want)
		}
	}
	t.Logf("detaches %v, rejoins %v, rejoins given up %v", sharedMetric(t, m, "vtdirect_vstream_shared_dump_detaches_total", addr),
		sharedMetric(t, m, "vtdirect_vstream_shared_dump_rejoins_total", addr), sharedMetric(t, m, "vtdirect_vstream_shared_dump_rejoin_failures_total", addr))
	if n := p.picks.Load(); n != schemas {
		t.Errorf("%d picks for %d streams: a stream started over", n, schemas)
	}
	// A caught-up dump asks to rejoin at a boundary the hub is at, or just behind: the
	// comparison is made there, not after the own dump has read past it (when it was made
	// one transaction later, runs gave up to 8 tries). A try may still be given up when the
	// hub takes longer than the admission wait (a heartbeat) to come to the boundary, as on
	// a loaded machine: at most one per detached stream.
	if f := sharedMetric(t, m, "vtdirect_vstream_shared_dump_rejoin_failures_total", addr); f > schemas-1 {
		t.Errorf("rejoin_failures_total = %v, want at most %d", f, schemas-1)
	}

	// The same schemas from the same position, each on a dump of its own: the same events.
	privClient, _, _ := serveManager(t, schemaPicker{addr: addr}, tune(true))
	for i := range schemas {
		alone := &recorder{}
		req := schemaRequest(fmt.Sprintf("ks%d", i+1), "MariaDB/"+start)
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := alone.run(sctx, privClient, req); err != nil && sctx.Err() == nil {
				t.Errorf("ks%d alone: %v", i+1, err)
			}
		}()
		waitFor(t, ctx, fmt.Sprintf("ks%d alone at the end position", i+1), func() (bool, string) {
			g, _ := alone.at()
			return g == endPos, "at " + g
		})
		got, want := streams[i].upTo(endPos), alone.upTo(endPos)
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("ks%d through detachment and rejoin differs from alone (%d and %d lines); first difference: %s", i+1, len(got), len(want), firstDiff(got, want))
		}
		if _, rows := streams[i].at(); rows == 0 {
			t.Errorf("ks%d got no rows", i+1)
		}
	}
}

// firstDiff describes where two event lists first differ.
func firstDiff(a, b []string) string {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return fmt.Sprintf("line %d: %q, alone %q", i, a[i], b[i])
		}
	}
	return fmt.Sprintf("one is a prefix of the other (%d, %d lines)", len(a), len(b))
}

package vstream_test

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"os"
	"runtime/pprof"
	"slices"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	binlogdatapb "vitess.io/vitess/go/vt/proto/binlogdata"
	topodatapb "vitess.io/vitess/go/vt/proto/topodata"
	vtgatepb "vitess.io/vitess/go/vt/proto/vtgate"
)

// BenchmarkVStreamBurst measures row events per second streamed to one client for a burst of
// 100,000 single-row inserts already in the binlog (b.N is ignored: one burst per run).
func BenchmarkVStreamBurst(b *testing.B) {
	const rows = 100_000
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	c := startCluster(b, ctx, 0)
	var start string
	if err := c.pdb.QueryRow("SELECT @@gtid_binlog_pos").Scan(&start); err != nil {
		b.Fatal(err)
	}
	insertBurst(b, ctx, c.pdb, rows)
	client := serve(b, newPicker(c), nil)

	b.ResetTimer()
	for range b.N {
		sctx, scancel := context.WithCancel(ctx)
		s, err := client.VStream(sctx, &vtgatepb.VStreamRequest{TabletType: topodatapb.TabletType_PRIMARY, Vgtid: vgtid("MariaDB/" + start),
			Filter: &binlogdatapb.Filter{Rules: []*binlogdatapb.Rule{{Match: "t1"}}}})
		if err != nil {
			b.Fatal(err)
		}
		t0 := time.Now()
		cpu0 := cpuTime()
		if f := os.Getenv("VSTREAM_BENCH_PROFILE"); f != "" {
			pf, err := os.Create(f)
			if err != nil {
				b.Fatal(err)
			}
			_ = pprof.StartCPUProfile(pf)
			defer pprof.StopCPUProfile()
		}
		got := 0
		for got < rows {
			resp, err := s.Recv()
			if err != nil {
				b.Fatal(err)
			}
			for _, ev := range resp.Events {
				if ev.Type == binlogdatapb.VEventType_ROW {
					got += len(ev.RowEvent.RowChanges)
				}
			}
		}
		el := time.Since(t0)
		scancel()
		b.ReportMetric(float64(rows)/el.Seconds(), "events/s")
		b.ReportMetric((cpuTime()-cpu0).Seconds()/el.Seconds(), "cpus")
	}
}

// cpuTime is the CPU time this process (gateway and client) has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// insertBurst inserts n single-row transactions with 16 connections (group commit keeps it quick).
func insertBurst(b *testing.B, ctx context.Context, db *sql.DB, n int) {
	const workers = 16
	db.SetMaxOpenConns(workers)
	var wg sync.WaitGroup
	errc := make(chan error, workers)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < n; i += workers {
				if _, err := db.ExecContext(ctx, "INSERT INTO t.t1 (id, v, n) VALUES (?, 'burst', ?)", i+1, i); err != nil {
					errc <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errc)
	if err := <-errc; err != nil {
		b.Fatal(err)
	}
}

// BenchmarkVStreamLatency measures commit-to-client latency (from the INSERT's OK to the ROW
// event reaching the client; an event that arrives before the OK counts as 0) under a steady
// 1,000 inserts/s for 5 seconds, reporting p50 and p99.
func BenchmarkVStreamLatency(b *testing.B) {
	const rate, seconds = 1000, 5
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	c := startCluster(b, ctx, 0)
	client := serve(b, newPicker(c), nil)
	b.ResetTimer()
	for range b.N {
		c.exec(b, "DELETE FROM t.t1")
		sctx, scancel := context.WithCancel(ctx)
		s, err := client.VStream(sctx, &vtgatepb.VStreamRequest{TabletType: topodatapb.TabletType_PRIMARY, Vgtid: vgtid("current")})
		if err != nil {
			b.Fatal(err)
		}
		// The stream starts at the source's position when the server reads it, not when the
		// call returns: insert only after its first events (VGTID, OTHER), or rows are missed.
		if _, err := s.Recv(); err != nil {
			b.Fatal(err)
		}
		n := rate * seconds
		var mu sync.Mutex // guards okAt and recvAt
		okAt := make([]time.Time, n)
		recvAt := make([]time.Time, n)
		recvDone := make(chan error, 1)
		go func() {
			got := 0
			for got < n {
				resp, err := s.Recv()
				if err != nil {
					if err == io.EOF {
						err = fmt.Errorf("stream ended")
					}
					recvDone <- fmt.Errorf("after %d of %d rows: %w", got, n, err)
					return
				}
				now := time.Now()
				for _, ev := range resp.Events {
					if ev.Type != binlogdatapb.VEventType_ROW {
						continue
					}
					for _, rc := range ev.RowEvent.RowChanges {
						if rc.After == nil {
							continue
						}
						id, _ := strconv.Atoi(string(rc.After.Values[:rc.After.Lengths[0]]))
						mu.Lock()
						if id >= 1 && id <= n {
							recvAt[id-1] = now
						}
						mu.Unlock()
						got++
					}
				}
			}
			recvDone <- nil
		}()
		tick := time.NewTicker(time.Second / rate)
		for i := range n {
			<-tick.C
			if _, err := c.pdb.ExecContext(ctx, "INSERT INTO t.t1 (id, v) VALUES (?, 'lat')", i+1); err != nil {
				b.Fatal(err)
			}
			t := time.Now()
			mu.Lock()
			okAt[i] = t
			mu.Unlock()
		}
		tick.Stop()
		if err := <-recvDone; err != nil {
			b.Fatal(err)
		}
		scancel()
		lat := make([]time.Duration, n)
		for i := range n {
			lat[i] = max(0, recvAt[i].Sub(okAt[i]))
		}
		slices.Sort(lat)
		b.ReportMetric(float64(lat[n/2].Microseconds())/1000, "p50-ms")
		b.ReportMetric(float64(lat[n*99/100].Microseconds())/1000, "p99-ms")
	}
}

package main

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"sync"
	"time"

	_ "github.com/go-sql-driver/mysql"

	"github.com/vtdirect/vtdirect/local"
)

// clientDSN is the DSN of every client connection: user app to database (target) commerce,
// parameters interpolated by the client so each query is one COM_QUERY round trip.
func clientDSN(addr string) string {
	return "app:app@tcp(" + addr + ")/commerce?interpolateParams=true"
}

// goLoad runs the Go client: conns workers, each on its own connection, point-selecting random
// ids for warmup (not counted) and then for dur, keeping every latency.
func goLoad(ctx context.Context, addr string, conns, rows int, warmup, dur time.Duration, meter *cpuMeter) (result, error) {
	res := result{load: "go", conns: conns}
	db, err := sql.Open("mysql", clientDSN(addr))
	if err != nil {
		return res, err
	}
	defer db.Close()
	db.SetMaxOpenConns(conns)
	db.SetMaxIdleConns(conns)
	workers := make([]*sql.Conn, conns)
	for i := range workers {
		if workers[i], err = db.Conn(ctx); err != nil {
			return res, fmt.Errorf("connect to %s: %w", addr, err)
		}
		defer workers[i].Close()
	}
	lats := make([][]time.Duration, conns)
	phase := func(d time.Duration, record bool) error {
		deadline := time.Now().Add(d)
		errs := make([]error, conns)
		var wg sync.WaitGroup
		for i, c := range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				rng := rand.New(rand.NewPCG(uint64(i), uint64(time.Now().UnixNano())))
				var lat []time.Duration
				if record {
					lat = latencyBuf(conns, 1<<16)
				}
				var val []byte
				for {
					t0 := time.Now()
					if !t0.Before(deadline) {
						break
					}
					if err := c.QueryRowContext(ctx, pointSelect, rng.IntN(rows)+1).Scan(&val); err != nil {
						errs[i] = err
						return
					}
					if record {
						lat = append(lat, time.Since(t0))
					}
				}
				lats[i] = lat
			}()
		}
		wg.Wait()
		for _, err := range errs {
			if err != nil {
				return fmt.Errorf("query through %s: %w", addr, err)
			}
		}
		return nil
	}
	return measure(res, meter, warmup, dur, phase, lats)
}

// measure runs phase for warmup (not recorded), then for dur with the meter on, and returns
// res with the elapsed time, the CPU the meter read and the latencies phase left in lats.
func measure(res result, meter *cpuMeter, warmup, dur time.Duration, phase func(d time.Duration, record bool) error, lats [][]time.Duration) (result, error) {
	if err := phase(warmup, false); err != nil {
		return res, err
	}
	if err := meter.begin(); err != nil {
		return res, err
	}
	start := time.Now()
	if err := phase(dur, true); err != nil {
		return res, err
	}
	res.elapsed = time.Since(start)
	var err error
	if res.cpu, err = meter.end(); err != nil {
		return res, err
	}
	res.setLatencies(lats)
	return res, nil
}

// setLatencies sets the query count and percentiles from every worker's latencies.
func (r *result) setLatencies(lats [][]time.Duration) {
	all := slices.Concat(lats...)
	slices.Sort(all)
	r.queries = int64(len(all))
	r.p50, r.p99 = percentile(all, 0.50), percentile(all, 0.99)
}

// prepareBench checks for MariaDB, makes the working directory (dirFlag, else a temp dir
// removed by cleanup) and builds vtdirect there unless binFlag names one.
func prepareBench(ctx context.Context, p progress, dirFlag, prefix, binFlag string) (dir, bin string, cleanup func(), err error) {
	cleanup = func() {}
	if err := local.CheckMariaDBInstalled(); err != nil {
		return "", "", cleanup, fmt.Errorf("bench needs MariaDB (`make bench` installs it): %w", err)
	}
	dir = dirFlag
	if dir == "" {
		if dir, err = os.MkdirTemp("", prefix); err != nil {
			return "", "", cleanup, err
		}
		cleanup = func() { os.RemoveAll(dir) }
	}
	bin = binFlag
	if bin == "" {
		p.say("building vtdirect")
		if bin, err = buildVtdirect(ctx, dir); err != nil {
			cleanup()
			return "", "", func() {}, err
		}
	}
	return dir, bin, cleanup, nil
}

// latencyBudget bounds the latencies all of a run's workers preallocate together (8 MiB):
// 65,536 for each of 1,000 connections took 512 MiB of the bench's memory before a query ran.
const latencyBudget = 1 << 20

// latencyBuf is the buffer one of workers keeps its latencies in: room for want (enough that
// most runs never grow it while measuring), less when workers would pass latencyBudget
// together; append grows it past that.
func latencyBuf(workers, want int) []time.Duration {
	return make([]time.Duration, 0, max(1, min(want, latencyBudget/max(1, workers))))
}

// percentile of sorted latencies: the smallest value at or above a fraction p of them.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(p*float64(len(sorted))+0.999999) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}

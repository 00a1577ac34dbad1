package main

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"strconv"
	"sync"
	"time"

	"github.com/go-sql-driver/mysql"
)

// shortLoad runs workers clients that each, in a loop, open a new connection (TCP connect,
// handshake, authentication), run one point select and close the connection (COM_QUIT), as
// a PHP or CGI client does: warmup unmeasured, then dur measured. A latency is the whole
// connect + query + close.
func shortLoad(ctx context.Context, addr string, workers, rows int, warmup, dur time.Duration, meter *cpuMeter) (result, error) {
	res := result{load: "short-lived", conns: workers}
	cfg, err := mysql.ParseDSN(clientDSN(addr))
	if err != nil {
		return res, err
	}
	connector, err := mysql.NewConnector(cfg)
	if err != nil {
		return res, err
	}
	lats := make([][]time.Duration, workers)
	phase := func(d time.Duration, record bool) error {
		deadline := time.Now().Add(d)
		errs := make([]error, workers)
		var wg sync.WaitGroup
		for i := range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				rng := rand.New(rand.NewPCG(uint64(i), uint64(time.Now().UnixNano())))
				var lat []time.Duration
				if record {
					lat = latencyBuf(workers, 1<<14)
				}
				for {
					t0 := time.Now()
					if !t0.Before(deadline) {
						break
					}
					if err := connectQueryClose(ctx, connector, rng.IntN(rows)+1); err != nil {
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
		if err := errors.Join(errs...); err != nil {
			return fmt.Errorf("short-lived connections to %s: %w", addr, err)
		}
		return nil
	}
	return measure(res, meter, warmup, dur, phase, lats)
}

// connectQueryClose is one short-lived client: a new connection, the point select of id (its
// text as interpolateParams makes it), its one row read, and COM_QUIT.
func connectQueryClose(ctx context.Context, connector driver.Connector, id int) error {
	conn, err := connector.Connect(ctx)
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	defer conn.Close()
	q, ok := conn.(driver.QueryerContext)
	if !ok {
		return errors.New("the driver's connection cannot run queries")
	}
	rows, err := q.QueryContext(ctx, "SELECT c FROM sbtest1 WHERE id="+strconv.Itoa(id), nil)
	if err != nil {
		return err
	}
	dest := make([]driver.Value, 1)
	err = rows.Next(dest)
	if cerr := rows.Close(); err == nil {
		err = cerr
	}
	if errors.Is(err, io.EOF) {
		return fmt.Errorf("no row with id %d", id)
	}
	return err
}

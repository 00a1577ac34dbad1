package main

// VStream fidelity figures (issue 9), measured through vtdirect serve's gRPC port:
//   - a stream across a DDL: a backlog of single-row transactions, half written before an
//     ALTER TABLE ADD COLUMN and half after, streamed vstreamRounds times; row events/s;
//   - one large transaction (--vstream-big-tx-mib, 200 by default) streamed to a client that
//     keeps grpc-go's default 4 MiB message limit: the gateway's peak RSS (sampled every
//     50 ms from /proc) against its RSS before, the largest response, the time;
//   - the copy of a table without any key (--vstream-keyless-rows, 1,000,000 by default):
//     the same figures until COPY_COMPLETED.

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"io"
	"os"
	"strconv"
	"sync"
	"time"

	binlogdatapb "vitess.io/vitess/go/vt/proto/binlogdata"
	topodatapb "vitess.io/vitess/go/vt/proto/topodata"
	vtgatepb "vitess.io/vitess/go/vt/proto/vtgate"
	"vitess.io/vitess/go/vt/proto/vtgateservice"
)

// fidelityResult holds the fidelity figures.
type fidelityResult struct {
	ddlRows int
	ddlEPS  []float64
	big     memRun
	keyless memRun
	errs    []string
	bigMiB  int
	keyRows int
}

// memRun is one stream measured for memory and message size.
type memRun struct {
	elapsed             time.Duration
	rows                int
	rssBefore, rssPeak  int64 // KiB
	maxResponse, nResps int
}

// rssKiB reads VmRSS of pid.
func rssKiB(pid int) (int64, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0, err
	}
	for line := range bytes.SplitSeq(b, []byte("\n")) {
		if v, ok := bytes.CutPrefix(line, []byte("VmRSS:")); ok {
			f := bytes.Fields(v)
			if len(f) > 0 {
				return strconv.ParseInt(string(f[0]), 10, 64)
			}
		}
	}
	return 0, fmt.Errorf("no VmRSS for pid %d", pid)
}

// rssSampler records the peak RSS of pid until stopped.
type rssSampler struct {
	peak atomic64
	stop chan struct{}
	done chan struct{}
}

type atomic64 struct {
	mu sync.Mutex
	v  int64
}

func (a *atomic64) max(v int64) {
	a.mu.Lock()
	a.v = max(a.v, v)
	a.mu.Unlock()
}

func (a *atomic64) get() int64 {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.v
}

func sampleRSS(pid int) *rssSampler {
	s := &rssSampler{stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(s.done)
		t := time.NewTicker(50 * time.Millisecond)
		defer t.Stop()
		for {
			if v, err := rssKiB(pid); err == nil {
				s.peak.max(v)
			}
			select {
			case <-s.stop:
				return
			case <-t.C:
			}
		}
	}()
	return s
}

func (s *rssSampler) end() int64 {
	close(s.stop)
	<-s.done
	return s.peak.get()
}

// runFidelity runs the three fidelity measurements.
func runFidelity(ctx context.Context, p progress, s vstreamSetup, ddlRows, rounds, bigMiB, keylessRows int) fidelityResult {
	res := fidelityResult{ddlRows: ddlRows, bigMiB: bigMiB, keyRows: keylessRows}
	fail := func(what string, err error) {
		res.errs = append(res.errs, what+": "+err.Error())
		p.say("vstream %s FAILED: %v", what, err)
	}
	db, err := sql.Open("mysql", s.dsn)
	if err != nil {
		fail("setup", err)
		return res
	}
	defer db.Close()
	client, closer, err := vstreamClient(s.grpcAddr)
	if err != nil {
		fail("setup", err)
		return res
	}
	defer closer.Close()

	if err := fidelityDDL(ctx, p, db, client, s, ddlRows, rounds, &res); err != nil {
		fail("across a DDL", err)
	}
	if res.big, err = fidelityBigTx(ctx, p, db, client, s, bigMiB); err != nil {
		fail("large transaction", err)
	}
	if res.keyless, err = fidelityKeyless(ctx, p, db, client, s, keylessRows); err != nil {
		fail("key-less copy", err)
	}
	return res
}

func execAll(ctx context.Context, db *sql.DB, qs ...string) error {
	for _, q := range qs {
		if _, err := db.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("%s: %w", q, err)
		}
	}
	return nil
}

func fidelityDDL(ctx context.Context, p progress, db *sql.DB, client vtgateservice.VitessClient, s vstreamSetup, rows, rounds int, res *fidelityResult) error {
	if err := execAll(ctx, db, "DROP TABLE IF EXISTS "+vstreamTable,
		"CREATE TABLE "+vstreamTable+" (id INT PRIMARY KEY, v VARCHAR(32) NOT NULL, n INT UNSIGNED)"); err != nil {
		return err
	}
	var start string
	if err := db.QueryRowContext(ctx, "SELECT @@gtid_binlog_pos").Scan(&start); err != nil {
		return err
	}
	if err := insertBurst(ctx, db, rows/2); err != nil {
		return err
	}
	if err := execAll(ctx, db, "ALTER TABLE "+vstreamTable+" ADD COLUMN extra INT, ADD COLUMN note VARCHAR(16) DEFAULT 'after'"); err != nil {
		return err
	}
	// The second half after the DDL, with new ids.
	if err := insertBurstFrom(ctx, db, rows/2, rows-rows/2); err != nil {
		return err
	}
	for round := 1; round <= rounds; round++ {
		r, err := burstOnce(ctx, client, s, "MariaDB/"+start, rows)
		if err != nil {
			return err
		}
		eps := r.eventsPerSec(rows)
		res.ddlEPS = append(res.ddlEPS, eps)
		p.say("vstream across a DDL %d/%d: %d row events in %v: %.0f events/s", round, rounds, rows, r.elapsed.Round(time.Millisecond), eps)
	}
	return execAll(ctx, db, "DROP TABLE "+vstreamTable)
}

// insertBurstFrom inserts n single-row transactions with ids from first+1, 16 connections.
func insertBurstFrom(ctx context.Context, db *sql.DB, first, n int) error {
	const workers = 16
	var wg sync.WaitGroup
	errs := make([]error, workers)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < n; i += workers {
				if _, err := db.ExecContext(ctx, "INSERT INTO "+vstreamTable+" (id, v, n) VALUES (?, 'burst', ?)", first+i+1, i); err != nil {
					errs[w] = err
					return
				}
			}
		}()
	}
	wg.Wait()
	for _, e := range errs {
		if e != nil {
			return e
		}
	}
	return nil
}

// measureStream streams req until done says so, sampling the gateway's RSS.
func measureStream(ctx context.Context, client vtgateservice.VitessClient, s vstreamSetup, req *vtgatepb.VStreamRequest, done func(*vtgatepb.VStreamResponse, *memRun) bool) (memRun, error) {
	var r memRun
	var err error
	if r.rssBefore, err = rssKiB(s.gatewayPID); err != nil {
		return r, err
	}
	sampler := sampleRSS(s.gatewayPID)
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	t0 := time.Now()
	st, err := client.VStream(sctx, req)
	if err != nil {
		sampler.end()
		return r, err
	}
	for {
		resp, err := st.Recv()
		if err != nil {
			r.rssPeak = sampler.end()
			if err == io.EOF {
				err = fmt.Errorf("stream ended early")
			}
			return r, fmt.Errorf("after %d rows: %w", r.rows, err)
		}
		r.nResps++
		r.maxResponse = max(r.maxResponse, resp.SizeVT())
		for _, ev := range resp.Events {
			if ev.Type == binlogdatapb.VEventType_ROW {
				r.rows += len(ev.RowEvent.RowChanges)
			}
		}
		if done(resp, &r) {
			break
		}
	}
	r.elapsed = time.Since(t0)
	r.rssPeak = sampler.end()
	return r, nil
}

func fidelityBigTx(ctx context.Context, p progress, db *sql.DB, client vtgateservice.VitessClient, s vstreamSetup, mib int) (memRun, error) {
	const rowBytes = 4096
	rows := mib << 20 / rowBytes
	if err := execAll(ctx, db, "DROP TABLE IF EXISTS vstream_big", "CREATE TABLE vstream_big (id INT PRIMARY KEY, pad LONGTEXT)"); err != nil {
		return memRun{}, err
	}
	var start string
	if err := db.QueryRowContext(ctx, "SELECT @@gtid_binlog_pos").Scan(&start); err != nil {
		return memRun{}, err
	}
	t0 := time.Now()
	if err := execAll(ctx, db, fmt.Sprintf("INSERT INTO vstream_big SELECT seq, REPEAT('x', %d) FROM seq_1_to_%d", rowBytes, rows)); err != nil {
		return memRun{}, err
	}
	p.say("vstream: one transaction of %d MiB (%d rows) inserted in %.1fs", mib, rows, time.Since(t0).Seconds())
	req := &vtgatepb.VStreamRequest{TabletType: topodatapb.TabletType_PRIMARY,
		Vgtid:  &binlogdatapb.VGtid{ShardGtids: []*binlogdatapb.ShardGtid{{Keyspace: s.keyspace, Shard: s.shard, Gtid: "MariaDB/" + start}}},
		Filter: &binlogdatapb.Filter{Rules: []*binlogdatapb.Rule{{Match: "vstream_big"}}}}
	r, err := measureStream(ctx, client, s, req, func(resp *vtgatepb.VStreamResponse, r *memRun) bool {
		for _, ev := range resp.Events {
			if ev.Type == binlogdatapb.VEventType_COMMIT && r.rows >= rows {
				return true
			}
		}
		return false
	})
	if err == nil {
		p.say("vstream: %d MiB transaction streamed in %v in %d responses (largest %d bytes); gateway RSS %d MiB before, peak %d MiB",
			mib, r.elapsed.Round(time.Millisecond), r.nResps, r.maxResponse, r.rssBefore>>10, r.rssPeak>>10)
	}
	if derr := execAll(ctx, db, "DROP TABLE vstream_big"); err == nil {
		err = derr
	}
	return r, err
}

func fidelityKeyless(ctx context.Context, p progress, db *sql.DB, client vtgateservice.VitessClient, s vstreamSetup, rows int) (memRun, error) {
	if err := execAll(ctx, db, "DROP TABLE IF EXISTS vstream_keyless", "CREATE TABLE vstream_keyless (a INT, b VARCHAR(32), c DOUBLE)",
		fmt.Sprintf("INSERT INTO vstream_keyless SELECT seq, CONCAT('row-', seq), seq / 7 FROM seq_1_to_%d", rows)); err != nil {
		return memRun{}, err
	}
	req := &vtgatepb.VStreamRequest{TabletType: topodatapb.TabletType_PRIMARY,
		Vgtid:  &binlogdatapb.VGtid{ShardGtids: []*binlogdatapb.ShardGtid{{Keyspace: s.keyspace, Shard: s.shard, Gtid: ""}}},
		Filter: &binlogdatapb.Filter{Rules: []*binlogdatapb.Rule{{Match: "vstream_keyless"}}}}
	r, err := measureStream(ctx, client, s, req, func(resp *vtgatepb.VStreamResponse, _ *memRun) bool {
		for _, ev := range resp.Events {
			if ev.Type == binlogdatapb.VEventType_COPY_COMPLETED {
				return true
			}
		}
		return false
	})
	if err == nil {
		if r.rows != rows {
			err = fmt.Errorf("copied %d rows, the table has %d", r.rows, rows)
		}
		p.say("vstream: key-less table of %d rows copied in %v in %d responses (largest %d bytes); gateway RSS %d MiB before, peak %d MiB",
			r.rows, r.elapsed.Round(time.Millisecond), r.nResps, r.maxResponse, r.rssBefore>>10, r.rssPeak>>10)
	}
	if derr := execAll(ctx, db, "DROP TABLE vstream_keyless"); err == nil {
		err = derr
	}
	return r, err
}

func printFidelity(w io.Writer, r fidelityResult) {
	fmt.Fprintf(w, "VStream fidelity (issue 9), same gateway:\n")
	if len(r.ddlEPS) > 0 {
		fmt.Fprintf(w, "  stream across a DDL (%d single-row inserts, ALTER TABLE ADD COLUMN half-way; median of %d): %.0f row events/s\n",
			r.ddlRows, len(r.ddlEPS), median(r.ddlEPS))
	}
	mem := func(name string, m memRun) {
		if m.nResps == 0 {
			return
		}
		fmt.Fprintf(w, "  %s: %d rows in %.1fs, %d responses, largest %d bytes (client limit 4194304); gateway RSS %d MiB before, peak %d MiB\n",
			name, m.rows, m.elapsed.Seconds(), m.nResps, m.maxResponse, m.rssBefore>>10, m.rssPeak>>10)
	}
	mem(fmt.Sprintf("one %d MiB transaction", r.bigMiB), r.big)
	mem(fmt.Sprintf("copy of a %d-row table without a key", r.keyRows), r.keyless)
	for _, e := range r.errs {
		fmt.Fprintf(w, "  FAILED: %s\n", e)
	}
}

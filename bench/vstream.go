package main

// The VStream part of `make bench`: the real `vtdirect serve` streams changes of one shard to
// one Go gRPC client (Vitess's generated client, vtgateservice.NewVitessClient, with the
// username/password call credentials Vitess's static auth sends).
//
//   - Burst: vstreamRows single-row INSERT transactions are written first (straight to
//     MariaDB, 16 connections), then streamed from the position before them, so the figure is
//     the stream's throughput and not MariaDB's insert rate. The same backlog is streamed
//     vstreamRounds times, from the VStream call to the last row event; the median counts.
//   - Latency: a stream from "current"; one connection inserts single-row transactions at a
//     steady rate; each row's latency is from the moment its INSERT (autocommit: the COMMIT)
//     returned OK to the inserting client to the moment the response holding its ROW event
//     (and its COMMIT: one response) reached the streaming client, clamped at 0 when the event
//     came first. The same from just before the INSERT was sent is shown as an upper bound.
//
// CPU per event is the gateway's utime+stime (/proc) over the measured interval divided by
// the row events; MariaDB's and this client's are shown too (they share the two CPUs).

import (
	"bufio"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	binlogdatapb "vitess.io/vitess/go/vt/proto/binlogdata"
	topodatapb "vitess.io/vitess/go/vt/proto/topodata"
	vtgatepb "vitess.io/vitess/go/vt/proto/vtgate"
	"vitess.io/vitess/go/vt/proto/vtgateservice"

	"github.com/vtdirect/vtdirect/grpcvtgate"
)

// The targets for the VStream figures.
const (
	vstreamTargetEventsPerSec = 150_000
	vstreamTargetP99          = 1000 * time.Microsecond
)

const vstreamTable = "vstream_bench"

// latencyInserters is the connections the latency runs insert with.
const latencyInserters = 4

// vstreamSetup is what the VStream runs need.
type vstreamSetup struct {
	grpcAddr   string // the gateway's gRPC port
	dsn        string // MariaDB, straight (the inserts do not go through the gateway)
	keyspace   string
	shard      string
	gatewayPID int
	mariadbPID int
	httpAddr   string       // the gateway's /debug/pprof
	profile    string       // prefix of the CPU profiles to write ("" = none)
	latencyCSV string       // file for every latency sample ("" = none; the floor's gets ".floor" appended)
	trace      string       // prefix of the first latency round's execution traces ("" = none)
	raw        rawDumpSetup // MariaDB, for the floor's raw binlog dump (addr "" = no floor)
	globals    []string     // NAME=value: MariaDB global variables set before the latency runs
}

// vstreamResult is the outcome of the VStream part.
type vstreamResult struct {
	rows       int
	burst      []burstRun
	latency    []latencyRun // one per round
	floor      []latencyRun // the raw binlog dump's, one per round (none when not measured)
	latencyErr error
	floorErr   error
	burstErr   error
	durability string // MariaDB's sync_binlog and innodb_flush_log_at_trx_commit during the latency runs
}

type burstRun struct {
	elapsed time.Duration
	cpu     map[string]time.Duration // "gateway", "mariadb", "client"
}

func (r burstRun) eventsPerSec(rows int) float64 { return float64(rows) / r.elapsed.Seconds() }

type latencyRun struct {
	n             int
	rate          int
	afterOK       []time.Duration // sorted
	beforeSend    []time.Duration // sorted
	toGateway     []time.Duration // sorted: OK to the gateway reading the commit (MariaDB's dump thread, the gateway's read)
	toClient      []time.Duration // sorted: the gateway reading the commit to the client having it (send, gRPC, client)
	cpu           map[string]time.Duration
	insertElapsed time.Duration
}

// staticCreds sends username/password call credentials, as Vitess's static gRPC auth does.
type staticCreds struct{ user, pass string }

func (c staticCreds) GetRequestMetadata(context.Context, ...string) (map[string]string, error) {
	return map[string]string{"username": c.user, "password": c.pass}, nil
}
func (staticCreds) RequireTransportSecurity() bool { return false }

// vstreamClient dials the gateway's gRPC port. Vitess's own client uses the vtprotobuf codec,
// and so does this one.
func vstreamClient(addr string) (vtgateservice.VitessClient, io.Closer, error) {
	cc, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithPerRPCCredentials(staticCreds{"app", "app"}),
		grpc.WithDefaultCallOptions(grpc.ForceCodecV2(grpcvtgate.Codec())))
	if err != nil {
		return nil, nil, err
	}
	return vtgateservice.NewVitessClient(cc), cc, nil
}

// runVStream runs the burst and the latency measurements.
func runVStream(ctx context.Context, p progress, s vstreamSetup, rows, rounds, latRounds, rate int, dur time.Duration) (vstreamResult, error) {
	res := vstreamResult{rows: rows}
	db, err := sql.Open("mysql", s.dsn)
	if err != nil {
		return res, err
	}
	defer db.Close()
	for _, q := range []string{
		"DROP TABLE IF EXISTS " + vstreamTable,
		"CREATE TABLE " + vstreamTable + " (id INT PRIMARY KEY, v VARCHAR(32) NOT NULL, n INT UNSIGNED)",
	} {
		if _, err := db.ExecContext(ctx, q); err != nil {
			return res, fmt.Errorf("vstream table: %w", err)
		}
	}
	client, closer, err := vstreamClient(s.grpcAddr)
	if err != nil {
		return res, err
	}
	defer closer.Close()

	var start string
	if err := db.QueryRowContext(ctx, "SELECT @@gtid_binlog_pos").Scan(&start); err != nil {
		return res, err
	}
	t0 := time.Now()
	if err := insertBurst(ctx, db, rows); err != nil {
		return res, err
	}
	p.say("vstream: %d single-row transactions inserted in %.1fs (%.0f/s, straight to MariaDB)", rows, time.Since(t0).Seconds(), float64(rows)/time.Since(t0).Seconds())
	var prof *gatewayProfiler
	if s.profile != "" {
		prof = newGatewayProfiler(s.httpAddr, time.Second)
	}
	for round := 1; round <= rounds; round++ {
		if prof != nil {
			prof.start(ctx)
		}
		r, err := burstOnce(ctx, client, s, "MariaDB/"+start, rows)
		if prof != nil {
			if perr := prof.wait(); perr != nil {
				return res, perr
			}
		}
		if err != nil {
			res.burstErr = err
			p.say("vstream burst %d/%d FAILED: %v", round, rounds, err)
			break
		}
		res.burst = append(res.burst, r)
		p.say("vstream burst %d/%d: %d row events in %v: %.0f events/s, gateway %.2fµs/event", round, rounds, rows,
			r.elapsed.Round(time.Millisecond), r.eventsPerSec(rows), perEvent(r.cpu["gateway"], rows))
	}
	if ctx.Err() != nil {
		return res, ctx.Err()
	}
	if _, err := db.ExecContext(ctx, "DELETE FROM "+vstreamTable); err != nil {
		return res, err
	}
	if prof != nil && len(res.burst) > 0 {
		if err := writeProfile(ctx, p, prof, s.profile+".burst.pprof"); err != nil {
			return res, err
		}
		prof = newGatewayProfiler(s.httpAddr, dur)
	}
	if res.durability, err = mariadbDurability(ctx, s.raw, s.globals); err != nil {
		return res, err
	}
	p.say("vstream latency: MariaDB %s", res.durability)
	// The gateway's rounds alternate with the floor's (the same inserts read by a raw binlog
	// dump, no gateway), so that both see the machine in the same state.
	for round := 1; round <= latRounds && res.latencyErr == nil; round++ {
		var tr *latencyTracer
		if round == 1 {
			tr = newLatencyTracer(s.trace, s.httpAddr, dur)
		}
		l, err := latencyOnce(ctx, client, db, s, rate, dur, prof, tr)
		if prof != nil {
			if perr := prof.wait(); perr != nil {
				return res, perr
			}
		}
		if err != nil {
			res.latencyErr = err
			p.say("vstream latency FAILED: %v", err)
			break
		}
		res.latency = append(res.latency, l)
		p.say("vstream latency %d/%d at %d inserts/s: p50 %.3fms p99 %.3fms (after OK), gateway %.0fµs/event (load %s)", round, latRounds, rate,
			ms(percentile(l.afterOK, 0.5)), ms(percentile(l.afterOK, 0.99)), perEvent(l.cpu["gateway"], l.n), loadAvg())
		if _, err := db.ExecContext(ctx, "DELETE FROM "+vstreamTable); err != nil {
			return res, err
		}
		if s.raw.addr == "" || res.floorErr != nil {
			continue
		}
		f, err := floorLatencyOnce(ctx, db, s, rate, dur)
		if err != nil {
			res.floorErr = err
			p.say("vstream latency floor FAILED: %v", err)
		} else {
			res.floor = append(res.floor, f)
			p.say("vstream latency floor %d/%d (raw binlog dump, no gateway): p50 %.3fms p99 %.3fms (after OK) (load %s)", round, latRounds,
				ms(percentile(f.afterOK, 0.5)), ms(percentile(f.afterOK, 0.99)), loadAvg())
		}
		if _, err := db.ExecContext(ctx, "DELETE FROM "+vstreamTable); err != nil {
			return res, err
		}
	}
	if prof != nil && len(res.latency) > 0 {
		if err := writeProfile(ctx, p, prof, s.profile+".latency.pprof"); err != nil {
			return res, err
		}
	}
	return res, ctx.Err()
}

// insertBurst inserts n single-row transactions with 16 connections (group commit keeps it quick).
func insertBurst(ctx context.Context, db *sql.DB, n int) error {
	const workers = 16
	db.SetMaxOpenConns(workers)
	db.SetMaxIdleConns(workers)
	var wg sync.WaitGroup
	errs := make([]error, workers)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < n; i += workers {
				if _, err := db.ExecContext(ctx, "INSERT INTO "+vstreamTable+" (id, v, n) VALUES (?, 'burst', ?)", i+1, i); err != nil {
					errs[w] = fmt.Errorf("burst insert: %w", err)
					return
				}
			}
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

func vstreamRequest(s vstreamSetup, gtid string) *vtgatepb.VStreamRequest {
	return &vtgatepb.VStreamRequest{
		TabletType: topodatapb.TabletType_PRIMARY,
		Vgtid:      &binlogdatapb.VGtid{ShardGtids: []*binlogdatapb.ShardGtid{{Keyspace: s.keyspace, Shard: s.shard, Gtid: gtid}}},
		Filter:     &binlogdatapb.Filter{Rules: []*binlogdatapb.Rule{{Match: vstreamTable}}},
	}
}

// burstOnce streams the backlog from pos until rows row events have arrived.
func burstOnce(ctx context.Context, client vtgateservice.VitessClient, s vstreamSetup, pos string, rows int) (burstRun, error) {
	var r burstRun
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	meter := newCPUMeter(map[string]int{"gateway": s.gatewayPID, "mariadb": s.mariadbPID, "client": os.Getpid()})
	if err := meter.begin(); err != nil {
		return r, err
	}
	t0 := time.Now()
	stream, err := client.VStream(sctx, vstreamRequest(s, pos))
	if err != nil {
		return r, err
	}
	got := 0
	for got < rows {
		resp, err := stream.Recv()
		if err != nil {
			return r, fmt.Errorf("after %d of %d rows: %w", got, rows, err)
		}
		for _, ev := range resp.Events {
			if ev.Type == binlogdatapb.VEventType_ROW {
				got += len(ev.RowEvent.RowChanges)
			}
		}
	}
	r.elapsed = time.Since(t0)
	r.cpu, err = meter.end()
	return r, err
}

// latencyOnce inserts at rate per second for dur while a stream from "current" receives.
func latencyOnce(ctx context.Context, client vtgateservice.VitessClient, db *sql.DB, s vstreamSetup, rate int, dur time.Duration, prof *gatewayProfiler, tr *latencyTracer) (latencyRun, error) {
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stream, err := client.VStream(sctx, vstreamRequest(s, "current"))
	if err != nil {
		return latencyRun{}, err
	}
	// The stream starts where the source is when the gateway asks it, not when the call
	// returns: insert only after its first response (VGTID, OTHER), or rows would be missed.
	if _, err := stream.Recv(); err != nil {
		return latencyRun{}, fmt.Errorf("first response: %w", err)
	}
	receive := func(n int, recvAt, gwAt []time.Time, warm func()) error {
		got, warmSeen := 0, false
		for got < n {
			resp, err := stream.Recv()
			if err != nil {
				return fmt.Errorf("after %d of %d rows: %w", got, n, err)
			}
			now := time.Now()
			var ids []int // rows of the transaction being read
			for _, ev := range resp.Events {
				switch ev.Type {
				case binlogdatapb.VEventType_COMMIT:
					for _, id := range ids {
						gwAt[id-1] = time.Unix(0, ev.CurrentTime)
					}
					ids = ids[:0]
				case binlogdatapb.VEventType_ROW:
					for _, rc := range ev.RowEvent.RowChanges {
						if rc.After == nil || len(rc.After.Lengths) == 0 || rc.After.Lengths[0] < 0 {
							continue
						}
						id, _ := strconv.Atoi(string(rc.After.Values[:rc.After.Lengths[0]]))
						if id == 0 && !warmSeen {
							warmSeen = true
							warm()
						}
						if id >= 1 && id <= n && recvAt[id-1].IsZero() {
							recvAt[id-1] = now
							ids = append(ids, id)
							got++
						}
					}
				}
			}
		}
		return nil
	}
	meter := newCPUMeter(map[string]int{"gateway": s.gatewayPID, "mariadb": s.mariadbPID, "client": os.Getpid()})
	var hooks latencyHooks
	if prof != nil {
		hooks.begin = append(hooks.begin, func() error { prof.start(ctx); return nil })
	}
	if tr != nil {
		hooks.begin = append(hooks.begin, func() error { return tr.start(ctx) })
		hooks.end = append(hooks.end, tr.stop)
	}
	return measureLatency(ctx, db, rate, dur, meter, hooks, s.latencyCSV, receive)
}

// latencyHooks run when the measured interval of a latency run begins and ends.
type latencyHooks struct{ begin, end []func() error }

// latencyReceiver reads the stream until rows 1..n have arrived, noting when each reached the
// client (recvAt[id-1]) and, where the stream says, when the gateway read its commit
// (gwAt[id-1]). It calls warm once, when the unmeasured row 0 arrives. It runs in a goroutine
// of its own and must return once its stream is closed.
type latencyReceiver func(n int, recvAt, gwAt []time.Time, warm func()) error

// measureLatency inserts single-row transactions on one connection at rate per second for
// dur while receive reads them from a stream, and returns the latencies. The warm-up row goes
// first; the measured interval (meter, prof) begins once it arrived.
func measureLatency(ctx context.Context, db *sql.DB, rate int, dur time.Duration, meter *cpuMeter, hooks latencyHooks, csv string, receive latencyReceiver) (latencyRun, error) {
	n := max(1, int(float64(rate)*dur.Seconds()))
	l := latencyRun{n: n, rate: rate}
	// Several connections: one alone could not keep the rate when a commit (its fsync) takes
	// longer than the interval between inserts.
	conns := make([]*sql.Conn, latencyInserters)
	for w := range conns {
		c, err := db.Conn(ctx)
		if err != nil {
			return l, err
		}
		defer c.Close()
		conns[w] = c
	}

	sentAt := make([]time.Time, n) // written by the inserter of the row only
	okAt := make([]time.Time, n)   // written by the inserter of the row only
	recvAt := make([]time.Time, n) // written by the receiver only
	gwAt := make([]time.Time, n)   // written by the receiver only
	recvDone := make(chan error, 1)
	warm := make(chan struct{}) // closed by the receiver when the warm-up row arrived
	go func() { recvDone <- receive(n, recvAt, gwAt, func() { close(warm) }) }()

	// One unmeasured row first, so the measured ones find the whole path warm.
	if _, err := conns[0].ExecContext(ctx, "INSERT INTO "+vstreamTable+" (id, v) VALUES (0, 'warm-up')"); err != nil {
		return l, fmt.Errorf("insert: %w", err)
	}
	select {
	case <-warm:
	case err := <-recvDone:
		return l, fmt.Errorf("before the warm-up row arrived: %v", err)
	case <-time.After(30 * time.Second):
		return l, errors.New("the warm-up row did not arrive in 30s")
	}
	if err := meter.begin(); err != nil {
		return l, err
	}
	for _, f := range hooks.begin {
		if err := f(); err != nil {
			return l, err
		}
	}
	t0 := time.Now()
	tick := time.NewTicker(time.Second / time.Duration(rate))
	// The measured inserts take a context that cannot be canceled: with one that can, the
	// driver wakes a watcher goroutine of its own several times per statement, in the process
	// whose streaming client is being timed. The ticking loop checks ctx instead.
	ictx := context.WithoutCancel(ctx)
	next := make(chan int) // row indexes, handed to an idle inserter at each tick
	errs := make([]error, len(conns))
	var wg sync.WaitGroup
	for w, c := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				if errs[w] != nil {
					continue
				}
				sentAt[i] = time.Now()
				if _, err := c.ExecContext(ictx, "INSERT INTO "+vstreamTable+" (id, v) VALUES (?, 'lat')", i+1); err != nil {
					errs[w] = fmt.Errorf("insert: %w", err)
					continue
				}
				okAt[i] = time.Now()
			}
		}()
	}
	for i := range n {
		<-tick.C
		if ctx.Err() != nil {
			break
		}
		next <- i // waits while every inserter is busy: the rate then drops (insertElapsed says)
	}
	close(next)
	wg.Wait()
	if err := errors.Join(append(errs, ctx.Err())...); err != nil {
		tick.Stop()
		return l, err
	}
	tick.Stop()
	l.insertElapsed = time.Since(t0)
	select {
	case err := <-recvDone: // happens-after every recvAt write
		if err != nil {
			return l, err
		}
	case <-time.After(30 * time.Second):
		return l, errors.New("rows still missing 30s after the last insert")
	}
	for _, f := range hooks.end {
		if err := f(); err != nil {
			return l, err
		}
	}
	var err error
	if l.cpu, err = meter.end(); err != nil {
		return l, err
	}
	if csv != "" {
		if err := writeLatencyCSV(csv, t0, sentAt, okAt, gwAt, recvAt); err != nil {
			return l, err
		}
	}
	for i := range n {
		l.afterOK = append(l.afterOK, max(0, recvAt[i].Sub(okAt[i])))
		l.beforeSend = append(l.beforeSend, recvAt[i].Sub(sentAt[i]))
		if !gwAt[i].IsZero() {
			l.toGateway = append(l.toGateway, max(0, gwAt[i].Sub(okAt[i])))
			l.toClient = append(l.toClient, recvAt[i].Sub(gwAt[i]))
		}
	}
	slices.Sort(l.afterOK)
	slices.Sort(l.beforeSend)
	slices.Sort(l.toGateway)
	slices.Sort(l.toClient)
	return l, nil
}

// writeLatencyCSV writes one line per insert: its index and, in µs since the run began, when
// it was sent, when its OK came back, when the gateway read its commit and when the client had it.
func writeLatencyCSV(file string, t0 time.Time, sent, ok, gw, recv []time.Time) error {
	f, err := os.Create(file)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	fmt.Fprintln(w, "i,sent_us,ok_us,gateway_us,client_us")
	us := func(t time.Time) int64 { return t.Sub(t0).Microseconds() }
	for i := range sent {
		fmt.Fprintf(w, "%d,%d,%d,%d,%d\n", i, us(sent[i]), us(ok[i]), us(gw[i]), us(recv[i]))
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// writeProfile writes the parts prof collected to file.
func writeProfile(ctx context.Context, p progress, prof *gatewayProfiler, file string) error {
	note, err := prof.write(ctx, file)
	if err != nil {
		return fmt.Errorf("--vstream-cpuprofile: %w", err)
	}
	p.say("vstream: gateway CPU profile in %s %s", file, note)
	return nil
}

// loadAvg is the machine's 1, 5 and 15 minute load averages, for the progress lines.
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	return strings.Join(f[:min(3, len(f))], " ")
}

func perEvent(d time.Duration, events int) float64 {
	if events == 0 {
		return 0
	}
	return float64(d.Nanoseconds()) / 1e3 / float64(events)
}

func ms(d time.Duration) float64 { return float64(d.Nanoseconds()) / 1e6 }

// printVStream prints the VStream figures and how they compare with the targets.
func printVStream(w io.Writer, r vstreamResult) {
	fmt.Fprintf(w, "VStream through vtdirect serve's gRPC port, one shard, one Go client (vtgateservice.NewVitessClient):\n")
	if len(r.burst) > 0 {
		var eps []float64
		cpu := map[string][]float64{}
		for _, b := range r.burst {
			eps = append(eps, b.eventsPerSec(r.rows))
			for name, t := range b.cpu {
				cpu[name] = append(cpu[name], perEvent(t, r.rows))
			}
		}
		lo, hi := slices.Min(eps), slices.Max(eps)
		fmt.Fprintf(w, "  burst of %d single-row inserts (backlog streamed %d times; median, range):\n", r.rows, len(r.burst))
		fmt.Fprintf(w, "    %.0f row events/s (%.0f-%.0f); CPU per event: gateway %.2fµs, mariadb %.2fµs, client %.2fµs\n",
			median(eps), lo, hi, median(cpu["gateway"]), median(cpu["mariadb"]), median(cpu["client"]))
	}
	if r.burstErr != nil {
		fmt.Fprintf(w, "  burst FAILED: %v\n", r.burstErr)
	}
	if r.latencyErr != nil {
		fmt.Fprintf(w, "  latency FAILED: %v\n", r.latencyErr)
	}
	if len(r.latency) > 0 {
		l := r.latency[len(r.latency)/2] // for the rate and counts
		fmt.Fprintf(w, "  commit-to-client latency, %d inserts at %d/s per round, %d rounds (median of the rounds' percentiles; each round's p99); MariaDB %s:\n", l.n, l.rate, len(r.latency), r.durability)
		fmt.Fprintf(w, "    from the INSERT's OK at the inserting client to its ROW+COMMIT at the streaming client: p50 %.3fms  p99 %.3fms  max %.3fms  (%s)\n",
			medianPct(r.latency, afterOK, 0.5), medianPct(r.latency, afterOK, 0.99), medianPct(r.latency, afterOK, 1), roundPcts(r.latency, afterOK, 0.99))
		fmt.Fprintf(w, "    (upper bound, from before the INSERT was sent: p50 %.3fms  p99 %.3fms; insert loop took %s)\n",
			medianPct(r.latency, beforeSend, 0.5), medianPct(r.latency, beforeSend, 0.99), insertLoops(r.latency))
		fmt.Fprintf(w, "    split at the COMMIT's current_time (the gateway reading the commit): OK->gateway p50 %.3fms p99 %.3fms; gateway->client p50 %.3fms p99 %.3fms\n",
			medianPct(r.latency, toGateway, 0.5), medianPct(r.latency, toGateway, 0.99), medianPct(r.latency, toClient, 0.5), medianPct(r.latency, toClient, 0.99))
		var cpu = map[string][]float64{}
		for _, l := range r.latency {
			for name, t := range l.cpu {
				cpu[name] = append(cpu[name], perEvent(t, l.n))
			}
		}
		fmt.Fprintf(w, "    CPU per event: gateway %.0fµs, mariadb %.0fµs, client %.0fµs (at this rate mostly wake-ups and system calls)\n",
			median(cpu["gateway"]), median(cpu["mariadb"]), median(cpu["client"]))
	}
	if r.floorErr != nil {
		fmt.Fprintf(w, "  latency floor FAILED: %v\n", r.floorErr)
	}
	if len(r.floor) > 0 {
		fmt.Fprintf(w, "  the floor: the same inserts read by a raw binlog dump client, no gateway (MariaDB's commit and dump thread, one client wake-up):\n")
		fmt.Fprintf(w, "    OK to the COMMIT read: p50 %.3fms  p99 %.3fms  max %.3fms  (%s)\n",
			medianPct(r.floor, afterOK, 0.5), medianPct(r.floor, afterOK, 0.99), medianPct(r.floor, afterOK, 1), roundPcts(r.floor, afterOK, 0.99))
		if len(r.latency) > 0 {
			fmt.Fprintf(w, "    the gateway adds p50 %+.3fms  p99 %+.3fms over the floor (p99 %.2fx the floor's)\n",
				medianPct(r.latency, afterOK, 0.5)-medianPct(r.floor, afterOK, 0.5),
				medianPct(r.latency, afterOK, 0.99)-medianPct(r.floor, afterOK, 0.99),
				medianPct(r.latency, afterOK, 0.99)/medianPct(r.floor, afterOK, 0.99))
		}
	}
	verdict := func(ok bool) string {
		if ok {
			return "ok"
		}
		return "MISSED"
	}
	fmt.Fprintf(w, "  targets (issue 9, binlog_row_metadata=FULL): >= %d events/s", vstreamTargetEventsPerSec)
	if len(r.burst) > 0 {
		var eps []float64
		for _, b := range r.burst {
			eps = append(eps, b.eventsPerSec(r.rows))
		}
		m := median(eps)
		fmt.Fprintf(w, ": %.2fx %s", m/vstreamTargetEventsPerSec, verdict(m >= vstreamTargetEventsPerSec))
	}
	fmt.Fprintf(w, "; p99 <= %.1fms", ms(vstreamTargetP99))
	if len(r.latency) > 0 {
		p99 := medianPct(r.latency, afterOK, 0.99)
		fmt.Fprintf(w, ": %.3fms %s", p99, verdict(p99 <= ms(vstreamTargetP99)))
	}
	fmt.Fprintln(w, "\n  (Vitess v24's own VStream does about 33,000 events/s and a p99 of about 1.6ms on these machines)")
}

// The samples of a latency run that the report shows.
func afterOK(l latencyRun) []time.Duration    { return l.afterOK }
func beforeSend(l latencyRun) []time.Duration { return l.beforeSend }
func toGateway(l latencyRun) []time.Duration  { return l.toGateway }
func toClient(l latencyRun) []time.Duration   { return l.toClient }

// medianPct is the median over runs of the p-th percentile of each run's samples, in ms.
func medianPct(runs []latencyRun, samples func(latencyRun) []time.Duration, p float64) float64 {
	var xs []float64
	for _, l := range runs {
		if s := samples(l); len(s) > 0 {
			xs = append(xs, ms(percentile(s, p)))
		}
	}
	if len(xs) == 0 {
		return 0
	}
	return median(xs)
}

// roundPcts lists each run's p-th percentile, in ms.
func roundPcts(runs []latencyRun, samples func(latencyRun) []time.Duration, p float64) string {
	var parts []string
	for _, l := range runs {
		parts = append(parts, fmt.Sprintf("%.3f", ms(percentile(samples(l), p))))
	}
	return "rounds " + strings.Join(parts, ", ")
}

// insertLoops lists how long each run's insert loop took (longer than planned: the inserts
// could not keep the rate).
func insertLoops(runs []latencyRun) string {
	var parts []string
	for _, l := range runs {
		parts = append(parts, fmt.Sprintf("%.1fs", l.insertElapsed.Seconds()))
	}
	return strings.Join(parts, ", ")
}

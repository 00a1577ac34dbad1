package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/vtdirect/vtdirect/local"
)

type options struct {
	rows       int
	conns      []int
	targets    []string
	loads      []string
	rounds     int
	duration   time.Duration
	warmup     time.Duration
	poolSize   int
	sysbench   string
	vtdirect   string
	cpuprofile string
	dir        string

	vstream         bool
	vstreamRows     int
	vstreamRounds   int
	vstreamLatRound int
	gatewayFlags    []string
	gatewayEnv      []string
	mariadbGlobals  []string
	vstreamRate     int
	vstreamDuration time.Duration
	vstreamProfile  string
	vstreamCSV      string
	vstreamTrace    string
	fidelity        bool
	bigTxMiB        int
	keylessRows     int
}

func main() {
	// Hidden mode: bench re-executes itself as the relay, so that it runs in a process of its own.
	if len(os.Args) > 1 && os.Args[1] == "relay" {
		var err error
		if len(os.Args) != 4 && (len(os.Args) != 5 || os.Args[4] != "rw") {
			err = errors.New("usage: bench relay <listen addr> <target addr> [rw]")
		} else {
			err = runRelay(os.Args[2], os.Args[3], len(os.Args) == 5)
		}
		fail(err)
		return
	}
	if len(os.Args) > 1 && os.Args[1] == "sharding" {
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		defer stop()
		fail(runShardingBench(ctx, os.Args[2:]))
		return
	}
	if len(os.Args) > 1 && os.Args[1] == "schemas" {
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		defer stop()
		fail(runSchemasBench(ctx, os.Args[2:]))
		return
	}
	if len(os.Args) > 1 && os.Args[1] == "conns" {
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		defer stop()
		fail(runConnsBench(ctx, os.Args[2:]))
		return
	}
	if len(os.Args) > 1 && os.Args[1] == "failover" {
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		defer stop()
		fail(runFailoverBench(ctx, os.Args[2:]))
		return
	}
	opts, err := parseFlags(os.Args[1:])
	fail(err)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	fail(run(ctx, opts))
}

func fail(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func parseFlags(args []string) (options, error) {
	var o options
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.IntVar(&o.rows, "rows", 100000, "rows in sbtest1")
	conns := fs.String("conns", "1,16", "client connection counts, comma-separated")
	targets := fs.String("targets", "direct,relay,gateway", "targets, comma-separated: direct, relay (io.Copy, which splices), relay-rw (read/write loop), gateway")
	loads := fs.String("loads", "go,sysbench-disable,sysbench-auto", "loads, comma-separated: go (Go client, exact percentiles), sysbench-disable (COM_QUERY), sysbench-auto (prepared statements)")
	fs.IntVar(&o.rounds, "rounds", 3, "times the whole matrix runs; the table shows medians (the machine may be shared)")
	fs.DurationVar(&o.duration, "duration", 3*time.Second, "measured time of each run (sysbench rounds up to whole seconds)")
	fs.DurationVar(&o.warmup, "warmup", 500*time.Millisecond, "unmeasured warm-up before each Go client run")
	fs.IntVar(&o.poolSize, "pool-size", 32, "the gateway's --queryserver-config-pool-size")
	fs.StringVar(&o.sysbench, "sysbench", "sysbench", "sysbench binary")
	fs.StringVar(&o.vtdirect, "vtdirect", "", "vtdirect binary to benchmark (default: build ./cmd/vtdirect into a temp dir)")
	fs.StringVar(&o.cpuprofile, "cpuprofile", "", "write a CPU profile of the gateway, taken from its /debug/pprof/profile during its measured runs, to this file")
	fs.BoolVar(&o.vstream, "vstream", true, "also measure VStream through the gateway's gRPC port: a burst's row events/s and commit-to-client latency at a steady insert rate")
	fs.IntVar(&o.vstreamRows, "vstream-rows", 100000, "single-row insert transactions in the VStream burst")
	fs.IntVar(&o.vstreamRounds, "vstream-rounds", 3, "times the VStream burst backlog is streamed (the median counts)")
	fs.IntVar(&o.vstreamLatRound, "vstream-latency-rounds", 3, "VStream latency runs; each is followed by the floor's (the same inserts read by a raw binlog dump, no gateway); the medians count")
	gwFlags := fs.String("gateway-flags", "", "more `vtdirect serve` flags for the benchmarked gateway, space-separated (e.g. --vstream-private-binlog-dumps)")
	gwEnv := fs.String("gateway-env", "", "more environment variables for the benchmarked gateway, space-separated NAME=value (e.g. GODEBUG=gctrace=1 GOMAXPROCS=1)")
	globals := fs.String("vstream-mariadb-globals", "", "MariaDB global variables to set before the VStream latency runs, space-separated NAME=value (e.g. innodb_flush_log_at_trx_commit=2)")
	fs.IntVar(&o.vstreamRate, "vstream-rate", 1000, "inserts per second during the VStream latency run")
	fs.DurationVar(&o.vstreamDuration, "vstream-duration", 5*time.Second, "length of the VStream latency run")
	fs.StringVar(&o.vstreamProfile, "vstream-cpuprofile", "", "write CPU profiles of the gateway during the VStream bursts and the latency run to PREFIX.burst.pprof and PREFIX.latency.pprof")
	fs.BoolVar(&o.fidelity, "vstream-fidelity", true, "also measure VStream across a DDL, one large transaction and a key-less copy (gateway RSS and largest response)")
	fs.IntVar(&o.bigTxMiB, "vstream-big-tx-mib", 200, "size of the large transaction streamed by --vstream-fidelity, in MiB")
	fs.IntVar(&o.keylessRows, "vstream-keyless-rows", 1000000, "rows of the key-less table copied by --vstream-fidelity")
	fs.StringVar(&o.vstreamCSV, "vstream-latency-csv", "", "write every VStream latency sample (send, OK, gateway, client times) to this CSV file")
	fs.StringVar(&o.vstreamTrace, "vstream-trace", "", "write execution traces of the first VStream latency round, of the gateway and of the bench's clients, to PREFIX.gateway.trace and PREFIX.client.trace (go tool trace)")
	fs.StringVar(&o.dir, "dir", "", "directory for the cluster and logs (default: a temp dir, removed at the end)")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	for _, s := range splitList(*conns) {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			return o, fmt.Errorf("--conns: %q is not a positive number", s)
		}
		o.conns = append(o.conns, n)
	}
	o.targets, o.loads = splitList(*targets), splitList(*loads)
	o.gatewayFlags, o.gatewayEnv, o.mariadbGlobals = strings.Fields(*gwFlags), strings.Fields(*gwEnv), strings.Fields(*globals)
	for _, t := range o.targets {
		if t != "direct" && t != "relay" && t != "relay-rw" && t != "gateway" {
			return o, fmt.Errorf("--targets: unknown target %q", t)
		}
	}
	for _, l := range o.loads {
		if l != "go" && l != "sysbench-disable" && l != "sysbench-auto" {
			return o, fmt.Errorf("--loads: unknown load %q", l)
		}
	}
	if o.cpuprofile != "" && !slices.Contains(o.targets, "gateway") {
		return o, errors.New("--cpuprofile profiles the gateway: --targets must include gateway")
	}
	if o.vstream && (o.vstreamRows < 1 || o.vstreamRounds < 1 || o.vstreamLatRound < 1 || o.vstreamRate < 1 || o.vstreamDuration <= 0) {
		return o, errors.New("--vstream-rows, --vstream-rounds, --vstream-latency-rounds, --vstream-rate and --vstream-duration must be positive")
	}
	if o.rows < 1 || len(o.conns) == 0 || len(o.targets) == 0 || len(o.loads) == 0 || o.duration <= 0 || o.rounds < 1 {
		return o, errors.New("--rows, --rounds, --conns, --targets, --loads and --duration must not be empty or zero")
	}
	return o, nil
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// progress prints a line prefixed with the time since the start.
type progress struct{ start time.Time }

func (p progress) say(format string, args ...any) {
	fmt.Printf("[%5.1fs] %s\n", time.Since(p.start).Seconds(), fmt.Sprintf(format, args...))
}

func run(ctx context.Context, o options) error {
	p := progress{start: time.Now()}
	if err := local.CheckMariaDBInstalled(); err != nil {
		return fmt.Errorf("bench needs MariaDB (`make bench` installs it): %w", err)
	}
	for _, l := range o.loads {
		if strings.HasPrefix(l, "sysbench") {
			if _, err := exec.LookPath(o.sysbench); err != nil {
				return fmt.Errorf("load %s needs sysbench (`VTDIRECT_NEED_SYSBENCH=1 ./scripts/deps.sh` installs it, or leave it out of --loads): %w", l, err)
			}
		}
	}
	dir := o.dir
	if dir == "" {
		d, err := os.MkdirTemp("", "vtdirect-bench-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(d)
		dir = d
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}

	bin := o.vtdirect
	g, gctx := errgroup.WithContext(ctx)
	if bin == "" {
		p.say("starting MariaDB and etcd, building vtdirect (dir %s)", dir)
		g.Go(func() (err error) { bin, err = buildVtdirect(gctx, dir); return err })
	} else {
		p.say("starting MariaDB and etcd (dir %s)", dir)
	}
	cluster, err := startCluster(ctx, dir+"/cluster")
	if err != nil {
		_ = g.Wait()
		return err
	}
	defer cluster.Close()
	if err := g.Wait(); err != nil {
		return err
	}
	mdb := cluster.Primary().MariaDB
	p.say("MariaDB pid %d on %s; loading %d rows into commerce.sbtest1", mdb.PID(), mdb.Addr(), o.rows)
	if err := loadTable(ctx, mdb.DSN(cluster.Layout.DBName), o.rows); err != nil {
		return err
	}

	addrs := map[string]string{"direct": mdb.Addr()}
	pids := map[string]int{}
	for _, name := range []string{"relay", "relay-rw"} {
		if !slices.Contains(o.targets, name) {
			continue
		}
		relay, relayAddr, err := startRelay(mdb.Addr(), name == "relay-rw")
		if err != nil {
			return err
		}
		defer relay.stop()
		addrs[name], pids[name] = relayAddr, relay.pid()
		p.say("%s pid %d on %s", name, relay.pid(), relayAddr)
	}

	gs := gatewaySettings{topoAddr: cluster.TopoAddr(), topoRoot: cluster.Layout.GlobalRoot, poolSize: o.poolSize, logFile: dir + "/gateway.log", extra: o.gatewayFlags, env: o.gatewayEnv}
	gw, err := startServe(ctx, bin, gs)
	if err != nil {
		return err
	}
	defer gw.stop()
	addrs["gateway"], pids["gateway"] = gw.mysqlAddr, gw.pid()
	p.say("gateway pid %d on %s, gRPC on %s, HTTP on %s (vtdirect serve, pool size %d)", gw.pid(), gw.mysqlAddr, gw.grpcAddr, gw.httpAddr, o.poolSize)
	var prof *gatewayProfiler
	if o.cpuprofile != "" {
		prof = newGatewayProfiler(gw.httpAddr, o.duration)
	}

	var results []result
	for round := 1; round <= o.rounds; round++ {
		for _, conns := range o.conns {
			for _, load := range o.loads {
				for _, target := range o.targets {
					procs := map[string]int{"mariadb": mdb.PID()}
					if target != "direct" {
						procs["proxy"] = pids[target]
					}
					if load == "go" {
						procs["client"] = os.Getpid()
					}
					meter := newCPUMeter(procs)
					if prof != nil && target == "gateway" {
						meter.onBegin = func() { prof.start(ctx) }
					}
					var r result
					var err error
					if load == "go" {
						r, err = goLoad(ctx, addrs[target], conns, o.rows, o.warmup, o.duration, meter)
					} else {
						r, err = sysbenchLoad(ctx, o.sysbench, addrs[target], conns, o.rows, o.duration, strings.TrimPrefix(load, "sysbench-"), meter)
					}
					if ctx.Err() != nil {
						return ctx.Err()
					}
					if prof != nil {
						if perr := prof.wait(); perr != nil {
							return perr
						}
					}
					r.target, r.load, r.conns, r.err = target, load, conns, err
					results = append(results, r)
					p.say("round %d/%d %s", round, o.rounds, r.progressLine())
				}
			}
		}
	}

	// VStream after the query runs, on the same gateway, so the two do not disturb each other.
	var vs *vstreamResult
	var fid *fidelityResult
	if o.vstream {
		r, err := runVStream(ctx, p, vstreamSetup{
			grpcAddr: gw.grpcAddr, dsn: mdb.DSN(cluster.Layout.DBName),
			keyspace: cluster.Layout.Keyspace, shard: cluster.Layout.Shard,
			gatewayPID: gw.pid(), mariadbPID: mdb.PID(),
			httpAddr: gw.httpAddr, profile: o.vstreamProfile, latencyCSV: o.vstreamCSV, trace: o.vstreamTrace,
			raw:     rawDumpSetup{addr: mdb.Addr(), user: mdb.DBAUser(), password: mdb.DBAPassword()},
			globals: o.mariadbGlobals,
		}, o.vstreamRows, o.vstreamRounds, o.vstreamLatRound, o.vstreamRate, o.vstreamDuration)
		if err != nil {
			return fmt.Errorf("vstream: %w", err)
		}
		vs = &r
		if o.fidelity {
			f := runFidelity(ctx, p, vstreamSetup{
				grpcAddr: gw.grpcAddr, dsn: mdb.DSN(cluster.Layout.DBName),
				keyspace: cluster.Layout.Keyspace, shard: cluster.Layout.Shard,
				gatewayPID: gw.pid(), mariadbPID: mdb.PID(),
			}, o.vstreamRows, o.vstreamRounds, o.bigTxMiB, o.keylessRows)
			fid = &f
		}
	}

	fmt.Println()
	sums := summarize(results)
	fmt.Printf("Point selects on %d rows; each figure is the median of %d rounds of %s per run:\n", o.rows, o.rounds, o.duration)
	printTable(os.Stdout, sums)
	fmt.Println()
	printRatios(os.Stdout, sums)

	if vs != nil {
		fmt.Println()
		printVStream(os.Stdout, *vs)
	}
	if fid != nil {
		fmt.Println()
		printFidelity(os.Stdout, *fid)
	}

	if prof != nil {
		note, err := prof.write(ctx, o.cpuprofile)
		if err != nil {
			return fmt.Errorf("--cpuprofile: %w", err)
		}
		fmt.Printf("\nCPU profile of the gateway over its %d measured runs (%ds each): %s\n", len(prof.parts), profileSeconds(o.duration), o.cpuprofile)
		if note != "" {
			fmt.Println(note)
		} else {
			printProfileTop(ctx, os.Stdout, o.cpuprofile)
		}
	}
	return nil
}

func goBin() string {
	if g := os.Getenv("GO"); g != "" {
		return g
	}
	return "go"
}

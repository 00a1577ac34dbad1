package main

// `bench sharding`: the sharded keyspace's costs beside the unsharded path's, in one run on
// one gateway. A point select by the vindex column on a sharded keyspace (plan cache hit:
// normalizer, plan lookup, hash vindex, shard choice) against the same point select on an
// unsharded keyspace: the gateway's CPU per query, whose difference is the target (at most
// 10 µs); and the same ids of one shard routed or sent to the shard explicitly, which isolates
// the routing from the backends' own costs. Queries on both shards, merged by the gateway,
// against the same query on each shard alone (through the gateway and directly) and against
// the client's own fan-out to both shards: latency, the target being the slower shard's plus
// at most 50 µs (sharding_scatter.go).

import (
	"context"
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	topodatapb "vitess.io/vitess/go/vt/proto/topodata"

	"github.com/vtdirect/vtdirect/local"
	"github.com/vtdirect/vtdirect/vindex"
)

type shardingOptions struct {
	rows, rounds int
	conns        []int
	duration     time.Duration
	warmup       time.Duration
	poolSize     int
	vtdirect     string
	dir          string
}

// shardingKeyspace is the benchmark's sharded keyspace: two shards, a primary each (replicas
// would only compete for the CPUs), sbtest1 sharded by id.
func shardingKeyspace() local.ShardedKeyspace {
	return local.ShardedKeyspace{
		Name: "customer", DBName: "customer",
		Shards: []local.ShardSpec{
			{Name: "-80", Tablets: []local.TabletSpec{{Cell: "zone1", UID: 300, Type: topodatapb.TabletType_PRIMARY}}},
			{Name: "80-", Tablets: []local.TabletSpec{{Cell: "zone1", UID: 400, Type: topodatapb.TabletType_PRIMARY}}},
		},
		VSchema: `{"sharded": true, "vindexes": {"hash": {"type": "hash"}}, "tables": {"sbtest1": {"column_vindexes": [{"column": "id", "name": "hash"}]}}}`,
	}
}

func runShardingBench(ctx context.Context, args []string) error {
	var o shardingOptions
	fs := flag.NewFlagSet("bench sharding", flag.ContinueOnError)
	fs.IntVar(&o.rows, "rows", 100000, "rows of sbtest1 (the unsharded copy has them all, the shards share them)")
	fs.IntVar(&o.rounds, "rounds", 3, "rounds; the table shows medians")
	conns := fs.String("conns", "1,16", "client connections of the point selects, comma-separated")
	fs.DurationVar(&o.duration, "duration", 3*time.Second, "measured time of each run")
	fs.DurationVar(&o.warmup, "warmup", 500*time.Millisecond, "unmeasured warm-up of each run")
	fs.IntVar(&o.poolSize, "pool-size", 32, "the gateway's --queryserver-config-pool-size")
	fs.StringVar(&o.vtdirect, "vtdirect", "", "vtdirect binary (default: build ./cmd/vtdirect)")
	fs.StringVar(&o.dir, "dir", "", "directory for the cluster and logs (default: a temp dir, removed at the end)")
	only := fs.String("only", "", "run only the loads whose name contains this (profiling)")
	profile := fs.String("cpuprofile", "", "write a CPU profile of the gateway during the measured runs to this file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	for _, s := range splitList(*conns) {
		var n int
		if _, err := fmt.Sscan(s, &n); err != nil || n < 1 {
			return fmt.Errorf("--conns: %q is not a positive number", s)
		}
		o.conns = append(o.conns, n)
	}
	p := progress{start: time.Now()}
	if err := local.CheckMariaDBInstalled(); err != nil {
		return fmt.Errorf("bench needs MariaDB (`make bench` installs it): %w", err)
	}
	dir := o.dir
	if dir == "" {
		d, err := os.MkdirTemp("", "vtdirect-bench-sharding-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(d)
		dir = d
	}
	bin := o.vtdirect
	if bin == "" {
		p.say("building vtdirect")
		var err error
		if bin, err = buildVtdirect(ctx, dir); err != nil {
			return err
		}
	}
	p.say("starting MariaDB (commerce/0, customer/-80, customer/80-) and etcd (dir %s)", dir)
	cluster, err := startCluster(ctx, dir+"/cluster")
	if err != nil {
		return err
	}
	defer cluster.Close()
	spec := shardingKeyspace()
	ks, err := local.StartShardedKeyspace(ctx, cluster, local.ShardedConfig{Keyspace: &spec, MariaDBArgs: []string{"--innodb-buffer-pool-size=256M"}})
	if err != nil {
		return err
	}
	defer ks.Close()
	p.say("loading %d rows into commerce.sbtest1 and, split by the hash of id, into the shards", o.rows)
	if err := loadTable(ctx, cluster.Primary().MariaDB.DSN(cluster.Layout.DBName), o.rows); err != nil {
		return err
	}
	for _, sh := range spec.Shards {
		kr, _ := vindex.ParseShard(sh.Name)
		keep := func(id int) bool { return kr.Contains(vindex.HashUint64(uint64(id))) }
		if err := loadTableWhere(ctx, ks.Primary(sh.Name).MariaDB.DSN(spec.DBName), o.rows, keep); err != nil {
			return err
		}
	}
	gw, err := startServe(ctx, bin, gatewaySettings{topoAddr: cluster.TopoAddr(), topoRoot: cluster.Layout.GlobalRoot, poolSize: o.poolSize, logFile: dir + "/gateway.log"})
	if err != nil {
		return err
	}
	defer gw.stop()
	p.say("gateway pid %d on %s", gw.pid(), gw.mysqlAddr)
	if err := waitSharded(ctx, gw.mysqlAddr); err != nil {
		return err
	}

	env := shardingEnv{
		gw: gw, rows: o.rows, rounds: o.rounds, warmup: o.warmup, duration: o.duration, only: *only, say: p.say,
		direct: map[string]string{"-80": ks.Primary("-80").MariaDB.Addr(), "80-": ks.Primary("80-").MariaDB.Addr()},
		pids:   map[string]int{"proxy": gw.pid(), "mariadb -80": ks.Primary("-80").MariaDB.PID(), "mariadb 80-": ks.Primary("80-").MariaDB.PID(), "client": os.Getpid()},
	}
	if *profile != "" {
		env.prof = newGatewayProfiler(gw.httpAddr, o.duration)
	}
	fmt.Printf("\nload average at the start: %s\n", loadAverage())
	if err := pointSelects(ctx, &env, o.conns); err != nil {
		return err
	}
	for _, sc := range scatterCases {
		if err := scatterCase(ctx, &env, sc); err != nil {
			return err
		}
	}
	fmt.Printf("\nload average at the end: %s\n", loadAverage())
	if env.prof != nil {
		if _, err := env.prof.write(ctx, *profile); err != nil {
			return err
		}
		printProfileTop(ctx, os.Stdout, *profile)
	}
	return nil
}

// shardingEnv is what the sharding bench's parts share: the gateway, the shards' MariaDB
// addresses, the run settings and the profiler.
type shardingEnv struct {
	gw               *gatewayProc
	direct           map[string]string // shard name -> its primary's MariaDB address
	pids             map[string]int    // the processes whose CPU a metered run measures
	rows, rounds     int
	warmup, duration time.Duration
	only             string // run only the loads whose name contains this
	say              func(format string, args ...any)
	prof             *gatewayProfiler
}

// shardingRun is one metered load of the sharding bench.
type shardingRun struct {
	name, target string
	addr         string
	conns        int
	query        string
	ids          []int // the ids the queries pick from (nil: all)
}

// wanted reports whether --only lets a load run.
func (env *shardingEnv) wanted(name string) bool {
	return env.only == "" || strings.Contains(name, env.only)
}

// meter runs one metered load on the gateway (the CPU per query of the gateway, the shards'
// MariaDB and the client measured; the gateway profiled with --cpuprofile).
func (env *shardingEnv) meter(ctx context.Context, r shardingRun) (result, error) {
	meter := newCPUMeter(env.pids)
	if env.prof != nil {
		meter.onBegin = func() { env.prof.start(ctx) }
	}
	res, err := queryLoad(ctx, []string{r.addr}, r.target, r.query, r.conns, env.rows, r.ids, env.warmup, env.duration, meter)
	if err != nil {
		return res, fmt.Errorf("%s: %w", r.name, err)
	}
	if env.prof != nil {
		if err := env.prof.wait(); err != nil {
			return res, err
		}
	}
	res.target, res.load, res.conns = r.target, r.name, r.conns
	return res, nil
}

// pointSelects compares the routed point select with the unsharded one, and with the same
// ids sent to their shard explicitly (pass-through). The two loads of a pair run one after
// the other, in turns (the other first in every other round), so that they share the
// machine's load, and each pair's difference is taken within its round: the figure that
// decides is the median of those differences.
func pointSelects(ctx context.Context, env *shardingEnv, conns []int) error {
	// The ids of shard -80: the same backend for a routed query and a pass-through one.
	var lowIDs []int
	lowRange, _ := vindex.ParseShard("-80")
	for id := 1; id <= env.rows; id++ {
		if lowRange.Contains(vindex.HashUint64(uint64(id))) {
			lowIDs = append(lowIDs, id)
		}
	}
	type pair struct {
		label string
		a, b  shardingRun // the baseline and the sharded path
	}
	addr := env.gw.mysqlAddr
	var pairs []pair
	for _, c := range conns {
		pairs = append(pairs,
			pair{"sharded (both shards) vs unsharded",
				shardingRun{name: "point select, unsharded", target: "commerce", addr: addr, conns: c, query: pointSelect},
				shardingRun{name: "point select, sharded", target: "customer", addr: addr, conns: c, query: pointSelect}},
			pair{"same backend (shard -80's ids): routed vs pass-through",
				shardingRun{name: "point select, explicit shard -80 (pass-through)", target: "customer:-80", addr: addr, conns: c, query: pointSelect, ids: lowIDs},
				shardingRun{name: "point select, routed to -80", target: "customer", addr: addr, conns: c, query: pointSelect, ids: lowIDs}})
	}
	pairs = slices.DeleteFunc(pairs, func(p pair) bool { return !env.wanted(p.a.name) && !env.wanted(p.b.name) })
	if len(pairs) == 0 {
		return nil
	}
	type figures struct{ a, b []result }
	got := make([]figures, len(pairs))
	for round := 1; round <= env.rounds; round++ {
		for i, p := range pairs {
			order := []*shardingRun{&p.a, &p.b}
			if round%2 == 0 {
				order[0], order[1] = order[1], order[0]
			}
			for _, r := range order {
				if !env.wanted(r.name) {
					continue
				}
				res, err := env.meter(ctx, *r)
				if err != nil {
					return err
				}
				if r == &p.a {
					got[i].a = append(got[i].a, res)
				} else {
					got[i].b = append(got[i].b, res)
				}
				env.say("round %d/%d %s", round, env.rounds, res.progressLine())
			}
		}
	}
	fmt.Printf("\nPoint selects by id (plan cache hit), medians of %d rounds of %s; the two loads of a pair take turns:\n", env.rounds, env.duration)
	w := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "| load | conns | QPS | p50 (µs) | p99 (µs) | gateway CPU per query (µs) |")
	fmt.Fprintln(w, "| --- | --- | --- | --- | --- | --- |")
	for i, p := range pairs {
		for _, side := range []struct {
			r  shardingRun
			rs []result
		}{{p.a, got[i].a}, {p.b, got[i].b}} {
			if f, ok := medianFigure(side.rs); ok {
				fmt.Fprintf(w, "| %s | %d | %.0f | %.0f | %.0f | %.1f |\n", side.r.name, side.r.conns, f.qps, f.p50, f.p99, f.cpu)
			}
		}
	}
	w.Flush()
	for i, p := range pairs {
		a, b := got[i].a, got[i].b
		if len(a) == 0 || len(a) != len(b) {
			continue
		}
		var diffs []float64
		for k := range a {
			ca, _ := a[k].cpuPerQuery("proxy")
			cb, _ := b[k].cpuPerQuery("proxy")
			diffs = append(diffs, cb-ca)
		}
		d := median(diffs)
		line := fmt.Sprintf("point select at %d conns, %s: %+.1f µs gateway CPU per query (median of the rounds' differences %s)", p.a.conns, p.label, d, formatList(diffs))
		if p.a.target == "commerce" {
			line += fmt.Sprintf(" (target ≤ +10 µs) %s", verdict(d <= 10))
		}
		fmt.Println(line)
	}
	return nil
}

func formatList(xs []float64) string {
	parts := make([]string, len(xs))
	for i, x := range xs {
		parts[i] = fmt.Sprintf("%+.1f", x)
	}
	return strings.Join(parts, ", ")
}

// medianFigure is the median of each figure over the rounds.
func medianFigure(rs []result) (shardingFigure, bool) {
	var f shardingFigure
	if len(rs) == 0 {
		return f, false
	}
	var qps, p50, p99, cpu []float64
	for _, r := range rs {
		qps, p50, p99 = append(qps, r.qps()), append(p50, us(r.p50)), append(p99, us(r.p99))
		if v, ok := r.cpuPerQuery("proxy"); ok {
			cpu = append(cpu, v)
		}
	}
	f.qps, f.p50, f.p99 = median(qps), median(p50), median(p99)
	if len(cpu) > 0 {
		f.cpu = median(cpu)
	}
	return f, true
}

// loadAverage is /proc/loadavg's first three fields.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}

type shardingFigure struct{ qps, p50, p99, cpu float64 }

func verdict(ok bool) string {
	if ok {
		return "OK"
	}
	return "MISSED"
}

// waitSharded waits until the gateway routes the sharded keyspace (it read its vschema).
func waitSharded(ctx context.Context, addr string) error {
	db, err := sql.Open("mysql", "app:app@tcp("+addr+")/customer?interpolateParams=true")
	if err != nil {
		return err
	}
	defer db.Close()
	deadline := time.Now().Add(60 * time.Second)
	for {
		var v string
		err := db.QueryRowContext(ctx, pointSelect, 1).Scan(&v)
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the gateway does not route customer: %w", err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// queryLoad runs a query with a random argument (every '?' gets it) on conns connections for warmup (not
// counted) then dur, keeping every latency. With several addresses each worker sends each
// query to all of them at once (a goroutine each but the first) and waits for every reply.
func queryLoad(ctx context.Context, addrs []string, target, query string, conns, rows int, ids []int, warmup, dur time.Duration, meter *cpuMeter) (result, error) {
	var res result
	workers := make([][]*sql.Conn, conns)
	for _, addr := range addrs {
		db, err := sql.Open("mysql", "app:app@tcp("+addr+")/"+target+"?interpolateParams=true")
		if err != nil {
			return res, err
		}
		defer db.Close()
		db.SetMaxOpenConns(conns)
		db.SetMaxIdleConns(conns)
		for i := range workers {
			c, err := db.Conn(ctx)
			if err != nil {
				return res, err
			}
			defer c.Close()
			workers[i] = append(workers[i], c)
		}
	}
	lats := make([][]time.Duration, conns)
	phase := func(d time.Duration, record bool) error {
		deadline := time.Now().Add(d)
		errs := make([]error, conns)
		var wg sync.WaitGroup
		for i, cs := range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				rng := rand.New(rand.NewPCG(uint64(i), uint64(time.Now().UnixNano())))
				var lat []time.Duration
				args := make([]any, strings.Count(query, "?")) // each '?' gets the query's argument
				fan := newFanOut(cs)
				for {
					t0 := time.Now()
					if !t0.Before(deadline) {
						break
					}
					arg := rng.IntN(rows) + 1
					if ids != nil {
						arg = ids[rng.IntN(len(ids))]
					}
					for k := range args {
						args[k] = arg
					}
					if err := fan.query(ctx, query, args); err != nil {
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
				return err
			}
		}
		return nil
	}
	return measure(res, meter, warmup, dur, phase, lats)
}

// fanOut sends a query on each of its connections at once (a goroutine each but the first's)
// and waits for every reply: one connection is a plain query; several are a client's own
// fan-out to the shards, without the gateway.
type fanOut struct {
	conns []*sql.Conn
	errs  []error // the other connections' errors, one each
}

func newFanOut(conns []*sql.Conn) *fanOut {
	return &fanOut{conns: conns, errs: make([]error, len(conns)-1)}
}

func (f *fanOut) query(ctx context.Context, query string, args []any) error {
	var wg sync.WaitGroup
	for j, o := range f.conns[1:] {
		wg.Go(func() { // owner: this call, which waits for it
			var v []byte
			f.errs[j] = o.QueryRowContext(ctx, query, args...).Scan(&v)
		})
	}
	var v []byte
	err := f.conns[0].QueryRowContext(ctx, query, args...).Scan(&v)
	wg.Wait()
	return errors.Join(append([]error{err}, f.errs...)...)
}

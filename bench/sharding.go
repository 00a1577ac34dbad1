package main

// `bench sharding`: the sharded keyspace's costs beside the unsharded path's, in one run on
// one gateway. A point select by the vindex column on a sharded keyspace (plan cache hit:
// normalizer, plan lookup, hash vindex, shard choice) against the same point select on an
// unsharded keyspace: the gateway's CPU per query, whose difference is the target (at most
// 10 µs). A query on both shards, merged by the gateway (COUNT(*) by an index), against the
// same query on each shard alone through the gateway (and directly): latency, the target
// being the slower shard's plus at most 50 µs.

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

const scatterQuery = "SELECT COUNT(*) FROM sbtest1 WHERE k=?"

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

	type run struct {
		name, target string
		addr         string
		also         []string // more addresses each query goes to at once (a fan-out without the gateway)
		conns        int
		query        string
		gateway      bool
		ids          []int // the ids the queries pick from (nil: all)
	}
	// The ids of shard -80: the same backend for a routed query and a pass-through one.
	var lowIDs []int
	lowRange, _ := vindex.ParseShard("-80")
	for id := 1; id <= o.rows; id++ {
		if lowRange.Contains(vindex.HashUint64(uint64(id))) {
			lowIDs = append(lowIDs, id)
		}
	}
	var runs []run
	for _, c := range o.conns {
		runs = append(runs,
			run{name: "point select, unsharded", target: "commerce", addr: gw.mysqlAddr, conns: c, query: pointSelect, gateway: true},
			run{name: "point select, sharded", target: "customer", addr: gw.mysqlAddr, conns: c, query: pointSelect, gateway: true})
	}
	for _, c := range o.conns {
		runs = append(runs,
			run{name: "point select, explicit shard -80 (pass-through)", target: "customer:-80", addr: gw.mysqlAddr, conns: c, query: pointSelect, gateway: true, ids: lowIDs},
			run{name: "point select, routed to -80", target: "customer", addr: gw.mysqlAddr, conns: c, query: pointSelect, gateway: true, ids: lowIDs})
	}
	runs = append(runs,
		run{name: "2-shard COUNT(*), merged", target: "customer", addr: gw.mysqlAddr, conns: 1, query: scatterQuery, gateway: true},
		run{name: "shard -80 alone, via gateway", target: "customer:-80", addr: gw.mysqlAddr, conns: 1, query: scatterQuery, gateway: true},
		run{name: "shard 80- alone, via gateway", target: "customer:80-", addr: gw.mysqlAddr, conns: 1, query: scatterQuery, gateway: true},
		run{name: "shard -80 alone, direct", target: "customer", addr: ks.Primary("-80").MariaDB.Addr(), conns: 1, query: scatterQuery},
		run{name: "shard 80- alone, direct", target: "customer", addr: ks.Primary("80-").MariaDB.Addr(), conns: 1, query: scatterQuery},
		run{name: "both shards at once, direct", target: "customer", addr: ks.Primary("-80").MariaDB.Addr(), also: []string{ks.Primary("80-").MariaDB.Addr()}, conns: 1, query: scatterQuery},
	)
	if *only != "" {
		runs = slices.DeleteFunc(runs, func(r run) bool { return !strings.Contains(r.name, *only) })
	}
	var prof *gatewayProfiler
	if *profile != "" {
		prof = newGatewayProfiler(gw.httpAddr, o.duration)
	}
	all := map[string][]result{}
	for round := 1; round <= o.rounds; round++ {
		for _, r := range runs {
			pids := map[string]int{}
			if r.gateway {
				pids["proxy"] = gw.pid()
			}
			meter := newCPUMeter(pids)
			if prof != nil && r.gateway {
				meter.onBegin = func() { prof.start(ctx) }
			}
			res, err := queryLoad(ctx, append([]string{r.addr}, r.also...), r.target, r.query, r.conns, o.rows, r.ids, o.warmup, o.duration, meter)
			if err != nil {
				return fmt.Errorf("%s: %w", r.name, err)
			}
			if prof != nil && r.gateway {
				if err := prof.wait(); err != nil {
					return err
				}
			}
			res.target, res.load, res.conns = r.target, r.name, r.conns
			key := fmt.Sprintf("%s|%d", r.name, r.conns)
			all[key] = append(all[key], res)
			p.say("round %d/%d %s", round, o.rounds, res.progressLine())
		}
	}
	med := func(name string, conns int) shardingFigure {
		rs := all[fmt.Sprintf("%s|%d", name, conns)]
		var f shardingFigure
		var qps, p50, p99, cpu []float64
		for _, r := range rs {
			qps, p50, p99 = append(qps, r.qps()), append(p50, us(r.p50)), append(p99, us(r.p99))
			if v, ok := r.cpuPerQuery("proxy"); ok {
				cpu = append(cpu, v)
			}
		}
		if len(rs) == 0 {
			return f
		}
		f.qps, f.p50, f.p99 = median(qps), median(p50), median(p99)
		if len(cpu) > 0 {
			f.cpu = median(cpu)
		}
		return f
	}
	fmt.Println()
	fmt.Printf("Sharded keyspace (2 shards, hash vindex) beside the unsharded one, %d rows, medians of %d rounds of %s:\n", o.rows, o.rounds, o.duration)
	w := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "| load | conns | QPS | p50 (µs) | p99 (µs) | gateway CPU per query (µs) |")
	fmt.Fprintln(w, "| --- | --- | --- | --- | --- | --- |")
	for _, r := range runs {
		if r.conns == 0 {
			continue
		}
		f := med(r.name, r.conns)
		cpu := "-"
		if r.gateway {
			cpu = fmt.Sprintf("%.1f", f.cpu)
		}
		fmt.Fprintf(w, "| %s | %d | %.0f | %.0f | %.0f | %s |\n", r.name, r.conns, f.qps, f.p50, f.p99, cpu)
	}
	w.Flush()
	fmt.Println()
	for _, c := range o.conns {
		u, s := med("point select, unsharded", c), med("point select, sharded", c)
		d := s.cpu - u.cpu
		fmt.Printf("point select at %d conns: sharded %.1f µs CPU per query, unsharded %.1f: +%.1f µs (target ≤ +10 µs) %s\n", c, s.cpu, u.cpu, d, verdict(d <= 10))
		pt, rt := med("point select, explicit shard -80 (pass-through)", c), med("point select, routed to -80", c)
		fmt.Printf("  same backend (shard -80's ids): routed %.1f µs, pass-through %.1f: +%.1f µs\n", rt.cpu, pt.cpu, rt.cpu-pt.cpu)
	}
	sc := med("2-shard COUNT(*), merged", 1)
	a, b := med("shard -80 alone, via gateway", 1), med("shard 80- alone, via gateway", 1)
	slower := max(a.p50, b.p50)
	fmt.Printf("2-shard query: p50 %.0f µs, the slower shard alone through the gateway %.0f µs: +%.0f µs (target ≤ +50 µs) %s\n", sc.p50, slower, sc.p50-slower, verdict(sc.p50-slower <= 50))
	da, db := med("shard -80 alone, direct", 1), med("shard 80- alone, direct", 1)
	fmt.Printf("  (directly to the shards' MariaDB: %.0f and %.0f µs; the gateway's hop itself is in both figures above)\n", da.p50, db.p50)
	if both := med("both shards at once, direct", 1); both.p50 > 0 {
		fmt.Printf("  both shards at once, directly (the client's own fan-out, no gateway): %.0f µs, +%.0f µs over the slower shard alone directly; the gateway's fan-out adds +%.0f µs to it, its hop to one shard +%.0f µs\n",
			both.p50, both.p50-max(da.p50, db.p50), sc.p50-both.p50, slower-max(da.p50, db.p50))
	}
	if *only == "" || strings.Contains("2-shard interleaved", *only) {
		// The same comparison with the three queries taking turns on one client, so that the
		// machine's load (shared, noisy) is the same for each: the figures that decide.
		var p50s [][3]float64
		for range o.rounds {
			r, err := interleavedLoad(ctx, []string{"customer", "customer:-80", "customer:80-"}, gw.mysqlAddr, scatterQuery, o.rows, o.warmup, o.duration)
			if err != nil {
				return fmt.Errorf("interleaved 2-shard query: %w", err)
			}
			p50s = append(p50s, r)
		}
		var m [3]float64
		for k := range m {
			var v []float64
			for _, r := range p50s {
				v = append(v, r[k])
			}
			m[k] = median(v)
		}
		slow := max(m[1], m[2])
		fmt.Printf("2-shard query interleaved with the single-shard ones on one client (medians of %d rounds): p50 %.0f µs, shard -80 alone %.0f, 80- alone %.0f: +%.0f µs over the slower (target ≤ +50 µs) %s\n",
			o.rounds, m[0], m[1], m[2], m[0]-slow, verdict(m[0]-slow <= 50))
	}
	if prof != nil {
		if _, err := prof.write(ctx, *profile); err != nil {
			return err
		}
		printProfileTop(ctx, os.Stdout, *profile)
	}
	return nil
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

// queryLoad runs a query with a random argument on conns connections for warmup (not
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
				var val []byte
				c, others := cs[0], cs[1:]
				otherErrs := make([]error, len(others))
				for {
					t0 := time.Now()
					if !t0.Before(deadline) {
						break
					}
					arg := rng.IntN(rows) + 1
					if ids != nil {
						arg = ids[rng.IntN(len(ids))]
					}
					var fan sync.WaitGroup
					for j, o := range others {
						fan.Go(func() {
							var v []byte
							otherErrs[j] = o.QueryRowContext(ctx, query, arg).Scan(&v)
						})
					}
					err := c.QueryRowContext(ctx, query, arg).Scan(&val)
					fan.Wait()
					if err = errors.Join(append([]error{err}, otherErrs...)...); err != nil {
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

// interleavedLoad runs query with a random argument on one connection per target, the
// targets taking turns, for warmup (not counted) then dur, and returns each target's median
// latency in µs.
func interleavedLoad(ctx context.Context, targets []string, addr, query string, rows int, warmup, dur time.Duration) ([3]float64, error) {
	var out [3]float64
	conns := make([]*sql.Conn, len(targets))
	for i, target := range targets {
		db, err := sql.Open("mysql", "app:app@tcp("+addr+")/"+target+"?interpolateParams=true")
		if err != nil {
			return out, err
		}
		defer db.Close()
		if conns[i], err = db.Conn(ctx); err != nil {
			return out, err
		}
		defer conns[i].Close()
	}
	rng := rand.New(rand.NewPCG(1, uint64(time.Now().UnixNano())))
	lats := make([][]time.Duration, len(targets))
	var val []byte
	for _, phase := range []struct {
		d      time.Duration
		record bool
	}{{warmup, false}, {dur, true}} {
		deadline := time.Now().Add(phase.d)
		for i := 0; time.Now().Before(deadline); i++ {
			k := i % len(targets)
			t0 := time.Now()
			if err := conns[k].QueryRowContext(ctx, query, rng.IntN(rows)+1).Scan(&val); err != nil {
				return out, fmt.Errorf("%s: %w", targets[k], err)
			}
			if phase.record {
				lats[k] = append(lats[k], time.Since(t0))
			}
		}
	}
	for k := range targets {
		slices.Sort(lats[k])
		out[k] = us(percentile(lats[k], 0.50))
	}
	return out, nil
}

package main

// `go run ./bench schemas`: one `vtdirect serve --config` over N schemas on one MariaDB primary
// and one replica (every schema a keyspace with a tablet on each server, as
// `vtdirect local up --schemas N` makes them): how long until every keyspace serves, the
// gateway's peak RSS, the health queries each server gets per interval, the backend
// connections against the per-server limit, and point-select latency to a random schema
// against the same loop on one schema.

import (
	"bufio"
	"context"
	"database/sql"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	topodatapb "vitess.io/vitess/go/vt/proto/topodata"

	"github.com/vtdirect/vtdirect/local"
)

type schemasOptions struct {
	counts         []int
	conns          []int
	rounds         int
	duration       time.Duration
	maxConns       int
	poolSize       int
	healthInterval time.Duration
	vtdirect, dir  string
	cpuprofile     string
}

func runSchemasBench(ctx context.Context, args []string) error {
	var o schemasOptions
	fs := flag.NewFlagSet("bench schemas", flag.ContinueOnError)
	counts := fs.String("schemas", "1000,5000", "schema counts to measure, ascending (each adds schemas to the last)")
	conns := fs.String("conns", "1,16", "client connection counts")
	fs.IntVar(&o.rounds, "rounds", 3, "rounds of each latency run; medians are reported")
	fs.DurationVar(&o.duration, "duration", 3*time.Second, "measured time of each latency run")
	fs.IntVar(&o.maxConns, "max-connections", 32, "the gateway's max_connections per server")
	fs.IntVar(&o.poolSize, "pool-size", 8, "each tablet's pool_size")
	fs.DurationVar(&o.healthInterval, "health-interval", time.Second, "the gateway's health_check_interval")
	fs.StringVar(&o.vtdirect, "vtdirect", "", "vtdirect binary (default: build ./cmd/vtdirect)")
	fs.StringVar(&o.dir, "dir", "", "directory for the cluster and logs (default: a temp dir, removed at the end)")
	fs.StringVar(&o.cpuprofile, "cpuprofile", "", "write a CPU profile of the gateway, taken during its random-schema runs at the largest schema count, to this file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	for _, s := range splitList(*counts) {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > local.MaxSchemas || len(o.counts) > 0 && n <= o.counts[len(o.counts)-1] {
			return fmt.Errorf("--schemas: %q: want ascending counts from 1 to %d", s, local.MaxSchemas)
		}
		o.counts = append(o.counts, n)
	}
	for _, s := range splitList(*conns) {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			return fmt.Errorf("--conns: %q is not a positive number", s)
		}
		o.conns = append(o.conns, n)
	}
	if len(o.counts) == 0 || len(o.conns) == 0 || o.rounds < 1 || o.duration <= 0 {
		return fmt.Errorf("--schemas, --conns, --rounds and --duration must not be empty or zero")
	}
	p := progress{start: time.Now()}
	dir, bin, cleanup, err := prepareBench(ctx, p, o.dir, "vtdirect-bench-schemas-", o.vtdirect)
	if err != nil {
		return err
	}
	defer cleanup()
	p.say("starting a MariaDB primary and replica and etcd in %s", dir)
	l := local.DemoLayout()
	l.Tablets = []local.TabletSpec{{Cell: "zone1", UID: 100, Type: topodatapb.TabletType_PRIMARY}, {Cell: "zone1", UID: 101, Type: topodatapb.TabletType_REPLICA}}
	c, err := local.StartCluster(ctx, local.ClusterConfig{Dir: filepath.Join(dir, "cluster"), Layout: &l,
		// Thousands of schemas: the server's table caches must hold them (as its operator
		// would set them), or every query to a cold schema reopens its table.
		MariaDBArgs: []string{"--table-open-cache=12000", "--table-definition-cache=12000", "--open-files-limit=40000", "--innodb-open-files=12000", "--innodb-buffer-pool-size=256M"},
		Logger:      slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		return err
	}
	defer c.Close()
	// The single-schema path: the same loop on a gateway whose servers hold one schema
	// (commerce, with the same table t), whose connections never switch.
	pdb, err := sql.Open("mysql", c.Primary().MariaDB.DSN(c.Layout.DBName))
	if err != nil {
		return err
	}
	_, err = pdb.ExecContext(ctx, "CREATE TABLE IF NOT EXISTS t (id INT PRIMARY KEY, name VARCHAR(64))")
	if err == nil {
		_, err = pdb.ExecContext(ctx, "INSERT IGNORE INTO t VALUES (1, 'commerce')")
	}
	pdb.Close()
	if err != nil {
		return err
	}
	base, err := measureBaseline(ctx, o, p, bin, c, dir)
	if err != nil {
		return err
	}
	var results []schemasResult
	have := 0
	for _, n := range o.counts {
		p.say("adding schemas %d..%d (databases on the primary, then %d tablet records)", have+1, n, 2*(n-have))
		t0 := time.Now()
		if err := c.AddSchemas(ctx, have+1, n); err != nil {
			return err
		}
		have = n
		p.say("added in %.1fs", time.Since(t0).Seconds())
		var prof *gatewayProfiler
		if o.cpuprofile != "" && n == o.counts[len(o.counts)-1] {
			prof = &gatewayProfiler{client: &http.Client{}}
		}
		r, err := measureSchemas(ctx, o, p, bin, c, dir, n, prof)
		if err != nil {
			return err
		}
		results = append(results, r)
		if prof != nil {
			note, err := prof.write(ctx, o.cpuprofile)
			if err != nil {
				return fmt.Errorf("--cpuprofile: %w", err)
			}
			defer func() {
				fmt.Printf("\nCPU profile of the gateway over its %d random-schema runs at %d schemas: %s\n", len(prof.parts), n, o.cpuprofile)
				if note != "" {
					fmt.Println(note)
				} else {
					printProfileTop(ctx, os.Stdout, o.cpuprofile)
				}
			}()
		}
	}
	printSchemas(o, base, results)
	return nil
}

// baseline is the single-schema path's latency per connection count.
type baseline struct {
	lat map[int]latency
	qps map[int]float64
}

func measureBaseline(ctx context.Context, o schemasOptions, p progress, bin string, c *local.Cluster, dir string) (baseline, error) {
	b := baseline{lat: map[int]latency{}, qps: map[int]float64{}}
	gw, err := startSchemasGateway(ctx, o, bin, c, filepath.Join(dir, "gateway-single"))
	if err != nil {
		return b, err
	}
	defer gw.stop()
	if err := waitMetric(ctx, gw, "vtdirect_tablet_serving", 2, 60*time.Second); err != nil {
		return b, err
	}
	for _, conns := range o.conns {
		var rs []result
		for round := 0; round < o.rounds; round++ {
			r, err := schemaLoad(ctx, gw.mysqlAddr, conns, 0, false, o.duration, local.SchemaKeyspace)
			if err != nil {
				return b, err
			}
			rs = append(rs, r)
			p.say("single schema (commerce alone on its servers), %d conns, round %d: p50 %v (%.0f qps)", conns, round+1, r.p50, r.qps())
		}
		b.lat[conns], b.qps[conns] = medianLatency(rs)
	}
	return b, nil
}

type schemasResult struct {
	schemas            int
	servingAfter       time.Duration // gateway start to every tablet serving
	queriedAfter       time.Duration // gateway start to one query through every keyspace done
	rssPeak, rssAfter  int64         // KiB: VmHWM and VmRSS at the end
	probesPerInterval  float64       // SHOW DATABASES per server per interval, idle
	maxBackendConns    int           // the most backend connections one server had at once (gateway's count)
	serverThreads      []int         // Threads_connected of each server at the end
	single, random     map[int]latency
	singleQPS, randQPS map[int]float64
	direct             map[int]latency // the same random loop straight to the primary
	initDBs            map[int]float64 // the primary's Com_change_db per query of the random runs
	// CPU per query of the gateway and the primary's mariadbd in the one-of-N and the
	// random runs.
	cpuSingle, cpuRandom map[int]cpuPerQuery
}

type cpuPerQuery struct{ gateway, mariadb time.Duration }

// timedLoad runs load and measures the CPU per query it cost the gateway and the primary.
func timedLoad(gw, db int, load func() (result, error)) (result, cpuPerQuery, error) {
	g0, err := cpuTime(gw)
	if err != nil {
		return result{}, cpuPerQuery{}, err
	}
	m0, err := cpuTime(db)
	if err != nil {
		return result{}, cpuPerQuery{}, err
	}
	r, err := load()
	if err != nil {
		return r, cpuPerQuery{}, err
	}
	g1, err := cpuTime(gw)
	if err != nil {
		return r, cpuPerQuery{}, err
	}
	m1, err := cpuTime(db)
	if err != nil {
		return r, cpuPerQuery{}, err
	}
	n := time.Duration(max(r.queries, 1))
	return r, cpuPerQuery{gateway: (g1 - g0) / n, mariadb: (m1 - m0) / n}, nil
}

func medianCPU(cs []cpuPerQuery) cpuPerQuery {
	g, m := make([]time.Duration, len(cs)), make([]time.Duration, len(cs))
	for i, c := range cs {
		g[i], m[i] = c.gateway, c.mariadb
	}
	slices.Sort(g)
	slices.Sort(m)
	return cpuPerQuery{g[len(g)/2], m[len(m)/2]}
}

type latency struct{ p50, p99 time.Duration }

// measureSchemas starts a gateway over the cluster's n schemas and measures it.
// prof, if not nil, profiles the gateway during the random-schema runs.
func measureSchemas(ctx context.Context, o schemasOptions, p progress, bin string, c *local.Cluster, dir string, n int, prof *gatewayProfiler) (schemasResult, error) {
	r := schemasResult{schemas: n, single: map[int]latency{}, random: map[int]latency{}, singleQPS: map[int]float64{}, randQPS: map[int]float64{}, direct: map[int]latency{}, initDBs: map[int]float64{},
		cpuSingle: map[int]cpuPerQuery{}, cpuRandom: map[int]cpuPerQuery{}}
	gw, err := startSchemasGateway(ctx, o, bin, c, filepath.Join(dir, fmt.Sprintf("gateway-%d", n)))
	if err != nil {
		return r, err
	}
	defer gw.stop()
	start := gw.started
	p.say("gateway started (pid %d); waiting for its %d tablets to serve", gw.pid(), 2*(n+1))
	if err := waitMetric(ctx, gw, "vtdirect_tablet_serving", float64(2*(n+1)), 120*time.Second); err != nil {
		return r, err
	}
	r.servingAfter = time.Since(start)
	if err := queryEveryKeyspace(ctx, gw.mysqlAddr, n); err != nil {
		return r, err
	}
	r.queriedAfter = time.Since(start)
	p.say("every tablet serving after %.2fs, every keyspace queried after %.2fs", r.servingAfter.Seconds(), r.queriedAfter.Seconds())

	// Idle: count the health queries the servers get.
	window := 10 * o.healthInterval
	before, err := serverCounters(ctx, c, "Com_show_databases")
	if err != nil {
		return r, err
	}
	time.Sleep(window) // an idle window to count probes in: nothing to wait for
	after, err := serverCounters(ctx, c, "Com_show_databases")
	if err != nil {
		return r, err
	}
	var sum float64
	for i := range before {
		sum += float64(after[i] - before[i])
	}
	r.probesPerInterval = sum / float64(len(before)) / (float64(window) / float64(o.healthInterval))
	p.say("health probes per server per %v: %.2f", o.healthInterval, r.probesPerInterval)

	var mu sync.Mutex
	stopWatch := watchBackendConns(ctx, gw, func(v int) {
		mu.Lock()
		r.maxBackendConns = max(r.maxBackendConns, v)
		mu.Unlock()
	})
	if prof != nil {
		prof.url = "http://" + gw.httpAddr + "/debug/pprof/profile?seconds=" + strconv.Itoa(profileSeconds(o.duration))
	}
	for _, conns := range o.conns {
		var singles, randoms, directs []result
		var initDBs []float64
		var cpuS, cpuR []cpuPerQuery
		for round := 0; round < o.rounds; round++ {
			s, cs, err := timedLoad(gw.pid(), c.Primary().MariaDB.PID(), func() (result, error) {
				return schemaLoad(ctx, gw.mysqlAddr, conns, n, false, o.duration, local.SchemaKeyspace)
			})
			if err != nil {
				return r, err
			}
			before, err := serverCounters(ctx, c, "Com_change_db")
			if err != nil {
				return r, err
			}
			if prof != nil {
				prof.start(ctx)
			}
			rr, cr, err := timedLoad(gw.pid(), c.Primary().MariaDB.PID(), func() (result, error) {
				return schemaLoad(ctx, gw.mysqlAddr, conns, n, true, o.duration, local.SchemaKeyspace)
			})
			if err != nil {
				return r, err
			}
			cpuS, cpuR = append(cpuS, cs), append(cpuR, cr)
			if prof != nil {
				if err := prof.wait(); err != nil {
					return r, err
				}
			}
			after, err := serverCounters(ctx, c, "Com_change_db")
			if err != nil {
				return r, err
			}
			// The primary (the first tablet) serves every query (USE ks targets the primary).
			initDBs = append(initDBs, float64(after[0]-before[0])/float64(max(rr.queries, 1)))
			d, err := schemaLoad(ctx, c.Primary().MariaDB.Addr(), conns, n, true, o.duration, local.SchemaDB)
			if err != nil {
				return r, err
			}
			singles, randoms, directs = append(singles, s), append(randoms, rr), append(directs, d)
			p.say("%d schemas, %d conns, round %d: one schema p50 %v (%.0f qps), a random schema p50 %v (%.0f qps), a random schema directly p50 %v",
				n, conns, round+1, s.p50, s.qps(), rr.p50, rr.qps(), d.p50)
		}
		r.single[conns], r.singleQPS[conns] = medianLatency(singles)
		r.random[conns], r.randQPS[conns] = medianLatency(randoms)
		r.direct[conns], _ = medianLatency(directs)
		slices.Sort(initDBs)
		r.initDBs[conns] = initDBs[len(initDBs)/2]
		r.cpuSingle[conns], r.cpuRandom[conns] = medianCPU(cpuS), medianCPU(cpuR)
	}
	stopWatch()
	if r.serverThreads, err = serverGauges(ctx, c, "Threads_connected"); err != nil {
		return r, err
	}
	r.rssPeak, r.rssAfter = procMemory(gw.pid())
	return r, nil
}

func medianLatency(rs []result) (latency, float64) {
	p50s, p99s, qps := make([]time.Duration, len(rs)), make([]time.Duration, len(rs)), make([]float64, len(rs))
	for i, r := range rs {
		p50s[i], p99s[i], qps[i] = r.p50, r.p99, r.qps()
	}
	slices.Sort(p50s)
	slices.Sort(p99s)
	slices.Sort(qps)
	return latency{p50s[len(rs)/2], p99s[len(rs)/2]}, qps[len(rs)/2]
}

// schemasGateway is the running `vtdirect serve --config`.
type schemasGateway struct {
	*child
	started             time.Time
	mysqlAddr, httpAddr string
}

func startSchemasGateway(ctx context.Context, o schemasOptions, bin string, c *local.Cluster, dir string) (*schemasGateway, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	ports := make([]int, 2)
	for i := range ports {
		var err error
		if ports[i], err = local.FreePort(); err != nil {
			return nil, err
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "app.password"), []byte(c.Password()+"\n"), 0o600); err != nil {
		return nil, err
	}
	cfg := fmt.Sprintf(`gateway:
  cell: zone1
  topo_address: %s
  topo_root: %s
  mysql_port: %d
  http_port: %d
  grpc_port: 0
  log_level: warn
  drop_dimensions: [keyspace, shard, tablet]   # the benchmark reads totals
users:
  app: {password_file: app.password}
global:
  user: %s
  password_file: app.password
  pool_size: %d
  max_connections: %d
  health_check_interval: %s
`, c.TopoAddr(), c.Layout.GlobalRoot, ports[0], ports[1], c.User(), o.poolSize, o.maxConns, o.healthInterval)
	path := filepath.Join(dir, "vtdirect.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		return nil, err
	}
	started := time.Now()
	ch, err := startLogged(bin, []string{"serve", "--config", path}, nil, filepath.Join(dir, "gateway.log"))
	if err != nil {
		return nil, err
	}
	return &schemasGateway{child: ch, started: started, mysqlAddr: fmt.Sprintf("127.0.0.1:%d", ports[0]), httpAddr: fmt.Sprintf("127.0.0.1:%d", ports[1])}, nil
}

// metricsBy reads metrics' samples from one scrape of the gateway's /metrics: for each name,
// the samples by their label string.
func (g *schemasGateway) metricsBy(names ...string) map[string]map[string]float64 {
	out := map[string]map[string]float64{}
	for _, n := range names {
		out[n] = map[string]float64{}
	}
	resp, err := http.Get("http://" + g.httpAddr + "/metrics")
	if err != nil {
		return out
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		for _, name := range names {
			rest, ok := strings.CutPrefix(line, name)
			if !ok || !(strings.HasPrefix(rest, " ") || strings.HasPrefix(rest, "{")) {
				continue
			}
			f := strings.Fields(rest)
			if v, err := strconv.ParseFloat(f[len(f)-1], 64); err == nil {
				out[name][strings.TrimSpace(strings.TrimSuffix(rest, f[len(f)-1]))] += v
			}
		}
	}
	return out
}

// metric reads one unlabelled sample (the dimensions are dropped) from the gateway's /metrics.
func (g *schemasGateway) metric(name string) (float64, bool) {
	resp, err := http.Get("http://" + g.httpAddr + "/metrics")
	if err != nil {
		return 0, false
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	var sum float64
	found := false
	for sc.Scan() {
		line := sc.Text()
		if rest, ok := strings.CutPrefix(line, name); ok && (strings.HasPrefix(rest, " ") || strings.HasPrefix(rest, "{")) {
			f := strings.Fields(line)
			if v, err := strconv.ParseFloat(f[len(f)-1], 64); err == nil {
				sum += v
				found = true
			}
		}
	}
	return sum, found
}

func waitMetric(ctx context.Context, g *schemasGateway, name string, want float64, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		v, _ := g.metric(name)
		if v >= want {
			return nil
		}
		select {
		case <-g.done:
			return fmt.Errorf("the gateway exited (see its log)")
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s stayed at %v, want %v, after %v", name, v, want, timeout)
		}
	}
}

// watchBackendConns samples the backend connections of the busiest server every 500 ms until
// stopped.
func watchBackendConns(ctx context.Context, g *schemasGateway, note func(int)) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for ctx.Err() == nil {
			// One scrape: a connection going back to the pool between two would count twice.
			m := g.metricsBy("vtdirect_backend_connections_in_use", "vtdirect_backend_connections_idle")
			inUse, idle := m["vtdirect_backend_connections_in_use"], m["vtdirect_backend_connections_idle"]
			most := 0.0
			for server, v := range inUse {
				most = max(most, v+idle[server])
			}
			note(int(most))
			select {
			case <-ctx.Done():
			case <-time.After(500 * time.Millisecond): // a scrape costs the gateway a little CPU
			}
		}
	}()
	return func() { cancel(); <-done }
}

// queryEveryKeyspace reads one row through every keyspace (8 clients).
func queryEveryKeyspace(ctx context.Context, addr string, n int) error {
	db, err := sql.Open("mysql", "app:app@tcp("+addr+")/?interpolateParams=true")
	if err != nil {
		return err
	}
	defer db.Close()
	db.SetMaxOpenConns(8)
	work := make(chan int)
	errs := make(chan error, 8)
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			conn, err := db.Conn(ctx)
			if err != nil {
				errs <- err
				return
			}
			defer conn.Close()
			for i := range work {
				if err := readSchema(ctx, conn, i); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	for i := 1; i <= n; i++ {
		select {
		case work <- i:
		case err := <-errs:
			close(work)
			wg.Wait()
			return err
		}
	}
	close(work)
	wg.Wait()
	close(errs)
	return <-errs
}

func readSchema(ctx context.Context, conn *sql.Conn, i int) error {
	if _, err := conn.ExecContext(ctx, "USE "+local.SchemaKeyspace(i)); err != nil {
		return fmt.Errorf("USE %s: %w", local.SchemaKeyspace(i), err)
	}
	var name string
	if err := conn.QueryRowContext(ctx, "SELECT name FROM t WHERE id = ?", 1).Scan(&name); err != nil {
		return fmt.Errorf("%s: %w", local.SchemaKeyspace(i), err)
	}
	if name != local.SchemaKeyspace(i) {
		return fmt.Errorf("%s read %q", local.SchemaKeyspace(i), name)
	}
	return nil
}

// schemaLoad runs conns clients for dur, each switching its target with USE (answered by the
// gateway) and then point-selecting: on a random schema each time, or on schema 1 always;
// only the SELECT is timed.
func schemaLoad(ctx context.Context, addr string, conns, n int, random bool, dur time.Duration, dbOf func(int) string) (result, error) {
	res := result{load: "go", conns: conns}
	db, err := sql.Open("mysql", "app:app@tcp("+addr+")/?interpolateParams=true")
	if err != nil {
		return res, err
	}
	defer db.Close()
	db.SetMaxOpenConns(conns)
	lats := make([][]time.Duration, conns)
	errs := make([]error, conns)
	var wg sync.WaitGroup
	start := time.Now()
	deadline := start.Add(dur)
	for w := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			conn, err := db.Conn(ctx)
			if err != nil {
				errs[w] = err
				return
			}
			defer conn.Close()
			rng := rand.New(rand.NewPCG(uint64(w), uint64(time.Now().UnixNano())))
			lat := latencyBuf(conns, 1<<15)
			var name string
			for time.Now().Before(deadline) {
				ks := "commerce" // n == 0: the single-schema gateway
				if n > 0 {
					i := 1
					if random {
						i = rng.IntN(n) + 1
					}
					ks = dbOf(i)
				}
				if _, err := conn.ExecContext(ctx, "USE "+ks); err != nil {
					errs[w] = err
					return
				}
				t0 := time.Now()
				if err := conn.QueryRowContext(ctx, "SELECT name FROM t WHERE id = ?", 1).Scan(&name); err != nil {
					errs[w] = err
					return
				}
				lat = append(lat, time.Since(t0))
			}
			lats[w] = lat
		}()
	}
	wg.Wait()
	res.elapsed = time.Since(start)
	for _, err := range errs {
		if err != nil {
			return res, err
		}
	}
	res.setLatencies(lats)
	return res, nil
}

// serverCounters reads a global status counter of every server of the cluster.
func serverCounters(ctx context.Context, c *local.Cluster, name string) ([]int64, error) {
	var out []int64
	for _, t := range c.Tablets() {
		db, err := sql.Open("mysql", t.MariaDB.DSN(""))
		if err != nil {
			return nil, err
		}
		var n string
		var v int64
		err = db.QueryRowContext(ctx, "SHOW GLOBAL STATUS LIKE '"+name+"'").Scan(&n, &v)
		db.Close()
		if err != nil {
			return nil, fmt.Errorf("%s on %s: %w", name, t.Alias(), err)
		}
		out = append(out, v)
	}
	return out, nil
}

func serverGauges(ctx context.Context, c *local.Cluster, name string) ([]int, error) {
	vs, err := serverCounters(ctx, c, name)
	out := make([]int, len(vs))
	for i, v := range vs {
		out[i] = int(v)
	}
	return out, err
}

// procMemory reads a process's peak and current resident set size (KiB).
func procMemory(pid int) (peak, now int64) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		v, _ := strconv.ParseInt(f[1], 10, 64)
		switch f[0] {
		case "VmHWM:":
			peak = v
		case "VmRSS:":
			now = v
		}
	}
	return peak, now
}

func printSchemas(o schemasOptions, base baseline, rs []schemasResult) {
	fmt.Printf("\nvtdirect serve over N schemas on one MariaDB primary and one replica (max_connections %d per server, pool_size %d, health interval %v; medians of %d rounds of %v)\n\n",
		o.maxConns, o.poolSize, o.healthInterval, o.rounds, o.duration)
	fmt.Println("| schemas | tablets | all serving after | every keyspace queried after | peak RSS | health queries per server per interval | backend connections of a server (max; limit", o.maxConns, ") | MariaDB threads (primary, replica) |")
	fmt.Println("| --- | --- | --- | --- | --- | --- | --- | --- |")
	for _, r := range rs {
		fmt.Printf("| %d | %d | %.2f s | %.2f s | %.0f MiB | %.2f | %d | %v |\n", r.schemas, 2*(r.schemas+1), r.servingAfter.Seconds(), r.queriedAfter.Seconds(),
			float64(r.rssPeak)/1024, r.probesPerInterval, r.maxBackendConns, r.serverThreads)
	}
	fmt.Println()
	fmt.Println("| schemas | conns | single-schema gateway p50 / p99 (µs) | one of N p50 / p99 (µs) | a random one of N p50 / p99 (µs) | random / single-schema p50 | random / one of N p50 (same gateway, same rounds) | QPS single / random | COM_INIT_DB per random query | random, straight to MariaDB, p50 / p99 (µs) |")
	fmt.Println("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
	for _, r := range rs {
		for _, conns := range o.conns {
			b, s, x, d := base.lat[conns], r.single[conns], r.random[conns], r.direct[conns]
			fmt.Printf("| %d | %d | %d / %d | %d / %d | %d / %d | %.2f | %.2f | %.0f / %.0f | %.2f | %d / %d |\n", r.schemas, conns, b.p50.Microseconds(), b.p99.Microseconds(),
				s.p50.Microseconds(), s.p99.Microseconds(), x.p50.Microseconds(), x.p99.Microseconds(), float64(x.p50)/float64(b.p50), float64(x.p50)/float64(s.p50), base.qps[conns], r.randQPS[conns],
				r.initDBs[conns], d.p50.Microseconds(), d.p99.Microseconds())
		}
	}
	fmt.Println()
	fmt.Println("| schemas | conns | CPU per query, one of N: gateway / MariaDB primary (µs) | CPU per query, a random one of N: gateway / MariaDB primary (µs) |")
	fmt.Println("| --- | --- | --- | --- |")
	for _, r := range rs {
		for _, conns := range o.conns {
			s, x := r.cpuSingle[conns], r.cpuRandom[conns]
			fmt.Printf("| %d | %d | %.1f / %.1f | %.1f / %.1f |\n", r.schemas, conns, us(s.gateway), us(s.mariadb), us(x.gateway), us(x.mariadb))
		}
	}
	fmt.Println("\ntargets: every keyspace serving within 10 s; peak RSS <= 256 MiB at 1,000 schemas; at most 1 health query per server per interval;")
	fmt.Println("backend connections <= the per-server limit; random-schema p50 within 10% of the single-schema path (ratio <= 1.10)")
}

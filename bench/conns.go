package main

// `go run ./bench conns`: speed at many client connections, the reason people put a pooling
// gateway in front of MySQL. On the demo's layout (four MariaDB tablets, semi_sync) with
// sbtest1 of --rows rows on the primary, point selects straight to MariaDB (its
// max_connections raised to --mariadb-max-connections) and through `vtdirect serve` (pool and
// transaction cap at their defaults, failover and buffering on, as `vtdirect local up` runs
// it), in one run:
//
//   - persistent: --many (1,000) client connections, each its own worker, kept open;
//   - persistent at --ref-conns (16), the gateway's reference for "no collapse";
//   - short-lived: --short-workers (16) workers, each in a loop connecting, running one point
//     select and closing (the latency is connect + query + close).
//
// During each gateway run the gateway's VmRSS and the backend connections of every tablet
// (rows of information_schema.PROCESSLIST of the gateway's backend user, read on each MariaDB
// by the admin user: MariaDB's count, not the gateway's word) are sampled every 200 ms; the
// report shows each run's peak, as medians over --rounds. Then the goals (issue 13).

import (
	"context"
	"database/sql"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/vtdirect/vtdirect/failover"
	"github.com/vtdirect/vtdirect/local"
)

type connsOptions struct {
	rows, many, ref, shortWorkers int
	mariadbMaxConns, poolSize     int
	rounds                        int
	duration, warmup              time.Duration
	cpuprofile                    string
	cases                         []string
	vtdirect, dir                 string
}

// connsCase is one load of the matrix, run against direct MariaDB and the gateway.
type connsCase struct {
	load  string // "persistent" or "short-lived"
	conns int    // client connections (persistent) or workers (short-lived)
}

func runConnsBench(ctx context.Context, args []string) error {
	var o connsOptions
	fs := flag.NewFlagSet("bench conns", flag.ContinueOnError)
	fs.IntVar(&o.rows, "rows", 100000, "rows in sbtest1")
	fs.IntVar(&o.many, "many", 1000, "persistent client connections of the many-connections load")
	fs.IntVar(&o.ref, "ref-conns", 16, "persistent client connections of the reference load")
	fs.IntVar(&o.shortWorkers, "short-workers", 16, "workers of the short-lived load (each: connect, one query, close)")
	fs.IntVar(&o.mariadbMaxConns, "mariadb-max-connections", 2100, "MariaDB's max_connections (direct must take --many clients)")
	fs.IntVar(&o.poolSize, "pool-size", 16, "the gateway's --queryserver-config-pool-size (16 is its default, as the demo's)")
	fs.IntVar(&o.rounds, "rounds", 3, "times the whole matrix runs; the figures are medians")
	fs.DurationVar(&o.duration, "duration", 3*time.Second, "measured time of each run")
	fs.DurationVar(&o.warmup, "warmup", 500*time.Millisecond, "unmeasured warm-up before each run (after the persistent connections are open)")
	fs.StringVar(&o.cpuprofile, "cpuprofile", "", "write the gateway's CPU profile over its measured runs to this file")
	caseList := fs.String("cases", "many,ref,short", "loads to run, comma-separated: many (persistent at --many), ref (persistent at --ref-conns), short (short-lived)")
	fs.StringVar(&o.vtdirect, "vtdirect", "", "vtdirect binary (default: build ./cmd/vtdirect)")
	fs.StringVar(&o.dir, "dir", "", "directory for the cluster and logs (default: a temp dir, removed at the end)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	all := map[string]bool{"many": true, "ref": true, "short": true}
	for _, name := range splitList(*caseList) {
		if !all[name] {
			return fmt.Errorf("--cases: unknown load %q (many, ref, short)", name)
		}
		o.cases = append(o.cases, name)
	}
	if o.rows < 1 || len(o.cases) == 0 || o.many < 1 || o.ref < 1 || o.shortWorkers < 1 || o.rounds < 1 || o.duration <= 0 || o.poolSize < 1 {
		return fmt.Errorf("--rows, --many, --ref-conns, --short-workers, --pool-size, --rounds, --cases and --duration must be positive or not empty")
	}
	if o.mariadbMaxConns < o.many+50 {
		return fmt.Errorf("--mariadb-max-connections %d: direct needs room for --many %d clients and the admin's own (at least %d)", o.mariadbMaxConns, o.many, o.many+50)
	}
	p := progress{start: time.Now()}
	dir, bin, cleanup, err := prepareBench(ctx, p, o.dir, "vtdirect-bench-conns-", o.vtdirect)
	if err != nil {
		return err
	}
	defer cleanup()
	p.say("starting the demo layout (4 MariaDB tablets, semi_sync, max_connections %d) and etcd in %s", o.mariadbMaxConns, dir)
	l := local.DemoLayout()
	for i := range l.Tablets {
		l.Tablets[i].MySQLPort = 0
	}
	l.Durability = failover.PolicySemiSync
	c, err := local.StartCluster(ctx, local.ClusterConfig{Dir: filepath.Join(dir, "cluster"), Layout: &l,
		MariaDBArgs: []string{"--max-connections=" + strconv.Itoa(o.mariadbMaxConns), "--innodb-buffer-pool-size=256M"},
		Logger:      slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		return err
	}
	defer c.Close()
	mdb := c.Primary().MariaDB
	p.say("loading %d rows into commerce.sbtest1 on the primary %s", o.rows, mdb.Addr())
	if err := loadTable(ctx, mdb.DSN(c.Layout.DBName), o.rows); err != nil {
		return err
	}
	gw, err := startServe(ctx, bin, gatewaySettings{topoAddr: c.TopoAddr(), topoRoot: c.Layout.GlobalRoot, poolSize: o.poolSize,
		logFile: filepath.Join(dir, "gateway.log"), extra: []string{
			"--enable-failover", "--enable-buffer", "--db-dba-user", c.DBAUser(),
			"--replica-net-timeout", strconv.Itoa(local.SlaveNetTimeout) + "s",
			"--mysql-server-max-connections", strconv.Itoa(o.many + 100),
		}})
	if err != nil {
		return err
	}
	defer gw.stop()
	p.say("gateway pid %d on %s (pool size %d)", gw.pid(), gw.mysqlAddr, o.poolSize)
	counter, err := newBackendCounter(c)
	if err != nil {
		return err
	}
	defer counter.close()
	var prof *gatewayProfiler
	if o.cpuprofile != "" {
		prof = newGatewayProfiler(gw.httpAddr, o.duration)
	}

	var cases []connsCase
	for _, name := range o.cases {
		cases = append(cases, map[string]connsCase{"many": {"persistent", o.many}, "ref": {"persistent", o.ref}, "short": {"short-lived", o.shortWorkers}}[name])
	}
	addrs := map[string]string{"direct": mdb.Addr(), "gateway": gw.mysqlAddr}
	var results []result
	var peaks []connsPeak
	for round := 1; round <= o.rounds; round++ {
		for _, cs := range cases {
			for _, target := range []string{"direct", "gateway"} {
				procs := map[string]int{"mariadb": mdb.PID(), "client": os.Getpid()}
				if target == "gateway" {
					procs["proxy"] = gw.pid()
				}
				meter := newCPUMeter(procs)
				var sampler *connsSampler
				if target == "gateway" {
					sampler = startConnsSampler(ctx, gw.pid(), counter)
					if prof != nil {
						meter.onBegin = func() { prof.start(ctx) }
					}
				}
				var r result
				if cs.load == "persistent" {
					r, err = goLoad(ctx, addrs[target], cs.conns, o.rows, o.warmup, o.duration, meter)
				} else {
					r, err = shortLoad(ctx, addrs[target], cs.conns, o.rows, o.warmup, o.duration, meter)
				}
				if ctx.Err() != nil {
					return ctx.Err()
				}
				if prof != nil {
					if perr := prof.wait(); perr != nil {
						return perr
					}
				}
				r.target, r.load, r.conns, r.err = target, cs.load, cs.conns, err
				line := r.progressLine()
				if sampler != nil {
					pk := sampler.stop()
					pk.load, pk.conns = cs.load, cs.conns
					peaks = append(peaks, pk)
					line += fmt.Sprintf("  RSS %.0f MiB, backend conns per tablet %v", float64(pk.rssKiB)/1024, pk.backend)
				}
				results = append(results, r)
				p.say("round %d/%d %s", round, o.rounds, line)
			}
		}
	}
	hwm, _ := procMemory(gw.pid())

	fmt.Println()
	sums := summarize(results)
	fmt.Printf("Point selects on %d rows, demo layout; each figure is the median of %d rounds of %s per run (gateway pool size %d):\n", o.rows, o.rounds, o.duration, o.poolSize)
	printTable(os.Stdout, sums)
	fmt.Println()
	printConnsPeaks(os.Stdout, summarizePeaks(peaks), hwm)
	fmt.Println()
	printConnsGoals(os.Stdout, connsGoals(sums, summarizePeaks(peaks), o.many, o.ref, o.shortWorkers))
	if prof != nil {
		note, err := prof.write(ctx, o.cpuprofile)
		if err != nil {
			return fmt.Errorf("--cpuprofile: %w", err)
		}
		fmt.Printf("\nCPU profile of the gateway over its %d measured runs: %s\n", len(prof.parts), o.cpuprofile)
		if note != "" {
			fmt.Println(note)
		} else {
			printProfileTop(ctx, os.Stdout, o.cpuprofile)
		}
	}
	return nil
}

// backendCounter counts the backend connections of the gateway on every tablet as MariaDB
// sees them: the PROCESSLIST rows of the gateway's backend user, read by the admin user.
type backendCounter struct {
	user    string
	aliases []string
	dbs     []*sql.DB // one per tablet, in aliases' order
}

func newBackendCounter(c *local.Cluster) (*backendCounter, error) {
	b := &backendCounter{user: c.User()}
	for _, t := range c.Tablets() {
		db, err := sql.Open("mysql", t.MariaDB.DBADSN(""))
		if err != nil {
			b.close()
			return nil, err
		}
		db.SetMaxOpenConns(1) // one sampler; one admin connection per server
		b.aliases, b.dbs = append(b.aliases, t.Alias()), append(b.dbs, db)
	}
	return b, nil
}

func (b *backendCounter) close() {
	for _, db := range b.dbs {
		db.Close()
	}
}

// count returns the gateway's backend connections on each tablet, by alias.
func (b *backendCounter) count(ctx context.Context) (map[string]int, error) {
	out := map[string]int{}
	for i, db := range b.dbs {
		var n int
		if err := db.QueryRowContext(ctx, "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE USER = ?", b.user).Scan(&n); err != nil {
			return nil, fmt.Errorf("backend connections on %s: %w", b.aliases[i], err)
		}
		out[b.aliases[i]] = n
	}
	return out, nil
}

// connsSampler samples the gateway's VmRSS and backend connections every 200 ms during a run;
// it owns its goroutine, which stop ends and waits for.
type connsSampler struct {
	cancel context.CancelFunc
	done   chan struct{}
	mu     sync.Mutex // guards peak
	peak   connsPeak
}

// connsPeak is one gateway run's peak RSS and peak backend connections of each tablet.
type connsPeak struct {
	load    string
	conns   int
	rssKiB  int64
	backend map[string]int
	errs    int // failed samples
}

func startConnsSampler(ctx context.Context, pid int, b *backendCounter) *connsSampler {
	ctx, cancel := context.WithCancel(ctx)
	s := &connsSampler{cancel: cancel, done: make(chan struct{}), peak: connsPeak{backend: map[string]int{}}}
	go func() {
		defer close(s.done)
		for {
			_, rss := procMemory(pid)
			n, err := b.count(ctx)
			s.mu.Lock()
			s.peak.rssKiB = max(s.peak.rssKiB, rss)
			if err != nil && ctx.Err() == nil {
				s.peak.errs++
			}
			for alias, v := range n {
				s.peak.backend[alias] = max(s.peak.backend[alias], v)
			}
			s.mu.Unlock()
			select {
			case <-ctx.Done():
				return
			case <-time.After(200 * time.Millisecond): // a sample costs each server a query
			}
		}
	}()
	return s
}

func (s *connsSampler) stop() connsPeak {
	s.cancel()
	<-s.done
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.peak
}

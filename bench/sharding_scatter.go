package main

// The scatter part of `bench sharding`: queries on both shards, merged by the gateway,
// beside the same query on each shard alone (through the gateway and directly) and beside the
// client's own fan-out to both shards' MariaDB. Two cases: one whose shards each do a lot of
// work (on a 2-core machine two MariaDB scanning at once compete with the client and the
// gateway for the cores, and the client's own fan-out pays for it as much as the gateway's)
// and one whose shards each do little, where the gateway's own fan-out cost shows.

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
)

// scatterQuery is one scatter case.
type scatterQuery struct {
	name, query, work string
}

var scatterCases = []scatterQuery{
	{name: "2-shard COUNT(*) by k", query: "SELECT COUNT(*) FROM sbtest1 WHERE k=?",
		work: "by the index k_1: each shard counts its few rows of one k"},
	{name: "2-shard COUNT(*) of 10 ids", query: "SELECT COUNT(*) FROM sbtest1 WHERE id BETWEEN ? AND ?+9",
		work: "a primary-key range the hash vindex cannot route: each shard reads about 5 rows"},
}

// scatterStep is one load of the interleaved comparison: the query sent on one connection
// to each address at once.
type scatterStep struct {
	name   string
	target string   // the database (directly) or the gateway's target
	addrs  []string // several: the client's own fan-out
}

// The steps of a scatter case, in this order.
const (
	stepMerged = iota
	stepLowGateway
	stepHighGateway
	stepLowDirect
	stepHighDirect
	stepBothDirect
)

func scatterSteps(env *shardingEnv) []scatterStep {
	gw, lo, hi := env.gw.mysqlAddr, env.direct["-80"], env.direct["80-"]
	return []scatterStep{
		stepMerged:      {name: "2 shards, merged by the gateway", target: "customer", addrs: []string{gw}},
		stepLowGateway:  {name: "shard -80 alone, via the gateway", target: "customer:-80", addrs: []string{gw}},
		stepHighGateway: {name: "shard 80- alone, via the gateway", target: "customer:80-", addrs: []string{gw}},
		stepLowDirect:   {name: "shard -80 alone, directly", target: "customer", addrs: []string{lo}},
		stepHighDirect:  {name: "shard 80- alone, directly", target: "customer", addrs: []string{hi}},
		stepBothDirect:  {name: "both shards at once, directly (the client's own fan-out)", target: "customer", addrs: []string{lo, hi}},
	}
}

// scatterCase measures one scatter case: the gateway's CPU per query in metered runs (merged,
// and each shard alone), then the latencies with the six steps taking turns on one client, so
// that each sees the same load of the shared machine; the differences are taken within each
// round and their medians decide.
func scatterCase(ctx context.Context, env *shardingEnv, sc scatterQuery) error {
	gw := env.gw.mysqlAddr
	metered := []shardingRun{
		{name: sc.name + ", merged", target: "customer", addr: gw, conns: 1, query: sc.query},
		{name: sc.name + ", shard -80 alone", target: "customer:-80", addr: gw, conns: 1, query: sc.query},
		{name: sc.name + ", shard 80- alone", target: "customer:80-", addr: gw, conns: 1, query: sc.query},
	}
	// --only NAME: the metered runs whose name has it; the interleaved loads when the case's
	// name has it.
	interleaved := env.wanted(sc.name)
	if !interleaved && !slices.ContainsFunc(metered, func(r shardingRun) bool { return env.wanted(r.name) }) {
		return nil
	}
	cpu := make([][]result, len(metered))
	steps := scatterSteps(env)
	var p50s [][]float64 // per round, per step
	for round := 1; round <= env.rounds; round++ {
		for i, r := range metered {
			if !env.wanted(r.name) {
				continue
			}
			res, err := env.meter(ctx, r)
			if err != nil {
				return err
			}
			cpu[i] = append(cpu[i], res)
			env.say("round %d/%d %s", round, env.rounds, res.progressLine())
		}
		if !interleaved {
			continue
		}
		p, err := interleavedLoad(ctx, steps, sc.query, env.rows, env.warmup, env.duration)
		if err != nil {
			return fmt.Errorf("%s, interleaved: %w", sc.name, err)
		}
		env.say("round %d/%d %s interleaved: p50 %s µs", round, env.rounds, sc.name, formatList(p))
		p50s = append(p50s, p)
	}
	if !interleaved {
		return nil
	}
	med := func(f func(p []float64) float64) float64 {
		var v []float64
		for _, p := range p50s {
			v = append(v, f(p))
		}
		return median(v)
	}
	fmt.Printf("\n%s (%s; `%s`): the six loads take turns on one client, p50 medians of %d rounds of %s:\n",
		sc.name, sc.work, sc.query, env.rounds, env.duration)
	w := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "| load | p50 (µs) | CPU per query (µs): gateway | MariaDB (both shards) | client |")
	fmt.Fprintln(w, "| --- | --- | --- | --- | --- |")
	for k, st := range steps {
		c := "- | - | -"
		switch k {
		case stepMerged, stepLowGateway, stepHighGateway:
			c = cpuCells(cpu[k])
		}
		fmt.Fprintf(w, "| %s | %.0f | %s |\n", st.name, med(func(p []float64) float64 { return p[k] }), c)
	}
	w.Flush()
	over := med(func(p []float64) float64 { return p[stepMerged] - max(p[stepLowGateway], p[stepHighGateway]) })
	direct := med(func(p []float64) float64 { return p[stepBothDirect] - max(p[stepLowDirect], p[stepHighDirect]) })
	hop := med(func(p []float64) float64 {
		return max(p[stepLowGateway], p[stepHighGateway]) - max(p[stepLowDirect], p[stepHighDirect])
	})
	own := med(func(p []float64) float64 {
		return p[stepMerged] - max(p[stepLowGateway], p[stepHighGateway]) - (p[stepBothDirect] - max(p[stepLowDirect], p[stepHighDirect]))
	})
	fmt.Printf("  merged by the gateway: %+.0f µs over the slower shard alone through the gateway (target ≤ +50 µs) %s\n", over, verdict(over <= 50))
	fmt.Printf("  the client's own fan-out: %+.0f µs over the slower shard alone directly (what two shards at once cost this machine, no gateway)\n", direct)
	fmt.Printf("  the gateway's fan-out beyond the client's own: %+.0f µs; the gateway's hop to one shard: %+.0f µs\n", own, hop)
	return nil
}

// interleavedLoad runs query with a random argument (every '?' gets it), the steps taking
// turns on one client, for warmup (not counted) then dur, and returns each step's median
// latency in µs.
func interleavedLoad(ctx context.Context, steps []scatterStep, query string, rows int, warmup, dur time.Duration) ([]float64, error) {
	fans := make([]*fanOut, len(steps))
	for i, st := range steps {
		var conns []*sql.Conn
		for _, addr := range st.addrs {
			db, err := sql.Open("mysql", "app:app@tcp("+addr+")/"+st.target+"?interpolateParams=true")
			if err != nil {
				return nil, err
			}
			defer db.Close()
			c, err := db.Conn(ctx)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", st.name, err)
			}
			defer c.Close()
			conns = append(conns, c)
		}
		fans[i] = newFanOut(conns)
	}
	rng := rand.New(rand.NewPCG(1, uint64(time.Now().UnixNano())))
	lats := make([][]time.Duration, len(steps))
	args := make([]any, strings.Count(query, "?"))
	for _, phase := range []struct {
		d      time.Duration
		record bool
	}{{warmup, false}, {dur, true}} {
		deadline := time.Now().Add(phase.d)
		for i := 0; time.Now().Before(deadline); i++ {
			k := i % len(steps)
			arg := rng.IntN(rows) + 1
			for j := range args {
				args[j] = arg
			}
			t0 := time.Now()
			if err := fans[k].query(ctx, query, args); err != nil {
				return nil, fmt.Errorf("%s: %w", steps[k].name, err)
			}
			if phase.record {
				lats[k] = append(lats[k], time.Since(t0))
			}
		}
	}
	out := make([]float64, len(steps))
	for k := range steps {
		slices.Sort(lats[k])
		out[k] = us(percentile(lats[k], 0.50))
	}
	return out, nil
}

// cpuCells is the median CPU per query of the gateway, both shards' MariaDB and the client
// over metered runs: what one query asks of the machine's cores.
func cpuCells(rs []result) string {
	if len(rs) == 0 {
		return "- | - | -"
	}
	var gw, db, cl []float64
	for _, r := range rs {
		g, _ := r.cpuPerQuery("proxy")
		lo, _ := r.cpuPerQuery("mariadb -80")
		hi, _ := r.cpuPerQuery("mariadb 80-")
		c, _ := r.cpuPerQuery("client")
		gw, db, cl = append(gw, g), append(db, lo+hi), append(cl, c)
	}
	return fmt.Sprintf("%.1f | %.1f | %.1f", median(gw), median(db), median(cl))
}

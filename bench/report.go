package main

import (
	"fmt"
	"io"
	"slices"
	"text/tabwriter"
	"time"
)

// result is one run: a load against a target at a number of connections.
type result struct {
	target  string
	load    string
	conns   int
	queries int64
	elapsed time.Duration
	p50     time.Duration
	p99     time.Duration
	cpu     map[string]time.Duration // CPU used during the run by "proxy", "mariadb", "client"
	note    string
	err     error
}

func (r result) qps() float64 {
	if r.elapsed <= 0 {
		return 0
	}
	return float64(r.queries) / r.elapsed.Seconds()
}

// cpuPerQuery is the CPU time of process name per query, in µs; ok is false when the process
// was not measured in this run.
func (r result) cpuPerQuery(name string) (float64, bool) {
	t, ok := r.cpu[name]
	if !ok || r.queries == 0 {
		return 0, false
	}
	return float64(t.Nanoseconds()) / 1e3 / float64(r.queries), true
}

func (r result) progressLine() string {
	head := fmt.Sprintf("%-16s %-7s %2d conns: ", r.load, r.target, r.conns)
	if r.err != nil {
		return head + "FAILED: " + r.err.Error()
	}
	s := head + fmt.Sprintf("%8.0f qps  p50 %6.1fµs  p99 %7.1fµs", r.qps(), us(r.p50), us(r.p99))
	for _, n := range []string{"proxy", "mariadb", "client"} {
		if v, ok := r.cpuPerQuery(n); ok {
			s += fmt.Sprintf("  %s %.1fµs/q", n, v)
		}
	}
	if r.note != "" {
		s += "  (" + r.note + ")"
	}
	return s
}

func us(d time.Duration) float64 { return float64(d.Nanoseconds()) / 1e3 }

func printTable(w io.Writer, results []result) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "load\ttarget\tconns\tQPS\tp50 µs\tp99 µs\tproxy CPU µs/q\tMariaDB CPU µs/q\tclient CPU µs/q\t")
	cell := func(r result, name string) string {
		if v, ok := r.cpuPerQuery(name); ok {
			return fmt.Sprintf("%.1f", v)
		}
		return "-"
	}
	for _, r := range results {
		if r.err != nil {
			fmt.Fprintf(tw, "%s\t%s\t%d\tFAILED\t\t\t\t\t\t\n", r.load, r.target, r.conns)
			continue
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%.0f\t%.1f\t%.1f\t%s\t%s\t%s\t\n", r.load, r.target, r.conns,
			r.qps(), us(r.p50), us(r.p99), cell(r, "proxy"), cell(r, "mariadb"), cell(r, "client"))
	}
	tw.Flush()
	for _, r := range results {
		if r.err != nil {
			fmt.Fprintf(w, "FAILED %s %s %d conns: %v\n", r.load, r.target, r.conns, r.err)
		} else if r.note != "" {
			fmt.Fprintf(w, "note %s %s %d conns: %s\n", r.load, r.target, r.conns, r.note)
		}
	}
}

// Targets of issue 2, as ratios of the gateway to the plain relay.
const (
	maxAddedP50Ratio = 1.5
	maxCPURatio      = 1.5
	minQPSRatio      = 0.75
)

// printRatios prints, for each load, the gateway's ratios to the relay that issue 2 sets
// targets for: added p50 latency (over direct) at the fewest connections, proxy CPU per
// query at every connection count, and QPS at the most connections.
func printRatios(w io.Writer, results []result) {
	find := func(load, target string, conns int) (result, bool) {
		for _, r := range results {
			if r.load == load && r.target == target && r.conns == conns && r.err == nil {
				return r, true
			}
		}
		return result{}, false
	}
	var loads []string
	var conns []int
	for _, r := range results {
		if !slices.Contains(loads, r.load) {
			loads = append(loads, r.load)
		}
		if !slices.Contains(conns, r.conns) {
			conns = append(conns, r.conns)
		}
	}
	if len(conns) == 0 {
		return
	}
	lo, hi := slices.Min(conns), slices.Max(conns)
	verdict := func(ok bool) string {
		if ok {
			return "ok"
		}
		return "MISSED"
	}
	fmt.Fprintln(w, "Gateway vs plain relay (issue 2 targets):")
	for _, load := range loads {
		fmt.Fprintf(w, "  %s:\n", load)
		d, okD := find(load, "direct", lo)
		rl, okR := find(load, "relay", lo)
		g, okG := find(load, "gateway", lo)
		if okD && okR && okG {
			ra, ga := us(rl.p50-d.p50), us(g.p50-d.p50)
			ratio := ga / ra
			fmt.Fprintf(w, "    added p50 @%d conn:  gateway %+.1fµs, relay %+.1fµs  -> %.2fx (target <= %.2fx) %s\n",
				lo, ga, ra, ratio, maxAddedP50Ratio, verdict(ra > 0 && ratio <= maxAddedP50Ratio))
		}
		for _, c := range conns {
			rl, okR := find(load, "relay", c)
			g, okG := find(load, "gateway", c)
			if !okR || !okG {
				continue
			}
			rc, _ := rl.cpuPerQuery("proxy")
			gc, _ := g.cpuPerQuery("proxy")
			ratio := gc / rc
			fmt.Fprintf(w, "    CPU/query @%d conns: gateway %.1fµs, relay %.1fµs  -> %.2fx (target <= %.2fx) %s\n",
				c, gc, rc, ratio, maxCPURatio, verdict(ratio <= maxCPURatio))
		}
		rl, okR = find(load, "relay", hi)
		g, okG = find(load, "gateway", hi)
		if okR && okG {
			ratio := g.qps() / rl.qps()
			fmt.Fprintf(w, "    QPS @%d conns:       gateway %.0f, relay %.0f  -> %.2fx (target >= %.2fx) %s\n",
				hi, g.qps(), rl.qps(), ratio, minQPSRatio, verdict(ratio >= minQPSRatio))
		}
	}
}

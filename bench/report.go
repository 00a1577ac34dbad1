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

// summary is the median over the rounds of one (load, target, conns): each figure is the
// median of that figure, so one disturbed round (the machine is shared) does not decide.
type summary struct {
	load, target string
	conns        int
	runs         int                // successful rounds
	errs         []error            // failed rounds
	notes        []string           // e.g. sysbench's ignored errors
	qps          float64            // median
	qpsMin       float64            // smallest and largest QPS, to show the noise
	qpsMax       float64            //
	p50, p99     float64            // median, µs
	cpu          map[string]float64 // median CPU µs per query of "proxy", "mariadb", "client"
}

// summarize groups results by (load, target, conns), keeping the order of first appearance.
func summarize(results []result) []summary {
	var out []summary
	index := map[[3]string]int{}
	groups := [][]result{}
	for _, r := range results {
		k := [3]string{r.load, r.target, fmt.Sprint(r.conns)}
		i, ok := index[k]
		if !ok {
			i = len(groups)
			index[k] = i
			groups = append(groups, nil)
		}
		groups[i] = append(groups[i], r)
	}
	for _, g := range groups {
		s := summary{load: g[0].load, target: g[0].target, conns: g[0].conns, cpu: map[string]float64{}}
		var qps, p50, p99 []float64
		cpu := map[string][]float64{}
		for _, r := range g {
			if r.err != nil {
				s.errs = append(s.errs, r.err)
				continue
			}
			s.runs++
			if r.note != "" {
				s.notes = append(s.notes, r.note)
			}
			qps = append(qps, r.qps())
			p50 = append(p50, us(r.p50))
			p99 = append(p99, us(r.p99))
			for _, n := range []string{"proxy", "mariadb", "client"} {
				if v, ok := r.cpuPerQuery(n); ok {
					cpu[n] = append(cpu[n], v)
				}
			}
		}
		if s.runs > 0 {
			s.qps, s.p50, s.p99 = median(qps), median(p50), median(p99)
			s.qpsMin, s.qpsMax = slices.Min(qps), slices.Max(qps)
			for n, v := range cpu {
				s.cpu[n] = median(v)
			}
		}
		out = append(out, s)
	}
	return out
}

// median of xs (the mean of the middle two for an even count).
func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

func printTable(w io.Writer, sums []summary) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "load\ttarget\tconns\tQPS\tQPS min..max\tp50 µs\tp99 µs\tproxy CPU µs/q\tMariaDB CPU µs/q\tclient CPU µs/q\truns\t")
	cell := func(s summary, name string) string {
		if v, ok := s.cpu[name]; ok {
			return fmt.Sprintf("%.1f", v)
		}
		return "-"
	}
	for _, s := range sums {
		if s.runs == 0 {
			fmt.Fprintf(tw, "%s\t%s\t%d\tFAILED\t\t\t\t\t\t\t0/%d\t\n", s.load, s.target, s.conns, len(s.errs))
			continue
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%.0f\t%.0f..%.0f\t%.1f\t%.1f\t%s\t%s\t%s\t%d/%d\t\n", s.load, s.target, s.conns,
			s.qps, s.qpsMin, s.qpsMax, s.p50, s.p99, cell(s, "proxy"), cell(s, "mariadb"), cell(s, "client"),
			s.runs, s.runs+len(s.errs))
	}
	tw.Flush()
	for _, s := range sums {
		for _, err := range s.errs {
			fmt.Fprintf(w, "FAILED %s %s %d conns: %v\n", s.load, s.target, s.conns, err)
		}
		for _, n := range s.notes {
			fmt.Fprintf(w, "note %s %s %d conns: %s\n", s.load, s.target, s.conns, n)
		}
	}
}

// Targets of the per-query path (issue 2, tightened by the session-fidelity work), as ratios of
// the gateway to the plain relay.
const (
	maxAddedP50Ratio = 1.3
	maxCPURatio      = 1.3
	minQPSRatio      = 0.8
)

// printRatios prints, for each load, the gateway's ratios to the relay that the targets set
// targets for: added p50 latency (over direct) at the fewest connections, proxy CPU per
// query at every connection count, and QPS at the most connections.
func printRatios(w io.Writer, sums []summary) {
	find := func(load, target string, conns int) (summary, bool) {
		for _, s := range sums {
			if s.load == load && s.target == target && s.conns == conns && s.runs > 0 {
				return s, true
			}
		}
		return summary{}, false
	}
	var loads []string
	var conns []int
	for _, s := range sums {
		if !slices.Contains(loads, s.load) {
			loads = append(loads, s.load)
		}
		if !slices.Contains(conns, s.conns) {
			conns = append(conns, s.conns)
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
	for _, base := range []string{"relay", "relay-rw"} {
		if !slices.ContainsFunc(sums, func(s summary) bool { return s.target == base }) {
			continue
		}
		fmt.Fprintf(w, "Gateway vs %s (targets):\n", base)
		for _, load := range loads {
			fmt.Fprintf(w, "  %s:\n", load)
			d, okD := find(load, "direct", lo)
			rl, okR := find(load, base, lo)
			g, okG := find(load, "gateway", lo)
			if okD && okR && okG {
				ra, ga := rl.p50-d.p50, g.p50-d.p50
				ratio := ga / ra
				fmt.Fprintf(w, "    added p50 @%d conns:  gateway %+.1fµs, %s %+.1fµs  -> %.2fx (target <= %.2fx) %s\n",
					lo, ga, base, ra, ratio, maxAddedP50Ratio, verdict(ra > 0 && ratio <= maxAddedP50Ratio))
			}
			for _, c := range conns {
				rl, okR := find(load, base, c)
				g, okG := find(load, "gateway", c)
				if !okR || !okG {
					continue
				}
				rc, gc := rl.cpu["proxy"], g.cpu["proxy"]
				ratio := gc / rc
				fmt.Fprintf(w, "    CPU/query @%d conns:  gateway %.1fµs, %s %.1fµs  -> %.2fx (target <= %.2fx) %s\n",
					c, gc, base, rc, ratio, maxCPURatio, verdict(ratio <= maxCPURatio))
			}
			rl, okR = find(load, base, hi)
			g, okG = find(load, "gateway", hi)
			if okR && okG {
				ratio := g.qps / rl.qps
				fmt.Fprintf(w, "    QPS @%d conns:        gateway %.0f, %s %.0f  -> %.2fx (target >= %.2fx) %s\n",
					hi, g.qps, base, rl.qps, ratio, minQPSRatio, verdict(ratio >= minQPSRatio))
			}
		}
	}
}

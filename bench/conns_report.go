package main

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
)

// Goals of issue 13 for many client connections.
const (
	minShortLivedRatio = 1.0 // short-lived: gateway QPS / direct QPS
	minManyOverRef     = 0.9 // persistent: gateway QPS at many / gateway QPS at the reference
	maxManyP99Ratio    = 2.0 // persistent at many: gateway p99 / direct p99
	maxBackendPerTab   = 64  // backend connections of any tablet, at any time
)

// peakSummary is the medians over rounds of the gateway's peaks in one load.
type peakSummary struct {
	load       string
	conns      int
	runs       int
	rssMiB     float64        // median of the runs' peak VmRSS
	backend    map[string]int // median of each tablet's peak backend connections
	backendMax int            // the most backend connections any tablet had in any run
	sampleErrs int
}

// summarizePeaks groups the gateway runs' peaks by load, in order of first appearance.
func summarizePeaks(peaks []connsPeak) []peakSummary {
	var out []peakSummary
	for _, pk := range peaks {
		i := slices.IndexFunc(out, func(s peakSummary) bool { return s.load == pk.load && s.conns == pk.conns })
		if i < 0 {
			out = append(out, peakSummary{load: pk.load, conns: pk.conns})
			i = len(out) - 1
		}
		out[i].runs++
		out[i].sampleErrs += pk.errs
	}
	for i := range out {
		s := &out[i]
		var rss []float64
		perTablet := map[string][]float64{}
		for _, pk := range peaks {
			if pk.load != s.load || pk.conns != s.conns {
				continue
			}
			rss = append(rss, float64(pk.rssKiB)/1024)
			for alias, n := range pk.backend {
				perTablet[alias] = append(perTablet[alias], float64(n))
				s.backendMax = max(s.backendMax, n)
			}
		}
		s.rssMiB = median(rss)
		s.backend = map[string]int{}
		for alias, ns := range perTablet {
			s.backend[alias] = int(median(ns))
		}
	}
	return out
}

func printConnsPeaks(w io.Writer, peaks []peakSummary, hwmKiB int64) {
	fmt.Fprintln(w, "The gateway during its runs (medians of each run's peak; backend connections counted by MariaDB):")
	for _, s := range peaks {
		var parts []string
		for _, alias := range slices.Sorted(maps.Keys(s.backend)) {
			parts = append(parts, fmt.Sprintf("%s %d", alias, s.backend[alias]))
		}
		line := fmt.Sprintf("  %-11s %4d conns: RSS %.0f MiB; backend connections per tablet: %s (most in any run: %d)",
			s.load, s.conns, s.rssMiB, strings.Join(parts, ", "), s.backendMax)
		if s.sampleErrs > 0 {
			line += fmt.Sprintf(" (%d samples failed)", s.sampleErrs)
		}
		fmt.Fprintln(w, line)
	}
	fmt.Fprintf(w, "  peak RSS over the whole run (VmHWM): %.0f MiB\n", float64(hwmKiB)/1024)
}

// connsGoal is one goal's figures and verdict.
type connsGoal struct {
	name        string
	value, goal float64
	atMost      bool // value <= goal passes; else value >= goal
	detail      string
	measured    bool // false: a run the goal needs failed or was not made
}

func (g connsGoal) ok() bool {
	if !g.measured {
		return false
	}
	if g.atMost {
		return g.value <= g.goal
	}
	return g.value >= g.goal
}

// connsGoals judges the medians against issue 13's goals: short-lived QPS at least 1.0x
// direct's; at many persistent connections QPS at least 0.9x the gateway's own at the
// reference count and p99 at most 2x direct's; at most 64 backend connections per tablet.
func connsGoals(sums []summary, peaks []peakSummary, many, ref, short int) []connsGoal {
	find := func(load, target string, conns int) (summary, bool) {
		i := slices.IndexFunc(sums, func(s summary) bool {
			return s.load == load && s.target == target && s.conns == conns && s.runs > 0
		})
		if i < 0 {
			return summary{}, false
		}
		return sums[i], true
	}
	var out []connsGoal
	d, okD := find("short-lived", "direct", short)
	g, okG := find("short-lived", "gateway", short)
	out = append(out, connsGoal{name: fmt.Sprintf("short-lived QPS (%d workers), gateway / direct", short),
		value: ratio(g.qps, d.qps), goal: minShortLivedRatio, measured: okD && okG,
		detail: fmt.Sprintf("gateway %.0f, direct %.0f", g.qps, d.qps)})
	gm, okM := find("persistent", "gateway", many)
	gr, okR := find("persistent", "gateway", ref)
	out = append(out, connsGoal{name: fmt.Sprintf("gateway QPS at %d persistent / at %d", many, ref),
		value: ratio(gm.qps, gr.qps), goal: minManyOverRef, measured: okM && okR,
		detail: fmt.Sprintf("%.0f / %.0f", gm.qps, gr.qps)})
	dm, okDM := find("persistent", "direct", many)
	out = append(out, connsGoal{name: fmt.Sprintf("p99 at %d persistent, gateway / direct", many),
		value: ratio(gm.p99, dm.p99), goal: maxManyP99Ratio, atMost: true, measured: okM && okDM,
		detail: fmt.Sprintf("gateway %.1f ms, direct %.1f ms", gm.p99/1e3, dm.p99/1e3)})
	most, measured := 0, false
	for _, p := range peaks {
		if p.runs > 0 && len(p.backend) > 0 {
			most, measured = max(most, p.backendMax), true
		}
	}
	out = append(out, connsGoal{name: "backend connections of a tablet (most, any gateway run)",
		value: float64(most), goal: maxBackendPerTab, atMost: true, measured: measured,
		detail: "counted in MariaDB's PROCESSLIST"})
	return out
}

func ratio(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return a / b
}

func printConnsGoals(w io.Writer, goals []connsGoal) {
	fmt.Fprintln(w, "Goals (issue 13):")
	for _, g := range goals {
		verdict, op := "MISSED", ">="
		if g.ok() {
			verdict = "ok"
		}
		if g.atMost {
			op = "<="
		}
		if !g.measured {
			fmt.Fprintf(w, "  %s: not measured (a run failed) MISSED\n", g.name)
			continue
		}
		fmt.Fprintf(w, "  %s: %.2f (goal %s %.2f; %s) %s\n", g.name, g.value, op, g.goal, g.detail, verdict)
	}
}

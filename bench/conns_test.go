package main

import (
	"strings"
	"testing"
)

func TestConnsGoals(t *testing.T) {
	sums := []summary{
		{load: "persistent", target: "direct", conns: 1000, runs: 3, qps: 15000, p99: 150000},
		{load: "persistent", target: "gateway", conns: 1000, runs: 3, qps: 9000, p99: 310000},
		{load: "persistent", target: "gateway", conns: 16, runs: 3, qps: 10000, p99: 5000},
		{load: "short-lived", target: "direct", conns: 16, runs: 3, qps: 3000},
		{load: "short-lived", target: "gateway", conns: 16, runs: 3, qps: 3300},
	}
	peaks := summarizePeaks([]connsPeak{
		{load: "persistent", conns: 1000, rssKiB: 90 << 10, backend: map[string]int{"zone1-100": 49, "zone1-101": 1}},
		{load: "persistent", conns: 1000, rssKiB: 110 << 10, backend: map[string]int{"zone1-100": 70, "zone1-101": 1}},
		{load: "persistent", conns: 1000, rssKiB: 100 << 10, backend: map[string]int{"zone1-100": 48, "zone1-101": 1}},
	})
	if len(peaks) != 1 || peaks[0].runs != 3 || peaks[0].rssMiB != 100 || peaks[0].backend["zone1-100"] != 49 || peaks[0].backendMax != 70 {
		t.Fatalf("peaks = %+v, want 3 runs, median RSS 100 MiB, median 49 on zone1-100, most 70", peaks)
	}
	goals := connsGoals(sums, peaks, 1000, 16, 16)
	want := []struct {
		value float64
		ok    bool
	}{
		{1.1, true},          // short-lived 3300 / 3000
		{0.9, true},          // 9000 / 10000: at the goal
		{310.0 / 150, false}, // p99 2.07x direct's
		{70, false},          // one run's 70 connections past 64
	}
	if len(goals) != len(want) {
		t.Fatalf("%d goals, want %d", len(goals), len(want))
	}
	for i, w := range want {
		g := goals[i]
		if !g.measured || g.ok() != w.ok || g.value < w.value-1e-9 || g.value > w.value+1e-9 {
			t.Errorf("goal %q = %.4f ok %v, want %.4f ok %v", g.name, g.value, g.ok(), w.value, w.ok)
		}
	}

	// A failed run leaves its goals unmeasured, and MISSED, never passed.
	goals = connsGoals(sums[:3], nil, 1000, 16, 16)
	if goals[0].measured || goals[0].ok() || goals[3].measured || goals[3].ok() {
		t.Errorf("short-lived and backend goals without their runs: %+v, %+v", goals[0], goals[3])
	}
	var b strings.Builder
	printConnsGoals(&b, goals)
	if !strings.Contains(b.String(), "not measured (a run failed) MISSED") {
		t.Errorf("report of unmeasured goals:\n%s", b.String())
	}
}

// TestLatencyBuf: the workers' latency buffers together stay within latencyBudget, whatever
// their number, and a few workers still get all the room they ask for.
func TestLatencyBuf(t *testing.T) {
	for _, workers := range []int{1, 16, 1000, 5000, 2 << 20} {
		b := latencyBuf(workers, 1<<16)
		if len(b) != 0 || cap(b) < 1 || workers*cap(b) > max(latencyBudget, workers) {
			t.Errorf("%d workers: cap %d each, %d in all (budget %d)", workers, cap(b), workers*cap(b), latencyBudget)
		}
	}
	if b := latencyBuf(16, 1<<16); cap(b) != 1<<16 {
		t.Errorf("16 workers: cap %d, want %d", cap(b), 1<<16)
	}
}

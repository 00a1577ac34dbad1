package main

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestPrintVStream(t *testing.T) {
	lat := make([]time.Duration, 100)
	for i := range lat {
		lat[i] = time.Duration(i) * 20 * time.Microsecond // p50 0.98ms, p99 1.96ms (percentile: the smallest at or above the fraction)
	}
	fast := make([]time.Duration, 100)
	for i := range fast {
		fast[i] = time.Duration(i) * 10 * time.Microsecond // p50 0.49ms, p99 0.98ms
	}
	cpu := map[string]time.Duration{"gateway": time.Second, "mariadb": time.Second, "client": time.Second}
	tests := []struct {
		name string
		r    vstreamResult
		want []string
	}{
		{
			name: "both measured",
			r: vstreamResult{rows: 100000,
				burst: []burstRun{{elapsed: 500 * time.Millisecond, cpu: cpu}, {elapsed: time.Second, cpu: cpu}, {elapsed: 400 * time.Millisecond, cpu: cpu}},
				latency: []latencyRun{
					{n: 100, rate: 1000, afterOK: lat, beforeSend: lat, toGateway: lat, toClient: lat, cpu: cpu},
					{n: 100, rate: 1000, afterOK: fast, beforeSend: fast, toGateway: fast, toClient: fast, cpu: cpu},
					{n: 100, rate: 1000, afterOK: lat, beforeSend: lat, toGateway: lat, toClient: lat, cpu: cpu}},
				floor: []latencyRun{{n: 100, rate: 1000, afterOK: fast, beforeSend: fast, cpu: cpu}}},
			want: []string{"200000 row events/s (100000-250000)", "gateway 10.00µs", "1.33x ok", "p50 0.980ms", "1.960ms MISSED",
				"rounds 1.960, 0.980, 1.960", "p99 0.980ms  max 0.990ms  (rounds 0.980)", "adds p50 +0.490ms  p99 +0.980ms over the floor (p99 2.00x"},
		},
		{
			name: "failures",
			r:    vstreamResult{rows: 10, burstErr: errors.New("boom"), latencyErr: errors.New("bang"), floorErr: errors.New("thud")},
			want: []string{"burst FAILED: boom", "latency FAILED: bang", "latency floor FAILED: thud"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b strings.Builder
			printVStream(&b, tt.r)
			for _, w := range tt.want {
				if !strings.Contains(b.String(), w) {
					t.Errorf("output lacks %q:\n%s", w, b.String())
				}
			}
		})
	}
}

func TestPrintFidelity(t *testing.T) {
	r := fidelityResult{ddlRows: 1000, ddlEPS: []float64{90000, 100000, 110000}, bigMiB: 200, keyRows: 1000000,
		big:     memRun{elapsed: 2 * time.Second, rows: 51200, rssBefore: 48 << 10, rssPeak: 55 << 10, maxResponse: 254956, nResps: 840},
		keyless: memRun{elapsed: 3 * time.Second, rows: 1000000, rssBefore: 50 << 10, rssPeak: 61 << 10, maxResponse: 276502, nResps: 402},
		errs:    []string{"x: boom"}}
	var b strings.Builder
	printFidelity(&b, r)
	for _, w := range []string{"median of 3): 100000 row events/s", "one 200 MiB transaction: 51200 rows", "largest 254956 bytes", "RSS 48 MiB before, peak 55 MiB",
		"copy of a 1000000-row table without a key", "FAILED: x: boom"} {
		if !strings.Contains(b.String(), w) {
			t.Errorf("output lacks %q:\n%s", w, b.String())
		}
	}
}

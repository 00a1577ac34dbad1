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
	cpu := map[string]time.Duration{"gateway": time.Second, "mariadb": time.Second, "client": time.Second}
	tests := []struct {
		name string
		r    vstreamResult
		want []string
	}{
		{
			name: "both measured",
			r: vstreamResult{rows: 100000,
				burst:   []burstRun{{elapsed: 500 * time.Millisecond, cpu: cpu}, {elapsed: time.Second, cpu: cpu}, {elapsed: 400 * time.Millisecond, cpu: cpu}},
				latency: latencyRun{n: 100, rate: 1000, afterOK: lat, beforeSend: lat, toGateway: lat, toClient: lat, cpu: cpu}},
			want: []string{"200000 row events/s (100000-250000)", "gateway 10.00µs", "2.00x ok", "p50 0.980ms", "1.960ms MISSED"},
		},
		{
			name: "failures",
			r:    vstreamResult{rows: 10, burstErr: errors.New("boom"), latencyErr: errors.New("bang")},
			want: []string{"burst FAILED: boom", "latency FAILED: bang"},
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

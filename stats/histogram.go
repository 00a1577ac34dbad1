package stats

import (
	"sync/atomic"
	"time"
)

// Cutoffs are the upper bounds of Vitess's timings buckets (go/stats/timings.go): 0.5 ms to
// 10 s; a last bucket holds the rest.
var Cutoffs = [...]time.Duration{
	500 * time.Microsecond, time.Millisecond, 5 * time.Millisecond, 10 * time.Millisecond,
	50 * time.Millisecond, 100 * time.Millisecond, 500 * time.Millisecond, time.Second,
	5 * time.Second, 10 * time.Second,
}

// Histogram counts durations in the Cutoffs buckets. Observe is a few atomic adds: safe from
// any goroutine, no lock, no allocation.
type Histogram struct {
	buckets [len(Cutoffs) + 1]atomic.Uint64
	count   atomic.Uint64
	total   atomic.Int64 // nanoseconds
}

// Observe records one duration.
func (h *Histogram) Observe(d time.Duration) {
	i := 0
	for i < len(Cutoffs) && d > Cutoffs[i] {
		i++
	}
	h.buckets[i].Add(1)
	h.count.Add(1)
	h.total.Add(int64(d))
}

// HistogramSnapshot is a histogram's counts at one moment: Buckets[i] counts the durations
// in (Cutoffs[i-1], Cutoffs[i]], the last one those over every cutoff.
type HistogramSnapshot struct {
	Buckets [len(Cutoffs) + 1]uint64
	Count   uint64
	Total   time.Duration
}

// Snapshot reads the counts (each exact, not all at the same instant).
func (h *Histogram) Snapshot() HistogramSnapshot {
	var s HistogramSnapshot
	for i := range h.buckets {
		s.Buckets[i] = h.buckets[i].Load()
	}
	s.Count, s.Total = h.count.Load(), time.Duration(h.total.Load())
	return s
}

// merge adds o's counts to s.
func (s *HistogramSnapshot) merge(o *HistogramSnapshot) {
	for i := range s.Buckets {
		s.Buckets[i] += o.Buckets[i]
	}
	s.Count += o.Count
	s.Total += o.Total
}

// cumulative are the Prometheus buckets: upper bound in seconds → count at or below it.
func (s *HistogramSnapshot) cumulative() map[float64]uint64 {
	out := make(map[float64]uint64, len(Cutoffs))
	var n uint64
	for i, c := range Cutoffs {
		n += s.Buckets[i]
		out[c.Seconds()] = n
	}
	return out
}

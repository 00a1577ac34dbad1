package picker

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics counts picks that found no tablet. A nil *Metrics counts nothing.
type Metrics struct {
	misses *prometheus.CounterVec // labels: keyspace, shard, types, cells
}

// MissesMetricName is the counter NewMetrics registers.
const MissesMetricName = "vtdirect_picker_misses_total"

// NewMetrics registers the picker's counters on reg. Registering twice on
// the same registry reuses the first counters.
func NewMetrics(reg prometheus.Registerer) (*Metrics, error) {
	misses := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: MissesMetricName,
		Help: "Tablet picks that found no matching healthy tablet (counted once per wait, and per failed direct pick reported with Miss).",
	}, []string{"keyspace", "shard", "types", "cells"})
	if err := reg.Register(misses); err != nil {
		var already prometheus.AlreadyRegisteredError
		if !errors.As(err, &already) {
			return nil, err
		}
		existing, ok := already.ExistingCollector.(*prometheus.CounterVec)
		if !ok {
			return nil, err
		}
		misses = existing
	}
	return &Metrics{misses: misses}, nil
}

// Miss counts one pick of keyspace/shard with c that found no tablet.
// Callers of the pure Pick report their misses here; Waiter does it itself.
func (m *Metrics) Miss(keyspace, shard string, c *Criteria) {
	if m == nil {
		return
	}
	m.misses.WithLabelValues(keyspace, shard, c.typesLabel, c.cellsLabel).Inc()
}

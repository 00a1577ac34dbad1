package gateway

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/vtdirect/vtdirect/buffer"
	"github.com/vtdirect/vtdirect/failover"
)

// failoverMetrics receives what the failover controller does (failover.Observer).
type failoverMetrics struct {
	recoveries *prometheus.CounterVec
	recovery   *prometheus.HistogramVec
	detection  *prometheus.HistogramVec
	leader     prometheus.Gauge
}

var _ failover.Observer = (*failoverMetrics)(nil)

// durationBuckets suit failovers: from 50ms to a minute.
var durationBuckets = []float64{0.05, 0.1, 0.25, 0.5, 1, 1.5, 2, 3, 5, 10, 30, 60}

func newFailoverMetrics(reg prometheus.Registerer) (*failoverMetrics, error) {
	m := &failoverMetrics{
		recoveries: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "vtdirect_failover_recoveries_total",
			Help: "recoveries run by this gateway, by keyspace, shard, kind (emergency, elect, planned, fix) and result (success, failed, aborted)"},
			[]string{"keyspace", "shard", "kind", "result"}),
		recovery: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "vtdirect_failover_recovery_duration_seconds",
			Help: "how long recoveries took, from the shard lock to the last step", Buckets: durationBuckets}, []string{"kind", "result"}),
		detection: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "vtdirect_failover_detection_duration_seconds",
			Help: "from the last good reading of a shard's primary to the decision to recover it", Buckets: durationBuckets}, []string{"analysis"}),
		leader: prometheus.NewGauge(prometheus.GaugeOpts{Name: "vtdirect_failover_leader", Help: "1 while this gateway leads failover"}),
	}
	for _, c := range []prometheus.Collector{m.recoveries, m.recovery, m.detection, m.leader} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

func (m *failoverMetrics) Detected(_, _ string, code failover.Code, d time.Duration) {
	m.detection.WithLabelValues(string(code)).Observe(d.Seconds())
}

func (m *failoverMetrics) RecoveryDone(keyspace, shard, kind, result string, d time.Duration) {
	m.recoveries.WithLabelValues(keyspace, shard, kind, result).Inc()
	m.recovery.WithLabelValues(kind, result).Observe(d.Seconds())
}

func (m *failoverMetrics) Leader(b bool) {
	if b {
		m.leader.Set(1)
	} else {
		m.leader.Set(0)
	}
}

// failoverCollector exports the analysis and the buffer at scrape time.
type failoverCollector struct {
	ctrl                                 *failover.Controller
	buf                                  *buffer.Buffer
	problem, bufRequests, waiting, holds *prometheus.Desc
	episodes, waitSeconds                *prometheus.Desc
}

func newFailoverCollector(ctrl *failover.Controller, buf *buffer.Buffer) *failoverCollector {
	return &failoverCollector{ctrl: ctrl, buf: buf,
		problem: prometheus.NewDesc("vtdirect_failover_problem", "1 for each problem the latest analysis found, by keyspace, shard, code, tablet and action",
			[]string{"keyspace", "shard", "code", "tablet", "action"}, nil),
		bufRequests: prometheus.NewDesc("vtdirect_buffer_requests_total", "primary requests the buffer held, by keyspace, shard and result (buffered, released, window_exceeded, buffer_full, canceled, interrupted)",
			[]string{"keyspace", "shard", "result"}, nil),
		waiting:     prometheus.NewDesc("vtdirect_buffer_buffered_requests", "requests waiting in the buffer now", nil, nil),
		holds:       prometheus.NewDesc("vtdirect_buffer_buffering", "1 for each shard whose primary traffic is held now", []string{"keyspace", "shard"}, nil),
		episodes:    prometheus.NewDesc("vtdirect_buffer_failovers_total", "times a shard's primary traffic was held", nil, nil),
		waitSeconds: prometheus.NewDesc("vtdirect_buffer_wait_seconds_total", "time requests spent waiting in the buffer", nil, nil),
	}
}

func (c *failoverCollector) Describe(ch chan<- *prometheus.Desc) { prometheus.DescribeByCollect(c, ch) }

func (c *failoverCollector) Collect(ch chan<- prometheus.Metric) {
	if c.ctrl != nil {
		for _, sh := range c.ctrl.Status().Shards {
			for _, p := range sh.Analysis.Problems {
				ch <- prometheus.MustNewConstMetric(c.problem, prometheus.GaugeValue, 1, sh.Keyspace, sh.Shard, string(p.Code), p.Tablet, p.Action.String())
			}
		}
	}
	if c.buf == nil {
		return
	}
	st := c.buf.Stats()
	for k, results := range st.Requests {
		ks, shard, _ := failover.ParseKeyspaceShard(k)
		for r, n := range results {
			ch <- prometheus.MustNewConstMetric(c.bufRequests, prometheus.CounterValue, float64(n), ks, shard, r)
		}
	}
	for _, k := range st.Buffering {
		ks, shard, _ := failover.ParseKeyspaceShard(k)
		ch <- prometheus.MustNewConstMetric(c.holds, prometheus.GaugeValue, 1, ks, shard)
	}
	ch <- prometheus.MustNewConstMetric(c.waiting, prometheus.GaugeValue, float64(st.Waiting))
	ch <- prometheus.MustNewConstMetric(c.episodes, prometheus.CounterValue, float64(st.Episodes))
	ch <- prometheus.MustNewConstMetric(c.waitSeconds, prometheus.CounterValue, st.WaitSeconds)
}

package gateway

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/vtdirect/vtdirect/discovery"
	"github.com/vtdirect/vtdirect/router"
	"github.com/vtdirect/vtdirect/tabletserver"
)

// tabletCollector exports every embedded tablet server's counters at scrape time, labelled by
// tablet, keyspace, shard and type; the per-query path only bumps the tablet server's own
// atomic counters.
type tabletCollector struct {
	reg *discovery.Registry

	serving, lag, topoErr                                *prometheus.Desc
	queries, rows, backendErrors, ioErrors               *prometheus.Desc
	queryTimeouts, maxRows, kills, dials, dialErrors     *prometheus.Desc
	poolCap, poolInUse, poolIdle, poolWaits, poolTimeout *prometheus.Desc
	poolWaitSeconds                                      *prometheus.Desc
	holdOverflows, reclaims, reclaimMisses, steals       *prometheus.Desc
}

var _ prometheus.Collector = (*tabletCollector)(nil)

func newTabletCollector(reg *discovery.Registry) *tabletCollector {
	labels := []string{"tablet", "keyspace", "shard", "type"}
	poolLabels := append(append([]string(nil), labels...), "pool")
	d := func(name, help string, l []string) *prometheus.Desc {
		return prometheus.NewDesc("vtdirect_tablet_"+name, help, l, nil)
	}
	return &tabletCollector{
		reg:             reg,
		serving:         d("serving", "1 when the tablet's last health probe says it serves queries", labels),
		lag:             d("replication_lag_seconds", "replication lag seen by the last health probe", labels),
		topoErr:         prometheus.NewDesc("vtdirect_topo_error", "1 while the topo cannot be read and the gateway serves the last topology it saw", nil, nil),
		queries:         d("queries_total", "commands sent to the tablet's MySQL", labels),
		rows:            d("rows_total", "rows forwarded from the tablet", labels),
		backendErrors:   d("backend_errors_total", "error replies from the tablet's MySQL", labels),
		ioErrors:        d("io_errors_total", "backend connections lost", labels),
		queryTimeouts:   d("query_timeouts_total", "queries killed for exceeding the query timeout", labels),
		maxRows:         d("max_rows_exceeded_total", "queries stopped for returning too many rows", labels),
		kills:           d("kills_total", "KILL QUERY statements sent", labels),
		dials:           d("dials_total", "backend connections opened", labels),
		dialErrors:      d("dial_errors_total", "backend connections that failed to open", labels),
		poolCap:         d("pool_capacity", "connections a pool may hold", poolLabels),
		poolInUse:       d("pool_in_use", "connections in use", poolLabels),
		poolIdle:        d("pool_idle", "idle connections", poolLabels),
		poolWaits:       d("pool_waits_total", "gets that found the pool full", poolLabels),
		poolTimeout:     d("pool_wait_timeouts_total", "gets that gave up waiting", poolLabels),
		poolWaitSeconds: d("pool_wait_seconds_total", "time spent waiting for a connection", poolLabels),
		holdOverflows:   d("reserved_overflows_total", "connections a session had to keep while every reserved slot was taken", labels),
		reclaims:        d("reclaims_total", "statements that found their session's last connection (and its LAST_INSERT_ID, warnings...)", labels),
		reclaimMisses:   d("reclaim_misses_total", "statements whose session's last connection was taken: its results were restored", labels),
		steals:          d("steals_total", "connections handed out while another session's last one (the pool had nothing else)", labels),
	}
}

func (c *tabletCollector) Describe(ch chan<- *prometheus.Desc) {
	prometheus.DescribeByCollect(c, ch)
}

func (c *tabletCollector) Collect(ch chan<- prometheus.Metric) {
	snap := c.reg.Snapshot()
	topoErr := 0.0
	if snap.TopoErr != nil {
		topoErr = 1
	}
	ch <- prometheus.MustNewConstMetric(c.topoErr, prometheus.GaugeValue, topoErr)
	for _, t := range snap.Tablets() {
		l := []string{t.Alias, t.Keyspace, t.Shard, t.Type.String()}
		serving := 0.0
		if t.Health().Serving {
			serving = 1
		}
		ch <- prometheus.MustNewConstMetric(c.serving, prometheus.GaugeValue, serving, l...)
		ch <- prometheus.MustNewConstMetric(c.lag, prometheus.GaugeValue, t.Health().Lag.Seconds(), l...)
		s := t.Server.Stats()
		for _, m := range []struct {
			d *prometheus.Desc
			v uint64
		}{
			{c.queries, s.Queries}, {c.rows, s.Rows}, {c.backendErrors, s.BackendErrors}, {c.ioErrors, s.IOErrors},
			{c.queryTimeouts, s.QueryTimeouts}, {c.maxRows, s.MaxRowsExceeded}, {c.kills, s.Kills},
			{c.dials, s.Dials}, {c.dialErrors, s.DialErrors},
			{c.holdOverflows, s.HoldOverflows}, {c.reclaims, s.Reclaims}, {c.reclaimMisses, s.ReclaimMisses}, {c.steals, s.Steals},
		} {
			ch <- prometheus.MustNewConstMetric(m.d, prometheus.CounterValue, float64(m.v), l...)
		}
		c.pool(ch, l, "data", s.Data)
		c.pool(ch, l, "reserved", s.Reserved)
	}
}

func (c *tabletCollector) pool(ch chan<- prometheus.Metric, l []string, name string, p tabletserver.PoolStats) {
	pl := append(append([]string(nil), l...), name)
	ch <- prometheus.MustNewConstMetric(c.poolCap, prometheus.GaugeValue, float64(p.Capacity), pl...)
	ch <- prometheus.MustNewConstMetric(c.poolInUse, prometheus.GaugeValue, float64(p.InUse), pl...)
	ch <- prometheus.MustNewConstMetric(c.poolIdle, prometheus.GaugeValue, float64(p.Idle), pl...)
	ch <- prometheus.MustNewConstMetric(c.poolWaits, prometheus.CounterValue, float64(p.Waits), pl...)
	ch <- prometheus.MustNewConstMetric(c.poolTimeout, prometheus.CounterValue, float64(p.WaitTimeouts), pl...)
	ch <- prometheus.MustNewConstMetric(c.poolWaitSeconds, prometheus.CounterValue, p.WaitTime.Seconds(), pl...)
}

// sessionCollector exports the router's counts of reserved connections: how often sessions
// had to keep a backend connection, by reason, and how many keep one now.
type sessionCollector struct {
	ex                 *router.Executor
	reservations, held *prometheus.Desc
}

var _ prometheus.Collector = (*sessionCollector)(nil)

func newSessionCollector(ex *router.Executor) *sessionCollector {
	return &sessionCollector{
		ex: ex,
		reservations: prometheus.NewDesc("vtdirect_session_reservations_total",
			"times a session started keeping its backend connection, by the state that made it (transaction, user_variables, temporary_tables, diagnostics...)", []string{"reason"}, nil),
		held: prometheus.NewDesc("vtdirect_sessions_holding_connection", "client sessions keeping a backend connection between statements", nil, nil),
	}
}

func (c *sessionCollector) Describe(ch chan<- *prometheus.Desc) { prometheus.DescribeByCollect(c, ch) }

func (c *sessionCollector) Collect(ch chan<- prometheus.Metric) {
	st := c.ex.Stats()
	for reason, n := range st.Reservations {
		ch <- prometheus.MustNewConstMetric(c.reservations, prometheus.CounterValue, float64(n), reason)
	}
	ch <- prometheus.MustNewConstMetric(c.held, prometheus.GaugeValue, float64(st.Holding))
}

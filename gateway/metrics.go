package gateway

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/vtdirect/vtdirect/discovery"
	"github.com/vtdirect/vtdirect/router"
	"github.com/vtdirect/vtdirect/stats"
)

// Per-tablet metrics carry the keyspace, shard and tablet dimensions; --drop-dimensions and
// --stats-combine-dimensions fold them (stats.Folding). Names follow vttablet's where it has
// a counterpart (vttablet_conn_pool_*, vttablet_transaction_pool_*, vttablet_mysql,
// vttablet_kills), vtdirect_tablet_* otherwise.
var (
	tabletDims = []string{"keyspace", "shard", "tablet"}
	killDims   = []string{"keyspace", "shard", "tablet", "query_type"}
	serverDims = []string{"server", "user"}

	mServing   = &stats.Desc{Prefix: "vtdirect", Var: "TabletServing", Kind: stats.Gauge, Labels: tabletDims, Help: "1 when the tablet's last health probe says it serves queries (folded: the tablets serving)"}
	mLag       = &stats.Desc{Prefix: "vtdirect", Var: "TabletReplicationLagSeconds", Kind: stats.Gauge, Labels: tabletDims, Help: "replication lag the last health probe saw"}
	mTablets   = &stats.Desc{Prefix: "vtdirect", Var: "Tablets", Kind: stats.Gauge, Labels: []string{"keyspace", "shard", "tablet", "type"}, Help: "1 per tablet served, by type (folded: the number of tablets)"}
	mConnCap   = &stats.Desc{Prefix: "vttablet", Var: "ConnPoolCapacity", Kind: stats.Gauge, Labels: tabletDims, Help: "the tablet's cap on statements over connections no session keeps (--queryserver-config-pool-size)"}
	mConnUse   = &stats.Desc{Prefix: "vttablet", Var: "ConnPoolInUse", Kind: stats.Gauge, Labels: tabletDims, Help: "connections running a statement for the tablet"}
	mConnAvail = &stats.Desc{Prefix: "vttablet", Var: "ConnPoolAvailable", Kind: stats.Gauge, Labels: tabletDims, Help: "statement slots of the tablet free now"}
	mConnGet   = &stats.Desc{Prefix: "vttablet", Var: "ConnPoolGet", Kind: stats.Counter, Labels: tabletDims, Help: "connections handed out for statements"}
	mConnWait  = &stats.Desc{Prefix: "vttablet", Var: "ConnPoolWaitCount", Kind: stats.Counter, Labels: tabletDims, Help: "statements that waited for a connection"}
	mConnWaitT = &stats.Desc{Prefix: "vttablet", Var: "ConnPoolWaitTime", Kind: stats.Counter, Labels: tabletDims, Help: "seconds waited for connections (both caps and the server's)"}
	mConnTO    = &stats.Desc{Prefix: "vtdirect", Var: "TabletPoolWaitTimeoutsTotal", Kind: stats.Counter, Labels: tabletDims, Help: "statements that gave up waiting for a connection (error 1203)"}
	mTxCap     = &stats.Desc{Prefix: "vttablet", Var: "TransactionPoolCapacity", Kind: stats.Gauge, Labels: tabletDims, Help: "the tablet's cap on connections sessions keep (--queryserver-config-transaction-cap)"}
	mTxUse     = &stats.Desc{Prefix: "vttablet", Var: "TransactionPoolInUse", Kind: stats.Gauge, Labels: tabletDims, Help: "connections the tablet's sessions keep (transactions, connection state)"}
	mTxAvail   = &stats.Desc{Prefix: "vttablet", Var: "TransactionPoolAvailable", Kind: stats.Gauge, Labels: tabletDims, Help: "reserved slots of the tablet free now"}
	mTxGet     = &stats.Desc{Prefix: "vttablet", Var: "TransactionPoolGet", Kind: stats.Counter, Labels: tabletDims, Help: "connections handed out to be kept"}
	mTxWait    = &stats.Desc{Prefix: "vttablet", Var: "TransactionPoolWaitCount", Kind: stats.Counter, Labels: tabletDims, Help: "reserved connections waited for"}
	mMysql     = &stats.Desc{Prefix: "vttablet", Var: "Mysql", Kind: stats.Timing, Labels: tabletDims, Help: "time of the commands sent to the tablet's MySQL (seconds)"}
	mKills     = &stats.Desc{Prefix: "vttablet", Var: "Kills", Kind: stats.Counter, Labels: killDims, Help: "queries killed (KILL QUERY for a timeout or a row limit) and transactions killed (timeout, tablet gone)"}
	mRows      = &stats.Desc{Prefix: "vtdirect", Var: "TabletRowsTotal", Kind: stats.Counter, Labels: tabletDims, Help: "rows forwarded from the tablet"}
	mBackErr   = &stats.Desc{Prefix: "vtdirect", Var: "TabletBackendErrorsTotal", Kind: stats.Counter, Labels: tabletDims, Help: "error replies from the tablet's MySQL"}
	mIOErr     = &stats.Desc{Prefix: "vtdirect", Var: "TabletIoErrorsTotal", Kind: stats.Counter, Labels: tabletDims, Help: "backend connections lost"}
	mTimeouts  = &stats.Desc{Prefix: "vtdirect", Var: "TabletQueryTimeoutsTotal", Kind: stats.Counter, Labels: tabletDims, Help: "queries killed for exceeding the query timeout"}
	mMaxRows   = &stats.Desc{Prefix: "vtdirect", Var: "TabletMaxRowsExceededTotal", Kind: stats.Counter, Labels: tabletDims, Help: "queries stopped for returning too many rows"}
	mDials     = &stats.Desc{Prefix: "vtdirect", Var: "TabletDialsTotal", Kind: stats.Counter, Labels: tabletDims, Help: "backend connections opened for the tablet"}
	mDialErr   = &stats.Desc{Prefix: "vtdirect", Var: "TabletDialErrorsTotal", Kind: stats.Counter, Labels: tabletDims, Help: "backend connections that failed to open"}
	mOverflow  = &stats.Desc{Prefix: "vtdirect", Var: "TabletReservedOverflowsTotal", Kind: stats.Counter, Labels: tabletDims, Help: "connections a session had to keep while every reserved slot was taken"}
	mReclaim   = &stats.Desc{Prefix: "vtdirect", Var: "TabletReclaimsTotal", Kind: stats.Counter, Labels: tabletDims, Help: "statements that found their session's last connection (and its LAST_INSERT_ID, warnings...)"}
	mReclaimX  = &stats.Desc{Prefix: "vtdirect", Var: "TabletReclaimMissesTotal", Kind: stats.Counter, Labels: tabletDims, Help: "statements whose session's last connection was taken: its results were restored"}
	mSteals    = &stats.Desc{Prefix: "vtdirect", Var: "TabletStealsTotal", Kind: stats.Counter, Labels: tabletDims, Help: "connections handed out while another session's last one (nothing else fit)"}

	mBeMax    = &stats.Desc{Prefix: "vtdirect", Var: "BackendMaxConnections", Kind: stats.Gauge, Labels: serverDims, Help: "connections a MySQL server may have from the gateway as a user, shared by its tablets (max_connections)"}
	mBeUse    = &stats.Desc{Prefix: "vtdirect", Var: "BackendConnectionsInUse", Kind: stats.Gauge, Labels: serverDims, Help: "backend connections handed out"}
	mBeIdle   = &stats.Desc{Prefix: "vtdirect", Var: "BackendConnectionsIdle", Kind: stats.Gauge, Labels: serverDims, Help: "idle backend connections"}
	mBeTabs   = &stats.Desc{Prefix: "vtdirect", Var: "BackendTablets", Kind: stats.Gauge, Labels: serverDims, Help: "tablets sharing the server's connections"}
	mBeWaits  = &stats.Desc{Prefix: "vtdirect", Var: "BackendWaitsTotal", Kind: stats.Counter, Labels: serverDims, Help: "gets that found the server's max_connections reached"}
	mBeTO     = &stats.Desc{Prefix: "vtdirect", Var: "BackendWaitTimeoutsTotal", Kind: stats.Counter, Labels: serverDims, Help: "gets that gave up waiting for one of the server's connections"}
	mBeProbes = &stats.Desc{Prefix: "vtdirect", Var: "BackendProbesTotal", Kind: stats.Counter, Labels: serverDims, Help: "health probes of the server (one per interval, for all its tablets)"}
	mBeProbeE = &stats.Desc{Prefix: "vtdirect", Var: "BackendProbeErrorsTotal", Kind: stats.Counter, Labels: serverDims, Help: "health probes that could not reach the server"}
	mBeSwitch = &stats.Desc{Prefix: "vtdirect", Var: "BackendSchemaSwitchesTotal", Kind: stats.Counter, Labels: serverDims, Help: "connections switched to another tablet's database"}
	mBeSwAln  = &stats.Desc{Prefix: "vtdirect", Var: "BackendSchemaSwitchesAloneTotal", Kind: stats.Counter, Labels: serverDims, Help: "schema switches sent alone, their OK awaited before a statement that could reach another database"}
	mBeDials  = &stats.Desc{Prefix: "vtdirect", Var: "BackendDialsTotal", Kind: stats.Counter, Labels: serverDims, Help: "connections opened to the server"}
	mTopoErr  = &stats.Desc{Prefix: "vtdirect", Var: "TopoError", Kind: stats.Gauge, Help: "1 while the topo cannot be read and the gateway serves the last topology it saw"}
)

// tabletSource adds every tablet's and backend's numbers to a scrape; the per-query path only
// bumps the tablet servers' own atomic counters.
type tabletSource struct{ reg *discovery.Registry }

var _ stats.Source = tabletSource{}

func (src tabletSource) Collect(s *stats.Scrape) {
	snap := src.reg.Snapshot()
	topoErr := 0.0
	if snap.TopoErr != nil {
		topoErr = 1
	}
	s.Add(mTopoErr, topoErr)
	for _, t := range snap.Tablets() {
		l := []string{t.Keyspace, t.Shard, t.Alias}
		h := t.Health()
		serving := 0.0
		if h.Serving {
			serving = 1
		}
		s.Add(mServing, serving, l...)
		s.Add(mLag, h.Lag.Seconds(), l...)
		s.Add(mTablets, 1, t.Keyspace, t.Shard, t.Alias, t.Type.String())
		st := t.Server.Stats()
		d, r := st.Data, st.Reserved
		for _, m := range []struct {
			d *stats.Desc
			v float64
		}{
			{mConnCap, float64(d.Capacity)}, {mConnUse, float64(d.InUse)}, {mConnAvail, float64(max(d.Capacity-d.InUse, 0))},
			{mConnGet, float64(d.Gets)}, {mConnWait, float64(d.Waits)}, {mConnWaitT, d.WaitTime.Seconds()},
			{mConnTO, float64(d.WaitTimeouts + r.WaitTimeouts)},
			{mTxCap, float64(r.Capacity)}, {mTxUse, float64(r.InUse)}, {mTxAvail, float64(max(r.Capacity-r.InUse, 0))},
			{mTxGet, float64(r.Gets)}, {mTxWait, float64(r.Waits)},
			{mRows, float64(st.Rows)}, {mBackErr, float64(st.BackendErrors)}, {mIOErr, float64(st.IOErrors)},
			{mTimeouts, float64(st.QueryTimeouts)}, {mMaxRows, float64(st.MaxRowsExceeded)},
			{mDials, float64(st.Dials)}, {mDialErr, float64(st.DialErrors)},
			{mOverflow, float64(st.HoldOverflows)}, {mReclaim, float64(st.Reclaims)}, {mReclaimX, float64(st.ReclaimMisses)},
			{mSteals, float64(st.Steals)},
		} {
			s.Add(m.d, m.v, l...)
		}
		s.Add(mKills, float64(st.Kills), t.Keyspace, t.Shard, t.Alias, "Queries")
		s.Add(mKills, float64(d.Killed), t.Keyspace, t.Shard, t.Alias, "Transactions")
		s.AddHistogram(mMysql, st.QueryTime, l...)
	}
	for _, b := range src.reg.Backends().All() {
		st := b.Stats()
		l := []string{st.Key.Addr, st.Key.User}
		s.Add(mBeMax, float64(st.MaxConnections), l...)
		s.Add(mBeUse, float64(st.InUse), l...)
		s.Add(mBeIdle, float64(st.Idle), l...)
		s.Add(mBeTabs, float64(st.Tablets), l...)
		s.Add(mBeWaits, float64(st.Waits), l...)
		s.Add(mBeTO, float64(st.WaitTimeout), l...)
		s.Add(mBeProbes, float64(st.Probes), l...)
		s.Add(mBeProbeE, float64(st.ProbeErrs), l...)
		s.Add(mBeSwitch, float64(st.Switches), l...)
		s.Add(mBeSwAln, float64(st.SwitchesAlone), l...)
		s.Add(mBeDials, float64(st.Dials), l...)
	}
}

// sessionCollector exports the router's counts of reserved connections: how often sessions
// had to keep a backend connection, by reason, and how many keep one now.
type sessionCollector struct {
	ex                         *router.Executor
	reservations, held, xaKept *prometheus.Desc
}

var _ prometheus.Collector = (*sessionCollector)(nil)

func newSessionCollector(ex *router.Executor) *sessionCollector {
	return &sessionCollector{
		ex: ex,
		reservations: prometheus.NewDesc("vtdirect_session_reservations_total",
			"times a session started keeping its backend connection, by the state that made it (transaction, user_variables, temporary_tables, diagnostics...)", []string{"reason"}, nil),
		held: prometheus.NewDesc("vtdirect_sessions_holding_connection", "client sessions keeping a backend connection between statements", nil, nil),
		xaKept: prometheus.NewDesc("vtdirect_xa_prepared_branches", "prepared XA branches the gateway remembers with the user that prepared them (XA ownership); "+
			"ones ended outside the gateway stay counted", nil, nil),
	}
}

func (c *sessionCollector) Describe(ch chan<- *prometheus.Desc) { prometheus.DescribeByCollect(c, ch) }

func (c *sessionCollector) Collect(ch chan<- prometheus.Metric) {
	st := c.ex.Stats()
	for reason, n := range st.Reservations {
		ch <- prometheus.MustNewConstMetric(c.reservations, prometheus.CounterValue, float64(n), reason)
	}
	ch <- prometheus.MustNewConstMetric(c.held, prometheus.GaugeValue, float64(st.Holding))
	ch <- prometheus.MustNewConstMetric(c.xaKept, prometheus.GaugeValue, float64(st.XAPrepared))
}

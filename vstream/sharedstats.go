package vstream

// Metrics of the shared binlog dumps, by MariaDB server (host:port): the Manager is a
// stats.Source, registered by the gateway next to the tablets' metrics.

import (
	"sync/atomic"

	"github.com/vtdirect/vtdirect/stats"
)

var (
	serverDim = []string{"server"}

	mSharedDumps   = &stats.Desc{Prefix: "vtdirect", Var: "VstreamSharedDumps", Kind: stats.Gauge, Labels: serverDim, Help: "1 while the server's shared binlog dump runs (folded: the shared dumps)"}
	mSharedSubs    = &stats.Desc{Prefix: "vtdirect", Var: "VstreamSharedDumpSubscribers", Kind: stats.Gauge, Labels: serverDim, Help: "streams reading the server's shared binlog dump"}
	mOwnDumps      = &stats.Desc{Prefix: "vtdirect", Var: "VstreamOwnDumps", Kind: stats.Gauge, Labels: serverDim, Help: "streams of the server reading a binlog dump of their own (detached from the shared one, or not yet joined), with the shared dumps on"}
	mDetaches      = &stats.Desc{Prefix: "vtdirect", Var: "VstreamSharedDumpDetachesTotal", Kind: stats.Counter, Labels: serverDim, Help: "streams that fell behind the shared dump and went on with a dump of their own"}
	mRejoins       = &stats.Desc{Prefix: "vtdirect", Var: "VstreamSharedDumpRejoinsTotal", Kind: stats.Counter, Labels: serverDim, Help: "streams that caught up on a dump of their own and went back to the shared dump"}
	mRejoinFails   = &stats.Desc{Prefix: "vtdirect", Var: "VstreamSharedDumpRejoinFailuresTotal", Kind: stats.Counter, Labels: serverDim, Help: "rejoins given up (tried again later): the stream's dump passed the shared one, or was too far behind it"}
	mReconnects    = &stats.Desc{Prefix: "vtdirect", Var: "VstreamSharedDumpReconnectsTotal", Kind: stats.Counter, Labels: serverDim, Help: "shared dumps that failed and were started again where they were, unseen by their streams"}
	mJoins         = &stats.Desc{Prefix: "vtdirect", Var: "VstreamSharedDumpJoinsTotal", Kind: stats.Counter, Labels: serverDim, Help: "streams that started on the server's running shared dump (joined at its position)"}
	mJoinTimeouts  = &stats.Desc{Prefix: "vtdirect", Var: "VstreamSharedDumpJoinTimeoutsTotal", Kind: stats.Counter, Labels: serverDim, Help: "streams that waited for the shared dump to reach their position, in vain, and started a dump of their own"}
	mIdleRestarts  = &stats.Desc{Prefix: "vtdirect", Var: "VstreamDetachedDumpRestartsTotal", Kind: stats.Counter, Labels: serverDim, Help: "dumps of detached streams closed while unread for Config.DetachedDumpIdle, and started again when the stream got to them"}
	sharedCounters = []struct {
		d   *stats.Desc
		get func(*hubCounters) *atomic.Int64
	}{
		{mDetaches, func(c *hubCounters) *atomic.Int64 { return &c.detaches }},
		{mRejoins, func(c *hubCounters) *atomic.Int64 { return &c.rejoins }},
		{mRejoinFails, func(c *hubCounters) *atomic.Int64 { return &c.rejoinFailures }},
		{mReconnects, func(c *hubCounters) *atomic.Int64 { return &c.reconnects }},
		{mJoins, func(c *hubCounters) *atomic.Int64 { return &c.joins }},
		{mJoinTimeouts, func(c *hubCounters) *atomic.Int64 { return &c.joinTimeouts }},
		{mIdleRestarts, func(c *hubCounters) *atomic.Int64 { return &c.restarts }},
	}
)

// hubCounters are one server's counters, kept across its hubs.
type hubCounters struct {
	detaches, rejoins, rejoinFailures, reconnects, restarts, joins, joinTimeouts atomic.Int64
}

// counters returns addr's counters, made on first use.
func (set *hubSet) counters(addr string) *hubCounters {
	set.statsMu.Lock()
	defer set.statsMu.Unlock()
	c := set.stats[addr]
	if c == nil {
		c = &hubCounters{}
		set.stats[addr] = c
	}
	return c
}

// states returns the state of every subscription of addr's streams.
func (set *hubSet) states(addr string) []subState {
	set.mu.Lock()
	subs := make([]*subscription, 0, len(set.subs))
	for s := range set.subs {
		if s.addr == addr {
			subs = append(subs, s)
		}
	}
	set.mu.Unlock()
	out := make([]subState, 0, len(subs))
	for _, s := range subs {
		s.mu.Lock()
		if !s.closed {
			out = append(out, s.state)
		}
		s.mu.Unlock()
	}
	return out
}

// Collect adds the shared dumps' metrics to a scrape (stats.Source).
func (m *Manager) Collect(sc *stats.Scrape) {
	set := m.hubs
	addrs := map[string]bool{}
	set.statsMu.Lock()
	for a := range set.stats {
		addrs[a] = true
	}
	set.statsMu.Unlock()
	set.mu.Lock()
	for a := range set.hubs {
		addrs[a] = true
	}
	for s := range set.subs {
		addrs[s.addr] = true
	}
	set.mu.Unlock()
	for a := range addrs {
		dumps := 0.0
		if set.lookup(a) != nil {
			dumps = 1
		}
		sc.Add(mSharedDumps, dumps, a)
		shared, own := 0, 0
		for _, st := range set.states(a) {
			switch st {
			case subShared:
				shared++
			case subWaiting:
			default:
				own++ // detached, on its own dump, or rejoining (still reading its own)
			}
		}
		sc.Add(mSharedSubs, float64(shared), a)
		sc.Add(mOwnDumps, float64(own), a)
		c := set.counters(a)
		for _, k := range sharedCounters {
			sc.Add(k.d, float64(k.get(c).Load()), a)
		}
	}
}

var _ stats.Source = (*Manager)(nil)

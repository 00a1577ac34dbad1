package tabletserver

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-mysql-org/go-mysql/mysql"
)

// errResetUnsupported asks the pool for a fresh connection: the server cannot reset one.
var errResetUnsupported = errors.New("COM_RESET_CONNECTION not supported")

// Want is what a connection handed out must be.
type Want struct {
	// Caps are the reply-format capabilities of the client it will serve (FormatCaps of the
	// client's negotiated flags): the connection negotiated the same.
	Caps uint32
	// Settings are the session's; nil or empty Key: the server's defaults.
	Settings *Settings
	// Hold: the session will keep the connection after the statement (a transaction, session
	// state): it counts against TxPoolSize from the start.
	Hold bool
}

// Slot kinds of a connection handed out.
const (
	slotRun  uint8 = iota + 1 // one statement at a time: the tablet's PoolSize
	slotHold                  // held by a session between statements: the tablet's TxPoolSize
)

// idleScan bounds how many idle connections (the most recently used first) a hand-out looks
// at for the best fit, so that a big shared pool costs the same per statement as a small one.
const idleScan = 64

// pool is one backend's connections, shared by every tablet on it: one LIFO idle list, and
// three caps. The backend's MaxConnections bounds the connections open (idle, in use or being
// dialed); each tablet's PoolSize bounds its statements on connections nobody holds, and its
// TxPoolSize the connections its sessions keep between statements (a transaction, connection
// state): sub-quotas of the backend's. An idle connection remembers the schema it is on, its
// settings, and the session that last released it (its tag): the pool hands it to others only
// when nothing else fits, so that session's next statement usually finds its per-connection
// results (LAST_INSERT_ID(), warnings...) where they are.
type pool struct {
	be        *Backend
	idleTicks atomic.Uint64 // idle connections older than this many maintenance ticks are closed
	tick      atomic.Uint64
	conns     *quota        // connections handed out; MaxConnections
	done      chan struct{} // closed by close

	mu       sync.Mutex // guards idle, untagged, inUse, dialing, closed and the conns' idx, inIdle, since, txStart, idleTick, tag, slot, ts
	idle     []*Conn    // free connections; the most recently used last
	untagged int        // the connections in idle with no tag: when none, and below the limit, take dials without a scan
	inUse    []*Conn    // connections handed out
	dialing  int
	closed   bool

	stats poolCounters
}

type poolCounters struct {
	connWaits, connWaitTimeouts, idleClosed, switches, switchesAlone atomic.Uint64
}

func newPool(b *Backend) *pool {
	cfg := b.cfg.Load()
	p := &pool{be: b, conns: newQuota(cfg.maxConnections()), done: make(chan struct{})}
	p.setIdleTimeout(cfg.IdleTimeout)
	return p
}

func (p *pool) setIdleTimeout(d time.Duration) {
	p.idleTicks.Store(uint64(d/p.be.cfg.Load().tick()) + 1)
}

func (p *pool) setLimit(n int) { p.conns.setLimit(n) }

// get hands out a connection of tablet t as want says.
func (p *pool) get(ctx context.Context, t *TabletServer, want Want) (*Conn, error) {
	slot := slotRun
	if want.Hold {
		slot = slotHold
	}
	if err := t.acquire(ctx, slot); err != nil {
		return nil, err
	}
	if err := p.acquireConn(ctx, t); err != nil {
		t.releaseSlot(slot)
		return nil, err
	}
	for attempt := 0; ; attempt++ {
		c, err := p.take(ctx, t, want, slot)
		if err != nil {
			t.releaseSlot(slot)
			p.conns.release()
			return nil, err
		}
		err = c.applySettings(ctx, want.Settings)
		if err == nil {
			return c, nil
		}
		var me *mysql.MyError
		if errors.As(err, &me) && !c.broken {
			// A SET the server refused: the connection is fine, the client gets the error.
			c.Release(0)
			return nil, err
		}
		// The connection broke (or cannot be reset): drop it, keep the slots, try a fresh one.
		p.drop(c)
		if attempt > 0 || !errors.Is(err, errResetUnsupported) && !c.broken {
			t.releaseSlot(slot)
			p.conns.release()
			return nil, err
		}
	}
}

// acquireConn takes one of the backend's connections for tablet t, waiting up to t's
// PoolWaitTimeout.
func (p *pool) acquireConn(ctx context.Context, t *TabletServer) error {
	if p.conns.tryAcquire() {
		return nil
	}
	p.stats.connWaits.Add(1)
	wait := t.config().PoolWaitTimeout
	start := time.Now()
	res, _ := p.conns.acquire(ctx.Done(), start.Add(wait))
	t.stats.waitNanos.Add(uint64(time.Since(start)))
	switch res {
	case quotaOK:
		return nil
	case quotaTimeout:
		p.stats.connWaitTimeouts.Add(1)
		limit, _ := p.conns.counts()
		return errBackendExhausted(t.alias, p.be.key, limit, wait)
	case quotaCanceled:
		return errCanceled(t.alias, ctx.Err())
	}
	return errClosed(t.alias)
}

// reclaim hands out c again if it is idle and nobody had it since its lease: the connection
// the session released last, holding the session's per-connection results.
func (p *pool) reclaim(ctx context.Context, t *TabletServer, c *Conn, lease uint64, want Want) (*Conn, bool) {
	p.mu.Lock()
	ok := !p.closed && c.state.Load() == connIdle && c.lease.Load() == lease && c.caps == want.Caps &&
		!c.serverGone(time.Now())
	p.mu.Unlock()
	if !ok {
		t.stats.reclaimMisses.Add(1)
		return nil, false
	}
	slot := slotRun
	if want.Hold {
		slot = slotHold
	}
	if err := t.acquire(ctx, slot); err != nil {
		return nil, false
	}
	if err := p.acquireConn(ctx, t); err != nil {
		t.releaseSlot(slot)
		return nil, false
	}
	p.mu.Lock()
	i := indexOf(p.idle, c)
	if p.closed || t.isClosed() || i < 0 || c.lease.Load() != lease {
		p.mu.Unlock()
		t.releaseSlot(slot)
		p.conns.release()
		t.stats.reclaimMisses.Add(1)
		return nil, false
	}
	p.removeIdle(i)
	p.handOut(c, t, slot)
	p.mu.Unlock()
	if err := c.applySettings(ctx, want.Settings); err != nil {
		c.Close()
		return nil, false
	}
	t.stats.reclaims.Add(1)
	return c, true
}

func indexOf(list []*Conn, c *Conn) int {
	for i := len(list) - 1; i >= 0; i-- {
		if list[i] == c {
			return i
		}
	}
	return -1
}

// Preference points of an idle connection for a hand-out.
const (
	fitUntagged = 4 // no session may want it back
	fitSettings = 2 // has the session's settings: no reset and SETs
	fitSchema   = 1 // is on the tablet's schema: no switch
	fitPerfect  = fitUntagged | fitSettings | fitSchema
)

// take hands out the best idle connection for want, or dials one (pick chooses).
func (p *pool) take(ctx context.Context, t *TabletServer, want Want, slot uint8) (*Conn, error) {
	p.mu.Lock()
	if p.closed || t.isClosed() {
		p.mu.Unlock()
		return nil, errClosed(t.alias)
	}
	c, closing := p.pick(t, want, time.Now())
	if c != nil {
		p.handOut(c, t, slot)
		p.mu.Unlock()
		for _, v := range closing {
			v.closeNet()
		}
		return c, nil
	}
	p.dialing++
	p.mu.Unlock()
	for _, v := range closing {
		v.closeNet()
	}
	c, err := p.be.dial(ctx, t, want.Caps)
	p.mu.Lock()
	p.dialing--
	if err != nil {
		p.mu.Unlock()
		return nil, err
	}
	c.pool = p
	if p.closed || t.isClosed() {
		p.mu.Unlock()
		c.nc.Close()
		return nil, errClosed(t.alias)
	}
	p.handOut(c, t, slot)
	p.mu.Unlock()
	return c, nil
}

// pick is take's choice among the idle connections, p.mu held: the one to hand out, taken off
// the idle list, or nil for a new connection. Preference: untagged, then with the same
// settings, then on the same schema; a new connection while below the limit rather than
// another session's last one (tagged); at the limit, room made by closing an idle connection
// of other capabilities. closing are the idle connections it took off to be closed (after
// p.mu): those the server has closed for idleness, which are never handed out (the scan drops
// those it meets, the janitor the others: closeIdle), and those closed for room.
func (p *pool) pick(t *TabletServer, want Want, now time.Time) (c *Conn, closing []*Conn) {
	limit, _ := p.conns.counts()
	if p.untagged == 0 && len(p.idle)+len(p.inUse)+p.dialing < limit {
		// Every idle connection is some session's last one and there is room for a new
		// connection: what the scan would find is not handed out.
		return nil, nil
	}
	key := want.Settings.key()
	var bestConn *Conn
	best, bestScore := -1, -1
	for i, n := len(p.idle)-1, 0; i >= 0 && n < idleScan && bestScore < fitPerfect; i, n = i-1, n+1 {
		c := p.idle[i]
		if c.serverGone(now) {
			closing = append(closing, c)
			continue
		}
		if c.caps != want.Caps {
			continue
		}
		score := 0
		if c.settingsKey == key {
			score |= fitSettings
		}
		if c.schema == t.dbName {
			score |= fitSchema
		}
		if c.tag == 0 {
			score |= fitUntagged
		}
		if score > bestScore {
			bestConn, bestScore = c, score
		}
	}
	if len(closing) > 0 {
		for _, c := range closing {
			p.leaveIdle(c)
		}
		p.idle = slices.DeleteFunc(p.idle, func(c *Conn) bool { return slices.Contains(closing, c) })
	}
	if bestConn != nil {
		best = indexOf(p.idle, bestConn)
	}
	total := len(p.idle) + len(p.inUse) + p.dialing
	if best >= 0 && (bestScore&fitUntagged != 0 || total >= limit) {
		c := p.idle[best]
		if c.tag != 0 {
			t.stats.steals.Add(1)
		}
		p.removeIdle(best)
		return c, closing
	}
	for total >= limit && len(p.idle) > 0 {
		// Only connections of other capabilities are idle (or too many: the limit shrank):
		// close the oldest for room.
		closing = append(closing, p.idle[0])
		p.removeIdle(0)
		total--
	}
	return nil, closing
}

// serverGone reports an idle connection its server has closed by now: idle longer than the
// wait_timeout its session gave it (with a margin for the clocks). p.mu held.
func (c *Conn) serverGone(now time.Time) bool {
	w := c.serverWait
	if w <= 0 {
		w = c.be.defaultWait(c.caps)
	}
	if w <= 0 {
		return false
	}
	margin := min(w/4, time.Second)
	return now.Sub(c.idleSince) > w-margin
}

// pushIdle puts c on the idle list, the most recently used, tagged with the session that
// released it. p.mu held.
func (p *pool) pushIdle(c *Conn, tag uint64) {
	c.tag = tag
	c.inIdle = true
	if tag == 0 {
		p.untagged++
	}
	p.idle = append(p.idle, c)
}

// leaveIdle accounts for c leaving the idle list (its caller takes it out). p.mu held.
func (p *pool) leaveIdle(c *Conn) {
	c.inIdle = false
	if c.tag == 0 {
		p.untagged--
	}
}

// clearIdle empties the idle list and returns what it held. p.mu held.
func (p *pool) clearIdle() []*Conn {
	old := p.idle
	for _, c := range old {
		c.inIdle = false
	}
	p.idle, p.untagged = nil, 0
	return old
}

// removeIdle takes idle[i] out, keeping the age order for the janitor. p.mu held.
func (p *pool) removeIdle(i int) {
	p.leaveIdle(p.idle[i])
	n := len(p.idle)
	copy(p.idle[i:], p.idle[i+1:])
	p.idle[n-1] = nil
	p.idle = p.idle[:n-1]
}

// handOut marks c in use by tablet t in a slot, under a new lease. p.mu held.
func (p *pool) handOut(c *Conn, t *TabletServer, slot uint8) {
	cfg := t.config()
	c.ts = t
	c.wantSchema = t.dbName
	c.queryTimeout = cfg.QueryTimeout
	c.maxRows = uint64(cfg.MaxResultRows)
	c.slot = slot
	c.lease.Add(1) // after the writes above: a KillQueryOnLease that sees the lease sees them
	c.state.Store(connInUse)
	c.tag = 0
	c.txStart = time.Time{}
	c.idx = len(p.inUse)
	p.inUse = append(p.inUse, c)
}

// removeInUse takes c out of inUse. p.mu held.
func (p *pool) removeInUse(c *Conn) {
	last := len(p.inUse) - 1
	if c.idx > last || p.inUse[c.idx] != c {
		return
	}
	p.inUse[c.idx] = p.inUse[last]
	p.inUse[c.idx].idx = c.idx
	p.inUse[last] = nil
	p.inUse = p.inUse[:last]
}

// holdConn moves a connection handed out for one statement to its tablet's hold cap. It never
// blocks: when no hold slot is free the connection keeps its run slot (an overflow, counted),
// because the state that makes the session keep it already exists.
func (p *pool) holdConn(c *Conn) bool {
	if c.slot != slotRun {
		return true
	}
	t := c.ts
	if !t.hold.tryAcquire() {
		t.stats.holdOverflows.Add(1)
		return false
	}
	p.mu.Lock()
	c.slot = slotHold
	p.mu.Unlock()
	t.run.release()
	return true
}

// freeSlots gives back what a connection handed out held: its tablet's slot and the backend's
// unit.
func (p *pool) freeSlots(t *TabletServer, slot uint8) {
	t.releaseSlot(slot)
	p.conns.release()
}

// put returns a connection handed out: to the idle list, tagged with its last session, when
// it can serve again, else closed.
func (p *pool) put(c *Conn, tag uint64) {
	if p == nil || !c.state.CompareAndSwap(connInUse, connIdle) {
		return // closed or killed: its slot is already free
	}
	// It stays on its database: the next tablet to take it switches it if need be (schema.go).
	reuse := !c.broken && !c.discard && c.poolable()
	slot, t := c.slot, c.ts // once idle, another goroutine may hand c out again
	p.mu.Lock()
	p.removeInUse(c)
	if p.closed || !reuse {
		p.mu.Unlock()
		c.closeNet()
	} else {
		c.idleTick = p.tick.Load()
		c.idleSince = time.Now()
		p.pushIdle(c, tag)
		p.mu.Unlock()
	}
	p.freeSlots(t, slot)
}

// untag forgets c's last session, if c is idle and nobody had it since lease. (An idle
// connection the janitor closed keeps its state and lease: inIdle tells.)
func (p *pool) untag(c *Conn, lease uint64) {
	p.mu.Lock()
	if c.inIdle && c.tag != 0 && c.state.Load() == connIdle && c.lease.Load() == lease {
		c.tag = 0
		p.untagged++
	}
	p.mu.Unlock()
}

// poolable reports whether the session state that replies showed lets another client use the
// connection: not inside a transaction (as far as the latest status tells: after an ERR that
// followed a status showing one, the transaction may still be open). Autocommit off is a
// setting like any other, which the settings key keeps from sessions that do not have it;
// autocommit off that the key does not say (nothing the gateway tracked set it) keeps the
// connection out of the pool.
func (c *Conn) poolable() bool {
	if !c.statusSeen {
		return true // fresh: the server's defaults
	}
	if c.lastStatus&mysql.SERVER_STATUS_IN_TRANS != 0 {
		return false
	}
	return c.lastStatus&mysql.SERVER_STATUS_AUTOCOMMIT != 0 || strings.Contains(c.settingsKey, "autocommit=OFF")
}

// closeConn closes a connection handed out and frees its slots.
func (p *pool) closeConn(c *Conn) {
	if p == nil {
		c.closeNet()
		return
	}
	if !c.state.CompareAndSwap(connInUse, connClosed) {
		return
	}
	p.mu.Lock()
	p.removeInUse(c)
	slot, t := c.slot, c.ts
	p.mu.Unlock()
	c.closeNet()
	p.freeSlots(t, slot)
}

// drop closes a connection that take handed out, keeping its slots for the caller.
func (p *pool) drop(c *Conn) {
	c.state.Store(connClosed)
	p.mu.Lock()
	p.removeInUse(c)
	p.mu.Unlock()
	c.closeNet()
}

// kill takes a connection away from its holder (transaction timeout, tablet closing): it is
// closed, which rolls its transaction back, and its slots are freed. The holder learns it from
// Killed or from the error of its next call.
func (p *pool) kill(c *Conn, why *mysql.MyError) bool {
	c.killedErr.Store(why)
	if !c.state.CompareAndSwap(connInUse, connKilled) {
		return false
	}
	p.mu.Lock()
	p.removeInUse(c)
	slot, t := c.slot, c.ts
	p.mu.Unlock()
	c.closeNet()
	t.stats.killed.Add(1)
	p.freeSlots(t, slot)
	return true
}

// expiredConn is a connection the transaction killer saw in a transaction longer than its
// tablet's timeout, under lease.
type expiredConn struct {
	c       *Conn
	ts      *TabletServer
	lease   uint64
	timeout time.Duration
}

// expired returns the connections whose transaction is older than their tablet's TxTimeout.
func (p *pool) expired(now time.Time) []expiredConn {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []expiredConn
	for _, c := range p.inUse {
		if c.txStart.IsZero() {
			continue
		}
		if timeout := c.ts.config().TxTimeout; now.Sub(c.txStart) > timeout {
			out = append(out, expiredConn{c: c, ts: c.ts, lease: c.lease.Load(), timeout: timeout})
		}
	}
	return out
}

// killExpired kills e.c if it is still handed out under the lease expired saw, with the same
// transaction still too old: meanwhile its holder may have ended it, or returned the
// connection and the pool handed it to another client, whose fresh transaction must not be
// killed.
func (p *pool) killExpired(e expiredConn, now time.Time) bool {
	c := e.c
	p.mu.Lock()
	if c.lease.Load() != e.lease || c.txStart.IsZero() || now.Sub(c.txStart) <= e.timeout || c.idx >= len(p.inUse) || p.inUse[c.idx] != c {
		p.mu.Unlock()
		return false
	}
	c.killedMidErr.Store(errTxKilledMid(e.ts.alias, e.timeout)) // before killedErr: see Exec
	c.killedErr.Store(errTxKilled(e.ts.alias, e.timeout))
	if !c.state.CompareAndSwap(connInUse, connKilled) {
		p.mu.Unlock()
		return false // being returned or closed by its holder right now
	}
	p.removeInUse(c)
	slot, t := c.slot, c.ts
	p.mu.Unlock()
	c.closeNet()
	t.stats.killed.Add(1)
	p.freeSlots(t, slot)
	return true
}

// setTx records whether the connection's session has a transaction open on it, for the
// transaction timeout: each transaction gets the whole timeout.
func (p *pool) setTx(c *Conn, open bool) {
	p.mu.Lock()
	switch {
	case open && c.txStart.IsZero():
		c.txStart = time.Now()
	case !open:
		c.txStart = time.Time{}
	}
	p.mu.Unlock()
}

// closeIdle closes idle connections unused for idleTicks ticks, and those over the limit
// (it shrank), and advances the tick.
func (p *pool) closeIdle() {
	now := p.tick.Add(1)
	ticks := p.idleTicks.Load()
	limit, _ := p.conns.counts()
	p.mu.Lock()
	n := 0
	for n < len(p.idle) && (now-p.idle[n].idleTick > ticks || len(p.idle)-n+len(p.inUse)+p.dialing > limit) {
		n++
	}
	old := append([]*Conn(nil), p.idle[:n]...)
	for _, c := range old {
		p.leaveIdle(c)
	}
	p.idle = append(p.idle[:0], p.idle[n:]...)
	wall := time.Now()
	for i := len(p.idle) - 1; i >= 0; i-- {
		if c := p.idle[i]; c.serverGone(wall) {
			old = append(old, c)
			p.removeIdle(i)
		}
	}
	p.mu.Unlock()
	for _, c := range old {
		c.closeNet()
	}
	p.stats.idleClosed.Add(uint64(len(old)))
}

// flushIdle closes every idle connection (the server went away).
func (p *pool) flushIdle() {
	if p == nil {
		return
	}
	p.mu.Lock()
	old := p.clearIdle()
	p.mu.Unlock()
	for _, c := range old {
		c.closeNet()
	}
}

// close closes the idle connections, kills the held ones (their transactions roll back) and
// makes the pool close the others as they come back.
func (p *pool) close() {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return
	}
	p.closed = true
	close(p.done)
	idle := p.clearIdle()
	var held []*Conn
	for _, c := range p.inUse {
		if c.slot == slotHold || !c.txStart.IsZero() {
			held = append(held, c)
		}
	}
	p.mu.Unlock()
	p.conns.close()
	for _, c := range idle {
		c.closeNet()
	}
	for _, c := range held {
		// A statement running on it when it is killed gets 2013 (it may have committed);
		// the next statement of a connection killed between two gets errTxClosed.
		c.killedMidErr.Store(errLostClosed(c.ts.alias))
		p.kill(c, errTxClosed(c.ts.alias))
	}
}

// closeTablet kills the connections tablet t's sessions hold (their transactions roll back):
// the tablet is going. Its connections running a statement go back to the pool as usual.
func (p *pool) closeTablet(t *TabletServer) {
	type leased struct {
		c     *Conn
		lease uint64
	}
	p.mu.Lock()
	var held []leased
	for _, c := range p.inUse {
		if c.ts == t && (c.slot == slotHold || !c.txStart.IsZero()) {
			held = append(held, leased{c, c.lease.Load()})
		}
	}
	p.mu.Unlock()
	for _, h := range held {
		p.killLease(h.c, h.lease, t, errLostClosed(t.alias), errTxClosed(t.alias))
	}
}

// killLease is kill of a connection seen handed out under lease to t: it does nothing if the
// holder returned it since (on a shared backend another tablet's session may have it now).
// mid is what a statement cut off in flight gets (as in close: it may have committed).
func (p *pool) killLease(c *Conn, lease uint64, t *TabletServer, mid, why *mysql.MyError) {
	p.mu.Lock()
	if c.lease.Load() != lease || c.ts != t || c.idx >= len(p.inUse) || p.inUse[c.idx] != c {
		p.mu.Unlock()
		return
	}
	c.killedMidErr.Store(mid)
	c.killedErr.Store(why)
	if !c.state.CompareAndSwap(connInUse, connKilled) {
		p.mu.Unlock()
		return // being returned or closed by its holder right now
	}
	p.removeInUse(c)
	slot := c.slot
	p.mu.Unlock()
	c.closeNet()
	t.stats.killed.Add(1)
	p.freeSlots(t, slot)
}

// counts returns tablet t's connections in use (running a statement, and held).
func (p *pool) counts(t *TabletServer) (running, held int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.inUse {
		if c.ts != t {
			continue
		}
		if c.slot == slotHold {
			held++
		} else {
			running++
		}
	}
	return running, held
}

// sizes returns the connections in use and idle, every tablet's.
func (p *pool) sizes() (inUse, idle int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.inUse) + p.dialing, len(p.idle)
}

// closeNet closes the socket. It leaves the query timer alone: only the holder arms and
// disarms it (end), even when another goroutine closes the connection under it.
func (c *Conn) closeNet() {
	if c.nc != nil {
		c.nc.Close()
	}
}

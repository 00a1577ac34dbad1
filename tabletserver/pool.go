package tabletserver

import (
	"context"
	"errors"
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
	slotRun  uint8 = iota + 1 // one statement at a time: PoolSize
	slotHold                  // held by a session between statements: TxPoolSize
)

// pool is the tablet's backend connections: one LIFO idle list shared by two caps. A
// statement on a connection nobody holds takes a run slot (PoolSize of them); a connection a
// session keeps between statements (a transaction, connection state) takes a hold slot
// (TxPoolSize). Slots are tokens in buffered channels: no goroutine, no allocation when one is
// free. An idle connection remembers the session that last released it (its tag): the pool
// hands it to others only when nothing else fits, so that session's next statement usually
// finds its per-connection results (LAST_INSERT_ID(), warnings...) where they are.
type pool struct {
	ts          *TabletServer
	waitTimeout time.Duration
	idleTicks   uint64 // idle connections older than this many maintenance ticks are closed
	tick        atomic.Uint64
	limit       int // connections in use and idle, at most

	// run and hold have one token per connection handed out; capacities PoolSize and
	// TxPoolSize, so a send blocks exactly when that cap is reached.
	run, hold chan struct{}
	done      chan struct{} // closed by close: wakes waiters

	mu      sync.Mutex // guards idle, inUse, dialing, closed and the conns' idx, since, txStart, idleTick, tag
	idle    []*Conn    // free connections; the most recently used last
	inUse   []*Conn    // connections handed out
	dialing int
	closed  bool

	stats poolCounters
}

type poolCounters struct {
	gets, waits, waitTimeouts, waitNanos, idleClosed, killed atomic.Uint64
	holdGets, holdWaits, holdWaitTimeouts, holdOverflows     atomic.Uint64
	reclaims, reclaimMisses, steals                          atomic.Uint64
}

func newPool(ts *TabletServer) *pool {
	cfg := &ts.cfg
	return &pool{
		ts: ts, waitTimeout: cfg.PoolWaitTimeout,
		idleTicks: uint64(cfg.IdleTimeout/cfg.tick()) + 1,
		limit:     cfg.PoolSize + cfg.TxPoolSize,
		run:       make(chan struct{}, cfg.PoolSize),
		hold:      make(chan struct{}, cfg.TxPoolSize),
		done:      make(chan struct{}),
	}
}

// get hands out a connection as want says.
func (p *pool) get(ctx context.Context, want Want) (*Conn, error) {
	slot := slotRun
	if want.Hold {
		slot = slotHold
	}
	if err := p.acquire(ctx, slot); err != nil {
		return nil, err
	}
	for attempt := 0; ; attempt++ {
		c, err := p.take(ctx, want, slot)
		if err != nil {
			p.release(slot)
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
		// The connection broke (or cannot be reset): drop it, keep the slot, try a fresh one.
		p.drop(c)
		if attempt > 0 || !errors.Is(err, errResetUnsupported) && !c.broken {
			p.release(slot)
			return nil, err
		}
	}
}

// reclaim hands out c again if it is idle and nobody had it since its lease: the connection
// the session released last, holding the session's per-connection results.
func (p *pool) reclaim(ctx context.Context, c *Conn, lease uint64, want Want) (*Conn, bool) {
	p.mu.Lock()
	ok := !p.closed && c.state.Load() == connIdle && c.lease.Load() == lease && c.caps == want.Caps
	p.mu.Unlock()
	if !ok {
		p.stats.reclaimMisses.Add(1)
		return nil, false
	}
	slot := slotRun
	if want.Hold {
		slot = slotHold
	}
	if err := p.acquire(ctx, slot); err != nil {
		return nil, false
	}
	p.mu.Lock()
	i := indexOf(p.idle, c)
	if p.closed || i < 0 || c.lease.Load() != lease {
		p.mu.Unlock()
		p.release(slot)
		p.stats.reclaimMisses.Add(1)
		return nil, false
	}
	p.removeIdle(i)
	p.handOut(c, slot)
	p.mu.Unlock()
	if err := c.applySettings(ctx, want.Settings); err != nil {
		c.Close()
		return nil, false
	}
	p.stats.reclaims.Add(1)
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

// acquire takes a slot of the kind, waiting up to waitTimeout.
func (p *pool) acquire(ctx context.Context, slot uint8) error {
	ch, gets, waits, timeouts := p.run, &p.stats.gets, &p.stats.waits, &p.stats.waitTimeouts
	if slot == slotHold {
		ch, gets, waits, timeouts = p.hold, &p.stats.holdGets, &p.stats.holdWaits, &p.stats.holdWaitTimeouts
	}
	select {
	case ch <- struct{}{}:
		gets.Add(1)
		return nil
	default:
	}
	waits.Add(1)
	start := time.Now()
	t := time.NewTimer(p.waitTimeout)
	defer t.Stop()
	defer func() { p.stats.waitNanos.Add(uint64(time.Since(start))) }()
	select {
	case ch <- struct{}{}:
		gets.Add(1)
		return nil
	case <-t.C:
		timeouts.Add(1)
		if slot == slotHold {
			return errPoolExhausted(p.ts.alias, "reserved (transaction and session-state)", cap(p.hold), p.waitTimeout, flagTxPoolSize)
		}
		return errPoolExhausted(p.ts.alias, "query", cap(p.run), p.waitTimeout, flagPoolSize)
	case <-ctx.Done():
		return errCanceled(p.ts.alias, ctx.Err())
	case <-p.done:
		return errClosed(p.ts.alias)
	}
}

// release gives a slot back.
func (p *pool) release(slot uint8) {
	switch slot {
	case slotRun:
		<-p.run
	case slotHold:
		<-p.hold
	}
}

// take hands out the best idle connection for want, or dials one. Preference: untagged with the
// same settings, untagged, a new connection while below the limit, then a tagged one (another
// session's last connection), then room made by closing an idle connection of other
// capabilities.
func (p *pool) take(ctx context.Context, want Want, slot uint8) (*Conn, error) {
	key := want.Settings.key()
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil, errClosed(p.ts.alias)
	}
	var dead []*Conn
	now := time.Now()
	for i := len(p.idle) - 1; i >= 0; i-- {
		if c := p.idle[i]; c.serverGone(now) {
			dead = append(dead, c)
			p.removeIdle(i)
		}
	}
	defer func() {
		for _, c := range dead {
			c.closeNet()
		}
	}()
	best, bestScore := -1, 0
	for i := len(p.idle) - 1; i >= 0 && bestScore < 4; i-- {
		c := p.idle[i]
		if c.caps != want.Caps {
			continue
		}
		score := 1
		if c.settingsKey == key {
			score++
		}
		if c.tag == 0 {
			score += 2
		}
		if score > bestScore {
			best, bestScore = i, score
		}
	}
	total := len(p.idle) + len(p.inUse) + p.dialing
	if best >= 0 && (bestScore >= 3 || total >= p.limit) {
		c := p.idle[best]
		if c.tag != 0 {
			p.stats.steals.Add(1)
		}
		p.removeIdle(best)
		p.handOut(c, slot)
		p.mu.Unlock()
		return c, nil
	}
	var victim *Conn
	if total >= p.limit && len(p.idle) > 0 {
		// Only connections of other capabilities are idle: close the oldest for room.
		victim = p.idle[0]
		p.removeIdle(0)
	}
	p.dialing++
	p.mu.Unlock()
	if victim != nil {
		victim.closeNet()
	}
	c, err := p.ts.dial(ctx, want.Caps)
	p.mu.Lock()
	p.dialing--
	if err != nil {
		p.mu.Unlock()
		return nil, err
	}
	c.pool = p
	if p.closed {
		p.mu.Unlock()
		c.nc.Close()
		return nil, errClosed(p.ts.alias)
	}
	p.handOut(c, slot)
	p.mu.Unlock()
	return c, nil
}

// serverGone reports an idle connection its server has closed by now: idle longer than the
// wait_timeout its session gave it (with a margin for the clocks). p.mu held.
func (c *Conn) serverGone(now time.Time) bool {
	w := c.serverWait
	if w <= 0 {
		w = c.ts.defaultWait(c.caps)
	}
	if w <= 0 {
		return false
	}
	margin := min(w/4, time.Second)
	return now.Sub(c.idleSince) > w-margin
}

// removeIdle takes idle[i] out, keeping the age order for the janitor. p.mu held.
func (p *pool) removeIdle(i int) {
	n := len(p.idle)
	copy(p.idle[i:], p.idle[i+1:])
	p.idle[n-1] = nil
	p.idle = p.idle[:n-1]
}

// handOut marks c in use in a slot, under a new lease. p.mu held.
func (p *pool) handOut(c *Conn, slot uint8) {
	c.slot = slot
	c.lease.Add(1)
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

// hold moves a connection handed out for one statement to the hold cap. It never blocks: when
// no hold slot is free the connection keeps its run slot (an overflow, counted), because the
// state that makes the session keep it already exists.
func (p *pool) holdConn(c *Conn) bool {
	if c.slot != slotRun {
		return true
	}
	select {
	case p.hold <- struct{}{}:
		p.mu.Lock()
		c.slot = slotHold
		p.mu.Unlock()
		<-p.run
		return true
	default:
		p.stats.holdOverflows.Add(1)
		return false
	}
}

// put returns a connection handed out: to the idle list, tagged with its last session, when
// it can serve again, else closed.
func (p *pool) put(c *Conn, tag uint64) {
	if p == nil || !c.state.CompareAndSwap(connInUse, connIdle) {
		return // closed or killed: its slot is already free
	}
	reuse := !c.broken && !c.discard && c.poolable()
	slot := c.slot // once idle, another goroutine may hand c out again
	p.mu.Lock()
	p.removeInUse(c)
	if p.closed || !reuse {
		p.mu.Unlock()
		c.closeNet()
	} else {
		c.idleTick = p.tick.Load()
		c.idleSince = time.Now()
		c.tag = tag
		p.idle = append(p.idle, c)
		p.mu.Unlock()
	}
	p.release(slot)
}

// untag forgets c's last session, if nobody had it since lease.
func (p *pool) untag(c *Conn, lease uint64) {
	p.mu.Lock()
	if c.state.Load() == connIdle && c.lease.Load() == lease {
		c.tag = 0
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

// closeConn closes a connection handed out and frees its slot.
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
	p.mu.Unlock()
	c.closeNet()
	p.release(c.slot)
}

// drop closes a connection that take handed out, keeping its slot for the caller.
func (p *pool) drop(c *Conn) {
	c.state.Store(connClosed)
	p.mu.Lock()
	p.removeInUse(c)
	p.mu.Unlock()
	c.closeNet()
}

// kill takes a connection away from its holder (transaction timeout, server closing): it is
// closed, which rolls its transaction back, and its slot is freed. The holder learns it from
// Killed or from the error of its next call.
func (p *pool) kill(c *Conn, why *mysql.MyError) bool {
	c.killedErr.Store(why)
	if !c.state.CompareAndSwap(connInUse, connKilled) {
		return false
	}
	p.mu.Lock()
	p.removeInUse(c)
	slot := c.slot
	p.mu.Unlock()
	c.closeNet()
	p.stats.killed.Add(1)
	p.release(slot)
	return true
}

// expiredConn is a connection the transaction killer saw in a transaction too long, under lease.
type expiredConn struct {
	c     *Conn
	lease uint64
}

// expired returns the connections whose transaction is older than timeout at now.
func (p *pool) expired(now time.Time, timeout time.Duration) []expiredConn {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []expiredConn
	for _, c := range p.inUse {
		if !c.txStart.IsZero() && now.Sub(c.txStart) > timeout {
			out = append(out, expiredConn{c, c.lease.Load()})
		}
	}
	return out
}

// killExpired kills e.c if it is still handed out under the lease expired saw, with the same
// transaction still too old: meanwhile its holder may have ended it, or returned the
// connection and the pool handed it to another client, whose fresh transaction must not be
// killed.
func (p *pool) killExpired(e expiredConn, now time.Time, timeout time.Duration, why *mysql.MyError) bool {
	c := e.c
	p.mu.Lock()
	if c.lease.Load() != e.lease || c.txStart.IsZero() || now.Sub(c.txStart) <= timeout || c.idx >= len(p.inUse) || p.inUse[c.idx] != c {
		p.mu.Unlock()
		return false
	}
	c.killedErr.Store(why)
	if !c.state.CompareAndSwap(connInUse, connKilled) {
		p.mu.Unlock()
		return false // being returned or closed by its holder right now
	}
	p.removeInUse(c)
	slot := c.slot
	p.mu.Unlock()
	c.closeNet()
	p.stats.killed.Add(1)
	p.release(slot)
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

// closeIdle closes idle connections unused for idleTicks ticks, and advances the tick.
func (p *pool) closeIdle() {
	now := p.tick.Add(1)
	p.mu.Lock()
	n := 0
	for n < len(p.idle) && now-p.idle[n].idleTick > p.idleTicks {
		n++
	}
	old := append([]*Conn(nil), p.idle[:n]...)
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
	old := p.idle
	p.idle = nil
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
	idle := p.idle
	p.idle = nil
	var held []*Conn
	for _, c := range p.inUse {
		if c.slot == slotHold || !c.txStart.IsZero() {
			held = append(held, c)
		}
	}
	p.mu.Unlock()
	for _, c := range idle {
		c.closeNet()
	}
	for _, c := range held {
		// A statement running on it when it is killed gets 2013 (it may have committed);
		// the next statement of a connection killed between two gets errTxClosed.
		c.killedMidErr.Store(errLostClosed(p.ts.alias))
		p.kill(c, errTxClosed(p.ts.alias))
	}
}

// counts returns the connections in use (held and running) and idle.
func (p *pool) counts() (running, held, idle int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.inUse {
		if c.slot == slotHold {
			held++
		} else {
			running++
		}
	}
	return running, held, len(p.idle)
}

// closeNet closes the socket. It leaves the query timer alone: only the holder arms and
// disarms it (end), even when another goroutine closes the connection under it.
func (c *Conn) closeNet() {
	if c.nc != nil {
		c.nc.Close()
	}
}

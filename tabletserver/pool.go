package tabletserver

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-mysql-org/go-mysql/mysql"
)

// errResetUnsupported asks the pool for a fresh connection: the server cannot reset one.
var errResetUnsupported = errors.New("COM_RESET_CONNECTION not supported")

// pool is a bounded LIFO pool of backend connections, dialed lazily. A Get takes a slot (a
// token in a buffered channel: no goroutine, no allocation when one is free), then the most
// recently used idle connection, preferring one that already has the wanted settings.
type pool struct {
	ts          *TabletServer
	name        string // "data" or "reserved", for errors and stats
	flag        string // the flag that sizes it, for errors
	size        int
	waitTimeout time.Duration
	idleTicks   uint64 // idle connections older than this many maintenance ticks are closed
	reserved    bool   // the transaction killer watches its connections
	tick        atomic.Uint64

	// slots has one token per connection handed out or being dialed; capacity size, so a
	// send blocks exactly when the pool is exhausted.
	slots chan struct{}
	done  chan struct{} // closed by close: wakes waiters

	mu     sync.Mutex // guards idle, inUse, closed and the conns' idx, since, idleTick
	idle   []*Conn    // free connections; the most recently used last
	inUse  []*Conn    // connections handed out
	closed bool

	stats poolCounters
}

type poolCounters struct {
	gets, waits, waitTimeouts, waitNanos, idleClosed, killed atomic.Uint64
}

func newPool(ts *TabletServer, name, flag string, size int, wait time.Duration, reserved bool) *pool {
	idle := uint64(ts.cfg.IdleTimeout/ts.cfg.tick()) + 1
	return &pool{
		ts: ts, name: name, flag: flag, size: size, waitTimeout: wait, idleTicks: idle, reserved: reserved,
		slots: make(chan struct{}, size),
		done:  make(chan struct{}),
	}
}

// get hands out a connection with settings s.
func (p *pool) get(ctx context.Context, s *Settings) (*Conn, error) {
	if err := p.acquire(ctx); err != nil {
		return nil, err
	}
	p.stats.gets.Add(1)
	for attempt := 0; ; attempt++ {
		c, err := p.take(ctx, s.key())
		if err != nil {
			<-p.slots
			return nil, err
		}
		err = c.applySettings(ctx, s)
		if err == nil {
			return c, nil
		}
		var me *mysql.MyError
		if errors.As(err, &me) && !c.broken {
			// A SET the server refused: the connection is fine, the client gets the error.
			p.put(c)
			return nil, err
		}
		// The connection broke (or cannot be reset): drop it, keep the slot, try a fresh one.
		p.drop(c)
		if attempt > 0 || !errors.Is(err, errResetUnsupported) && !c.broken {
			<-p.slots
			return nil, err
		}
	}
}

// acquire takes a slot, waiting up to waitTimeout.
func (p *pool) acquire(ctx context.Context) error {
	select {
	case p.slots <- struct{}{}:
		return nil
	default:
	}
	p.stats.waits.Add(1)
	start := time.Now()
	t := time.NewTimer(p.waitTimeout)
	defer t.Stop()
	defer func() { p.stats.waitNanos.Add(uint64(time.Since(start))) }()
	select {
	case p.slots <- struct{}{}:
		return nil
	case <-t.C:
		p.stats.waitTimeouts.Add(1)
		return errPoolExhausted(p.ts.alias, p.name, p.size, p.waitTimeout, p.flag)
	case <-p.done:
		return errClosed(p.ts.alias)
	case <-ctx.Done():
		return errCanceled(p.ts.alias, ctx.Err())
	}
}

// take pops an idle connection (one with settings key if any) or dials one. The caller holds a
// slot.
func (p *pool) take(ctx context.Context, key string) (*Conn, error) {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil, errClosed(p.ts.alias)
	}
	if n := len(p.idle); n > 0 {
		i := n - 1
		if p.idle[i].settingsKey != key {
			for j := n - 2; j >= 0; j-- {
				if p.idle[j].settingsKey == key {
					i = j
					break
				}
			}
		}
		c := p.idle[i]
		copy(p.idle[i:], p.idle[i+1:]) // keep the age order for the janitor
		p.idle[n-1] = nil
		p.idle = p.idle[:n-1]
		p.handOut(c)
		p.mu.Unlock()
		return c, nil
	}
	p.mu.Unlock()
	c, err := p.ts.dial(ctx)
	if err != nil {
		return nil, err
	}
	c.pool = p
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		c.nc.Close()
		return nil, errClosed(p.ts.alias)
	}
	p.handOut(c)
	p.mu.Unlock()
	return c, nil
}

// handOut marks c in use, under a new lease. p.mu held.
func (p *pool) handOut(c *Conn) {
	c.lease.Add(1)
	c.state.Store(connInUse)
	c.idx = len(p.inUse)
	p.inUse = append(p.inUse, c)
	if p.reserved {
		c.since = time.Now()
	}
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

// put returns a connection handed out: to the idle stack when it can serve again, else closed.
func (p *pool) put(c *Conn) {
	if p == nil || !c.state.CompareAndSwap(connInUse, connIdle) {
		return // closed or killed: its slot is already free
	}
	reuse := !c.broken && !c.discard && c.poolable()
	p.mu.Lock()
	p.removeInUse(c)
	if p.closed || !reuse {
		p.mu.Unlock()
		c.closeNet()
	} else {
		c.idleTick = p.tick.Load()
		p.idle = append(p.idle, c)
		p.mu.Unlock()
	}
	<-p.slots
}

// poolable reports whether the session state that replies showed lets another client use the
// connection: not inside a transaction (as far as the latest status tells: after an ERR that
// followed a status showing one, the transaction may still be open), and autocommit on (a
// connection left with autocommit off would hold every later client's writes in a transaction
// nobody commits).
func (c *Conn) poolable() bool {
	if !c.statusSeen {
		return true // fresh: the server's defaults
	}
	return c.lastStatus&mysql.SERVER_STATUS_IN_TRANS == 0 && c.lastStatus&mysql.SERVER_STATUS_AUTOCOMMIT != 0
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
	<-p.slots
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
	p.mu.Unlock()
	c.closeNet()
	p.stats.killed.Add(1)
	<-p.slots
	return true
}

// expiredConn is a connection the transaction killer saw held too long, under lease.
type expiredConn struct {
	c     *Conn
	lease uint64
}

// expired returns the connections held longer than timeout at now.
func (p *pool) expired(now time.Time, timeout time.Duration) []expiredConn {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []expiredConn
	for _, c := range p.inUse {
		if now.Sub(c.since) > timeout {
			out = append(out, expiredConn{c, c.lease.Load()})
		}
	}
	return out
}

// killExpired kills e.c if it is still handed out under the lease expired saw, and still held
// longer than timeout: meanwhile its holder may have returned it and the pool handed it to
// another client, whose fresh transaction must not be killed.
func (p *pool) killExpired(e expiredConn, now time.Time, timeout time.Duration, why *mysql.MyError) bool {
	c := e.c
	p.mu.Lock()
	// handOut changes the lease and since under p.mu; put and closeConn leave inUse under it.
	if c.lease.Load() != e.lease || now.Sub(c.since) <= timeout || c.idx >= len(p.inUse) || p.inUse[c.idx] != c {
		p.mu.Unlock()
		return false
	}
	c.killedErr.Store(why)
	if !c.state.CompareAndSwap(connInUse, connKilled) {
		p.mu.Unlock()
		return false // being returned or closed by its holder right now
	}
	p.removeInUse(c)
	p.mu.Unlock()
	c.closeNet()
	p.stats.killed.Add(1)
	<-p.slots
	return true
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

// close closes the idle connections and makes the pool close the others as they come back.
// With killInUse (the reserved pool), the connections handed out are killed too.
func (p *pool) close(killInUse bool) {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return
	}
	p.closed = true
	close(p.done)
	idle := p.idle
	p.idle = nil
	inUse := append([]*Conn(nil), p.inUse...)
	p.mu.Unlock()
	for _, c := range idle {
		c.closeNet()
	}
	if killInUse {
		for _, c := range inUse {
			p.kill(c, errTxClosed(p.ts.alias))
		}
	}
}

// counts returns the connections in use and idle.
func (p *pool) counts() (inUse, idle int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.inUse), len(p.idle)
}

// closeNet closes the socket. It leaves the query timer alone: only the holder arms and
// disarms it (end), even when another goroutine closes the connection under it.
func (c *Conn) closeNet() {
	if c.nc != nil {
		c.nc.Close()
	}
}

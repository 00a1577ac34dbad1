package consultopo

// Locks and leader election on Consul: sessions with a TTL (renewed by this process) and KV
// acquire, the protocol of Consul's own api.Lock and of Vitess's consultopo, on Vitess's keys:
//
//	lock on <dir>:      <root>/<dir>/Lock            value: who holds it (JSON)
//	election <name>:    <root>/elections/<name>      value: the leader's id
//
// The key carries api.LockFlagValue like api.Lock's, so Vitess's tools and vtdirect exclude
// each other on the same key. Sessions use the "delete" behavior: when the owner dies (stops
// renewing) Consul invalidates the session after up to twice its TTL and deletes the key;
// nobody can take it again for the lock delay. See
// https://developer.hashicorp.com/consul/docs/dynamic-app-config/sessions

import (
	"context"
	"errors"
	"fmt"
	"path"
	"sync"
	"time"

	"github.com/hashicorp/consul/api"

	"github.com/vtdirect/vtdirect/topo"
)

// LockFile is the name of a lock's key in the directory it locks (Vitess's "Lock").
const LockFile = "Lock"

// Lock is part of topo.Locker.
func (c *Conn) Lock(ctx context.Context, dir, contents string, ttl time.Duration) (topo.Lease, error) {
	k, err := c.key(path.Join(dir, LockFile))
	if err != nil {
		return nil, err
	}
	return c.acquire(ctx, k, contents, ttl)
}

// Campaign is part of topo.Elector.
func (c *Conn) Campaign(ctx context.Context, name, id string, ttl time.Duration) (topo.Lease, error) {
	k, err := c.key(path.Join(topo.ElectionsPath, name))
	if err != nil {
		return nil, err
	}
	return c.acquire(ctx, k, id, ttl)
}

// consulLease is a held lock or leadership: a session and the key it acquired. Two goroutines
// keep it: one renews the session, one watches the key; both end on Release, on loss, or
// when the Conn closes.
type consulLease struct {
	c       *Conn
	key     string
	session string
	ttl     time.Duration

	lost     chan struct{} // closed once the key is no longer held (see markLost)
	lostOnce sync.Once
	stop     context.CancelFunc // ends the two goroutines
	wg       sync.WaitGroup     // the two goroutines
}

// writeOpts returns write options bound to ctx.
func writeOpts(ctx context.Context) *api.WriteOptions { return (&api.WriteOptions{}).WithContext(ctx) }

// acquire creates a session and waits until it holds key.
func (c *Conn) acquire(ctx context.Context, key, value string, ttl time.Duration) (topo.Lease, error) {
	ctx, cancel := c.bound(ctx)
	defer cancel()
	if ttl < time.Second {
		return nil, &topo.KeyError{Key: key, Err: fmt.Errorf("%w: ttl %v: Consul session TTLs are at least 1s (10s unless the servers set session_ttl_min)", topo.ErrInvalid, ttl)}
	}
	sid, _, err := c.client.Session().Create(&api.SessionEntry{
		Name:      "vtdirect " + key,
		TTL:       ttl.String(),
		LockDelay: c.cfg.LockDelay,
		Behavior:  api.SessionBehaviorDelete,
	}, writeOpts(ctx))
	if err != nil {
		return nil, c.convertError(key, fmt.Errorf("create session: %w", err))
	}
	// Renew from now on: waiting for the lock may take longer than the TTL.
	sctx, stop := context.WithCancel(c.life)
	l := &consulLease{c: c, key: key, session: sid, ttl: ttl, lost: make(chan struct{}), stop: stop}
	l.wg.Add(2) // renew now, monitor once acquired
	go l.renew(sctx)
	if err := c.waitAcquire(ctx, key, value, sid); err != nil {
		l.wg.Done() // no monitor
		stop()
		l.wg.Wait()
		c.destroySession(ctx, sid)
		return nil, err
	}
	go l.monitor(sctx)
	c.workers.Add(1)
	go func() { // lets Conn.Close wait for this lease's goroutines
		defer c.workers.Done()
		l.wg.Wait()
	}()
	return l, nil
}

// waitAcquire loops until the session holds key: try to acquire; if someone holds it, block
// until the key changes; if a lock delay is in effect (nobody holds it, yet acquire failed),
// wait a little.
func (c *Conn) waitAcquire(ctx context.Context, key, value, sid string) error {
	var index uint64
	for {
		q := &api.QueryOptions{WaitIndex: index, WaitTime: c.cfg.WatchWait}
		pair, meta, err := c.kv.Get(key, q.WithContext(ctx))
		if err != nil {
			return c.convertError(key, fmt.Errorf("wait for the lock: %w", err))
		}
		switch {
		case pair != nil && pair.Flags != api.LockFlagValue:
			return &topo.KeyError{Key: key, Err: fmt.Errorf("%w: the key exists and is not a lock (flags %#x); remove it", topo.ErrInvalid, pair.Flags)}
		case pair != nil && pair.Session == sid:
			return nil
		case pair != nil && pair.Session != "":
			index = meta.LastIndex // held by someone else: block until it changes
			continue
		}
		ok, _, err := c.kv.Acquire(&api.KVPair{Key: key, Value: []byte(value), Flags: api.LockFlagValue, Session: sid}, writeOpts(ctx))
		if err != nil {
			return c.convertError(key, fmt.Errorf("acquire: %w", err))
		}
		if ok {
			return nil
		}
		index = 0
		if !sleep(ctx, c.life, c.cfg.RetryInterval) {
			return c.convertError(key, fmt.Errorf("wait for the lock: %w", context.Cause(ctx)))
		}
	}
}

// destroySession ends a session, best effort: if it fails the session expires after its TTL.
func (c *Conn) destroySession(ctx context.Context, sid string) {
	dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), dialTimeout)
	defer cancel()
	_, _ = c.client.Session().Destroy(sid, writeOpts(dctx))
}

func (l *consulLease) markLost() { l.lostOnce.Do(func() { close(l.lost) }) }

// renew renews the session every ttl/2 (retrying every second after a failure) until ctx ends
// (Release, Conn.Close) or the session is gone (Consul says so, or ttl passed without a
// successful renewal).
func (l *consulLease) renew(ctx context.Context) {
	defer l.wg.Done()
	defer l.markLost() // however it ends, nobody renews the session any more
	last := time.Now()
	wait := l.ttl / 2
	for {
		if !sleep(ctx, ctx, wait) {
			return
		}
		entry, _, err := l.c.client.Session().Renew(l.session, writeOpts(ctx))
		switch {
		case ctx.Err() != nil:
			return
		case err == nil && entry == nil:
			l.markLost() // Consul invalidated the session
			return
		case err != nil:
			if time.Since(last) > l.ttl {
				l.markLost() // Consul has expired it by now, or will shortly
				return
			}
			wait = min(time.Second, l.ttl/2)
		default:
			last, wait = time.Now(), l.ttl/2
		}
	}
}

// monitor blocks on the key and marks the lease lost when the session no longer holds it.
// While the agent is unreachable it keeps asking: renew decides when that means lost.
func (l *consulLease) monitor(ctx context.Context) {
	defer l.wg.Done()
	defer l.markLost() // however it ends, nobody watches the key any more
	var index uint64
	for {
		q := &api.QueryOptions{WaitIndex: index, WaitTime: l.c.cfg.WatchWait, RequireConsistent: true}
		pair, meta, err := l.c.kv.Get(l.key, q.WithContext(ctx))
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			if !sleep(ctx, ctx, l.c.cfg.RetryInterval) {
				return
			}
			index = 0
			continue
		}
		if pair == nil || pair.Session != l.session {
			l.markLost()
			l.stop() // nothing left to renew
			return
		}
		index = meta.LastIndex
	}
}

// Key is part of topo.Lease: the Consul key held.
func (l *consulLease) Key() string { return l.key }

// Lost is part of topo.Lease.
func (l *consulLease) Lost() <-chan struct{} { return l.lost }

// Release is part of topo.Lease: release and delete the key in one transaction (so the next
// contender gets it at once, with no lock delay), then destroy the session.
func (l *consulLease) Release(ctx context.Context) error {
	select {
	case <-l.lost: // lost or released already: nothing is held
		l.stop()
		l.wg.Wait()
		l.c.destroySession(ctx, l.session)
		return nil
	default:
	}
	l.stop()
	l.wg.Wait()
	if l.c.closed() {
		return &topo.KeyError{Key: l.key, Err: topo.ErrClosed}
	}
	_, _, _, err := l.c.txn(ctx, l.key, api.KVTxnOps{
		{Verb: api.KVUnlock, Key: l.key, Flags: api.LockFlagValue, Session: l.session},
		{Verb: api.KVDelete, Key: l.key},
	})
	// Rolled back: the key was no longer ours, nothing to release.
	l.c.destroySession(ctx, l.session)
	if err != nil {
		return &topo.KeyError{Key: l.key, Err: fmt.Errorf("release (the session expires on its own): %w", errors.Unwrap(err))}
	}
	return nil
}

// Leader is part of topo.Elector: the value of the election's key while a session holds it.
func (c *Conn) Leader(ctx context.Context, name string) (string, error) {
	k, err := c.key(path.Join(topo.ElectionsPath, name))
	if err != nil {
		return "", err
	}
	ctx, cancel := c.bound(ctx)
	defer cancel()
	pair, _, err := c.kv.Get(k, c.query(ctx))
	if err != nil {
		return "", c.convertError(k, err)
	}
	if pair == nil || pair.Session == "" {
		return "", nil
	}
	return string(pair.Value), nil
}

// ObserveLeader is part of topo.Elector: blocking queries on the election's key. While the
// agent is unreachable it keeps asking, with a backoff.
func (c *Conn) ObserveLeader(ctx context.Context, name string) (<-chan string, error) {
	k, err := c.key(path.Join(topo.ElectionsPath, name))
	if err != nil {
		return nil, err
	}
	gctx, cancel := c.bound(ctx)
	pair, meta, err := c.kv.Get(k, c.query(gctx))
	cancel()
	if err != nil {
		return nil, c.convertError(k, err)
	}
	out := make(chan string, 1) // the current leader is ready before the reader asks
	c.workers.Add(1)
	go func() {
		defer c.workers.Done()
		defer close(out)
		ctx, cancel := c.bound(ctx)
		defer cancel()
		last, index, backoff := "", meta.LastIndex, c.cfg.RetryInterval
		for {
			if pair != nil && pair.Session != "" && string(pair.Value) != last {
				last = string(pair.Value)
				select {
				case out <- last:
				case <-ctx.Done():
					return
				}
			}
			q := &api.QueryOptions{WaitIndex: index, WaitTime: c.cfg.WatchWait}
			var err error
			var m *api.QueryMeta
			pair, m, err = c.kv.Get(k, q.WithContext(ctx))
			if ctx.Err() != nil {
				return
			}
			if err != nil {
				pair = nil
				if !sleep(ctx, ctx, backoff) {
					return
				}
				backoff = min(2*backoff, 10*c.cfg.RetryInterval)
				continue
			}
			backoff = c.cfg.RetryInterval
			index = nextIndex(index, m.LastIndex)
		}
	}()
	return out, nil
}

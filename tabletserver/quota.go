package tabletserver

import (
	"container/list"
	"sync"
	"time"
)

// quota counts connections against a limit that a configuration reload may change: a tablet's
// statement slots (PoolSize) and reserved slots (TxPoolSize), a backend's connections
// (MaxConnections). An acquire takes a unit at once when one is free (a mutex, no channel, no
// allocation) and otherwise waits, first come first served, until a release, a larger limit,
// its deadline or the quota's close. A smaller limit takes effect as units come back: nothing
// in use is taken away.
type quota struct {
	mu      sync.Mutex // guards the fields below
	limit   int
	used    int
	waiters list.List // of *quotaWaiter, oldest first
	closed  bool
}

type quotaWaiter struct {
	ready  chan struct{} // capacity 1: the unit handed over, never blocks the releaser
	elem   *list.Element // nil once handed a unit or failed; guarded by quota.mu
	closed bool          // woken by close, not handed a unit (written before ready is sent)
}

// quotaResult says how an acquire ended.
type quotaResult uint8

const (
	quotaOK quotaResult = iota
	quotaTimeout
	quotaCanceled
	quotaClosed
)

func newQuota(limit int) *quota { return &quota{limit: limit} }

// tryAcquire takes a unit if one is free now.
func (q *quota) tryAcquire() bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed || q.used >= q.limit || q.waiters.Len() > 0 {
		return false
	}
	q.used++
	return true
}

// acquire takes a unit, waiting until deadline; waited says whether it had to wait.
func (q *quota) acquire(done <-chan struct{}, deadline time.Time) (res quotaResult, waited bool) {
	q.mu.Lock()
	if q.closed {
		q.mu.Unlock()
		return quotaClosed, false
	}
	if q.used < q.limit && q.waiters.Len() == 0 {
		q.used++
		q.mu.Unlock()
		return quotaOK, false
	}
	w := &quotaWaiter{ready: make(chan struct{}, 1)}
	w.elem = q.waiters.PushBack(w)
	q.mu.Unlock()

	t := time.NewTimer(time.Until(deadline))
	defer t.Stop()
	select {
	case <-w.ready:
		if w.closed {
			return quotaClosed, true
		}
		return quotaOK, true
	case <-t.C:
		res = quotaTimeout
	case <-done:
		res = quotaCanceled
	}
	q.mu.Lock()
	if w.elem == nil {
		// Handed a unit (or closed) meanwhile: ready was sent under q.mu.
		q.mu.Unlock()
		<-w.ready
		if w.closed {
			return quotaClosed, true
		}
		q.release() // not wanted any more
		return res, true
	}
	q.waiters.Remove(w.elem)
	w.elem = nil
	q.mu.Unlock()
	return res, true
}

// release gives a unit back, to the oldest waiter if the limit allows.
func (q *quota) release() {
	q.mu.Lock()
	q.used--
	q.wakeLocked()
	q.mu.Unlock()
}

// wakeLocked hands free units to waiters, oldest first. q.mu held.
func (q *quota) wakeLocked() {
	for q.used < q.limit && q.waiters.Len() > 0 {
		w := q.waiters.Remove(q.waiters.Front()).(*quotaWaiter)
		w.elem = nil
		q.used++
		w.ready <- struct{}{}
	}
}

// forceAcquire takes a unit even past the limit (a connection that must keep its slot).
func (q *quota) forceAcquire() {
	q.mu.Lock()
	q.used++
	q.mu.Unlock()
}

// setLimit changes the limit; waiters get the units a larger one frees.
func (q *quota) setLimit(n int) {
	q.mu.Lock()
	q.limit = n
	q.wakeLocked()
	q.mu.Unlock()
}

// counts returns the limit and the units in use.
func (q *quota) counts() (limit, used int) {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.limit, q.used
}

// close fails every waiter and every later acquire; units in use are still released.
func (q *quota) close() {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.closed = true
	for q.waiters.Len() > 0 {
		w := q.waiters.Remove(q.waiters.Front()).(*quotaWaiter)
		w.elem, w.closed = nil, true
		w.ready <- struct{}{}
	}
}

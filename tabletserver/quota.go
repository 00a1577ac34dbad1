package tabletserver

import (
	"sync"
	"time"
)

// quota counts connections against a limit that a configuration reload may change: a tablet's
// statement slots (PoolSize) and reserved slots (TxPoolSize), a backend's connections
// (MaxConnections). An acquire takes a unit at once when one is free (a mutex, no channel, no
// allocation) and otherwise waits, first come first served, until a release, a larger limit,
// its deadline or the quota's close. A smaller limit takes effect as units come back: nothing
// in use is taken away.
//
// Waiting is cheap too, since a thousand clients on a pool of 16 wait at nearly every
// statement: a waiter is a reused struct on an intrusive list, and one timer per quota, set
// for the earliest deadline, times the waiters out (not a timer and a channel per wait).
type quota struct {
	mu      sync.Mutex // guards the fields below and the waiters' list links, done and result
	limit   int
	used    int
	head    *quotaWaiter // oldest waiter
	tail    *quotaWaiter
	n       int          // waiters on the list
	free    *quotaWaiter // waiters done with, for reuse (linked by next)
	timer   *time.Timer  // fires at timerAt, the earliest deadline of a waiter (nil: never set)
	timerAt time.Time    // zero: the timer is not set
	closed  bool
}

type quotaWaiter struct {
	ready      chan struct{} // capacity 1: the outcome is sent under quota.mu, never blocks
	prev, next *quotaWaiter
	deadline   time.Time
	listed     bool        // on the waiters' list
	result     quotaResult // what ended the wait, set before ready is sent
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
	if q.closed || q.used >= q.limit || q.n > 0 {
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
	if q.used < q.limit && q.n == 0 {
		q.used++
		q.mu.Unlock()
		return quotaOK, false
	}
	w := q.newWaiter(deadline)
	q.push(w)
	q.armLocked(deadline)
	q.mu.Unlock()

	select {
	case <-w.ready:
	case <-done:
		q.mu.Lock()
		if w.listed {
			q.remove(w)
			q.reuse(w)
			q.mu.Unlock()
			return quotaCanceled, true
		}
		q.mu.Unlock()
		<-w.ready // the outcome came meanwhile: it was sent under q.mu
		if w.result == quotaOK {
			q.release() // not wanted any more
			w.result = quotaCanceled
		}
	}
	res = w.result
	q.mu.Lock()
	q.reuse(w)
	q.mu.Unlock()
	return res, true
}

// newWaiter returns a waiter for deadline, reused if one is free. q.mu held.
func (q *quota) newWaiter(deadline time.Time) *quotaWaiter {
	w := q.free
	if w != nil {
		q.free = w.next
	} else {
		w = &quotaWaiter{ready: make(chan struct{}, 1)}
	}
	w.prev, w.next, w.deadline, w.result = nil, nil, deadline, quotaOK
	return w
}

// reuse keeps w, whose acquire has its outcome and drained ready, for the next wait. q.mu held.
func (q *quota) reuse(w *quotaWaiter) {
	w.prev, w.next = nil, q.free
	q.free = w
}

// push appends w to the waiters. q.mu held.
func (q *quota) push(w *quotaWaiter) {
	w.prev, w.next, w.listed = q.tail, nil, true
	if q.tail != nil {
		q.tail.next = w
	} else {
		q.head = w
	}
	q.tail = w
	q.n++
}

// remove takes w off the waiters. q.mu held.
func (q *quota) remove(w *quotaWaiter) {
	if w.prev != nil {
		w.prev.next = w.next
	} else {
		q.head = w.next
	}
	if w.next != nil {
		w.next.prev = w.prev
	} else {
		q.tail = w.prev
	}
	w.prev, w.next, w.listed = nil, nil, false
	q.n--
}

// finish takes w off the waiters and tells it res. q.mu held.
func (q *quota) finish(w *quotaWaiter, res quotaResult) {
	q.remove(w)
	w.result = res
	w.ready <- struct{}{}
}

// armLocked makes sure the timer fires by deadline. q.mu held.
func (q *quota) armLocked(deadline time.Time) {
	if !q.timerAt.IsZero() && !deadline.Before(q.timerAt) {
		return
	}
	q.timerAt = deadline
	d := time.Until(deadline)
	if q.timer == nil {
		q.timer = time.AfterFunc(d, q.expire)
		return
	}
	q.timer.Reset(d)
}

// expire times out the waiters whose deadline has passed and sets the timer for the earliest
// deadline left. Waiters mostly come in deadline order, so it runs about once per wait, not
// once per waiter.
func (q *quota) expire() {
	q.mu.Lock()
	defer q.mu.Unlock()
	now := time.Now()
	q.timerAt = time.Time{}
	var next time.Time
	for w := q.head; w != nil; {
		after := w.next
		if !w.deadline.After(now) {
			q.finish(w, quotaTimeout)
		} else if next.IsZero() || w.deadline.Before(next) {
			next = w.deadline
		}
		w = after
	}
	if !next.IsZero() {
		q.armLocked(next)
	}
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
	for q.used < q.limit && q.head != nil {
		q.used++
		q.finish(q.head, quotaOK)
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
	for q.head != nil {
		q.finish(q.head, quotaClosed)
	}
	if q.timer != nil {
		q.timer.Stop()
		q.timerAt = time.Time{}
	}
}

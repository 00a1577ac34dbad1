package picker

import (
	"sync"
	"sync/atomic"
)

// Source gives a Waiter the current snapshot and a channel that is closed
// once a newer snapshot is available, so that a waiting pick retries at
// once instead of at its next backoff step. A nil channel is allowed: the
// waiter then only retries on its backoff.
type Source interface {
	Current() (*Snapshot, <-chan struct{})
}

// SourceFunc adapts a plain getter; it never signals changes, so waiters
// rely on their backoff alone.
type SourceFunc func() *Snapshot

// Current implements Source.
func (f SourceFunc) Current() (*Snapshot, <-chan struct{}) { return f(), nil }

// Feed holds the latest snapshot for readers and wakes waiters when a new
// one is published. The registry owns one and calls Publish after each
// topology or health change; the router reads Snapshot per query (one
// atomic load).
type Feed struct {
	mu  sync.Mutex                // serialises Publish; readers never lock
	cur atomic.Pointer[feedState] // the snapshot and the channel closed on its replacement
}

type feedState struct {
	snap    *Snapshot
	changed chan struct{} // closed by the Publish that replaces snap
}

var _ Source = (*Feed)(nil)

// NewFeed starts a feed at initial (which may be nil: nothing known yet).
func NewFeed(initial *Snapshot) *Feed {
	f := &Feed{}
	f.cur.Store(&feedState{snap: initial, changed: make(chan struct{})})
	return f
}

// Publish makes s the current snapshot and wakes every waiter.
func (f *Feed) Publish(s *Snapshot) {
	f.mu.Lock()
	defer f.mu.Unlock()
	old := f.cur.Load()
	f.cur.Store(&feedState{snap: s, changed: make(chan struct{})})
	close(old.changed)
}

// Snapshot returns the current snapshot.
func (f *Feed) Snapshot() *Snapshot { return f.cur.Load().snap }

// Current implements Source.
func (f *Feed) Current() (*Snapshot, <-chan struct{}) {
	st := f.cur.Load()
	return st.snap, st.changed
}

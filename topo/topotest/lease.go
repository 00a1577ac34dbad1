package topotest

import (
	"context"
	"errors"
	"path"
	"strings"
	"testing"
	"time"

	"github.com/vtdirect/vtdirect/topo"
)

// leaseTTL is the TTL of the suite's locks and leaderships: short, so an owner's death is
// noticed within seconds (Consul test agents must allow it: session_ttl_min).
const leaseTTL = 2 * time.Second

// expiryTimeout bounds how long a dead owner's lease may take to expire: Consul invalidates a
// session after up to twice its TTL, then applies the lock delay.
const expiryTimeout = 30 * time.Second

// RunLeases runs the conformance suite of locks and leader elections against a backend whose
// Conns implement topo.Locker and topo.Elector. Conns returned by open must not share a
// session or lease with each other: closing one is how the suite kills an owner.
func RunLeases(t *testing.T, open Open) {
	tests := []struct {
		name string
		fn   func(t *testing.T, ctx context.Context, open func() topo.Conn)
	}{
		{"LockExcludes", testLockExcludes},
		{"LockWaitCancelled", testLockWaitCancelled},
		{"LockExpiresWhenOwnerDies", testLockExpiresWhenOwnerDies},
		{"ElectionTwoContenders", testElectionTwoContenders},
		{"ElectionResign", testElectionResign},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
			defer cancel()
			root := path.Join("/leases", strings.ReplaceAll(t.Name(), "/", "_"))
			tc.fn(t, ctx, func() topo.Conn {
				c := open(t, root)
				t.Cleanup(c.Close)
				if _, ok := c.(topo.Locker); !ok {
					t.Fatalf("%T is not a topo.Locker", c)
				}
				if _, ok := c.(topo.Elector); !ok {
					t.Fatalf("%T is not a topo.Elector", c)
				}
				return c
			})
		})
	}
}

func lock(t *testing.T, ctx context.Context, c topo.Conn, dir, who string) topo.Lease {
	t.Helper()
	l, err := c.(topo.Locker).Lock(ctx, dir, who, leaseTTL)
	if err != nil {
		t.Fatalf("%s: Lock(%s): %v", who, dir, err)
	}
	return l
}

// isClosed reports whether ch is closed now.
func isClosed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// waitClosed fails unless ch closes within d.
func waitClosed(t *testing.T, ch <-chan struct{}, d time.Duration, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(d):
		t.Fatalf("%s: not after %v", what, d)
	}
}

// lockAsync starts a Lock in the background; the result arrives on the channel.
func lockAsync(ctx context.Context, c topo.Conn, dir, who string) <-chan leaseResult {
	ch := make(chan leaseResult, 1) // the goroutine never blocks on a reader that gave up
	go func() {
		l, err := c.(topo.Locker).Lock(ctx, dir, who, leaseTTL)
		ch <- leaseResult{l, err}
	}()
	return ch
}

func campaignAsync(ctx context.Context, c topo.Conn, name, id string) <-chan leaseResult {
	ch := make(chan leaseResult, 1) // as lockAsync
	go func() {
		l, err := c.(topo.Elector).Campaign(ctx, name, id, leaseTTL)
		ch <- leaseResult{l, err}
	}()
	return ch
}

type leaseResult struct {
	lease topo.Lease
	err   error
}

// waitLease waits for an async Lock or Campaign to succeed within d.
func waitLease(t *testing.T, ch <-chan leaseResult, d time.Duration, what string) topo.Lease {
	t.Helper()
	select {
	case r := <-ch:
		if r.err != nil {
			t.Fatalf("%s: %v", what, r.err)
		}
		return r.lease
	case <-time.After(d):
		t.Fatalf("%s: still waiting after %v", what, d)
	}
	return nil
}

// notYet fails if an async Lock or Campaign finished: someone else holds what it waits for.
func notYet(t *testing.T, ch <-chan leaseResult, what string) {
	t.Helper()
	select {
	case r := <-ch:
		t.Fatalf("%s finished while it should wait: %v, %v", what, r.lease, r.err)
	default:
	}
}

// testLockExcludes: while A holds the lock, B waits; when A releases, B gets it at once.
func testLockExcludes(t *testing.T, ctx context.Context, open func() topo.Conn) {
	a, b := open(), open()
	const dir = "keyspaces/commerce/shards/0"
	la := lock(t, ctx, a, dir, "A")
	if isClosed(la.Lost()) {
		t.Fatal("a fresh lock is lost")
	}
	// Another directory is another lock.
	other := lock(t, ctx, b, "keyspaces/commerce/shards/-80", "B")
	wait := lockAsync(ctx, b, dir, "B")
	// B's attempt is blocked behind A: a short deadline runs out.
	short, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
	_, err := b.(topo.Locker).Lock(short, dir, "B2", leaseTTL)
	cancel()
	if err == nil || !errors.Is(err, context.DeadlineExceeded) && !strings.Contains(err.Error(), "deadline") {
		t.Fatalf("Lock while held = %v, want a deadline error", err)
	}
	notYet(t, wait, "B's lock")
	if err := la.Release(ctx); err != nil {
		t.Fatal(err)
	}
	waitClosed(t, la.Lost(), 5*time.Second, "A's lock ends on release")
	lb := waitLease(t, wait, 10*time.Second, "B's lock after A released")
	if err := la.Release(ctx); err != nil {
		t.Fatalf("second release: %v", err)
	}
	if err := lb.Release(ctx); err != nil {
		t.Fatal(err)
	}
	if err := other.Release(ctx); err != nil {
		t.Fatal(err)
	}
	// Free again: A takes it without waiting.
	lock(t, ctx, a, dir, "A").Release(ctx)
}

// testLockWaitCancelled: a cancelled wait leaves nothing behind that blocks the next owner.
func testLockWaitCancelled(t *testing.T, ctx context.Context, open func() topo.Conn) {
	a, b, c := open(), open(), open()
	const dir = "keyspaces/ks"
	la := lock(t, ctx, a, dir, "A")
	bctx, cancel := context.WithCancel(ctx)
	wait := lockAsync(bctx, b, dir, "B")
	notYet(t, wait, "B's lock")
	cancel()
	select {
	case r := <-wait:
		if r.err == nil {
			t.Fatal("a cancelled Lock succeeded")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("a cancelled Lock did not return")
	}
	if err := la.Release(ctx); err != nil {
		t.Fatal(err)
	}
	lc := waitLease(t, lockAsync(ctx, c, dir, "C"), 10*time.Second, "C's lock after A released")
	lc.Release(ctx)
}

// testLockExpiresWhenOwnerDies: A takes the lock and dies (its Conn closes without releasing:
// nothing renews its session); the lock expires and B gets it.
func testLockExpiresWhenOwnerDies(t *testing.T, ctx context.Context, open func() topo.Conn) {
	a, b := open(), open()
	const dir = "keyspaces/commerce/shards/0"
	la := lock(t, ctx, a, dir, "A")
	wait := lockAsync(ctx, b, dir, "B")
	notYet(t, wait, "B's lock")
	a.Close() // A dies
	waitClosed(t, la.Lost(), 5*time.Second, "a dead owner's lock reports lost")
	lb := waitLease(t, wait, expiryTimeout, "B's lock after A died")
	if isClosed(lb.Lost()) {
		t.Fatal("B's new lock is lost")
	}
	lb.Release(ctx)
}

// testElectionTwoContenders: A leads, B waits; observers see A; A dies; B leads; observers
// see B.
func testElectionTwoContenders(t *testing.T, ctx context.Context, open func() topo.Conn) {
	a, b, watcher := open(), open(), open()
	e := watcher.(topo.Elector)
	const name = "failover"
	if id, err := e.Leader(ctx, name); err != nil || id != "" {
		t.Fatalf("Leader before any campaign = %q, %v", id, err)
	}
	la := waitLease(t, campaignAsync(ctx, a, name, "A"), 10*time.Second, "A's campaign")
	obs, err := e.ObserveLeader(ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	expectLeader(t, obs, "A")
	if id, err := e.Leader(ctx, name); err != nil || id != "A" {
		t.Fatalf("Leader = %q, %v; want A", id, err)
	}
	wait := campaignAsync(ctx, b, name, "B")
	notYet(t, wait, "B's campaign")
	a.Close() // A dies
	waitClosed(t, la.Lost(), 5*time.Second, "a dead leader's leadership reports lost")
	lb := waitLease(t, wait, expiryTimeout, "B's campaign after A died")
	expectLeader(t, obs, "B")
	if id, err := e.Leader(ctx, name); err != nil || id != "B" {
		t.Fatalf("Leader = %q, %v; want B", id, err)
	}
	lb.Release(ctx)
}

// testElectionResign: the leader resigns and the other contender leads at once.
func testElectionResign(t *testing.T, ctx context.Context, open func() topo.Conn) {
	a, b := open(), open()
	const name = "primary-picker"
	la := waitLease(t, campaignAsync(ctx, a, name, "A"), 10*time.Second, "A's campaign")
	wait := campaignAsync(ctx, b, name, "B")
	notYet(t, wait, "B's campaign")
	if err := la.Release(ctx); err != nil {
		t.Fatal(err)
	}
	lb := waitLease(t, wait, 10*time.Second, "B's campaign after A resigned")
	if id, err := b.(topo.Elector).Leader(ctx, name); err != nil || id != "B" {
		t.Fatalf("Leader = %q, %v; want B", id, err)
	}
	if err := lb.Release(ctx); err != nil {
		t.Fatal(err)
	}
	if id, err := a.(topo.Elector).Leader(ctx, name); err != nil || id != "" {
		t.Fatalf("Leader after everyone resigned = %q, %v; want none", id, err)
	}
}

// expectLeader reads observed leaders until want (a leader seen in between is fine: a
// re-election may be observed), or fails.
func expectLeader(t *testing.T, obs <-chan string, want string) {
	t.Helper()
	deadline := time.After(expiryTimeout)
	for {
		select {
		case id, ok := <-obs:
			if !ok {
				t.Fatalf("observer closed before leader %s", want)
			}
			if id == want {
				return
			}
		case <-deadline:
			t.Fatalf("leader %s not observed", want)
		}
	}
}

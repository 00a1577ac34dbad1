package interop

import (
	"context"
	"testing"
	"time"

	topodatapb "vitess.io/vitess/go/vt/proto/topodata"
	vtopo "vitess.io/vitess/go/vt/topo"
)

// TestLocksExcludeVitess: a shard lock taken by Vitess's topo code blocks ours, and the other
// way round, on both backends: the two sides use the same keys and the same protocol.
func TestLocksExcludeVitess(t *testing.T) {
	backends(t, func(t *testing.T, e *env) {
		ctx := e.ctx
		ok(t, e.ts.CreateKeyspace(ctx, "commerce", &topodatapb.Keyspace{}))
		ok(t, e.ts.CreateShard(ctx, "commerce", "0"))

		// Vitess holds it: ours waits until Vitess unlocks.
		_, unlock, err := e.vts.LockShard(ctx, "commerce", "0", "vitess-action")
		ok(t, err)
		short, cancel := context.WithTimeout(ctx, time.Second)
		_, err = e.ts.LockShard(short, "commerce", "0", "vtdirect-action", 5*time.Second)
		cancel()
		if err == nil {
			t.Fatal("our LockShard succeeded while Vitess holds the shard lock")
		}
		got := make(chan error, 1) // the goroutine never blocks
		go func() {
			l, err := e.ts.LockShard(ctx, "commerce", "0", "vtdirect-action", 5*time.Second)
			if err == nil {
				err = l.Release(ctx)
			}
			got <- err
		}()
		select {
		case err := <-got:
			t.Fatalf("our LockShard returned (%v) while Vitess holds the lock", err)
		case <-time.After(500 * time.Millisecond):
		}
		var unlockErr error
		unlock(&unlockErr)
		ok(t, unlockErr)
		select {
		case err := <-got:
			ok(t, err)
		case <-time.After(30 * time.Second):
			t.Fatal("our LockShard did not get the lock after Vitess unlocked")
		}

		// We hold it: Vitess's attempt waits until we release.
		l, err := e.ts.LockShard(ctx, "commerce", "0", "vtdirect-action", 5*time.Second)
		ok(t, err)
		go func() {
			_, unlock, err := e.vts.LockShard(ctx, "commerce", "0", "vitess-action")
			if err == nil {
				unlock(&err)
			}
			got <- err
		}()
		select {
		case err := <-got:
			t.Fatalf("Vitess's LockShard returned (%v) while we hold the lock", err)
		case <-time.After(time.Second):
		}
		ok(t, l.Release(ctx))
		select {
		case err := <-got:
			ok(t, err)
		case <-time.After(30 * time.Second):
			t.Fatal("Vitess's LockShard did not get the lock after we released it")
		}
	})
}

// TestElectionSeenByVitess: Vitess's view of an election's leader is the leader we elected.
func TestElectionSeenByVitess(t *testing.T) {
	backends(t, func(t *testing.T, e *env) {
		ctx := e.ctx
		lease, err := e.ts.Campaign(ctx, "failover", "vtdirect-1", 5*time.Second)
		ok(t, err)
		lp, err := e.vts.ConnForCell(ctx, vtopo.GlobalCell)
		ok(t, err)
		part, err := lp.NewLeaderParticipation("failover", "vitess-1")
		ok(t, err)
		id, err := part.GetCurrentLeaderID(ctx)
		if err != nil || id != "vtdirect-1" {
			t.Fatalf("Vitess sees leader %q, %v; want vtdirect-1", id, err)
		}
		ok(t, lease.Release(ctx))
	})
}

package failover

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/vtdirect/vtdirect/topo/memorytopo"
)

// countingBuffer counts how many reparents hold each shard.
type countingBuffer struct {
	mu   sync.Mutex // guards held
	held map[string]int
}

func (b *countingBuffer) StartReparent(keyspace, shard, _ string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.held[keyspace+"/"+shard]++
}

func (b *countingBuffer) EndReparent(keyspace, shard, _ string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.held[keyspace+"/"+shard]--
}

func (b *countingBuffer) Drain(context.Context, string, string) error { return nil }

// TestFailedLockEndsNoOtherReparent: a recovery that cannot take the shard lock (another
// process holds it for its own reparent, or the topo refuses) never started holding the
// shard, so it must not end the hold of the reparent that does.
func TestFailedLockEndsNoOtherReparent(t *testing.T) {
	ts := memorytopo.NewServerOn(memorytopo.NewStore()) // no locks: LockShard fails at once
	defer ts.Close()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	if err := ts.CreateKeyspace(ctx, "commerce", nil); err != nil {
		t.Fatal(err)
	}
	if err := ts.CreateShard(ctx, "commerce", "0"); err != nil {
		t.Fatal(err)
	}
	buf := &countingBuffer{held: map[string]int{}}
	buf.StartReparent("commerce", "0", "zone1-100") // another gateway's reparent, seen in the journal
	r, err := NewReparenter(Config{ID: "test", DBAUser: "vt_dba", LeaseTTL: time.Second}, ts, nil, buf)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Emergency(ctx, "commerce", "0", EmergencyOptions{Trigger: "operator"}); err == nil {
		t.Fatal("an emergency reparent without the shard lock succeeded")
	}
	if _, err := r.Planned(ctx, "commerce", "0", PlannedOptions{}); err == nil {
		t.Fatal("a planned reparent without the shard lock succeeded")
	}
	if n := buf.held["commerce/0"]; n != 1 {
		t.Fatalf("the shard is held by %d reparents after the failed ones, want 1 (the other gateway's)", n)
	}
}

// fakeLease is a shard lock the test loses on demand.
type fakeLease struct{ lost chan struct{} }

func (l *fakeLease) Key() string                   { return "fake-lock" }
func (l *fakeLease) Lost() <-chan struct{}         { return l.lost }
func (l *fakeLease) Release(context.Context) error { return nil }

// TestLockLossCancelsTheRunningStep: when the shard lock is lost (its session expired) while a
// step waits on MariaDB, the step's context ends at once: another process may act on the shard
// now, so this recovery must not go on acting until the step's own timeout.
func TestLockLossCancelsTheRunningStep(t *testing.T) {
	ts := memorytopo.NewServerOn(memorytopo.NewStore())
	defer ts.Close()
	r, err := NewReparenter(Config{ID: "test", DBAUser: "vt_dba"}, ts, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	x, err := r.begin("commerce", "0", KindEmergency, "operator", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer r.end(x)
	l := &fakeLease{lost: make(chan struct{})}
	x.lease = l
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	errc := make(chan error, 1)
	go func() {
		errc <- x.step(ctx, "apply-relay-logs", func(ctx context.Context) (string, error) {
			<-ctx.Done() // what a wait on MariaDB does with its context
			return "", ctx.Err()
		})
	}()
	close(l.lost)
	select {
	case err := <-errc:
		if err == nil {
			t.Fatal("the step succeeded after the lock was lost")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the step went on for 10s after the shard lock was lost")
	}
}

// TestFailedRecoveryThatChangedNothingDoesNotBlock: anti-flapping holds back a second
// automatic recovery after one that promoted a tablet, not after one that failed before it
// changed anything (which the controller retries with its backoff).
func TestFailedRecoveryThatChangedNothingDoesNotBlock(t *testing.T) {
	ts := memorytopo.NewServerOn(memorytopo.NewStore())
	defer ts.Close()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	c, err := New(Config{ID: "test", DBAUser: "vt_dba", BlockPeriod: time.Hour}, ts, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	failed := &Recovery{ID: newRecoveryID(now, "test"), Keyspace: "commerce", Shard: "0", Kind: KindEmergency, Trigger: string(DeadPrimary),
		Started: now, Ended: now, Status: StatusFailed, Steps: []Step{{Name: "lock", Status: "ok"}, {Name: "stop-replication", Status: "failed"}}}
	if err := c.rep.journal.Put(ctx, failed); err != nil {
		t.Fatal(err)
	}
	if why := c.blockedByRecent(ctx, "commerce", "0"); why != "" {
		t.Fatalf("blocked by a recovery that changed nothing: %s", why)
	}
	failed.Steps = append(failed.Steps, Step{Name: "promote", Status: "ok"}, Step{Name: "topo", Status: "failed"})
	if err := c.rep.journal.Put(ctx, failed); err != nil {
		t.Fatal(err)
	}
	if why := c.blockedByRecent(ctx, "commerce", "0"); why == "" {
		t.Fatal("not blocked after a recovery that promoted a tablet")
	}
}

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

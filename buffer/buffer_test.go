package buffer

import (
	"context"
	"errors"
	"maps"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-mysql-org/go-mysql/mysql"
)

// fakeSource is a registry whose snapshots the test writes.
type fakeSource struct {
	mu        sync.Mutex // guards primaries and changed
	primaries map[string]PrimaryState
	changed   chan struct{}
}

func newFakeSource() *fakeSource {
	return &fakeSource{primaries: map[string]PrimaryState{}, changed: make(chan struct{})}
}

type fakeView map[string]PrimaryState

func (v fakeView) Shards() [][2]string {
	var out [][2]string
	for k := range v {
		ks, sh, _ := strings.Cut(k, "/")
		out = append(out, [2]string{ks, sh})
	}
	return out
}

func (v fakeView) Primary(keyspace, shard string) (PrimaryState, bool) {
	p, ok := v[keyspace+"/"+shard]
	return p, ok && p.Alias != ""
}

func (f *fakeSource) View() View {
	f.mu.Lock()
	defer f.mu.Unlock()
	return fakeView(maps.Clone(f.primaries))
}

func (f *fakeSource) Changed() <-chan struct{} {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.changed
}

func (f *fakeSource) set(shard string, p PrimaryState) {
	f.mu.Lock()
	f.primaries[shard] = p
	close(f.changed)
	f.changed = make(chan struct{})
	f.mu.Unlock()
}

func newBuffer(t *testing.T, src *fakeSource, change func(*Config)) *Buffer {
	t.Helper()
	cfg := Config{Window: 5 * time.Second, Size: 10, MaxFailoverDuration: 20 * time.Second,
		Dial: func(context.Context, string) error { return errors.New("connection refused") }}
	if change != nil {
		change(&cfg)
	}
	b, err := New(cfg, src)
	if err != nil {
		t.Fatal(err)
	}
	b.Start(t.Context())
	t.Cleanup(b.Close)
	return b
}

// waitAsync runs Wait in a goroutine and returns its outcome on a channel.
func waitAsync(b *Buffer, ctx context.Context) <-chan error {
	out := make(chan error, 1)
	go func() {
		release, err := b.Wait(ctx, "commerce", "0")
		if release != nil {
			release()
		}
		out <- err
	}()
	return out
}

// waitBuffered waits until n requests are waiting.
func waitBuffered(t *testing.T, b *Buffer, n int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for b.Stats().Waiting != n {
		if time.Now().After(deadline) {
			t.Fatalf("waiting = %d, want %d", b.Stats().Waiting, n)
		}
		time.Sleep(time.Millisecond)
	}
}

func serving(alias string) PrimaryState {
	return PrimaryState{Alias: alias, Serving: true, LastProbe: time.Now()}
}

func TestPassThrough(t *testing.T) {
	src := newFakeSource()
	src.set("commerce/0", serving("zone1-100"))
	b := newBuffer(t, src, nil)
	release, err := b.Wait(t.Context(), "commerce", "0")
	if err != nil {
		t.Fatal(err)
	}
	release()
	release() // twice is harmless
	if err := b.Interrupted("commerce", "0"); err != nil {
		t.Fatalf("Interrupted with no reparent = %v", err)
	}
}

func TestExplicitReparent(t *testing.T) {
	src := newFakeSource()
	src.set("commerce/0", serving("zone1-100"))
	b := newBuffer(t, src, nil)
	b.StartReparent("commerce", "0", "zone1-100")
	got := waitAsync(b, t.Context())
	waitBuffered(t, b, 1)
	if err := b.Interrupted("commerce", "0"); !IsReparentError(err) {
		t.Fatalf("Interrupted during a reparent = %v", err)
	}
	// The reparent ends, but the registry does not show the new primary yet: still held.
	b.EndReparent("commerce", "0", "zone1-101")
	select {
	case err := <-got:
		t.Fatalf("released before the new primary showed: %v", err)
	case <-time.After(50 * time.Millisecond):
	}
	src.set("commerce/0", PrimaryState{Alias: "zone1-101", Serving: true}) // not probed yet: serves
	if err := <-got; err != nil {
		t.Fatalf("Wait after the reparent = %v", err)
	}
	if st := b.Stats(); st.Requests["commerce/0"][resultReleased] != 1 || len(st.Buffering) != 0 {
		t.Fatalf("stats %+v", st)
	}
	// Shortly after, a broken transaction still gets the reparent error.
	if err := b.Interrupted("commerce", "0"); !IsReparentError(err) {
		t.Fatalf("Interrupted just after a reparent = %v", err)
	}
}

func TestWindowAndSize(t *testing.T) {
	src := newFakeSource()
	src.set("commerce/0", serving("zone1-100"))
	b := newBuffer(t, src, func(c *Config) { c.Window, c.Size = 200*time.Millisecond, 1 })
	b.StartReparent("commerce", "0", "zone1-100")
	first := waitAsync(b, t.Context())
	waitBuffered(t, b, 1)
	_, err := b.Wait(t.Context(), "commerce", "0")
	var me *mysql.MyError
	if !errors.As(err, &me) || me.Code != mysql.ER_UNKNOWN_ERROR || !strings.Contains(me.Message, "buffer is full") {
		t.Fatalf("second Wait = %v, want the buffer-full 1105", err)
	}
	err = <-first
	if !errors.As(err, &me) || me.Code != mysql.ER_UNKNOWN_ERROR || !strings.Contains(me.Message, "--buffer-window") {
		t.Fatalf("first Wait = %v, want the window 1105", err)
	}
	// A client that goes away stops waiting at once.
	ctx, cancel := context.WithCancel(t.Context())
	got := waitAsync(b, ctx)
	waitBuffered(t, b, 1)
	cancel()
	if err := <-got; !errors.As(err, &me) || me.Code != mysql.ER_QUERY_INTERRUPTED {
		t.Fatalf("canceled Wait = %v", err)
	}
}

// TestImplicit: a primary that stops serving (the registry's probe) holds the traffic
// until a primary serves again; so does a shard record naming another primary.
func TestImplicit(t *testing.T) {
	src := newFakeSource()
	src.set("commerce/0", serving("zone1-100"))
	b := newBuffer(t, src, nil)
	waitFor(t, "the serving primary observed", func() bool {
		b.mu.Lock()
		defer b.mu.Unlock()
		s := b.shards["commerce/0"]
		return s != nil && s.servingPrimary == "zone1-100"
	})
	src.set("commerce/0", PrimaryState{Alias: "zone1-100", Serving: false, LastProbe: time.Now()})
	waitFor(t, "buffering", func() bool { return len(b.Stats().Buffering) == 1 })
	got := waitAsync(b, t.Context())
	waitBuffered(t, b, 1)
	src.set("commerce/0", serving("zone1-101"))
	if err := <-got; err != nil {
		t.Fatal(err)
	}
	// An external reparent: the shard record names zone1-200 before its tablet shows.
	b.ShardRecord("commerce", "0", "zone1-200")
	if len(b.Stats().Buffering) != 1 {
		t.Fatal("a shard record naming another primary must hold the traffic")
	}
	got = waitAsync(b, t.Context())
	waitBuffered(t, b, 1)
	src.set("commerce/0", serving("zone1-200"))
	if err := <-got; err != nil {
		t.Fatal(err)
	}
}

// TestPrimaryFailed: a refused connection holds the traffic until a newer probe (or another
// primary) says a primary serves; a primary that still accepts TCP is not held.
func TestPrimaryFailed(t *testing.T) {
	src := newFakeSource()
	src.set("commerce/0", serving("zone1-100"))
	refuse := true
	var mu sync.Mutex
	b := newBuffer(t, src, func(c *Config) {
		c.Dial = func(context.Context, string) error {
			mu.Lock()
			defer mu.Unlock()
			if refuse {
				return errors.New("connection refused")
			}
			return nil
		}
	})
	if !b.PrimaryFailed(t.Context(), "commerce", "0", "zone1-100", "127.0.0.1:1") {
		t.Fatal("a refused primary must be held")
	}
	got := waitAsync(b, t.Context())
	waitBuffered(t, b, 1)
	src.set("commerce/0", PrimaryState{Alias: "zone1-100", Serving: true, LastProbe: time.Now().Add(time.Second)})
	if err := <-got; err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	refuse = false
	mu.Unlock()
	if b.PrimaryFailed(t.Context(), "commerce", "0", "zone1-100", "127.0.0.1:1") {
		t.Fatal("a primary that accepts connections must not be held")
	}
}

func TestMaxFailoverDuration(t *testing.T) {
	src := newFakeSource()
	src.set("commerce/0", serving("zone1-100"))
	var mu sync.Mutex
	now := time.Now()
	b := newBuffer(t, src, func(c *Config) {
		c.Window, c.MaxFailoverDuration = time.Minute, time.Minute
		c.Now = func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	})
	b.StartReparent("commerce", "0", "zone1-100")
	got := waitAsync(b, t.Context())
	waitBuffered(t, b, 1)
	mu.Lock()
	now = now.Add(61 * time.Second)
	mu.Unlock()
	src.set("commerce/0", serving("zone1-100")) // any change re-evaluates
	if err := <-got; err != nil {
		t.Fatalf("after the max failover duration a request goes through: %v", err)
	}
	if _, err := b.Wait(t.Context(), "commerce", "0"); err != nil {
		t.Fatalf("new requests go through too: %v", err)
	}
}

func TestDrain(t *testing.T) {
	src := newFakeSource()
	src.set("commerce/0", serving("zone1-100"))
	b := newBuffer(t, src, nil)
	release, err := b.Wait(t.Context(), "commerce", "0")
	if err != nil {
		t.Fatal(err)
	}
	b.StartReparent("commerce", "0", "zone1-100")
	drained := make(chan error, 1)
	go func() { drained <- b.Drain(t.Context(), "commerce", "0") }()
	select {
	case err := <-drained:
		t.Fatalf("Drain returned with a request running: %v", err)
	case <-time.After(50 * time.Millisecond):
	}
	release()
	if err := <-drained; err != nil {
		t.Fatal(err)
	}
	// Open transactions on the old primary keep it busy until the deadline.
	src.set("commerce/0", PrimaryState{Alias: "zone1-100", Serving: true, OpenTransactions: 1})
	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	if err := b.Drain(ctx, "commerce", "0"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Drain with an open transaction = %v", err)
	}
}

func waitFor(t *testing.T, what string, f func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !f() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// TestGaveUpRearmedByReparent: an outage outlasted --buffer-max-failover-duration (nobody
// recovered it, say blocked by anti-flapping) and requests pass through; a reparent that
// then starts holds them again, for a fresh duration.
func TestGaveUpRearmedByReparent(t *testing.T) {
	src := newFakeSource()
	var mu sync.Mutex
	now := time.Unix(1000, 0)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	src.set("commerce/0", PrimaryState{Alias: "zone1-100", Serving: true, LastProbe: clock()})
	b := newBuffer(t, src, func(c *Config) { c.Now = clock; c.Window = time.Minute; c.MaxFailoverDuration = 2 * time.Minute })
	waitFor(t, "the serving primary observed", func() bool {
		b.mu.Lock()
		defer b.mu.Unlock()
		s := b.shards["commerce/0"]
		return s != nil && s.servingPrimary == "zone1-100"
	})
	src.set("commerce/0", PrimaryState{Alias: "zone1-100", Serving: false, LastProbe: clock()})
	waitFor(t, "buffering", func() bool { return len(b.Stats().Buffering) == 1 })
	mu.Lock()
	now = now.Add(5 * time.Minute)
	mu.Unlock()
	src.set("commerce/0", PrimaryState{Alias: "zone1-100", Serving: false, LastProbe: clock()}) // re-evaluates
	waitFor(t, "giving up", func() bool { return len(b.Stats().Buffering) == 0 })

	b.StartReparent("commerce", "0", "zone1-100")
	if len(b.Stats().Buffering) != 1 {
		t.Fatal("a reparent that starts after the buffer gave up must hold the shard again")
	}
	got := waitAsync(b, t.Context())
	waitBuffered(t, b, 1)
	b.EndReparent("commerce", "0", "zone1-101")
	src.set("commerce/0", PrimaryState{Alias: "zone1-101", Serving: true, LastProbe: clock()})
	if err := <-got; err != nil {
		t.Fatalf("released by the new primary: %v", err)
	}
}

// TestStaleShardRecordDoesNotHold: this gateway's shard-record watch missed a reparent (its
// global topo is unreachable, or it has none): the record it last saw names the old primary
// while the registry serves the new one. Writes go on; only a record that changed to name a
// tablet the registry does not serve yet holds them.
func TestStaleShardRecordDoesNotHold(t *testing.T) {
	src := newFakeSource()
	src.set("commerce/0", serving("zone1-100"))
	b := newBuffer(t, src, nil)
	b.ShardRecord("commerce", "0", "zone1-100")
	waitFor(t, "the serving primary observed", func() bool {
		b.mu.Lock()
		defer b.mu.Unlock()
		s := b.shards["commerce/0"]
		return s != nil && s.servingPrimary == "zone1-100"
	})
	// Another gateway reparented to zone1-101; the registry (cell topo) shows it, the record
	// this gateway holds does not change.
	src.set("commerce/0", serving("zone1-101"))
	waitFor(t, "the new primary observed", func() bool {
		b.mu.Lock()
		defer b.mu.Unlock()
		return b.shards["commerce/0"].servingPrimary == "zone1-101"
	})
	ctx, cancel := context.WithTimeout(t.Context(), time.Second)
	defer cancel()
	release, err := b.Wait(ctx, "commerce", "0")
	if err != nil {
		t.Fatalf("a stale shard record held the new primary's writes: %v", err)
	}
	release()
}

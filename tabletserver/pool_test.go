package tabletserver

import (
	"context"
	"math/rand/v2"
	"sync"
	"testing"

	topodatapb "vitess.io/vitess/go/vt/proto/topodata"
)

// checkUntagged fails the test unless the pool's count of untagged idle connections is what
// its idle list holds, and want.
func checkUntagged(t *testing.T, p *pool, want int) {
	t.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for _, c := range p.idle {
		if !c.inIdle {
			t.Errorf("idle connection %d is not marked inIdle", c.threadID)
		}
		if c.tag == 0 {
			n++
		}
	}
	if p.untagged != n || n != want {
		t.Fatalf("untagged idle connections: counted %d, on the idle list %d, want %d", p.untagged, n, want)
	}
}

// TestPoolUntaggedCount follows the count of untagged idle connections, which lets a hand-out
// skip the scan of the idle list, through every path a connection enters or leaves it: put,
// untag, reclaim, take (including the dead it drops on the way), broken and closed
// connections, the janitor (idle timeout, server gone), flush and concurrent use.
func TestPoolUntaggedCount(t *testing.T) {
	m := sharedMariaDB(t)
	ts := startServer(t, m, Config{MaxConnections: 8, PoolSize: 8}, topodatapb.TabletType_PRIMARY, nil)
	p := ts.be.pool
	ctx := context.Background()
	get := func() *Conn {
		t.Helper()
		c, err := ts.Get(ctx, Want{})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	cs := make([]*Conn, 6)
	for i := range cs {
		cs[i] = get()
	}
	checkUntagged(t, p, 0)
	a, b, c, d, e, f := cs[0], cs[1], cs[2], cs[3], cs[4], cs[5]
	leaseB, leaseC := b.Lease(), c.Lease()
	a.Release(0)
	b.Release(11)
	c.Release(12)
	d.Release(0)
	checkUntagged(t, p, 2)

	c.Untag(leaseC)
	checkUntagged(t, p, 3)
	c.Untag(leaseC) // already untagged
	checkUntagged(t, p, 3)
	b.Untag(leaseB + 1) // someone had it since
	checkUntagged(t, p, 3)

	leaseD := d.Lease()
	if got, ok := ts.Reclaim(ctx, d, leaseD, Want{}); !ok || got != d {
		t.Fatal("reclaim of an idle connection failed")
	}
	checkUntagged(t, p, 2)
	d.Release(13)
	checkUntagged(t, p, 2)

	// Broken and closed connections never reach the idle list.
	e.broken = true
	e.Release(0)
	f.Close()
	checkUntagged(t, p, 2)
	e.Untag(e.Lease())
	checkUntagged(t, p, 2)

	// A take that meets a connection its server has closed drops it on the way: c, the
	// most recent untagged one, is dead; the take hands out a instead.
	p.mu.Lock()
	c.serverWait = 1 // nanosecond
	p.mu.Unlock()
	got := get()
	if got != a {
		t.Fatalf("take handed out %d, want the untagged %d", got.threadID, a.threadID)
	}
	checkUntagged(t, p, 0)
	c.Untag(leaseC) // closed while idle: its state and lease are unchanged
	checkUntagged(t, p, 0)

	// All idle connections tagged, below the limit: a new connection, without a scan.
	dials := ts.Stats().Dials
	g := get()
	if ts.Stats().Dials != dials+1 {
		t.Fatal("with every idle connection tagged and room below the limit, take did not dial")
	}
	got.Release(0)
	g.Release(0)
	checkUntagged(t, p, 2)

	// The janitor: connections past the idle timeout (b, d and a: the ticks move on before g
	// is released again), then one its server has closed (g). The maintenance loop may get
	// there first: the outcome is the same.
	p.tick.Add(p.idleTicks.Load())
	if h := get(); h != g {
		t.Fatalf("take handed out %d, want the most recent untagged %d", h.threadID, g.threadID)
	}
	g.Release(0)
	p.closeIdle()
	checkUntagged(t, p, 1)
	if _, idle := p.sizes(); idle != 1 {
		t.Fatalf("idle connections after the idle timeout: %d, want 1", idle)
	}
	p.mu.Lock()
	g.serverWait = 1
	p.mu.Unlock()
	p.closeIdle()
	checkUntagged(t, p, 0)
	a.Untag(a.Lease()) // closed while idle
	b.Untag(b.Lease())
	checkUntagged(t, p, 0)

	// At the limit with every idle connection tagged: the best one is taken, not a new one.
	held := []*Conn{}
	for range 8 {
		held = append(held, get())
	}
	for i, c := range held {
		c.Release(uint64(100 + i))
	}
	checkUntagged(t, p, 0)
	dials = ts.Stats().Dials
	for range 8 {
		get().Release(200)
	}
	if ts.Stats().Dials != dials {
		t.Fatal("at the limit, take dialed instead of handing out a tagged idle connection")
	}
	checkUntagged(t, p, 0)

	// Concurrent use: hand-outs, tagged and untagged releases, untags, broken connections.
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			r := rand.New(rand.NewPCG(uint64(w), 1))
			for range 200 {
				c, err := ts.Get(ctx, Want{})
				if err != nil {
					t.Error(err)
					return
				}
				lease := c.Lease()
				switch r.IntN(4) {
				case 0:
					c.Release(0)
				case 1:
					c.Release(uint64(1 + r.IntN(3)))
					c.Untag(lease)
				case 2:
					c.Release(uint64(1 + r.IntN(3)))
				default:
					c.broken = true
					c.Release(0)
				}
			}
		})
	}
	wg.Wait()
	p.mu.Lock()
	want := p.untagged
	p.mu.Unlock()
	checkUntagged(t, p, want)

	p.flushIdle()
	checkUntagged(t, p, 0)
}

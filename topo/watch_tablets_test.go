package topo_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/vtdirect/vtdirect/topo"
	topodatapb "vitess.io/vitess/go/vt/proto/topodata"
)

func nextChange(t *testing.T, ch <-chan topo.TabletChange) topo.TabletChange {
	t.Helper()
	select {
	case c, ok := <-ch:
		if !ok {
			t.Fatal("tablet watch closed")
		}
		return c
	case <-time.After(10 * time.Second):
		t.Fatal("no tablet change")
	}
	return topo.TabletChange{}
}

func TestWatchTablets(t *testing.T) {
	backends(t, func(t *testing.T, ctx context.Context, ts *topo.Server) {
		setupCommerce(t, ctx, ts)
		wctx, cancel := context.WithCancel(ctx)
		defer cancel()
		initial, ch, err := ts.WatchTablets(wctx, "zone1")
		if err != nil {
			t.Fatal(err)
		}
		if got := aliasStrings(initial); len(got) != 2 || got[0] != "zone1-0000000100" || got[1] != "zone1-0000000101" {
			t.Fatalf("initial = %v", got)
		}

		// Add, change, delete in zone1; a change in zone2 is not seen.
		ok(t, ts.CreateTablet(ctx, tablet(t, "zone1-102", "commerce", "0", topodatapb.TabletType_REPLICA, 17102)))
		ok(t, ts.CreateTablet(ctx, tablet(t, "zone2-202", "commerce", "0", topodatapb.TabletType_REPLICA, 17202)))
		_, err = ts.UpdateTabletFields(ctx, alias(t, "zone1-101"), func(tb *topodatapb.Tablet) error {
			tb.Type = topodatapb.TabletType_RDONLY
			return nil
		})
		ok(t, err)
		ok(t, ts.DeleteTablet(ctx, alias(t, "zone1-100")))

		c := nextChange(t, ch)
		if c.Err != nil || c.Tablet == nil || c.Tablet.MysqlPort != 17102 || c.Alias.Uid != 102 {
			t.Fatalf("change 1 = %+v", c)
		}
		c = nextChange(t, ch)
		if c.Err != nil || c.Tablet.GetType() != topodatapb.TabletType_RDONLY || c.Alias.Uid != 101 {
			t.Fatalf("change 2 = %+v", c)
		}
		c = nextChange(t, ch)
		if c.Err != nil || c.Tablet != nil || c.Alias.Uid != 100 {
			t.Fatalf("change 3 (delete) = %+v", c)
		}

		// The channel closes when ctx ends.
		cancel()
		for {
			select {
			case _, open := <-ch:
				if !open {
					return
				}
			case <-time.After(10 * time.Second):
				t.Fatal("watch not closed after cancel")
			}
		}
	})
}

// TestWatchTabletsEndsWithError: closing the Server ends the watch with an error item, so a
// consumer knows to re-list.
func TestWatchTabletsEndsWithError(t *testing.T) {
	backends(t, func(t *testing.T, ctx context.Context, ts *topo.Server) {
		setupCommerce(t, ctx, ts)
		_, ch, err := ts.WatchTablets(ctx, "zone2")
		ok(t, err)
		ts.Close()
		var last topo.TabletChange
		for c := range ch {
			last = c
		}
		if last.Err == nil {
			t.Fatal("watch closed without an error item")
		}
	})
}

func TestWatchTabletsUnknownCell(t *testing.T) {
	backends(t, func(t *testing.T, ctx context.Context, ts *topo.Server) {
		_, _, err := ts.WatchTablets(ctx, "zone9")
		if !errors.Is(err, topo.ErrNoNode) {
			t.Fatalf("WatchTablets(zone9) = %v, want ErrNoNode", err)
		}
	})
}

package topotest

import (
	"context"
	"testing"
	"time"

	"github.com/vtdirect/vtdirect/topo"
)

// RunWatchRestart checks that a watch on c rides through a restart of its server: restart
// stops the server and starts it again with its data (same address). Changes made after the
// restart arrive, in order, and the watch does not end.
func RunWatchRestart(t *testing.T, c topo.Conn, restart func()) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if _, err := c.Update(ctx, "restart/tablets/a/Tablet", []byte("1"), nil); err != nil {
		t.Fatal(err)
	}
	initial, ch, err := c.WatchRecursive(ctx, "restart/tablets")
	if err != nil {
		t.Fatal(err)
	}
	if len(initial) != 1 || string(initial[0].Contents) != "1" {
		t.Fatalf("initial = %+v", initial)
	}
	restart()
	// Writes may fail while the client reconnects: retry until one lands.
	for {
		wctx, wcancel := context.WithTimeout(ctx, 2*time.Second)
		_, err := c.Update(wctx, "restart/tablets/a/Tablet", []byte("2"), nil)
		wcancel()
		if err == nil {
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("no write after restart: %v", err)
		}
		time.Sleep(100 * time.Millisecond) // a refused connection fails at once: do not spin
	}
	// Spaced, so that a coalescing backend delivers both.
	want := []struct{ path, data string }{{"restart/tablets/a/Tablet", "2"}, {"restart/tablets/b/Tablet", "3"}}
	for i, w := range want {
		if i > 0 {
			if _, err := c.Update(ctx, w.path, []byte(w.data), nil); err != nil {
				t.Fatal(err)
			}
		}
		select {
		case wd, ok := <-ch:
			if !ok {
				t.Fatal("watch closed by the restart")
			}
			if wd.Err != nil {
				t.Fatalf("watch failed across restart: %v", wd.Err)
			}
			if wd.Path != w.path || string(wd.Contents) != w.data {
				t.Fatalf("event %s %q, want %s %q", wd.Path, wd.Contents, w.path, w.data)
			}
		case <-ctx.Done():
			t.Fatalf("no event %s %q after restart", w.path, w.data)
		}
	}
}

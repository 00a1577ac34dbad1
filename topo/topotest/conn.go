package topotest

import (
	"context"
	"errors"
	"fmt"
	"path"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vtdirect/vtdirect/topo"
)

// Open returns a Conn on root of the backend under test. Every call of one RunConn is on the
// same server; RunConn gives each subtest its own roots.
type Open func(t *testing.T, root string) topo.Conn

// watchTimeout bounds how long a test waits for a watch event that must come.
const watchTimeout = 10 * time.Second

// RunConn runs the conformance suite against a backend.
func RunConn(t *testing.T, open Open, opts ...Option) {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	watchOrder := testWatchOrder
	if o.coalescedWatch {
		watchOrder = testWatchOrderPaced
	}
	tests := []struct {
		name string
		fn   func(t *testing.T, ctx context.Context, open func(root string) topo.Conn)
	}{
		{"CreateGet", testCreateGet},
		{"UpdateVersions", testUpdateVersions},
		{"DeleteVersions", testDeleteVersions},
		{"ListDir", testListDir},
		{"RootsAreIsolated", testRootsAreIsolated},
		{"BadPaths", testBadPaths},
		{"ConcurrentCAS", testConcurrentCAS},
		{"WatchOrder", watchOrder},
		{"WatchBurst", testWatchBurst},
		{"WatchCancel", testWatchCancel},
		{"WatchEndsOnClose", testWatchEndsOnClose},
		{"Closed", testClosed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			base := "/conformance/" + strings.ReplaceAll(t.Name(), "/", "_")
			tc.fn(t, ctx, func(root string) topo.Conn {
				c := open(t, path.Join(base, root))
				t.Cleanup(c.Close)
				return c
			})
		})
	}
}

// wantErr fails unless err wraps want and names key.
func wantErr(t *testing.T, err, want error, key string) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("error = %v, want %v", err, want)
	}
	if !strings.Contains(err.Error(), key) {
		t.Fatalf("error %q does not name the key %q", err, key)
	}
}

func must[T any](t *testing.T) func(T, error) T {
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

func testCreateGet(t *testing.T, ctx context.Context, open func(string) topo.Conn) {
	c := open("r")
	v1 := must[topo.Version](t)(c.Create(ctx, "a/b/file", []byte("one")))
	data, v, err := c.Get(ctx, "a/b/file")
	if err != nil || string(data) != "one" || v.String() != v1.String() {
		t.Fatalf("Get = %q, %v, %v; want one, %v", data, v, err, v1)
	}
	_, err = c.Create(ctx, "a/b/file", []byte("two"))
	wantErr(t, err, topo.ErrNodeExists, "a/b/file")
	_, _, err = c.Get(ctx, "a/b/missing")
	wantErr(t, err, topo.ErrNoNode, "a/b/missing")
	// A directory is not a file.
	_, _, err = c.Get(ctx, "a/b")
	wantErr(t, err, topo.ErrNoNode, "a/b")
	// Empty contents are a real file.
	must[topo.Version](t)(c.Create(ctx, "empty", nil))
	if data, _, err := c.Get(ctx, "empty"); err != nil || len(data) != 0 {
		t.Fatalf("Get(empty) = %q, %v", data, err)
	}
}

func testUpdateVersions(t *testing.T, ctx context.Context, open func(string) topo.Conn) {
	c := open("r")
	v1 := must[topo.Version](t)(c.Create(ctx, "f", []byte("1")))
	v2 := must[topo.Version](t)(c.Update(ctx, "f", []byte("2"), v1))
	if v2.String() == v1.String() {
		t.Fatalf("Update kept version %v", v1)
	}
	// A stale version fails and leaves the file alone.
	_, err := c.Update(ctx, "f", []byte("stale"), v1)
	wantErr(t, err, topo.ErrBadVersion, "f")
	if data, v, _ := c.Get(ctx, "f"); string(data) != "2" || v.String() != v2.String() {
		t.Fatalf("after stale update: %q %v, want 2 %v", data, v, v2)
	}
	// nil version: unconditional, and creates a missing file.
	must[topo.Version](t)(c.Update(ctx, "f", []byte("3"), nil))
	must[topo.Version](t)(c.Update(ctx, "new", []byte("n"), nil))
	if data, _, _ := c.Get(ctx, "new"); string(data) != "n" {
		t.Fatalf("unconditional update did not create: %q", data)
	}
	// A conditional update of a missing file fails.
	_, err = c.Update(ctx, "missing", []byte("x"), v2)
	if !errors.Is(err, topo.ErrNoNode) && !errors.Is(err, topo.ErrBadVersion) {
		t.Fatalf("conditional update of missing file: %v", err)
	}
}

func testDeleteVersions(t *testing.T, ctx context.Context, open func(string) topo.Conn) {
	c := open("r")
	v1 := must[topo.Version](t)(c.Create(ctx, "f", []byte("1")))
	v2 := must[topo.Version](t)(c.Update(ctx, "f", []byte("2"), v1))
	wantErr(t, c.Delete(ctx, "f", v1), topo.ErrBadVersion, "f")
	if err := c.Delete(ctx, "f", v2); err != nil {
		t.Fatal(err)
	}
	_, _, err := c.Get(ctx, "f")
	wantErr(t, err, topo.ErrNoNode, "f")
	wantErr(t, c.Delete(ctx, "f", nil), topo.ErrNoNode, "f")
	wantErr(t, c.Delete(ctx, "f", v2), topo.ErrNoNode, "f")
	must[topo.Version](t)(c.Create(ctx, "g", nil))
	if err := c.Delete(ctx, "g", nil); err != nil {
		t.Fatal(err)
	}
}

func testListDir(t *testing.T, ctx context.Context, open func(string) topo.Conn) {
	c := open("r")
	for _, p := range []string{"cells/zone2/CellInfo", "cells/zone1/CellInfo", "cells/zone1/other", "cells_aliases/x/CellsAlias", "cellsfile", "top"} {
		must[topo.Version](t)(c.Create(ctx, p, []byte(p)))
	}
	for _, tc := range []struct {
		dir  string
		want []string
	}{
		{"", []string{"cells", "cells_aliases", "cellsfile", "top"}},
		{"cells", []string{"zone1", "zone2"}},
		{"cells/", []string{"zone1", "zone2"}},
		{"cells/zone1", []string{"CellInfo", "other"}},
	} {
		got, err := c.ListDir(ctx, tc.dir)
		if err != nil || !slices.Equal(got, tc.want) {
			t.Errorf("ListDir(%q) = %v, %v; want %v", tc.dir, got, err, tc.want)
		}
	}
	_, err := c.ListDir(ctx, "nothing")
	wantErr(t, err, topo.ErrNoNode, "nothing")
	// "cell" is a prefix of "cells" but not a directory.
	_, err = c.ListDir(ctx, "cell")
	wantErr(t, err, topo.ErrNoNode, "cell")
	// A directory disappears with its last file.
	if err := c.Delete(ctx, "cells_aliases/x/CellsAlias", nil); err != nil {
		t.Fatal(err)
	}
	_, err = c.ListDir(ctx, "cells_aliases")
	wantErr(t, err, topo.ErrNoNode, "cells_aliases")
}

func testRootsAreIsolated(t *testing.T, ctx context.Context, open func(string) topo.Conn) {
	a, b := open("vitess/global"), open("vitess/global2")
	must[topo.Version](t)(a.Create(ctx, "k", []byte("a")))
	must[topo.Version](t)(b.Create(ctx, "k", []byte("b")))
	must[topo.Version](t)(b.Create(ctx, "only-b", nil))
	if data, _, _ := a.Get(ctx, "k"); string(data) != "a" {
		t.Fatalf("root a sees %q", data)
	}
	names, err := a.ListDir(ctx, "")
	if err != nil || !slices.Equal(names, []string{"k"}) {
		t.Fatalf("root a lists %v, %v; want [k]", names, err)
	}
	initial, _, err := a.WatchRecursive(ctx, "")
	if err != nil || len(initial) != 1 || initial[0].Path != "k" {
		t.Fatalf("root a watch sees %v, %v", initial, err)
	}
}

func testBadPaths(t *testing.T, ctx context.Context, open func(string) topo.Conn) {
	c := open("r")
	for _, p := range []string{"../escape", "a/../../b", "a/./b"} {
		if _, err := c.Create(ctx, p, nil); !errors.Is(err, topo.ErrInvalid) {
			t.Errorf("Create(%q) = %v, want ErrInvalid", p, err)
		}
	}
}

// testConcurrentCAS has writers increment one counter with compare-and-swap: no increment may
// be lost, which only holds if stale versions are refused.
func testConcurrentCAS(t *testing.T, ctx context.Context, open func(string) topo.Conn) {
	c := open("r")
	must[topo.Version](t)(c.Create(ctx, "counter", []byte("0")))
	const writers, increments = 4, 10
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for range writers {
		wg.Go(func() {
			for range increments {
				for {
					data, v, err := c.Get(ctx, "counter")
					if err != nil {
						errs <- err
						return
					}
					var n int
					fmt.Sscan(string(data), &n)
					_, err = c.Update(ctx, "counter", fmt.Appendf(nil, "%d", n+1), v)
					if err == nil {
						break
					}
					if !errors.Is(err, topo.ErrBadVersion) {
						errs <- err
						return
					}
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if data, _, _ := c.Get(ctx, "counter"); string(data) != fmt.Sprint(writers*increments) {
		t.Fatalf("counter = %s, want %d", data, writers*increments)
	}
}

// next receives one watch item or fails after watchTimeout.
func next(t *testing.T, ch <-chan *topo.WatchData) *topo.WatchData {
	t.Helper()
	select {
	case wd, ok := <-ch:
		if !ok {
			t.Fatal("watch channel closed")
		}
		return wd
	case <-time.After(watchTimeout):
		t.Fatal("no watch event")
	}
	return nil
}

func testWatchOrder(t *testing.T, ctx context.Context, open func(string) topo.Conn) {
	c := open("r")
	vA := must[topo.Version](t)(c.Create(ctx, "tablets/a/Tablet", []byte("a0")))
	must[topo.Version](t)(c.Create(ctx, "other/x", []byte("x")))
	initial, ch, err := c.WatchRecursive(ctx, "tablets")
	if err != nil {
		t.Fatal(err)
	}
	if len(initial) != 1 || initial[0].Path != "tablets/a/Tablet" || string(initial[0].Contents) != "a0" || initial[0].Version.String() != vA.String() {
		t.Fatalf("initial = %+v", initial)
	}
	type step struct {
		path    string
		data    string // "" with del
		del     bool
		version topo.Version
	}
	var want []step
	write := func(p, data string) {
		v := must[topo.Version](t)(c.Update(ctx, p, []byte(data), nil))
		want = append(want, step{path: p, data: data, version: v})
	}
	for i := range 5 {
		write("tablets/a/Tablet", fmt.Sprintf("a%d", i+1))
		write(fmt.Sprintf("tablets/b%d/Tablet", i), "b")
		must[topo.Version](t)(c.Update(ctx, "other/x", []byte("ignored"), nil))
	}
	if err := c.Delete(ctx, "tablets/b0/Tablet", nil); err != nil {
		t.Fatal(err)
	}
	want = append(want, step{path: "tablets/b0/Tablet", del: true})
	write("tablets/b0/Tablet", "again")
	for i, w := range want {
		got := next(t, ch)
		if got.Err != nil || got.Path != w.path || got.Deleted != w.del || string(got.Contents) != w.data {
			t.Fatalf("event %d = %+v, want %+v", i, got, w)
		}
		if w.version != nil && got.Version.String() != w.version.String() {
			t.Fatalf("event %d version %v, want %v", i, got.Version, w.version)
		}
	}
}

func testWatchCancel(t *testing.T, ctx context.Context, open func(string) topo.Conn) {
	c := open("r")
	wctx, cancel := context.WithCancel(ctx)
	_, ch, err := c.WatchRecursive(wctx, "d")
	if err != nil {
		t.Fatal(err)
	}
	cancel()
	deadline := time.After(watchTimeout)
	for {
		select {
		case _, ok := <-ch:
			if !ok {
				return
			}
		case <-deadline:
			t.Fatal("watch channel not closed after cancel")
		}
	}
}

func testWatchEndsOnClose(t *testing.T, ctx context.Context, open func(string) topo.Conn) {
	c := open("r")
	_, ch, err := c.WatchRecursive(ctx, "d")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { c.Close(); close(done) }()
	deadline := time.After(watchTimeout)
	for {
		select {
		case wd, ok := <-ch:
			if !ok {
				<-done
				return
			}
			if !errors.Is(wd.Err, topo.ErrClosed) {
				t.Fatalf("watch item after Close: %+v", wd)
			}
		case <-deadline:
			t.Fatal("watch channel not closed after Close")
		}
	}
}

func testClosed(t *testing.T, ctx context.Context, open func(string) topo.Conn) {
	c := open("r")
	c.Close()
	_, err := c.Create(ctx, "f", nil)
	wantErr(t, err, topo.ErrClosed, "f")
	_, _, err = c.Get(ctx, "f")
	wantErr(t, err, topo.ErrClosed, "f")
	_, _, err = c.WatchRecursive(ctx, "f")
	wantErr(t, err, topo.ErrClosed, "f")
	c.Close() // twice is fine
}

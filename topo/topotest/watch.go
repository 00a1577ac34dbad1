package topotest

import (
	"context"
	"fmt"
	"strconv"
	"testing"

	"github.com/vtdirect/vtdirect/topo"
)

// testWatchOrderPaced is WatchOrder for coalescing backends: each change is made once the
// previous one was seen, and every one must arrive, in order, with its version.
func testWatchOrderPaced(t *testing.T, ctx context.Context, open func(string) topo.Conn) {
	c := open("r")
	must[topo.Version](t)(c.Create(ctx, "tablets/a/Tablet", []byte("a0")))
	must[topo.Version](t)(c.Create(ctx, "other/x", []byte("x")))
	initial, ch, err := c.WatchRecursive(ctx, "tablets")
	if err != nil {
		t.Fatal(err)
	}
	if len(initial) != 1 || initial[0].Path != "tablets/a/Tablet" || string(initial[0].Contents) != "a0" {
		t.Fatalf("initial = %+v", initial)
	}
	expect := func(p, data string, del bool, v topo.Version) {
		t.Helper()
		got := next(t, ch)
		if got.Err != nil || got.Path != p || got.Deleted != del || string(got.Contents) != data {
			t.Fatalf("event = %+v, want %s %q deleted=%v", got, p, data, del)
		}
		if v != nil && got.Version.String() != v.String() {
			t.Fatalf("event %s version %v, want %v", p, got.Version, v)
		}
	}
	for i := range 3 {
		data := fmt.Sprintf("a%d", i+1)
		expect("tablets/a/Tablet", data, false, must[topo.Version](t)(c.Update(ctx, "tablets/a/Tablet", []byte(data), nil)))
		// A change outside the watched directory is not delivered: the next item is b's.
		must[topo.Version](t)(c.Update(ctx, "other/x", []byte("ignored"), nil))
		p := fmt.Sprintf("tablets/b%d/Tablet", i)
		expect(p, "b", false, must[topo.Version](t)(c.Create(ctx, p, []byte("b"))))
	}
	if err := c.Delete(ctx, "tablets/b0/Tablet", nil); err != nil {
		t.Fatal(err)
	}
	expect("tablets/b0/Tablet", "", true, nil)
	expect("tablets/b0/Tablet", "again", false, must[topo.Version](t)(c.Create(ctx, "tablets/b0/Tablet", []byte("again"))))
}

// testWatchBurst makes many changes without waiting: the watch must converge to the final
// state, every item being a state a file really had, with a file's versions going up.
// Strict backends deliver every change anyway, so this holds for them too.
func testWatchBurst(t *testing.T, ctx context.Context, open func(string) topo.Conn) {
	c := open("r")
	_, ch, err := c.WatchRecursive(ctx, "d")
	if err != nil {
		t.Fatal(err)
	}
	type state struct {
		data    string
		deleted bool
	}
	// real[path][version] is every state a file had; final[path] its last.
	real := map[string]map[string]state{}
	final := map[string]state{}
	record := func(p string, v topo.Version, s state) {
		if real[p] == nil {
			real[p] = map[string]state{}
		}
		if v != nil {
			real[p][v.String()] = s
		}
		final[p] = s
	}
	const files, rounds = 5, 6
	for r := range rounds {
		for f := range files {
			p := fmt.Sprintf("d/f%d", f)
			data := fmt.Sprintf("%d-%d", f, r)
			record(p, must[topo.Version](t)(c.Update(ctx, p, []byte(data), nil)), state{data: data})
		}
	}
	for _, f := range []int{1, 3} { // delete two files at the end
		p := fmt.Sprintf("d/f%d", f)
		if err := c.Delete(ctx, p, nil); err != nil {
			t.Fatal(err)
		}
		record(p, nil, state{deleted: true})
	}
	seen := map[string]state{}
	lastVersion := map[string]uint64{}
	for !sameStates(seen, final) {
		wd := next(t, ch)
		if wd.Err != nil {
			t.Fatalf("watch error: %v", wd.Err)
		}
		if wd.Deleted {
			seen[wd.Path] = state{deleted: true}
			continue
		}
		s := state{data: string(wd.Contents)}
		if want, ok := real[wd.Path][wd.Version.String()]; !ok || want != s {
			t.Fatalf("event %s %q at version %v is no state the file had", wd.Path, wd.Contents, wd.Version)
		}
		if v, err := strconv.ParseUint(wd.Version.String(), 10, 64); err == nil {
			if v <= lastVersion[wd.Path] {
				t.Fatalf("event %s version %d after version %d", wd.Path, v, lastVersion[wd.Path])
			}
			lastVersion[wd.Path] = v
		}
		seen[wd.Path] = s
	}
}

func sameStates[S comparable](a, b map[string]S) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range b {
		if a[k] != v {
			return false
		}
	}
	return true
}

package topo_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/vtdirect/vtdirect/local"
	"github.com/vtdirect/vtdirect/topo"
	"github.com/vtdirect/vtdirect/topo/topotest"
)

// startEtcd runs an embedded etcd for the test (the same launcher as `vtdirect local up`).
func startEtcd(t *testing.T) *local.Etcd {
	t.Helper()
	e, err := local.StartEtcd(t.TempDir(), 0, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.Close)
	return e
}

func dial(t *testing.T, addr, root string) *topo.EtcdConn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := topo.DialEtcd(ctx, addr, root)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestEtcdConformance(t *testing.T) {
	e := startEtcd(t)
	topotest.RunConn(t, func(t *testing.T, root string) topo.Conn { return dial(t, e.Endpoint(), root) })
}

// TestEtcdSharedClient runs the suite on Conns that share one client, as cells on the global
// etcd do.
func TestEtcdSharedClient(t *testing.T) {
	e := startEtcd(t)
	shared := dial(t, e.Endpoint(), "/")
	t.Cleanup(shared.Close)
	topotest.RunConn(t, func(t *testing.T, root string) topo.Conn { return topo.NewEtcdConn(shared.Client(), root) })
}

func TestEtcdDialFailsClearly(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	// A port nothing listens on.
	port, err := local.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	addr := "127.0.0.1:" + itoa(port)
	_, err = topo.DialEtcd(ctx, addr, "/vitess/global")
	if err == nil || !contains(err.Error(), addr) || !contains(err.Error(), "--topo-addr") {
		t.Fatalf("DialEtcd to nothing = %v; want an error naming %s and the flag", err, addr)
	}
	_, err = topo.DialEtcd(ctx, "", "/vitess/global")
	if !errors.Is(err, topo.ErrInvalid) {
		t.Fatalf("DialEtcd with no address = %v, want ErrInvalid", err)
	}
}

// TestEtcdWatchSurvivesRestart restarts etcd under a watch: changes made after the restart
// still arrive, in order, with nothing lost or doubled.
func TestEtcdWatchSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	e, err := local.StartEtcd(dir, 0, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	port := e.Port()
	c := dial(t, e.Endpoint(), "/vitess/zone1")
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	if _, err := c.Create(ctx, "tablets/a/Tablet", []byte("1")); err != nil {
		t.Fatal(err)
	}
	_, ch, err := c.WatchRecursive(ctx, "tablets")
	if err != nil {
		t.Fatal(err)
	}
	e.Close()
	e, err = local.StartEtcd(dir, port, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	// Writes may fail while the client reconnects: retry until one lands.
	for {
		wctx, wcancel := context.WithTimeout(ctx, 2*time.Second)
		_, err := c.Update(wctx, "tablets/a/Tablet", []byte("2"), nil)
		wcancel()
		if err == nil {
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("no write after restart: %v", err)
		}
	}
	if _, err := c.Update(ctx, "tablets/b/Tablet", []byte("3"), nil); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"2", "3"} {
		select {
		case wd, ok := <-ch:
			if !ok {
				t.Fatal("watch closed by the restart")
			}
			if wd.Err != nil {
				// Acceptable by contract (re-list and re-watch), but then say so loudly:
				// this backend should ride through a restart.
				t.Fatalf("watch failed across restart: %v", wd.Err)
			}
			if string(wd.Contents) != want {
				t.Fatalf("event %q, want %q", wd.Contents, want)
			}
		case <-ctx.Done():
			t.Fatal("no event after restart")
		}
	}
}

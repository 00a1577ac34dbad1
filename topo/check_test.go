package topo_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/vtdirect/vtdirect/topo"
	"github.com/vtdirect/vtdirect/topo/memorytopo"
	topodatapb "vitess.io/vitess/go/vt/proto/topodata"
)

// TestCheckNamesBadRecords: a sound topology checks clean; each kind of damage is reported
// with the key at fault, on every backend.
func TestCheckNamesBadRecords(t *testing.T) {
	backends(t, func(t *testing.T, ctx context.Context, ts *topo.Server) {
		setupCommerce(t, ctx, ts)
		ok(t, ts.Check(ctx))
		g := ts.GlobalConn()

		// An alias naming a cell that does not exist (written behind the Server's back, as
		// another tool could).
		data, err := (&topodatapb.CellsAlias{Cells: []string{"zone1", "zone9"}}).MarshalVT()
		ok(t, err)
		_, err = g.Update(ctx, "cells_aliases/bad/CellsAlias", data, nil)
		ok(t, err)
		err = ts.Check(ctx)
		if !errors.Is(err, topo.ErrNoNode) || !strings.Contains(err.Error(), "cells_aliases/bad/CellsAlias") || !strings.Contains(err.Error(), "zone9") {
			t.Fatalf("Check with an alias naming zone9 = %v", err)
		}
		ok(t, g.Delete(ctx, "cells_aliases/bad/CellsAlias", nil))

		// A corrupt shard record.
		_, err = g.Update(ctx, "keyspaces/commerce/shards/0/Shard", garbage["text"], nil)
		ok(t, err)
		err = ts.Check(ctx)
		if !errors.Is(err, topo.ErrCorrupt) || !strings.Contains(err.Error(), "keyspaces/commerce/shards/0/Shard") {
			t.Fatalf("Check with a corrupt shard = %v", err)
		}

		// A missing cell: reading it says which cell and what to run.
		_, err = ts.GetCellInfo(ctx, "zone9")
		if !errors.Is(err, topo.ErrNoNode) || !strings.Contains(err.Error(), "cells/zone9/CellInfo") {
			t.Fatalf("GetCellInfo(zone9) = %v", err)
		}
		if _, err := ts.ListTablets(ctx, "zone9"); !errors.Is(err, topo.ErrNoNode) || !strings.Contains(err.Error(), "zone9") {
			t.Fatalf("ListTablets(zone9) = %v", err)
		}
	})
}

// TestCheckRootMissing: a root with nothing below it is an error naming the root, not an empty
// topology.
func TestCheckRootMissing(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	store := memorytopo.NewStore()
	ts := memorytopo.NewServerOn(store)
	defer ts.Close()
	err := ts.CheckRoot(ctx)
	if !errors.Is(err, topo.ErrEmptyRoot) || !strings.Contains(err.Error(), "/vitess/global") {
		t.Fatalf("CheckRoot on an empty root = %v", err)
	}
	if err := ts.Check(ctx); !errors.Is(err, topo.ErrEmptyRoot) {
		t.Fatalf("Check on an empty root = %v", err)
	}
	ok(t, ts.CreateKeyspace(ctx, "commerce", nil))
	ok(t, ts.CheckRoot(ctx))
}

// TestLocksNeedABackendWithSessions: the memory backend has no locks, and says so.
func TestLocksNeedABackendWithSessions(t *testing.T) {
	backends(t, func(t *testing.T, ctx context.Context, ts *topo.Server) {
		setupCommerce(t, ctx, ts)
		lease, err := ts.LockShard(ctx, "commerce", "0", "test", 5*time.Second)
		if _, isMemory := ts.GlobalConn().(*memorytopo.Conn); isMemory {
			if !errors.Is(err, topo.ErrNotSupported) {
				t.Fatalf("LockShard on memory = %v, want ErrNotSupported", err)
			}
			return
		}
		ok(t, err)
		// A second lock on the same shard waits: a short deadline runs out.
		short, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
		_, err = ts.LockShard(short, "commerce", "0", "test2", 5*time.Second)
		cancel()
		if err == nil {
			t.Fatal("second LockShard succeeded while the shard is locked")
		}
		ok(t, lease.Release(ctx))
		// The keyspace lock is another lock.
		kl, err := ts.LockKeyspace(ctx, "commerce", "test", 5*time.Second)
		ok(t, err)
		ok(t, kl.Release(ctx))
		// Missing shard, bad ttl, bad election name: clear errors.
		if _, err := ts.LockShard(ctx, "commerce", "-80", "test", 5*time.Second); !errors.Is(err, topo.ErrNoNode) || !strings.Contains(err.Error(), "shards/-80/Shard") {
			t.Fatalf("LockShard of a missing shard = %v", err)
		}
		if _, err := ts.LockShard(ctx, "commerce", "0", "test", 0); !errors.Is(err, topo.ErrInvalid) {
			t.Fatalf("LockShard with ttl 0 = %v", err)
		}
		if _, err := ts.Campaign(ctx, "bad/name", "id", 5*time.Second); !errors.Is(err, topo.ErrInvalid) {
			t.Fatalf("Campaign with a bad name = %v", err)
		}
		leader, err := ts.Campaign(ctx, "failover", "me", 5*time.Second)
		ok(t, err)
		if id, err := ts.Leader(ctx, "failover"); err != nil || id != "me" {
			t.Fatalf("Leader = %q, %v", id, err)
		}
		ok(t, leader.Release(ctx))
	})
}

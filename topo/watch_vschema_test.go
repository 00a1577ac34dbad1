package topo_test

import (
	"context"
	"testing"
	"time"

	vschemapb "vitess.io/vitess/go/vt/proto/vschema"

	"github.com/vtdirect/vtdirect/topo"
)

func nextVSchemaChange(t *testing.T, ch <-chan topo.VSchemaChange) topo.VSchemaChange {
	t.Helper()
	select {
	case c, open := <-ch:
		if !open {
			t.Fatal("watch closed")
		}
		return c
	case <-time.After(10 * time.Second):
		t.Fatal("no vschema change within 10s")
	}
	return topo.VSchemaChange{}
}

func TestWatchVSchemas(t *testing.T) {
	backends(t, func(t *testing.T, ctx context.Context, ts *topo.Server) {
		setupCommerce(t, ctx, ts) // commerce with an empty VSchema, a shard, tablets
		wctx, cancel := context.WithCancel(ctx)
		defer cancel()
		initial, ch, err := ts.WatchVSchemas(wctx)
		ok(t, err)
		if len(initial) != 1 || initial["commerce"] == nil || initial["commerce"].Sharded {
			t.Fatalf("initial = %v", initial)
		}
		ok(t, ts.CreateKeyspace(ctx, "customer", nil))
		c := nextVSchemaChange(t, ch) // CreateKeyspace writes an empty VSchema
		if c.Err != nil || c.Keyspace != "customer" || c.VSchema == nil || c.VSchema.Sharded {
			t.Fatalf("change 1 = %+v", c)
		}
		ok(t, ts.CreateShard(ctx, "customer", "-80")) // a shard record is not a vschema
		ok(t, ts.SaveVSchema(ctx, "customer", &vschemapb.Keyspace{Sharded: true}))
		c = nextVSchemaChange(t, ch)
		if c.Err != nil || c.Keyspace != "customer" || !c.VSchema.GetSharded() {
			t.Fatalf("change 2 = %+v", c)
		}
		ok(t, ts.DeleteShard(ctx, "customer", "-80"))
		ok(t, ts.DeleteKeyspace(ctx, "customer"))
		c = nextVSchemaChange(t, ch)
		if c.Err != nil || c.Keyspace != "customer" || c.VSchema != nil {
			t.Fatalf("change 3 (delete) = %+v", c)
		}
		ok(t, ts.GlobalConn().Delete(ctx, "keyspaces/commerce/VSchema", nil))
		ok(t, ts.SaveVSchema(ctx, "commerce", &vschemapb.Keyspace{}))
		c = nextVSchemaChange(t, ch)
		if c.Keyspace != "commerce" || c.VSchema != nil {
			t.Fatalf("change 4 = %+v", c)
		}
		c = nextVSchemaChange(t, ch)
		if c.Keyspace != "commerce" || c.VSchema == nil {
			t.Fatalf("change 5 = %+v", c)
		}
		ts.Close()
		var last topo.VSchemaChange
		for c := range ch {
			last = c
		}
		if last.Err == nil {
			t.Fatal("watch closed without an error item after the topo closed")
		}
	})
}

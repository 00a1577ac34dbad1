package topo_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/vtdirect/vtdirect/topo"
	topodatapb "vitess.io/vitess/go/vt/proto/topodata"
)

// garbage is a set of byte strings that are not valid protobuf encodings.
var garbage = map[string][]byte{
	"text":      []byte("this is not a protobuf"),
	"json":      []byte(`{"keyspace":"commerce"}`),
	"truncated": {0x0a, 0x10, 'z', 'o'},
	"bad wire":  {0xff, 0xff, 0xff},
}

// TestCorruptRecords: bytes that do not decode give ErrCorrupt naming the key, from every
// reader, never an empty record.
func TestCorruptRecords(t *testing.T) {
	backends(t, func(t *testing.T, ctx context.Context, ts *topo.Server) {
		setupCommerce(t, ctx, ts)
		g := ts.GlobalConn()
		zone1, err := ts.CellConn(ctx, "zone1")
		ok(t, err)
		for name, junk := range garbage {
			t.Run(name, func(t *testing.T) {
				put := func(c topo.Conn, p string) func() {
					old, _, err := c.Get(ctx, p)
					ok(t, err)
					_, err = c.Update(ctx, p, junk, nil)
					ok(t, err)
					return func() { _, err := c.Update(ctx, p, old, nil); ok(t, err) }
				}
				for _, tc := range []struct {
					conn topo.Conn
					key  string
					read func() error
				}{
					{g, "cells/zone2/CellInfo", func() error { _, err := ts.GetCellInfo(ctx, "zone2"); return err }},
					{g, "cells_aliases/region1/CellsAlias", func() error { _, err := ts.GetCellsAliases(ctx); return err }},
					{g, "keyspaces/commerce/Keyspace", func() error { _, err := ts.GetKeyspace(ctx, "commerce"); return err }},
					{g, "keyspaces/commerce/shards/0/Shard", func() error { _, err := ts.GetShard(ctx, "commerce", "0"); return err }},
					{zone1, "tablets/zone1-0000000100/Tablet", func() error { _, err := ts.GetTablet(ctx, alias(t, "zone1-100")); return err }},
					{zone1, "tablets/zone1-0000000100/Tablet", func() error { _, err := ts.ListTablets(ctx, "zone1"); return err }},
					{zone1, "tablets/zone1-0000000101/Tablet", func() error { _, _, err := ts.WatchTablets(ctx, "zone1"); return err }},
					{zone1, "keyspaces/commerce/shards/0/ShardReplication", func() error { _, err := ts.GetTabletsByShard(ctx, "commerce", "0"); return err }},
				} {
					restore := put(tc.conn, tc.key)
					err := tc.read()
					restore()
					if !errors.Is(err, topo.ErrCorrupt) || !strings.Contains(err.Error(), tc.key) {
						t.Errorf("reading junk at %s: %v; want ErrCorrupt naming the key", tc.key, err)
					}
				}
			})
		}
	})
}

// TestTabletRecordUnderWrongKey: a valid Tablet stored under another tablet's key is corrupt.
func TestTabletRecordUnderWrongKey(t *testing.T) {
	backends(t, func(t *testing.T, ctx context.Context, ts *topo.Server) {
		setupCommerce(t, ctx, ts)
		zone1, err := ts.CellConn(ctx, "zone1")
		ok(t, err)
		data, _, err := zone1.Get(ctx, "tablets/zone1-0000000101/Tablet")
		ok(t, err)
		_, err = zone1.Update(ctx, "tablets/zone1-0000000100/Tablet", data, nil)
		ok(t, err)
		if _, err := ts.GetTablet(ctx, alias(t, "zone1-100")); !errors.Is(err, topo.ErrCorrupt) {
			t.Fatalf("GetTablet = %v, want ErrCorrupt", err)
		}
		// It can still be removed.
		ok(t, ts.DeleteTablet(ctx, alias(t, "zone1-100")))
	})
}

// TestCorruptTabletInWatch: a corrupt change ends the watch with an error naming the key.
func TestCorruptTabletInWatch(t *testing.T) {
	backends(t, func(t *testing.T, ctx context.Context, ts *topo.Server) {
		setupCommerce(t, ctx, ts)
		_, ch, err := ts.WatchTablets(ctx, "zone2")
		ok(t, err)
		zone2, err := ts.CellConn(ctx, "zone2")
		ok(t, err)
		_, err = zone2.Update(ctx, "tablets/zone2-0000000200/Tablet", garbage["text"], nil)
		ok(t, err)
		c := nextChange(t, ch)
		if !errors.Is(c.Err, topo.ErrCorrupt) || !strings.Contains(c.Err.Error(), "zone2-0000000200") {
			t.Fatalf("change = %+v, want ErrCorrupt naming the tablet", c)
		}
		select {
		case _, open := <-ch:
			if open {
				t.Fatal("watch still open after a fatal error")
			}
		case <-time.After(10 * time.Second):
			t.Fatal("watch not closed after a fatal error")
		}
	})
}

func TestAliasParsing(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want string // "" = error
	}{
		{"zone1-100", "zone1-0000000100"},
		{"zone1-0000000100", "zone1-0000000100"},
		{"us-east-1a-7", "us-east-1a-0000000007"},
		{"zone1-4294967295", "zone1-4294967295"},
		{"zone1-4294967296", ""},
		{"zone1-", ""},
		{"-100", ""},
		{"zone1", ""},
		{"zone1-10x", ""},
		{"zone1--5", "zone1--0000000005"}, // like Vitess: cell "zone1-"
		{"zo/ne-1", ""},
		{"global-1", ""},
	} {
		a, err := topo.ParseTabletAlias(tc.in)
		switch {
		case tc.want == "" && err == nil:
			t.Errorf("ParseTabletAlias(%q) = %v, want error", tc.in, a)
		case tc.want == "":
			if !errors.Is(err, topo.ErrInvalid) {
				t.Errorf("ParseTabletAlias(%q) error %v is not ErrInvalid", tc.in, err)
			}
		case err != nil || topo.TabletAliasString(a) != tc.want:
			t.Errorf("ParseTabletAlias(%q) = %v, %v; want %s", tc.in, topo.TabletAliasString(a), err, tc.want)
		}
	}
	if s := topo.TabletAliasString(&topodatapb.TabletAlias{Cell: "c", Uid: 1}); s != "c-0000000001" {
		t.Errorf("TabletAliasString = %s", s)
	}
}

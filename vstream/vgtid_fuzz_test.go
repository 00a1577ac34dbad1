package vstream

import (
	"context"
	"testing"

	binlogdatapb "vitess.io/vitess/go/vt/proto/binlogdata"
	querypb "vitess.io/vitess/go/vt/proto/query"
	vtrpcpb "vitess.io/vitess/go/vt/proto/vtrpc"
)

// shardLister is the one part of a SourcePicker the VGTID's decoding asks: a keyspace's
// shards (for an entry with shard "").
type shardLister struct{}

func (shardLister) PickSource(context.Context, SourceRequest) (Source, error) {
	panic("the VGTID's decoding picks no source")
}

func (shardLister) Shards(_ context.Context, keyspace string) ([]string, error) {
	return []string{"-80", "80-"}, nil
}

var _ SourcePicker = shardLister{}

// vgtidSeeds are VGTIDs as clients send them: positions of both flavors, "current", a copy
// from the start and one under way (table_p_ks with a lastpk as this gateway or Vitess sends
// it), and broken ones (lengths past the values, a NULL key, shard "" with a position).
func vgtidSeeds() []*binlogdatapb.VGtid {
	lastpk := func(lengths []int64, values string) *querypb.QueryResult {
		return &querypb.QueryResult{Fields: []*querypb.Field{{Name: "id", Type: querypb.Type_INT32}},
			Rows: []*querypb.Row{{Lengths: lengths, Values: []byte(values)}}}
	}
	return []*binlogdatapb.VGtid{
		{ShardGtids: []*binlogdatapb.ShardGtid{{Keyspace: "commerce", Shard: "0", Gtid: "MariaDB/0-100-42"}}},
		{ShardGtids: []*binlogdatapb.ShardGtid{{Keyspace: "commerce", Shard: "0", Gtid: "current"}, {Keyspace: "customer", Shard: "", Gtid: "current"}}},
		{ShardGtids: []*binlogdatapb.ShardGtid{{Keyspace: "customer", Shard: "-80", Gtid: "MySQL56/3e11fa47-71ca-11e1-9e33-c80aa9429562:1-9"}}},
		{ShardGtids: []*binlogdatapb.ShardGtid{{Keyspace: "commerce", Shard: "0", Gtid: ""}}},
		{ShardGtids: []*binlogdatapb.ShardGtid{{Keyspace: "commerce", Shard: "0", Gtid: "MariaDB/0-100-42",
			TablePKs: []*binlogdatapb.TableLastPK{{TableName: "customer", Lastpk: lastpk([]int64{2}, "17")}, {TableName: "corder"}}}}},
		{ShardGtids: []*binlogdatapb.ShardGtid{{Keyspace: "commerce", Shard: "0", Gtid: "MariaDB/0-100-42",
			TablePKs: []*binlogdatapb.TableLastPK{{TableName: "customer", Lastpk: lastpk([]int64{9}, "17")}}}}},
		{ShardGtids: []*binlogdatapb.ShardGtid{{Keyspace: "commerce", Shard: "0", Gtid: "MariaDB/0-100-42",
			TablePKs: []*binlogdatapb.TableLastPK{{TableName: "customer", Lastpk: lastpk([]int64{-1}, "")}}}}},
		{ShardGtids: []*binlogdatapb.ShardGtid{{Keyspace: "customer", Shard: "", Gtid: "MariaDB/0-100-42"}}},
		{ShardGtids: []*binlogdatapb.ShardGtid{{Keyspace: "commerce", Shard: "0", Gtid: "current"}, {Keyspace: "commerce", Shard: "0", Gtid: "current"}}},
	}
}

// A VGTID is the one structure of a VStream request a client fills freely. Whatever bytes the
// gRPC layer hands over, decoding it (the entries, the shards of an entry with shard "", each
// entry's position and copy progress) answers without panicking, refuses with an invalid
// argument, and what it accepts is whole: positions survive their String form, and a lastpk
// it takes has one non-NULL value per length given.
func FuzzVGtid(f *testing.F) {
	for _, v := range vgtidSeeds() {
		b, err := v.MarshalVT()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	m := &Manager{cfg: Config{Picker: shardLister{}}}
	f.Fuzz(func(t *testing.T, data []byte) {
		var v binlogdatapb.VGtid
		if err := v.UnmarshalVT(data); err != nil {
			return
		}
		sgs, err := m.expandShards(context.Background(), &v)
		if err != nil {
			if CodeOf(err) != vtrpcpb.Code_INVALID_ARGUMENT {
				t.Fatalf("expandShards: %v is not an invalid argument", err)
			}
			return
		}
		for _, sg := range sgs {
			start, err := parseStart(sg)
			if err != nil {
				if CodeOf(err) != vtrpcpb.Code_INVALID_ARGUMENT {
					t.Fatalf("parseStart(%v): %v is not an invalid argument", sg, err)
				}
				continue
			}
			if !start.pos.IsZero() {
				again, err := ParsePosition(start.pos.String())
				if err != nil || !again.Equal(start.pos) {
					t.Fatalf("position %q of %v reads back as %v, %v", sg.Gtid, sg, again, err)
				}
			}
			if !start.copy {
				continue
			}
			c, err := decodeLastPKs(sg.TablePKs)
			if err != nil {
				t.Fatalf("parseStart accepted table_p_ks that decodeLastPKs refuses: %v", err)
			}
			for _, tl := range sg.TablePKs {
				ct := c.tables[tl.TableName]
				if ct == nil {
					t.Fatalf("table %q of table_p_ks lost", tl.TableName)
				}
				if ct.started && len(ct.lastpk) != len(tl.Lastpk.Rows[0].Lengths) {
					t.Fatalf("table %q: %d lastpk values of %d lengths", tl.TableName, len(ct.lastpk), len(tl.Lastpk.Rows[0].Lengths))
				}
			}
		}
	})
}

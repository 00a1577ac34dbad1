package vindex

import (
	"bytes"
	"errors"
	"testing"
)

func mustHashing(t *testing.T, typ string) Hashing {
	t.Helper()
	v, unknown, err := New(typ, typ, nil)
	if err != nil || len(unknown) > 0 {
		t.Fatalf("New(%s): %v %v", typ, unknown, err)
	}
	return v.(Hashing)
}

// Known ids from Vitess's own vindex tests (interop/ compares 100,000 values of each kind).
func TestKnownIDs(t *testing.T) {
	cases := []struct {
		typ  string
		in   Value
		want []byte
	}{
		{"hash", Int64Value(1), []byte("\x16k@\xb4J\xbaK\xd6")},
		{"hash", StringValue("1"), []byte("\x16k@\xb4J\xbaK\xd6")},
		{"hash", StringValue(" 1\t"), []byte("\x16k@\xb4J\xbaK\xd6")},
		{"numeric", Int64Value(1), []byte{0, 0, 0, 0, 0, 0, 0, 1}},
		{"numeric", Uint64Value(1<<63 + 5), []byte{0x80, 0, 0, 0, 0, 0, 0, 5}},
		{"xxhash", StringValue("test1"), []byte{0xd0, 0x1a, 0xb7, 0xe4, 0xd6, 0x97, 0x8f, 0xb}},
		{"xxhash", StringValue("test2"), []byte{0x87, 0xeb, 0x11, 0x71, 0x4c, 0xa, 0xe, 0x89}},
		{"binary", BytesValue([]byte("abc")), []byte("abc")},
		{"unicode_loose_md5", StringValue("Test"), []byte("\v^۴\x01\xfdu$96\x90I\x1dd\xf1\xf5")},
		{"unicode_loose_md5", StringValue("TEST"), []byte("\v^۴\x01\xfdu$96\x90I\x1dd\xf1\xf5")},
		{"unicode_loose_md5", StringValue("Te\u0301st"), []byte("\v^۴\x01\xfdu$96\x90I\x1dd\xf1\xf5")},
		{"unicode_loose_md5", StringValue("Tést  "), []byte("\v^۴\x01\xfdu$96\x90I\x1dd\xf1\xf5")},
	}
	for _, c := range cases {
		got, err := mustHashing(t, c.typ).Hash(c.in)
		if err != nil || !bytes.Equal(got, c.want) {
			t.Errorf("%s(%v) = %x, %v; want %x", c.typ, c.in, got, err, c.want)
		}
	}
}

func TestNoKeyspaceID(t *testing.T) {
	for _, typ := range []string{"hash", "numeric"} {
		for _, v := range []Value{NullValue(), StringValue("1.0"), StringValue("-1"), StringValue("+1"), StringValue("1x"),
			{Kind: Decimal, Raw: []byte("1.5")}, {Kind: Float64, Raw: []byte("1e3")}, StringValue("18446744073709551616"), StringValue("")} {
			if id, err := mustHashing(t, typ).Hash(v); !errors.Is(err, ErrNoKeyspaceID) {
				t.Errorf("%s(%v) = %x, %v; want no keyspace id", typ, v, id, err)
			}
		}
	}
	if _, err := mustHashing(t, "hash").Hash(Int64Value(-1)); err != nil {
		t.Errorf("hash(-1): %v; Vitess maps a negative integer as its two's complement", err)
	}
	if _, err := mustHashing(t, "numeric").Hash(Int64Value(-1)); !errors.Is(err, ErrNoKeyspaceID) {
		t.Errorf("numeric(-1): %v; want no keyspace id", err)
	}
	if _, err := mustHashing(t, "unicode_loose_md5").Hash(BytesValue([]byte{0xff})); err == nil || errors.Is(err, ErrNoKeyspaceID) {
		t.Errorf("unicode_loose_md5 of invalid UTF-8: %v; want an error", err)
	}
}

func TestNew(t *testing.T) {
	if _, _, err := New("x", "lookup_hash", nil); err == nil {
		t.Error("an unsupported type was accepted")
	}
	_, unknown, err := New("h", "hash", map[string]string{"foo": "1"})
	if err != nil || len(unknown) != 1 || unknown[0] != "foo" {
		t.Errorf("unknown params: %v %v", unknown, err)
	}
	v, unknown, err := New("l", "consistent_lookup_unique", map[string]string{"table": "lookup.t_lookup", "from": "email", "to": "keyspace_id", "read_lock": "shared"})
	if err != nil || len(unknown) > 0 {
		t.Fatal(unknown, err)
	}
	l := v.(*Lookup)
	if ks, tb := l.TableName(); ks != "lookup" || tb != "t_lookup" || l.ReadLock != "lock in share mode" || !l.Unique() {
		t.Errorf("lookup: %+v", l)
	}
	for _, params := range []map[string]string{
		{"from": "a", "to": "b"}, {"table": "t", "to": "b"}, {"table": "t", "from": "a"},
		{"table": "t", "from": "a,b", "to": "c"}, {"table": "t", "from": "a", "to": "b", "ignore_nulls": "maybe"},
		{"table": "t", "from": "a", "to": "b", "read_lock": "big"},
	} {
		if _, _, err := New("l", "consistent_lookup_unique", params); err == nil {
			t.Errorf("params %v accepted", params)
		}
	}
}

func TestShardFor(t *testing.T) {
	var shards []Shard
	for _, n := range []string{"-40", "40-80", "80-c0", "c0-"} {
		kr, err := ParseShard(n)
		if err != nil {
			t.Fatal(err)
		}
		shards = append(shards, Shard{Name: n, Range: kr})
	}
	cases := map[string]int{"": 0, "\x00": 0, "\x3f\xff": 0, "\x40": 1, "\x40\x00\x00": 1, "\x7f": 1, "\x80": 2, "\xc0": 3, "\xff\xff": 3}
	for id, want := range cases {
		if got := ShardFor(shards, []byte(id)); got != want {
			t.Errorf("ShardFor(%x) = %d, want %d", id, got, want)
		}
	}
	if got := ShardFor(shards[:2], []byte("\x90")); got != -1 {
		t.Errorf("uncovered id went to shard %d", got)
	}
	if _, err := ParseShard("x0-"); err == nil {
		t.Error("bad shard accepted")
	}
	if kr, _ := ParseShard("0"); !kr.Contains([]byte("\xff")) {
		t.Error("shard 0 does not cover everything")
	}
}

package vstream

import (
	"reflect"
	"testing"

	querypb "vitess.io/vitess/go/vt/proto/query"
)

func testMeta() *tableMeta {
	return &tableMeta{Name: "t", Columns: []column{
		{Name: "a", Type: querypb.Type_INT32},
		{Name: "b", Type: querypb.Type_VARCHAR},
		{Name: "c", Type: querypb.Type_UINT64, Unsigned: true},
	}, PK: []int{0, 1}}
}

func TestCopied(t *testing.T) {
	m := testMeta()
	last := [][]byte{[]byte("10"), []byte("m")}
	tests := []struct {
		row  []any
		want bool
	}{
		{[]any{int32(9), "z", int64(0)}, true},
		{[]any{int32(10), "a", int64(0)}, true},
		{[]any{int32(10), "m", int64(0)}, true},
		{[]any{int32(10), "n", int64(0)}, false},
		{[]any{int32(11), "a", int64(0)}, false},
		{[]any{int32(-5), "a", int64(0)}, true},
		{[]any{int32(100), "a", int64(0)}, false}, // numeric, not text, order
	}
	for _, tt := range tests {
		c := &copyState{}
		if got := c.copied(m, tt.row, &copyTable{lastpk: last}); got != tt.want {
			t.Errorf("copied(%v) = %v, want %v", tt.row, got, tt.want)
		}
	}
}

func TestCopyStateKeep(t *testing.T) {
	m := testMeta()
	p := &tablePlan{meta: m}
	c := &copyState{tables: map[string]*copyTable{"t": {name: "t", started: true, lastpk: [][]byte{[]byte("10"), []byte("m")}}}}
	in := []any{int32(1), "a", int64(1)}
	out := []any{int32(20), "a", int64(1)}
	tests := []struct {
		name          string
		before, after []any
		wantB, wantA  []any
	}{
		{"insert copied", nil, in, nil, in},
		{"insert not copied", nil, out, nil, nil},
		{"update moves out", in, out, in, nil},
		{"update moves in", out, in, nil, in},
		{"delete not copied", out, nil, nil, nil},
	}
	for _, tt := range tests {
		b, a := c.keep(p, tt.before, tt.after)
		if !reflect.DeepEqual(b, tt.wantB) || !reflect.DeepEqual(a, tt.wantA) {
			t.Errorf("%s: keep = %v, %v; want %v, %v", tt.name, b, a, tt.wantB, tt.wantA)
		}
	}
	c.tables["t"].started = false
	if b, a := c.keep(p, in, in); b != nil || a != nil {
		t.Errorf("not started table kept a change")
	}
	delete(c.tables, "t")
	if b, a := c.keep(p, in, out); b == nil || a == nil {
		t.Errorf("copied table dropped a change")
	}
}

func TestChunkQuery(t *testing.T) {
	m := testMeta()
	q, args := chunkQuery(m, &copyTable{}, 100)
	if q != "SELECT `a`, `b`, `c` FROM `t` ORDER BY `a`, `b` LIMIT 100" || len(args) != 0 {
		t.Errorf("first chunk: %s %v", q, args)
	}
	q, args = chunkQuery(m, &copyTable{started: true, lastpk: [][]byte{[]byte("10"), []byte("m")}}, 5)
	want := "SELECT `a`, `b`, `c` FROM `t` WHERE (`a` > ?) OR (`a` = ? AND `b` > ?) ORDER BY `a`, `b` LIMIT 5"
	if q != want || !reflect.DeepEqual(args, []any{"10", "10", "m"}) {
		t.Errorf("next chunk: %s %v", q, args)
	}
}

func TestAppendValue(t *testing.T) {
	enum := &column{Name: "e", Type: querypb.Type_ENUM, Values: []string{"a", "b"}}
	set := &column{Name: "s", Type: querypb.Type_SET, Values: []string{"x", "y", "z"}}
	bit := &column{Name: "b", Type: querypb.Type_BIT, Field: &querypb.Field{ColumnLength: 12}}
	tests := []struct {
		c    *column
		v    any
		want string
	}{
		{&column{Type: querypb.Type_INT8}, int8(-1), "-1"},
		{&column{Type: querypb.Type_UINT8, Unsigned: true}, int8(-1), "255"},
		{&column{Type: querypb.Type_UINT32, Unsigned: true}, int32(-1), "4294967295"},
		{&column{Type: querypb.Type_UINT24, Unsigned: true, DataType: "mediumint"}, int32(-1), "16777215"},
		{&column{Type: querypb.Type_UINT64, Unsigned: true}, int64(-1), "18446744073709551615"},
		{&column{Type: querypb.Type_FLOAT64}, 1.5, "1.5E+00"},
		{&column{Type: querypb.Type_VARCHAR}, "héllo", "héllo"},
		{&column{Type: querypb.Type_BLOB}, []byte{0, 1}, "\x00\x01"},
		{&column{Type: querypb.Type_BINARY, Field: &querypb.Field{ColumnLength: 4}}, "\x00\xff", "\x00\xff\x00\x00"},
		{&column{Type: querypb.Type_BINARY, Field: &querypb.Field{ColumnLength: 2}}, []byte{1, 2}, "\x01\x02"},
		{enum, int64(2), "b"},
		{enum, int64(0), ""},
		{set, int64(5), "x,z"},
		{bit, int64(0x102), "\x01\x02"},
	}
	for _, tt := range tests {
		got, err := appendValue(nil, tt.c, tt.v)
		if err != nil || string(got) != tt.want {
			t.Errorf("appendValue(%T %v) = %q, %v; want %q", tt.v, tt.v, got, err, tt.want)
		}
	}
	if _, err := appendValue(nil, &column{Name: "x"}, struct{}{}); err == nil {
		t.Errorf("unsupported value: want error")
	}
}

package vstream

import (
	"errors"
	"reflect"
	"testing"

	binlogdatapb "vitess.io/vitess/go/vt/proto/binlogdata"
	topodatapb "vitess.io/vitess/go/vt/proto/topodata"
)

func TestParseFilter(t *testing.T) {
	tests := []struct {
		name    string
		rule    *binlogdatapb.Rule
		shard   string
		bad     bool
		table   string // a table to match
		cols    []projection
		nomatch string
	}{
		{name: "table", rule: &binlogdatapb.Rule{Match: "t1"}, shard: "0", table: "t1", nomatch: "t2"},
		{name: "regex", rule: &binlogdatapb.Rule{Match: "/^c"}, shard: "0", table: "customer", nomatch: "t2"},
		{name: "regex keyrange", rule: &binlogdatapb.Rule{Match: "/.*", Filter: "-"}, shard: "0", table: "x"},
		{name: "select star", rule: &binlogdatapb.Rule{Match: "t1", Filter: "select * from t1"}, shard: "0", table: "t1"},
		{name: "select cols", rule: &binlogdatapb.Rule{Match: "t1", Filter: "SELECT id, `v` AS val FROM ks.t1 where in_keyrange('-')"}, shard: "-",
			table: "t1", cols: []projection{{"id", "id"}, {"v", "val"}}},
		{name: "in_keyrange hash", rule: &binlogdatapb.Rule{Match: "t1", Filter: "select id from t1 where in_keyrange(id, 'hash', '-')"}, shard: "0", table: "t1",
			cols: []projection{{"id", "id"}}},
		{name: "partial keyrange", rule: &binlogdatapb.Rule{Match: "t1", Filter: "select id from t1 where in_keyrange('-80')"}, shard: "0", bad: true},
		{name: "where", rule: &binlogdatapb.Rule{Match: "t1", Filter: "select id from t1 where id = 1"}, shard: "0", bad: true},
		{name: "expr", rule: &binlogdatapb.Rule{Match: "t1", Filter: "select id+1 from t1"}, shard: "0", bad: true},
		{name: "other table", rule: &binlogdatapb.Rule{Match: "t1", Filter: "select id from t2"}, shard: "0", bad: true},
		{name: "bad regex", rule: &binlogdatapb.Rule{Match: "/("}, shard: "0", bad: true},
		{name: "keyrange", rule: &binlogdatapb.Rule{Match: "t1", Filter: "80-"}, shard: "0", bad: true},
		{name: "empty", rule: &binlogdatapb.Rule{}, shard: "0", bad: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := parseFilter(&binlogdatapb.Filter{Rules: []*binlogdatapb.Rule{tt.rule}}, tt.shard)
			if tt.bad {
				var fe *FilterError
				if !errors.As(err, &fe) || CodeOf(err).String() != "INVALID_ARGUMENT" {
					t.Fatalf("got %v, want a FilterError", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			r := f.match(tt.table)
			if r == nil {
				t.Fatalf("%s not matched", tt.table)
			}
			if !reflect.DeepEqual(r.cols, tt.cols) {
				t.Fatalf("cols = %v, want %v", r.cols, tt.cols)
			}
			if tt.nomatch != "" && f.match(tt.nomatch) != nil {
				t.Fatalf("%s matched", tt.nomatch)
			}
		})
	}
}

func TestTabletTypes(t *testing.T) {
	R, P, D := topodatapb.TabletType_REPLICA, topodatapb.TabletType_PRIMARY, topodatapb.TabletType_RDONLY
	tests := []struct {
		tt      topodatapb.TabletType
		order   string
		want    []topodatapb.TabletType
		inOrder bool
		bad     bool
	}{
		{tt: topodatapb.TabletType_UNKNOWN, want: []topodatapb.TabletType{R}},
		{tt: P, order: "any", want: []topodatapb.TabletType{P}},
		{tt: R, order: "in_order:REPLICA,PRIMARY", want: []topodatapb.TabletType{R, P}, inOrder: true},
		{tt: R, order: "InOrder:rdonly,replica", want: []topodatapb.TabletType{D, R}, inOrder: true},
		{tt: R, order: "any:RDONLY,master", want: []topodatapb.TabletType{D, P}},
		{tt: R, order: "in_order:FOO", bad: true},
		{tt: R, order: "random", bad: true},
	}
	for _, tt := range tests {
		got, inOrder, err := tabletTypes(tt.tt, tt.order)
		if tt.bad {
			if err == nil {
				t.Errorf("%q: want error", tt.order)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tt.want) || inOrder != tt.inOrder {
			t.Errorf("%v %q = %v %v %v, want %v %v", tt.tt, tt.order, got, inOrder, err, tt.want, tt.inOrder)
		}
	}
}

func TestParseEnumValues(t *testing.T) {
	tests := map[string][]string{
		"enum('a','b','c')": {"a", "b", "c"},
		"set('x','y''z')":   {"x", "y'z"},
		"enum('','a,b')":    {"", "a,b"},
		"int(11)":           nil,
	}
	for in, want := range tests {
		if got := parseEnumValues(in); !reflect.DeepEqual(got, want) {
			t.Errorf("parseEnumValues(%q) = %q, want %q", in, got, want)
		}
	}
}

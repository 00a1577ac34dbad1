package router

import (
	"testing"

	"github.com/vtdirect/vtdirect/planner"
	"github.com/vtdirect/vtdirect/vindex"
)

// TestBoundedRows: only merges whose plan bounds each shard's reply to few rows are read
// whole (inline); everything else streams.
func TestBoundedRows(t *testing.T) {
	lit := func(s string) *planner.ValueExpr {
		return &planner.ValueExpr{Arg: -1, Const: vindex.Value{Kind: vindex.Int64, Raw: []byte(s)}}
	}
	order := []planner.SortKey{{Col: 0, Weight: planner.NoColumn}}
	vals := []vindex.Value{{Kind: vindex.Int64, Raw: []byte("10")}, {Kind: vindex.Int64, Raw: []byte("300")}}
	cases := []struct {
		name string
		m    *planner.Merge
		want int
	}{
		{"concatenated", nil, streamed},
		{"aggregate without GROUP BY", &planner.Merge{Grouped: true}, 1},
		{"COUNT(DISTINCT) without GROUP BY: the shards give the values", &planner.Merge{Grouped: true, Order: order}, streamed},
		{"GROUP BY with LIMIT: groups span shards", &planner.Merge{Grouped: true, GroupKeys: 1, Order: order, Limit: lit("5")}, streamed},
		{"ORDER BY without LIMIT", &planner.Merge{Order: order}, streamed},
		{"ORDER BY LIMIT 10", &planner.Merge{Order: order, Limit: lit("10")}, 10},
		{"LIMIT 5 OFFSET 20", &planner.Merge{Order: order, Limit: lit("5"), Offset: lit("20")}, 25},
		{"LIMIT as an argument", &planner.Merge{Order: order, Limit: &planner.ValueExpr{Arg: 0}}, 10},
		{"LIMIT over the bound", &planner.Merge{Order: order, Limit: &planner.ValueExpr{Arg: 1}}, streamed},
		{"LIMIT 0", &planner.Merge{Limit: lit("0")}, 0},
		{"an argument the statement lacks", &planner.Merge{Limit: &planner.ValueExpr{Arg: 5}}, streamed},
		{"offset overflow", &planner.Merge{Limit: lit("18446744073709551615"), Offset: lit("2")}, streamed},
	}
	for _, tc := range cases {
		if got := boundedRows(tc.m, vals); got != tc.want {
			t.Errorf("%s: %d, want %d", tc.name, got, tc.want)
		}
	}
}

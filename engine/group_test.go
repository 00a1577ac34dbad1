package engine

import (
	"testing"

	"github.com/go-mysql-org/go-mysql/mysql"

	"github.com/vtdirect/vtdirect/planner"
)

// TestSelectAggregates combines the shards' aggregates as MariaDB computes them over all the
// rows: COUNTs and exact SUMs added up, MIN and MAX compared as the column's type (text by
// its weights), AVG from the shards' sums and counts with four more digits, NULLs ignored,
// and a shard that had no rows (COUNT 0, the others NULL) changing nothing.
func TestSelectAggregates(t *testing.T) {
	scalar := func(aggs ...planner.Agg) *planner.Merge {
		return &planner.Merge{Visible: len(aggs), Grouped: true, Aggs: aggs}
	}
	cases := []struct {
		name    string
		merge   *planner.Merge
		replies []shardReply
		want    [][]string
	}{{
		name:  "COUNT(*)",
		merge: scalar(planner.Agg{Op: planner.AggCount, Col: 0}),
		replies: []shardReply{
			{cols: []colDef{intCol("c")}, rows: [][]string{{"3"}}},
			{cols: []colDef{intCol("c")}, rows: [][]string{{"0"}}},
			{cols: []colDef{intCol("c")}, rows: [][]string{{"4"}}},
		},
		want: [][]string{{"7"}},
	}, {
		name:  "SUM of decimals is exact, NULL of an empty shard ignored",
		merge: scalar(planner.Agg{Op: planner.AggSum, Col: 0}),
		replies: []shardReply{
			{cols: []colDef{decCol("s", 3)}, rows: [][]string{{"0.100"}}},
			{cols: []colDef{decCol("s", 3)}, rows: [][]string{{null}}},
			{cols: []colDef{decCol("s", 3)}, rows: [][]string{{"0.200"}}},
		},
		want: [][]string{{"0.300"}},
	}, {
		name:  "SUM of integers beyond int64",
		merge: scalar(planner.Agg{Op: planner.AggSum, Col: 0}),
		replies: []shardReply{
			{cols: []colDef{decCol("s", 0)}, rows: [][]string{{"9223372036854775807"}}},
			{cols: []colDef{decCol("s", 0)}, rows: [][]string{{"9223372036854775807"}}},
		},
		want: [][]string{{"18446744073709551614"}},
	}, {
		name:  "SUM over no rows anywhere is NULL",
		merge: scalar(planner.Agg{Op: planner.AggSum, Col: 0}),
		replies: []shardReply{
			{cols: []colDef{decCol("s", 0)}, rows: [][]string{{null}}},
			{cols: []colDef{decCol("s", 0)}, rows: [][]string{{null}}},
		},
		want: [][]string{{null}},
	}, {
		name:  "MIN and MAX of integers, NULL shards ignored",
		merge: scalar(planner.Agg{Op: planner.AggMin, Col: 0, Weight: none}, planner.Agg{Op: planner.AggMax, Col: 1, Weight: none}),
		replies: []shardReply{
			{cols: []colDef{intCol("mn"), intCol("mx")}, rows: [][]string{{"-5", "9"}}},
			{cols: []colDef{intCol("mn"), intCol("mx")}, rows: [][]string{{null, null}}},
			{cols: []colDef{intCol("mn"), intCol("mx")}, rows: [][]string{{"-12", "10"}}},
		},
		want: [][]string{{"-12", "10"}},
	}, {
		name: "MIN and MAX of text by weight",
		merge: &planner.Merge{Visible: 2, Hidden: 2, Grouped: true, Aggs: []planner.Agg{
			{Op: planner.AggMin, Col: 0, Weight: 2}, {Op: planner.AggMax, Col: 1, Weight: 3},
			{Op: planner.AggAny, Col: 2, Weight: none}, {Op: planner.AggAny, Col: 3, Weight: none}}},
		replies: []shardReply{
			{cols: []colDef{textCol("mn"), textCol("mx"), weightCol("w1"), weightCol("w2")},
				rows: [][]string{{"banana", "banana", weight("banana"), weight("banana")}}},
			{cols: []colDef{textCol("mn"), textCol("mx"), weightCol("w1"), weightCol("w2")},
				rows: [][]string{{"Apple", "Cherry", weight("Apple"), weight("Cherry")}}},
		},
		want: [][]string{{"Apple", "Cherry"}},
	}, {
		name: "AVG of integers: decimal with four more digits",
		merge: &planner.Merge{Visible: 1, Hidden: 1, Grouped: true, Aggs: []planner.Agg{
			{Op: planner.AggAvg, Col: 0, Weight: none, Count: 1}, {Op: planner.AggCount, Col: 1}}},
		replies: []shardReply{
			{cols: []colDef{decCol("avg", 0), intCol("n")}, rows: [][]string{{"10", "3"}}},
			{cols: []colDef{decCol("avg", 0), intCol("n")}, rows: [][]string{{"5", "1"}}},
			{cols: []colDef{decCol("avg", 0), intCol("n")}, rows: [][]string{{null, "0"}}},
		},
		want: [][]string{{"3.7500"}},
	}, {
		name: "AVG rounds half away from zero",
		merge: &planner.Merge{Visible: 1, Hidden: 1, Grouped: true, Aggs: []planner.Agg{
			{Op: planner.AggAvg, Col: 0, Weight: none, Count: 1}, {Op: planner.AggCount, Col: 1}}},
		replies: []shardReply{
			{cols: []colDef{decCol("avg", 0), intCol("n")}, rows: [][]string{{"-1", "2"}}},
			{cols: []colDef{decCol("avg", 0), intCol("n")}, rows: [][]string{{"-1", "1"}}},
		},
		want: [][]string{{"-0.6667"}},
	}, {
		name: "AVG of doubles stays double",
		merge: &planner.Merge{Visible: 1, Hidden: 1, Grouped: true, Aggs: []planner.Agg{
			{Op: planner.AggAvg, Col: 0, Weight: none, Count: 1}, {Op: planner.AggCount, Col: 1}}},
		replies: []shardReply{
			{cols: []colDef{doubleCol("avg"), intCol("n")}, rows: [][]string{{"1.5", "1"}}},
			{cols: []colDef{doubleCol("avg"), intCol("n")}, rows: [][]string{{"2.5", "1"}}},
		},
		want: [][]string{{"2"}},
	}, {
		name: "AVG over no rows is NULL",
		merge: &planner.Merge{Visible: 1, Hidden: 1, Grouped: true, Aggs: []planner.Agg{
			{Op: planner.AggAvg, Col: 0, Weight: none, Count: 1}, {Op: planner.AggCount, Col: 1}}},
		replies: []shardReply{
			{cols: []colDef{decCol("avg", 0), intCol("n")}, rows: [][]string{{null, "0"}}},
			{cols: []colDef{decCol("avg", 0), intCol("n")}, rows: [][]string{{null, "0"}}},
		},
		want: [][]string{{null}},
	}, {
		name: "COUNT(DISTINCT x) without GROUP BY: a value on two shards counts once",
		merge: &planner.Merge{Visible: 1, Hidden: 1, Grouped: true, GroupKeys: 0,
			Order: []planner.SortKey{{Col: 1, Weight: none}},
			Aggs:  []planner.Agg{{Op: planner.AggCountDistinct, Col: 0}, {Op: planner.AggAny, Col: 1, Weight: none}}},
		replies: []shardReply{
			{cols: []colDef{intCol("cd"), intCol("x")}, rows: [][]string{{"1", "1"}, {"1", "2"}, {"1", "5"}}},
			{cols: []colDef{intCol("cd"), intCol("x")}, rows: [][]string{{"1", "2"}, {"1", "3"}, {"0", null}}},
		},
		want: [][]string{{"4"}},
	}, {
		name: "COUNT(DISTINCT x) over no rows is 0",
		merge: &planner.Merge{Visible: 1, Hidden: 1, Grouped: true, GroupKeys: 0,
			Order: []planner.SortKey{{Col: 1, Weight: none}},
			Aggs:  []planner.Agg{{Op: planner.AggCountDistinct, Col: 0}, {Op: planner.AggAny, Col: 1, Weight: none}}},
		replies: []shardReply{
			{cols: []colDef{intCol("cd"), intCol("x")}},
			{cols: []colDef{intCol("cd"), intCol("x")}},
		},
		want: [][]string{{"0"}},
	}}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, _, err := runSelect(t, tc.merge, nil, tc.replies)
			if err != nil {
				t.Fatal(err)
			}
			if !equalRows(got.rows, tc.want) {
				t.Errorf("rows %q, want %q", got.rows, tc.want)
			}
		})
	}
}

// TestSelectAvgColumn: AVG's column definition says what its value is, a DECIMAL with four
// more digits, as MariaDB's own AVG column.
func TestSelectAvgColumn(t *testing.T) {
	m := &planner.Merge{Visible: 1, Hidden: 1, Grouped: true, Aggs: []planner.Agg{
		{Op: planner.AggAvg, Col: 0, Weight: none, Count: 1}, {Op: planner.AggCount, Col: 1}}}
	got, _, err := runSelect(t, m, nil, []shardReply{
		{cols: []colDef{decCol("avg", 2), intCol("n")}, rows: [][]string{{"1.00", "1"}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if c := got.cols[0]; c.Type != mysql.MYSQL_TYPE_NEWDECIMAL || c.Decimals != 6 {
		t.Errorf("AVG column type %d decimals %d, want NEWDECIMAL with 6", c.Type, c.Decimals)
	}
	if !equalRows(got.rows, [][]string{{"1.000000"}}) {
		t.Errorf("rows %q", got.rows)
	}
}

// TestSelectGroups combines the groups the shards computed: equal keys (up to collation)
// from several shards are one group, DISTINCT keeps one row per value, HAVING filters the
// combined groups, ORDER BY an aggregate sorts them after grouping, LIMIT and OFFSET count
// groups.
func TestSelectGroups(t *testing.T) {
	// SELECT city, COUNT(*) ... GROUP BY city: the shards add weight_string(city).
	byCity := func() *planner.Merge {
		return &planner.Merge{Visible: 2, Hidden: 1, Grouped: true, GroupKeys: 1,
			Order: []planner.SortKey{{Col: 0, Weight: 2}},
			Aggs: []planner.Agg{{Op: planner.AggKey, Col: 0, Weight: 2}, {Op: planner.AggCount, Col: 1},
				{Op: planner.AggAny, Col: 2, Weight: none}}}
	}
	cityCols := []colDef{textCol("city"), intCol("n"), weightCol("w")}
	city := func(c, n string) []string { return []string{c, n, weight(c)} }
	shards := []shardReply{
		{cols: cityCols, rows: [][]string{city("Berlin", "2"), city("paris", "1"), city("Rome", "4")}},
		{cols: cityCols, rows: [][]string{city("Oslo", "1"), city("Paris", "5")}},
		{cols: cityCols, rows: [][]string{city("berlin", "1"), city("Zurich", "3")}},
	}
	having := byCity()
	having.Having = planner.CondCmp{Op: ">=", L: planner.ExprCol{Col: 1}, R: planner.ExprValue{V: planner.ValueExpr{Arg: 0}}}
	post := byCity()
	post.PostOrder = []planner.SortKey{{Col: 1, Weight: none, Desc: true}}
	post.Limit, post.Offset = arg(1), arg(0)
	nullKeys := byCity()
	cases := []struct {
		name    string
		merge   *planner.Merge
		args    []string
		replies []shardReply
		want    [][]string
	}{{
		name:    "GROUP BY text: keys equal by collation are one group, the first value kept",
		merge:   byCity(),
		replies: shards,
		want:    [][]string{{"Berlin", "3"}, {"Oslo", "1"}, {"paris", "6"}, {"Rome", "4"}, {"Zurich", "3"}},
	}, {
		name:    "HAVING on the combined count",
		merge:   having,
		args:    []string{"4"},
		replies: shards,
		want:    [][]string{{"paris", "6"}, {"Rome", "4"}},
	}, {
		name:    "ORDER BY COUNT(*) DESC LIMIT 2 OFFSET 1",
		merge:   post,
		args:    []string{"1", "2"},
		replies: shards,
		want:    [][]string{{"Rome", "4"}, {"Berlin", "3"}},
	}, {
		name:  "NULL is a group of its own, first",
		merge: nullKeys,
		replies: []shardReply{
			{cols: cityCols, rows: [][]string{{null, "2", null}, city("a", "1")}},
			{cols: cityCols, rows: [][]string{{null, "1", null}}},
		},
		want: [][]string{{null, "3"}, {"a", "1"}},
	}, {
		name: "DISTINCT",
		merge: &planner.Merge{Visible: 1, Grouped: true, GroupKeys: 1,
			Order: []planner.SortKey{{Col: 0, Weight: none}},
			Aggs:  []planner.Agg{{Op: planner.AggKey, Col: 0, Weight: none}}},
		replies: []shardReply{
			{cols: []colDef{intCol("k")}, rows: [][]string{{"1"}, {"2"}, {"4"}}},
			{cols: []colDef{intCol("k")}, rows: [][]string{{"2"}, {"3"}, {"4"}}},
		},
		want: [][]string{{"1"}, {"2"}, {"3"}, {"4"}},
	}, {
		name: "GROUP BY with SUM and COUNT(DISTINCT) per group",
		merge: &planner.Merge{Visible: 3, Hidden: 1, Grouped: true, GroupKeys: 1,
			Order: []planner.SortKey{{Col: 0, Weight: none}, {Col: 3, Weight: none}},
			Aggs: []planner.Agg{{Op: planner.AggKey, Col: 0, Weight: none}, {Op: planner.AggSum, Col: 1},
				{Op: planner.AggCountDistinct, Col: 2}, {Op: planner.AggAny, Col: 3, Weight: none}}},
		replies: []shardReply{
			{cols: []colDef{intCol("g"), decCol("s", 0), intCol("cd"), intCol("x")},
				rows: [][]string{{"1", "10", "1", "7"}, {"1", "5", "1", "8"}, {"2", "1", "1", "7"}}},
			{cols: []colDef{intCol("g"), decCol("s", 0), intCol("cd"), intCol("x")},
				rows: [][]string{{"1", "3", "1", "8"}, {"3", null, "0", null}}},
		},
		want: [][]string{{"1", "18", "2"}, {"2", "1", "1"}, {"3", null, "0"}},
	}}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, res, err := runSelect(t, tc.merge, tc.args, tc.replies)
			if err != nil {
				t.Fatal(err)
			}
			if !equalRows(got.rows, tc.want) {
				t.Errorf("rows %q, want %q", got.rows, tc.want)
			}
			if res.Rows != uint64(len(tc.want)) {
				t.Errorf("SelectResult.Rows %d, want %d", res.Rows, len(tc.want))
			}
		})
	}
}

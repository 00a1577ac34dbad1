package engine

import (
	"errors"
	"strings"
	"testing"

	"github.com/go-mysql-org/go-mysql/mysql"

	"github.com/vtdirect/vtdirect/planner"
)

const none = planner.NoColumn

// TestSelectMerge merges sorted shards' rows, applies LIMIT and OFFSET, and compares each
// column type as MariaDB orders it (numbers as numbers, text by its WEIGHT_STRING() with
// PAD SPACE, NULL first), whatever the byte order of the values.
func TestSelectMerge(t *testing.T) {
	ids := []colDef{intCol("id")}
	cases := []struct {
		name    string
		merge   *planner.Merge
		args    []string
		replies []shardReply
		want    [][]string
	}{{
		name: "no merge: shards concatenated in order",
		replies: []shardReply{
			{cols: ids, rows: [][]string{{"5"}, {"1"}}},
			{cols: ids, rows: [][]string{{"3"}}},
		},
		want: [][]string{{"5"}, {"1"}, {"3"}},
	}, {
		name:  "integers ascending, interleaved, one shard empty",
		merge: &planner.Merge{Visible: 1, Order: []planner.SortKey{{Col: 0, Weight: none}}},
		replies: []shardReply{
			{cols: ids, rows: [][]string{{"1"}, {"4"}, {"10"}}},
			{cols: ids},
			{cols: ids, rows: [][]string{{"2"}, {"3"}, {"11"}}},
		},
		want: [][]string{{"1"}, {"2"}, {"3"}, {"4"}, {"10"}, {"11"}},
	}, {
		name:  "descending with NULLs: NULL last, negatives below zero",
		merge: &planner.Merge{Visible: 1, Order: []planner.SortKey{{Col: 0, Weight: none, Desc: true}}},
		replies: []shardReply{
			{cols: ids, rows: [][]string{{"7"}, {"-3"}, {null}}},
			{cols: ids, rows: [][]string{{"20"}, {"0"}, {null}}},
		},
		want: [][]string{{"20"}, {"7"}, {"0"}, {"-3"}, {null}, {null}},
	}, {
		name:  "unsigned beyond int64",
		merge: &planner.Merge{Visible: 1, Order: []planner.SortKey{{Col: 0, Weight: none}}},
		replies: []shardReply{
			{cols: []colDef{uintCol("u")}, rows: [][]string{{"9"}, {"18446744073709551615"}}},
			{cols: []colDef{uintCol("u")}, rows: [][]string{{"10000000000000000000"}}},
		},
		want: [][]string{{"9"}, {"10000000000000000000"}, {"18446744073709551615"}},
	}, {
		name:  "decimals by value, not by text",
		merge: &planner.Merge{Visible: 1, Order: []planner.SortKey{{Col: 0, Weight: none}}},
		replies: []shardReply{
			{cols: []colDef{decCol("d", 2)}, rows: [][]string{{"-10.50"}, {"9.75"}}},
			{cols: []colDef{decCol("d", 2)}, rows: [][]string{{"-2.00"}, {"10.50"}}},
		},
		want: [][]string{{"-10.50"}, {"-2.00"}, {"9.75"}, {"10.50"}},
	}, {
		name:  "doubles",
		merge: &planner.Merge{Visible: 1, Order: []planner.SortKey{{Col: 0, Weight: none}}},
		replies: []shardReply{
			{cols: []colDef{doubleCol("f")}, rows: [][]string{{"-1e10"}, {"2.5"}}},
			{cols: []colDef{doubleCol("f")}, rows: [][]string{{"1e-3"}, {"1e3"}}},
		},
		want: [][]string{{"-1e10"}, {"1e-3"}, {"2.5"}, {"1e3"}},
	}, {
		name:  "TIME, negative and over 24 hours",
		merge: &planner.Merge{Visible: 1, Order: []planner.SortKey{{Col: 0, Weight: none}}},
		replies: []shardReply{
			{cols: []colDef{timeCol("t")}, rows: [][]string{{"-01:00:00"}, {"100:00:00"}}},
			{cols: []colDef{timeCol("t")}, rows: [][]string{{"-00:00:00.5"}, {"09:30:00.25"}}},
		},
		want: [][]string{{"-01:00:00"}, {"-00:00:00.5"}, {"09:30:00.25"}, {"100:00:00"}},
	}, {
		name: "text by its collation's weights (hidden), not by bytes",
		merge: &planner.Merge{Visible: 1, Hidden: 1,
			Order: []planner.SortKey{{Col: 0, Weight: 1}}},
		replies: []shardReply{
			{cols: []colDef{textCol("n"), weightCol("w")}, rows: [][]string{{"apple", weight("apple")}, {"Cherry", weight("Cherry")}}},
			{cols: []colDef{textCol("n"), weightCol("w")}, rows: [][]string{{"Banana", weight("Banana")}, {"date", weight("date")}}},
		},
		want: [][]string{{"apple"}, {"Banana"}, {"Cherry"}, {"date"}},
	}, {
		name: "PAD SPACE: a trailing space is equal, the next key decides",
		merge: &planner.Merge{Visible: 2, Hidden: 1,
			Order: []planner.SortKey{{Col: 0, Weight: 2}, {Col: 1, Weight: none}}},
		replies: []shardReply{
			{cols: []colDef{textCol("n"), intCol("id"), weightCol("w")}, rows: [][]string{{"a ", "2", weight("a ")}}},
			{cols: []colDef{textCol("n"), intCol("id"), weightCol("w")}, rows: [][]string{{"a", "1", weight("a")}, {"a", "3", weight("a")}}},
		},
		want: [][]string{{"a", "1"}, {"a ", "2"}, {"a", "3"}},
	}, {
		name:  "LIMIT with OFFSET across shards",
		merge: &planner.Merge{Visible: 1, Order: []planner.SortKey{{Col: 0, Weight: none}}, Limit: arg(1), Offset: arg(0)},
		args:  []string{"2", "3"},
		replies: []shardReply{
			{cols: ids, rows: [][]string{{"1"}, {"3"}, {"5"}, {"7"}}},
			{cols: ids, rows: [][]string{{"2"}, {"4"}, {"6"}, {"8"}}},
		},
		want: [][]string{{"3"}, {"4"}, {"5"}},
	}, {
		name:  "OFFSET past the end",
		merge: &planner.Merge{Visible: 1, Order: []planner.SortKey{{Col: 0, Weight: none}}, Limit: arg(1), Offset: arg(0)},
		args:  []string{"10", "5"},
		replies: []shardReply{
			{cols: ids, rows: [][]string{{"1"}}},
			{cols: ids, rows: [][]string{{"2"}}},
		},
	}, {
		name:  "LIMIT 0",
		merge: &planner.Merge{Visible: 1, Order: []planner.SortKey{{Col: 0, Weight: none}}, Limit: arg(0)},
		args:  []string{"0"},
		replies: []shardReply{
			{cols: ids, rows: [][]string{{"1"}}},
			{cols: ids, rows: [][]string{{"2"}}},
		},
	}, {
		name:  "LIMIT without ORDER BY",
		merge: &planner.Merge{Visible: 1, Limit: arg(0)},
		args:  []string{"2"},
		replies: []shardReply{
			{cols: ids, rows: [][]string{{"1"}}},
			{cols: ids, rows: [][]string{{"2"}, {"3"}}},
		},
		want: [][]string{{"1"}, {"2"}},
	}, {
		name: "hidden sort key from the end of a SELECT *",
		merge: &planner.Merge{Visible: 2, Star: true, Hidden: 1,
			Order: []planner.SortKey{{Col: -1, Weight: none, Desc: true}}},
		replies: []shardReply{
			{cols: []colDef{intCol("a"), intCol("b"), intCol("k")}, rows: [][]string{{"1", "1", "9"}, {"2", "2", "1"}}},
			{cols: []colDef{intCol("a"), intCol("b"), intCol("k")}, rows: [][]string{{"3", "3", "5"}}},
		},
		want: [][]string{{"1", "1"}, {"3", "3"}, {"2", "2"}},
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
			visible := len(tc.replies[0].cols)
			if tc.merge != nil {
				visible = len(tc.replies[0].cols) - tc.merge.Hidden
			}
			if len(got.cols) != visible {
				t.Errorf("%d columns, want the %d visible ones", len(got.cols), visible)
			}
		})
	}
}

// TestSelectShardErrors: a shard's ERR fails the statement with its code and the shard's
// name, unless SCATTER_ERRORS_AS_WARNINGS leaves the shard out with a warning; shards whose
// columns differ are an error, not a garbled result.
func TestSelectShardErrors(t *testing.T) {
	ids := []colDef{intCol("id")}
	ok := shardReply{cols: ids, rows: [][]string{{"1"}, {"2"}}, warnings: 1}
	bad := shardReply{code: 1146, msg: "Table 'db.t' doesn't exist"}
	order := &planner.Merge{Visible: 1, Order: []planner.SortKey{{Col: 0, Weight: none}}}

	for _, m := range []*planner.Merge{nil, order} {
		_, _, err := runSelect(t, m, nil, []shardReply{ok, bad})
		var me *mysql.MyError
		if !errors.As(err, &me) || me.Code != 1146 || !strings.Contains(me.Message, "shard ks/1") {
			t.Errorf("merge %v: error %v, want 1146 naming shard ks/1", m != nil, err)
		}
	}

	srcs, names := collectors(t, 0, []shardReply{bad, ok})
	var out strings.Builder
	res, err := Select(&SelectInput{Merge: order, Sources: srcs, Names: names, ScatterErrorsAsWarnings: true}, NewResultWriter(&out, 0, false))
	if err != nil {
		t.Fatal(err)
	}
	got := readResult(t, []byte(out.String()), 0)
	if !equalRows(got.rows, [][]string{{"1"}, {"2"}}) || len(res.Failed) != 1 || res.Failed[0].Code != 1146 || !strings.Contains(res.Failed[0].Message, "ks/0") {
		t.Errorf("SCATTER_ERRORS_AS_WARNINGS: rows %q, failed %+v; want the good shard's rows and one warning naming ks/0", got.rows, res.Failed)
	}
	if res.Warnings != 2 || got.warnings != 2 {
		t.Errorf("warnings %d (client %d), want the shard's 1 + the failed shard's 1", res.Warnings, got.warnings)
	}

	_, _, err = runSelect(t, nil, nil, []shardReply{ok, {cols: []colDef{intCol("a"), intCol("b")}}})
	if err == nil || !strings.Contains(err.Error(), "schemas differ") {
		t.Errorf("different column counts: %v, want an error saying the schemas differ", err)
	}
}

// TestSelectStreams: a streaming merge of replies larger than the collectors' batches ends
// with LIMIT while the producers are still writing, and every producer finishes (its rows
// abandoned), so no shard's goroutine is left blocked.
func TestSelectStreams(t *testing.T) {
	const rows = 5000
	var shards []shardReply
	for s := range 2 {
		r := shardReply{cols: []colDef{intCol("id")}}
		for i := range rows {
			r.rows = append(r.rows, []string{itoa(i*2 + s)})
		}
		shards = append(shards, r)
	}
	srcs := make([]*Collector, len(shards))
	done := make(chan struct{}, len(shards)) // one per producer
	for i, r := range shards {
		srcs[i] = NewCollector(0)
		go func() {
			feed(srcs[i], r.packets(0), 4096)
			done <- struct{}{}
		}()
	}
	var out strings.Builder
	m := &planner.Merge{Visible: 1, Order: []planner.SortKey{{Col: 0, Weight: none}}, Limit: arg(0)}
	res, err := Select(&SelectInput{Merge: m, Vals: vals("600"), Sources: srcs, Names: []string{"a", "b"}}, NewResultWriter(&out, 0, false))
	if err != nil {
		t.Fatal(err)
	}
	for range shards {
		<-done // a producer blocked on a full channel would hang the test here
	}
	got := readResult(t, []byte(out.String()), 0)
	if res.Rows != 600 || len(got.rows) != 600 || got.rows[0][0] != "0" || got.rows[599][0] != "599" {
		t.Errorf("%d rows (%d read), first %q last %q; want 0..599", res.Rows, len(got.rows), got.rows[0], got.rows[len(got.rows)-1])
	}
}

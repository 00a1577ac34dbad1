package planner

import (
	"strings"
	"testing"

	"github.com/vtdirect/vtdirect/vindex"
)

func TestNormalize(t *testing.T) {
	cases := []struct {
		q, key string
		lits   []string // each literal's spelling and kind, "text:KIND"
		mode   LexMode
	}{
		{q: "select * from t where id = 5", key: "select * from t where id = ?", lits: []string{"5:INT64"}},
		{q: "SELECT a FROM t WHERE id=-5 AND b = 'x''y' limit 10", key: "SELECT a FROM t WHERE id=? AND b = ? limit ?", lits: []string{"-5:INT64", "'x''y':VARCHAR", "10:INT64"}},
		{q: "select 5-3, a -1, (-2), 1.5, .5e3, 1e-3, 18446744073709551615, 99999999999999999999", key: "select ?-?, a -?, (?), ?, ?, ?, ?, ?",
			lits: []string{"5:INT64", "3:INT64", "1:INT64", "-2:INT64", "1.5:DECIMAL", ".5e3:FLOAT64", "1e-3:FLOAT64", "18446744073709551615:UINT64", "99999999999999999999:DECIMAL"}},
		{q: "select a from t order by 2, a desc, 1 limit 3", key: "select a from t order by 2, a desc, 1 limit ?", lits: []string{"3:INT64"}},
		{q: "select a, count(*) from t group by 1 order by count(*) + 1", key: "select a, count(*) from t group by 1 order by count(*) + ?", lits: []string{"1:INT64"}},
		{q: "select * from t where x in (1, 2, 3)", key: "select * from t where x in (?, ?, ?)", lits: []string{"1:INT64", "2:INT64", "3:INT64"}},
		{q: "insert into t (a, b) values (1, 'a'), (2, 'b')", key: "insert into t (a, b) values (?, ?), (?, ?)", lits: []string{"1:INT64", "'a':VARCHAR", "2:INT64", "'b':VARCHAR"}},
		{q: "select `a``1`, \"s\" from t1 /* c 5 */ where x = _utf8mb4'k' and d = DATE '2020-01-01' and y = 0x1F and z = b'01' and n = N'x' -- 7\n and w = 3 # 8", key: "select `a``1`, ? from t1 /* c 5 */ where x = _utf8mb4'k' and d = DATE '2020-01-01' and y = 0x1F and z = b'01' and n = N'x' -- 7\n and w = ? # 8", lits: []string{"\"s\":VARCHAR", "3:INT64"}},
		{q: `select "a" from t`, key: `select "a" from t`, mode: ANSIQuotes},
		{q: `select 'a\'b', 'c\\' from t`, key: `select ?, ? from t`, lits: []string{`'a\'b':VARCHAR`, `'c\\':VARCHAR`}},
		{q: `select 'a\' from t where x = 1`, key: `select ? from t where x = ?`, lits: []string{`'a\':VARCHAR`, "1:INT64"}, mode: NoBackslashEscapes},
		{q: "select 1abc, t1.2x from t", key: "select 1abc, t1.2x from t"},
		{q: "select /*vt+ QUERY_TIMEOUT_MS=10 */ a from t where id = 1", key: "select /*vt+ QUERY_TIMEOUT_MS=10 */ a from t where id = ?", lits: []string{"1:INT64"}},
		{q: "select a from t where b = @x and c = @@sql_mode", key: "select a from t where b = @x and c = @@sql_mode"},
		{q: "select a from (select b from t order by 1) x order by 1", key: "select a from (select b from t order by 1) x order by 1"},
		{q: "select a from t where id = 1 for update", key: "select a from t where id = ? for update", lits: []string{"1:INT64"}},
	}
	for _, c := range cases {
		n := normalize([]byte(c.q), c.mode, nil, nil)
		if !n.ok || string(n.key) != c.key {
			t.Errorf("%s:\n key %q (ok %v)\nwant %q", c.q, n.key, n.ok, c.key)
			continue
		}
		var got []string
		for _, l := range n.lits {
			got = append(got, c.q[l.Start:l.End]+":"+l.Value.Kind.String())
		}
		if strings.Join(got, "|") != strings.Join(c.lits, "|") {
			t.Errorf("%s:\n lits %q\nwant %q", c.q, got, c.lits)
		}
	}
	for _, bad := range []string{"select 'a", "select a from t where b = ?", "select /* x", "select `a"} {
		if n := normalize([]byte(bad), 0, nil, nil); n.ok {
			t.Errorf("%q normalized: %q", bad, n.key)
		}
	}
	n := normalize([]byte(`select 'a\nb', 'x''y', 'p\%'`), 0, nil, nil)
	want := []string{"a\nb", "x'y", `p\%`}
	for i, l := range n.lits {
		if string(l.Value.Raw) != want[i] || l.Value.Kind != vindex.VarChar {
			t.Errorf("value %d = %q, want %q", i, l.Value.Raw, want[i])
		}
	}
}

// TestIsDDL: the first word decides, in any case, after comments; CREATE TEMPORARY is not
// DDL (it stays on the session's shard), an executable comment is not skipped.
func TestIsDDL(t *testing.T) {
	cases := []struct {
		q    string
		want bool
	}{
		{"ALTER TABLE t ADD c INT", true},
		{"drop table t", true},
		{"  /* x */ Truncate t", true},
		{"RENAME TABLE a TO b", true},
		{"CREATE TABLE t (id INT)", true},
		{"create temporary table t (id int)", false},
		{"CREATE TEMPORARY TABLE t (id INT)", false},
		{"SELECT 1", false},
		{"/*!50000 DROP TABLE t */", false},
		{"dropx", false},
		{"", false},
		{"/* unterminated", false},
	}
	for _, tc := range cases {
		if got := isDDL([]byte(tc.q)); got != tc.want {
			t.Errorf("isDDL(%q) = %v, want %v", tc.q, got, tc.want)
		}
	}
}

// TestLowerWord checks the interned-word table against the keyword sets it is built from:
// every keyword, in any case, is found with whether an operand follows it; other words are
// not.
func TestLowerWord(t *testing.T) {
	var buf [16]byte
	for k := range keywords {
		if len(k) > len(buf) {
			continue // lowerWord keeps only words that fit its buffer
		}
		for _, spelling := range []string{k, strings.ToUpper(k)} {
			w, operand := lowerWord(&buf, []byte(spelling))
			if w != k || operand != !valueWords[k] {
				t.Errorf("lowerWord(%q) = %q, %v; want %q, %v", spelling, w, operand, k, !valueWords[k])
			}
		}
	}
	for k := range valueWords {
		if w, operand := lowerWord(&buf, []byte(strings.ToUpper(k))); w != k || operand {
			t.Errorf("lowerWord(%q) = %q, %v; want %q, false", k, w, operand, k)
		}
	}
	for _, w := range []string{"sbtest1", "customer_id", "selects", "fro", "Order", "z", "_utf8mb4", "a_very_long_identifier_name"} {
		got, operand := lowerWord(&buf, []byte(w))
		want := map[string]string{"Order": "order", "z": "z", "_utf8mb4": "_"}[w]
		if got != want || operand {
			t.Errorf("lowerWord(%q) = %q, %v; want %q, false", w, got, operand, want)
		}
	}
}

package classify

import (
	"reflect"
	"testing"
)

// FuzzAnalyze: Analyze never panics or reads out of range, is deterministic, and its
// statements cover the query in order: each starts where the previous one's ';' ends, and
// after the last there are only ';', white space and comments.
func FuzzAnalyze(f *testing.F) {
	for _, s := range []string{"select 1", "select 1; delete from t", "kill query 1", "use `x`",
		"/* a */ set @@session.x=1, global y = 'z'", "-- \n", "rollback work to x",
		"create procedure p() begin if 1 then select 1; end if; end; call p(@a)",
		"begin not atomic declare continue handler for sqlstate '02000' set @x = 1; end",
		"/*!40101 select 1; */", "set statement sql_mode='ANSI_QUOTES' for select \"a;b\"",
		"select '\xbf\x5c'; select 2", "show vitess_shards like 'x'", "prepare s from 'select 1'",
		"set sql_mode=4; select \"a\"; set names gbk; select 1", "set statement sql_mode=1048576 for execute immediate 'select 1'",
		"xa start x'61', 'b', 0x10", "create package body p as procedure q as begin null; end; end; select 1",
		"set @@global .x = 1", "begin not atomic set names gbk; end; select 1", "show grants for current_user()"} {
		f.Add([]byte(s), uint8(0))
	}
	f.Fuzz(func(t *testing.T, q []byte, mode uint8) {
		opt := Options{NoBackslashEscapes: mode&1 != 0, AnsiQuotes: mode&2 != 0, Charset: Charset(mode >> 2 % 6)}
		res := Analyze(q, opt)
		if again := Analyze(q, opt); !reflect.DeepEqual(res, again) {
			t.Fatalf("Analyze(%q) is not deterministic:\n%+v\n%+v", q, res, again)
		}
		n, end := 0, 0
		for st := range Statements(q, opt) {
			if n == 0 && st.Start != 0 {
				t.Fatalf("first statement starts at %d", st.Start)
			}
			if n > 0 && (end >= len(q) || q[end] != ';' || st.Start != end+1) {
				t.Fatalf("statement %d [%d,%d) does not follow the previous one's ';' at %d", n, st.Start, st.End, end)
			}
			if st.End < st.Start || st.End > len(q) {
				t.Fatalf("statement %d: bad range [%d,%d) of %d", n, st.Start, st.End, len(q))
			}
			if st.Kind >= numKinds || (st.Show != nil) != (st.Kind == KindShow) || (st.Kill != nil) != (st.Kind == KindKill) ||
				(st.XA != nil) != (st.Kind == KindXA) {
				t.Fatalf("kind %d, show %v, kill %v, xa %v", st.Kind, st.Show, st.Kill, st.XA)
			}
			if d := st.Directive; !d.Empty() && (d.Start < st.Start || d.End > st.End) {
				t.Fatalf("directive %+v outside [%d,%d)", d, st.Start, st.End)
			}
			if st.Set != nil {
				for _, a := range st.Set.Assignments {
					if a.Span.Start < st.Start || a.Span.End > st.End || a.ValueSpan.End > st.End {
						t.Fatalf("assignment %+v outside [%d,%d)", a, st.Start, st.End)
					}
				}
			}
			if st.Flags&Admin != 0 && st.Reason == "" {
				t.Fatalf("statement %d: admin without a reason", n)
			}
			n++
			end = st.End
		}
		if n != res.Count {
			t.Fatalf("Statements gave %d statements, Analyze %d", n, res.Count)
		}
		if n > 0 && end < len(q) {
			// Only separators, white space and comments may follow the last statement.
			tz := NewTokenizer(q, opt)
			tz.pos = end
			for tok := tz.Next(); tok.Kind != TokEOF; tok = tz.Next() {
				if tok.Kind != TokSemicolon {
					t.Fatalf("after the last statement (at %d): %s %q", end, tok.Kind, q[tok.Start:tok.End])
				}
			}
		}
	})
}

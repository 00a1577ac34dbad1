package classify

import (
	"slices"
	"testing"
)

// TestDotNumberAfterKeyword: after a keyword and a space, MariaDB reads ".5" as a number
// (MY_LEX_REAL_OR_POINT) that ends at its last digit: ".5INTO" is .5 INTO (the tokenizer had
// read "." then "5INTO", missing INTO OUTFILE, FOR UPDATE, INTO @x).
func TestDotNumberAfterKeyword(t *testing.T) {
	for q, want := range map[string]Flags{
		"SELECT .5INTO OUTFILE '/tmp/x'":                Admin,
		"SELECT .5e1INTO DUMPFILE '/tmp/x'":             Admin,
		"SELECT * FROM t WHERE id = 1 AND .5FOR UPDATE": ForUpdate,
		"SELECT .5INTO @x":                              WritesUserVar,
	} {
		if got := Analyze([]byte(q), Options{}).Flags; !got.Has(want) {
			t.Errorf("%q: flags %v, want %v", q, got, want)
		}
	}
}

// TestMultiByteTrailInName: in gbk, sjis and big5 a two-byte character may end in 0x60 (`);
// MariaDB reads it whole in an unquoted name or a user variable (the tokenizer had read the
// name byte by byte and opened a quoted name at the trail byte, hiding the subquery or the
// second statement).
func TestMultiByteTrailInName(t *testing.T) {
	for cs, lead := range map[Charset]string{CharsetGBK: "\x81", CharsetSJIS: "\x95", CharsetBig5: "\xa4"} {
		opt := Options{Charset: cs}
		for _, q := range []string{
			"SELECT 1 AS " + lead + "\x60, (SELECT COUNT(*) FROM other.customer) -- \x60",
			"SELECT 1 AS a" + lead + "\x60; INSERT INTO other.u VALUES (1) -- \x60",
			"SELECT @a" + lead + "\x60, (SELECT COUNT(*) FROM other.customer) -- \x60",
		} {
			cq := Analyze([]byte(q), opt)
			quals := slices.Collect(Qualifiers([]byte(q), opt))
			if !slices.Contains(quals, "other") {
				t.Errorf("cs %d %q: qualifiers %q, count %d: other.* hidden", cs, q, quals, cq.Count)
			}
		}
	}
}

package failover

import (
	"encoding/json"
	"slices"
	"testing"
)

func TestParsePosition(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		bad      bool
	}{
		{"", "", false},
		{"0-100-42", "0-100-42", false},
		{"1-200-7,0-100-42", "0-100-42,1-200-7", false},
		{" 0-100-42,\n 1-200-7 ", "0-100-42,1-200-7", false},
		{"0-100", "", true},
		{"0-100-x", "", true},
		{"0-100-1,0-101-2", "", true},
		{"-1-2-3", "", true},
	} {
		p, err := ParsePosition(tc.in)
		if (err != nil) != tc.bad {
			t.Errorf("ParsePosition(%q) err = %v, bad %v", tc.in, err, tc.bad)
			continue
		}
		if err == nil && p.String() != tc.want {
			t.Errorf("ParsePosition(%q) = %q, want %q", tc.in, p, tc.want)
		}
	}
	b, err := json.Marshal(struct{ P Position }{MustParsePosition("0-1-2")})
	if err != nil || string(b) != `{"P":"0-1-2"}` {
		t.Fatalf("json = %s, %v", b, err)
	}
	var back struct{ P Position }
	if err := json.Unmarshal(b, &back); err != nil || back.P.String() != "0-1-2" {
		t.Fatalf("round trip = %v, %v", back.P, err)
	}
}

func TestPositionCompare(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		c    int
		ok   bool
	}{
		{"0-100-5", "0-100-5", 0, true},
		{"0-100-6", "0-100-5", 1, true},
		{"0-101-6", "0-100-5", 1, true}, // a new primary wrote after 5
		{"0-100-4", "0-100-5", -1, true},
		{"0-100-5,1-1-1", "0-100-5", 1, true},
		{"0-100-6", "0-100-5,1-1-1", 0, false}, // each ahead somewhere
		{"", "0-100-1", -1, true},
		{"", "", 0, true},
	} {
		c, ok := MustParsePosition(tc.a).Compare(MustParsePosition(tc.b))
		if c != tc.c || ok != tc.ok {
			t.Errorf("Compare(%s, %s) = %d, %v; want %d, %v", tc.a, tc.b, c, ok, tc.c, tc.ok)
		}
	}
	if _, _, d := MustParsePosition("0-100-5").Diverged(MustParsePosition("0-101-5")); !d {
		t.Error("same sequence, other server: want diverged")
	}
	if got := maxPosition(MustParsePosition("0-100-5,2-7-1"), MustParsePosition("0-101-6,1-3-3")).String(); got != "0-101-6,1-3-3,2-7-1" {
		t.Errorf("maxPosition = %s", got)
	}
}

// TestFindErrant covers the definition of an errant transaction for MariaDB positions.
func TestFindErrant(t *testing.T) {
	writers := []Writer{
		{ServerID: 100, Alias: "zone1-100", TermEnd: MustParsePosition("0-100-50")},
		{ServerID: 101, Alias: "zone1-101"},
	}
	for _, tc := range []struct {
		name          string
		pos, ref      string
		live          bool
		primary, self uint32
		want          []string // errant GTIDs
	}{
		{name: "caught up", pos: "0-101-60", ref: "0-101-60", live: true, primary: 101, self: 200},
		{name: "lagging", pos: "0-101-55", ref: "0-101-60", live: true, primary: 101, self: 200},
		{name: "lagging across a failover", pos: "0-100-48", ref: "0-101-60", live: true, primary: 101, self: 200},
		{name: "written on the replica", pos: "0-200-61", ref: "0-101-60", live: true, primary: 101, self: 200, want: []string{"0-200-61"}},
		{name: "local write then caught up in seq", pos: "0-200-55", ref: "0-101-60", live: true, primary: 101, self: 200, want: []string{"0-200-55"}},
		{name: "same sequence other server", pos: "0-200-60", ref: "0-101-60", live: true, primary: 101, self: 300, want: []string{"0-200-60"}},
		{name: "domain the primary never wrote", pos: "0-101-60,5-200-1", ref: "0-101-60", live: true, primary: 101, self: 200, want: []string{"5-200-1"}},
		{name: "ahead of a live primary", pos: "0-101-61", ref: "0-101-60", live: true, primary: 101, self: 200, want: []string{"0-101-61"}},
		{name: "old primary past its term end", pos: "0-100-52", ref: "0-101-60", live: true, primary: 101, self: 100, want: []string{"0-100-52"}},
		{name: "old primary within its term", pos: "0-100-50", ref: "0-101-60", live: true, primary: 101, self: 100},
		{name: "ahead of others when the primary is dead", pos: "0-100-52", ref: "0-100-50", live: false, primary: 100, self: 200},
		{name: "dead primary, local write", pos: "0-200-51", ref: "0-100-50", live: false, primary: 100, self: 200, want: []string{"0-200-51"}},
		{name: "dead primary, own domain", pos: "0-100-50,9-200-3", ref: "0-100-50", live: false, primary: 100, self: 200, want: []string{"9-200-3"}},
		{name: "empty", pos: "", ref: "0-100-1", live: true, primary: 100, self: 200},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := FindErrant(MustParsePosition(tc.pos), MustParsePosition(tc.ref), tc.live, tc.primary, tc.self, writers)
			var ids []string
			for _, e := range got {
				ids = append(ids, e.GTID.String())
			}
			if !slices.Equal(ids, tc.want) {
				t.Fatalf("errant = %v (%v), want %v", ids, got, tc.want)
			}
		})
	}
}

package classify

import (
	"flag"
	"fmt"
	"os"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/corpus.golden from what Analyze says now")

// describe renders everything Analyze and Statements say of q, for the golden corpus.
func describe(q []byte, opt Options) string {
	var b strings.Builder
	res := Analyze(q, opt)
	fmt.Fprintf(&b, "query: count=%d kinds=%s flags=%s read-only=%v", res.Count, res.Kinds, res.Flags, res.ReadOnly)
	if res.Reason != "" {
		fmt.Fprintf(&b, " reason=%q", res.Reason)
	}
	if !res.Directive.Empty() {
		fmt.Fprintf(&b, " directive=%q", res.Directive.Text(q))
	}
	b.WriteByte('\n')
	for st := range Statements(q, opt) {
		text := strings.Join(strings.Fields(string(q[st.Start:st.End])), " ")
		if len(text) > 60 {
			text = text[:57] + "..."
		}
		fmt.Fprintf(&b, "  %q\n    %s", text, st.Kind)
		if st.Inner != KindUnknown {
			fmt.Fprintf(&b, " inner=%s", st.Inner)
		}
		if st.Flags != 0 {
			fmt.Fprintf(&b, " flags=%s", st.Flags)
		}
		fmt.Fprintf(&b, " read-only=%v", st.ReadOnly)
		if st.Name != "" {
			fmt.Fprintf(&b, " name=%q", st.Name)
		}
		if st.Text != "" {
			fmt.Fprintf(&b, " text=%q", st.Text)
		}
		if st.Show != nil && *st.Show != (Show{}) {
			fmt.Fprintf(&b, " show=%+v", *st.Show)
		}
		if st.Kill != nil {
			fmt.Fprintf(&b, " kill=%+v", *st.Kill)
		}
		if st.Tx != 0 {
			fmt.Fprintf(&b, " tx=%b", st.Tx)
		}
		if st.Set != nil {
			fmt.Fprintf(&b, " set=[%s]", assignments(q, st))
		}
		b.WriteByte('\n')
	}
	return b.String()
}

// TestCorpus compares what the classifier says of testdata/corpus.sql (queries real clients
// send) with testdata/corpus.golden; go test -update rewrites the golden file, to review.
func TestCorpus(t *testing.T) {
	src, err := os.ReadFile("testdata/corpus.sql")
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	for _, q := range strings.Split(string(src), "\n====\n") {
		if strings.HasPrefix(q, "-- Queries real clients send") {
			_, q, _ = strings.Cut(q, "\n")
		}
		q = strings.TrimSuffix(q, "\n")
		if q == "" {
			continue
		}
		fmt.Fprintf(&out, "=== %s\n%s\n", q, describe([]byte(q), Options{}))
	}
	const golden = "testdata/corpus.golden"
	if *update {
		if err := os.WriteFile(golden, []byte(out.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if got := out.String(); got != string(want) {
		gl, wl := strings.Split(got, "\n"), strings.Split(string(want), "\n")
		for i := 0; i < len(gl) || i < len(wl); i++ {
			var g, w string
			if i < len(gl) {
				g = gl[i]
			}
			if i < len(wl) {
				w = wl[i]
			}
			if g != w {
				t.Fatalf("corpus differs from %s at line %d:\n got %s\nwant %s\n(go test -update rewrites it: review the diff)", golden, i+1, g, w)
			}
		}
	}
}

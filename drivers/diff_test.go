package drivers

import (
	"fmt"
	"strings"
	"testing"
)

// diffContext is how many equal lines diffLines shows around each change; diffMaxLines bounds
// a diff's length (a run that failed at its first step differs in every line).
const (
	diffContext  = 2
	diffMaxLines = 80
)

// diffLines is a line diff of a (the oracle) and b: "" when they are equal, else the changed
// lines marked "- " (only in a) and "+ " (only in b) with a few equal lines around them
// marked "  ", each line prefixed with its line number in a or b, and "..." for the rest.
func diffLines(a, b []string) string {
	ops := editScript(a, b)
	changed := false
	for _, op := range ops {
		if op.kind != ' ' {
			changed = true
		}
	}
	if !changed {
		return ""
	}
	show := make([]bool, len(ops))
	for i, op := range ops {
		if op.kind == ' ' {
			continue
		}
		for j := max(0, i-diffContext); j <= min(len(ops)-1, i+diffContext); j++ {
			show[j] = true
		}
	}
	var sb strings.Builder
	gap, n := false, 0
	for i, op := range ops {
		if !show[i] {
			gap = true
			continue
		}
		if n == diffMaxLines {
			fmt.Fprintf(&sb, "    ... (diff cut at %d lines)\n", diffMaxLines)
			break
		}
		if gap && sb.Len() > 0 {
			sb.WriteString("    ...\n")
		}
		gap = false
		fmt.Fprintf(&sb, "%c %3d %s\n", op.kind, op.line, op.text)
		n++
	}
	return sb.String()
}

type editOp struct {
	kind byte // ' ' both, '-' only in a, '+' only in b
	line int  // 1-based line number in a (for ' ' and '-') or b (for '+')
	text string
}

// editScript is the shortest edit script from a to b (longest common subsequence; the
// transcripts are a few hundred lines, so the quadratic table is small).
func editScript(a, b []string) []editOp {
	n, m := len(a), len(b)
	lcs := make([][]int, n+1)
	for i := range lcs {
		lcs[i] = make([]int, m+1)
	}
	for i := n - 1; i >= 0; i-- {
		for j := m - 1; j >= 0; j-- {
			if a[i] == b[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	var ops []editOp
	i, j := 0, 0
	for i < n || j < m {
		switch {
		case i < n && j < m && a[i] == b[j]:
			ops = append(ops, editOp{' ', i + 1, a[i]})
			i++
			j++
		case i < n && (j == m || lcs[i+1][j] >= lcs[i][j+1]):
			ops = append(ops, editOp{'-', i + 1, a[i]})
			i++
		default:
			ops = append(ops, editOp{'+', j + 1, b[j]})
			j++
		}
	}
	return ops
}

func TestDiffLines(t *testing.T) {
	for _, c := range []struct {
		name string
		a, b []string
		want string
	}{
		{"equal", []string{"x", "y"}, []string{"x", "y"}, ""},
		{"both empty", nil, nil, ""},
		{"changed line", []string{"a", "b", "c"}, []string{"a", "B", "c"},
			"    1 a\n-   2 b\n+   2 B\n    3 c\n"},
		{"missing tail", []string{"a", "b"}, []string{"a"}, "    1 a\n-   2 b\n"},
		{"extra line", []string{"a"}, []string{"a", "z"}, "    1 a\n+   2 z\n"},
		{"context and gap", []string{"1", "2", "3", "4", "5", "6", "7", "8"}, []string{"1", "x", "3", "4", "5", "6", "7", "y"},
			"    1 1\n-   2 2\n+   2 x\n    3 3\n    4 4\n    ...\n    6 6\n    7 7\n-   8 8\n+   8 y\n"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := diffLines(c.a, c.b); got != c.want {
				t.Errorf("diffLines(%q, %q) =\n%s\nwant\n%s", c.a, c.b, got, c.want)
			}
		})
	}
}

func TestNormalise(t *testing.T) {
	got := normalise([]string{"insert: affected=1  \r", "rows=[[1]]"})
	want := []string{"insert: affected=1", "rows=[[1]]"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("normalise = %q, want %q", got, want)
	}
}

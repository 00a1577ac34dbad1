package classify

import (
	"slices"
	"testing"
)

// PreparedNames finds every PREPARE name FROM a text may run: at the top, in bodies, in the
// strings that may run as text.
func TestPreparedNames(t *testing.T) {
	for _, tt := range []struct {
		q    string
		want []string
	}{
		{"SELECT 1", nil},
		{"PREPARE a FROM 'SELECT 1'", []string{"a"}},
		{"BEGIN NOT ATOMIC PREPARE A FROM 'x'; prepare `b` from @v; PREPARE a FROM 'y'; END", []string{"a", "b"}},
		{"FOR i IN 1..100 DO PREPARE s FROM 'SELECT 1'; END FOR", []string{"s"}},
		{"EXECUTE IMMEDIATE 'BEGIN NOT ATOMIC PREPARE c FROM ''SELECT 1''; END'", []string{"c"}},
		{"PREPARE a FROM 'BEGIN NOT ATOMIC EXECUTE IMMEDIATE ''BEGIN NOT ATOMIC PREPARE d FROM ''''x''''; END''; END'", []string{"a", "d"}},
		{"SELECT 'PREPARE e FROM x'", []string{"e"}}, // an upper bound: it reads tokens only
		{"PREPARE f", nil},
		{"SELECT prepare FROM t", nil},
	} {
		if got := PreparedNames([]byte(tt.q), Options{}); !slices.Equal(got, tt.want) {
			t.Errorf("%q: %q, want %q", tt.q, got, tt.want)
		}
	}
}

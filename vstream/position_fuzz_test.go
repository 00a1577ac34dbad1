package vstream

import "testing"

// A position comes from a consumer's VGTID: whatever it holds, ParsePosition answers
// without panicking, and a position it accepts survives its String form.
func FuzzParsePosition(f *testing.F) {
	for _, s := range []string{"MariaDB/0-100-42", "MariaDB/0-100-42,1-200-7", "MariaDB/", "MySQL56/3e11fa47-71ca-11e1-9e33-c80aa9429562:1-9",
		"MySQL56/3e11fa47-71ca-11e1-9e33-c80aa9429562:1-9:11-20,4e11fa47-71ca-11e1-9e33-c80aa9429562:5", "current", "MariaDB/0-1-18446744073709551615", "x/y"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ParsePosition(s)
		if err != nil {
			return
		}
		again, err := ParsePosition(p.String())
		if err != nil {
			t.Fatalf("ParsePosition(%q): its String %q does not parse: %v", s, p.String(), err)
		}
		if !again.Equal(p) {
			t.Fatalf("ParsePosition(%q) = %s reads back as %s", s, p, again)
		}
	})
}

package router

import "testing"

// A target is a client's database name (the handshake, USE, gRPC's TargetString): whatever
// it holds, ParseTarget answers without panicking, and a target it accepts survives its
// String form.
func FuzzParseTarget(f *testing.F) {
	for _, s := range []string{"commerce", "commerce@replica", "commerce:-80@rdonly", "commerce/0@primary", "@replica", "", "ks:80-@REPLICA", "a@b@c", "ks/0:-80"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		tg, err := ParseTarget(s)
		if err != nil {
			return
		}
		again, err := ParseTarget(tg.String())
		if err != nil {
			t.Fatalf("ParseTarget(%q) = %+v, whose String %q does not parse: %v", s, tg, tg.String(), err)
		}
		if again != tg {
			t.Fatalf("ParseTarget(%q) = %+v; its String %q reads back as %+v", s, tg, tg.String(), again)
		}
	})
}

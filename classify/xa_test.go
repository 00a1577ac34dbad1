package classify

import "testing"

// XA statements report their verb and xid, so that two spellings of one xid compare equal.
func TestXA(t *testing.T) {
	ab16 := Xid{Gtrid: "a", Bqual: "b", FormatID: 16}
	tests := []struct {
		q      string
		verb   XAVerb
		xid    Xid
		hasXid bool
	}{
		{"XA START 'a'", XAStart, Xid{Gtrid: "a", FormatID: 1}, true},
		{"xa begin 'a' join", XAStart, Xid{Gtrid: "a", FormatID: 1}, true},
		{"XA START x'61', 'b', 0x10", XAStart, ab16, true},
		{"XA END 'a','b',16 SUSPEND", XAEnd, ab16, true},
		{"xa prepare 0x61 , b'01100010' , 16", XAPrepare, ab16, true},
		{"XA COMMIT 'a', 'b', 16 ONE PHASE", XACommit, ab16, true},
		{"XA ROLLBACK /* c */ 'a', \"b\", 16", XARollback, ab16, true},
		{"XA COMMIT 'a', '', 1", XACommit, Xid{Gtrid: "a", FormatID: 1}, true},
		{"XA COMMIT 'it''s'", XACommit, Xid{Gtrid: "it's", FormatID: 1}, true},
		{"XA COMMIT @x", XACommit, Xid{FormatID: 1}, false},
		{"XA COMMIT N'a'", XACommit, Xid{FormatID: 1}, false},
		{"XA COMMIT 'a', 'b', 1.5", XACommit, Xid{Gtrid: "a", Bqual: "b", FormatID: 1}, false},
		{"XA RECOVER", XARecover, Xid{}, false},
	}
	for _, tt := range tests {
		st := Analyze([]byte(tt.q), Options{}).First
		if st.Kind != KindXA || st.XA == nil {
			t.Errorf("%q: %s %+v", tt.q, st.Kind, st.XA)
			continue
		}
		if st.XA.Verb != tt.verb || st.XA.HasXid != tt.hasXid || (tt.hasXid && st.XA.Xid != tt.xid) {
			t.Errorf("%q: %+v, want verb %d xid %+v (%v)", tt.q, *st.XA, tt.verb, tt.xid, tt.hasXid)
		}
	}
	if st := Analyze([]byte("XA RECOVER FORMAT='SQL'"), Options{}).First; st.Flags&Admin == 0 {
		t.Errorf("XA RECOVER: flags %s, want admin", st.Flags)
	}
}

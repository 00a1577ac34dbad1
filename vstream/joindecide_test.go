package vstream

import "testing"

func TestDecideJoin(t *testing.T) {
	pos := func(s string) Position {
		t.Helper()
		p, err := ParsePosition("MariaDB/" + s)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	// The server has domains 0 and 1; domain 1 is idle at 1-100-2.
	const known = "0-100-9,1-100-2"
	for _, tc := range []struct {
		name, hub, known, joiner string
		caughtUp                 bool
		want                     joinVerdict
		start                    string
	}{
		{"level in every domain", "0-100-7,1-100-2", known, "0-100-7,1-100-2", false, joinNow, "0-100-7,1-100-2"},
		{"level, idle domain level, at a heartbeat", "0-100-9,1-100-2", known, "0-100-9,1-100-2", true, joinNow, "0-100-9,1-100-2"},
		{"behind in the busy domain", "0-100-7,1-100-2", known, "0-100-5,1-100-2", false, joinOwn, ""},
		{"behind in the idle domain", "0-100-7,1-100-2", known, "0-100-7,1-100-1", false, joinOwn, ""},
		{"ahead of the hub, not of the server", "0-100-7,1-100-2", known, "0-100-8,1-100-2", false, joinWait, ""},
		{"ahead of the server in the idle domain", "0-100-7,1-100-2", known, "0-100-7,1-100-5", false, joinOwn, ""},
		{"ahead of the server in the busy domain", "0-100-7,1-100-2", known, "0-100-10,1-100-2", true, joinOwn, ""},
		{"another history", "0-100-7,1-100-2", known, "0-100-7,1-200-2", false, joinOwn, ""},
		{"without a domain of the hub", "0-100-7,1-100-2", known, "0-100-7", false, joinOwn, ""},
		{"a domain the hub reads from the start", "0-100-7", known, "0-100-7,1-100-1", false, joinWait, ""},
		{"a domain the server never had, at a heartbeat", "0-100-9,1-100-2", known, "0-100-9,1-100-2,9-100-1", true, joinNow, "0-100-9,1-100-2,9-100-1"},
		{"a domain the server never had, mid-stream", "0-100-7,1-100-2", known, "0-100-7,1-100-2,9-100-1", false, joinWait, ""},
		{"the hub's start names a domain the server never had", "0-100-9,1-100-2,9-100-1", known, "0-100-9,1-100-2", true, joinNow, "0-100-9,1-100-2"},
		{"the hub's foreign domain, mid-stream", "0-100-7,1-100-2,9-100-1", known, "0-100-7,1-100-2", false, joinOwn, ""},
		{"both name a foreign domain, differently", "0-100-9,1-100-2,9-100-1", known, "0-100-9,1-100-2,9-100-4", true, joinNow, "0-100-9,1-100-2,9-100-4"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v, start := decideJoin(pos(tc.hub), pos(tc.known), pos(tc.joiner), tc.caughtUp)
			if v != tc.want {
				t.Fatalf("verdict %v, want %v", v, tc.want)
			}
			if v == joinNow && start.String() != "MariaDB/"+tc.start {
				t.Fatalf("start %s, want MariaDB/%s", start, tc.start)
			}
		})
	}
}

func TestOnServer(t *testing.T) {
	a, _ := ParsePosition("MariaDB/0-100-7,1-100-2,9-100-1")
	b, _ := ParsePosition("MariaDB/0-100-7,1-100-2")
	known, _ := ParsePosition("MariaDB/0-100-9,1-100-2")
	if !a.onServer(known).Same(b.onServer(known)) {
		t.Errorf("%s and %s differ only in a domain the server never had", a, b)
	}
	if got := a.onServer(known).String(); got != "MariaDB/0-100-7,1-100-2" {
		t.Errorf("on the server: %s", got)
	}
}

func TestRaiseToGTIDList(t *testing.T) {
	known, _ := ParsePosition("MariaDB/0-100-9")
	body := []byte{2, 0, 0, 0, // two GTIDs
		0, 0, 0, 0, 100, 0, 0, 0, 5, 0, 0, 0, 0, 0, 0, 0, // 0-100-5: older than known
		1, 0, 0, 0, 100, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, // 1-100-2
		0xde, 0xad, 0xbe, 0xef} // checksum
	if got := raiseToGTIDList(known, body).String(); got != "MariaDB/0-100-9,1-100-2" {
		t.Errorf("raised to %s, want MariaDB/0-100-9,1-100-2", got)
	}
}

// TestEndCarriers: when a domain first shows up on the hub, the subscriptions whose view of
// it differs from the hub's start position end (and resume from their positions); the
// others go on.
func TestEndCarriers(t *testing.T) {
	set := newHubSet(Config{})
	mk := func(foreign ...mariaGTID) *subscription {
		return &subscription{set: set, state: subShared, foreign: foreign, notify: make(chan struct{}, 1)}
	}
	g1, g4 := mariaGTID{Domain: 9, Server: 100, Seq: 1}, mariaGTID{Domain: 9, Server: 100, Seq: 4}
	same, other, none, otherDomain := mk(g1), mk(g4), mk(), mk(mariaGTID{Domain: 8, Server: 100, Seq: 1})
	h := &dumpHub{set: set, addr: "a", subs: map[*subscription]struct{}{same: {}, other: {}, none: {}, otherDomain: {}}}
	from, _ := ParsePosition("MariaDB/0-100-9,9-100-1") // the hub started naming 9-100-1
	h.endCarriers(9, from)
	for name, c := range map[string]struct {
		s    *subscription
		ends bool
	}{"same GTID": {same, false}, "another GTID": {other, true}, "without the domain": {none, true}, "another foreign domain": {otherDomain, true}} {
		if got := c.s.end != nil; got != c.ends {
			t.Errorf("%s: ended %v, want %v", name, got, c.ends)
		}
	}
	plain := mk()
	h = &dumpHub{set: set, addr: "a", subs: map[*subscription]struct{}{plain: {}}}
	from, _ = ParsePosition("MariaDB/0-100-9")
	h.endCarriers(9, from)
	if plain.end != nil {
		t.Errorf("a stream level with the hub (neither names domain 9) ended: %v", plain.end)
	}
}

package failover

import (
	"errors"
	"strings"
	"testing"

	topodatapb "vitess.io/vitess/go/vt/proto/topodata"
)

func cand(alias string, typ topodatapb.TabletType, pos string) Candidate {
	a, _ := parseAlias(alias)
	return Candidate{Tablet: tablet(alias, typ), Position: MustParsePosition(pos), ServerID: a.Uid}
}

func TestChoose(t *testing.T) {
	R, RO := topodatapb.TabletType_REPLICA, topodatapb.TabletType_RDONLY
	old := tablet("zone1-100", topodatapb.TabletType_PRIMARY)
	writers := []Writer{{ServerID: 100, Alias: "zone1-100"}}
	for _, tc := range []struct {
		name       string
		cands      []Candidate
		policy     Durability
		overrides  map[string]Rule
		requested  string
		winner     string
		advanced   string
		errHas     string
		rejectedOf string // a tablet that must be in Rejected
	}{
		{name: "most advanced, same cell first on ties", policy: policyNone{},
			cands:  []Candidate{cand("zone2-200", R, "0-100-50"), cand("zone1-101", R, "0-100-50"), cand("zone2-201", RO, "0-100-50")},
			winner: "zone1-101", advanced: "zone1-101"},
		{name: "the most advanced wins over the old primary's cell", policy: policyNone{},
			cands:  []Candidate{cand("zone1-101", R, "0-100-49"), cand("zone2-200", R, "0-100-50")},
			winner: "zone2-200", advanced: "zone2-200"},
		{name: "rdonly most advanced: a replica catches up from it", policy: policyNone{},
			cands:  []Candidate{cand("zone1-101", R, "0-100-48"), cand("zone2-201", RO, "0-100-50")},
			winner: "zone1-101", advanced: "zone2-201", rejectedOf: "zone2-201"},
		{name: "errant replica never promoted even when most advanced", policy: policyNone{},
			cands:  []Candidate{cand("zone1-101", R, "0-101-51"), cand("zone2-200", R, "0-100-50")},
			winner: "zone2-200", advanced: "zone2-200", rejectedOf: "zone1-101"},
		{name: "prefer_not only when nothing else", policy: policyNone{}, overrides: map[string]Rule{"zone1-101": PreferNot},
			cands:  []Candidate{cand("zone1-101", R, "0-100-50"), cand("zone2-200", R, "0-100-49")},
			winner: "zone2-200", advanced: "zone1-101"},
		{name: "prefer_not when it is the only one", policy: policyNone{}, overrides: map[string]Rule{"zone1-101": PreferNot},
			cands:  []Candidate{cand("zone1-101", R, "0-100-50"), cand("zone2-201", RO, "0-100-50")},
			winner: "zone1-101", advanced: "zone1-101"},
		{name: "must_not never", policy: policyNone{}, overrides: map[string]Rule{"zone1-101": MustNot},
			cands:  []Candidate{cand("zone1-101", R, "0-100-50"), cand("zone2-201", RO, "0-100-50")},
			errHas: "must_not"},
		{name: "an override cannot make rdonly promotable", policy: policyNone{}, overrides: map[string]Rule{"zone2-201": Prefer},
			cands:  []Candidate{cand("zone2-201", RO, "0-100-50")},
			errHas: "must_not"},
		{name: "prefer beats the most advanced", policy: policyNone{}, overrides: map[string]Rule{"zone2-200": Prefer},
			cands:  []Candidate{cand("zone1-101", R, "0-100-50"), cand("zone2-200", R, "0-100-49")},
			winner: "zone2-200", advanced: "zone1-101"},
		{name: "semi_sync needs an acker", policy: policySemiSync{},
			cands:  []Candidate{cand("zone1-101", R, "0-100-50"), cand("zone2-201", RO, "0-100-50")},
			errHas: "durability policy semi_sync needs 1"},
		{name: "semi_sync with an acker", policy: policySemiSync{},
			cands:  []Candidate{cand("zone1-101", R, "0-100-50"), cand("zone2-200", R, "0-100-50")},
			winner: "zone1-101", advanced: "zone1-101"},
		{name: "cross_cell: the acker must be in another cell", policy: policyCrossCell{},
			cands:  []Candidate{cand("zone1-101", R, "0-100-50"), cand("zone1-102", R, "0-100-50"), cand("zone2-200", R, "0-100-49")},
			winner: "zone1-101", advanced: "zone1-101"},
		{name: "cross_cell: no acker elsewhere", policy: policyCrossCell{},
			cands:  []Candidate{cand("zone1-101", R, "0-100-50"), cand("zone1-102", R, "0-100-50")},
			errHas: "needs 1 semi-sync ack"},
		{name: "split brain", policy: policyNone{},
			cands:  []Candidate{cand("zone1-101", R, "0-100-50,1-100-5"), cand("zone2-200", R, "0-100-51,1-100-4")},
			errHas: "split brain"},
		{name: "requested", policy: policyNone{}, requested: "zone2-200",
			cands:  []Candidate{cand("zone1-101", R, "0-100-50"), cand("zone2-200", R, "0-100-49")},
			winner: "zone2-200", advanced: "zone1-101"},
		{name: "requested errant", policy: policyNone{}, requested: "zone1-101",
			cands:  []Candidate{cand("zone1-101", R, "0-101-51"), cand("zone2-200", R, "0-100-50")},
			errHas: "requested tablet zone1-101 cannot be promoted: errant"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := ChoiceInput{Candidates: tc.cands, OldPrimary: old, OldPrimaryID: 100, Rules: Rules{Policy: tc.policy, Overrides: tc.overrides}, Writers: writers}
			if tc.requested != "" {
				in.Requested, _ = parseAlias(tc.requested)
			}
			ch, err := Choose(in)
			if tc.errHas != "" {
				if err == nil || !strings.Contains(err.Error(), tc.errHas) || !errors.Is(err, ErrNoCandidate) {
					t.Fatalf("err = %v, want one with %q", err, tc.errHas)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if ch.Winner.Alias() != tc.winner || ch.MostAdvanced.Alias() != tc.advanced {
				t.Fatalf("winner %s, most advanced %s; want %s, %s (rejected %v)", ch.Winner.Alias(), ch.MostAdvanced.Alias(), tc.winner, tc.advanced, ch.Rejected)
			}
			if ch.NeedsCatchUp() != (tc.winner != tc.advanced) {
				t.Fatalf("NeedsCatchUp = %v", ch.NeedsCatchUp())
			}
			if tc.rejectedOf != "" && ch.Rejected[tc.rejectedOf] == "" {
				t.Fatalf("%s not in Rejected %v", tc.rejectedOf, ch.Rejected)
			}
		})
	}
}

func TestParseRuleOverrides(t *testing.T) {
	m, err := ParseRuleOverrides("zone1-101=prefer, zone2-0000000200=must_not")
	if err != nil || m["zone1-101"] != Prefer || m["zone2-200"] != MustNot {
		t.Fatalf("got %v, %v", m, err)
	}
	for _, bad := range []string{"zone1-101", "zone1-x=prefer", "zone1-101=must"} {
		if _, err := ParseRuleOverrides(bad); err == nil {
			t.Errorf("%q: want an error", bad)
		}
	}
	if _, err := PolicyByName("semi_sync_with_rdonly_ack"); err == nil {
		t.Error("unknown policy: want an error")
	}
}

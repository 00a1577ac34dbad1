package failover

// Durability policies and promotion rules, as Vitess defines them
// (go/vt/vtctl/reparentutil/policy): a policy says which tablets may be promoted and in what
// order of preference, how many semi-sync acks a primary needs, and which replicas send them.
// The policy of a keyspace is its Keyspace record's durability_policy, as in Vitess.

import (
	"fmt"
	"strings"

	topodatapb "vitess.io/vitess/go/vt/proto/topodata"
)

// Rule is a tablet's promotion rule. Lower is better.
type Rule int

// The rules, best first (Vitess's CandidatePromotionRule without "must").
const (
	Prefer Rule = iota
	Neutral
	PreferNot
	MustNot
)

var ruleNames = [...]string{Prefer: "prefer", Neutral: "neutral", PreferNot: "prefer_not", MustNot: "must_not"}

func (r Rule) String() string {
	if r >= 0 && int(r) < len(ruleNames) {
		return ruleNames[r]
	}
	return fmt.Sprintf("Rule(%d)", int(r))
}

// MarshalText names the rule.
func (r Rule) MarshalText() ([]byte, error) { return []byte(r.String()), nil }

// UnmarshalText reads what MarshalText wrote.
func (r *Rule) UnmarshalText(b []byte) error {
	x, err := ParseRule(string(b))
	*r = x
	return err
}

// ParseRule reads "prefer", "neutral", "prefer_not" or "must_not".
func ParseRule(s string) (Rule, error) {
	for i, n := range ruleNames {
		if strings.EqualFold(s, n) {
			return Rule(i), nil
		}
	}
	return 0, fmt.Errorf("promotion rule %q: want prefer, neutral, prefer_not or must_not", s)
}

// Durability is a durability policy.
type Durability interface {
	// Name is the policy's name in the Keyspace record ("semi_sync").
	Name() string
	// Rule is the promotion rule the policy gives a tablet (before overrides).
	Rule(t *topodatapb.Tablet) Rule
	// Ackers is how many semi-sync acks a primary needs (0: asynchronous replication).
	Ackers() int
	// SendsAcks reports whether replica sends semi-sync acks when primary is the primary.
	SendsAcks(primary, replica *topodatapb.Tablet) bool
}

// Policy names (Vitess's).
const (
	PolicyNone      = "none"
	PolicySemiSync  = "semi_sync"
	PolicyCrossCell = "cross_cell"
)

// PolicyByName returns a durability policy; "" is "none", as in Vitess.
func PolicyByName(name string) (Durability, error) {
	switch name {
	case "", PolicyNone:
		return policyNone{}, nil
	case PolicySemiSync:
		return policySemiSync{}, nil
	case PolicyCrossCell:
		return policyCrossCell{}, nil
	}
	return nil, fmt.Errorf("durability policy %q: want %s, %s or %s", name, PolicyNone, PolicySemiSync, PolicyCrossCell)
}

// typeRule is the rule every Vitess policy gives by tablet type: PRIMARY and REPLICA may be
// promoted, everything else (RDONLY, DRAINED, BACKUP...) must not.
func typeRule(t *topodatapb.Tablet) Rule {
	switch t.GetType() {
	case topodatapb.TabletType_PRIMARY, topodatapb.TabletType_REPLICA:
		return Neutral
	}
	return MustNot
}

// acksByType: PRIMARY and REPLICA tablets send acks, RDONLY do not (Vitess's semi_sync).
func acksByType(t *topodatapb.Tablet) bool {
	switch t.GetType() {
	case topodatapb.TabletType_PRIMARY, topodatapb.TabletType_REPLICA:
		return true
	}
	return false
}

type policyNone struct{}

func (policyNone) Name() string                                     { return PolicyNone }
func (policyNone) Rule(t *topodatapb.Tablet) Rule                   { return typeRule(t) }
func (policyNone) Ackers() int                                      { return 0 }
func (policyNone) SendsAcks(_, _ *topodatapb.Tablet) bool           { return false }
func (policySemiSync) Name() string                                 { return PolicySemiSync }
func (policySemiSync) Rule(t *topodatapb.Tablet) Rule               { return typeRule(t) }
func (policySemiSync) Ackers() int                                  { return 1 }
func (policySemiSync) SendsAcks(_, replica *topodatapb.Tablet) bool { return acksByType(replica) }
func (policyCrossCell) Name() string                                { return PolicyCrossCell }
func (policyCrossCell) Rule(t *topodatapb.Tablet) Rule              { return typeRule(t) }
func (policyCrossCell) Ackers() int                                 { return 1 }

// SendsAcks is part of Durability: only a replica in another cell than the primary's acks.
func (policyCrossCell) SendsAcks(primary, replica *topodatapb.Tablet) bool {
	return acksByType(replica) && primary.GetAlias().GetCell() != replica.GetAlias().GetCell()
}

type (
	policySemiSync  struct{}
	policyCrossCell struct{}
)

// Rules is the promotion rule of each tablet: the policy's, unless an override names the
// tablet. An override may only make a tablet less eligible than its type allows: an RDONLY
// stays must_not whatever it says (Vitess never promotes one).
type Rules struct {
	Policy    Durability
	Overrides map[string]Rule // by alias in the short form "zone1-100"
}

// Of returns the tablet's rule.
func (r Rules) Of(t *topodatapb.Tablet) Rule {
	base := r.Policy.Rule(t)
	if o, ok := r.Overrides[shortAlias(t.GetAlias())]; ok && base != MustNot {
		return o
	}
	return base
}

// ParseRuleOverrides reads "zone1-100=prefer,zone2-200=must_not".
func ParseRuleOverrides(s string) (map[string]Rule, error) {
	out := map[string]Rule{}
	for _, item := range strings.Split(s, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		alias, rule, ok := strings.Cut(item, "=")
		if !ok {
			return nil, fmt.Errorf("promotion rule %q: want <tablet alias>=<rule>, e.g. zone1-101=prefer", item)
		}
		a, err := parseAlias(strings.TrimSpace(alias))
		if err != nil {
			return nil, err
		}
		r, err := ParseRule(strings.TrimSpace(rule))
		if err != nil {
			return nil, fmt.Errorf("tablet %s: %w", alias, err)
		}
		out[shortAlias(a)] = r
	}
	return out, nil
}

// UnreachedAckers returns the tablets of unreached that could have sent primary's semi-sync
// acks, and whether they are enough to have acknowledged a write alone. When they are, a write
// the primary acknowledged may exist only on them, and promoting one of the tablets reached
// could lose it: an emergency reparent must refuse until enough of them answer (Vitess's
// emergency reparent refuses the same way: its "haveRevoked" check). Under a policy without
// acks (none), an acknowledged write was never promised to be anywhere but on the primary, so
// nothing is refused. primary may be a record-less stub (only its alias known).
func UnreachedAckers(pol Durability, primary *topodatapb.Tablet, unreached []*topodatapb.Tablet) (ackers []string, enough bool) {
	need := pol.Ackers()
	if need == 0 {
		return nil, false
	}
	for _, t := range unreached {
		if pol.SendsAcks(primary, t) {
			ackers = append(ackers, shortAlias(t.GetAlias()))
		}
	}
	return ackers, len(ackers) >= need
}

// unreachedAckersReason says why an emergency reparent must wait for unreachable ackers, ""
// when it need not.
func unreachedAckersReason(pol Durability, primary *topodatapb.Tablet, unreached []*topodatapb.Tablet) string {
	ackers, enough := UnreachedAckers(pol, primary, unreached)
	if !enough {
		return ""
	}
	return fmt.Sprintf("durability policy %s: %s could have sent the semi-sync ack of a write %s acknowledged, and cannot be reached: "+
		"promoting another tablet could lose that write; bring %s back (or, if it is lost for good, remove its tablet record with "+
		"`vtdirect topo remove-tablet`, accepting the loss)",
		pol.Name(), strings.Join(ackers, ", "), shortAlias(primary.GetAlias()), strings.Join(ackers, ", "))
}

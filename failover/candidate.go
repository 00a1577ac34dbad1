package failover

// Choosing the tablet to promote: a pure function, as Vitess's reparentutil does it
// (findMostAdvanced, filterValidCandidates, identifyPrimaryCandidate): the most advanced tablet
// by GTID is the one every acknowledged transaction reached; the one promoted is the best by
// promotion rule among those that can be, in the failed primary's cell first, after it has
// caught up with the most advanced one.

import (
	"cmp"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	topodatapb "vitess.io/vitess/go/vt/proto/topodata"
)

// Candidate is a reachable tablet and what it holds.
type Candidate struct {
	Tablet *topodatapb.Tablet
	// Position is what it executed (@@gtid_binlog_pos), read after its relay log was applied.
	Position Position
	ServerID uint32
}

// Alias is the candidate's short alias.
func (c *Candidate) Alias() string { return shortAlias(c.Tablet.GetAlias()) }

// ChoiceInput is what the choice reads.
type ChoiceInput struct {
	// Candidates are the reachable tablets of the shard other than the old primary.
	Candidates []Candidate
	// OldPrimary is the primary being replaced (nil: none, an election). OldPrimaryID and
	// OldPrimaryPos are its server id and last known position, when known.
	OldPrimary    *topodatapb.Tablet
	OldPrimaryID  uint32
	OldPrimaryPos Position
	// Live: the old primary is alive and its position is final (a planned reparent): a
	// candidate ahead of it or with a domain it lacks is errant.
	Live    bool
	Rules   Rules
	Writers []Writer
	// Requested is the tablet the operator asked for (nil: choose).
	Requested *topodatapb.TabletAlias
	// Avoid is a tablet not to promote unless nothing else can be (planned reparent away from it).
	Avoid *topodatapb.TabletAlias
	// Reachable are the tablets that will replicate from the winner (its possible semi-sync
	// ackers), candidates or not; nil: the candidates.
	Reachable []*topodatapb.Tablet
}

// Choice is the outcome.
type Choice struct {
	// MostAdvanced holds every transaction any valid candidate holds: the source the winner
	// catches up from when it is not the winner itself.
	MostAdvanced *Candidate
	// Winner is the tablet to promote.
	Winner *Candidate
	// Rejected says why each other candidate was not chosen or not eligible, by alias.
	Rejected map[string]string
}

// NeedsCatchUp reports whether the winner must first replicate from the most advanced tablet.
func (c *Choice) NeedsCatchUp() bool { return c.Winner != c.MostAdvanced }

// ErrNoCandidate is wrapped by the errors of Choose that mean no tablet may be promoted.
var ErrNoCandidate = errors.New("no tablet can be promoted")

// Choose picks the tablet to promote.
func Choose(in ChoiceInput) (Choice, error) {
	ch := Choice{Rejected: map[string]string{}}
	valid := make([]*Candidate, 0, len(in.Candidates))
	for i := range in.Candidates {
		c := &in.Candidates[i]
		if errant := candidateErrant(in, i); len(errant) > 0 {
			ch.Rejected[c.Alias()] = "errant transactions: " + errantList(errant)
			continue
		}
		valid = append(valid, c)
	}
	if len(valid) == 0 {
		return ch, fmt.Errorf("%w: no reachable candidate without errant transactions (%s)", ErrNoCandidate, rejections(ch.Rejected))
	}
	// Most advanced first; ties by rule, then alias for a stable order.
	slices.SortStableFunc(valid, func(a, b *Candidate) int {
		if c, ok := a.Position.Compare(b.Position); ok && c != 0 {
			return -c
		}
		if c := cmp.Compare(in.Rules.Of(a.Tablet), in.Rules.Of(b.Tablet)); c != 0 {
			return c
		}
		return cmp.Compare(a.Alias(), b.Alias())
	})
	ch.MostAdvanced = valid[0]
	for _, c := range valid[1:] {
		if !ch.MostAdvanced.Position.AtLeast(c.Position) {
			return ch, fmt.Errorf("%w: split brain: %s (%s) and %s (%s) each hold transactions the other lacks; reparent by hand",
				ErrNoCandidate, ch.MostAdvanced.Alias(), ch.MostAdvanced.Position, c.Alias(), c.Position)
		}
	}
	var eligible []*Candidate
	for _, c := range valid {
		if why := ineligible(in, c); why != "" {
			ch.Rejected[c.Alias()] = why
			continue
		}
		eligible = append(eligible, c)
	}
	if in.Requested != nil {
		for _, c := range eligible {
			if sameAlias(c.Tablet.GetAlias(), in.Requested) {
				ch.Winner = c
				return ch, nil
			}
		}
		why := ch.Rejected[shortAlias(in.Requested)]
		if why == "" {
			why = "it is not a reachable tablet of the shard"
		}
		return ch, fmt.Errorf("%w: requested tablet %s cannot be promoted: %s", ErrNoCandidate, shortAlias(in.Requested), why)
	}
	if len(eligible) == 0 {
		return ch, fmt.Errorf("%w: %s", ErrNoCandidate, rejections(ch.Rejected))
	}
	// Best rule first; among equals the most advanced itself (no catch-up), then the old
	// primary's cell, then the most advanced; a tablet to avoid last.
	oldCell := in.OldPrimary.GetAlias().GetCell()
	slices.SortStableFunc(eligible, func(a, b *Candidate) int {
		if c := cmp.Compare(b2i(avoided(in, a)), b2i(avoided(in, b))); c != 0 {
			return c
		}
		if c := cmp.Compare(in.Rules.Of(a.Tablet), in.Rules.Of(b.Tablet)); c != 0 {
			return c
		}
		if c := cmp.Compare(b2i(a != ch.MostAdvanced), b2i(b != ch.MostAdvanced)); c != 0 {
			return c
		}
		return cmp.Compare(b2i(a.Tablet.GetAlias().GetCell() != oldCell), b2i(b.Tablet.GetAlias().GetCell() != oldCell))
	})
	ch.Winner = eligible[0]
	for _, c := range eligible[1:] {
		ch.Rejected[c.Alias()] = fmt.Sprintf("%s (%s) was preferred", ch.Winner.Alias(), in.Rules.Of(ch.Winner.Tablet))
	}
	return ch, nil
}

func avoided(in ChoiceInput, c *Candidate) bool {
	return in.Avoid != nil && sameAlias(in.Avoid, c.Tablet.GetAlias())
}

// candidateErrant checks candidate i against the old primary (a planned reparent) or against
// everything the other candidates and the old primary hold (an emergency).
func candidateErrant(in ChoiceInput, i int) []Errant {
	c := in.Candidates[i]
	if in.Live {
		return FindErrant(c.Position, in.OldPrimaryPos, true, in.OldPrimaryID, c.ServerID, in.Writers)
	}
	ref := in.OldPrimaryPos
	for j, o := range in.Candidates {
		if j != i {
			ref = maxPosition(ref, o.Position)
		}
	}
	return FindErrant(c.Position, ref, false, in.OldPrimaryID, c.ServerID, in.Writers)
}

// maxPosition is, per domain, the GTID with the higher sequence.
func maxPosition(a, b Position) Position {
	out := Position{gtids: slices.Clone(a.gtids)}
	for _, g := range b.gtids {
		i := slices.IndexFunc(out.gtids, func(x GTID) bool { return x.Domain == g.Domain })
		switch {
		case i < 0:
			out.gtids = append(out.gtids, g)
		case g.Sequence > out.gtids[i].Sequence:
			out.gtids[i] = g
		}
	}
	slices.SortFunc(out.gtids, func(x, y GTID) int { return cmp.Compare(x.Domain, y.Domain) })
	return out
}

// ineligible says why a valid candidate may not be promoted, "" if it may.
func ineligible(in ChoiceInput, c *Candidate) string {
	if r := in.Rules.Of(c.Tablet); r == MustNot {
		return fmt.Sprintf("promotion rule must_not (tablet type %s)", c.Tablet.GetType())
	}
	need := in.Rules.Policy.Ackers()
	if need == 0 {
		return ""
	}
	reachable := in.Reachable
	if reachable == nil {
		for _, o := range in.Candidates {
			reachable = append(reachable, o.Tablet)
		}
	}
	var ackers []string
	for _, o := range reachable {
		if shortAlias(o.GetAlias()) != c.Alias() && in.Rules.Policy.SendsAcks(c.Tablet, o) {
			ackers = append(ackers, shortAlias(o.GetAlias()))
		}
	}
	if len(ackers) < need {
		return fmt.Sprintf("durability policy %s needs %d semi-sync ack(s) for it and only %d reachable tablet(s) could send them (%s)",
			in.Rules.Policy.Name(), need, len(ackers), orNone(strings.Join(ackers, ", ")))
	}
	return ""
}

func rejections(m map[string]string) string {
	if len(m) == 0 {
		return "no candidates"
	}
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, k+": "+m[k])
	}
	return strings.Join(parts, "; ")
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

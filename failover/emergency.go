package failover

// The emergency reparent, after Vitess's EmergencyReparentShard (go/vt/vtctl/reparentutil/
// emergency_reparenter.go), done on MariaDB directly: stop the IO threads, let the relay logs
// apply, choose the most advanced tablet and the one to promote, promote it, repoint the
// others, record it in the topo as Vitess does. Until the promotion every step can be undone
// (replication restarted); after it the shard has exactly one writable tablet, and a step
// that fails leaves what the next analysis finishes.

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	topodatapb "vitess.io/vitess/go/vt/proto/topodata"
)

// EmergencyOptions are the options of an emergency reparent.
type EmergencyOptions struct {
	// Trigger is the analysis code that started it, or "operator".
	Trigger, Detail string
	// NewPrimary asks for a tablet (the operator's choice); nil chooses.
	NewPrimary *topodatapb.TabletAlias
	// Expected is the primary (short alias) the caller saw dead; "" for an election. The
	// recovery stops if the shard record names another one when it holds the lock.
	Expected string
	// Confirm re-analyzes under the lock and stops unless the analysis still asks for this
	// recovery (automatic recoveries; an operator's run does not).
	Confirm bool
	// Out receives progress lines.
	Out func(string)
}

// Emergency runs an emergency reparent (or an election when the shard has no primary).
func (r *Reparenter) Emergency(ctx context.Context, keyspace, shard string, opts EmergencyOptions) (*Recovery, error) {
	kind := KindEmergency
	if opts.Expected == "" && opts.Trigger != "operator" {
		kind = KindElect
	}
	x, err := r.begin(keyspace, shard, kind, opts.Trigger, opts.Out)
	if err != nil {
		return nil, err
	}
	defer r.end(x)
	x.set(func(rec *Recovery) { rec.Detail, rec.OldPrimary = opts.Detail, opts.Expected })
	x.say("%s reparent of %s/%s (%s)", kind, keyspace, shard, orDash(opts.Trigger))
	buffering := false // StartReparent was called: EndReparent must be, once
	err = r.emergency(ctx, x, opts, &buffering)
	switch {
	case err == nil:
		err = x.finish(ctx, StatusSuccess, nil)
	case errors.Is(err, errStop) || errors.Is(err, ErrNoCandidate):
		err = x.finish(ctx, StatusAborted, err)
	default:
		err = x.finish(ctx, StatusFailed, err)
	}
	x.unlock(ctx)
	if buffering {
		r.buffer.EndReparent(keyspace, shard, servingAfter(x.snapshot()))
	}
	r.postHooks(ctx, x)
	return x.snapshot(), err
}

func (r *Reparenter) postHooks(ctx context.Context, x *runner) {
	if len(r.cfg.PostHooks) > 0 {
		_ = r.hooks(ctx, x, "post", r.cfg.PostHooks) // journaled; the recovery's outcome stands
		x.journal(ctx)
	}
}

// ersState is what the emergency steps pass on.
type ersState struct {
	view       *shardView
	oldPrimary *topodatapb.Tablet
	fenced     bool                 // the old primary answered and was made read-only
	oldPos     Position             // then its final position
	stopped    []*topodatapb.Tablet // replicas whose IO thread this recovery stopped
	candidates []Candidate
	choice     Choice
	term       time.Time
}

func (r *Reparenter) emergency(ctx context.Context, x *runner, opts EmergencyOptions, buffering *bool) error {
	ks, shard := x.rec.Keyspace, x.rec.Shard
	if err := x.lock(ctx, "EmergencyReparentShard(vtdirect)"); err != nil {
		return err
	}
	x.setPhase(ctx, PhaseBuffer)
	if r.buffer != nil {
		r.buffer.StartReparent(ks, shard, opts.Expected)
		*buffering = true
	}
	if err := r.hooks(ctx, x, "pre", r.cfg.PreHooks); err != nil {
		return fmt.Errorf("%w: a pre-recovery hook failed, nothing was changed: %w", errStop, err)
	}
	var st ersState
	if err := x.step(ctx, "read", func(ctx context.Context) (string, error) { return r.ersRead(ctx, x, &st, opts) }); err != nil {
		return err
	}
	if err := x.step(ctx, "fence-old-primary", func(ctx context.Context) (string, error) { return r.fence(ctx, &st) }); err != nil {
		return err
	}
	// From here until the promotion, a failure restarts the replication this recovery stopped.
	err := r.ersPrepare(ctx, x, &st, opts)
	if err != nil {
		if len(st.stopped) > 0 {
			errs := parallel(st.stopped, tabletName, func(t *topodatapb.Tablet) error {
				rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), r.cfg.ProbeTimeout*3)
				defer cancel()
				return r.agent.StartReplication(rctx, t)
			})
			x.say("restarted replication on %d replica(s) after the stop (%s)", len(st.stopped), errorSummary(errs))
		}
		return err
	}
	return r.ersPromote(ctx, x, &st)
}

// ersRead reads the shard under the lock and checks the recovery is still wanted.
func (r *Reparenter) ersRead(ctx context.Context, x *runner, st *ersState, opts EmergencyOptions) (string, error) {
	v, err := r.view(ctx, x.rec.Keyspace, x.rec.Shard)
	if err != nil {
		return "", err
	}
	st.view = v
	st.oldPrimary = v.primary()
	cur := shortAlias(v.record.GetPrimaryAlias())
	if opts.Expected != "" && cur != opts.Expected {
		return "", fmt.Errorf("%w: the shard's primary is now %s, not %s: someone reparented meanwhile", errStop, orDash(cur), opts.Expected)
	}
	if opts.Confirm {
		a := Analyze(v.input(x.rec.Keyspace, x.rec.Shard, r.cfg.NetTimeout))
		p, ok := a.Recovery()
		if !ok || a.Blocked != "" {
			return "", fmt.Errorf("%w: a fresh reading no longer calls for it (now %s%s)", errStop, a.Code, blockedSuffix(a.Blocked))
		}
		x.set(func(rec *Recovery) { rec.Detail = p.Detail })
	}
	return fmt.Sprintf("primary %s, %d tablets, policy %s", orDash(cur), len(v.tablets), v.rules.Policy.Name()), nil
}

func blockedSuffix(b string) string {
	if b == "" {
		return ""
	}
	return "; blocked: " + b
}

// fence makes sure the old primary takes no write: if it answers (an operator's emergency
// reparent of a live primary), it is made read-only first and its final position read: it
// then takes part in the choice as the tablet that may hold writes no replica received, as
// Vitess's emergency reparent demotes a reachable primary and counts its position.
func (r *Reparenter) fence(ctx context.Context, st *ersState) (string, error) {
	p := st.oldPrimary
	if p == nil {
		return "", errSkipped
	}
	if !st.view.readings[shortAlias(p.GetAlias())].Reachable() {
		return fmt.Sprintf("%s is unreachable (it boots read-only if it returns)", shortAlias(p.GetAlias())), nil
	}
	fctx, cancel := context.WithTimeout(ctx, r.cfg.ProbeTimeout*3)
	defer cancel()
	if err := r.agent.Demote(fctx, p); err != nil {
		return "", fmt.Errorf("%w: the old primary answers but cannot be made read-only (%v): use a planned reparent", errStop, err)
	}
	pos, err := r.agent.Executed(fctx, p)
	if err != nil {
		return "", fmt.Errorf("%w: the old primary was made read-only but its final position cannot be read (%v); it stays read-only", errStop, err)
	}
	st.fenced, st.oldPos = true, pos
	return fmt.Sprintf("%s answered: made read-only at %s", shortAlias(p.GetAlias()), pos), nil
}

// ackersMissed says why the tablets reached may lack a write the old primary acknowledged
// under the durability policy ("" when they cannot): a tablet that could have sent its ack
// was not reached, or its replication could not be stopped. A live old primary that was
// fenced holds every write it acknowledged itself.
func (r *Reparenter) ackersMissed(st *ersState, reached []*topodatapb.Tablet) string {
	if st.fenced {
		return ""
	}
	old := st.oldPrimary
	if old == nil {
		a := st.view.record.GetPrimaryAlias()
		if a == nil {
			return "" // the shard never had a primary: nothing was acknowledged
		}
		old = &topodatapb.Tablet{Alias: a} // a deleted tablet record: only its alias is known
	}
	var unreached []*topodatapb.Tablet
	for _, t := range st.view.others(tabletName(old)) {
		if !slices.ContainsFunc(reached, func(x *topodatapb.Tablet) bool { return sameAlias(x.GetAlias(), t.GetAlias()) }) {
			unreached = append(unreached, t)
		}
	}
	return unreachedAckersReason(st.view.rules.Policy, old, unreached)
}

// ersPrepare stops replication, waits for the relay logs and chooses; it changes nothing a
// restart of replication does not undo.
func (r *Reparenter) ersPrepare(ctx context.Context, x *runner, st *ersState, opts EmergencyOptions) error {
	skip := ""
	if st.oldPrimary != nil {
		skip = shortAlias(st.oldPrimary.GetAlias())
	}
	var reachable []*topodatapb.Tablet
	for _, t := range st.view.others(skip) {
		if st.view.readings[shortAlias(t.GetAlias())].Reachable() && t.GetType() != topodatapb.TabletType_DRAINED {
			reachable = append(reachable, t)
		}
	}
	if len(reachable) == 0 {
		return fmt.Errorf("%w: no reachable tablet to promote", ErrNoCandidate)
	}
	received := map[string]Position{}
	if err := x.step(ctx, "stop-replication", func(ctx context.Context) (string, error) {
		errs := parallel(reachable, tabletName, func(t *topodatapb.Tablet) error {
			sctx, cancel := context.WithTimeout(ctx, r.cfg.ProbeTimeout*3)
			defer cancel()
			// A tablet with no replication configured (promoted by a recovery that stopped
			// halfway) has nothing to stop: it is a candidate as it is.
			configured := st.view.readings[tabletName(t)].Replica != nil
			if configured {
				if err := r.agent.StopIOThread(sctx, t); err != nil {
					return err
				}
			}
			rd := r.agent.Read(sctx, t)
			if !rd.Reachable() {
				return errors.New(rd.Err)
			}
			x.mu.Lock()
			if configured {
				st.stopped = append(st.stopped, t)
			}
			if rd.Replica != nil {
				received[tabletName(t)] = rd.Replica.Received
			}
			x.mu.Unlock()
			return nil
		})
		reachable = dropFailed(reachable, errs)
		if len(reachable) == 0 {
			return "", fmt.Errorf("%w: replication could not be stopped on any tablet (%s)", errStop, errorSummary(errs))
		}
		if why := r.ackersMissed(st, reachable); why != "" {
			return fmt.Sprintf("IO threads stopped on %s%s", names(reachable), failedSuffix(errs)), fmt.Errorf("%w: %s", errStop, why)
		}
		return fmt.Sprintf("IO threads stopped on %s%s", names(reachable), failedSuffix(errs)), nil
	}); err != nil {
		return err
	}
	if err := x.step(ctx, "apply-relay-logs", func(ctx context.Context) (string, error) {
		wctx, cancel := context.WithTimeout(ctx, r.cfg.WaitReplicasTimeout)
		defer cancel()
		errs := parallel(reachable, tabletName, func(t *topodatapb.Tablet) error {
			return r.agent.WaitApplied(wctx, t, received[tabletName(t)])
		})
		ok := dropFailed(reachable, errs)
		st.candidates = nil
		best := Position{}
		for _, t := range ok {
			pos, err := r.agent.Executed(ctx, t)
			if err != nil {
				errs[tabletName(t)] = err
				continue
			}
			st.candidates = append(st.candidates, Candidate{Tablet: t, Position: pos, ServerID: st.view.readings[tabletName(t)].ServerID})
			best = maxPosition(best, pos)
		}
		if st.fenced {
			// The fenced old primary is a candidate to avoid: the winner catches up from it
			// when it holds more, and it is promoted again only if nothing else can be.
			p := st.oldPrimary
			st.candidates = append(st.candidates, Candidate{Tablet: demoted(p), Position: st.oldPos, ServerID: st.view.readings[tabletName(p)].ServerID})
			best = maxPosition(best, st.oldPos)
		}
		// A tablet that received transactions it could not apply may hold acknowledged ones:
		// going on without it would lose them.
		for name := range errs {
			if rcv := received[name]; !best.AtLeast(rcv) {
				return "", fmt.Errorf("%w: %s received %s but could not apply it in time (%v); no other tablet has it", errStop, name, rcv, errs[name])
			}
		}
		return positionsDetail(st.candidates) + failedSuffix(errs), nil
	}); err != nil {
		return err
	}
	if err := x.step(ctx, "choose", func(ctx context.Context) (string, error) {
		in := ChoiceInput{Candidates: st.candidates, OldPrimary: st.oldPrimary, Rules: st.view.rules, Writers: st.view.writers, Requested: opts.NewPrimary,
			Reachable: reachable}
		if p := st.oldPrimary; p != nil {
			if w, ok := writerOf(st.view.writers, shortAlias(p.GetAlias())); ok {
				in.OldPrimaryID = w.ServerID
			}
		}
		if p := st.oldPrimary; st.fenced {
			// Its position is final, as in a planned reparent: a replica ahead of it, or with
			// a domain it lacks, is errant.
			in.Live, in.OldPrimaryPos, in.Avoid = true, st.oldPos, p.GetAlias()
			in.OldPrimaryID = st.view.readings[tabletName(p)].ServerID
			in.Reachable = append(slices.Clone(reachable), demoted(p))
		}
		ch, err := Choose(in)
		st.choice = ch
		if err == nil && st.fenced && sameAlias(ch.Winner.Tablet.GetAlias(), st.oldPrimary.GetAlias()) {
			err = fmt.Errorf("%w: no replica of %s can be promoted; it stays read-only (make it writable with a planned reparent's undo or by hand)",
				ErrNoCandidate, tabletName(st.oldPrimary))
		}
		if err != nil {
			return rejections(ch.Rejected), err
		}
		x.set(func(rec *Recovery) { rec.NewPrimary = ch.Winner.Alias() })
		d := fmt.Sprintf("promote %s (%s, %s); most advanced %s", ch.Winner.Alias(), st.view.rules.Of(ch.Winner.Tablet), ch.Winner.Position, ch.MostAdvanced.Alias())
		if len(ch.Rejected) > 0 {
			d += "; not chosen: " + rejections(ch.Rejected)
		}
		return d, nil
	}); err != nil {
		return err
	}
	if st.choice.NeedsCatchUp() {
		if err := x.step(ctx, "catch-up", func(ctx context.Context) (string, error) {
			w, m := st.choice.Winner, st.choice.MostAdvanced
			if err := r.agent.Repoint(ctx, w.Tablet, m.Tablet, false); err != nil {
				return "", err
			}
			wctx, cancel := context.WithTimeout(ctx, r.cfg.WaitReplicasTimeout)
			defer cancel()
			if err := r.agent.WaitApplied(wctx, w.Tablet, m.Position); err != nil {
				return "", err
			}
			pos, err := r.agent.Executed(ctx, w.Tablet)
			if err != nil {
				return "", err
			}
			w.Position = pos
			return fmt.Sprintf("%s caught up with %s at %s", w.Alias(), m.Alias(), pos), nil
		}); err != nil {
			return err
		}
	}
	if err := x.safe(); err != nil {
		return err
	}
	// Nothing else may be writable when the winner becomes so (a tablet a stopped recovery
	// promoted, a replica someone made writable).
	return x.step(ctx, "fence-others", func(ctx context.Context) (string, error) {
		var writable []*topodatapb.Tablet
		for _, c := range st.candidates {
			if c.Alias() != st.choice.Winner.Alias() && !st.view.readings[c.Alias()].ReadOnly && !(st.fenced && c.Alias() == tabletName(st.oldPrimary)) {
				writable = append(writable, c.Tablet)
			}
		}
		if len(writable) == 0 {
			return "no other tablet is writable", nil
		}
		errs := parallel(writable, tabletName, func(t *topodatapb.Tablet) error {
			fctx, cancel := context.WithTimeout(ctx, r.cfg.ProbeTimeout*3)
			defer cancel()
			return r.agent.Demote(fctx, t)
		})
		if len(errs) > 0 {
			return "", fmt.Errorf("%w: writable tablets could not be made read-only: %s", errStop, errorSummary(errs))
		}
		return names(writable) + " made read-only", nil
	})
}

// ersPromote promotes the winner, repoints the others and records it all.
func (r *Reparenter) ersPromote(ctx context.Context, x *runner, st *ersState) error {
	w := st.choice.Winner
	semi := st.view.rules.Policy.Ackers() > 0
	if err := x.step(ctx, "promote", func(ctx context.Context) (string, error) {
		pctx, cancel := context.WithTimeout(ctx, r.cfg.ProbeTimeout*5)
		defer cancel()
		if err := r.agent.Promote(pctx, w.Tablet, semi); err != nil {
			return "", err
		}
		st.term = r.cfg.Now()
		return fmt.Sprintf("%s is writable at %s (semi-sync %v)", w.Alias(), w.Position, semi), nil
	}); err != nil {
		return fmt.Errorf("%w: promotion of %s failed; replication stays stopped until the next analysis", errStop, w.Alias())
	}
	// The old primary's term ended where the new one starts; the new one writes from now.
	var ended *Writer
	if p := st.oldPrimary; p != nil {
		wr, ok := writerOf(st.view.writers, tabletName(p))
		if !ok && st.fenced {
			wr, ok = Writer{ServerID: st.view.readings[tabletName(p)].ServerID, Alias: tabletName(p)}, true
		}
		if ok {
			wr.TermEnd = w.Position
			ended = &wr
		}
	}
	r.recordWriters(ctx, x, st.view, ended, Writer{ServerID: w.ServerID, Alias: w.Alias()})
	if err := x.step(ctx, "repoint", func(ctx context.Context) (string, error) {
		return r.repointAll(ctx, st.view, w)
	}); err != nil {
		x.say("repoint: %v (the analysis repoints the rest)", err)
	}
	return x.step(ctx, "topo", func(ctx context.Context) (string, error) {
		return r.recordPrimary(ctx, x.rec.Keyspace, x.rec.Shard, w.Tablet, st.oldPrimary, st.term)
	})
}

// repointAll makes every reachable tablet but the new primary replicate from it, at once. A
// tablet that holds transactions the new primary lacks (an old primary that kept writes no
// replica received) is not repointed, which would break its replication and leave it serving
// reads of a diverged history: it is taken out of service for a rebuild.
func (r *Reparenter) repointAll(ctx context.Context, v *shardView, primary *Candidate) (string, error) {
	var targets []*topodatapb.Tablet
	for _, t := range v.others(primary.Alias()) {
		if v.readings[tabletName(t)].Reachable() && t.GetType() != topodatapb.TabletType_DRAINED {
			targets = append(targets, t)
		}
	}
	rctx, cancel := context.WithTimeout(ctx, r.cfg.WaitReplicasTimeout)
	defer cancel()
	var mu sync.Mutex              // guards drained
	drained := map[string]string{} // alias -> why
	errs := parallel(targets, tabletName, func(t *topodatapb.Tablet) error {
		pos, err := r.agent.Executed(rctx, t)
		if err != nil {
			return err
		}
		if errant := FindErrant(pos, primary.Position, true, primary.ServerID, v.readings[tabletName(t)].ServerID, v.writers); len(errant) > 0 {
			why := fmt.Sprintf("holds transactions the new primary %s lacks: %s", primary.Alias(), errantList(errant))
			if _, err := r.quarantine(rctx, t, why); err != nil {
				return fmt.Errorf("%s; taking it out of service failed: %w", why, err)
			}
			mu.Lock()
			drained[tabletName(t)] = why
			mu.Unlock()
			return nil
		}
		return r.agent.Repoint(rctx, t, primary.Tablet, v.rules.Policy.SendsAcks(primary.Tablet, t))
	})
	ok := dropFailed(targets, errs)
	ok = slices.DeleteFunc(ok, func(t *topodatapb.Tablet) bool { _, out := drained[tabletName(t)]; return out })
	d := fmt.Sprintf("%s replicate from %s%s", names(ok), primary.Alias(), failedSuffix(errs))
	if len(drained) > 0 {
		d += "; DRAINED for a rebuild: " + rejections(drained)
	}
	if len(errs) > 0 {
		return d, fmt.Errorf("%d replica(s) could not be repointed: %s", len(errs), errorSummary(errs))
	}
	return d, nil
}

// recordPrimary writes the reparent into the topo as Vitess's reparents do: the new primary's
// tablet record (PRIMARY, term start), the shard record, the old primary's record (REPLICA).
func (r *Reparenter) recordPrimary(ctx context.Context, keyspace, shard string, primary, old *topodatapb.Tablet, term time.Time) (string, error) {
	if err := r.changeType(ctx, primary, topodatapb.TabletType_PRIMARY, term, nil); err != nil {
		return "", err
	}
	tctx, cancel := context.WithTimeout(ctx, topoTimeout)
	defer cancel()
	if err := r.ts.SetShardPrimary(tctx, keyspace, shard, primary.GetAlias(), term); err != nil {
		return "", err
	}
	d := fmt.Sprintf("shard %s/%s primary %s (term %s)", keyspace, shard, tabletName(primary), term.UTC().Format(time.RFC3339Nano))
	if old != nil && !sameAlias(old.GetAlias(), primary.GetAlias()) {
		if err := r.changeType(ctx, old, topodatapb.TabletType_REPLICA, time.Time{}, nil); err != nil {
			return d, fmt.Errorf("old primary %s: %w", tabletName(old), err)
		}
		d += fmt.Sprintf(", %s is REPLICA", tabletName(old))
	}
	return d, nil
}

func writerOf(ws []Writer, alias string) (Writer, bool) {
	for _, w := range ws {
		if w.Alias == alias {
			return w, true
		}
	}
	return Writer{}, false
}

func tabletName(t *topodatapb.Tablet) string { return shortAlias(t.GetAlias()) }

func dropFailed(ts []*topodatapb.Tablet, errs map[string]error) []*topodatapb.Tablet {
	var out []*topodatapb.Tablet
	for _, t := range ts {
		if _, bad := errs[tabletName(t)]; !bad {
			out = append(out, t)
		}
	}
	return out
}

func names(ts []*topodatapb.Tablet) string {
	n := make([]string, len(ts))
	for i, t := range ts {
		n[i] = tabletName(t)
	}
	return orNone(strings.Join(n, ", "))
}

func errorSummary(errs map[string]error) string {
	if len(errs) == 0 {
		return "no errors"
	}
	keys := make([]string, 0, len(errs))
	for k := range errs {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + ": " + errs[k].Error()
	}
	return strings.Join(parts, "; ")
}

func failedSuffix(errs map[string]error) string {
	if len(errs) == 0 {
		return ""
	}
	return " (failed: " + errorSummary(errs) + ")"
}

func positionsDetail(cs []Candidate) string {
	parts := make([]string, len(cs))
	for i, c := range cs {
		parts[i] = c.Alias() + " at " + orDash(c.Position.String())
	}
	return "applied: " + orNone(strings.Join(parts, ", "))
}

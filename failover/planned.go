package failover

// The planned reparent, after Vitess's PlannedReparentShard (go/vt/vtctl/reparentutil/
// planned_reparenter.go): the candidate catches up while writes go on, then the gateway holds
// the shard's writes, lets what runs finish, makes the old primary read-only, waits until the
// candidate has every transaction, promotes it and turns the old primary into its replica. If
// the candidate does not catch up in time, the old primary is made writable again.

import (
	"context"
	"errors"
	"fmt"
	"time"

	topodatapb "vitess.io/vitess/go/vt/proto/topodata"
)

// PlannedOptions are the options of a planned reparent.
type PlannedOptions struct {
	// NewPrimary is the tablet to promote; nil chooses the best replica.
	NewPrimary *topodatapb.TabletAlias
	// AvoidPrimary, when the current primary is this tablet, reparents away from it; when it
	// is another tablet, nothing is done (Vitess's --avoid-primary).
	AvoidPrimary *topodatapb.TabletAlias
	// Out receives progress lines.
	Out func(string)
}

// Planned runs a planned reparent.
func (r *Reparenter) Planned(ctx context.Context, keyspace, shard string, opts PlannedOptions) (*Recovery, error) {
	x, err := r.begin(keyspace, shard, KindPlanned, "operator", opts.Out)
	if err != nil {
		return nil, err
	}
	defer r.end(x)
	x.say("planned reparent of %s/%s", keyspace, shard)
	buffering := false
	err = r.planned(ctx, x, opts, &buffering)
	switch {
	case err == nil:
		err = x.finish(ctx, StatusSuccess, nil)
	case errors.Is(err, errStop) || errors.Is(err, ErrNoCandidate):
		err = x.finish(ctx, StatusAborted, err)
	default:
		err = x.finish(ctx, StatusFailed, err)
	}
	x.unlock(ctx)
	if buffering && r.buffer != nil {
		r.buffer.EndReparent(keyspace, shard, servingAfter(x.snapshot()))
	}
	r.postHooks(ctx, x)
	return x.snapshot(), err
}

// errNothingToDo ends a planned reparent that has nothing to change.
var errNothingToDo = errors.New("nothing to do")

func (r *Reparenter) planned(ctx context.Context, x *runner, opts PlannedOptions, buffering *bool) error {
	ks, shard := x.rec.Keyspace, x.rec.Shard
	if err := x.lock(ctx, "PlannedReparentShard(vtdirect)"); err != nil {
		return err
	}
	if err := r.hooks(ctx, x, "pre", r.cfg.PreHooks); err != nil {
		return fmt.Errorf("%w: a pre-recovery hook failed, nothing was changed: %w", errStop, err)
	}
	var v *shardView
	var old *topodatapb.Tablet
	var cand *Candidate
	err := x.step(ctx, "read", func(ctx context.Context) (string, error) {
		var err error
		if v, err = r.view(ctx, ks, shard); err != nil {
			return "", err
		}
		if old, cand, err = r.plannedChoice(v, opts); err != nil {
			return "", err
		}
		x.set(func(rec *Recovery) { rec.OldPrimary, rec.NewPrimary = tabletName(old), cand.Alias() })
		return fmt.Sprintf("primary %s at %s; promote %s (%s)", tabletName(old), v.readings[tabletName(old)].Executed, cand.Alias(), v.rules.Of(cand.Tablet)), nil
	})
	if errors.Is(err, errNothingToDo) {
		x.say("%v", err)
		return nil
	}
	if err != nil {
		return err
	}
	// The candidate catches up while the old primary still takes writes: the pause that
	// follows is then only what the last transactions need.
	if err := x.step(ctx, "catch-up", func(ctx context.Context) (string, error) {
		pos, err := r.agent.Executed(ctx, old)
		if err != nil {
			return "", err
		}
		wctx, cancel := context.WithTimeout(ctx, r.cfg.WaitReplicasTimeout)
		defer cancel()
		if err := r.agent.WaitApplied(wctx, cand.Tablet, pos); err != nil {
			return "", fmt.Errorf("%w: %s does not keep up with the primary (%v); nothing was changed", errStop, cand.Alias(), err)
		}
		return fmt.Sprintf("%s reached %s", cand.Alias(), pos), nil
	}); err != nil {
		return err
	}
	if err := x.safe(); err != nil {
		return err
	}
	// Hold the shard's writes here (and, through the journal, in the other gateways).
	x.setPhase(ctx, PhaseBuffer)
	if r.buffer != nil {
		r.buffer.StartReparent(ks, shard, tabletName(old))
	}
	*buffering = true
	if err := x.step(ctx, "drain", func(ctx context.Context) (string, error) {
		if r.buffer == nil {
			return "", errSkipped
		}
		dctx, cancel := context.WithTimeout(ctx, r.cfg.GracePeriod)
		defer cancel()
		if err := r.buffer.Drain(dctx, ks, shard); err != nil {
			return fmt.Sprintf("still busy after the grace period of %v: the transactions left are ended", r.cfg.GracePeriod), nil
		}
		return "no request or transaction left on the old primary", nil
	}); err != nil {
		return err
	}
	var final Position
	if err := x.step(ctx, "demote", func(ctx context.Context) (string, error) {
		// The type change makes every gateway close its sessions' transactions on the old
		// primary (their clients get a retryable error) before it turns read-only.
		if err := r.changeType(ctx, old, topodatapb.TabletType_REPLICA, time.Time{}, nil); err != nil {
			return "", fmt.Errorf("%w: cannot record the demotion in the topo (%v); nothing was changed", errStop, err)
		}
		dctx, cancel := context.WithTimeout(ctx, r.cfg.ProbeTimeout*5)
		defer cancel()
		if err := r.agent.Demote(dctx, old); err != nil {
			return "", err
		}
		pos, err := r.agent.Executed(dctx, old)
		if err != nil {
			return "", err
		}
		final = pos
		return fmt.Sprintf("%s is read-only at %s", tabletName(old), pos), nil
	}); err != nil {
		return r.undoDemote(ctx, x, v, old, err)
	}
	if err := x.step(ctx, "wait-for-candidate", func(ctx context.Context) (string, error) {
		wctx, cancel := context.WithTimeout(ctx, r.cfg.WaitReplicasTimeout)
		defer cancel()
		if err := r.agent.WaitApplied(wctx, cand.Tablet, final); err != nil {
			return "", err
		}
		cand.Position = final
		return fmt.Sprintf("%s has every transaction (%s)", cand.Alias(), final), nil
	}); err != nil {
		return r.undoDemote(ctx, x, v, old, err)
	}
	if err := x.safe(); err != nil {
		return r.undoDemote(ctx, x, v, old, err)
	}
	semi := v.rules.Policy.Ackers() > 0
	var term time.Time
	if err := x.step(ctx, "promote", func(ctx context.Context) (string, error) {
		pctx, cancel := context.WithTimeout(ctx, r.cfg.ProbeTimeout*5)
		defer cancel()
		if err := r.agent.Promote(pctx, cand.Tablet, semi); err != nil {
			return "", err
		}
		term = r.cfg.Now()
		return fmt.Sprintf("%s is writable (semi-sync %v)", cand.Alias(), semi), nil
	}); err != nil {
		return r.undoDemote(ctx, x, v, old, err)
	}
	ended, ok := writerOf(v.writers, tabletName(old))
	if !ok {
		ended = Writer{ServerID: v.readings[tabletName(old)].ServerID, Alias: tabletName(old)}
	}
	ended.TermEnd = final
	r.recordWriters(ctx, x, v, &ended, Writer{ServerID: cand.ServerID, Alias: cand.Alias()})
	if err := x.step(ctx, "topo", func(ctx context.Context) (string, error) {
		return r.recordPrimary(ctx, ks, shard, cand.Tablet, nil, term)
	}); err != nil {
		return err
	}
	if err := x.step(ctx, "repoint", func(ctx context.Context) (string, error) {
		return r.repointAll(ctx, v, cand)
	}); err != nil {
		x.say("repoint: %v (the analysis repoints the rest)", err)
	}
	return nil
}

// plannedChoice checks the shard can be reparented and picks the candidate.
func (r *Reparenter) plannedChoice(v *shardView, opts PlannedOptions) (*topodatapb.Tablet, *Candidate, error) {
	old := v.primary()
	if old == nil {
		return nil, nil, fmt.Errorf("%w: the shard has no primary to move from; use `vtdirect reparent emergency`", errStop)
	}
	rd := v.readings[tabletName(old)]
	switch {
	case !rd.Reachable():
		return nil, nil, fmt.Errorf("%w: the primary %s is unreachable (%s); use `vtdirect reparent emergency`", errStop, tabletName(old), rd.errText())
	case rd.ReadOnly:
		return nil, nil, fmt.Errorf("%w: the primary %s is read-only; let failover make it writable, or use `vtdirect reparent emergency`", errStop, tabletName(old))
	}
	if opts.AvoidPrimary != nil && !sameAlias(opts.AvoidPrimary, old.GetAlias()) {
		return nil, nil, fmt.Errorf("%w: the primary is %s, not %s", errNothingToDo, tabletName(old), shortAlias(opts.AvoidPrimary))
	}
	if opts.NewPrimary != nil && sameAlias(opts.NewPrimary, old.GetAlias()) {
		return nil, nil, fmt.Errorf("%w: %s is already the primary", errNothingToDo, tabletName(old))
	}
	in := ChoiceInput{OldPrimary: old, OldPrimaryID: rd.ServerID, OldPrimaryPos: rd.Executed, Live: true, Rules: v.rules,
		Writers: v.writers, Requested: opts.NewPrimary, Avoid: old.GetAlias()}
	rejected := map[string]string{}
	for _, t := range v.others(tabletName(old)) {
		tr := v.readings[tabletName(t)]
		switch {
		case !tr.Reachable():
			rejected[tabletName(t)] = "unreachable"
		case !tr.Replica.Replicating() || !tr.Replica.replicatesFrom(old, rd.ServerID):
			rejected[tabletName(t)] = "not replicating from the primary"
		default:
			in.Candidates = append(in.Candidates, Candidate{Tablet: t, Position: tr.Executed, ServerID: tr.ServerID})
		}
	}
	// The primary is still writing: its position was read before the replicas', which may
	// already hold its later transactions. Those (its own server id) are its stream, not errant.
	for _, c := range in.Candidates {
		in.OldPrimaryPos = maxPosition(in.OldPrimaryPos, c.Position.FromServer(rd.ServerID))
	}
	// The old primary is a candidate too, to be avoided: it counts as the new primary's
	// future acker for the durability policy, and is chosen only if nothing else can be.
	in.Candidates = append(in.Candidates, Candidate{Tablet: demoted(old), Position: in.OldPrimaryPos, ServerID: rd.ServerID})
	ch, err := Choose(in)
	for k, why := range rejected {
		ch.Rejected[k] = why
	}
	if err == nil && sameAlias(ch.Winner.Tablet.GetAlias(), old.GetAlias()) {
		delete(ch.Rejected, tabletName(old))
		err = fmt.Errorf("%w: no replica of %s can be promoted", ErrNoCandidate, tabletName(old))
	}
	if err != nil {
		return nil, nil, fmt.Errorf("%w (%s)", err, rejections(ch.Rejected))
	}
	delete(ch.Rejected, tabletName(old))
	return old, ch.Winner, nil
}

// demoted is the old primary's record as it will be: a REPLICA.
func demoted(t *topodatapb.Tablet) *topodatapb.Tablet {
	c := t.CloneVT()
	c.Type = topodatapb.TabletType_REPLICA
	return c
}

// undoDemote makes the old primary writable again after a failed planned reparent.
func (r *Reparenter) undoDemote(ctx context.Context, x *runner, v *shardView, old *topodatapb.Tablet, cause error) error {
	uctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), topoTimeout)
	defer cancel()
	err := x.step(uctx, "undo-demote", func(ctx context.Context) (string, error) {
		if err := r.agent.SetPrimarySemiSync(ctx, old, v.rules.Policy.Ackers() > 0); err != nil {
			return "", err
		}
		if err := r.agent.SetReadOnly(ctx, old, false); err != nil {
			return "", err
		}
		if err := r.changeType(ctx, old, topodatapb.TabletType_PRIMARY, protoTime(v.record.GetPrimaryTermStartTime()), nil); err != nil {
			return "", err
		}
		return fmt.Sprintf("%s is the primary again", tabletName(old)), nil
	})
	if err != nil {
		return fmt.Errorf("%w; and the undo failed: %v (the analysis makes %s writable again)", cause, err, tabletName(old))
	}
	return fmt.Errorf("%w: %w; %s stays the primary", errStop, cause, tabletName(old))
}

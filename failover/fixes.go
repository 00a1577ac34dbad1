package failover

// Fixes: the local repairs the analysis asks for (VTOrc's "fix" recoveries), run under the
// shard lock after a fresh analysis confirms them, each one a step of a recovery of kind fix.

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	topodatapb "vitess.io/vitess/go/vt/proto/topodata"
)

// Fix runs the fixes that a fresh analysis of the shard (under the lock) still asks for,
// limited to the given problems (code and tablet); it returns nil when there was nothing to do.
func (r *Reparenter) Fix(ctx context.Context, keyspace, shard string, want []Problem) (*Recovery, error) {
	if len(want) == 0 {
		return nil, nil
	}
	x, err := r.begin(keyspace, shard, KindFix, string(want[0].Code), nil)
	if err != nil {
		return nil, err
	}
	defer r.end(x)
	x.set(func(rec *Recovery) { rec.Detail = want[0].Detail })
	var ran int
	err = r.fix(ctx, x, want, &ran)
	if ran == 0 && err == nil {
		x.unlock(ctx)
		return nil, nil // confirmed nothing: no journal entry beyond the lock
	}
	switch {
	case err == nil:
		err = x.finish(ctx, StatusSuccess, nil)
	case errors.Is(err, errStop):
		err = x.finish(ctx, StatusAborted, err)
	default:
		err = x.finish(ctx, StatusFailed, err)
	}
	x.unlock(ctx)
	return x.snapshot(), err
}

func (r *Reparenter) fix(ctx context.Context, x *runner, want []Problem, ran *int) error {
	ks, shard := x.rec.Keyspace, x.rec.Shard
	lctx, cancel := context.WithTimeout(ctx, r.cfg.LeaseTTL)
	l, err := r.ts.LockShard(lctx, ks, shard, "vtdirect failover fix", r.cfg.LeaseTTL)
	cancel()
	if err != nil {
		return fmt.Errorf("lock shard %s/%s: %w", ks, shard, err)
	}
	x.lease = l
	v, err := r.view(ctx, ks, shard)
	if err != nil {
		return err
	}
	a := Analyze(v.input(ks, shard, r.cfg.NetTimeout))
	if a.Blocked != "" {
		return nil
	}
	if _, recover := a.Recovery(); recover {
		return nil // the controller runs the shard-wide recovery first
	}
	var todo []Problem
	for _, p := range a.Fixes() {
		if slices.ContainsFunc(want, func(w Problem) bool { return w.Code == p.Code && w.Tablet == p.Tablet }) {
			todo = append(todo, p)
		}
	}
	if len(todo) == 0 {
		return nil
	}
	x.journal(ctx)
	var errs []error
	for _, p := range todo {
		*ran++
		err := x.step(ctx, string(p.Code)+" "+orDash(p.Tablet), func(ctx context.Context) (string, error) {
			return r.applyFix(ctx, v, p)
		})
		if err != nil {
			errs = append(errs, err)
		}
		if err := x.safe(); err != nil {
			return err
		}
	}
	return errors.Join(errs...)
}

// applyFix makes one repair.
func (r *Reparenter) applyFix(ctx context.Context, v *shardView, p Problem) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, r.cfg.WaitReplicasTimeout)
	defer cancel()
	t := v.tablet(p.Tablet)
	if t == nil {
		return "", fmt.Errorf("tablet %s is gone", p.Tablet)
	}
	primary := v.primary()
	ackers := v.rules.Policy.Ackers()
	switch p.Code {
	case PrimaryIsReadOnly:
		// Semi-sync as the policy says before the first write: with too few ackers the
		// primary's writes wait for one rather than being acknowledged without one.
		if err := r.agent.SetPrimarySemiSync(ctx, t, ackers > 0); err != nil {
			return "", err
		}
		if ackers > 0 && !r.enoughAckers(v, t) {
			return "read_only off; semi-sync on with too few acking replicas: writes wait until one acks", r.agent.SetReadOnly(ctx, t, false)
		}
		return "read_only off", r.agent.SetReadOnly(ctx, t, false)
	case PrimaryHasPrimary:
		return "replication reset", r.agent.ResetReplication(ctx, t)
	case PrimaryTypeMismatch:
		return "type PRIMARY", r.changeType(ctx, t, topodatapb.TabletType_PRIMARY, protoTime(v.record.GetPrimaryTermStartTime()), nil)
	case ShardRecordBehind:
		term := termOf(t)
		if term.IsZero() {
			term = r.cfg.Now()
			if err := r.changeType(ctx, t, topodatapb.TabletType_PRIMARY, term, nil); err != nil {
				return "", err
			}
		}
		return "shard record names " + p.Tablet, r.setShardPrimary(ctx, v, t, term)
	case StaleTopoPrimary:
		if rd := v.readings[p.Tablet]; rd.Reachable() && !rd.ReadOnly {
			if err := r.agent.Demote(ctx, t); err != nil {
				return "", err
			}
		}
		return "type REPLICA", r.changeType(ctx, t, topodatapb.TabletType_REPLICA, time.Time{}, nil)
	case PrimarySemiSyncMustBeSet:
		return "semi-sync on", r.agent.SetPrimarySemiSync(ctx, t, true)
	case PrimarySemiSyncMustNotBeSet:
		return "semi-sync off", r.agent.SetPrimarySemiSync(ctx, t, false)
	case ReplicaIsWritable:
		return "read_only on", r.agent.SetReadOnly(ctx, t, true)
	case ReplicationStopped:
		return "replication started", r.agent.StartReplication(ctx, t)
	case NotConnectedToPrimary, ConnectedToWrongPrimary:
		if primary == nil {
			return "", errors.New("the shard has no primary")
		}
		rd, pr := v.readings[p.Tablet], v.readings[tabletName(primary)]
		if errant := FindErrant(rd.Executed, pr.Executed, true, pr.ServerID, rd.ServerID, v.writers); len(errant) > 0 {
			return r.quarantine(ctx, t, fmt.Sprintf("holds transactions the primary %s lacks: %s", tabletName(primary), errantList(errant)))
		}
		return "replicates from " + tabletName(primary), r.agent.Repoint(ctx, t, primary, v.rules.Policy.SendsAcks(primary, t))
	case ReplicaMisconfigured:
		return fmt.Sprintf("slave_net_timeout %v, heartbeat %v", r.cfg.NetTimeout, r.cfg.NetTimeout/2), r.agent.ConfigureHeartbeat(ctx, t)
	case ReplicaSemiSyncMustBeSet:
		return "semi-sync acks on", r.agent.SetReplicaSemiSync(ctx, t, true)
	case ReplicaSemiSyncMustNotBeSet:
		return "semi-sync acks off", r.agent.SetReplicaSemiSync(ctx, t, false)
	}
	return "", fmt.Errorf("no fix for %s", p.Code)
}

// quarantine takes a tablet out of service for a rebuild: read-only, not replicating,
// DRAINED in the topo with the reason in a tag.
func (r *Reparenter) quarantine(ctx context.Context, t *topodatapb.Tablet, why string) (string, error) {
	if err := r.agent.SetReadOnly(ctx, t, true); err != nil {
		return "", err
	}
	if err := r.agent.ResetReplication(ctx, t); err != nil {
		return "", err
	}
	if err := r.changeType(ctx, t, topodatapb.TabletType_DRAINED, time.Time{}, map[string]string{RebuildTag: why}); err != nil {
		return "", err
	}
	return "DRAINED for a rebuild: " + why, nil
}

// enoughAckers: the shard has replicas replicating with semi-sync on, enough for the policy.
func (r *Reparenter) enoughAckers(v *shardView, primary *topodatapb.Tablet) bool {
	n := 0
	for _, t := range v.others(tabletName(primary)) {
		rd := v.readings[tabletName(t)]
		if rd.Reachable() && rd.SemiSync.ReplicaEnabled && rd.Replica.Replicating() && v.rules.Policy.SendsAcks(primary, t) {
			n++
		}
	}
	return n >= v.rules.Policy.Ackers()
}

// setShardPrimary points the shard record at t and makes the previous primary REPLICA.
func (r *Reparenter) setShardPrimary(ctx context.Context, v *shardView, t *topodatapb.Tablet, term time.Time) error {
	tctx, cancel := context.WithTimeout(ctx, topoTimeout)
	defer cancel()
	prev := v.primary()
	if err := r.ts.SetShardPrimary(tctx, v.keyspace, v.shard, t.GetAlias(), term); err != nil {
		return err
	}
	if prev != nil && !sameAlias(prev.GetAlias(), t.GetAlias()) && prev.GetType() == topodatapb.TabletType_PRIMARY {
		return r.changeType(ctx, prev, topodatapb.TabletType_REPLICA, time.Time{}, nil)
	}
	return nil
}

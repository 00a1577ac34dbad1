package failover

// A recovery is a script of named steps (gh-ost's Migrate() style): each step is journaled
// before and after it runs, so that the journal always says where a recovery is and, if it
// stopped, where and why.

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/vtdirect/vtdirect/topo"
)

// Buffer is what failover needs of the router's buffer (package buffer implements it): hold
// a shard's primary traffic while a reparent runs, and say when the gateway's own work on the
// old primary is done.
type Buffer interface {
	// StartReparent makes new primary requests of the shard wait.
	StartReparent(keyspace, shard, oldPrimary string)
	// EndReparent lets them go once the gateway sees primary (short alias; "": any) serve.
	EndReparent(keyspace, shard, primary string)
	// Drain waits until no request admitted before StartReparent still runs on the shard's
	// primary and no transaction is open there, or ctx ends (then it returns ctx's error).
	Drain(ctx context.Context, keyspace, shard string) error
}

// errStop marks an error that stopped a recovery at a safe point on purpose.
var errStop = errors.New("recovery stopped")

// runner runs one recovery's steps.
type runner struct {
	r     *Reparenter
	rec   *Recovery
	lease topo.Lease // the shard lock; nil before it is taken
	out   func(string)
	log   *slog.Logger

	mu         sync.Mutex // guards rec (the controller's status reads it) and journalErr
	journalErr error
}

// snapshot returns a copy of the recovery for readers.
func (x *runner) snapshot() *Recovery {
	x.mu.Lock()
	defer x.mu.Unlock()
	c := *x.rec
	c.Steps = append([]Step(nil), x.rec.Steps...)
	return &c
}

// say prints a progress line (the CLI and the HTTP API stream them) and logs it.
func (x *runner) say(format string, args ...any) {
	line := fmt.Sprintf(format, args...)
	x.log.Info(line, "recovery", x.rec.ID, "shard", shardKey(x.rec.Keyspace, x.rec.Shard))
	if x.out != nil {
		x.out(line)
	}
}

// journal writes the recovery to the topo with a bounded wait. A failure is remembered: the
// recovery stops at its next safe point.
func (x *runner) journal(ctx context.Context) {
	rec := x.snapshot()
	jctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), journalTimeout)
	defer cancel()
	err := x.r.journal.Put(jctx, rec)
	x.mu.Lock()
	defer x.mu.Unlock()
	if err != nil && x.journalErr == nil {
		x.journalErr = err
		x.log.Warn("cannot write the failover journal", "recovery", rec.ID, "err", err)
	}
}

// journalTimeout bounds one journal write.
const journalTimeout = 3 * time.Second

// step runs f as the named step and journals it. f returns a detail for the journal.
func (x *runner) step(ctx context.Context, name string, f func(ctx context.Context) (string, error)) error {
	x.mu.Lock()
	x.rec.Steps = append(x.rec.Steps, Step{Name: name, Started: x.r.cfg.Now(), Status: "running"})
	i := len(x.rec.Steps) - 1
	x.mu.Unlock()
	x.journal(ctx)
	var detail string
	var err error
	if hook := x.r.cfg.StepHook; hook != nil {
		err = hook(x.rec.ID, name)
	}
	if err == nil {
		sctx, stop := x.underLock(ctx)
		detail, err = f(sctx)
		if context.Cause(sctx) == errLockLost {
			// A failure, not a stop at a safe point: the step was cut off halfway.
			err = fmt.Errorf("the shard lock (%s) was lost during the step, another process may act on the shard: %w", x.lease.Key(), err)
		}
		stop()
	}
	x.mu.Lock()
	s := &x.rec.Steps[i]
	s.Ended, s.Detail = x.r.cfg.Now(), detail
	switch {
	case err == nil:
		s.Status = "ok"
	case errors.Is(err, errSkipped):
		s.Status, err = "skipped", nil
	default:
		s.Status = "failed"
		if s.Detail == "" {
			s.Detail = err.Error()
		} else {
			s.Detail += ": " + err.Error()
		}
	}
	x.mu.Unlock()
	x.journal(ctx)
	if err != nil {
		x.say("step %s failed: %s", name, s.Detail)
		return fmt.Errorf("step %s: %w", name, err)
	}
	x.say("step %s: %s", name, orDash(detail))
	return nil
}

// errLockLost is the cause of a step's context that ended because the shard lock was lost.
var errLockLost = errors.New("shard lock lost")

// underLock returns ctx, also ended (cause errLockLost) when the shard lock is lost, so that
// a step waiting on MariaDB or the topo stops at once; stop releases it.
func (x *runner) underLock(ctx context.Context) (context.Context, func()) {
	if x.lease == nil {
		return ctx, func() {}
	}
	sctx, cancel := context.WithCancelCause(ctx)
	done := make(chan struct{})
	go func() { // owned by the step: stop ends it and waits
		defer close(done)
		select {
		case <-x.lease.Lost():
			cancel(errLockLost)
		case <-sctx.Done():
		}
	}()
	return sctx, func() { cancel(nil); <-done }
}

// errSkipped, returned by a step, journals it as skipped.
var errSkipped = errors.New("skipped")

func orDash(s string) string {
	if s == "" {
		return "ok"
	}
	return s
}

// safe checks, before a step that changes the shard, that the recovery may go on: it still
// holds the shard lock and its journal is written.
func (x *runner) safe() error {
	if x.lease != nil {
		select {
		case <-x.lease.Lost():
			return fmt.Errorf("%w: the shard lock (%s) was lost: another process may act on the shard", errStop, x.lease.Key())
		default:
		}
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.journalErr != nil {
		return fmt.Errorf("%w: the journal cannot be written to the topo (%v)", errStop, x.journalErr)
	}
	return nil
}

// finish ends the recovery with a status and journals it; it returns err for the caller.
func (x *runner) finish(ctx context.Context, status string, err error) error {
	x.mu.Lock()
	x.rec.Status, x.rec.Ended, x.rec.Phase = status, x.r.cfg.Now(), ""
	if err != nil {
		x.rec.Error = err.Error()
	}
	x.mu.Unlock()
	x.journal(ctx)
	if o := x.r.cfg.Observer; o != nil {
		o.RecoveryDone(x.rec.Keyspace, x.rec.Shard, x.rec.Kind, status, x.rec.Duration(x.r.cfg.Now()))
	}
	switch status {
	case StatusSuccess:
		x.say("%s reparent of %s/%s done in %v: primary %s", x.rec.Kind, x.rec.Keyspace, x.rec.Shard,
			x.rec.Duration(x.r.cfg.Now()).Round(time.Millisecond), orDash(x.rec.NewPrimary))
	default:
		x.say("%s of %s/%s %s: %v", x.rec.Kind, x.rec.Keyspace, x.rec.Shard, status, err)
	}
	return err
}

// setPhase changes the phase other gateways follow and journals it.
func (x *runner) setPhase(ctx context.Context, phase string) {
	x.mu.Lock()
	x.rec.Phase = phase
	x.mu.Unlock()
	x.journal(ctx)
}

func (x *runner) set(f func(r *Recovery)) {
	x.mu.Lock()
	f(x.rec)
	x.mu.Unlock()
}

// lock takes the shard lock, waiting at most two lease TTLs (a dead holder's lock expires
// after one).
func (x *runner) lock(ctx context.Context, action string) error {
	return x.step(ctx, "lock", func(ctx context.Context) (string, error) {
		lctx, cancel := context.WithTimeout(ctx, 2*x.r.cfg.LeaseTTL+5*time.Second)
		defer cancel()
		l, err := x.r.ts.LockShard(lctx, x.rec.Keyspace, x.rec.Shard, action, x.r.cfg.LeaseTTL)
		if err != nil {
			return "", fmt.Errorf("lock shard %s/%s: %w", x.rec.Keyspace, x.rec.Shard, err)
		}
		x.lease = l
		return "holding " + l.Key() + x.r.takeOver(ctx, x), nil
	})
}

// unlock releases the shard lock.
func (x *runner) unlock(ctx context.Context) {
	if x.lease == nil {
		return
	}
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := x.lease.Release(rctx); err != nil {
		x.log.Warn("release the shard lock", "err", err)
	}
	x.lease = nil // the steps after it (post hooks) change nothing of the shard
}

// parallel runs f for every item at once and collects the errors by name.
func parallel[T any](items []T, name func(T) string, f func(T) error) map[string]error {
	var mu sync.Mutex
	errs := map[string]error{}
	var wg sync.WaitGroup
	for _, it := range items {
		wg.Go(func() {
			if err := f(it); err != nil {
				mu.Lock()
				errs[name(it)] = err
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return errs
}

// servingAfter is the primary that serves once a reparent ended: the new one if it was
// recorded, else the old one.
func servingAfter(r *Recovery) string {
	if r.Status == StatusSuccess && r.NewPrimary != "" {
		return r.NewPrimary
	}
	return r.OldPrimary
}

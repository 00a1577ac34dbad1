package picker

import (
	"context"
	"errors"
	"time"
)

// WaiterConfig tunes a Waiter. The zero value is usable.
type WaiterConfig struct {
	// MinBackoff is the first pause after a miss (default 10ms); it
	// doubles after each further miss up to MaxBackoff (default 1s).
	MinBackoff, MaxBackoff time.Duration
	// After is the clock (default time.After). Tests inject their own.
	After func(time.Duration) <-chan time.Time
	// Metrics counts misses; nil counts nothing.
	Metrics *Metrics
}

func (c *WaiterConfig) validate() error {
	if c.MinBackoff < 0 || c.MaxBackoff < 0 {
		return invalidArg("backoff", (c.MinBackoff).String()+".."+c.MaxBackoff.String(), "must not be negative")
	}
	if c.MinBackoff == 0 {
		c.MinBackoff = 10 * time.Millisecond
	}
	if c.MaxBackoff == 0 {
		c.MaxBackoff = time.Second
	}
	if c.MaxBackoff < c.MinBackoff {
		return invalidArg("backoff", c.MinBackoff.String()+".."+c.MaxBackoff.String(), "the maximum must be at least the minimum")
	}
	if c.After == nil {
		// Since Go 1.23 an unfired timer from time.After is collected once
		// unreferenced, so returning early on a change leaks nothing.
		c.After = time.After
	}
	return nil
}

// Waiter picks like Pick but, when nothing matches, waits for a new
// snapshot or its backoff and tries again until ctx ends. It holds no
// goroutine; it is safe for concurrent use.
type Waiter struct {
	src Source
	cfg WaiterConfig
}

// NewWaiter returns a waiter reading snapshots from src.
func NewWaiter(src Source, cfg WaiterConfig) (*Waiter, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	return &Waiter{src: src, cfg: cfg}, nil
}

// Pick returns a tablet as soon as one matches. A miss is counted once per
// call, on the first attempt. When ctx ends first it returns the
// *NoTabletError of the last attempt, with ctx.Err() as its Cause.
func (w *Waiter) Pick(ctx context.Context, keyspace, shard string, c *Criteria, rnd Rand) (*TabletInfo, error) {
	backoff := w.cfg.MinBackoff
	for attempt := 0; ; attempt++ {
		snap, changed := w.src.Current()
		t, err := Pick(snap, keyspace, shard, c, rnd)
		if err == nil {
			return t, nil
		}
		var nt *NoTabletError // declared here so that the hit path does not allocate it
		if !errors.As(err, &nt) {
			return nil, err // options no wait can fix
		}
		if attempt == 0 {
			w.cfg.Metrics.Miss(keyspace, shard, c)
		}
		select {
		case <-ctx.Done():
			nt.Cause = ctx.Err()
			return nil, nt
		case <-changed:
		case <-w.cfg.After(backoff):
			backoff = min(2*backoff, w.cfg.MaxBackoff)
		}
	}
}

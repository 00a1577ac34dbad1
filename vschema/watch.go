package vschema

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	vschemapb "vitess.io/vitess/go/vt/proto/vschema"

	"github.com/vtdirect/vtdirect/topo"
)

// Source is what the Watcher needs of the topo.
type Source interface {
	WatchVSchemas(ctx context.Context) (map[string]*vschemapb.Keyspace, <-chan topo.VSchemaChange, error)
}

var _ Source = (*topo.Server)(nil)

// Watcher keeps the VSchema of every keyspace in the topo current: it watches the topo's
// vschemas and builds a new VSchema on every change. When the topo is unreachable it keeps
// the last one and retries.
type Watcher struct {
	src Source
	log *slog.Logger

	cur atomic.Pointer[VSchema]

	mu      sync.Mutex    // guards changed and gen
	changed chan struct{} // closed when a newer VSchema is published
	gen     uint64

	cancel context.CancelFunc
	wg     sync.WaitGroup // the watch loop
}

// NewWatcher makes a watcher; Start starts it. Until then VSchema is empty.
func NewWatcher(src Source, log *slog.Logger) *Watcher {
	w := &Watcher{src: src, log: log, changed: make(chan struct{})}
	w.cur.Store(Build(nil))
	return w
}

// VSchema returns the latest VSchema; it never blocks.
func (w *Watcher) VSchema() *VSchema { return w.cur.Load() }

// Changed returns a channel closed when a VSchema newer than the current one is published.
func (w *Watcher) Changed() <-chan struct{} {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.changed
}

// Start reads the vschemas once (so that the first VSchema is complete when the topo is up),
// then watches them in a goroutine that Close stops.
func (w *Watcher) Start(ctx context.Context) {
	ctx, w.cancel = context.WithCancel(ctx)
	initial, ch, err := w.src.WatchVSchemas(ctx)
	if err != nil {
		w.log.Warn("cannot read the vschemas from the topo; retrying", "err", err)
	} else {
		w.publish(initial)
	}
	w.wg.Add(1)
	go func() {
		defer w.wg.Done()
		w.loop(ctx, initial, ch)
	}()
}

// Close stops watching.
func (w *Watcher) Close() {
	if w.cancel != nil {
		w.cancel()
	}
	w.wg.Wait()
}

// loop applies changes, and after a failed watch reads everything again, with a growing
// pause (1s to 10s) while the topo fails.
func (w *Watcher) loop(ctx context.Context, cur map[string]*vschemapb.Keyspace, ch <-chan topo.VSchemaChange) {
	pause := time.Second
	for {
		if ch != nil {
			for c := range ch {
				if c.Err != nil {
					w.log.Warn("vschema watch failed; reading the vschemas again", "err", c.Err)
					break
				}
				pause = time.Second
				next := make(map[string]*vschemapb.Keyspace, len(cur)+1)
				for k, v := range cur {
					next[k] = v
				}
				if c.VSchema == nil {
					delete(next, c.Keyspace)
				} else {
					next[c.Keyspace] = c.VSchema
				}
				cur = next
				w.publish(cur)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(pause):
		}
		pause = min(2*pause, 10*time.Second)
		initial, next, err := w.src.WatchVSchemas(ctx)
		if err != nil {
			if ctx.Err() == nil {
				w.log.Warn("cannot watch the vschemas; retrying", "err", err, "in", pause)
			}
			ch = nil
			continue
		}
		cur, ch = initial, next
		w.publish(cur)
	}
}

func (w *Watcher) publish(src map[string]*vschemapb.Keyspace) {
	vs := Build(src)
	for _, name := range vs.Keyspaces() {
		if err := vs.Keyspace(name).Err; err != nil {
			w.log.Error("the keyspace's vschema is not usable; its statements are refused until it is fixed", "keyspace", name, "err", err)
		}
	}
	w.mu.Lock()
	w.gen++
	vs.Generation = w.gen
	w.cur.Store(vs)
	close(w.changed)
	w.changed = make(chan struct{})
	w.mu.Unlock()
}

package consultopo

// WatchRecursive on Consul: blocking queries on the prefix (GET /v1/kv/<prefix>?recurse&index=N
// returns when something below the prefix changed after index N), each answer diffed against
// the files seen so far. See https://developer.hashicorp.com/consul/api-docs/features/blocking
//
// Consul keeps no history, so changes that land between two answers are coalesced: a file
// written twice in a row may be seen once, with its last contents. Every file's last state is
// always delivered, and the versions of one file only go up. Vitess's own consul backend has
// no recursive watch at all.

import (
	"cmp"
	"context"
	"slices"
	"time"

	"github.com/hashicorp/consul/api"

	"github.com/vtdirect/vtdirect/topo"
)

// watchBuffer is the capacity of a watch channel: one answer's worth of changes can be queued
// while the reader catches up; one goroutine sends, so order is kept.
const watchBuffer = 16

// WatchRecursive is part of topo.Conn. When the agent is unreachable (restarting, network) the
// watch keeps asking, with a backoff, and resumes where it was: a restart loses nothing. An
// answer that will not change by asking again (ACL denied) ends it with an error.
func (c *Conn) WatchRecursive(ctx context.Context, dir string) ([]*topo.WatchData, <-chan *topo.WatchData, error) {
	prefix, err := c.dirPrefix(dir)
	if err != nil {
		return nil, nil, err
	}
	lctx, cancel := c.bound(ctx)
	pairs, meta, err := c.kv.List(prefix, c.query(lctx))
	cancel()
	if err != nil {
		return nil, nil, c.convertError(prefix, err)
	}
	w := &watch{c: c, prefix: prefix, seen: make(map[string]uint64, len(pairs)), index: meta.LastIndex}
	initial := make([]*topo.WatchData, 0, len(pairs))
	for _, p := range pairs {
		w.seen[p.Key] = p.ModifyIndex
		initial = append(initial, &topo.WatchData{Path: c.relative(p.Key), Contents: p.Value, Version: ModifyIndex(p.ModifyIndex)})
	}
	out := make(chan *topo.WatchData, watchBuffer)
	c.workers.Add(1)
	go func() {
		defer c.workers.Done()
		defer close(out)
		w.run(ctx, out)
	}()
	return initial, out, nil
}

// relative strips the Conn's root from a Consul key.
func (c *Conn) relative(key string) string {
	if len(key) >= len(c.prefix) && key[:len(c.prefix)] == c.prefix {
		return key[len(c.prefix):]
	}
	return key
}

// watch is the state of one WatchRecursive, owned by its goroutine.
type watch struct {
	c      *Conn
	prefix string
	seen   map[string]uint64 // key → ModifyIndex of every file below prefix, as last delivered
	index  uint64            // the X-Consul-Index of the last answer: the next query waits past it
}

// run asks and diffs until ctx ends, the Conn closes or Consul refuses the query.
func (w *watch) run(ctx context.Context, out chan<- *topo.WatchData) {
	c := w.c
	backoff := c.cfg.RetryInterval
	for {
		qctx, cancel := c.bound(ctx)
		q := &api.QueryOptions{WaitIndex: w.index, WaitTime: c.cfg.WatchWait}
		pairs, meta, err := c.kv.List(w.prefix, q.WithContext(qctx))
		cancel()
		switch {
		case ctx.Err() != nil:
			return
		case c.closed():
			w.fatal(ctx, out, topo.ErrClosed)
			return
		case err != nil && fatalStatus(err):
			w.fatal(ctx, out, c.convertError(w.prefix, err))
			return
		case err != nil:
			// Unreachable or restarting: ask again later, from the same index.
			if !sleep(ctx, c.life, backoff) {
				continue // the checks above end the loop
			}
			backoff = min(2*backoff, 10*c.cfg.RetryInterval)
			continue
		}
		backoff = c.cfg.RetryInterval
		for _, wd := range w.diff(pairs, meta.LastIndex) {
			select {
			case out <- wd:
			case <-ctx.Done():
				return
			case <-c.life.Done():
				return
			}
		}
		w.index = nextIndex(w.index, meta.LastIndex)
	}
}

// diff returns the changes from what was seen to pairs, and remembers pairs: new and modified
// files in the order Consul applied them (ModifyIndex), then removed files.
func (w *watch) diff(pairs api.KVPairs, index uint64) []*topo.WatchData {
	var changes []*topo.WatchData
	var changed []*api.KVPair
	present := make(map[string]struct{}, len(pairs))
	for _, p := range pairs {
		present[p.Key] = struct{}{}
		if mi, ok := w.seen[p.Key]; !ok || mi != p.ModifyIndex {
			changed = append(changed, p)
		}
	}
	slices.SortFunc(changed, func(a, b *api.KVPair) int {
		return cmp.Compare(a.ModifyIndex, b.ModifyIndex)
	})
	for _, p := range changed {
		w.seen[p.Key] = p.ModifyIndex
		changes = append(changes, &topo.WatchData{Path: w.c.relative(p.Key), Contents: p.Value, Version: ModifyIndex(p.ModifyIndex)})
	}
	var gone []string
	for k := range w.seen {
		if _, ok := present[k]; !ok {
			gone = append(gone, k)
		}
	}
	slices.Sort(gone)
	for _, k := range gone {
		delete(w.seen, k)
		changes = append(changes, &topo.WatchData{Path: w.c.relative(k), Deleted: true, Version: ModifyIndex(index)})
	}
	return changes
}

// fatal delivers the last item if the reader can take it; the channel closes anyway.
func (w *watch) fatal(ctx context.Context, out chan<- *topo.WatchData, err error) {
	if _, ok := err.(*topo.KeyError); !ok {
		err = &topo.KeyError{Key: w.prefix, Err: err}
	}
	wd := &topo.WatchData{Err: err}
	if ctx.Err() == nil && !w.c.closed() {
		select {
		case out <- wd:
		case <-ctx.Done():
		}
		return
	}
	select {
	case out <- wd:
	default:
	}
}

// sleep waits for d; false if ctx or life ended first.
func sleep(ctx, life context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	case <-life.Done():
		return false
	}
}

// nextIndex is the index of the next blocking query after an answer at index got, following
// Consul's rules: if the index went backwards (the cluster's state was reset) start again
// from 0; never wait on 0 after a first answer.
func nextIndex(prev, got uint64) uint64 {
	switch {
	case got < prev:
		return 0
	case got == 0:
		return 1
	default:
		return got
	}
}

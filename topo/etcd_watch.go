package topo

import (
	"context"
	"fmt"
	"strings"

	"go.etcd.io/etcd/api/v3/mvccpb"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// watchBuffer is the capacity of a watch channel: it absorbs one etcd response's burst of
// events so the reader and the etcd stream are not in lock step; order is kept because one
// goroutine sends.
const watchBuffer = 16

// WatchRecursive is part of Conn. It reads everything below dir at one revision R, then
// watches from R+1, so every later change is delivered exactly once and in order. The etcd
// client reconnects on its own when the server restarts; if the server compacted past the
// point the watch needs, a fatal error (re-read and watch again) ends the channel.
func (c *EtcdConn) WatchRecursive(ctx context.Context, dir string) ([]*WatchData, <-chan *WatchData, error) {
	if _, err := c.key(dir); err != nil {
		return nil, nil, err
	}
	prefix, err := DirPrefix(c.root, dir)
	if err != nil {
		return nil, nil, err
	}
	resp, err := c.cli.Get(ctx, prefix, clientv3.WithPrefix(),
		clientv3.WithSort(clientv3.SortByKey, clientv3.SortAscend))
	if err != nil {
		return nil, nil, c.convertError(prefix, err)
	}
	initial := make([]*WatchData, 0, len(resp.Kvs))
	for _, kv := range resp.Kvs {
		initial = append(initial, &WatchData{
			Path:     c.relative(string(kv.Key)),
			Contents: kv.Value,
			Version:  Revision(kv.ModRevision),
		})
	}

	// watchCtx ends the etcd watch when the goroutine returns for any reason.
	watchCtx, cancel := context.WithCancel(clientv3.WithRequireLeader(ctx))
	wch := c.cli.Watch(watchCtx, prefix, clientv3.WithPrefix(), clientv3.WithRev(resp.Header.Revision+1))
	out := make(chan *WatchData, watchBuffer)
	c.watchers.Add(1)
	go func() {
		defer c.watchers.Done()
		defer close(out)
		defer cancel()
		c.forwardWatch(ctx, prefix, wch, out)
	}()
	return initial, out, nil
}

// forwardWatch turns etcd watch responses into WatchData until ctx ends, the Conn closes or the
// watch fails. It is the body of the goroutine started by WatchRecursive, which owns out.
func (c *EtcdConn) forwardWatch(ctx context.Context, prefix string, wch clientv3.WatchChan, out chan<- *WatchData) {
	send := func(wd *WatchData) bool {
		select {
		case out <- wd:
			return true
		case <-ctx.Done():
			return false
		case <-c.closing:
			return false
		}
	}
	// fatal delivers the last item if the reader can still take it; the channel closes anyway.
	fatal := func(err error) {
		if ctx.Err() == nil && !c.closed() {
			send(&WatchData{Err: keyError(prefix, err)})
			return
		}
		select {
		case out <- &WatchData{Err: keyError(prefix, err)}:
		default:
		}
	}
	for {
		var wresp clientv3.WatchResponse
		var ok bool
		select {
		case <-ctx.Done():
			return
		case <-c.closing:
			fatal(ErrClosed)
			return
		case wresp, ok = <-wch:
		}
		if !ok {
			switch {
			case ctx.Err() != nil:
			case c.closed():
				fatal(ErrClosed)
			default:
				fatal(errWatchEnded)
			}
			return
		}
		if err := wresp.Err(); err != nil {
			// Canceled (compaction, lost leader...): the watch cannot continue.
			fatal(fmt.Errorf("etcd %s: watch stopped, re-read and watch again: %w", c.endpoints, err))
			return
		}
		for _, ev := range wresp.Events {
			wd := &WatchData{
				Path:    c.relative(string(ev.Kv.Key)),
				Version: Revision(ev.Kv.ModRevision),
			}
			switch ev.Type {
			case mvccpb.PUT:
				wd.Contents = ev.Kv.Value
			case mvccpb.DELETE:
				wd.Deleted = true
			}
			if !send(wd) {
				return
			}
		}
	}
}

// relative strips the Conn's root from an etcd key.
func (c *EtcdConn) relative(key string) string {
	return strings.TrimPrefix(key, c.prefix)
}

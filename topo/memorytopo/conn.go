package memorytopo

import (
	"context"
	"slices"
	"strings"
	"sync"

	"github.com/vtdirect/vtdirect/topo"
)

// Conn is a topo.Conn on one root of a Store.
type Conn struct {
	store  *Store
	root   string // cleaned root, e.g. "/vitess/global"
	prefix string // root + "/"

	closeOnce sync.Once
	closing   chan struct{}  // closed by Close: ends this Conn's watches
	watchers  sync.WaitGroup // one per watch goroutine; Close waits for them
}

var _ topo.Conn = (*Conn)(nil)

// watchBuffer: like the etcd backend, a little slack between the watch goroutine and its reader.
const watchBuffer = 16

// begin locks the store and checks that the context, the Conn and the store can serve key.
func (c *Conn) begin(ctx context.Context, p string) (string, error) {
	k, err := topo.JoinKey(c.root, p)
	if err != nil {
		return "", err
	}
	if err := ctx.Err(); err != nil {
		return "", &topo.KeyError{Key: k, Err: err}
	}
	c.store.mu.Lock()
	select {
	case <-c.closing:
		c.store.mu.Unlock()
		return "", &topo.KeyError{Key: k, Err: topo.ErrClosed}
	default:
	}
	if err := c.store.failErr; err != nil {
		c.store.mu.Unlock()
		return "", &topo.KeyError{Key: k, Err: err}
	}
	return k, nil
}

func (c *Conn) end() { c.store.mu.Unlock() }

// Create is part of topo.Conn.
func (c *Conn) Create(ctx context.Context, p string, data []byte) (topo.Version, error) {
	k, err := c.begin(ctx, p)
	if err != nil {
		return nil, err
	}
	defer c.end()
	if _, ok := c.store.files[k]; ok {
		return nil, &topo.KeyError{Key: k, Err: topo.ErrNodeExists}
	}
	return topo.Revision(c.store.commit(k, data, false)), nil
}

// Update is part of topo.Conn.
func (c *Conn) Update(ctx context.Context, p string, data []byte, v topo.Version) (topo.Version, error) {
	k, err := c.begin(ctx, p)
	if err != nil {
		return nil, err
	}
	defer c.end()
	if v != nil {
		if err := c.check(k, v); err != nil {
			return nil, err
		}
	}
	return topo.Revision(c.store.commit(k, data, false)), nil
}

// check compares the file's revision with v. Called with the store lock held.
func (c *Conn) check(k string, v topo.Version) error {
	rev, err := topo.RevisionOf(k, v)
	if err != nil {
		return err
	}
	f, ok := c.store.files[k]
	if !ok {
		return &topo.KeyError{Key: k, Err: topo.ErrNoNode}
	}
	if f.mod != int64(rev) {
		return &topo.KeyError{Key: k, Err: topo.ErrBadVersion}
	}
	return nil
}

// Get is part of topo.Conn.
func (c *Conn) Get(ctx context.Context, p string) ([]byte, topo.Version, error) {
	k, err := c.begin(ctx, p)
	if err != nil {
		return nil, nil, err
	}
	defer c.end()
	f, ok := c.store.files[k]
	if !ok {
		return nil, nil, &topo.KeyError{Key: k, Err: topo.ErrNoNode}
	}
	return slices.Clone(f.data), topo.Revision(f.mod), nil
}

// Delete is part of topo.Conn.
func (c *Conn) Delete(ctx context.Context, p string, v topo.Version) error {
	k, err := c.begin(ctx, p)
	if err != nil {
		return err
	}
	defer c.end()
	if v != nil {
		if err := c.check(k, v); err != nil {
			return err
		}
	}
	if _, ok := c.store.files[k]; !ok {
		return &topo.KeyError{Key: k, Err: topo.ErrNoNode}
	}
	c.store.commit(k, nil, true)
	return nil
}

// ListDir is part of topo.Conn.
func (c *Conn) ListDir(ctx context.Context, dir string) ([]string, error) {
	prefix, err := topo.DirPrefix(c.root, dir)
	if err != nil {
		return nil, err
	}
	if _, err := c.begin(ctx, dir); err != nil {
		return nil, err
	}
	defer c.end()
	var keys []string
	for k := range c.store.files {
		if strings.HasPrefix(k, prefix) {
			keys = append(keys, k)
		}
	}
	if len(keys) == 0 {
		return nil, &topo.KeyError{Key: prefix, Err: topo.ErrNoNode}
	}
	return topo.ChildNames(prefix, keys), nil
}

// WatchRecursive is part of topo.Conn.
func (c *Conn) WatchRecursive(ctx context.Context, dir string) ([]*topo.WatchData, <-chan *topo.WatchData, error) {
	prefix, err := topo.DirPrefix(c.root, dir)
	if err != nil {
		return nil, nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, nil, &topo.KeyError{Key: prefix, Err: err}
	}
	select {
	case <-c.closing:
		return nil, nil, &topo.KeyError{Key: prefix, Err: topo.ErrClosed}
	default:
	}
	w, snap, err := c.store.register(prefix)
	if err != nil {
		return nil, nil, &topo.KeyError{Key: prefix, Err: err}
	}
	keys := make([]string, 0, len(snap))
	for k := range snap {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	initial := make([]*topo.WatchData, 0, len(keys))
	for _, k := range keys {
		f := snap[k]
		initial = append(initial, &topo.WatchData{Path: c.relative(k), Contents: slices.Clone(f.data), Version: topo.Revision(f.mod)})
	}
	out := make(chan *topo.WatchData, watchBuffer)
	c.watchers.Add(1)
	go func() {
		defer c.watchers.Done()
		defer close(out)
		defer c.store.unregister(w)
		c.forward(ctx, prefix, w, out)
	}()
	return initial, out, nil
}

// forward delivers queued changes until ctx ends or the Conn closes. It is the body of the
// goroutine started by WatchRecursive, which owns out.
func (c *Conn) forward(ctx context.Context, prefix string, w *watcher, out chan<- *topo.WatchData) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-c.closing:
			select { // the last item, if the reader has room for it
			case out <- &topo.WatchData{Err: &topo.KeyError{Key: prefix, Err: topo.ErrClosed}}:
			default:
			}
			return
		case <-w.wake:
		}
		for _, ch := range w.pop() {
			wd := &topo.WatchData{Path: c.relative(ch.key), Version: topo.Revision(ch.mod), Deleted: ch.deleted}
			if !ch.deleted {
				wd.Contents = ch.data
			}
			select {
			case out <- wd:
			case <-ctx.Done():
				return
			case <-c.closing:
				return
			}
		}
	}
}

func (c *Conn) relative(key string) string { return strings.TrimPrefix(key, c.prefix) }

// Close is part of topo.Conn: it ends this Conn's watches and waits for their goroutines.
func (c *Conn) Close() {
	c.closeOnce.Do(func() { close(c.closing) })
	c.watchers.Wait()
}

// Root returns the cleaned root of this Conn (errors name full keys with it).
func (c *Conn) Root() string { return c.root }

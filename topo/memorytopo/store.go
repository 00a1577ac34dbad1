package memorytopo

import (
	"context"
	"slices"
	"strings"
	"sync"

	"github.com/vtdirect/vtdirect/topo"
	topodatapb "vitess.io/vitess/go/vt/proto/topodata"
)

// Store is one in-memory topo server shared by any number of Conns (one per root).
type Store struct {
	mu       sync.Mutex            // guards the fields below
	rev      int64                 // store-wide revision, bumped by every write
	files    map[string]file       // full key → file
	watchers map[*watcher]struct{} // live watches, told of every change
	failErr  error                 // when set, every operation fails with it (see SetError)
}

type file struct {
	data []byte
	mod  int64 // revision of the last write (etcd's ModRevision)
}

// NewStore returns an empty Store.
func NewStore() *Store {
	return &Store{files: make(map[string]file), watchers: make(map[*watcher]struct{})}
}

// SetError makes every later operation of every Conn fail with err (wrapped in a
// *topo.KeyError), as an unreachable server would; nil restores service. Existing watches are
// not affected (end them with Conn.Close or their context).
func (s *Store) SetError(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failErr = err
}

// Conn returns a topo.Conn on root (e.g. "/vitess/global"). Conns on different roots see
// different keys, like etcd roots.
func (s *Store) Conn(root string) *Conn {
	root, _ = topo.JoinKey("/"+strings.TrimPrefix(root, "/"), "")
	prefix := root
	if !strings.HasSuffix(prefix, "/") {
		prefix += "/"
	}
	return &Conn{store: s, root: root, prefix: prefix, closing: make(chan struct{})}
}

// change is one write, fanned out to the watchers whose prefix matches.
type change struct {
	key     string
	data    []byte
	mod     int64
	deleted bool
}

// commit applies a change and queues it for the watchers. Called with s.mu held.
func (s *Store) commit(key string, data []byte, deleted bool) int64 {
	s.rev++
	if deleted {
		delete(s.files, key)
	} else {
		s.files[key] = file{data: slices.Clone(data), mod: s.rev}
	}
	ch := change{key: key, data: slices.Clone(data), mod: s.rev, deleted: deleted}
	for w := range s.watchers {
		if strings.HasPrefix(key, w.prefix) {
			w.push(ch)
		}
	}
	return s.rev
}

// watcher holds the changes not yet delivered to one watch. The queue is unbounded so a
// writer never blocks on a slow reader while holding the store lock (tests only).
type watcher struct {
	prefix string
	mu     sync.Mutex // guards queue
	queue  []change
	wake   chan struct{} // capacity 1: "the queue is not empty", coalesced
}

func (w *watcher) push(c change) {
	w.mu.Lock()
	w.queue = append(w.queue, c)
	w.mu.Unlock()
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

func (w *watcher) pop() []change {
	w.mu.Lock()
	defer w.mu.Unlock()
	q := w.queue
	w.queue = nil
	return q
}

// register adds a watcher and returns the files below prefix at the same revision, so no
// change is missed or doubled.
func (s *Store) register(prefix string) (*watcher, map[string]file, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.failErr != nil {
		return nil, nil, s.failErr
	}
	w := &watcher{prefix: prefix, wake: make(chan struct{}, 1)}
	s.watchers[w] = struct{}{}
	snap := make(map[string]file)
	for k, f := range s.files {
		if strings.HasPrefix(k, prefix) {
			snap[k] = f
		}
	}
	return w, snap, nil
}

func (s *Store) unregister(w *watcher) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.watchers, w)
}

// NewServer returns a topo.Server on a fresh Store with global root /vitess/global and one
// CellInfo per cell (ServerAddress "memory", Root /vitess/<cell>). Cell Conns are opened on
// the same Store from their CellInfo's Root, like etcd cells sharing one cluster.
func NewServer(ctx context.Context, cells ...string) (*topo.Server, *Store, error) {
	s := NewStore()
	ts := NewServerOn(s)
	for _, cell := range cells {
		ci := &topodatapb.CellInfo{ServerAddress: "memory", Root: "/vitess/" + cell}
		if err := ts.CreateCellInfo(ctx, cell, ci); err != nil {
			ts.Close()
			return nil, nil, err
		}
	}
	return ts, s, nil
}

// NewServerOn returns a topo.Server on s with global root /vitess/global and no cells.
func NewServerOn(s *Store) *topo.Server {
	return topo.NewServer(s.Conn("/vitess/global"), func(ci *topodatapb.CellInfo) (topo.Conn, error) {
		return s.Conn(ci.Root), nil
	})
}

package topo

import (
	"context"
	"errors"
	"fmt"
	"strings"

	vschemapb "vitess.io/vitess/go/vt/proto/vschema"
)

// VSchemaChange is one change of a keyspace's VSchema seen by WatchVSchemas.
type VSchemaChange struct {
	Keyspace string
	VSchema  *vschemapb.Keyspace // nil: deleted
	// Err, when set, is the last item: read everything again and watch again. A corrupt
	// record is such an error, naming its key.
	Err error
}

// vschemaChangeBuffer absorbs a burst of changes without making the watch goroutine wait for
// the reader on each one; order is kept (one sender).
const vschemaChangeBuffer = 16

// WatchVSchemas returns every keyspace's VSchema now (keyspaces/<ks>/VSchema in the global
// topo), then every later change of them, in order. The channel closes when ctx ends, or
// after an item with Err. A corrupt record among the initial ones fails the call, naming
// its key. The goroutine behind the channel belongs to ctx.
func (s *Server) WatchVSchemas(ctx context.Context) (map[string]*vschemapb.Keyspace, <-chan VSchemaChange, error) {
	watchCtx, cancel := context.WithCancel(ctx)
	initial, wch, err := s.global.WatchRecursive(watchCtx, KeyspacesPath)
	if err != nil {
		cancel()
		return nil, nil, fmt.Errorf("topo: watch vschemas: %w", err)
	}
	out := map[string]*vschemapb.Keyspace{}
	for _, wd := range initial {
		ks, ok := vschemaKeyspaceOfPath(wd.Path)
		if !ok {
			continue
		}
		vs, err := decode[vschemapb.Keyspace](s.global, wd.Path, wd.Contents)
		if err != nil {
			cancel()
			return nil, nil, err
		}
		out[ks] = vs
	}
	ch := make(chan VSchemaChange, vschemaChangeBuffer)
	go func() {
		defer close(ch)
		defer cancel()
		s.forwardVSchemaChanges(ctx, wch, ch)
	}()
	return out, ch, nil
}

// forwardVSchemaChanges is the body of WatchVSchemas's goroutine, which owns out.
func (s *Server) forwardVSchemaChanges(ctx context.Context, wch <-chan *WatchData, out chan<- VSchemaChange) {
	forwardWatch(ctx, wch, out, watchEnds[VSchemaChange]{
		ended: errors.New("topo: watch of the vschemas ended; read them again"),
		what:  "topo: watch vschemas",
		fail:  func(err error) VSchemaChange { return VSchemaChange{Err: err} },
		errOf: func(c VSchemaChange) error { return c.Err },
	}, func(wd *WatchData) (VSchemaChange, bool) {
		ks, isVSchema := vschemaKeyspaceOfPath(wd.Path)
		switch {
		case !isVSchema:
			return VSchemaChange{}, false
		case wd.Deleted:
			return VSchemaChange{Keyspace: ks}, true
		}
		vs, err := decode[vschemapb.Keyspace](s.global, wd.Path, wd.Contents)
		return VSchemaChange{Keyspace: ks, VSchema: vs, Err: err}, true
	})
}

// vschemaKeyspaceOfPath recognises "keyspaces/<ks>/VSchema".
func vschemaKeyspaceOfPath(p string) (string, bool) {
	rest, ok := strings.CutPrefix(p, KeyspacesPath+"/")
	if !ok {
		return "", false
	}
	ks, file, ok := strings.Cut(rest, "/")
	return ks, ok && file == VSchemaFile && ks != ""
}

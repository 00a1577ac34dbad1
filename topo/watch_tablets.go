package topo

import (
	"context"
	"fmt"
	"path"
	"strings"

	topodatapb "vitess.io/vitess/go/vt/proto/topodata"
)

// TabletChange is one change of a tablet record seen by WatchTablets.
type TabletChange struct {
	Alias  *topodatapb.TabletAlias
	Tablet *topodatapb.Tablet // nil: the tablet was deleted
	// Err, when set, is fatal and the last item: re-list and watch again (after a pause if the
	// error repeats). A corrupt record is such an error, naming its key.
	Err error
}

// tabletChangeBuffer absorbs a burst of changes (a batch of tablets added at once) without
// making the watch goroutine wait for the reader on each one; order is kept (one sender).
const tabletChangeBuffer = 16

// WatchTablets returns the tablets of a cell now, then every later change of them, in order.
// The channel closes when ctx ends, or after an item with Err (watch failed, Conn closed,
// corrupt record). A corrupt record among the initial ones fails the call, naming its key.
//
// The goroutine behind the channel belongs to ctx: cancel it to stop watching; it never blocks
// once ctx is done.
func (s *Server) WatchTablets(ctx context.Context, cell string) ([]*topodatapb.Tablet, <-chan TabletChange, error) {
	conn, err := s.CellConn(ctx, cell)
	if err != nil {
		return nil, nil, err
	}
	watchCtx, cancel := context.WithCancel(ctx)
	initial, wch, err := conn.WatchRecursive(watchCtx, TabletsPath)
	if err != nil {
		cancel()
		return nil, nil, fmt.Errorf("topo: watch tablets of cell %s: %w", cell, err)
	}
	tablets := make([]*topodatapb.Tablet, 0, len(initial))
	for _, wd := range initial {
		alias, ok, err := tabletAliasOfPath(conn, wd.Path)
		if err != nil {
			cancel()
			return nil, nil, err
		}
		if !ok {
			continue
		}
		t, err := decodeTablet(conn, wd.Path, alias, wd.Contents)
		if err != nil {
			cancel()
			return nil, nil, err
		}
		tablets = append(tablets, t)
	}
	out := make(chan TabletChange, tabletChangeBuffer)
	go func() {
		defer close(out)
		defer cancel() // ends the Conn's watch goroutine too
		forwardTabletChanges(ctx, conn, cell, wch, out)
	}()
	return tablets, out, nil
}

// forwardTabletChanges turns file changes below tablets/ into TabletChanges until ctx ends or
// an error ends the watch. Body of the goroutine started by WatchTablets, which owns out.
func forwardTabletChanges(ctx context.Context, conn Conn, cell string, wch <-chan *WatchData, out chan<- TabletChange) {
	forwardWatch(ctx, wch, out, watchEnds[TabletChange]{
		ended: fmt.Errorf("topo: watch of the tablets of cell %s ended; re-list and watch again", cell),
		what:  "topo: watch tablets of cell " + cell,
		fail:  func(err error) TabletChange { return TabletChange{Err: err} },
		errOf: func(c TabletChange) error { return c.Err },
	}, func(wd *WatchData) (TabletChange, bool) {
		alias, isTablet, err := tabletAliasOfPath(conn, wd.Path)
		switch {
		case err != nil:
			return TabletChange{Err: err}, true
		case !isTablet:
			return TabletChange{}, false
		case wd.Deleted:
			return TabletChange{Alias: alias}, true
		}
		t, err := decodeTablet(conn, wd.Path, alias, wd.Contents)
		return TabletChange{Alias: alias, Tablet: t, Err: err}, true
	})
}

// tabletAliasOfPath recognises "tablets/<alias>/Tablet" (relative to a cell root). Other files
// below tablets/ are not tablet records (ok false); a bad alias directory is corrupt.
func tabletAliasOfPath(conn Conn, p string) (*topodatapb.TabletAlias, bool, error) {
	rest, ok := strings.CutPrefix(p, TabletsPath+"/")
	if !ok {
		return nil, false, nil
	}
	dir, file := path.Split(rest)
	if file != TabletFile || strings.Count(dir, "/") != 1 {
		return nil, false, nil
	}
	alias, err := ParseTabletAlias(strings.TrimSuffix(dir, "/"))
	if err != nil {
		return nil, false, keyError(fullKey(conn, p), fmt.Errorf("%w: directory is not a tablet alias: %v", ErrCorrupt, err))
	}
	return alias, true, nil
}

func decodeTablet(conn Conn, p string, alias *topodatapb.TabletAlias, data []byte) (*topodatapb.Tablet, error) {
	t, err := decode[topodatapb.Tablet](conn, p, data)
	if err != nil {
		return nil, err
	}
	if err := checkTabletKey(conn, p, alias, t); err != nil {
		return nil, err
	}
	return t, nil
}

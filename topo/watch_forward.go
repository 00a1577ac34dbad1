package topo

import (
	"context"
	"fmt"
)

// watchEnds says how a forwarded watch reports its end: ended when the watch closed, what
// prefixes the error it failed with, fail wraps either as the value to send, and errOf reads
// a value's error back (a value with one is the last).
type watchEnds[T any] struct {
	ended error
	what  string
	fail  func(error) T
	errOf func(T) error
}

// forwardWatch turns a watch's changes into values on out until ctx ends or the watch ends:
// change maps one change to the value to send (ok false: not a record of interest). A value
// with an error (a corrupt record) is the last one sent. Body of a goroutine that owns out.
func forwardWatch[T any](ctx context.Context, wch <-chan *WatchData, out chan<- T, ends watchEnds[T], change func(*WatchData) (T, bool)) {
	send := func(v T) bool {
		select {
		case out <- v:
			return true
		case <-ctx.Done():
			return false
		}
	}
	for {
		var wd *WatchData
		var ok bool
		select {
		case <-ctx.Done():
			return
		case wd, ok = <-wch:
		}
		switch {
		case !ok && ctx.Err() != nil:
			return
		case !ok:
			send(ends.fail(ends.ended))
			return
		case wd.Err != nil:
			send(ends.fail(fmt.Errorf("%s: %w", ends.what, wd.Err)))
			return
		}
		v, ok := change(wd)
		if !ok {
			continue
		}
		if !send(v) || ends.errOf(v) != nil {
			return
		}
	}
}

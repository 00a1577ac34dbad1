package topo

import (
	"context"
	"fmt"
	"path"
	"slices"
	"strconv"
	"strings"
)

// Conn is one root on one topo server. Paths are relative to the root, use '/' and name files
// (there are no directory objects: a directory exists while a file exists below it). It is safe
// for concurrent use.
//
// A backend (etcd now, Consul later) implements only this; everything typed lives in Server.
type Conn interface {
	// Create writes a new file; ErrNodeExists if it is already there.
	Create(ctx context.Context, path string, data []byte) (Version, error)
	// Update overwrites a file. With v == nil it writes unconditionally (creating the file if
	// needed); otherwise only if the file is still at version v (else ErrBadVersion, or
	// ErrNoNode if it is gone).
	Update(ctx context.Context, path string, data []byte, v Version) (Version, error)
	// Get reads a file and its version; ErrNoNode if it does not exist.
	Get(ctx context.Context, path string) ([]byte, Version, error)
	// Delete removes a file, only if at version v when v != nil; ErrNoNode if absent.
	Delete(ctx context.Context, path string, v Version) error
	// ListDir returns the sorted names of the direct children (files and directories) of dir;
	// ErrNoNode if nothing exists below dir. dir "" is the root.
	ListDir(ctx context.Context, dir string) ([]string, error)
	// WatchRecursive returns every file below dir now, then a channel of every later change
	// below dir, in the order the server applied them. The channel closes when ctx ends (no
	// item), when the Conn closes, or after an item with Err set (a fatal error: the watcher
	// must re-read and watch again).
	WatchRecursive(ctx context.Context, dir string) ([]*WatchData, <-chan *WatchData, error)
	// Close releases the connection and ends its watches.
	Close()
}

// Version is an opaque version of a file, returned by writes and reads and handed back for
// compare-and-swap. Each backend has its own concrete type; etcd uses the key's ModRevision.
type Version interface {
	String() string
}

// Revision is the Version of backends whose versions are a store-wide revision counter (etcd's
// ModRevision, and the in-memory backend which mimics it).
type Revision int64

// String is part of Version.
func (r Revision) String() string { return strconv.FormatInt(int64(r), 10) }

// RevisionOf returns v as a Revision, or an ErrBadVersion error naming key if v comes from
// another backend.
func RevisionOf(key string, v Version) (Revision, error) {
	r, ok := v.(Revision)
	if !ok {
		return 0, keyError(key, fmt.Errorf("%w: version %v (%T) is not a revision", ErrBadVersion, v, v))
	}
	return r, nil
}

// WatchData is one file seen by WatchRecursive.
type WatchData struct {
	// Path of the file, relative to the Conn's root (like the paths given to Get).
	Path string
	// Contents is the file's data; nil when Deleted.
	Contents []byte
	// Version of the file after this change.
	Version Version
	// Deleted reports that the file was removed.
	Deleted bool
	// Err, when set, is fatal: it is the last item before the channel closes.
	Err error
}

// JoinKey joins a root and a relative path into a backend key, the way Vitess's etcd2topo does
// (path.Join), and rejects paths that would leave the root.
func JoinKey(root, p string) (string, error) {
	for seg := range strings.SplitSeq(p, "/") {
		if seg == ".." || seg == "." {
			return "", keyError(path.Join(root, p), fmt.Errorf("%w: path %q has a %q segment", ErrInvalid, p, seg))
		}
	}
	return path.Join(root, p), nil
}

// DirPrefix returns the key prefix of everything below dir under root, ending in '/'.
func DirPrefix(root, dir string) (string, error) {
	k, err := JoinKey(root, dir)
	if err != nil {
		return "", err
	}
	if !strings.HasSuffix(k, "/") {
		k += "/"
	}
	return k, nil
}

// ChildNames returns the sorted unique first path segments of keys below prefix. Both
// backends list directories this way.
func ChildNames(prefix string, keys []string) []string {
	seen := make(map[string]struct{}, len(keys))
	names := make([]string, 0, len(keys))
	for _, k := range keys {
		rest, ok := strings.CutPrefix(k, prefix)
		if !ok {
			continue
		}
		if i := strings.IndexByte(rest, '/'); i >= 0 {
			rest = rest[:i]
		}
		if _, dup := seen[rest]; dup || rest == "" {
			continue
		}
		seen[rest] = struct{}{}
		names = append(names, rest)
	}
	slices.Sort(names)
	return names
}

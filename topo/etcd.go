package topo

// The etcd backend, key for key compatible with Vitess's etcd2topo
// (vitess.io/vitess/go/vt/topo/etcd2topo): a file is the etcd key path.Join(root, path), its
// contents the value, its Version the key's ModRevision.

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
)

// EtcdConn is a Conn on one root of an etcd cluster.
type EtcdConn struct {
	cli        *clientv3.Client
	ownsClient bool   // Close closes cli only when DialEtcd made it
	endpoints  string // for error messages
	root       string // cleaned, e.g. "/vitess/global"
	prefix     string // root + "/", the prefix of every key of this Conn

	closeOnce sync.Once
	closing   chan struct{}  // closed by Close: unblocks watch goroutines
	watchers  sync.WaitGroup // one per WatchRecursive goroutine; Close waits for them
}

var _ Conn = (*EtcdConn)(nil)

// dialTimeout bounds how long DialEtcd waits for the first answer from etcd.
const dialTimeout = 5 * time.Second

// DialEtcd connects to the etcd cluster at addrs (comma-separated host:port list) and returns a
// Conn on root. It checks that etcd answers, so a wrong address fails here with a clear error.
func DialEtcd(ctx context.Context, addrs, root string, opts ...Option) (*EtcdConn, error) {
	root, err := cleanRoot(root)
	if err != nil {
		return nil, err
	}
	if len(splitAddrs(addrs)) == 0 {
		return nil, fmt.Errorf("topo: %w: empty etcd address; pass --topo-addr host:port[,host:port...]", ErrInvalid)
	}
	c, err := newEtcdConnNoProbe(addrs, root, opts...)
	if err != nil {
		return nil, err
	}
	probeCtx, cancel := context.WithTimeout(ctx, dialTimeout)
	defer cancel()
	if _, err := c.cli.Get(probeCtx, c.root, clientv3.WithCountOnly()); err != nil {
		c.Close()
		return nil, fmt.Errorf("topo: etcd at %s does not answer (%w); is it running? start one with `vtdirect local up` or pass the right --topo-addr", addrs, err)
	}
	return c, nil
}

// newEtcdConnNoProbe makes a cell Conn with its own client without waiting for the server: a
// cell server that is down shows up as errors naming it on first use, not here.
func newEtcdConnNoProbe(addrs, root string, opts ...Option) (*EtcdConn, error) {
	if _, err := cleanRoot(root); err != nil {
		return nil, err
	}
	endpoints := splitAddrs(addrs)
	if len(endpoints) == 0 {
		return nil, fmt.Errorf("topo: %w: empty server address", ErrInvalid)
	}
	o := options(opts)
	if o.tls != nil {
		// Endpoints written as host:port: etcd's client dials them with TLS when TLS is set.
		for i, e := range endpoints {
			endpoints[i] = strings.TrimPrefix(e, "http://")
		}
	}
	cli, err := clientv3.New(clientv3.Config{Endpoints: endpoints, DialTimeout: dialTimeout, Logger: zap.NewNop(), TLS: o.tls})
	if err != nil {
		return nil, fmt.Errorf("topo: connect to etcd at %s: %w", addrs, err)
	}
	c := NewEtcdConn(cli, root)
	c.ownsClient = true
	c.endpoints = addrs
	return c, nil
}

// NewEtcdConn returns a Conn on root over an existing client, which the Conn does not close.
// Several Conns (the global root and cells on the same cluster) can share one client.
func NewEtcdConn(cli *clientv3.Client, root string) *EtcdConn {
	root, err := cleanRoot(root)
	if err != nil {
		root = "/" // cleanRoot only fails on an empty root
	}
	prefix := root
	if !strings.HasSuffix(prefix, "/") {
		prefix += "/"
	}
	return &EtcdConn{
		cli:       cli,
		endpoints: strings.Join(cli.Endpoints(), ","),
		root:      root,
		prefix:    prefix,
		closing:   make(chan struct{}),
	}
}

// Client returns the underlying etcd client (to share it with another Conn).
func (c *EtcdConn) Client() *clientv3.Client { return c.cli }

// Root returns the cleaned root of this Conn.
func (c *EtcdConn) Root() string { return c.root }

// Close ends the watches and, if DialEtcd made the client, closes it. It returns after every
// watch goroutine of this Conn has exited.
func (c *EtcdConn) Close() {
	c.closeOnce.Do(func() {
		close(c.closing)
		if c.ownsClient {
			_ = c.cli.Close()
		}
	})
	c.watchers.Wait()
}

func (c *EtcdConn) closed() bool {
	select {
	case <-c.closing:
		return true
	default:
		return false
	}
}

// key maps a relative path to the etcd key, refusing to work once closed.
func (c *EtcdConn) key(p string) (string, error) {
	k, err := JoinKey(c.root, p)
	if err != nil {
		return "", err
	}
	if c.closed() {
		return "", keyError(k, ErrClosed)
	}
	return k, nil
}

// convertError names the key and the endpoints for failures of the etcd client (unreachable,
// timeout, cancelled); those keep their cause for errors.Is (context.DeadlineExceeded...).
func (c *EtcdConn) convertError(key string, err error) error {
	return keyError(key, fmt.Errorf("etcd %s: %w", c.endpoints, err))
}

// Create is part of Conn.
func (c *EtcdConn) Create(ctx context.Context, p string, data []byte) (Version, error) {
	k, err := c.key(p)
	if err != nil {
		return nil, err
	}
	resp, err := c.cli.Txn(ctx).
		If(clientv3.Compare(clientv3.Version(k), "=", 0)).
		Then(clientv3.OpPut(k, string(data))).
		Commit()
	if err != nil {
		return nil, c.convertError(k, err)
	}
	if !resp.Succeeded {
		return nil, keyError(k, ErrNodeExists)
	}
	return Revision(resp.Header.Revision), nil
}

// Update is part of Conn.
func (c *EtcdConn) Update(ctx context.Context, p string, data []byte, v Version) (Version, error) {
	k, err := c.key(p)
	if err != nil {
		return nil, err
	}
	if v == nil {
		resp, err := c.cli.Put(ctx, k, string(data))
		if err != nil {
			return nil, c.convertError(k, err)
		}
		return Revision(resp.Header.Revision), nil
	}
	rev, err := RevisionOf(k, v)
	if err != nil {
		return nil, err
	}
	resp, err := c.cli.Txn(ctx).
		If(clientv3.Compare(clientv3.ModRevision(k), "=", int64(rev))).
		Then(clientv3.OpPut(k, string(data))).
		Else(clientv3.OpGet(k, clientv3.WithCountOnly())).
		Commit()
	if err != nil {
		return nil, c.convertError(k, err)
	}
	if !resp.Succeeded {
		return nil, c.failedCompare(k, resp)
	}
	return Revision(resp.Header.Revision), nil
}

// failedCompare tells a stale version from a missing key after a failed conditional write
// whose Else branch read the key.
func (c *EtcdConn) failedCompare(k string, resp *clientv3.TxnResponse) error {
	if len(resp.Responses) > 0 {
		if r := resp.Responses[0].GetResponseRange(); r != nil && r.Count == 0 {
			return keyError(k, ErrNoNode)
		}
	}
	return keyError(k, ErrBadVersion)
}

// Get is part of Conn.
func (c *EtcdConn) Get(ctx context.Context, p string) ([]byte, Version, error) {
	k, err := c.key(p)
	if err != nil {
		return nil, nil, err
	}
	resp, err := c.cli.Get(ctx, k)
	if err != nil {
		return nil, nil, c.convertError(k, err)
	}
	if len(resp.Kvs) != 1 {
		return nil, nil, keyError(k, ErrNoNode)
	}
	return resp.Kvs[0].Value, Revision(resp.Kvs[0].ModRevision), nil
}

// Delete is part of Conn.
func (c *EtcdConn) Delete(ctx context.Context, p string, v Version) error {
	k, err := c.key(p)
	if err != nil {
		return err
	}
	if v == nil {
		resp, err := c.cli.Delete(ctx, k)
		if err != nil {
			return c.convertError(k, err)
		}
		if resp.Deleted != 1 {
			return keyError(k, ErrNoNode)
		}
		return nil
	}
	rev, err := RevisionOf(k, v)
	if err != nil {
		return err
	}
	resp, err := c.cli.Txn(ctx).
		If(clientv3.Compare(clientv3.ModRevision(k), "=", int64(rev))).
		Then(clientv3.OpDelete(k)).
		Else(clientv3.OpGet(k, clientv3.WithCountOnly())).
		Commit()
	if err != nil {
		return c.convertError(k, err)
	}
	if !resp.Succeeded {
		return c.failedCompare(k, resp)
	}
	return nil
}

// ListDir is part of Conn.
func (c *EtcdConn) ListDir(ctx context.Context, dir string) ([]string, error) {
	if _, err := c.key(dir); err != nil {
		return nil, err
	}
	prefix, err := DirPrefix(c.root, dir)
	if err != nil {
		return nil, err
	}
	resp, err := c.cli.Get(ctx, prefix, clientv3.WithPrefix(), clientv3.WithKeysOnly(),
		clientv3.WithSort(clientv3.SortByKey, clientv3.SortAscend))
	if err != nil {
		return nil, c.convertError(prefix, err)
	}
	if len(resp.Kvs) == 0 {
		return nil, keyError(prefix, ErrNoNode)
	}
	keys := make([]string, len(resp.Kvs))
	for i, kv := range resp.Kvs {
		keys[i] = string(kv.Key)
	}
	return ChildNames(prefix, keys), nil
}

// cleanRoot normalises a root the way Vitess does (path.Join) and insists on an absolute one.
func cleanRoot(root string) (string, error) {
	if root == "" {
		return "", fmt.Errorf("topo: %w: empty topo root; pass e.g. --topo-root /vitess/global", ErrInvalid)
	}
	if !strings.HasPrefix(root, "/") {
		root = "/" + root
	}
	return JoinKey(root, "")
}

func splitAddrs(addrs string) []string {
	var out []string
	for a := range strings.SplitSeq(addrs, ",") {
		if a = strings.TrimSpace(a); a != "" {
			out = append(out, a)
		}
	}
	return out
}

// errWatchEnded is the fatal error of a watch whose etcd stream stopped on its own.
var errWatchEnded = errors.New("watch ended by the etcd client; re-read and watch again")

package topo

// Locks and leader election on etcd, with etcd's own concurrency package: each holder has its
// own session (a lease kept alive by the client); its key lives only as long as the lease.
// The keys are Vitess's etcd2topo keys, and the order is the same (the oldest key under the
// prefix holds the lock), so Vitess's tools and vtdirect exclude each other:
//
//	lock on <dir>:      <root>/<dir>/locks/<lease id>   value: who holds it (JSON)
//	election <name>:    <root>/elections/<name>/locks/<lease id>   value: the candidate's id
//
// A concurrency.Election is used for both: it is a mutex whose key is written with its value
// at creation (a concurrency.Mutex writes an empty value, and rewriting it afterwards would
// change its ModRevision, which Vitess's waiters order by).

import (
	"context"
	"fmt"
	"math"
	"path"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/client/v3/concurrency"
)

var (
	_ Locker  = (*EtcdConn)(nil)
	_ Elector = (*EtcdConn)(nil)
)

// Lock is part of Locker.
func (c *EtcdConn) Lock(ctx context.Context, dir, contents string, ttl time.Duration) (Lease, error) {
	k, err := c.key(path.Join(dir, LocksPath))
	if err != nil {
		return nil, err
	}
	return c.hold(ctx, k, contents, ttl)
}

// Campaign is part of Elector.
func (c *EtcdConn) Campaign(ctx context.Context, name, id string, ttl time.Duration) (Lease, error) {
	k, err := c.key(path.Join(ElectionsPath, name, LocksPath))
	if err != nil {
		return nil, err
	}
	return c.hold(ctx, k, id, ttl)
}

// etcdLease is a held lock or leadership: a session and the election it won.
type etcdLease struct {
	key      string // the prefix contended for, for messages
	cli      *clientv3.Client
	session  *concurrency.Session
	election *concurrency.Election
	stop     context.CancelFunc // ends the session's context (and the goroutine tying it to the Conn)
}

// hold waits until this process's key is the oldest below prefix.
func (c *EtcdConn) hold(ctx context.Context, prefix, value string, ttl time.Duration) (Lease, error) {
	secs := int64(math.Ceil(ttl.Seconds()))
	if secs < 1 {
		return nil, keyError(prefix, fmt.Errorf("%w: ttl %v: etcd leases count in whole seconds, at least 1", ErrInvalid, ttl))
	}
	// Grant with the caller's ctx, so a dead server fails the call; keep the lease alive with
	// a context that outlives the call but ends with the Conn (an owner that closes its
	// Conn without releasing dies: its lease expires after ttl).
	grant, err := c.cli.Grant(ctx, secs)
	if err != nil {
		return nil, c.convertError(prefix, err)
	}
	sctx, stop := context.WithCancel(context.WithoutCancel(ctx))
	c.watchers.Add(1)
	go func() {
		defer c.watchers.Done()
		select {
		case <-c.closing:
			stop()
		case <-sctx.Done():
		}
	}()
	session, err := concurrency.NewSession(c.cli, concurrency.WithLease(grant.ID), concurrency.WithTTL(int(secs)), concurrency.WithContext(sctx))
	if err != nil {
		stop()
		c.revoke(ctx, grant.ID)
		return nil, c.convertError(prefix, err)
	}
	l := &etcdLease{key: prefix, cli: c.cli, session: session, election: concurrency.NewElection(session, prefix), stop: stop}
	if err := l.election.Campaign(ctx, value); err != nil {
		l.abandon(ctx)
		return nil, c.convertError(prefix, fmt.Errorf("wait for the lock: %w", err))
	}
	// The lease may have expired while we waited (a partition): then the key is gone.
	resp, err := c.cli.Get(ctx, l.election.Key(), clientv3.WithCountOnly())
	if err != nil {
		l.abandon(ctx)
		return nil, c.convertError(prefix, err)
	}
	if resp.Count == 0 {
		l.abandon(ctx)
		return nil, keyError(prefix, fmt.Errorf("etcd %s: the lease expired while waiting for the lock", c.endpoints))
	}
	return l, nil
}

// revoke ends a lease, best effort: if it fails the lease expires on its own after its TTL.
func (c *EtcdConn) revoke(ctx context.Context, id clientv3.LeaseID) {
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), dialTimeout)
	defer cancel()
	_, _ = c.cli.Revoke(rctx, id)
}

// abandon gives up a lease that did not get what it waited for.
func (l *etcdLease) abandon(ctx context.Context) { _ = l.Release(ctx) }

// Key is part of Lease: the etcd key of the lock or leadership held.
func (l *etcdLease) Key() string {
	if k := l.election.Key(); k != "" {
		return k
	}
	return l.key
}

// Lost is part of Lease: the session ends on release, on lease expiry and when the Conn closes.
func (l *etcdLease) Lost() <-chan struct{} { return l.session.Done() }

// Release is part of Lease: delete the key (the next contender is woken at once) and revoke
// the lease.
func (l *etcdLease) Release(ctx context.Context) error {
	select {
	case <-l.session.Done():
		l.stop()
		return nil // already released or lost: the lease is gone or going
	default:
	}
	err := l.election.Resign(ctx)
	l.session.Orphan()
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), dialTimeout)
	defer cancel()
	if _, rerr := l.cli.Revoke(rctx, l.session.Lease()); err == nil {
		err = rerr
	}
	l.stop()
	if err != nil {
		return keyError(l.key, fmt.Errorf("release (the lease expires on its own): %w", err))
	}
	return nil
}

// Leader is part of Elector: the value of the oldest key of the election.
func (c *EtcdConn) Leader(ctx context.Context, name string) (string, error) {
	prefix, err := c.electionPrefix(name)
	if err != nil {
		return "", err
	}
	resp, err := c.cli.Get(ctx, prefix, clientv3.WithFirstCreate()...)
	if err != nil {
		return "", c.convertError(prefix, err)
	}
	if len(resp.Kvs) == 0 {
		return "", nil
	}
	return string(resp.Kvs[0].Value), nil
}

func (c *EtcdConn) electionPrefix(name string) (string, error) {
	if _, err := c.key(""); err != nil {
		return "", err
	}
	return DirPrefix(c.root, path.Join(ElectionsPath, name, LocksPath))
}

// ObserveLeader is part of Elector. It reads the leader, then re-reads it after every change
// below the election's prefix (a watch from the revision read), and sends it when it changed.
func (c *EtcdConn) ObserveLeader(ctx context.Context, name string) (<-chan string, error) {
	prefix, err := c.electionPrefix(name)
	if err != nil {
		return nil, err
	}
	first, err := c.cli.Get(ctx, prefix, clientv3.WithFirstCreate()...)
	if err != nil {
		return nil, c.convertError(prefix, err)
	}
	out := make(chan string, 1) // the current leader is ready before the reader asks
	c.watchers.Add(1)
	go func() {
		defer c.watchers.Done()
		defer close(out)
		wctx := clientv3.WithRequireLeader(ctx)
		last := ""
		resp := first
		for {
			if len(resp.Kvs) > 0 && string(resp.Kvs[0].Value) != last {
				last = string(resp.Kvs[0].Value)
				select {
				case out <- last:
				case <-ctx.Done():
					return
				case <-c.closing:
					return
				}
			}
			if !c.waitChange(wctx, prefix, resp.Header.Revision+1) {
				return
			}
			if resp, err = c.cli.Get(wctx, prefix, clientv3.WithFirstCreate()...); err != nil {
				return
			}
		}
	}()
	return out, nil
}

// waitChange waits for a change below prefix from revision rev on; false when ctx ends, the
// Conn closes or the watch fails.
func (c *EtcdConn) waitChange(ctx context.Context, prefix string, rev int64) bool {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	wch := c.cli.Watch(ctx, prefix, clientv3.WithPrefix(), clientv3.WithRev(rev))
	select {
	case <-ctx.Done():
		return false
	case <-c.closing:
		return false
	case wresp, ok := <-wch:
		return ok && wresp.Err() == nil
	}
}

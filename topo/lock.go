package topo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/user"
	"path"
	"time"
)

// Locks and leader election are optional interfaces of a Conn, implemented by the backends
// whose server has sessions that die with their owner: etcd (leases kept alive by the
// client, etcd's concurrency package) and Consul (sessions with a TTL renewed by the client,
// KV acquire). The Server finds them with a type assertion on the global Conn, so the code
// that takes locks (failover) never sees a backend.
//
// An owner that dies (its process ends, or its Conn is closed without Unlock/Resign) stops
// renewing; the server then expires the session after its TTL (Consul: up to twice the TTL,
// plus the lock delay) and the next contender gets the lock or the leadership.

// Locker is implemented by a Conn that can take locks.
type Locker interface {
	// Lock takes the lock on dir (a directory relative to the Conn's root, e.g.
	// "keyspaces/commerce/shards/0"), waiting while someone else holds it, until ctx ends.
	// contents says who holds it (stored in the lock's key, for people and tools to read).
	// ttl is how long the lock outlives its owner if the owner stops renewing it.
	Lock(ctx context.Context, dir, contents string, ttl time.Duration) (Lease, error)
}

// Elector is implemented by a Conn that can run leader elections.
type Elector interface {
	// Campaign waits until id is the leader of the election name (or ctx ends). ttl is how
	// long the leadership outlives a leader that stops renewing it.
	Campaign(ctx context.Context, name, id string, ttl time.Duration) (Lease, error)
	// Leader returns the id of the current leader, "" when there is none.
	Leader(ctx context.Context, name string) (string, error)
	// ObserveLeader sends the current leader's id, then each new leader's id. It sends nothing
	// while there is no leader. The channel closes when ctx ends, the Conn closes or the
	// server is lost (observe again).
	ObserveLeader(ctx context.Context, name string) (<-chan string, error)
}

// Lease is a held lock or leadership.
type Lease interface {
	// Key names what is held, for messages (the backend key of the lock or election).
	Key() string
	// Lost is closed when the lease ends: released, or lost because its session expired
	// (the owner could not renew it in time: network partition, server restart...).
	// Whoever acts under a lock or a leadership must stop when Lost closes.
	Lost() <-chan struct{}
	// Release gives the lock or the leadership up (Unlock, Resign), so the next contender
	// gets it at once. Releasing twice, or after Lost, is not an error.
	Release(ctx context.Context) error
}

// Directories of locks and elections, relative to the global root (Vitess's names): a lock on
// a directory lives below it (etcd: <dir>/locks/<lease>, Consul: <dir>/Lock), an election
// below elections/<name>.
const (
	LocksPath     = "locks"
	ElectionsPath = "elections"
)

// ErrNotSupported: the topo backend has no locks or elections (e.g. the in-memory one).
var ErrNotSupported = errors.New("not supported by this topo backend")

// lockContents is what a lock's key holds: Vitess's lock description (go/vt/topo/locks.go),
// so that Vitess's tools and people reading the topo see who holds it and why.
type lockContents struct {
	Action   string
	HostName string
	UserName string
	Time     string
	Status   string
}

// newLockContents describes a lock taken now by this process for action.
func newLockContents(action string, now time.Time) string {
	l := lockContents{Action: action, HostName: "unknown", UserName: "unknown", Time: now.Format(time.RFC3339), Status: "Running"}
	if h, err := os.Hostname(); err == nil {
		l.HostName = h
	}
	if u, err := user.Current(); err == nil {
		l.UserName = u.Username
	}
	data, _ := json.MarshalIndent(l, "", "  ") // a struct of strings always marshals
	return string(data)
}

// locker returns the global Conn's Locker, or ErrNotSupported naming the backend.
func (s *Server) locker() (Locker, error) {
	l, ok := s.global.(Locker)
	if !ok {
		return nil, fmt.Errorf("topo: locks: %w (%T)", ErrNotSupported, s.global)
	}
	return l, nil
}

// elector returns the global Conn's Elector, or ErrNotSupported naming the backend.
func (s *Server) elector() (Elector, error) {
	e, ok := s.global.(Elector)
	if !ok {
		return nil, fmt.Errorf("topo: leader election: %w (%T)", ErrNotSupported, s.global)
	}
	return e, nil
}

// LockKeyspace locks a keyspace (Vitess's keyspace lock: the same key Vitess's tools lock, so
// they exclude each other). The keyspace must exist. action says why, e.g. "failover".
func (s *Server) LockKeyspace(ctx context.Context, keyspace, action string, ttl time.Duration) (Lease, error) {
	l, err := s.locker()
	if err != nil {
		return nil, err
	}
	if _, err := s.GetKeyspace(ctx, keyspace); err != nil {
		return nil, fmt.Errorf("lock keyspace %s: %w", keyspace, err)
	}
	return lockDir(ctx, l, path.Join(KeyspacesPath, keyspace), action, ttl)
}

// LockShard locks a shard (Vitess's shard lock, on the same key as Vitess's tools). The shard
// must exist. action says why, e.g. "failover".
func (s *Server) LockShard(ctx context.Context, keyspace, shard, action string, ttl time.Duration) (Lease, error) {
	l, err := s.locker()
	if err != nil {
		return nil, err
	}
	if _, err := s.GetShard(ctx, keyspace, shard); err != nil {
		return nil, fmt.Errorf("lock shard %s/%s: %w", keyspace, shard, err)
	}
	return lockDir(ctx, l, path.Join(KeyspacesPath, keyspace, ShardsPath, shard), action, ttl)
}

func lockDir(ctx context.Context, l Locker, dir, action string, ttl time.Duration) (Lease, error) {
	if ttl <= 0 {
		return nil, fmt.Errorf("topo: %w: lock %s: ttl must be positive, got %v", ErrInvalid, dir, ttl)
	}
	return l.Lock(ctx, dir, newLockContents(action, time.Now()), ttl)
}

// Campaign waits until id leads the election name (e.g. "failover"), or ctx ends.
func (s *Server) Campaign(ctx context.Context, name, id string, ttl time.Duration) (Lease, error) {
	e, err := s.elector()
	if err != nil {
		return nil, err
	}
	if err := ValidateName("election", name); err != nil {
		return nil, err
	}
	if id == "" || ttl <= 0 {
		return nil, fmt.Errorf("topo: %w: election %s: want a non-empty id and a positive ttl, got %q and %v", ErrInvalid, name, id, ttl)
	}
	return e.Campaign(ctx, name, id, ttl)
}

// Leader returns the id leading the election name, "" when none.
func (s *Server) Leader(ctx context.Context, name string) (string, error) {
	e, err := s.elector()
	if err != nil {
		return "", err
	}
	if err := ValidateName("election", name); err != nil {
		return "", err
	}
	return e.Leader(ctx, name)
}

// ObserveLeader follows the leader of the election name: see Elector.ObserveLeader.
func (s *Server) ObserveLeader(ctx context.Context, name string) (<-chan string, error) {
	e, err := s.elector()
	if err != nil {
		return nil, err
	}
	if err := ValidateName("election", name); err != nil {
		return nil, err
	}
	return e.ObserveLeader(ctx, name)
}

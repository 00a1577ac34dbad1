package router

// The router's side of the failover buffer (package buffer). Everything the router does for
// it is here, called from three marked places of executor.go (run): bufferedConnFor where a
// statement takes a new connection, reparentError where a held connection failed,
// primaryLost where a new connection to the primary broke before any reply.

import (
	"context"

	topodatapb "vitess.io/vitess/go/vt/proto/topodata"

	"github.com/vtdirect/vtdirect/buffer"
	"github.com/vtdirect/vtdirect/session"
	"github.com/vtdirect/vtdirect/tabletserver"
)

// PrimaryBuffer is what the router needs of the buffer.
type PrimaryBuffer interface {
	Wait(ctx context.Context, keyspace, shard string) (release func(), err error)
	PrimaryFailed(ctx context.Context, keyspace, shard, alias, addr string) bool
	Interrupted(keyspace, shard string) error
}

var _ PrimaryBuffer = (*buffer.Buffer)(nil)

func noRelease() {}

// primaryShard returns the shard a session's statement goes to when its target is a PRIMARY
// (ok false otherwise, or when the buffer is off).
func (e *Executor) primaryShard(s *Session) (keyspace, shard string, ok bool) {
	if e.cfg.Buffer == nil || (s.hasTarget && s.target.TabletType != topodatapb.TabletType_PRIMARY) {
		return "", "", false
	}
	snap := e.reg.Snapshot()
	t := s.target
	if !s.hasTarget {
		if len(snap.Keyspaces) == 0 {
			return "", "", false
		}
		t = Target{Keyspace: snap.Keyspaces[0], TabletType: topodatapb.TabletType_PRIMARY}
	}
	sh, err := resolveShard(snap, t)
	if err != nil {
		return "", "", false
	}
	return sh.Keyspace, sh.Name, true
}

// bufferedConnFor is connFor for a statement to a PRIMARY: it waits while the shard is
// reparented, and when the primary refuses the connection (it died before the health probe
// saw it) it waits for the new primary and tries once more. Nothing was sent to the dead
// primary, so the retry cannot run the statement twice.
func (e *Executor) bufferedConnFor(s *Session, plan session.Plan) (*tabletserver.Conn, *tabletserver.TabletServer, session.Needs, func(), error) {
	ks, shard, ok := e.primaryShard(s)
	if !ok || s.held != nil {
		conn, server, owns, err := e.connFor(s, plan)
		return conn, server, owns, noRelease, err
	}
	for attempt := 0; ; attempt++ {
		release, err := e.cfg.Buffer.Wait(s.ctx, ks, shard)
		if err != nil {
			return nil, nil, 0, noRelease, err
		}
		conn, server, owns, err := e.connFor(s, plan)
		if err == nil {
			return conn, server, owns, release, nil
		}
		release()
		if attempt > 0 || s.ctx.Err() != nil || !e.primaryRefuses(s, ks, shard) {
			return nil, nil, 0, noRelease, err
		}
	}
}

// primaryRefuses asks the buffer to check the shard's primary, which failed a connection.
func (e *Executor) primaryRefuses(s *Session, ks, shard string) bool {
	t, err := e.pick(s)
	if err != nil {
		return false
	}
	return e.cfg.Buffer.PrimaryFailed(s.ctx, ks, shard, shortAlias(t.Alias), t.Server.Addr())
}

// primaryLost tells the buffer a new connection to the primary broke before any reply, so
// that the shard's next statements wait if the primary is gone. This statement's error
// stands: it may have run.
func (e *Executor) primaryLost(s *Session) {
	if ks, shard, ok := e.primaryShard(s); ok {
		e.primaryRefuses(s, ks, shard)
	}
}

// reparentError is the error for a session whose transaction (or reserved connection) broke
// on a PRIMARY while its shard is or was just reparented; nil otherwise.
func (e *Executor) reparentError(s *Session) error {
	ks, shard, ok := e.primaryShard(s)
	if !ok {
		return nil
	}
	return e.cfg.Buffer.Interrupted(ks, shard)
}

// shortAlias turns "zone1-0000000100" into "zone1-100".
func shortAlias(alias string) string {
	i := len(alias) - 1
	for i >= 0 && alias[i] != '-' {
		i--
	}
	j := i + 1
	for j < len(alias)-1 && alias[j] == '0' {
		j++
	}
	return alias[:i+1] + alias[j:]
}

package router

import (
	"context"

	"github.com/go-mysql-org/go-mysql/mysql"
	topodatapb "vitess.io/vitess/go/vt/proto/topodata"

	"github.com/vtdirect/vtdirect/mysqlserver"
	"github.com/vtdirect/vtdirect/tabletserver"
)

// onShard runs one statement on one shard through the executor's own path (run.go): the
// session's target is narrowed to the shard for the statement, the connection it holds there
// (if any) is the one the path sees, and the reply goes to the client as the shard sent it.
// frame is the command to send (the client's own, or one built from a rendered statement).
// A statement inside a transaction that reaches a new shard begins the transaction there.
// ctx bounds the statement: the session's, or shorter by a QUERY_TIMEOUT_MS directive.
func (e *Executor) onShard(ctx context.Context, c *mysqlserver.Conn, s *Session, q *query, k shardKey, frame []byte, do runFunc) error {
	return e.shardRun(ctx, c, s, q, k, frame, false, do)
}

// shardedFieldList is the hook of COM_FIELD_LIST (and COM_STATISTICS) for a sharded target:
// the keyspace's first shard answers.
func (e *Executor) shardedFieldList(c *mysqlserver.Conn, s *Session, cmd *mysqlserver.Command) error {
	k, err := e.sessionShard(s)
	if err != nil {
		return c.WriteError(err)
	}
	return e.shardRun(s.ctx, c, s, &query{readOnly: true}, k, cmd.Frame, true, nil)
}

func (e *Executor) shardRun(ctx context.Context, c *mysqlserver.Conn, s *Session, q *query, k shardKey, frame []byte, statusless bool, do runFunc) error {
	if k.order == orderMain && !q.readOnly && s.state.InTransaction() && e.txMode(s) == TxModeSingle {
		if other := s.shard.wroteElsewhere(k); other != "" {
			_ = e.endTransaction(s, false)
			return c.WriteError(singleModeError(k.String(), other))
		}
	}
	h := s.shard.find(k)
	s.useLast(k)
	saved := s.target
	s.target = Target{Keyspace: k.ks, Shard: k.shard, TabletType: saved.TabletType}
	if h != nil {
		s.held, s.heldServer = h.conn, h.server
	} else {
		s.held, s.heldServer = nil, nil
	}
	begin := ""
	if h == nil && !statusless && s.state.InTransaction() && s.state.Autocommit() {
		// The explicit transaction reaches this shard: begin it there, in the same write.
		begin = s.shard.begin
		if begin == "" {
			begin = "BEGIN"
		}
	}
	if do == nil {
		do = func(conn *tabletserver.Conn, req *tabletserver.Request) (tabletserver.Result, error) {
			req.Frame = frame
			return conn.Exec(ctx, req, c.RawWriter())
		}
	}
	inner := do
	if begin != "" {
		inner = func(conn *tabletserver.Conn, req *tabletserver.Request) (tabletserver.Result, error) {
			req.Pre = append(req.Pre, begin)
			return do(conn, req)
		}
	}
	res, err := e.run(c, s, q, statusless, inner)
	s.target = saved
	e.afterShard(s, k, q)
	return e.finish(c, s, res, err)
}

// afterShard records what the statement left on its shard: the connection kept there (or
// not), the write, and, when the transaction ended there (a deadlock, a COMMIT inside a
// procedure, a lost connection), the end of it on the other shards too.
func (e *Executor) afterShard(s *Session, k shardKey, q *query) {
	sh := &s.shard
	h := sh.find(k)
	switch {
	case s.held != nil && h == nil:
		h = &heldConn{key: k, conn: s.held, server: s.heldServer}
		sh.conns = append(sh.conns, h)
	case s.held != nil:
		h.conn, h.server = s.held, s.heldServer
	case h != nil:
		sh.remove(h)
		h = nil
	}
	if h != nil && !q.readOnly && s.state.InTransaction() {
		h.wrote = true
	}
	sh.lastKey = k
	sh.warningsValid = false
	if !s.state.InTransaction() {
		if len(sh.conns) > 1 || (len(sh.conns) == 1 && sh.conns[0] != h) {
			// The transaction is over on this shard: it is over everywhere (MySQL rolls a
			// whole transaction back on a deadlock).
			var keep = s.held
			e.releaseIdle(s, keep)
		}
		sh.begin = ""
	}
	s.showHeld()
	if s.held == nil && h != nil {
		s.held, s.heldServer = h.conn, h.server
	}
}

// queryFrame builds a COM_QUERY frame for a statement.
func queryFrame(text []byte) []byte {
	f := make([]byte, 5, 5+len(text))
	f[4] = mysql.COM_QUERY
	return append(f, text...)
}

// firstShard is a keyspace's first shard (the one that answers statements that read no
// table: every shard would give the same answer).
func (e *Executor) firstShard(ks string) (string, error) {
	shards, err := e.keyspaceShards(e.reg.Snapshot(), ks)
	if err != nil {
		return "", err
	}
	if len(shards) == 0 {
		return "", errUnavailable("keyspace %s has no tablets yet; add them with `vtdirect topo add-tablet`", ks)
	}
	return shards[0].Name, nil
}

var _ = topodatapb.TabletType_PRIMARY

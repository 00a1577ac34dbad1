package router

// A session on a sharded keyspace keeps one backend connection per shard its transaction
// reached. Session.held is the one of them the executor's own path sees (so that its rules
// about a session that keeps a connection hold: the idle timeout, no change of target in a
// transaction...); shardSession.conns has them all, in the order they joined the
// transaction, which is the commit order.

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/go-mysql-org/go-mysql/mysql"

	"github.com/vtdirect/vtdirect/engine"
	"github.com/vtdirect/vtdirect/planner"
	"github.com/vtdirect/vtdirect/tabletserver"
	"github.com/vtdirect/vtdirect/vindex"
)

// Commit orders of a connection (Vitess's): a consistent lookup's rows are written in a
// "pre" session committed before the statement's own and deleted in a "post" one after it.
const (
	orderMain uint8 = iota
	orderPre
	orderPost
)

// shardKey names a connection of a sharded session: a shard and a commit order.
type shardKey struct {
	ks, shard string
	order     uint8
}

func (k shardKey) String() string { return k.ks + "/" + k.shard }

// heldConn is a connection a session keeps on a shard.
type heldConn struct {
	key    shardKey
	conn   *tabletserver.Conn
	server *tabletserver.TabletServer
	wrote  bool // the transaction wrote on it
}

// shardSession is the part of a Session for sharded keyspaces; its zero value is ready.
// Only the session's goroutine touches it, except active (under Session.killMu).
type shardSession struct {
	conns []*heldConn
	// mode is the session's transaction_mode ("" until SET: the gateway's).
	mode string
	// begin is the statement that began the explicit transaction, sent to each shard it
	// reaches ("" outside one).
	begin string
	// warnings are the conditions of the last statement that ran on several shards (SHOW
	// WARNINGS answers with them); warningsValid says the last statement was such.
	warnings      []engine.Warning
	warningsValid bool
	// lastKey is the shard of the last statement run on one shard.
	lastKey shardKey
	// lasts are the connections the session's last statements on other shards ran on,
	// released but tagged with the session: its next statement on such a shard reclaims its
	// own connection there (Session.last is the one of lastKey), as on an unsharded target.
	lasts   []lastConn
	scratch planner.Scratch
	argBuf  [][]byte
	valBuf  []vindex.Value
	// active are the connections running a statement on several shards, for KILL.
	active []activeConn
	// run is the COM_QUERY statement being run (shardedQuery's, reused).
	run stmtRun
	// out is the buffer of the merged results written to the client (reused).
	out []byte
}

type lastConn struct {
	key    shardKey
	conn   *tabletserver.Conn
	lease  uint64
	server *tabletserver.TabletServer
}

// useLast makes Session.last the session's last connection on shard k, if it has one: the
// one of its last statement (when that ran on k), else the one stashed for k, which does not
// hold the session's latest per-connection results (lastExact false). The previous
// Session.last is stashed for its own shard.
func (s *Session) useLast(k shardKey) {
	sh := &s.shard
	if s.last != nil && sh.lastKey == k {
		return
	}
	if s.last != nil && s.last != s.held {
		sh.stash(lastConn{key: sh.lastKey, conn: s.last, lease: s.lastLease, server: s.lastServer})
	}
	s.last, s.lastServer, s.lastExact = nil, nil, 0
	for i, l := range sh.lasts {
		if l.key == k {
			s.last, s.lastLease, s.lastServer = l.conn, l.lease, l.server
			sh.lasts = append(sh.lasts[:i], sh.lasts[i+1:]...)
			return
		}
	}
}

func (sh *shardSession) stash(l lastConn) {
	for i, x := range sh.lasts {
		if x.key == l.key {
			if x.conn != l.conn {
				x.conn.Untag(x.lease)
			}
			sh.lasts[i] = l
			return
		}
	}
	sh.lasts = append(sh.lasts, l)
}

// untagLasts lets the stashed connections go to any session.
func (sh *shardSession) untagLasts() {
	for _, l := range sh.lasts {
		l.conn.Untag(l.lease)
	}
	sh.lasts = nil
}

type activeConn struct {
	conn  *tabletserver.Conn
	lease uint64
}

// txMode is the session's transaction mode.
func (e *Executor) txMode(s *Session) string {
	if s.shard.mode != "" {
		return s.shard.mode
	}
	return e.sharded.txMode
}

// find returns the connection held for a key, or nil.
func (sh *shardSession) find(k shardKey) *heldConn {
	for _, h := range sh.conns {
		if h.key == k {
			return h
		}
	}
	return nil
}

func (sh *shardSession) remove(h *heldConn) {
	for i, x := range sh.conns {
		if x == h {
			sh.conns = append(sh.conns[:i], sh.conns[i+1:]...)
			return
		}
	}
}

// wroteElsewhere names a shard other than k that the transaction wrote on, or "".
func (sh *shardSession) wroteElsewhere(k shardKey) string {
	for _, h := range sh.conns {
		if h.wrote && h.key.order == orderMain && (h.key.ks != k.ks || h.key.shard != k.shard) {
			return h.key.String()
		}
	}
	return ""
}

// showHeld makes Session.held one of the held connections (the last), or nil.
func (s *Session) showHeld() {
	s.held, s.heldServer = nil, nil
	if n := len(s.shard.conns); n > 0 {
		h := s.shard.conns[n-1]
		s.held, s.heldServer = h.conn, h.server
	}
}

// singleModeError is transaction_mode single's refusal, as vtgate's (1317, the transaction
// rolled back).
func singleModeError(shard, other string) error {
	return &mysql.MyError{Code: mysql.ER_QUERY_INTERRUPTED, State: "70100", Message: fmt.Sprintf(
		"vtdirect: multi-db transaction attempted: transaction_mode is single and this statement writes to shard %s while the transaction wrote to %s; "+
			"the transaction was rolled back (SET transaction_mode = 'multi' allows it)", shard, other)}
}

// releaseAll lets every held connection of the session go: reset (its transaction rolled
// back) and given back, or closed.
func (e *Executor) releaseAll(s *Session) {
	for _, h := range s.shard.conns {
		e.releaseHeld(h)
	}
	s.shard.conns = nil
	s.held, s.heldServer = nil, nil
	s.shard.begin = ""
}

func (e *Executor) releaseHeld(h *heldConn) {
	c := h.conn
	if c.Killed() != nil {
		c.Close()
		return
	}
	c.SetTransaction(false)
	ctx, cancel := context.WithTimeout(context.Background(), resetTimeout)
	err := c.Reset(ctx)
	cancel()
	if err != nil {
		c.Close()
		return
	}
	c.Release(0)
}

// releaseIdle lets go of the held connections that hold no transaction (what a statement
// left there, diagnostics, is replaced by the next statement's), except keep.
func (e *Executor) releaseIdle(s *Session, keep *tabletserver.Conn) {
	if s.state.InTransaction() {
		return
	}
	var kept []*heldConn
	for _, h := range s.shard.conns {
		if h.conn == keep {
			kept = append(kept, h)
			continue
		}
		e.releaseHeld(h)
	}
	s.shard.conns = kept
	s.showHeld()
}

// endTransaction commits (or rolls back) every shard of the session's transaction, pre
// connections first and post ones last, and reports a commit that failed after others
// succeeded, naming them. The session is out of its transaction afterwards.
func (e *Executor) endTransaction(s *Session, commit bool) error {
	conns := append([]*heldConn(nil), s.shard.conns...)
	sortByOrder(conns)
	var committed []string
	var failure error
	stmt := "ROLLBACK AND NO CHAIN NO RELEASE" // whatever the session's completion_type
	if commit {
		stmt = "COMMIT AND NO CHAIN NO RELEASE"
	}
	for _, h := range conns {
		if failure != nil {
			e.releaseHeld(h) // rolled back by the reset
			continue
		}
		ctx, cancel := context.WithTimeout(s.ctx, resetTimeout)
		_, err := h.conn.Silent(ctx, stmt)
		cancel()
		if err != nil {
			h.conn.Close()
			if commit {
				failure = e.commitFailure(h.key, committed, err)
			}
			continue
		}
		if commit && h.wrote {
			committed = append(committed, h.key.String())
		}
		h.conn.SetTransaction(false)
		h.conn.Release(0)
	}
	s.shard.conns = nil
	s.held, s.heldServer = nil, nil
	s.shard.begin = ""
	s.forgetLast()
	st := s.state.Status() &^ mysql.SERVER_STATUS_IN_TRANS
	s.state.ApplyStatus(st)
	e.noteHolds(s, s.state.Holds())
	return failure
}

func sortByOrder(conns []*heldConn) {
	rank := func(o uint8) int {
		switch o {
		case orderPre:
			return 0
		case orderMain:
			return 1
		}
		return 2
	}
	for i := 1; i < len(conns); i++ {
		for j := i; j > 0 && rank(conns[j].key.order) < rank(conns[j-1].key.order); j-- {
			conns[j], conns[j-1] = conns[j-1], conns[j]
		}
	}
}

// commitFailure reports a commit that failed on one shard, naming those that committed.
func (e *Executor) commitFailure(k shardKey, committed []string, err error) error {
	code, state, msg := uint16(mysql.ER_ERROR_DURING_COMMIT), "HY000", err.Error()
	var me *mysql.MyError
	if errors.As(err, &me) {
		code, state, msg = me.Code, me.State, me.Message
	}
	done := "no shard had committed"
	if len(committed) > 0 {
		done = "shards " + strings.Join(committed, ", ") + " had committed"
	}
	this := ""
	if code == crServerLost {
		// The connection went during the COMMIT: the server may have applied it.
		this = fmt.Sprintf(" (whether shard %s committed is unknown: check it)", k)
	}
	return &mysql.MyError{Code: code, State: state, Message: fmt.Sprintf(
		"vtdirect: COMMIT failed on shard %s (%s); %s and keep their changes, the shards after it were rolled back%s", k, msg, done, this)}
}

// shardedClosed is the hook of ConnectionClosed: the session's shard connections go.
func (e *Executor) shardedClosed(s *Session) {
	s.shard.untagLasts()
	if len(s.shard.conns) == 0 {
		return
	}
	// Session.held is one of them; the executor must not reset it a second time.
	e.releaseAll(s)
}

// shardedReset is the hook of a session reset (COM_RESET_CONNECTION, COM_CHANGE_USER).
func (e *Executor) shardedReset(s *Session) {
	s.shard.untagLasts()
	if len(s.shard.conns) > 0 {
		e.releaseAll(s)
	}
	s.shard.mode, s.shard.warnings, s.shard.warningsValid = "", nil, false
}

// shardedKill is the hook of KILL: the queries a session runs on several shards are killed.
func (e *Executor) shardedKill(ctx context.Context, s *Session) {
	s.killMu.Lock()
	active := append([]activeConn(nil), s.shard.active...)
	s.killMu.Unlock()
	for _, a := range active {
		_ = a.conn.KillQueryOnLease(ctx, a.lease) // best effort, as for one connection
	}
}

func (s *Session) setShardActive(conns []activeConn) {
	s.killMu.Lock()
	s.shard.active = conns
	s.killMu.Unlock()
}

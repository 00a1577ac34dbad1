package router

import (
	"errors"
	"strings"

	"github.com/go-mysql-org/go-mysql/mysql"
	topodatapb "vitess.io/vitess/go/vt/proto/topodata"

	"github.com/vtdirect/vtdirect/mysqlserver"
	"github.com/vtdirect/vtdirect/session"
	"github.com/vtdirect/vtdirect/tabletserver"
)

// runFunc sends one command on a backend connection; req carries what the session adds.
type runFunc func(conn *tabletserver.Conn, req *tabletserver.Request) (tabletserver.Result, error)

// run executes one forwarded command in the session's name: on the connection the session
// holds, else on the one its last statement ran on (which has its per-connection results),
// else on a pooled connection with the session's settings, after the statements that restore
// the results the command reads. Then the session learns from the reply what changed, and
// keeps the connection or gives it back. With statusless, the reply (COM_STMT_PREPARE,
// COM_FIELD_LIST, COM_STATISTICS) is not a statement and says nothing of the session.
func (e *Executor) run(c *mysqlserver.Conn, s *Session, q *query, statusless bool, do runFunc) (tabletserver.Result, error) {
	if !q.readOnly && s.hasTarget && s.target.TabletType != topodatapb.TabletType_PRIMARY {
		return tabletserver.Result{}, errReadOnlyTarget(s.target)
	}
	if s.lost != "" {
		lost := s.lost
		s.lost = ""
		return tabletserver.Result{}, errUnavailable("%s was lost when its backend connection failed after the previous statement; "+
			"start again (this statement was not run)", lost)
	}
	plan := s.state.Plan(&q.sess)
	wasHeld := s.held != nil
	// failover buffer (router/buffer.go): a PRIMARY statement waits while its shard is
	// reparented; release tells the buffer the statement is done.
	conn, server, owns, bufRelease, err := e.bufferedConnFor(s, plan)
	if err != nil {
		if s.retrying {
			return tabletserver.Result{}, errRetryFailed
		}
		return tabletserver.Result{}, err
	}
	released := false
	release := func() {
		if !released {
			released = true
			bufRelease()
		}
	}
	defer release()
	if q.rowCount != "" && owns&session.NeedRowCount == 0 {
		// No statement can set ROW_COUNT() to a number of changed rows on another
		// connection: answer it as MariaDB would have.
		e.keepOrRelease(s, conn, server, conn.Lease(), owns&^session.NeedRowCount)
		n := s.state.Results().RowCount
		s.state.GatewayReply(1)
		return tabletserver.Result{}, c.WriteResult(rowCountResult(q.rowCount, n, s.state.Status()))
	}
	req := &s.req // reused: no allocation per command
	*req = tabletserver.Request{Filter: s.filter(), In: packetReader(c)}
	var restored, clobbered session.Needs
	if !statusless {
		req.Pre, restored, clobbered = s.state.RestoreFor(plan.Needs, owns)
	}
	switch {
	case !c.MultiStatements():
		// The server refuses a second statement, as on the client's own connection, even
		// where the classifier counted one (a backend connection a multi-statement client
		// used last may have them on).
		req.Multi = tabletserver.MultiOff
	case q.multi:
		req.Multi = tabletserver.MultiOn
	}
	lease := conn.Lease()
	s.setActive(conn)
	res, err := do(conn, req)
	s.setActive(nil)
	defer func() { c.SetStatus(s.state.Status()) }()
	if err != nil && !tabletserver.StatementOnly(err) {
		err = e.connFailed(s, conn, res, err)
		if s.retrying && !res.Forwarded {
			return res, errRetryFailed
		}
		var werr *tabletserver.ClientWriteError
		if !wasHeld && !res.Forwarded && !errors.As(err, &werr) {
			e.primaryLost(s) // failover buffer: hold the shard if its primary is gone
			if e.retryable(s, q, plan, statusless, err) {
				// A pooled connection the server had closed (a failover's fence, its
				// wait_timeout, a restart) failed the command before the client got a byte,
				// and the session's state was on no connection: run it once more on another,
				// as vttablet retries on a lost connection.
				release()
				s.retrying = true
				res2, err2 := e.run(c, s, q, statusless, do)
				s.retrying = false
				if !errors.Is(err2, errRetryFailed) {
					return res2, err2
				}
				// The tablet is gone indeed: the client gets the first failure.
			}
		}
		return res, err
	}
	// A command that is not a statement leaves the per-connection results where they were:
	// on this connection only if it had them already.
	exact := owns
	if !statusless {
		r := reply(&res, err)
		out := s.state.Apply(&q.sess, &r)
		exact = s.state.Exact(&q.sess, &r, owns&^clobbered, restored)
		if !e.follow(s, conn, out) {
			exact &= session.NeedLastInsertID // the gateway's own statements replaced the rest
		}
		if out.CloseClient {
			// The server closed the backend connection too: whoever takes it next resets it
			// first, which finds it closed and takes a fresh one.
			conn.MarkDirty()
			defer c.Close()
		}
	}
	if s.refreshSettings() {
		conn.MarkSettings(&s.settings)
		if n := s.settingsBytes(); !c.Retain(n) {
			// The connection's budget (--mysql-server-session-budget) holds the remembered
			// settings with the long data: a session past it ends.
			e.cfg.Logger.Warn("a session's settings exceed its connection's budget; closing the client connection",
				"conn", c.ID(), "user", c.User(), "bytes", n)
			defer c.Close()
		}
	}
	e.keepOrRelease(s, conn, server, lease, exact)
	e.noteHolds(s, s.state.Holds())
	e.setIdleTimeout(c, s)
	return res, err
}

// retryable reports a failed command that may run again on another connection: the session
// holds nothing (the caller checked it held no connection), this is not already the retry,
// and neither the session's end nor its KILL stopped it; and either the server never read the
// command (tabletserver.NotSent), or it is a provably read-only statement that keeps no
// connection, whose connection was lost (2013).
func (e *Executor) retryable(s *Session, q *query, plan session.Plan, statusless bool, err error) bool {
	if s.retrying || s.state.Holds() != 0 || s.ctx.Err() != nil {
		return false
	}
	if tabletserver.NotSent(err) {
		return true // the server never read it: whatever it is, it did not run
	}
	if statusless || !q.readOnly || plan.Hold {
		return false
	}
	me := asMyError(err)
	return me != nil && me.Code == crServerLost
}

// connFor gives the connection for the next command of a session: the held one, else the
// session's last one if nobody had it since, else a pooled one. owns says whether it has the
// session's per-connection results.
func (e *Executor) connFor(s *Session, plan session.Plan) (*tabletserver.Conn, *tabletserver.TabletServer, session.Needs, error) {
	if s.held != nil {
		if s.last != s.held {
			return s.held, s.heldServer, 0, nil
		}
		return s.held, s.heldServer, s.lastExact, nil
	}
	tab, err := e.pick(s)
	if err != nil {
		return nil, nil, 0, err
	}
	want := tabletserver.Want{Caps: s.caps, Settings: &s.settings, Hold: plan.Hold}
	if s.last != nil && s.lastServer == tab.Server {
		if conn, ok := tab.Server.Reclaim(s.ctx, s.last, s.lastLease, want); ok {
			return conn, tab.Server, s.lastExact, nil
		}
	}
	conn, err := tab.Server.Get(s.ctx, want)
	if err != nil {
		return nil, nil, 0, err
	}
	return conn, tab.Server, 0, nil
}

// reply turns what the forwarder saw into what the session needs. A statement stopped by the
// gateway (query timeout, KILL QUERY) counts as one that failed with that error.
func reply(res *tabletserver.Result, err error) session.Reply {
	r := session.Reply{
		Err: res.Err, Status: res.Status, StatusKnown: res.StatusKnown, SawInTrans: res.SawInTrans,
		Affected: res.Affected, InsertID: res.InsertID, Warnings: res.Warnings, LastInsertID: res.LastInsertID,
		ResultSet: res.ResultSet, LastRows: res.LastRows, StateChanged: res.StateChanged,
	}
	if err != nil {
		if me := asMyError(err); me != nil {
			r.Err, r.StatusKnown = me, false
		}
	}
	if len(res.Vars) > 0 {
		r.Vars = make([]session.Var, len(res.Vars))
		for i, v := range res.Vars {
			r.Vars[i] = session.Var{Name: v.Name, Value: v.Value}
		}
	}
	return r
}

// follow does what the session's outcome asks on the connection: learn the transaction state,
// put the gateway's session tracking back, read variables the statement set. It reports
// whether the connection still has exactly the per-connection results of the statement (the
// statements it sends itself replace them).
func (e *Executor) follow(s *Session, conn *tabletserver.Conn, out session.Outcome) bool {
	exact := true
	if out.Ping {
		if status, err := conn.Ping(s.ctx); err == nil {
			s.state.ApplyStatus(status)
		}
		// A failed ping leaves the session believing a transaction is open: the connection
		// stays with it, and the next statement learns more.
	}
	if out.Reassert {
		exact = false
		if err := conn.RestoreTracking(s.ctx); err != nil {
			e.cfg.Logger.Warn("could not restore session tracking on a backend connection; closing it", "err", err)
			conn.MarkDirty()
		}
	}
	if len(out.Read) > 0 {
		exact = false
		cols := make([]string, len(out.Read))
		for i, n := range out.Read {
			cols[i] = "@@session." + n
		}
		rows, err := conn.Silent(s.ctx, "SELECT "+strings.Join(cols, ", "))
		if err == nil && len(rows) == 1 && len(rows[0]) == len(out.Read) {
			for i, n := range out.Read {
				s.state.SetVar(n, rows[0][i])
			}
		}
	}
	return exact
}

// keepOrRelease keeps the connection with the session while its state needs it, else gives it
// back to the pool, tagged with the session so that its next statement can reclaim it.
func (e *Executor) keepOrRelease(s *Session, conn *tabletserver.Conn, server *tabletserver.TabletServer, lease uint64, exact session.Needs) {
	if s.last != nil && s.last != conn {
		s.last.Untag(s.lastLease)
	}
	s.last, s.lastLease, s.lastServer, s.lastExact = conn, lease, server, exact
	if s.state.Holds() != 0 {
		if s.held == nil {
			conn.Hold()
			s.held, s.heldServer = conn, server
		}
		conn.SetTransaction(s.state.InTransaction())
		return
	}
	if s.held != nil {
		s.held, s.heldServer = nil, nil
		conn.SetTransaction(false)
	}
	conn.Release(s.id)
}

// connFailed handles a connection that failed under a command: it is closed (a transaction it
// held is rolled back, rather than left to the next user) and the session loses what it held
// there; the client is told with this statement's error or, when it already has its whole
// reply, with the next one.
func (e *Executor) connFailed(s *Session, conn *tabletserver.Conn, res tabletserver.Result, err error) error {
	conn.Close()
	lost, inTx := "", false
	if s.held == conn {
		lost, inTx = s.lostState(), s.state.InTransaction()
		s.held, s.heldServer = nil, nil
		s.state.Lost()
		s.sqlPrepared = nil // its SQL prepared statements went with it
		s.hasXA = false     // and its XA branch: MariaDB rolls back one not prepared, and a prepared one is its user's record
		e.noteHolds(s, 0)
	}
	if s.last == conn {
		s.last, s.lastServer, s.lastExact = nil, nil, 0
	}
	var complete *tabletserver.ReplyCompleteError
	switch {
	case lost == "":
	case errors.As(err, &complete):
		s.lost = lost
	case !tabletserver.NotSent(err):
		// The statement reached the backend: it may have run (a COMMIT may have committed),
		// so its error says the outcome is unknown, never "rolled back, retry".
		if inTx {
			lost = "the open transaction (rolled back, unless this statement committed it)"
		}
		err = withSuffix(err, "; "+lost+" was lost with the backend connection")
	default:
		if rerr := e.reparentError(s); rerr != nil {
			err = rerr // failover buffer: the transaction died with a reparent, before this statement
		} else {
			err = withSuffix(err, "; "+lost+" was lost with the backend connection")
		}
	}
	return err
}

// packetReader is the client as the forwarder's source of LOAD DATA LOCAL INFILE packets,
// when the client's connection can give them.
func packetReader(c *mysqlserver.Conn) tabletserver.PacketReader {
	if pr, ok := any(c).(tabletserver.PacketReader); ok {
		return pr
	}
	return nil
}

func asMyError(err error) *mysql.MyError {
	var me *mysql.MyError
	if errors.As(err, &me) {
		return me
	}
	return nil
}

// errRetryFailed: the second run of a retried command found no connection either.
var errRetryFailed = errors.New("vtdirect: the retry of a command found no connection")

// crServerLost is CR_SERVER_LOST, "Lost connection to MySQL server during query".
const crServerLost = 2013

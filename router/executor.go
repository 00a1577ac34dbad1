package router

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"sync"

	"github.com/go-mysql-org/go-mysql/mysql"
	topodatapb "vitess.io/vitess/go/vt/proto/topodata"

	"github.com/vtdirect/vtdirect/discovery"
	"github.com/vtdirect/vtdirect/mysqlserver"
	"github.com/vtdirect/vtdirect/picker"
	"github.com/vtdirect/vtdirect/tabletserver"
)

// Registry is what the router reads of the tablet registry.
type Registry interface {
	Snapshot() *discovery.Snapshot
}

var _ Registry = (*discovery.Registry)(nil)

// Executor serves client sessions; it implements mysqlserver.Handler.
type Executor struct {
	cfg Config
	reg Registry
	// criteria are the compiled picker options for each tablet type a target may name.
	criteria map[topodatapb.TabletType]*picker.Criteria

	sessions sync.Map // connection id (uint32) -> *Session, for KILL
}

var _ mysqlserver.Handler = (*Executor)(nil)

// NewExecutor makes a router over a registry.
func NewExecutor(cfg Config, reg Registry) (*Executor, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	e := &Executor{cfg: cfg, reg: reg, criteria: map[topodatapb.TabletType]*picker.Criteria{}}
	for _, tt := range []topodatapb.TabletType{topodatapb.TabletType_PRIMARY, topodatapb.TabletType_REPLICA, topodatapb.TabletType_RDONLY} {
		c, err := picker.Compile(picker.Options{
			Cells:          cfg.Cells,
			LocalCell:      cfg.Cell,
			CellPreference: cfg.CellPreference,
			Types:          []topodatapb.TabletType{tt},
			MaxLag:         cfg.MaxLag,
		})
		if err != nil {
			return nil, fmt.Errorf("router: tablet choice for %s: %w", tt, err)
		}
		e.criteria[tt] = c
	}
	return e, nil
}

// NewConnection starts a session; the handshake's database becomes its target.
func (e *Executor) NewConnection(c *mysqlserver.Conn) error {
	s := &Session{conn: c, rnd: rand.Uint64() | 1, autocommit: true}
	if db := c.Database(); db != "" {
		if err := e.setTarget(s, db); err != nil {
			return err
		}
	}
	if stmt, ok := setNamesFor(c.Collation()); ok {
		s.settings, _ = s.withSetting([]byte(stmt))
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	c.Session = s
	e.sessions.Store(c.ID(), s)
	return nil
}

// KillAll kills the running query of every session, so that a shutdown closing the client
// connections need not wait for long queries to end by themselves.
func (e *Executor) KillAll(ctx context.Context) {
	var wg sync.WaitGroup
	e.sessions.Range(func(_, v any) bool {
		if conn, lease := v.(*Session).activeConn(); conn != nil {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_ = conn.KillQueryOnLease(ctx, lease) // best effort: the connection closes anyway
			}()
		}
		return true
	})
	wg.Wait()
}

// ConnectionClosed ends a session: an open transaction is rolled back by closing its
// backend connection.
func (e *Executor) ConnectionClosed(c *mysqlserver.Conn) {
	s, ok := c.Session.(*Session)
	if !ok {
		return
	}
	e.sessions.Delete(c.ID())
	s.cancel()
	if s.pinned != nil {
		s.pinned.Close()
		s.unpin()
	}
}

// ComInitDB changes the target, as USE does.
func (e *Executor) ComInitDB(c *mysqlserver.Conn, db string) error {
	return e.use(c, c.Session.(*Session), db)
}

// ComQuery routes one query.
func (e *Executor) ComQuery(c *mysqlserver.Conn, cmd *mysqlserver.Command) error {
	s := c.Session.(*Session)
	q := cmd.Payload()[1:]
	st := Classify(q)
	switch st.Kind {
	case KindUse:
		return e.use(c, s, st.Arg)
	case KindShowDatabases:
		return e.showDatabases(c, s.status())
	case KindConnectionID:
		return e.connectionID(c, st.Arg, s.status())
	case KindKill:
		return e.kill(c, s, st)
	case KindShowVitessShards:
		return c.WriteResult(vitessShardsTable(e.reg.Snapshot(), st.Arg).mysqlResult(s.status()))
	case KindShowVitessTablets:
		return c.WriteResult(vitessTabletsTable(e.reg.Snapshot(), st.Arg).mysqlResult(s.status()))
	case KindSetAutocommit:
		return e.setAutocommit(c, s, st.Arg)
	case KindSelectAutocommit:
		return e.selectAutocommit(c, s, st.Arg)
	case KindSetNextTx:
		return e.setNextTx(c, s, q, cmd)
	}
	if st.Kind == KindSet {
		return e.set(c, s, q, cmd)
	}
	res, err := e.run(c, s, st.Kind, false, func(conn *tabletserver.Conn) (tabletserver.Result, error) {
		return conn.Exec(s.ctx, cmd.Frame, c.RawWriter())
	})
	return e.finish(c, res, err)
}

// set runs a SET on a backend connection and, when it succeeds, remembers it for the
// session. The connection is marked with the new settings before it goes back to the pool,
// so that the next session to get it has them undone.
func (e *Executor) set(c *mysqlserver.Conn, s *Session, q []byte, cmd *mysqlserver.Command) error {
	next, err := s.withSetting(q)
	if err != nil {
		return c.WriteError(err)
	}
	res, err := e.run(c, s, KindSet, false, func(conn *tabletserver.Conn) (tabletserver.Result, error) {
		r, err := conn.Exec(s.ctx, cmd.Frame, c.RawWriter())
		if err == nil && r.Err == nil {
			conn.MarkSettings(&next)
		}
		return r, err
	})
	if err == nil && res.Err == nil {
		s.settings = next
	}
	return e.finish(c, res, err)
}

// ComFieldList forwards the deprecated COM_FIELD_LIST.
func (e *Executor) ComFieldList(c *mysqlserver.Conn, cmd *mysqlserver.Command) error {
	s := c.Session.(*Session)
	res, err := e.run(c, s, KindSelect, true, func(conn *tabletserver.Conn) (tabletserver.Result, error) {
		return conn.Exec(s.ctx, cmd.Frame, c.RawWriter())
	})
	return e.finish(c, res, err)
}

// ComStatistics forwards COM_STATISTICS to the target's tablet: its uptime and counters.
func (e *Executor) ComStatistics(c *mysqlserver.Conn, cmd *mysqlserver.Command) error {
	return e.ComFieldList(c, cmd)
}

// ComStmtPrepare prepares on a backend connection of the target's tablet, which answers the
// client with the gateway's statement id. Other connections prepare it when they first need it.
func (e *Executor) ComStmtPrepare(c *mysqlserver.Conn, st *mysqlserver.Stmt) error {
	s := c.Session.(*Session)
	kind := Classify([]byte(st.Query)).Kind
	res, err := e.run(c, s, KindSelect, true, func(conn *tabletserver.Conn) (tabletserver.Result, error) {
		params, cols, r, err := conn.Prepare(s.ctx, st.Query, st.ID, c.RawWriter())
		st.ParamCount, st.ColumnCount = uint16(params), uint16(cols)
		return r, err
	})
	if err == nil && res.Err == nil {
		st.Session = kind
	} else {
		st.Failed = true
	}
	return e.finish(c, res, err)
}

// ComStmtExecute executes a prepared statement with the normalised payload mysqlserver built.
func (e *Executor) ComStmtExecute(c *mysqlserver.Conn, st *mysqlserver.Stmt, cmd *mysqlserver.Command) error {
	s := c.Session.(*Session)
	kind, _ := st.Session.(Kind)
	if kind == KindSet || kind == KindSetNoRecord || kind == KindSetAutocommit || kind == KindSetNextTx {
		kind = KindStateful // a prepared SET: the gateway cannot follow it, the session keeps the connection
	}
	res, err := e.run(c, s, kind, false, func(conn *tabletserver.Conn) (tabletserver.Result, error) {
		return conn.ExecStmt(s.ctx, st.Query, cmd.Payload(), c.RawWriter())
	})
	return e.finish(c, res, err)
}

// ComStmtClose has nothing to do: backend connections keep their prepared copies cached
// for the next client that prepares the same query.
func (e *Executor) ComStmtClose(*mysqlserver.Conn, *mysqlserver.Stmt) {}

// ComResetConnection gives the session a fresh state: an open transaction is rolled back
// and the remembered SET statements are forgotten; the target stays, as the database does
// in MySQL.
func (e *Executor) ComResetConnection(c *mysqlserver.Conn) error {
	s := c.Session.(*Session)
	if s.pinned != nil {
		s.pinned.Close()
		s.unpin()
	}
	s.autocommit, s.nextTx = true, ""
	s.settings = tabletserver.Settings{}
	if stmt, ok := setNamesFor(c.Collation()); ok {
		s.settings, _ = s.withSetting([]byte(stmt))
	}
	c.SetStatus(s.status())
	return c.WriteOK(0, 0, s.status(), 0)
}

// run executes one forwarded command on the pinned connection, or on a connection of the
// tablet the target and statement kind lead to, and keeps or releases the connection
// according to the transaction state the backend reports. With statusless, the reply's
// status (COM_STMT_PREPARE, COM_FIELD_LIST, COM_STATISTICS) says nothing of the session.
func (e *Executor) run(c *mysqlserver.Conn, s *Session, kind Kind, statusless bool, do func(*tabletserver.Conn) (tabletserver.Result, error)) (tabletserver.Result, error) {
	if kind == KindWrite && s.hasTarget && s.target.TabletType != topodatapb.TabletType_PRIMARY {
		return tabletserver.Result{}, errReadOnlyTarget(s.target)
	}
	if s.lost != "" {
		lost := s.lost
		s.lost = ""
		return tabletserver.Result{}, errUnavailable("%s was lost when its backend connection failed after the previous statement; "+
			"start again (this statement was not run)", lost)
	}
	conn, fresh := s.pinned, false
	release := noRelease // failover buffer
	if conn == nil {
		var err error
		// failover buffer (router/buffer.go): a PRIMARY statement waits while its shard is
		// reparented; release tells the buffer the statement is done.
		if conn, release, err = e.bufferedConnFor(s, kind); err != nil {
			return tabletserver.Result{}, err
		}
		fresh = true
	}
	defer release() // failover buffer
	if implicitBegin(s, kind) {
		// Autocommit is off and no transaction is open: this statement starts one, on the
		// connection the session holds or has just taken.
		if err := beginOn(s, conn, true); err != nil {
			if fresh {
				conn.Close()
			}
			return tabletserver.Result{}, err
		}
		if fresh {
			s.pinned = conn
		}
		s.inTx = true
	}
	s.setActive(conn)
	res, err := do(conn)
	s.setActive(nil)
	defer func() { c.SetStatus(s.status()) }()
	if err != nil {
		if tabletserver.StatementOnly(err) {
			// A timeout or a KILL QUERY ended the statement only: as in MySQL, the
			// transaction and the session's connection stay.
			if s.pinned == nil && !s.reserved {
				conn.Recycle()
			} else {
				s.pinned = conn
			}
			return res, err
		}
		// The connection failed: close it, so that a transaction it held is rolled back
		// rather than left to the next user, and say so.
		conn.Close()
		lost := s.lostState()
		s.unpin()
		var complete *tabletserver.ReplyCompleteError
		switch {
		case lost == "":
		case errors.As(err, &complete):
			// The client has its whole reply: tell it with the next statement.
			s.lost = lost
		default:
			if rerr := e.reparentError(s); rerr != nil {
				err = rerr // failover buffer: the transaction died with a reparent
			} else {
				err = withSuffix(err, "; "+lost+" was lost with the backend connection")
			}
		}
		if fresh && lost == "" && !res.Forwarded {
			e.primaryLost(s) // failover buffer: hold the shard if its primary is gone
		}
		return res, err
	}
	if kind == KindStateful {
		s.reserved = true
	}
	if res.Err != nil || statusless || !res.StatusKnown {
		// An ERR reply carries no status: the transaction state is what it was.
		if s.pinned == nil && !s.reserved {
			conn.Recycle()
		} else {
			s.pinned = conn
		}
		return res, nil
	}
	s.inTx = res.Status&mysql.SERVER_STATUS_IN_TRANS != 0
	if s.inTx || s.reserved || res.Status&mysql.SERVER_STATUS_AUTOCOMMIT == 0 {
		s.pinned = conn
	} else {
		conn.Recycle()
		s.pinned = nil
	}
	return res, nil
}

// connFor takes a backend connection for a statement of a session that holds none. A
// transaction (BEGIN, or the first statement while autocommit is off) takes one from the
// reserved pool, whose timeout rolls back what a client abandons; a BEGIN first gets the
// session's pending SET TRANSACTION.
func (e *Executor) connFor(s *Session, kind Kind) (*tabletserver.Conn, error) {
	t, err := e.pick(s)
	if err != nil {
		return nil, err
	}
	if kind != KindBegin && !implicitBegin(s, kind) {
		return t.Server.Get(s.ctx, &s.settings)
	}
	conn, err := t.Server.Reserve(s.ctx, &s.settings)
	if err != nil {
		return nil, err
	}
	if kind == KindBegin {
		if err := beginOn(s, conn, false); err != nil {
			conn.Close()
			return nil, err
		}
	}
	return conn, nil
}

// implicitBegin reports whether a statement must start a transaction first: autocommit is
// off, none is open, and the statement is one that MySQL would run inside one.
func implicitBegin(s *Session, kind Kind) bool {
	return !s.autocommit && !s.inTx && (kind == KindSelect || kind == KindWrite || kind == KindOther || kind == KindStateful)
}

// beginOn runs the session's pending SET TRANSACTION on conn and, with begin, a BEGIN.
func beginOn(s *Session, conn *tabletserver.Conn, begin bool) error {
	if s.nextTx != "" {
		q := s.nextTx
		s.nextTx = ""
		if err := execSilently(s.ctx, conn, q); err != nil {
			return err
		}
	}
	if begin {
		return execSilently(s.ctx, conn, "BEGIN")
	}
	return nil
}

// execSilently runs a statement the client did not send, discarding its reply; an ERR reply
// is returned as the error.
func execSilently(ctx context.Context, conn *tabletserver.Conn, q string) error {
	res, err := conn.Exec(ctx, queryFrame([]byte(q)), io.Discard)
	if err != nil {
		return err
	}
	if res.Err != nil {
		return res.Err
	}
	return nil
}

// queryFrame is a COM_QUERY packet (sequence 0) for a statement the gateway sends itself;
// the statement must be shorter than 16 MiB.
func queryFrame(q []byte) []byte {
	n := len(q) + 1
	frame := make([]byte, 5, 4+n)
	frame[0], frame[1], frame[2], frame[4] = byte(n), byte(n>>8), byte(n>>16), mysql.COM_QUERY
	return append(frame, q...)
}

// setAutocommit keeps autocommit as session state: the backend connections always run with
// autocommit on, and a session with it off gets an implicit BEGIN before its first statement
// (as vtgate does). Turning it back on commits the open transaction, as in MySQL.
func (e *Executor) setAutocommit(c *mysqlserver.Conn, s *Session, value string) error {
	switch value {
	case "0":
		s.autocommit = false
	case "1":
		if !s.autocommit && s.pinned != nil && s.inTx {
			err := execSilently(s.ctx, s.pinned, "COMMIT")
			if err != nil {
				if !tabletserver.StatementOnly(err) {
					s.pinned.Close()
					s.unpin()
				}
				return c.WriteError(err)
			}
			s.inTx = false
			if !s.reserved {
				s.pinned.Recycle()
				s.pinned = nil
			}
		}
		s.autocommit = true
	default:
		return c.WriteError(&mysql.MyError{Code: mysql.ER_NOT_SUPPORTED_YET, State: "42000",
			Message: "vtdirect: set autocommit in a SET statement of its own (SET autocommit = 0 or 1)"})
	}
	c.SetStatus(s.status())
	return c.WriteOK(0, 0, s.status(), 0)
}

// setNextTx keeps SET TRANSACTION for the session's next transaction, which may start on
// another backend connection; inside a transaction it goes to the backend, which refuses it
// as MySQL does.
func (e *Executor) setNextTx(c *mysqlserver.Conn, s *Session, q []byte, cmd *mysqlserver.Command) error {
	if s.pinned != nil {
		res, err := e.run(c, s, KindOther, false, func(conn *tabletserver.Conn) (tabletserver.Result, error) {
			return conn.Exec(s.ctx, cmd.Frame, c.RawWriter())
		})
		return e.finish(c, res, err)
	}
	s.nextTx = strings.TrimSpace(strings.TrimRight(string(q), "; \t\r\n"))
	return c.WriteOK(0, 0, s.status(), 0)
}

// finish writes a gateway-side error after whatever part of the reply was forwarded.
func (e *Executor) finish(c *mysqlserver.Conn, res tabletserver.Result, err error) error {
	if err == nil {
		return nil
	}
	var werr *tabletserver.ClientWriteError
	if errors.As(err, &werr) {
		return err // the client is gone
	}
	var complete *tabletserver.ReplyCompleteError
	if errors.As(err, &complete) {
		return nil // the client has its whole reply; the backend connection is closed
	}
	if res.Forwarded {
		c.SetSequence(res.NextSeq)
	}
	return c.WriteError(err)
}

// pick chooses the tablet for the session's target.
func (e *Executor) pick(s *Session) (*discovery.Tablet, error) {
	snap := e.reg.Snapshot()
	t := s.target
	if !s.hasTarget {
		// Without a database, a gateway over a single keyspace serves it (as vtgate does);
		// with several, the statement goes to the first keyspace's primary, which is right
		// for statements that name no table (SELECT @@version) and says "No database
		// selected" for those that do.
		if len(snap.Keyspaces) == 0 {
			return nil, errUnavailable("no keyspace is served yet; check the topo with `vtdirect topo show`")
		}
		t = Target{Keyspace: snap.Keyspaces[0], TabletType: topodatapb.TabletType_PRIMARY}
	}
	sh, err := resolveShard(snap, t)
	if err != nil {
		return nil, err
	}
	crit := e.criteria[t.TabletType]
	info, err := picker.Pick(snap.Picker, sh.Keyspace, sh.Name, crit, s)
	if err != nil {
		if e.cfg.PickerMetrics != nil {
			e.cfg.PickerMetrics.Miss(sh.Keyspace, sh.Name, crit)
		}
		return nil, err
	}
	tab := snap.Tablet(picker.AliasOf(info.Tablet.GetAlias()))
	if tab == nil {
		return nil, errUnavailable("tablet %s was picked but is gone; retry", topoproto(info))
	}
	return tab, nil
}

func topoproto(info *picker.TabletInfo) string {
	return picker.AliasOf(info.Tablet.GetAlias()).String()
}

func (e *Executor) setTarget(s *Session, db string) error {
	t, err := ParseTarget(db)
	if err != nil {
		return err
	}
	if !e.reg.Snapshot().HasKeyspace(t.Keyspace) {
		return errUnknownDatabase(db)
	}
	s.target, s.hasTarget = t, true
	return nil
}

func (e *Executor) use(c *mysqlserver.Conn, s *Session, db string) error {
	if s.pinned != nil {
		t, err := ParseTarget(db)
		if err == nil && s.hasTarget && t == s.target {
			return c.WriteOK(0, 0, s.status(), 0) // the same target: nothing moves
		}
		if s.inTx {
			return c.WriteError(errInTransaction("change the target"))
		}
		return c.WriteError(&mysql.MyError{Code: mysql.ER_CANT_CHANGE_TX_CHARACTERISTICS, State: "25001", Message: "vtdirect: " +
			"cannot change the target while the session holds connection state (temporary tables, locks, user variables); reconnect to use another target"})
	}
	if err := e.setTarget(s, db); err != nil {
		return c.WriteError(err)
	}
	return c.WriteOK(0, 0, s.status(), 0)
}

func (e *Executor) kill(c *mysqlserver.Conn, s *Session, st Statement) error {
	v, ok := e.sessions.Load(uint32(st.KillID))
	if !ok {
		return c.WriteError(mysql.NewError(mysql.ER_NO_SUCH_THREAD, fmt.Sprintf("Unknown thread id: %d", st.KillID)))
	}
	victim := v.(*Session)
	if victim.conn.User() != c.User() {
		return c.WriteError(mysql.NewError(mysql.ER_KILL_DENIED_ERROR, fmt.Sprintf("You are not owner of thread %d", st.KillID)))
	}
	if conn, lease := victim.activeConn(); conn != nil {
		if err := conn.KillQueryOnLease(s.ctx, lease); err != nil {
			return c.WriteError(errUnavailable("could not kill the query of connection %d: %v", st.KillID, err))
		}
	}
	if !st.KillQuery {
		victim.conn.Close()
		if victim == s {
			return errors.New("connection killed by its own KILL")
		}
	}
	return c.WriteOK(0, 0, s.status(), 0)
}

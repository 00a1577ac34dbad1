package router

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-mysql-org/go-mysql/mysql"
	topodatapb "vitess.io/vitess/go/vt/proto/topodata"
	"vitess.io/vitess/go/vt/sqlparser"

	"github.com/vtdirect/vtdirect/acl"
	"github.com/vtdirect/vtdirect/classify"
	"github.com/vtdirect/vtdirect/discovery"
	"github.com/vtdirect/vtdirect/mysqlserver"
	"github.com/vtdirect/vtdirect/picker"
	"github.com/vtdirect/vtdirect/session"
	"github.com/vtdirect/vtdirect/tabletserver"
)

// resetTimeout bounds the COM_RESET_CONNECTION of a connection a session lets go.
const resetTimeout = 5 * time.Second

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
	nextID   atomic.Uint64

	// reservations counts, per hold reason (bit index of session.Hold), the times a session
	// started keeping its connection for it; holding counts the sessions keeping one now.
	reservations [16]atomic.Uint64
	holding      atomic.Int64

	// sharded plans and runs the statements of sharded keyspaces (sharded.go).
	sharded *shardedExec
	// parser is the planner's, shared: it also proves statements may go in their schema
	// switch's write (pipeline.go).
	parser *sqlparser.Parser

	// policy is the access rules in force (SetPolicy); dbIndex caches which keyspace each
	// tablet database belongs to, for the snapshot it was built from.
	policy  atomic.Pointer[acl.Policy]
	dbIndex atomic.Pointer[dbIndex]
	denials [numDenied]atomic.Uint64 // statements the access rules refused, by kind

	// xaOwners are the XA branches prepared through the gateway, with their users (xa.go).
	xaOwners xaOwners

	pickerSetHolder // per-keyspace and reloaded picker settings (criteria.go) [schemas branch]
}

// Stats are the router's counters, for metrics.
type Stats struct {
	Reservations map[string]uint64
	Holding      int64
	// XAPrepared is the prepared XA branches remembered with their users (xa.go).
	XAPrepared int
}

// Stats returns the counters.
func (e *Executor) Stats() Stats {
	st := Stats{Reservations: map[string]uint64{}, Holding: e.holding.Load(), XAPrepared: e.xaOwners.count()}
	for i := range e.reservations {
		if n := e.reservations[i].Load(); n > 0 {
			st.Reservations[session.Hold(1<<i).String()] = n
		}
	}
	return st
}

// noteHolds counts the reasons the session newly keeps its connection for (after each
// statement, reset or end of the session).
func (e *Executor) noteHolds(s *Session, now session.Hold) {
	e.countHolds(s.counted, now)
	s.counted = now
}

func (e *Executor) countHolds(before, after session.Hold) {
	if added := after &^ before; added != 0 {
		for i := range e.reservations {
			if added&(1<<i) != 0 {
				e.reservations[i].Add(1)
			}
		}
	}
	switch {
	case before == 0 && after != 0:
		e.holding.Add(1)
	case before != 0 && after == 0:
		e.holding.Add(-1)
	}
}

var _ mysqlserver.Handler = (*Executor)(nil)

// NewExecutor makes a router over a registry.
func NewExecutor(cfg Config, reg Registry) (*Executor, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	e := &Executor{cfg: cfg, reg: reg, criteria: map[topodatapb.TabletType]*picker.Criteria{}}
	e.SetPolicy(cfg.Access)
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
	// sharded keyspaces (sharded.go)
	sx, err := newShardedExec(cfg)
	if err != nil {
		return nil, err
	}
	e.sharded = sx
	e.parser = sx.planner.Parser()
	return e, nil
}

// defaults is the base state of backend connections, as the tablets' probes found it.
func (e *Executor) defaults() session.Defaults {
	d := session.Defaults{Autocommit: true, Sequence: true,
		Track: session.TrackPrefs{SystemVariables: "autocommit,character_set_client,character_set_connection,character_set_results,time_zone", Schema: true}}
	if info, ok := e.anyInfo(); ok {
		d.Autocommit = info.Autocommit
		d.Track = session.TrackPrefs{SystemVariables: info.TrackSystemVariables, Schema: info.TrackSchema, StateChange: info.TrackStateChange}
		d.Sequence = info.Sequence
	}
	return d
}

// NewConnection starts a session; the handshake's database becomes its target.
func (e *Executor) NewConnection(c *mysqlserver.Conn) error {
	s := &Session{conn: c, rnd: rand.Uint64() | 1, id: e.nextID.Add(1), userName: c.User(), host: clientHost(c)}
	s.setUser(c.User())
	if db := c.Database(); db != "" {
		if err := e.setTarget(s, db); err != nil {
			return err
		}
	}
	s.state = session.New(e.defaults())
	s.ex = e // lexOptions reads the target's server's global sql_mode through it
	s.caps = c.Capabilities() & tabletserver.FormatCaps
	s.initial = e.handshakeSettings(c.Collation())
	s.state.SetInitial(s.initial)
	s.refreshSettings()
	s.ctx, s.cancel = context.WithCancel(context.Background())
	c.Session = s
	c.SetStatus(s.state.Status())
	e.setIdleTimeout(c, s)
	e.sessions.Store(c.ID(), s)
	return nil
}

// handshakeSettings are the settings a client's handshake collation gives a session: what
// MariaDB does with it (character_set_client, character_set_results and collation_connection
// from the collation), set by id; none when it is the backend connections' own, or an id the
// servers do not know (MariaDB then uses its default, as the backend connection does).
func (e *Executor) handshakeSettings(collation uint16) session.Settings {
	var set session.Settings
	if collation == 0 {
		return set
	}
	info, ok := e.anyInfo()
	if !ok {
		// Before any probe: by id, which MariaDB takes for the collation (not for the
		// character sets of a collation that is not its set's default).
		id := strconv.Itoa(int(collation))
		set = set.With("character_set_client", id)
		set = set.With("character_set_results", id)
		return set.With("collation_connection", id)
	}
	coll, known := info.Collations[collation]
	if collation == info.DefaultCollation || !known {
		return set
	}
	set = set.With("character_set_client", coll.Charset)
	set = set.With("character_set_results", coll.Charset)
	return set.With("collation_connection", coll.Name)
}

// KillAll kills the running query of every session, so that a shutdown closing the client
// connections need not wait for long queries to end by themselves.
func (e *Executor) KillAll(ctx context.Context) {
	var wg sync.WaitGroup
	e.sessions.Range(func(_, v any) bool {
		e.shardedKill(ctx, v.(*Session)) // statements on several shards (sharded_session.go)
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

// ConnectionClosed ends a session: its held connection is reset (rolling back a transaction,
// dropping its state) and given back, or closed.
func (e *Executor) ConnectionClosed(c *mysqlserver.Conn) {
	s, ok := c.Session.(*Session)
	if !ok {
		return
	}
	e.sessions.Delete(c.ID())
	s.cancel()
	e.shardedClosed(s) // sharded keyspaces: the shards' connections (sharded_session.go)
	s.dropHeld()
	s.forgetLast()
	e.noteHolds(s, 0)
}

// ComInitDB changes the target, as USE does.
func (e *Executor) ComInitDB(c *mysqlserver.Conn, db string) error {
	return e.use(c, c.Session.(*Session), db)
}

// ComQuery routes one query.
func (e *Executor) ComQuery(c *mysqlserver.Conn, cmd *mysqlserver.Command) error {
	s := c.Session.(*Session)
	text := cmd.Payload()[1:]
	// information_schema of the user's keyspaces only (infoschema.go)
	if lim, err := e.limitInfoSchema(s, text, s.lexOptions, false); err != nil {
		return c.WriteError(err)
	} else if len(lim) != len(text) {
		if cmd, err = queryCommand(lim); err != nil {
			return c.WriteError(err)
		}
		text = lim
	}
	q := e.analyze(s, text)
	// access control (router/access.go): every statement of the query, before it goes
	if err := e.authorize(s, text, &q.parsed, q.opt, false); err != nil {
		return c.WriteError(err)
	}
	xa := q.parsed.Flags.Has(classify.XA)
	if xaRelevant(&q.parsed) {
		if err := e.checkXA(s, text, &q.parsed, q.opt); err != nil { // XA ownership (xa.go)
			return c.WriteError(err)
		}
	}
	prepares := prepareOps(text, &q) // SQL PREPARE names, bounded per session (sqlprepare.go)
	if err := checkSQLPrepares(c.MaxPreparedStmts(), s.sqlPrepared, prepares); err != nil {
		return c.WriteError(err)
	}
	forward := func() error {
		s.startCommand("Query", text)
		defer s.endCommand()
		res, err := e.run(c, s, &q, false, func(conn *tabletserver.Conn, req *tabletserver.Request) (tabletserver.Result, error) {
			req.Frame = cmd.Frame
			if conn.SwitchPending() {
				// Only a statement that cannot reach another database goes in the switch's
				// write (tabletserver/schema.go): the scan, and the parse of a query with qualified
				// names (pipeline.go), run on a switch only.
				req.Pipeline = currentDatabaseOnly(e.parser, text, &q.parsed, q.opt)
			}
			return conn.Exec(s.ctx, req, c.RawWriter())
		})
		if xa {
			e.xaDone(s, text, &q.parsed, q.opt, res, err)
		}
		noteSQLPrepares(s, prepares, q.multi, res, err)
		return e.finish(c, s, res, err)
	}
	switch q.answer {
	case answerUse:
		return e.use(c, s, q.arg)
	case answerShowDatabases:
		r := databasesTable(e.reg.Snapshot(), e.keyspaceFilter(s))
		return e.answer(c, s, e.showDatabases(r, s.state.Status()), int64(len(r.rows)))
	case answerConnectionID:
		return e.answer(c, s, connectionIDResult(c, q.arg, s.state.Status()), 1)
	case answerKill:
		return e.kill(c, s, q.kill, forward)
	case answerShowProcesslist:
		return e.showProcesslist(c, s, q.full, text)
	case answerShowVitessShards:
		r := vitessShardsTable(e.reg.Snapshot(), q.arg, e.keyspaceFilter(s))
		return e.answer(c, s, r.mysqlResult(s.state.Status()), int64(len(r.rows)))
	case answerShowVitessTablets:
		r := vitessTabletsTable(e.reg.Snapshot(), q.arg, e.keyspaceFilter(s))
		return e.answer(c, s, r.mysqlResult(s.state.Status()), int64(len(r.rows)))
	case answerRefuse:
		return c.WriteError(&mysql.MyError{Code: mysql.ER_NOT_SUPPORTED_YET, State: "42000", Message: "vtdirect: " + q.arg})
	}
	// sharded keyspaces, and SHOW VSCHEMA (sharded.go)
	if handled, err := e.shardedHook(c, s, cmd, &q); handled {
		return err
	}
	return forward()
}

// answer writes a result the gateway made itself, which the session records as a statement.
func (e *Executor) answer(c *mysqlserver.Conn, s *Session, r *mysqlserver.Result, rows int64) error {
	s.state.GatewayReply(rows)
	s.lastExact &^= session.NeedRowCount | session.NeedFoundRows // the gateway answered: they are this statement's
	return c.WriteResult(r)
}

// ComFieldList forwards the deprecated COM_FIELD_LIST.
func (e *Executor) ComFieldList(c *mysqlserver.Conn, cmd *mysqlserver.Command) error {
	s := c.Session.(*Session)
	if cmd.Payload()[0] == mysql.COM_FIELD_LIST {
		// access control: the table's columns are read
		text := fieldListQuery(cmd.Payload()[1:])
		fq := e.analyze(s, text)
		if err := e.authorize(s, text, &fq.parsed, fq.opt, false); err != nil {
			return c.WriteError(err)
		}
	}
	if e.shardedTarget(s) { // sharded keyspaces: the first shard answers (sharded.go)
		return e.shardedFieldList(c, s, cmd)
	}
	q := query{readOnly: true}
	res, err := e.run(c, s, &q, true, func(conn *tabletserver.Conn, req *tabletserver.Request) (tabletserver.Result, error) {
		req.Frame = cmd.Frame
		req.Pipeline = true // it reads a table of the current database, or the server's counters
		return conn.Exec(s.ctx, req, c.RawWriter())
	})
	return e.finish(c, s, res, err)
}

// ComStatistics forwards COM_STATISTICS to the target's tablet: its uptime and counters.
func (e *Executor) ComStatistics(c *mysqlserver.Conn, cmd *mysqlserver.Command) error {
	return e.ComFieldList(c, cmd)
}

// ComStmtPrepare prepares on a backend connection of the target's tablet, which answers the
// client with the gateway's statement id. Other connections prepare it when they first need it.
func (e *Executor) ComStmtPrepare(c *mysqlserver.Conn, st *mysqlserver.Stmt) error {
	s := c.Session.(*Session)
	if lim, err := e.limitInfoSchema(s, []byte(st.Query), s.lexOptions, true); err != nil { // infoschema.go
		st.Failed = true
		return c.WriteError(err)
	} else if len(lim) != len(st.Query) {
		st.Query = string(lim)
	}
	text := e.analyze(s, []byte(st.Query))
	// access control: the prepared text, which COM_STMT_EXECUTE runs (checked again there)
	if err := e.authorize(s, []byte(st.Query), &text.parsed, text.opt, true); err != nil {
		st.Failed = true
		return c.WriteError(err)
	}
	if err := e.checkXAPrepare(s, []byte(st.Query), &text.parsed, text.opt); err != nil {
		st.Failed = true
		return c.WriteError(err)
	}
	if text.answer == answerUse || text.answer == answerRefuse {
		// The gateway keeps the session's database: a prepared USE would change one
		// backend connection's behind its back.
		st.Failed = true
		msg := text.arg
		if text.answer == answerUse {
			msg = errPreparedUse
		}
		return c.WriteError(&mysql.MyError{Code: mysql.ER_NOT_SUPPORTED_YET, State: "42000", Message: "vtdirect: " + msg})
	}
	if e.shardedTarget(s) { // sharded keyspaces (sharded_prepare.go)
		return e.shardedPrepare(c, s, st)
	}
	s.startCommand("Prepare", []byte(st.Query))
	defer s.endCommand()
	q := query{readOnly: true}
	res, err := e.run(c, s, &q, true, func(conn *tabletserver.Conn, _ *tabletserver.Request) (tabletserver.Result, error) {
		params, cols, r, err := conn.Prepare(s.ctx, st.Query, st.ID, c.RawWriter())
		st.ParamCount, st.ColumnCount = uint16(params), uint16(cols)
		return r, err
	})
	if err == nil && res.Err == nil {
		st.Session = &text
	} else {
		st.Failed = true
	}
	return e.finish(c, s, res, err)
}

// ComStmtExecute executes a prepared statement with the normalised payload mysqlserver built.
func (e *Executor) ComStmtExecute(c *mysqlserver.Conn, st *mysqlserver.Stmt, cmd *mysqlserver.Command) error {
	s := c.Session.(*Session)
	ss, sharded := st.Session.(*shardedStmt)
	q, _ := st.Session.(*query)
	switch {
	case sharded:
		q = &ss.q
	case q == nil:
		q = &query{}
	}
	// access control: the target, the rules or the lexing options may have changed since the
	// prepare
	if err := e.authorizeStmt(s, st, q); err != nil {
		return c.WriteError(err)
	}
	if sharded { // sharded keyspaces (sharded_prepare.go)
		return e.shardedExecute(c, s, st, cmd, ss)
	}
	var prepares []prepareOp // SQL PREPAREs of a compound statement's body (sqlprepare.go)
	if q.parsed.Flags.Has(classify.SQLPrepare) {
		prepares = prepareOps([]byte(st.Query), q) // (no copy of the text for other executions)
	}
	if err := checkSQLPrepares(c.MaxPreparedStmts(), s.sqlPrepared, prepares); err != nil {
		return c.WriteError(err)
	}
	s.startCommand("Execute", []byte(st.Query))
	defer s.endCommand()
	var long [][]byte
	if st.HasLongData() {
		long = make([][]byte, st.ParamCount)
		for i := range long {
			long[i] = st.LongData(i)
		}
	}
	res, err := e.run(c, s, q, false, func(conn *tabletserver.Conn, req *tabletserver.Request) (tabletserver.Result, error) {
		if conn.SwitchPending() { // as for a COM_QUERY (ComQuery)
			req.Pipeline = currentDatabaseOnly(e.parser, []byte(st.Query), &q.parsed, q.opt)
		}
		return conn.ExecStmt(s.ctx, st.Query, cmd.Payload(), long, req, c.RawWriter())
	})
	noteSQLPrepares(s, prepares, q.multi, res, err)
	return e.finish(c, s, res, err)
}

// ComStmtClose has nothing to do: backend connections keep their prepared copies cached
// for the next client that prepares the same query.
func (e *Executor) ComStmtClose(*mysqlserver.Conn, *mysqlserver.Stmt) {}

// ComResetConnection gives the session a fresh state, as MariaDB does: the held connection is
// reset (its transaction rolled back, its state dropped) and given back; the settings are the
// handshake's again; the target stays, as the database does in MySQL.
func (e *Executor) ComResetConnection(c *mysqlserver.Conn) error {
	s := c.Session.(*Session)
	e.resetSession(s)
	e.setIdleTimeout(c, s)
	c.SetStatus(s.state.Status())
	return c.WriteOK(0, 0, s.state.Status(), 0)
}

// ComChangeUser gives the session a fresh state after COM_CHANGE_USER, as MariaDB does (even
// when the new user was refused): the held connection reset, the settings those of the new
// handshake collation, and the new user's database as the target.
func (e *Executor) ComChangeUser(c *mysqlserver.Conn, denied *mysql.MyError) error {
	s := c.Session.(*Session)
	s.setUser(c.User())
	s.initial = e.handshakeSettings(c.Collation())
	e.resetSession(s)
	e.setIdleTimeout(c, s)
	c.SetStatus(s.state.Status())
	if denied != nil {
		return c.WriteError(denied)
	}
	s.userName, s.policy = c.User(), nil // the new user's rules
	s.retarget(Target{}, false)
	if db := c.Database(); db != "" {
		if err := e.setTarget(s, db); err != nil {
			return c.WriteError(err)
		}
	}
	return c.WriteOK(0, 0, s.state.Status(), 0)
}

func (e *Executor) resetSession(s *Session) {
	e.shardedReset(s) // sharded keyspaces: the shards' connections (sharded_session.go)
	if s.held != nil {
		if c := s.held; c.Killed() == nil && s.state.Holds()&session.HoldXA == 0 {
			// The state goes whatever it was: reset unconditionally. (Not a connection with an
			// XA transaction: a prepared one survives the reset and leaves the connection
			// refusing writes; closing it hands the branch to XA RECOVER, or rolls back one
			// not prepared.)
			s.held, s.heldServer = nil, nil
			ctx, cancel := context.WithTimeout(s.ctx, resetTimeout)
			if err := c.Reset(ctx); err != nil {
				c.Close()
			} else {
				c.SetTransaction(false)
				c.Release(0)
			}
			cancel()
		} else {
			s.held.Close()
			s.held, s.heldServer = nil, nil
		}
	}
	s.forgetLast()
	s.lost = ""
	s.hasXA = false // a prepared branch stays its user's (xaOwners); one not prepared is rolled back
	s.sqlPrepared = nil
	s.state.Reset(e.afterReset(s))
	s.refreshSettings()
	e.noteHolds(s, s.state.Holds())
}

// finish writes a gateway-side error after whatever part of the reply was forwarded. A reply
// cut short in the middle (its backend died) ends the client's connection too, after an error
// packet where the protocol allows one.
func (e *Executor) finish(c *mysqlserver.Conn, s *Session, res tabletserver.Result, err error) error {
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
	if res.MidPacket {
		return fmt.Errorf("backend failed in the middle of a packet: %w", err)
	}
	if res.Forwarded {
		c.SetSequence(res.NextSeq)
	}
	if werr := c.WriteError(err); werr != nil {
		return werr
	}
	if res.Forwarded && !tabletserver.StatementOnly(err) {
		return fmt.Errorf("backend failed in the middle of a reply: %w", err)
	}
	return nil
}

// pick chooses the tablet for the session's target.
func (e *Executor) pick(s *Session) (*discovery.Tablet, error) {
	return e.pickTarget(s, s.target, s.hasTarget)
}

// pickTarget chooses the tablet for a target (hasTarget false: the session has none yet).
func (e *Executor) pickTarget(s *Session, t Target, hasTarget bool) (*discovery.Tablet, error) {
	snap := e.reg.Snapshot()
	if !hasTarget {
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
	crit := e.criteriaFor(sh.Keyspace, t.TabletType) // per-keyspace picker settings (criteria.go) [schemas branch]
	info, err := snap.Pick(sh, crit, s)
	if err != nil {
		if e.cfg.PickerMetrics != nil {
			e.cfg.PickerMetrics.Miss(sh.Keyspace, sh.Name, crit)
		}
		return nil, err
	}
	tab := snap.Picked(info)
	if tab == nil {
		return nil, errUnavailable("tablet %s was picked but is gone; retry", picker.AliasOf(info.Tablet.GetAlias()).String())
	}
	return tab, nil
}

func (e *Executor) setTarget(s *Session, db string) error {
	t, err := ParseTarget(db)
	if err != nil {
		return err
	}
	if !e.reg.Snapshot().HasKeyspace(t.Keyspace) {
		return errUnknownDatabase(db)
	}
	// access control: the keyspace and the tablet type
	if err := e.checkTarget(s, t); err != nil {
		return err
	}
	s.retarget(t, true)
	return nil
}

func (e *Executor) use(c *mysqlserver.Conn, s *Session, db string) error {
	if s.held != nil {
		t, err := ParseTarget(db)
		if err == nil && s.hasTarget && t == s.target {
			return e.useOK(c, s, db) // the same target: nothing moves
		}
		if err == nil && e.reg.Snapshot().HasKeyspace(t.Keyspace) {
			// A target served by the very tablet the session holds a connection to (mysqldump's
			// USE after START TRANSACTION, with no database in the handshake): nothing moves.
			if tab, perr := e.pickTarget(s, t, true); perr == nil && tab.Server == s.heldServer {
				if err := e.checkTarget(s, t); err != nil {
					return c.WriteError(err)
				}
				s.retarget(t, true)
				return e.useOK(c, s, db)
			}
		}
		if s.state.InTransaction() {
			return c.WriteError(errInTransaction("change the target"))
		}
		return c.WriteError(&mysql.MyError{Code: mysql.ER_CANT_CHANGE_TX_CHARACTERISTICS, State: "25001", Message: "vtdirect: " +
			"cannot change the target while the session holds connection state (" + s.state.Holds().String() + "); reconnect, or COM_RESET_CONNECTION, to use another target"})
	}
	if err := e.setTarget(s, db); err != nil {
		return c.WriteError(err)
	}
	return e.useOK(c, s, db)
}

// useOK answers USE (or COM_INIT_DB) as MariaDB does: a client that tracks the schema (and
// state changes) is told.
func (e *Executor) useOK(c *mysqlserver.Conn, s *Session, db string) error {
	s.state.GatewayReply(-1)
	s.lastExact &^= session.NeedRowCount // the gateway answered: ROW_COUNT() is this statement's
	var state []byte
	if c.Capabilities()&mysql.CLIENT_SESSION_TRACK != 0 {
		prefs := s.state.ClientTracking()
		if prefs.Schema {
			state = mysqlserver.AppendSessionStateSchema(state, db)
		}
		if prefs.StateChange {
			state = mysqlserver.AppendSessionState(state, mysqlserver.SessionTrackStateChange, []byte("1"))
		}
	}
	return c.WriteOKPacket(mysqlserver.OKPacket{Status: s.state.Status(), SessionState: state})
}

// ok answers a statement the gateway ran itself with an OK.
func (e *Executor) ok(c *mysqlserver.Conn, s *Session) error {
	s.state.GatewayReply(-1)
	s.lastExact &^= session.NeedRowCount // the gateway answered: ROW_COUNT() is this statement's
	return c.WriteOK(0, 0, s.state.Status(), 0)
}

// setIdleTimeout tells the client connection how long it may wait for the session's next
// command: the session's wait_timeout (MariaDB's, or interactive_timeout for an interactive
// client, unless the session set its own), and no more than IdleTimeout while it keeps a
// backend connection.
func (e *Executor) setIdleTimeout(c *mysqlserver.Conn, s *Session) {
	key := idleKey{wait: s.state.WaitTimeout(), held: s.held != nil, set: true}
	if key == s.idle {
		return // nothing it depends on changed: no work on the per-query path
	}
	s.idle = key
	var d time.Duration
	if v := s.state.WaitTimeout(); v != "" {
		if n, err := strconv.ParseFloat(v, 64); err == nil {
			d = time.Duration(n * float64(time.Second))
		}
	} else if info, ok := e.anyInfo(); !ok {
		s.idle = idleKey{} // the servers' defaults are not known yet: compute again next time
	} else {
		secs := info.WaitTimeout
		if c.Capabilities()&mysql.CLIENT_INTERACTIVE != 0 {
			secs = info.InteractiveTimeout
		}
		d = time.Duration(secs) * time.Second
	}
	if s.held != nil && e.cfg.IdleTimeout > 0 && (d == 0 || e.cfg.IdleTimeout < d) {
		d = e.cfg.IdleTimeout
	}
	c.SetIdleTimeout(d)
}

// anyInfo is the server defaults of the first tablet that has them.
func (e *Executor) anyInfo() (tabletserver.ServerInfo, bool) {
	for _, t := range e.reg.Snapshot().Tablets() {
		if info, ok := t.Server.Info(); ok {
			return info, true
		}
	}
	return tabletserver.ServerInfo{}, false
}

// idleKey is what a session's idle timeout depends on.
type idleKey struct {
	wait      string
	held, set bool
}

// afterReset are the settings of a session after COM_RESET_CONNECTION, as MariaDB gives them:
// the handshake's character set, and the global defaults for what the handshake's flags had
// changed (IGNORE_SPACE in sql_mode, wait_timeout from interactive_timeout), which a reset does
// not redo.
func (e *Executor) afterReset(s *Session) session.Settings {
	set := s.initial
	info, ok := e.anyInfo()
	if !ok {
		return set
	}
	if s.caps&mysql.CLIENT_IGNORE_SPACE != 0 {
		set = set.With("sql_mode", info.SQLMode)
	}
	if s.caps&mysql.CLIENT_INTERACTIVE != 0 {
		set = set.With("wait_timeout", strconv.FormatInt(info.WaitTimeout, 10))
	}
	return set
}

package router

import (
	"context"
	"strconv"

	"github.com/go-mysql-org/go-mysql/mysql"
	topodatapb "vitess.io/vitess/go/vt/proto/topodata"

	"github.com/vtdirect/vtdirect/engine"
	"github.com/vtdirect/vtdirect/mysqlserver"
	"github.com/vtdirect/vtdirect/planner"
	"github.com/vtdirect/vtdirect/session"
	"github.com/vtdirect/vtdirect/vindex"
)

// stmtRun is one statement of a sharded target being run.
type stmtRun struct {
	c    *mysqlserver.Conn
	s    *Session
	q    *query
	plan *planner.Plan
	// frame is the client's command; text its statement.
	frame, text []byte
	// tv are the statement's arguments, as text and as values.
	tv planner.Values
	// binary: the client gets binary rows (a prepared statement).
	binary bool
	// ctx bounds the statement (QUERY_TIMEOUT_MS).
	ctx context.Context
	// stmt and payload are the prepared statement and its COM_STMT_EXECUTE (binary).
	stmt    *mysqlserver.Stmt
	payload []byte
	// shardBuf holds a one-shard route's shard.
	shardBuf [1]string
}

// lexMode is how the session's sql_mode makes MySQL read its statements.
func lexMode(s *Session) planner.LexMode {
	var m planner.LexMode
	st := s.state.Status()
	if st&mysql.SERVER_STATUS_NO_BACKSLASH_ESCAPED != 0 {
		m |= planner.NoBackslashEscapes
	}
	if st&0x8000 != 0 { // SERVER_STATUS_ANSI_QUOTES
		m |= planner.ANSIQuotes
	}
	return m
}

// shardedQuery plans and runs a COM_QUERY whose target is a sharded keyspace.
func (e *Executor) shardedQuery(c *mysqlserver.Conn, s *Session, cmd *mysqlserver.Command, q *query) error {
	text := cmd.Payload()[1:]
	if q.multi {
		return c.WriteError(errNotSupported("several statements in one query on sharded keyspace %s; send them one at a time", s.target.Keyspace))
	}
	if s.lost != "" {
		lost := s.lost
		s.lost = ""
		return c.WriteError(errUnavailable("%s was lost when its backend connection failed after the previous statement; start again (this statement was not run)", lost))
	}
	if err := errUnplannableMode(s, q.kind, text); err != nil { // sql_mode ORACLE, PIPES_AS_CONCAT... (sqlmode.go)
		return c.WriteError(err)
	}
	plan, lits := e.sharded.planner.Plan(e.sharded.vschema(), &planner.Request{Keyspace: s.target.Keyspace, Query: text, Mode: lexMode(s)}, &s.shard.scratch)
	x := &s.shard.run // the session runs one statement at a time: no allocation per statement
	*x = stmtRun{c: c, s: s, q: q, plan: plan, frame: cmd.Frame, text: text, ctx: s.ctx}
	defer func() { *x = stmtRun{} }() // keeps nothing of the statement alive
	x.tv.Text = text
	x.tv.Args = s.shard.argBuf[:0]
	x.tv.Vals = s.shard.valBuf[:0]
	for _, l := range lits {
		x.tv.Args = append(x.tv.Args, text[l.Start:l.End])
		x.tv.Vals = append(x.tv.Vals, l.Value)
	}
	s.shard.argBuf, s.shard.valBuf = x.tv.Args, x.tv.Vals
	return e.execPlan(x)
}

// execPlan runs a planned statement.
func (e *Executor) execPlan(x *stmtRun) error {
	c, s, plan := x.c, x.s, x.plan
	if plan.Kind == planner.KindRefused {
		return e.refuse(x, plan.Err)
	}
	if !plan.ReadOnly && s.target.TabletType != topodatapb.TabletType_PRIMARY {
		return e.refuse(x, errReadOnlyTarget(s.target))
	}
	if d := plan.Directives.QueryTimeout; d > 0 {
		var cancel context.CancelFunc
		x.ctx, cancel = context.WithTimeout(s.ctx, d)
		defer cancel()
	}
	x.tv.LastInsertID = s.state.Results().LastInsertID
	switch plan.Kind {
	case planner.KindRoute:
		return e.execRoute(x)
	case planner.KindInsert:
		return e.execInsert(x)
	case planner.KindDDL:
		return e.execDDL(x)
	case planner.KindAnyShard:
		return e.execAnyShard(x)
	case planner.KindSet:
		return e.execSet(x)
	case planner.KindBegin:
		return e.execBegin(x)
	case planner.KindCommit, planner.KindRollback:
		return e.execEnd(x, plan.Kind == planner.KindCommit)
	case planner.KindShowVSchema:
		return e.showVSchema(x)
	case planner.KindLastInsertID:
		n := s.state.Results().LastInsertID
		return e.answer(c, s, lastInsertIDResult(plan.Name, n, s.state.Status()), 1)
	case planner.KindNextValues:
		return e.execNextValues(x)
	}
	return c.WriteError(errUnavailable("plan kind %s is not executed", plan.Kind))
}

// refuse answers a statement with the gateway's error; like any error it is the session's
// last statement's diagnostics.
func (e *Executor) refuse(x *stmtRun, err error) error {
	me := asMyError(err)
	if me != nil {
		x.s.shard.warnings = []engine.Warning{{Level: "Error", Code: me.Code, Message: me.Message}}
		x.s.shard.warningsValid = true
	}
	return x.c.WriteError(err)
}

// render renders a plan's template with the statement's values.
func (x *stmtRun) render(t planner.Template) []byte {
	return t.Render(nil, &x.tv)
}

// frameFor is the command for a route: the client's own when the shards get the statement
// as written (and it is a COM_QUERY), else a COM_QUERY of the rendered statement.
func (x *stmtRun) frameFor(r *planner.Route) []byte {
	if r.Verbatim && !x.binary {
		return x.frame
	}
	return queryFrame(x.render(r.Query))
}

// target is a shard to run on, with its statement.
type target struct {
	key  shardKey
	text []byte
}

// routeShards resolves a route to shards. none: no shard can hold a row.
func (e *Executor) routeShards(x *stmtRun, r *planner.Route) (shards []string, none bool, err error) {
	snap := e.reg.Snapshot()
	ks := r.Keyspace.Name
	switch r.Opcode {
	case planner.Scatter:
		all, err := e.keyspaceShards(snap, ks)
		if err != nil {
			return nil, false, err
		}
		for _, sh := range all {
			shards = append(shards, sh.Name)
		}
		if len(shards) == 0 {
			return nil, false, errUnavailable("keyspace %s has no tablets yet", ks)
		}
		return shards, false, nil
	case planner.AnyOne, planner.Unsharded, planner.None:
		first, err := e.firstShard(ks)
		if err != nil {
			return nil, false, err
		}
		return []string{first}, r.Opcode == planner.None, nil
	case planner.Pinned:
		sh, err := e.shardOf(snap, ks, r.Pinned)
		return []string{sh}, false, err
	}
	if h, ok := r.Vindex.(vindex.Hashing); ok && r.Opcode == planner.EqualUnique {
		// The point query's path: one value, one shard, no allocation beyond the id.
		id, err := h.Hash(r.Values[0].Value(x.tv.Vals))
		switch {
		case err == vindex.ErrNoKeyspaceID:
			first, err := e.firstShard(ks)
			x.shardBuf[0] = first
			return x.shardBuf[:1], true, err
		case err != nil:
			return nil, false, &mysql.MyError{Code: mysql.ER_WRONG_ARGUMENTS, State: "HY000", Message: "vtdirect: vindex " + r.Vindex.Name() + ": " + err.Error()}
		}
		sh, err := e.shardOf(snap, ks, id)
		x.shardBuf[0] = sh
		return x.shardBuf[:1], false, err
	}
	// EqualUnique, In: the shards of the values' keyspace ids.
	ksids, err := e.keyspaceIDs(x, r.Keyspace.Name, r.Vindex, r.Values)
	if err != nil {
		return nil, false, err
	}
	seen := map[string]bool{}
	for _, id := range ksids {
		if id == nil {
			continue
		}
		sh, err := e.shardOf(snap, ks, id)
		if err != nil {
			return nil, false, err
		}
		if !seen[sh] {
			seen[sh] = true
			shards = append(shards, sh)
		}
	}
	if len(shards) == 0 {
		first, err := e.firstShard(ks)
		if err != nil {
			return nil, false, err
		}
		return []string{first}, true, nil
	}
	return shards, false, nil
}

// keyspaceIDs maps vindex values to keyspace ids (nil: the value maps to none).
func (e *Executor) keyspaceIDs(x *stmtRun, ks string, v vindex.Vindex, vals []planner.ValueExpr) ([][]byte, error) {
	out := make([][]byte, len(vals))
	switch vdx := v.(type) {
	case vindex.Hashing:
		for i, ve := range vals {
			id, err := vdx.Hash(ve.Value(x.tv.Vals))
			switch {
			case err == vindex.ErrNoKeyspaceID:
			case err != nil:
				return nil, &mysql.MyError{Code: mysql.ER_WRONG_ARGUMENTS, State: "HY000", Message: "vtdirect: vindex " + v.Name() + ": " + err.Error()}
			default:
				out[i] = id
			}
		}
		return out, nil
	case *vindex.Lookup:
		return e.lookupIDs(x, ks, vdx, vals)
	}
	return nil, errUnavailable("vindex %s cannot route", v.Name())
}

// execRoute runs a SELECT, UPDATE or DELETE on its route's shards.
func (e *Executor) execRoute(x *stmtRun) error {
	r := x.plan.Route
	shards, none, err := e.routeShards(x, r)
	if err != nil {
		return x.c.WriteError(err)
	}
	if r.DML != nil && !none {
		return e.execLookupDML(x, shards)
	}
	if none {
		if r.Write {
			return e.okWrite(x, engine.WriteResult{})
		}
		return e.scatterSelect(x, r, shards, true)
	}
	if len(shards) == 1 {
		k := shardKey{ks: r.Keyspace.Name, shard: shards[0]}
		one := r
		if x.plan.Merge != nil {
			// One shard computes the whole result: the statement as written, no merge.
			one = &planner.Route{Query: r.One, Verbatim: r.OneVerbatim}
		}
		if x.binary {
			return e.stmtOnShard(x, k, one)
		}
		return e.onShard(x.ctx, x.c, x.s, x.q, k, x.frameFor(one), nil)
	}
	if r.Write {
		return e.scatterWrite(x, r.Keyspace.Name, shards, x.render(r.Query))
	}
	return e.scatterSelect(x, r, shards, false)
}

// execAnyShard runs a statement that reads no table of the keyspace on its first shard; SHOW
// WARNINGS after a statement on several shards is the gateway's.
func (e *Executor) execAnyShard(x *stmtRun) error {
	s := x.s
	if x.q.sess.Diagnostics && s.shard.warningsValid {
		return e.answerWarnings(x)
	}
	k := s.shard.lastKey
	if k.ks == "" || !x.q.sess.Diagnostics {
		first, err := e.firstShard(s.target.Keyspace)
		if err != nil {
			return x.c.WriteError(err)
		}
		k = shardKey{ks: s.target.Keyspace, shard: first}
	}
	if h := s.shard.find(shardKey{ks: s.target.Keyspace, shard: k.shard}); h == nil {
		// A session in a transaction asks a shard it holds, if any, so that it sees its own
		// uncommitted rows (SHOW TABLE STATUS, SELECT ... FROM information_schema).
		if n := len(s.shard.conns); n > 0 && s.shard.conns[n-1].key.ks == s.target.Keyspace {
			k = s.shard.conns[n-1].key
		}
	}
	frame := x.frame
	if x.binary {
		return e.stmtOnShard(x, k, &planner.Route{Query: x.plan.Query, Verbatim: true})
	}
	return e.onShard(x.ctx, x.c, s, x.q, k, frame, nil)
}

// okWrite answers a write the gateway ran on several shards (or none) with one OK.
func (e *Executor) okWrite(x *stmtRun, w engine.WriteResult) error {
	s := x.s
	r := session.Reply{StatusKnown: true, Status: s.state.Status(), Affected: w.Affected, InsertID: w.InsertID,
		LastInsertID: w.InsertID, Warnings: w.Warnings}
	if w.InTrans {
		r.Status |= mysql.SERVER_STATUS_IN_TRANS
	}
	s.state.Apply(&x.q.sess, &r)
	s.forgetLast()
	e.noteHolds(s, s.state.Holds())
	x.c.SetStatus(s.state.Status())
	e.setIdleTimeout(x.c, s)
	return x.c.WriteOKPacket(mysqlserver.OKPacket{AffectedRows: w.Affected, LastInsertID: w.InsertID, Status: s.state.Status(), Warnings: w.Warnings, Info: w.Info})
}

// lastInsertIDResult is SELECT LAST_INSERT_ID() answered by the gateway (BIGINT UNSIGNED).
func lastInsertIDResult(name string, n uint64, status uint16) *mysqlserver.Result {
	return &mysqlserver.Result{
		Status: status,
		Fields: []*mysqlserver.Field{{
			Name: name, Charset: 63, ColumnLength: 21, Type: mysql.MYSQL_TYPE_LONGLONG,
			Flags: mysql.NOT_NULL_FLAG | mysql.UNSIGNED_FLAG | mysql.BINARY_FLAG | mysql.NUM_FLAG,
		}},
		Rows: [][][]byte{{strconv.AppendUint(nil, n, 10)}},
	}
}

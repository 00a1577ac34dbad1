package router

// Prepared statements (COM_STMT_*) on a sharded keyspace: the statement is planned once, at
// prepare, with its '?' as the plan's arguments, and prepared on a shard for the metadata
// the client gets (parameters, columns). An execution decodes the parameters, routes with
// them, and runs the binary execute on the one shard it goes to, or, on several shards, the
// statement with the parameters written as literals, merged into binary rows.

import (
	"encoding/binary"
	"math"
	"strconv"

	"github.com/go-mysql-org/go-mysql/mysql"

	"github.com/vtdirect/vtdirect/classify"
	"github.com/vtdirect/vtdirect/engine"
	"github.com/vtdirect/vtdirect/mysqlserver"
	"github.com/vtdirect/vtdirect/planner"
	"github.com/vtdirect/vtdirect/tabletserver"
	"github.com/vtdirect/vtdirect/vindex"
)

// shardedStmt is a prepared statement of a sharded target (Stmt.Session).
type shardedStmt struct {
	plan     *planner.Plan
	q        query
	keyspace string
}

// wantOf is what a connection for the session must be.
func wantOf(s *Session, hold bool) tabletserver.Want {
	return tabletserver.Want{Caps: s.caps, Settings: &s.settings, Hold: hold}
}

// shardedPrepare is the hook of ComStmtPrepare for a sharded target.
func (e *Executor) shardedPrepare(c *mysqlserver.Conn, s *Session, st *mysqlserver.Stmt) error {
	if err := errUnplannableMode(s, classify.KindUnknown, nil); err != nil { // sql_mode ORACLE, PIPES_AS_CONCAT... (sqlmode.go)
		st.Failed = true
		return c.WriteError(err)
	}
	plan, _ := e.sharded.planner.Plan(e.sharded.vschema(), &planner.Request{Keyspace: s.target.Keyspace, Query: []byte(st.Query), Mode: lexMode(s), Prepared: true}, &s.shard.scratch)
	if plan.Kind == planner.KindRefused {
		st.Failed = true
		return c.WriteError(plan.Err)
	}
	k, err := e.sessionShard(s)
	if err != nil {
		st.Failed = true
		return c.WriteError(err)
	}
	q := query{readOnly: true}
	saved := s.target
	s.target = Target{Keyspace: k.ks, Shard: k.shard, TabletType: saved.TabletType}
	if h := s.shard.find(k); h != nil {
		s.held, s.heldServer = h.conn, h.server
	} else {
		s.held, s.heldServer = nil, nil
	}
	res, err := e.run(c, s, &q, true, func(conn *tabletserver.Conn, _ *tabletserver.Request) (tabletserver.Result, error) {
		params, cols, r, err := conn.Prepare(s.ctx, st.Query, st.ID, c.RawWriter())
		st.ParamCount, st.ColumnCount = uint16(params), uint16(cols)
		return r, err
	})
	s.target = saved
	e.afterShard(s, k, &q)
	if err == nil && res.Err == nil {
		text := e.analyze(s, []byte(st.Query))
		st.Session = &shardedStmt{plan: plan, q: text, keyspace: s.target.Keyspace}
	} else {
		st.Failed = true
	}
	return e.finish(c, s, res, err)
}

// shardedExecute is the hook of ComStmtExecute for a statement prepared on a sharded target.
func (e *Executor) shardedExecute(c *mysqlserver.Conn, s *Session, st *mysqlserver.Stmt, cmd *mysqlserver.Command, ss *shardedStmt) error {
	x := &stmtRun{c: c, s: s, q: &ss.q, plan: ss.plan, text: []byte(st.Query), binary: true, ctx: s.ctx, stmt: st, payload: cmd.Payload()}
	args, vals, err := decodeParams(cmd.Payload(), int(st.ParamCount), st, lexMode(s)&planner.NoBackslashEscapes != 0)
	if err != nil {
		return c.WriteError(err)
	}
	x.tv.Args, x.tv.Vals = args, vals
	x.tv.Text = []byte(st.Query)
	return e.execPlan(x)
}

// stmtOnShard runs a prepared statement's execution on one shard: the binary execute as the
// client sent it when the shard gets the statement as written, else the statement rendered
// with its parameters as literals, prepared there without parameters.
func (e *Executor) stmtOnShard(x *stmtRun, k shardKey, r *planner.Route) error {
	query, payload := x.stmt.Query, x.payload
	var long [][]byte
	if r.Verbatim || r.Query.IsZero() {
		if x.stmt.HasLongData() {
			long = make([][]byte, x.stmt.ParamCount)
			for i := range long {
				long[i] = x.stmt.LongData(i)
			}
		}
	} else {
		query = string(x.render(r.Query))
		payload = []byte{mysql.COM_STMT_EXECUTE, 0, 0, 0, 0, 0, 1, 0, 0, 0}
	}
	return e.onShard(x.ctx, x.c, x.s, x.q, k, nil, func(conn *tabletserver.Conn, req *tabletserver.Request) (tabletserver.Result, error) {
		return conn.ExecStmt(x.ctx, query, payload, long, req, x.c.RawWriter())
	})
}

// decodeParams reads a COM_STMT_EXECUTE's parameters (normalised by mysqlserver: types
// always bound) as SQL literals and as values.
// https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_com_stmt_execute.html
func decodeParams(p []byte, n int, st *mysqlserver.Stmt, noBackslash bool) ([][]byte, []vindex.Value, error) {
	args := make([][]byte, n)
	vals := make([]vindex.Value, n)
	if n == 0 {
		return args, vals, nil
	}
	bad := func() ([][]byte, []vindex.Value, error) {
		return nil, nil, mysql.NewError(mysql.ER_MALFORMED_PACKET, "vtdirect: malformed COM_STMT_EXECUTE parameters")
	}
	pos := 10
	nb := (n + 7) / 8
	if len(p) < pos+nb+1 {
		return bad()
	}
	nulls := p[pos : pos+nb]
	pos += nb + 1 // the null bitmap, new-params-bound
	if len(p) < pos+2*n {
		return bad()
	}
	types := p[pos : pos+2*n]
	pos += 2 * n
	for i := 0; i < n; i++ {
		if nulls[i/8]&(1<<(i%8)) != 0 {
			args[i], vals[i] = []byte("NULL"), vindex.NullValue()
			continue
		}
		typ, unsigned := types[2*i], types[2*i+1]&0x80 != 0
		if long := st.LongData(i); long != nil {
			vals[i] = vindex.Value{Kind: vindex.VarChar, Raw: long}
			args[i] = planner.SQLLiteral(nil, vals[i], noBackslash)
			continue
		}
		v, size, ok := binaryParam(p[pos:], typ, unsigned)
		if !ok {
			return bad()
		}
		pos += size
		vals[i] = v
		switch typ {
		case mysql.MYSQL_TYPE_TINY_BLOB, mysql.MYSQL_TYPE_MEDIUM_BLOB, mysql.MYSQL_TYPE_LONG_BLOB, mysql.MYSQL_TYPE_BLOB:
			args[i] = planner.SQLLiteral(nil, vindex.BytesValue(v.Raw), noBackslash)
		default:
			args[i] = planner.SQLLiteral(nil, v, noBackslash)
		}
	}
	return args, vals, nil
}

// binaryParam decodes one parameter value.
func binaryParam(b []byte, typ byte, unsigned bool) (vindex.Value, int, bool) {
	intv := func(size int) (vindex.Value, int, bool) {
		if len(b) < size {
			return vindex.Value{}, 0, false
		}
		var u uint64
		for i := size - 1; i >= 0; i-- {
			u = u<<8 | uint64(b[i])
		}
		if unsigned {
			return vindex.Uint64Value(u), size, true
		}
		shift := 64 - 8*size
		return vindex.Int64Value(int64(u<<shift) >> shift), size, true
	}
	switch typ {
	case mysql.MYSQL_TYPE_TINY:
		return intv(1)
	case mysql.MYSQL_TYPE_SHORT, mysql.MYSQL_TYPE_YEAR:
		return intv(2)
	case mysql.MYSQL_TYPE_LONG, mysql.MYSQL_TYPE_INT24:
		return intv(4)
	case mysql.MYSQL_TYPE_LONGLONG:
		return intv(8)
	case mysql.MYSQL_TYPE_FLOAT:
		if len(b) < 4 {
			return vindex.Value{}, 0, false
		}
		f := math.Float32frombits(binary.LittleEndian.Uint32(b))
		return vindex.Value{Kind: vindex.Float64, Raw: strconv.AppendFloat(nil, float64(f), 'g', -1, 32)}, 4, true
	case mysql.MYSQL_TYPE_DOUBLE:
		if len(b) < 8 {
			return vindex.Value{}, 0, false
		}
		f := math.Float64frombits(binary.LittleEndian.Uint64(b))
		return vindex.Value{Kind: vindex.Float64, Raw: strconv.AppendFloat(nil, f, 'g', -1, 64)}, 8, true
	case mysql.MYSQL_TYPE_DATE, mysql.MYSQL_TYPE_DATETIME, mysql.MYSQL_TYPE_TIMESTAMP:
		if len(b) < 1 || len(b) < 1+int(b[0]) {
			return vindex.Value{}, 0, false
		}
		return vindex.StringValue(datetimeText(b[1 : 1+b[0]])), 1 + int(b[0]), true
	case mysql.MYSQL_TYPE_TIME:
		if len(b) < 1 || len(b) < 1+int(b[0]) {
			return vindex.Value{}, 0, false
		}
		return vindex.StringValue(timeText(b[1 : 1+b[0]])), 1 + int(b[0]), true
	case mysql.MYSQL_TYPE_NEWDECIMAL, mysql.MYSQL_TYPE_DECIMAL:
		s, size, ok := lenencString(b)
		return vindex.Value{Kind: vindex.Decimal, Raw: s}, size, ok
	}
	s, size, ok := lenencString(b)
	return vindex.Value{Kind: vindex.VarChar, Raw: s}, size, ok
}

func lenencString(b []byte) ([]byte, int, bool) {
	n, k := lenEncInt(b)
	if k == 0 || uint64(len(b)-k) < n {
		return nil, 0, false
	}
	return b[k : k+int(n)], k + int(n), true
}

func pad2(n int) string {
	if n < 10 {
		return "0" + strconv.Itoa(n)
	}
	return strconv.Itoa(n)
}

func datetimeText(b []byte) string {
	if len(b) < 4 {
		return "0000-00-00 00:00:00"
	}
	y := int(binary.LittleEndian.Uint16(b))
	s := strconv.Itoa(y)
	for len(s) < 4 {
		s = "0" + s
	}
	s += "-" + pad2(int(b[2])) + "-" + pad2(int(b[3]))
	if len(b) >= 7 {
		s += " " + pad2(int(b[4])) + ":" + pad2(int(b[5])) + ":" + pad2(int(b[6]))
	}
	if len(b) >= 11 {
		us := binary.LittleEndian.Uint32(b[7:])
		f := strconv.Itoa(int(us))
		for len(f) < 6 {
			f = "0" + f
		}
		s += "." + f
	}
	return s
}

func timeText(b []byte) string {
	if len(b) < 8 {
		return "00:00:00"
	}
	neg := b[0] == 1
	days := binary.LittleEndian.Uint32(b[1:])
	h := int(days)*24 + int(b[5])
	s := strconv.Itoa(h)
	if h < 10 {
		s = "0" + s
	}
	s += ":" + pad2(int(b[6])) + ":" + pad2(int(b[7]))
	if len(b) >= 12 {
		f := strconv.Itoa(int(binary.LittleEndian.Uint32(b[8:])))
		for len(f) < 6 {
			f = "0" + f
		}
		s += "." + f
	}
	if neg {
		s = "-" + s
	}
	return s
}

var _ = engine.Warning{}

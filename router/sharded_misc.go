package router

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/go-mysql-org/go-mysql/mysql"

	"github.com/vtdirect/vtdirect/engine"
	"github.com/vtdirect/vtdirect/mysqlserver"
	"github.com/vtdirect/vtdirect/planner"
	"github.com/vtdirect/vtdirect/tabletserver"
	"github.com/vtdirect/vtdirect/vschema"
)

// execDDL runs a DDL statement on every shard of the keyspace, each on its own (DDL is not
// transactional; an open transaction is committed first, as MySQL does).
func (e *Executor) execDDL(x *stmtRun) error {
	s := x.s
	if s.state.InTransaction() {
		if err := e.endTransaction(s, true); err != nil {
			return x.c.WriteError(err)
		}
	}
	all, err := e.keyspaceShards(e.reg.Snapshot(), s.target.Keyspace)
	if err != nil {
		return x.c.WriteError(err)
	}
	shards := make([]string, len(all))
	for i, sh := range all {
		shards[i] = sh.Name
	}
	res, err := e.writeEach(x, s.target.Keyspace, shards, x.text)
	if err != nil {
		return e.failed(x, nil, err, "")
	}
	return e.okWrite(x, res)
}

// writeEach runs a statement on each shard in autocommit, outside any transaction.
func (e *Executor) writeEach(x *stmtRun, ks string, shards []string, text []byte) (engine.WriteResult, error) {
	conns, err := e.acquire(x, keysOf(ks, shards, orderMain), false, false)
	if err != nil {
		return engine.WriteResult{}, err
	}
	texts := make([][]byte, len(conns))
	names := make([]string, len(conns))
	cols := make([]*engine.Collector, len(conns))
	for i := range conns {
		texts[i] = text
	}
	// Each shard's OK read as it comes (a goroutine each): one read late, after its query
	// timeout fired because another shard was slow, would report a committed write as failed.
	wait := e.start(x, conns, texts, -1)
	for i, sc := range conns {
		names[i], cols[i] = sc.key.String(), sc.col
	}
	res := engine.Writes(cols, names)
	wait()
	e.settle(x, conns, false, false)
	if res.Err != nil {
		return res, e.partialWrite(res, false)
	}
	return res, nil
}

// execSet runs a SET: transaction_mode is the gateway's; the rest runs on one shard, from
// which the session's settings reach every connection it uses (those it holds get it too).
func (e *Executor) execSet(x *stmtRun) error {
	s, set := x.s, x.plan.Set
	mode := set.TransactionMode
	if set.ModeArg >= 0 {
		mode = strings.ToLower(string(x.tv.Vals[set.ModeArg].Raw))
		if !planner.TransactionModes[mode] {
			return e.refuse(x, errNotSupported("transaction_mode %q; use 'single' or 'multi'", mode))
		}
	}
	if !set.Forward {
		if mode != "" {
			s.shard.mode = mode
		}
		return e.ok(x.c, s)
	}
	if s.state.InTransaction() && bytes.Contains(bytes.ToLower(x.text), []byte("autocommit")) {
		// SET autocommit = 1 commits the open transaction, on every shard.
		if err := e.endTransaction(s, true); err != nil {
			return x.c.WriteError(err)
		}
	}
	k, err := e.sessionShard(s)
	if err != nil {
		return x.c.WriteError(err)
	}
	frame := x.frame
	if !bytes.Equal(x.render(x.plan.Query), x.text) {
		frame = queryFrame(x.render(x.plan.Query))
	}
	before := s.settings.Key
	if err := e.onShard(x.ctx, x.c, s, x.q, k, frame, nil); err != nil {
		return err
	}
	if s.settings.Key != before {
		// The held connections of the other shards get the new settings now.
		for _, h := range s.shard.conns {
			if h.key == k {
				continue
			}
			if len(s.settings.Statements) > 0 {
				if _, err := h.conn.Silent(s.ctx, s.settings.Statements[0]); err == nil {
					h.conn.MarkSettings(&s.settings)
				}
			}
		}
	}
	if mode != "" {
		s.shard.mode = mode
	}
	return nil
}

// sessionShard is the shard for a statement about the session (SET, SHOW): one the session
// holds, else the keyspace's first.
func (e *Executor) sessionShard(s *Session) (shardKey, error) {
	for i := len(s.shard.conns) - 1; i >= 0; i-- {
		if k := s.shard.conns[i].key; k.ks == s.target.Keyspace && k.order == orderMain {
			return k, nil
		}
	}
	first, err := e.firstShard(s.target.Keyspace)
	return shardKey{ks: s.target.Keyspace, shard: first}, err
}

// execBegin starts a transaction: it reaches a shard with the first statement there. An
// open transaction is committed first, as MySQL does.
func (e *Executor) execBegin(x *stmtRun) error {
	s := x.s
	if s.state.InTransaction() {
		if err := e.endTransaction(s, true); err != nil {
			return x.c.WriteError(err)
		}
	}
	s.shard.begin = x.plan.Begin
	st := s.state.Status() | mysql.SERVER_STATUS_IN_TRANS
	s.state.ApplyStatus(st)
	s.state.GatewayReply(-1)
	e.noteHolds(s, s.state.Holds())
	x.c.SetStatus(s.state.Status())
	return x.c.WriteOK(0, 0, s.state.Status(), 0)
}

// execEnd commits or rolls back the session's transaction on every shard.
func (e *Executor) execEnd(x *stmtRun, commit bool) error {
	s := x.s
	var err error
	if s.state.InTransaction() || len(s.shard.conns) > 0 {
		err = e.endTransaction(s, commit)
	}
	s.state.GatewayReply(-1)
	x.c.SetStatus(s.state.Status())
	e.setIdleTimeout(x.c, s)
	if err != nil {
		return x.c.WriteError(err)
	}
	return x.c.WriteOK(0, 0, s.state.Status(), 0)
}

// answerWarnings is SHOW WARNINGS (or ERRORS) after a statement on several shards.
func (e *Executor) answerWarnings(x *stmtRun) error {
	t := &table{columns: []string{"Level", "Code", "Message"}}
	errorsOnly := bytes.Contains(bytes.ToLower(x.text), []byte("errors"))
	for _, w := range x.s.shard.warnings {
		if errorsOnly && w.Level != "Error" {
			continue
		}
		t.rows = append(t.rows, []string{w.Level, strconv.Itoa(int(w.Code)), w.Message})
	}
	r := t.mysqlResult(x.s.state.Status())
	r.Fields[1].Type, r.Fields[1].Charset, r.Fields[1].ColumnLength = mysql.MYSQL_TYPE_LONG, 63, 4
	r.Fields[1].Flags |= mysql.UNSIGNED_FLAG | mysql.BINARY_FLAG | mysql.NUM_FLAG
	x.c.SetStatus(x.s.state.Status())
	return x.c.WriteResult(r) // a diagnostics statement: the session's results stay
}

// showVSchema answers SHOW VSCHEMA TABLES and SHOW VSCHEMA VINDEXES [ON t], as vtgate does.
func (e *Executor) showVSchema(x *stmtRun) error {
	t, err := vschemaTable(e.sharded.vschema(), x.s.target.Keyspace, x.plan.Show)
	if err != nil {
		return e.refuse(x, err)
	}
	return e.answer(x.c, x.s, t.mysqlResult(x.s.state.Status()), int64(len(t.rows)))
}

func vschemaTable(vs *vschema.VSchema, keyspace string, show *planner.ShowVSchema) (*table, error) {
	if show.Tables {
		ks := vs.Keyspace(keyspace)
		if ks == nil {
			return nil, errUnknownDatabase(keyspace)
		}
		t := &table{columns: []string{"Tables"}}
		for _, n := range ks.TableNames() {
			t.rows = append(t.rows, []string{n})
		}
		return t, nil
	}
	if show.Table != "" {
		ksName := keyspace
		if show.Keyspace != "" {
			ksName = show.Keyspace
		}
		ks := vs.Keyspace(ksName)
		if ks == nil {
			return nil, errUnknownDatabase(ksName)
		}
		t := &table{columns: []string{"Columns", "Name", "Type", "Params", "Owner"}}
		if !ks.Sharded {
			return t, nil
		}
		tbl := ks.Proto.GetTables()[show.Table]
		if tbl == nil {
			return nil, &mysql.MyError{Code: mysql.ER_NO_SUCH_TABLE, State: "42S02", Message: fmt.Sprintf("vtdirect: table '%s' does not exist in keyspace '%s'", show.Table, ksName)}
		}
		for _, cv := range tbl.ColumnVindexes {
			cols := cv.Columns
			if len(cols) == 0 {
				cols = []string{cv.Column}
			}
			v := ks.Proto.Vindexes[cv.Name]
			t.rows = append(t.rows, []string{strings.Join(cols, ", "), cv.Name, v.GetType(), vindexParams(v.GetParams()), v.GetOwner()})
		}
		return t, nil
	}
	t := &table{columns: []string{"Keyspace", "Name", "Type", "Params", "Owner"}}
	for _, name := range vs.Keyspaces() {
		ks := vs.Keyspace(name)
		names := make([]string, 0, len(ks.Proto.GetVindexes()))
		for n := range ks.Proto.GetVindexes() {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			v := ks.Proto.Vindexes[n]
			t.rows = append(t.rows, []string{name, n, v.GetType(), vindexParams(v.GetParams()), v.GetOwner()})
		}
	}
	return t, nil
}

func vindexParams(p map[string]string) string {
	out := make([]string, 0, len(p))
	for k, v := range p {
		out = append(out, k+"="+v)
	}
	sort.Strings(out)
	return strings.Join(out, "; ")
}

// isShowVSchema reports SHOW VSCHEMA ... (answered by the gateway whatever the target).
func isShowVSchema(q []byte) bool {
	f := strings.Fields(strings.ToLower(string(q[:min(len(q), 64)])))
	return len(f) >= 3 && f[0] == "show" && f[1] == "vschema" && (f[2] == "tables" || f[2] == "vindexes" || strings.HasPrefix(f[2], "tables;"))
}

// showVSchemaUnsharded answers SHOW VSCHEMA on an unsharded (or no) target.
func (e *Executor) showVSchemaUnsharded(c *mysqlserver.Conn, s *Session, q []byte) error {
	p, _ := e.sharded.planner.Plan(e.sharded.vschema(), &planner.Request{Keyspace: s.target.Keyspace, Query: q, Prepared: true}, &s.shard.scratch)
	show := p.Show
	if show == nil {
		f := strings.Fields(strings.ToLower(string(q)))
		show = &planner.ShowVSchema{Tables: f[2] == "tables"}
		if !show.Tables && len(f) >= 5 && (f[3] == "on" || f[3] == "from") {
			show.Table = strings.Trim(f[4], "`;")
		}
	}
	ks := s.target.Keyspace
	if !s.hasTarget {
		if show.Tables {
			return c.WriteError(mysql.NewError(mysql.ER_NO_DB_ERROR, "No database selected"))
		}
	}
	t, err := vschemaTable(e.sharded.vschema(), ks, show)
	if err != nil {
		return c.WriteError(err)
	}
	return e.answer(c, s, t.mysqlResult(s.state.Status()), int64(len(t.rows)))
}

// execNextValues is SELECT NEXT n VALUES FROM seq, served by the sequence's primary.
func (e *Executor) execNextValues(x *stmtRun) error {
	n, err := strconv.ParseInt(string(x.plan.Next.Count.Value(x.tv.Vals).Raw), 10, 64)
	if err != nil || n < 1 {
		return e.refuse(x, mysql.NewError(mysql.ER_WRONG_ARGUMENTS, "vtdirect: NEXT n VALUES needs a positive integer n"))
	}
	first, err := e.nextSequence(x, x.plan.Next.Sequence, n)
	if err != nil {
		return x.c.WriteError(err)
	}
	r := &mysqlserver.Result{Status: x.s.state.Status(), Fields: []*mysqlserver.Field{{
		Name: "nextval", Charset: 63, ColumnLength: 20, Type: mysql.MYSQL_TYPE_LONGLONG,
		Flags: mysql.NOT_NULL_FLAG | mysql.BINARY_FLAG | mysql.NUM_FLAG,
	}}, Rows: [][][]byte{{strconv.AppendInt(nil, first, 10)}}}
	return e.answer(x.c, x.s, r, 1)
}

// nextSequence reserves n values of a sequence on its keyspace's primary.
func (e *Executor) nextSequence(x *stmtRun, seq *vschema.Table, n int64) (int64, error) {
	snap := e.reg.Snapshot()
	shards := snap.Shards(seq.Keyspace.Name)
	if len(shards) != 1 {
		return 0, errUnavailable("sequence %s: keyspace %s has %d shards with tablets; a sequence lives in an unsharded keyspace with one", seq.QualifiedName(), seq.Keyspace.Name, len(shards))
	}
	p := shards[0].Primary
	if p == nil {
		return 0, errUnavailable("sequence %s: shard %s/%s has no primary", seq.QualifiedName(), seq.Keyspace.Name, shards[0].Name)
	}
	term := p.Record.GetPrimaryTermStartTime().String()
	return p.Server.NextSequence(x.ctx, seq.Name, n, term, x.s.caps)
}

// padCache remembers the weight of a space in each PAD SPACE collation, learnt from the
// servers (WEIGHT_STRING(' ' COLLATE c)); NO PAD and binary collations have none.
type padCache struct {
	mu   sync.Mutex // guards pads
	pads map[uint16][]byte
}

// padFor returns the lookup the merge uses, asking a shard's tablet (on a connection of its
// own) for a collation it does not know yet.
func (e *Executor) padFor(x *stmtRun, conns []*shardConn) func(uint16) ([]byte, error) {
	return func(coll uint16) ([]byte, error) {
		pc := &e.sharded.pads
		pc.mu.Lock()
		pad, ok := pc.pads[coll]
		pc.mu.Unlock()
		if ok {
			return pad, nil
		}
		if coll == 63 || len(conns) == 0 {
			return nil, nil
		}
		pad, err := queryPad(x, conns[0].server, coll)
		if err != nil {
			return nil, err
		}
		pc.mu.Lock()
		if pc.pads == nil {
			pc.pads = map[uint16][]byte{}
		}
		pc.pads[coll] = pad
		pc.mu.Unlock()
		return pad, nil
	}
}

func queryPad(x *stmtRun, server *tabletserver.TabletServer, coll uint16) ([]byte, error) {
	conn, err := server.Get(x.ctx, tabletserver.Want{Caps: x.s.caps})
	if err != nil {
		return nil, err
	}
	defer conn.Release(0)
	rows, err := conn.Silent(x.ctx, "SELECT COLLATION_NAME, CHARACTER_SET_NAME FROM information_schema.COLLATIONS WHERE ID = "+strconv.Itoa(int(coll)))
	if err != nil {
		return nil, fmt.Errorf("vtdirect: reading collation %d: %w", coll, err)
	}
	if len(rows) != 1 || len(rows[0]) != 2 {
		return nil, nil // unknown: compare the weights as they are
	}
	name, cs := rows[0][0], rows[0][1]
	if strings.Contains(name, "nopad") || cs == "binary" || !validIdent(name) || !validIdent(cs) {
		return nil, nil
	}
	rows, err = conn.Silent(x.ctx, "SELECT HEX(WEIGHT_STRING(CONVERT(' ' USING "+cs+") COLLATE "+name+"))")
	if err != nil || len(rows) != 1 || len(rows[0]) != 1 {
		return nil, err
	}
	return hex.DecodeString(rows[0][0])
}

func validIdent(s string) bool {
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return s != ""
}

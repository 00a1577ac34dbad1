package router

import (
	"errors"
	"sort"
	"strconv"
	"sync"

	"github.com/go-mysql-org/go-mysql/mysql"

	"github.com/vtdirect/vtdirect/engine"
	"github.com/vtdirect/vtdirect/planner"
	"github.com/vtdirect/vtdirect/session"
	"github.com/vtdirect/vtdirect/tabletserver"
	"github.com/vtdirect/vtdirect/vindex"
)

// shardConn is one shard's connection for a statement on several shards.
type shardConn struct {
	key    shardKey
	conn   *tabletserver.Conn
	server *tabletserver.TabletServer
	held   bool   // the session held it before the statement
	begin  string // a transaction to begin first
	col    *engine.Collector
	req    tabletserver.Request // the statement start sent, until its reply is read
	res    tabletserver.Result
	err    error
}

// pickShard chooses the tablet of a shard for the session's tablet type.
func (e *Executor) pickShard(s *Session, ks, shard string) (*tabletserver.TabletServer, error) {
	saved := s.target
	s.target = Target{Keyspace: ks, Shard: shard, TabletType: saved.TabletType}
	tab, err := e.pick(s)
	s.target = saved
	if err != nil {
		return nil, err
	}
	return tab.Server, nil
}

// acquire gets the connections of a statement on several shards: those the session holds
// there, else new ones, reserved when they will be kept (hold: a transaction). tx says
// whether new connections begin the session's explicit transaction.
func (e *Executor) acquire(x *stmtRun, keys []shardKey, hold, tx bool) ([]*shardConn, error) {
	s := x.s
	out := make([]*shardConn, 0, len(keys))
	backing := make([]shardConn, len(keys)) // one allocation for the statement's shards
	for i, k := range keys {
		if h := s.shard.find(k); h != nil {
			backing[i] = shardConn{key: k, conn: h.conn, server: h.server, held: true}
			out = append(out, &backing[i])
			continue
		}
		server, err := e.pickShard(s, k.ks, k.shard)
		if err == nil {
			var conn *tabletserver.Conn
			conn, err = server.Get(x.ctx, tabletserver.Want{Caps: s.caps, Settings: &s.settings, Hold: hold})
			if err == nil {
				sc := &backing[i]
				*sc = shardConn{key: k, conn: conn, server: server}
				if tx && s.state.Autocommit() {
					sc.begin = s.shard.begin
					if sc.begin == "" {
						sc.begin = "BEGIN"
					}
				}
				out = append(out, sc)
				continue
			}
		}
		for _, sc := range out {
			if !sc.held {
				sc.conn.Release(0)
			}
		}
		return nil, err
	}
	return out, nil
}

// sameBytes reports whether a and b are the same bytes in memory (the one text of a
// statement sent to every shard).
func sameBytes(a, b []byte) bool {
	return len(a) == len(b) && (len(a) == 0 || &a[0] == &b[0])
}

func keysOf(ks string, shards []string, order uint8) []shardKey {
	out := make([]shardKey, len(shards))
	for i, sh := range shards {
		out[i] = shardKey{ks: ks, shard: sh, order: order}
	}
	return out
}

// streamed is start's maxRows for replies the merge consumes as they stream.
const streamed = -1

// maxInlineRows bounds the rows per shard that a statement's replies may have to be read
// whole, one shard after the other, instead of streamed.
const maxInlineRows = 256

// boundedRows is how many rows at most each shard returns for a merge, when the plan bounds
// them to few (an aggregate without GROUP BY: one; an ungrouped LIMIT, which the shards get
// as LIMIT offset+count: that many, up to maxInlineRows), else streamed.
func boundedRows(m *planner.Merge, vals []vindex.Value) int {
	switch {
	case m == nil:
		return streamed
	case m.Grouped && len(m.Order) == 0:
		return 1
	case m.Grouped || m.Limit == nil:
		return streamed
	}
	n, ok := limitValue(m.Limit, vals)
	if m.Offset != nil {
		off, ok2 := limitValue(m.Offset, vals)
		n, ok = n+off, ok && ok2 && n+off >= n
	}
	if !ok || n > maxInlineRows {
		return streamed
	}
	return int(n)
}

func limitValue(v *planner.ValueExpr, vals []vindex.Value) (uint64, bool) {
	if v.Arg >= len(vals) {
		return 0, false
	}
	n, err := strconv.ParseUint(string(v.Value(vals).Raw), 10, 64)
	return n, err == nil
}

// start sends each shard's statement, one connection after the other from the session's
// goroutine (the shards then work at once, and no goroutine start delays a statement), then
// has the replies read into the shards' collectors: with maxRows >= 0, a bound the plan puts
// on each reply (an aggregate without GROUP BY: one row, a small LIMIT), they are read here,
// one after the other while the others wait in their sockets, with no goroutine or hand-off
// at all; with maxRows < 0 (streamed rows, and writes, whose every OK must be read while it
// is good), each in a goroutine of its own, which the merge consumes as the rows arrive.
// wait waits for those goroutines.
func (e *Executor) start(x *stmtRun, conns []*shardConn, texts [][]byte, maxRows int) (wait func()) {
	active := make([]activeConn, len(conns))
	for i, sc := range conns {
		active[i] = activeConn{conn: sc.conn, lease: sc.conn.Lease()}
	}
	x.s.setShardActive(active)
	sent := make([]bool, len(conns))
	for i, sc := range conns {
		if maxRows >= 0 {
			sc.col = engine.NewBufferedCollector(sc.conn.Caps(), maxRows)
		} else {
			sc.col = engine.NewCollector(sc.conn.Caps())
		}
		frame := x.frame
		switch {
		case i > 0 && sameBytes(texts[i], texts[i-1]):
			frame = conns[i-1].req.Frame // sent already: its header is written again, the same
		case !x.binary && x.frame != nil && sameBytes(texts[i], x.text):
			// The client's own COM_QUERY, as for a single shard.
		default:
			frame = queryFrame(texts[i])
		}
		sc.req = tabletserver.Request{Frame: frame, Multi: tabletserver.MultiOff}
		if sc.begin != "" {
			sc.req.Pre = []string{sc.begin}
		}
		if sc.err = sc.conn.Send(x.ctx, &sc.req); sc.err != nil {
			sc.col.Finish(sc.err)
			continue
		}
		sent[i] = true
	}
	receive := func(sc *shardConn) {
		sc.res, sc.err = sc.conn.Receive(sc.col)
		sc.col.Finish(sc.err)
	}
	if maxRows >= 0 {
		for i, sc := range conns {
			if sent[i] {
				receive(sc)
			}
		}
		x.s.setShardActive(nil)
		return func() {}
	}
	var wg sync.WaitGroup
	for i, sc := range conns {
		if sent[i] {
			wg.Go(func() { receive(sc) }) // owner: this statement; wait() returns after it
		}
	}
	return func() {
		wg.Wait()
		x.s.setShardActive(nil)
	}
}

// settle keeps or gives back each connection after a statement on several shards: kept when
// the session's transaction goes on there (keep), else released; a broken one is closed,
// and with a transaction on it the whole transaction is lost. It returns what was lost ("").
func (e *Executor) settle(x *stmtRun, conns []*shardConn, keep, wrote bool) string {
	s := x.s
	lost := ""
	for _, sc := range conns {
		broken := sc.err != nil && !tabletserver.StatementOnly(sc.err)
		if broken {
			sc.conn.Close()
			if h := s.shard.find(sc.key); h != nil {
				s.shard.remove(h)
				lost = "the open transaction (rolled back)"
			}
			continue
		}
		if keep {
			if !sc.held {
				sc.conn.Hold()
				s.shard.conns = append(s.shard.conns, &heldConn{key: sc.key, conn: sc.conn, server: sc.server})
			}
			sc.conn.SetTransaction(true)
			if wrote {
				s.shard.find(sc.key).wrote = true
			}
			continue
		}
		if sc.held {
			continue // kept by the session for its transaction
		}
		sc.conn.Release(0)
	}
	if lost != "" {
		e.releaseAll(s)
		s.state.Lost()
	}
	s.forgetLast()
	s.showHeld()
	e.noteHolds(s, s.state.Holds())
	return lost
}

// collectWarnings reads the warnings of the shards that reported some, for SHOW WARNINGS.
func (e *Executor) collectWarnings(x *stmtRun, conns []*shardConn, ends []*engine.End, extra []engine.Warning) {
	s := x.s
	s.shard.warnings = append(s.shard.warnings[:0], extra...)
	s.shard.warningsValid = true
	for i, sc := range conns {
		if ends[i] == nil || ends[i].Warnings == 0 || (sc.err != nil && !tabletserver.StatementOnly(sc.err)) {
			continue
		}
		rows, err := sc.conn.Silent(x.ctx, "SHOW WARNINGS")
		if err != nil {
			continue
		}
		for _, r := range rows {
			if len(r) == 3 {
				code, _ := parseUint16(r[1])
				s.shard.warnings = append(s.shard.warnings, engine.Warning{Level: r[0], Code: code, Message: r[2]})
			}
		}
	}
}

func parseUint16(v string) (uint16, bool) {
	var n uint16
	for _, c := range v {
		if c < '0' || c > '9' {
			return n, false
		}
		n = n*10 + uint16(c-'0')
	}
	return n, true
}

// scatterSelect runs a SELECT on several shards (or, none, on one for its columns only) and
// merges their replies.
func (e *Executor) scatterSelect(x *stmtRun, r *planner.Route, shards []string, none bool) error {
	s := x.s
	// With autocommit off the shards' servers open a transaction with the statement: the
	// session keeps the connections as in an explicit one.
	inTx := s.state.InTransaction() || !s.state.Autocommit()
	conns, err := e.acquire(x, keysOf(r.Keyspace.Name, shards, orderMain), inTx, s.state.InTransaction())
	if err != nil {
		return x.c.WriteError(err)
	}
	text := x.render(r.Query)
	if r.Verbatim && !x.binary { // a prepared statement's text has '?': Query renders it
		text = x.text
	}
	texts := make([][]byte, len(conns))
	names := make([]string, len(conns))
	cols := make([]*engine.Collector, len(conns))
	for i, sc := range conns {
		texts[i], names[i] = text, sc.key.String()
	}
	maxRows := streamed
	if !none {
		maxRows = boundedRows(x.plan.Merge, x.tv.Vals)
	}
	wait := e.start(x, conns, texts, maxRows)
	for i, sc := range conns {
		cols[i] = sc.col
	}
	w := engine.NewResultWriter(x.c.RawWriter(), x.c.Capabilities(), x.binary)
	w.UseBuffer(s.shard.out)
	defer func() { s.shard.out = w.Buffer() }()
	in := &engine.SelectInput{
		Merge: x.plan.Merge, Vals: x.tv.Vals, Sources: cols, Names: names,
		PadFor: e.padFor(x, conns), Status: s.state.Status(), DropRows: none,
		ScatterErrorsAsWarnings: x.plan.Directives.ScatterErrorsAsWarnings,
	}
	res, merr := engine.Select(in, w)
	wait()
	if merr == nil && (res.Warnings > 0 || len(res.Failed) > 0) {
		e.collectWarnings(x, conns, res.Ends, res.Failed)
	} else {
		s.shard.warnings, s.shard.warningsValid = nil, merr == nil
	}
	lost := e.settle(x, conns, inTx, false)
	if merr != nil {
		return e.failed(x, w, merr, lost)
	}
	reply := session.Reply{StatusKnown: true, Status: s.state.Status(), ResultSet: true, LastRows: res.Rows, Warnings: res.Warnings}
	if res.InTrans {
		reply.Status |= mysql.SERVER_STATUS_IN_TRANS
	}
	s.state.Apply(&x.q.sess, &reply)
	e.noteHolds(s, s.state.Holds())
	x.c.SetStatus(s.state.Status())
	e.setIdleTimeout(x.c, s)
	return nil
}

// failed reports an error of a statement on several shards, after whatever part of the
// result was written.
func (e *Executor) failed(x *stmtRun, w *engine.ResultWriter, err error, lost string) error {
	if engine.IsClientError(err) {
		return err // the client is gone
	}
	if engine.IsUnsupported(err) {
		err = errNotSupported("%s", err.Error())
	}
	if lost != "" {
		err = withSuffix(err, "; "+lost+" was lost with a backend connection")
	}
	if w != nil && w.Wrote {
		x.c.SetSequence(w.Seq())
	}
	if me := asMyError(err); me == nil {
		err = errUnavailable("%v", err)
	}
	return x.c.WriteError(err)
}

// scatterWrite runs a write (UPDATE, DELETE) on several shards.
func (e *Executor) scatterWrite(x *stmtRun, ks string, shards []string, text []byte) error {
	main := make([]unit, len(shards))
	for i, sh := range shards {
		main[i] = unit{key: shardKey{ks: ks, shard: sh}, text: text}
	}
	res, err := e.writeUnits(x, nil, main, nil)
	if err != nil {
		return e.failed(x, nil, err, "")
	}
	return e.okWrite(x, res)
}

// unit is one statement of a write on one shard's connection of a commit order.
type unit struct {
	key  shardKey
	text []byte
}

// writeUnits runs a write's statements: the pre ones (lookup rows), then the main ones (the
// statement's), then the post ones, each group on its shards at once. Inside the session's
// transaction they join it; in autocommit mode, when there are several, they are one
// implicit transaction committed in Vitess's order (pre, main, post) here, unless
// MULTI_SHARD_AUTOCOMMIT. transaction_mode single refuses a write to a second shard. It
// returns the main statements' added-up OKs.
func (e *Executor) writeUnits(x *stmtRun, pre, main, post []unit) (engine.WriteResult, error) {
	s := x.s
	inTx := s.state.InTransaction() || !s.state.Autocommit()
	msac := x.plan.Directives.MultiShardAutocommit
	implicit := !inTx && len(pre)+len(main)+len(post) > 1 && !msac
	if err := e.checkSingle(x, main, inTx, msac); err != nil {
		return engine.WriteResult{}, err
	}
	var all []*shardConn
	var mainRes engine.WriteResult
	var failure error
	partial := false
	for phase, units := range [][]unit{pre, main, post} {
		if len(units) == 0 || failure != nil {
			continue
		}
		res, conns, err := e.runUnits(x, units, inTx || implicit)
		all = append(all, conns...)
		if phase == 1 {
			mainRes = res
		}
		switch {
		case err != nil:
			failure = err
		case res.Err != nil:
			failure = res.Err
			partial = len(res.OK) > 0 || phase > 0
		}
		if phase == 1 && res.Warnings > 0 {
			e.collectWarnings(x, conns, res.Ends, nil)
		}
	}
	if phase1Clean := failure == nil; phase1Clean && mainRes.Warnings == 0 {
		s.shard.warnings, s.shard.warningsValid = nil, true
	}
	if implicit {
		mainRes.InTrans = false // committed here
		return mainRes, e.commitImplicit(x, all, failure)
	}
	lost := e.settle(x, all, inTx, true)
	switch {
	case failure == nil:
		return mainRes, nil
	case lost != "":
		return mainRes, withSuffix(failure, "; "+lost+" was lost with a backend connection")
	case inTx && partial:
		// Part of the statement ran: as vtgate, the transaction cannot go on.
		_ = e.endTransaction(s, false)
		return mainRes, withSuffix(failure, "; the statement had run on other shards, so the transaction was rolled back")
	case !inTx && len(mainRes.OK) > 0:
		return mainRes, withSuffix(failure, "; the statement succeeded on "+joinNames(mainRes.OK)+", which kept its changes (MULTI_SHARD_AUTOCOMMIT)")
	}
	return mainRes, failure
}

// checkSingle refuses, in transaction_mode single, a write that would make the transaction
// (or the implicit one of the statement) write to more than one shard.
func (e *Executor) checkSingle(x *stmtRun, main []unit, inTx, msac bool) error {
	s := x.s
	if e.txMode(s) != TxModeSingle || msac {
		return nil
	}
	touched := map[string]bool{}
	for _, u := range main {
		touched[u.key.String()] = true
	}
	if inTx {
		for _, h := range s.shard.conns {
			if h.wrote && h.key.order == orderMain {
				touched[h.key.String()] = true
			}
		}
	}
	if len(touched) <= 1 {
		return nil
	}
	names := make([]string, 0, len(touched))
	for n := range touched {
		names = append(names, n)
	}
	sort.Strings(names)
	if inTx {
		_ = e.endTransaction(s, false)
		return singleModeError(names[0], joinNames(names[1:]))
	}
	return &mysql.MyError{Code: mysql.ER_QUERY_INTERRUPTED, State: "70100", Message: "vtdirect: multi-db transaction attempted: transaction_mode is single and this statement writes to " +
		joinNames(names) + "; write one shard at a time, or SET transaction_mode = 'multi' (or /*vt+ MULTI_SHARD_AUTOCOMMIT=1 */)"}
}

// runUnits runs one group of statements at once and adds up their OKs.
func (e *Executor) runUnits(x *stmtRun, units []unit, tx bool) (engine.WriteResult, []*shardConn, error) {
	keys := make([]shardKey, len(units))
	texts := make([][]byte, len(units))
	for i, u := range units {
		keys[i], texts[i] = u.key, u.text
	}
	inTx := x.s.state.InTransaction() || !x.s.state.Autocommit()
	conns, err := e.acquire(x, keys, tx, x.s.state.InTransaction())
	if err != nil {
		return engine.WriteResult{}, nil, err
	}
	if tx && !inTx {
		for _, sc := range conns {
			if !sc.held {
				sc.begin = "BEGIN" // the implicit transaction
			}
		}
	}
	names := make([]string, len(conns))
	cols := make([]*engine.Collector, len(conns))
	// Each shard's OK read as it comes (a goroutine each): one read late, after its query
	// timeout fired because another shard was slow, would report a committed write as failed.
	wait := e.start(x, conns, texts, -1)
	for i, sc := range conns {
		names[i], cols[i] = sc.key.String(), sc.col
	}
	res := engine.Writes(cols, names)
	wait()
	return res, conns, nil
}

// partialWrite is the error of a write that failed on some shards: in autocommit mode
// without a transaction (MULTI_SHARD_AUTOCOMMIT) the others kept their changes.
func (e *Executor) partialWrite(res engine.WriteResult, inTx bool) error {
	if len(res.OK) == 0 || inTx {
		return res.Err
	}
	return withSuffix(res.Err, "; the statement succeeded on "+joinNames(res.OK)+", which kept its changes")
}

// commitImplicit ends the implicit transaction of a write in autocommit mode: committed
// connection by connection in commit order, or, when the write failed, rolled back
// everywhere.
func (e *Executor) commitImplicit(x *stmtRun, conns []*shardConn, failure error) error {
	defer x.s.forgetLast()
	if failure != nil {
		for _, sc := range conns {
			if sc.err != nil && !tabletserver.StatementOnly(sc.err) {
				sc.conn.Close()
				continue
			}
			e.releaseHeld(&heldConn{conn: sc.conn})
		}
		return withSuffix(failure, "; no shard kept the statement's changes (rolled back)")
	}
	var committed []string
	var cerr error
	for _, sc := range conns {
		if cerr != nil {
			e.releaseHeld(&heldConn{conn: sc.conn})
			continue
		}
		if _, err := sc.conn.Silent(x.ctx, "COMMIT AND NO CHAIN NO RELEASE"); err != nil {
			sc.conn.Close()
			cerr = e.commitFailure(sc.key, committed, err)
			continue
		}
		committed = append(committed, sc.key.String())
		sc.conn.SetTransaction(false)
		sc.conn.Release(0)
	}
	return cerr
}

func joinNames(names []string) string {
	out := ""
	for i, n := range names {
		if i > 0 {
			out += ", "
		}
		out += n
	}
	return out
}

var errNoShards = errors.New("no shards")

package router

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"

	"github.com/go-mysql-org/go-mysql/mysql"
	"google.golang.org/protobuf/proto"
	querypb "vitess.io/vitess/go/vt/proto/query"
	topodatapb "vitess.io/vitess/go/vt/proto/topodata"
	vtgatepb "vitess.io/vitess/go/vt/proto/vtgate"

	"github.com/vtdirect/vtdirect/classify"
	"github.com/vtdirect/vtdirect/tabletserver"
)

// maxExecuteResult bounds a gRPC Execute result, which is buffered whole (the MySQL protocol
// streams instead).
const maxExecuteResult = 64 << 20

// ExecuteGRPC runs one statement of the Vitess gRPC API's Execute in the session's target
// (Session.TargetString, e.g. "commerce:0@replica"). It serves what change-data consumers
// such as the Debezium connector ask before they stream (SHOW DATABASES, SHOW TABLES
// [FROM ks], SHOW VITESS_SHARDS, SHOW VITESS_TABLETS) and plain autocommit statements, which go
// to a tablet as MySQL-protocol queries do. Transactions and session state are for the
// MySQL protocol. user is the caller (its access rules apply, as over the MySQL protocol) and
// host its address, for messages.
func (e *Executor) ExecuteGRPC(ctx context.Context, user, host string, session *vtgatepb.Session, sql string, bindVars map[string]*querypb.BindVariable) (*querypb.QueryResult, *vtgatepb.Session, error) {
	if len(bindVars) > 0 {
		return nil, session, &mysql.MyError{Code: mysql.ER_NOT_SUPPORTED_YET, State: "42000",
			Message: "vtdirect: bind variables are not supported by Execute yet; put the values in the SQL"}
	}
	s := &Session{rnd: rand.Uint64() | 1, userName: user, host: host, ex: e}
	if ts := session.GetTargetString(); ts != "" {
		if err := e.setTarget(s, ts); err != nil {
			return nil, session, err
		}
	}
	q := []byte(sql)
	opt := e.baseLexOptions(s)
	if lim, err := e.limitInfoSchema(s, q, func() classify.Options { return opt }, false); err != nil { // infoschema.go
		return nil, session, err
	} else {
		q = lim
	}
	cq := classify.Analyze(q, opt)
	// access control, as for a MySQL-protocol session
	if err := e.authorize(s, q, &cq, opt, false); err != nil {
		return nil, session, err
	}
	snap := e.reg.Snapshot()
	visible := e.keyspaceFilter(s)
	st := &cq.First
	switch {
	case cq.Count != 1:
		return nil, session, &mysql.MyError{Code: mysql.ER_NOT_SUPPORTED_YET, State: "42000",
			Message: "vtdirect: gRPC Execute runs one statement at a time"}
	case st.Kind == classify.KindShow && st.Show.Kind == classify.ShowDatabases:
		return databasesTable(snap, visible).queryResult(), session, nil
	case st.Kind == classify.KindShow && st.Show.Kind == classify.ShowVitessShards:
		return vitessShardsTable(snap, st.Show.Like, visible).queryResult(), session, nil
	case st.Kind == classify.KindShow && st.Show.Kind == classify.ShowVitessTablets:
		return vitessTabletsTable(snap, st.Show.Like, visible).queryResult(), session, nil
	case st.Kind == classify.KindUse:
		if err := e.setTarget(s, st.Name); err != nil {
			return nil, session, err
		}
		out := proto.Clone(session).(*vtgatepb.Session)
		out.TargetString = st.Name
		return &querypb.QueryResult{}, out, nil
	case st.Kind == classify.KindBegin || st.Kind == classify.KindCommit || st.Kind == classify.KindRollback ||
		st.Kind == classify.KindSet || st.Kind == classify.KindKill || st.Kind == classify.KindConnectionID ||
		st.Flags.Any(classify.WritesUserVar|classify.CreatesTempTable|classify.TakesLock|classify.SQLPrepare|classify.OpensHandler|classify.XA):
		return nil, session, &mysql.MyError{Code: mysql.ER_NOT_SUPPORTED_YET, State: "42000", Message: fmt.Sprintf(
			"vtdirect: %s is not supported by gRPC Execute, whose statements each run alone in autocommit mode; use the MySQL protocol", strings.ToUpper(st.Kind.String()))}
	case !cq.ReadOnly && s.hasTarget && s.target.TabletType != topodatapb.TabletType_PRIMARY:
		return nil, session, errReadOnlyTarget(s.target)
	}
	renameFrom, renameTo := "", ""
	if ks, rest, ok := showTablesFrom(q); ok {
		// SHOW TABLES FROM keyspace: ask the keyspace's tablet for its own database, and name
		// the column after the keyspace, as vtgate does.
		if err := e.setTarget(s, ks); err != nil {
			return nil, session, err
		}
		q = rest
	}
	tab, err := e.pick(s)
	if err != nil {
		return nil, session, err
	}
	if !bytes.Equal(q, []byte(sql)) {
		renameFrom, renameTo = "Tables_in_"+tab.Server.DBName(), "Tables_in_"+s.target.Keyspace
	}
	qr, err := e.executeBuffered(ctx, tab.Server, q)
	if err != nil {
		return nil, session, err
	}
	for _, f := range qr.Fields {
		if renameFrom != "" && strings.HasPrefix(f.Name, renameFrom) {
			f.Name = renameTo + f.Name[len(renameFrom):]
		}
	}
	return qr, session, nil
}

// executeBuffered runs a query on a pooled connection and decodes the whole reply.
func (e *Executor) executeBuffered(ctx context.Context, ts *tabletserver.TabletServer, q []byte) (*querypb.QueryResult, error) {
	if len(q)+1 >= 1<<24-1 {
		return nil, &mysql.MyError{Code: mysql.ER_NET_PACKET_TOO_LARGE, State: "08S01", Message: "vtdirect: statement too large for Execute"}
	}
	frame := make([]byte, 5, 5+len(q))
	frame[4] = mysql.COM_QUERY
	frame = append(frame, q...)
	conn, err := ts.Get(ctx, tabletserver.Want{})
	if err != nil {
		return nil, err
	}
	w := &cappedBuffer{limit: maxExecuteResult}
	res, err := conn.Exec(ctx, &tabletserver.Request{Frame: frame, Multi: tabletserver.MultiOff}, w) // one statement, as vtgate's Execute
	if err != nil {
		conn.Close()
		if w.full {
			return nil, errTooLarge(maxExecuteResult)
		}
		return nil, err
	}
	if res.Err == nil && (res.SawInTrans || res.StateChanged) {
		// The statement opened a transaction (XA START...): it cannot outlive the call.
		conn.Close()
		return nil, &mysql.MyError{Code: mysql.ER_NOT_SUPPORTED_YET, State: "42000",
			Message: "vtdirect: the statement left a transaction or session state open, which gRPC Execute cannot keep; it was rolled back"}
	}
	conn.Release(0)
	return decodeResult(w.Bytes())
}

// cappedBuffer collects a reply up to a limit.
type cappedBuffer struct {
	bytes.Buffer
	limit int
	full  bool
}

var errBufferFull = errors.New("result too large")

func (b *cappedBuffer) Write(p []byte) (int, error) {
	if b.Len()+len(p) > b.limit {
		b.full = true
		return 0, errBufferFull
	}
	return b.Buffer.Write(p)
}

// showTablesFrom recognises SHOW [FULL] TABLES {FROM|IN} db [LIKE ...] and returns db and the
// statement without its FROM part.
func showTablesFrom(q []byte) (string, []byte, bool) {
	tz := classify.NewTokenizer(q, classify.Options{})
	var toks []classify.Token
	for t := tz.Next(); t.Kind != classify.TokEOF && t.Kind != classify.TokError && t.Kind != classify.TokSemicolon && len(toks) < 6; t = tz.Next() {
		toks = append(toks, t)
	}
	is := func(i int, w string) bool {
		return i < len(toks) && toks[i].Kind == classify.TokWord && bytes.EqualFold(q[toks[i].Start:toks[i].End], []byte(w))
	}
	if !is(0, "show") {
		return "", nil, false
	}
	i := 1
	if is(i, "full") {
		i++
	}
	if !is(i, "tables") || !(is(i+1, "from") || is(i+1, "in")) || i+2 >= len(toks) {
		return "", nil, false
	}
	dbTok := toks[i+2]
	if dbTok.Kind != classify.TokWord && dbTok.Kind != classify.TokQuotedIdent {
		return "", nil, false
	}
	db := unquoteIdent(q[dbTok.Start:dbTok.End])
	if db == "" {
		return "", nil, false
	}
	rest := append(append([]byte("SHOW "), q[toks[1].Start:toks[i].End]...), q[dbTok.End:]...)
	return db, rest, true
}

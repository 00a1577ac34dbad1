package router

import (
	"bytes"
	"slices"
	"strings"

	"github.com/vtdirect/vtdirect/acl"
	"github.com/vtdirect/vtdirect/classify"
	"github.com/vtdirect/vtdirect/session"
)

// answerKind is a statement the gateway answers itself.
type answerKind uint8

const (
	answerNone answerKind = iota
	answerUse
	answerShowDatabases
	answerConnectionID
	answerKill
	answerShowVitessShards
	answerShowVitessTablets
	answerRefuse // arg is the reason
	answerShowProcesslist
)

// query is what the router knows of a client's statement text before it runs it.
type query struct {
	// answer is a statement the gateway answers itself (a query of one statement), with its
	// argument: the database of USE, the column name of SELECT CONNECTION_ID(), the pattern of
	// SHOW VITESS_*; kill the details of KILL.
	answer answerKind
	arg    string
	kill   *classify.Kill
	// readOnly: every statement provably only reads, so a replica may run it.
	readOnly bool
	// multi: several statements in one COM_QUERY.
	multi bool
	// sess is what the session needs to know of it.
	sess session.Statement
	// rowCount is the column name when the query is exactly SELECT ROW_COUNT() [AS alias],
	// which the gateway answers itself when the session's last connection is gone.
	rowCount string
	// kind is the (first) statement's kind.
	kind classify.Kind
	// full: SHOW FULL PROCESSLIST.
	full bool
	// parsed is the classification and opt the lexing options it was made with, for the
	// access check.
	parsed classify.Query
	opt    classify.Options
	// checked is the policy and target under which a prepared statement's text was last
	// allowed (authorizeStmt), so an execution checks it again only when either changed.
	checked struct {
		policy *acl.Policy
		target Target
		has    bool
		opt    classify.Options
	}
}

// lexOptions are the session's lexing options now (sqlmode.go).
func (s *Session) lexOptions() classify.Options { return lexOptions(s) }

// analyze classifies a statement text with the session's lexing options (its sql_mode's
// NO_BACKSLASH_ESCAPES and ANSI_QUOTES, its client character set).
func (e *Executor) analyze(s *Session, q []byte) query {
	opt := lexOptions(s)
	cq := classify.Analyze(q, opt)
	out := query{readOnly: cq.ReadOnly, multi: cq.Count > 1, kind: cq.First.Kind, parsed: cq, opt: opt}
	first := &cq.First
	if cq.Count == 1 && preparesUse(first) {
		out.answer, out.arg = answerRefuse, errPreparedUse
		return out
	}
	if cq.Count == 1 {
		switch first.Kind {
		case classify.KindUse:
			out.answer, out.arg = answerUse, first.Name
		case classify.KindConnectionID:
			out.answer, out.arg = answerConnectionID, first.Name
		case classify.KindKill:
			out.answer, out.kill = answerKill, first.Kill
		case classify.KindShow:
			switch first.Show.Kind {
			case classify.ShowDatabases:
				out.answer = answerShowDatabases
			case classify.ShowVitessShards:
				out.answer, out.arg = answerShowVitessShards, first.Show.Like
			case classify.ShowVitessTablets:
				out.answer, out.arg = answerShowVitessTablets, first.Show.Like
			case classify.ShowProcesslist:
				out.answer, out.full = answerShowProcesslist, first.Show.Full
			}
		}
	}
	sess := &out.sess
	sess.Multi = out.multi
	flags := cq.Flags
	if cq.Count <= 1 {
		e.describe(sess, first, flags, q, s)
		if flags.Has(classify.ReadsRowCount) {
			out.rowCount = selectFunc(q, opt, "row_count")
		}
		return out
	}
	// Several statements: the union of what they do; the last decides what the results are.
	explained := true
	for st := range classify.Statements(q, opt) {
		switch st.Kind {
		case classify.KindUse:
			// The gateway keeps the session's database and replays it on every connection
			// that serves the session: a USE it does not answer itself would change one
			// backend connection's behind its back.
			out.answer, out.arg = answerRefuse, "USE inside a multi-statement query is not supported; send it as a query of its own (or use COM_INIT_DB)"
			return out
		case classify.KindPrepare, classify.KindExecute:
			if preparesUse(&st) {
				out.answer, out.arg = answerRefuse, errPreparedUse
				return out
			}
		case classify.KindKill:
			// KILL takes the gateway's connection ids, which only a KILL of its own means.
			out.answer, out.arg = answerRefuse, "KILL inside a multi-statement query is not supported; send it as a query of its own"
			return out
		}
		if (st.Kind == classify.KindCommit || st.Kind == classify.KindRollback) && !st.Flags.Has(classify.NoRelease) && setsCompletionTypeUnknown(sess) {
			// Whether the server ends the connection at this COMMIT depends on a value the
			// gateway cannot read before it runs.
			out.answer, out.arg = answerRefuse, "SET completion_type to a value other than a literal, then COMMIT or ROLLBACK, in one multi-statement query is not supported; send the SET as a query of its own"
			return out
		}
		e.describe(sess, &st, st.Flags, q, s)
		explained = explained && stateExplained(&st)
	}
	sess.StateExplained = explained
	return out
}

// describe adds what one statement does to sess. Called for each statement of a query, in
// order: the last one's Select, Diagnostics and UsesTables stand.
func (e *Executor) describe(sess *session.Statement, st *classify.Statement, f classify.Flags, q []byte, s *Session) {
	kind := st.Kind
	if kind == classify.KindExplain && st.Inner != classify.KindUnknown {
		kind = st.Inner // ANALYZE <statement> runs it
	}
	sess.Select = kind == classify.KindSelect || kind == classify.KindConnectionID || kind == classify.KindSelectAutocommit
	sess.Diagnostics = f.Has(classify.DiagnosticsStatement)
	switch kind {
	case classify.KindInsert, classify.KindUpdate, classify.KindDelete, classify.KindReplace, classify.KindDDL, classify.KindLoad:
		sess.UsesTables = true
	case classify.KindSelect:
		// Only worth the work when the session has diagnostics that a statement without a
		// table would leave in place.
		sess.UsesTables = s.state.Holds()&session.HoldDiagnostics != 0 && selectsFromTable(q[st.Start:st.End], s)
	default:
		sess.UsesTables = false
	}
	if kind == classify.KindBegin || (kind == classify.KindXA && xaVerb(q[st.Start:st.End], s) == "start") {
		sess.Begin = true
	}
	need := func(flag classify.Flags, n session.Needs) {
		if f.Has(flag) {
			sess.Needs |= n
		}
	}
	need(classify.ReadsLastInsertID, session.NeedLastInsertID)
	need(classify.ReadsFoundRows, session.NeedFoundRows)
	need(classify.ReadsRowCount, session.NeedRowCount)
	need(classify.ReadsDiagnostics, session.NeedDiagnostics)
	makes := func(flag classify.Flags, m session.Makes) {
		if f.Any(flag) {
			sess.Makes |= m
		}
	}
	makes(classify.WritesUserVar, session.MakesUserVar)
	makes(classify.CreatesTempTable, session.MakesTempTable)
	makes(classify.SQLPrepare, session.MakesPrepared)
	makes(classify.OpensHandler, session.MakesHandler)
	makes(classify.CalcFoundRows, session.MakesCalcFoundRows)
	makes(classify.SetsLastInsertID, session.SetsLastInsertID)
	makes(classify.Call|classify.Compound, session.MakesCall)
	// LASTVAL() is the connection's: a session using sequences keeps its connection.
	makes(classify.WritesSequence|classify.ReadsSequence, session.MakesUnknown)
	if f.Has(classify.TakesLock) {
		if kind == classify.KindLock {
			sess.Makes |= session.MakesTableLock
		} else {
			sess.Makes |= session.MakesLock // GET_LOCK(): held until the connection is reset
		}
	}
	if f.Has(classify.ReleasesLock) && kind == classify.KindUnlock {
		sess.Makes |= session.ReleasesTableLock
	}
	if f.Has(classify.XA) {
		// In a query of several statements, an XA START, END or PREPARE keeps the connection
		// counted as holding a branch, whatever ends one before or after it (XA ROLLBACK 'a';
		// XA START 'b' leaves one open; which of them ran when the query fails is unknown).
		switch xaVerb(q[st.Start:st.End], s) {
		case "commit", "rollback":
			if sess.Makes&session.MakesXA == 0 {
				sess.Makes |= session.EndsXA
			}
		case "recover":
			// Lists the prepared branches: reads, makes nothing.
		default:
			sess.Makes = sess.Makes&^session.EndsXA | session.MakesXA
		}
	}
	if kind == classify.KindUnknown || kind == classify.KindCompound {
		sess.Makes |= session.MakesUnknown
	}
	if f.Has(classify.Release) || (kind == classify.KindCommit || kind == classify.KindRollback) && !f.Has(classify.NoRelease) && releasesOnEnd(q[st.Start:st.End], st, sess, s) {
		sess.Release = true
	}
	if st.Set != nil {
		for _, a := range st.Set.Assignments {
			sess.Sets = append(sess.Sets, assignment(a))
		}
		sess.SetStatementVars = append(sess.SetStatementVars, st.Set.StatementVars...)
	}
	sess.StateExplained = stateExplained(st)
}

// stateExplained reports a statement whose state changes the server reports are all in the
// system variables it reports too: a SET of system variables, a transaction statement.
func stateExplained(st *classify.Statement) bool {
	switch st.Kind {
	case classify.KindSet:
		return !st.Flags.Has(classify.WritesUserVar)
	case classify.KindBegin, classify.KindCommit, classify.KindRollback, classify.KindSavepoint:
		return true
	}
	return false
}

// assignment is a SET assignment as the session takes it.
func assignment(a classify.Assignment) session.Assignment {
	out := session.Assignment{Name: a.Name, Value: a.Value, Literal: a.Literal, Collation: a.Collate}
	switch a.Form {
	case classify.SetVariable:
		out.Scope = session.ScopeSession
		if a.Scope == classify.ScopeGlobal {
			out.Scope = session.ScopeGlobal
		}
	case classify.SetUserVariable:
		out.Scope = session.ScopeUser
	case classify.SetNames:
		out.Scope = session.ScopeNames
		out.Name = a.Value
	case classify.SetCharset:
		out.Scope = session.ScopeCharset
		out.Name = a.Value
	case classify.SetTransaction:
		switch a.Scope {
		case classify.ScopeNextTransaction:
			out.Scope = session.ScopeTxNext
		case classify.ScopeGlobal:
			out.Scope = session.ScopeGlobal
		default:
			out.Scope = session.ScopeTxSession
		}
	default:
		out.Scope = session.ScopeOther
	}
	return out
}

// words returns the first n words (keywords or identifiers, lower-cased) of a statement.
func words(stmt []byte, s *Session, n int) []string {
	tz := classify.NewTokenizer(stmt, lexOptions(s))
	var out []string
	for len(out) < n {
		t := tz.Next()
		if t.Kind == classify.TokEOF || t.Kind == classify.TokError {
			break
		}
		if t.Kind != classify.TokWord {
			out = append(out, "")
			continue
		}
		out = append(out, string(bytes.ToLower(stmt[t.Start:t.End])))
	}
	return out
}

// preparesUse reports PREPARE s FROM 'USE db' and EXECUTE IMMEDIATE 'USE db': a USE the gateway
// would not see (the session's database is the gateway's; the access rules check it).
func preparesUse(st *classify.Statement) bool {
	return (st.Kind == classify.KindPrepare || st.Kind == classify.KindExecute) && st.Inner == classify.KindUse
}

const errPreparedUse = "USE cannot be prepared or run by EXECUTE IMMEDIATE through the gateway; send USE as a query of its own (or use COM_INIT_DB)"

// releasesOnEnd reports a COMMIT or ROLLBACK (without NO RELEASE) that ends the connection
// because completion_type is RELEASE (2): the session's, or SET STATEMENT's for this one (AND
// CHAIN releases too, in MariaDB). An earlier statement of the same query that sets it (SET
// completion_type = 2; COMMIT) decides over the session's, which the server reports only after.
func releasesOnEnd(stmt []byte, st *classify.Statement, sess *session.Statement, s *Session) bool {
	v, ok := s.state.Settings().Get("completion_type")
	for _, a := range sess.Sets {
		if a.Scope == session.ScopeSession && a.Name == "completion_type" {
			v, ok = a.Value, a.Literal
		}
	}
	if st.Set != nil && slices.Contains(st.Set.StatementVars, "completion_type") {
		v, ok = setStatementValue(stmt, s, "completion_type")
	}
	return ok && (strings.EqualFold(v, "release") || v == "2")
}

// setsCompletionTypeUnknown reports an earlier statement of the query that set the session's
// completion_type to a value that is not a literal (@v, 1+1, DEFAULT).
func setsCompletionTypeUnknown(sess *session.Statement) bool {
	unknown := false
	for _, a := range sess.Sets {
		if a.Scope == session.ScopeSession && a.Name == "completion_type" {
			unknown = !a.Literal
		}
	}
	return unknown
}

// setStatementValue is the value SET STATEMENT gives name in stmt (a word, number or string).
func setStatementValue(stmt []byte, s *Session, name string) (string, bool) {
	tz := classify.NewTokenizer(stmt, lexOptions(s))
	found := false
	for {
		t := tz.Next()
		switch {
		case t.Kind == classify.TokEOF || t.Kind == classify.TokError:
			return "", false
		case !found:
			found = t.Kind == classify.TokWord && bytes.EqualFold(stmt[t.Start:t.End], []byte(name))
		case t.Kind == classify.TokOp:
			// = or :=
		default:
			return strings.Trim(string(stmt[t.Start:t.End]), "'\""), true
		}
	}
}

// xaVerb is the verb of an XA statement: start, begin, end, prepare, commit, rollback, recover.
func xaVerb(stmt []byte, s *Session) string {
	w := words(stmt, s, 2)
	if len(w) < 2 {
		return ""
	}
	if w[1] == "begin" {
		return "start"
	}
	return w[1]
}

// selectsFromTable reports a SELECT with a FROM naming something other than DUAL.
func selectsFromTable(stmt []byte, s *Session) bool {
	tz := classify.NewTokenizer(stmt, lexOptions(s))
	afterFrom := false
	for {
		t := tz.Next()
		switch t.Kind {
		case classify.TokEOF, classify.TokError:
			return false
		case classify.TokWord, classify.TokQuotedIdent:
			w := stmt[t.Start:t.End]
			if afterFrom {
				return !(t.Kind == classify.TokWord && bytes.EqualFold(w, []byte("dual")))
			}
			afterFrom = t.Kind == classify.TokWord && bytes.EqualFold(w, []byte("from"))
		case classify.TokLParen:
			if afterFrom {
				return true // a derived table
			}
		default:
			afterFrom = false
		}
	}
}

// selectFunc returns the column name of a query that is exactly SELECT fn() [[AS] alias]: the
// expression as written, or the alias; "" for anything else.
func selectFunc(q []byte, opt classify.Options, fn string) string {
	tz := classify.NewTokenizer(q, opt)
	var toks [7]classify.Token
	n := 0
	for n < len(toks) {
		t := tz.Next()
		if t.Kind == classify.TokEOF || t.Kind == classify.TokSemicolon {
			break
		}
		toks[n] = t
		n++
	}
	if tz.Next().Kind != classify.TokEOF && n == len(toks) {
		return ""
	}
	word := func(i int, w string) bool {
		return i < n && toks[i].Kind == classify.TokWord && bytes.EqualFold(q[toks[i].Start:toks[i].End], []byte(w))
	}
	if n < 4 || !word(0, "select") || !word(1, fn) || toks[2].Kind != classify.TokLParen || toks[3].Kind != classify.TokRParen {
		return ""
	}
	switch {
	case n == 4:
		return string(q[toks[1].Start:toks[3].End])
	case n == 5 && (toks[4].Kind == classify.TokWord || toks[4].Kind == classify.TokQuotedIdent) && !word(4, "from"):
		return unquoteIdent(q[toks[4].Start:toks[4].End])
	case n == 6 && word(4, "as") && (toks[5].Kind == classify.TokWord || toks[5].Kind == classify.TokQuotedIdent || toks[5].Kind == classify.TokString):
		return unquoteIdent(q[toks[5].Start:toks[5].End])
	}
	return ""
}

// unquoteIdent removes the quotes of a quoted name (doubled quotes inside become one).
func unquoteIdent(b []byte) string {
	if len(b) >= 2 && (b[0] == '`' || b[0] == '"' || b[0] == '\'') && b[len(b)-1] == b[0] {
		q := b[0]
		return string(bytes.ReplaceAll(b[1:len(b)-1], []byte{q, q}, []byte{q}))
	}
	return string(b)
}

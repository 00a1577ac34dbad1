package router

import (
	"bytes"

	"github.com/vtdirect/vtdirect/session"
)

// query is what the router knows of a client's statement text before it runs it.
type query struct {
	// st is the classification: the gateway answers some kinds itself.
	st Statement
	// readOnly: the query provably only reads, so a replica may run it.
	readOnly bool
	// multi: several statements in one COM_QUERY.
	multi bool
	// sess is what the session needs to know of it.
	sess session.Statement
	// rowCount is the column name when the query is exactly SELECT ROW_COUNT() [AS alias],
	// which the gateway answers itself when the session's last connection is gone.
	rowCount string
}

// analyze classifies a statement text.
func analyze(q []byte) query {
	st := Classify(q)
	out := query{st: st}
	s := &out.sess
	switch st.Kind {
	case KindSelect, KindSelectAutocommit, KindConnectionID:
		out.readOnly, s.Select = true, true
	case KindOther, KindShowDatabases, KindShowVitessShards, KindShowVitessTablets, KindUse, KindKill:
		out.readOnly = true
	case KindSet, KindSetAutocommit:
		out.readOnly, s.StateExplained = true, true
		s.Sets = []session.Assignment{{Scope: session.ScopeSession}}
		if name, ok := settingName(q); ok {
			s.Sets[0].Name = name
		}
	case KindSetNoRecord:
		s.StateExplained = true
	case KindSetNextTx:
		out.readOnly, s.StateExplained = true, true
		s.Sets = []session.Assignment{{Scope: session.ScopeTxNext}}
	case KindBegin:
		out.readOnly, s.Begin, s.StateExplained = true, true, true
	case KindCommit, KindRollback:
		out.readOnly, s.StateExplained = true, true
	case KindStateful:
		out.readOnly = true
		s.Makes |= session.MakesUnknown
	}
	lower := bytes.ToLower(q)
	if i := bytes.IndexByte(q, ';'); i >= 0 && len(bytes.TrimSpace(bytes.TrimLeft(q[i:], "; \t\r\n"))) > 0 {
		out.multi = true // interim: the classifier splits statements exactly
		out.readOnly = false
	}
	switch st.Kind {
	case KindWrite:
		s.UsesTables = true
	case KindSelect:
		s.UsesTables = bytes.Contains(lower, []byte(" from ")) && !bytes.Contains(lower, []byte(" from dual"))
	}
	if bytes.Contains(lower, []byte("last_insert_id")) || bytes.Contains(lower, []byte("@@identity")) {
		s.Needs |= session.NeedLastInsertID
	}
	if bytes.Contains(lower, []byte("found_rows")) {
		s.Needs |= session.NeedFoundRows
	}
	if bytes.Contains(lower, []byte("sql_calc_found_rows")) {
		s.Makes |= session.MakesCalcFoundRows
	}
	if bytes.Contains(lower, []byte("row_count")) {
		s.Needs |= session.NeedRowCount
		out.rowCount = selectFunc(q, "row_count")
	}
	if bytes.Contains(lower, []byte("show warnings")) || bytes.Contains(lower, []byte("show errors")) {
		s.Needs |= session.NeedDiagnostics
		s.Diagnostics = true
	}
	if bytes.Contains(lower, []byte("warning_count")) || bytes.Contains(lower, []byte("error_count")) {
		s.Needs |= session.NeedDiagnostics
	}
	if bytes.Contains(lower, []byte("into @")) || bytes.Contains(lower, []byte(":=")) {
		s.Makes |= session.MakesUserVar
	}
	if bytes.HasPrefix(bytes.TrimSpace(lower), []byte("call")) {
		s.Makes |= session.MakesCall
	}
	return out
}

// selectFunc returns the column name of a query that is exactly SELECT fn() [[AS] alias]: the
// expression as written, or the alias; "" for anything else.
func selectFunc(q []byte, fn string) string {
	i := skipSpace(q, 0)
	w, next := word(q, i)
	if !eq(w, "select") {
		return ""
	}
	start := skipSpace(q, next)
	w, next = word(q, start)
	if !eq(w, fn) {
		return ""
	}
	j := skipSpace(q, next)
	if j >= len(q) || q[j] != '(' {
		return ""
	}
	j = skipSpace(q, j+1)
	if j >= len(q) || q[j] != ')' {
		return ""
	}
	end := j + 1
	name := string(q[start:end])
	j = skipSpace(q, end)
	if j == len(q) {
		return name
	}
	w, next = word(q, j)
	if eq(w, "as") {
		j = skipSpace(q, next)
		w, next = word(q, j)
	}
	if len(w) == 0 || eq(w, "from") || skipSpace(q, next) != len(q) {
		return ""
	}
	return string(w)
}

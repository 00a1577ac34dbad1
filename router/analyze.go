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
	}
	if bytes.Contains(lower, []byte("show warnings")) || bytes.Contains(lower, []byte("show errors")) {
		s.Needs |= session.NeedDiagnostics
		s.Diagnostics = true
	}
	if bytes.Contains(lower, []byte("warning_count")) || bytes.Contains(lower, []byte("error_count")) {
		s.Needs |= session.NeedDiagnostics
	}
	if bytes.HasPrefix(bytes.TrimSpace(lower), []byte("call")) {
		s.Makes |= session.MakesCall
	}
	return out
}

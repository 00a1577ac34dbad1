package router

import (
	"fmt"

	"github.com/go-mysql-org/go-mysql/mysql"

	"github.com/vtdirect/vtdirect/classify"
	"github.com/vtdirect/vtdirect/tabletserver"
)

// SQL PREPARE names: MariaDB's max_prepared_stmt_count bounds the prepared statements of the
// whole server, so that one session could take them all with PREPARE s1 FROM ..., PREPARE
// s2 ...; the gateway bounds each session's SQL PREPARE names as it bounds its COM_STMT_PREPARE
// statements (--mysql-server-max-prepared-stmts, mysqlserver/stmt.go), with MariaDB's error.
//
// The names are counted from the session's queries and their replies, as MariaDB keeps them:
// a PREPARE that succeeds adds its name (again for a name already prepared: nothing new), one
// that fails drops it (MariaDB deallocates the old statement first), DEALLOCATE | DROP PREPARE
// drops it, and so does an EXECUTE MariaDB answers with "unknown prepared statement" (1243).
// A multi-statement query that failed does not say which of its statements ran: its PREPAREs
// count as made and its DEALLOCATEs as not run, so that the count never falls below MariaDB's;
// a later DEALLOCATE of the name corrects it. The PREPAREs a statement may run inside itself
// (in a compound statement's body, in the text of EXECUTE IMMEDIATE, in the text of a prepared
// statement that EXECUTE runs: classify.PreparedNames) count as made once it ran. A reset,
// COM_CHANGE_USER and the loss of the backend connection that had them clear the names. (A
// stored procedure's PREPAREs are not counted: only an admin creates procedures.)

// sqlPrepared maps a session's SQL prepared statement names (lower case, as MariaDB compares
// them) to the names the statement's text may prepare when EXECUTE runs it (usually none).
type sqlPrepared map[string][]string

// prepareOp is what one statement of a query does to the session's names.
type prepareOp struct {
	kind  opKind
	name  string   // opPrepare, opDeallocate, opExecute
	names []string // opPrepare: the names its text may make; opMakes: the names it may make
}

type opKind uint8

const (
	opPrepare    opKind = iota // PREPARE name FROM ...
	opDeallocate               // DEALLOCATE | DROP PREPARE name
	opExecute                  // EXECUTE name
	opMakes                    // a statement that may run PREPAREs inside (compound, EXECUTE IMMEDIATE)
)

// prepareOps are what the statements of a query do to the session's names, in order (nil
// when it does nothing to them: the per-query path costs one flag test).
func prepareOps(text []byte, q *query) []prepareOp {
	if q.parsed.Flags&classify.SQLPrepare == 0 {
		return nil
	}
	if q.parsed.Count <= 1 {
		return appendPrepareOp(nil, text, &q.parsed.First)
	}
	var out []prepareOp
	for st := range classify.Statements(text, q.opt) {
		out = appendPrepareOp(out, text, &st)
	}
	return out
}

func appendPrepareOp(out []prepareOp, text []byte, st *classify.Statement) []prepareOp {
	switch {
	case st.Kind == classify.KindPrepare:
		return append(out, prepareOp{kind: opPrepare, name: st.Name, names: classify.PreparedNames([]byte(st.Text), st.TextOptions)})
	case st.Kind == classify.KindDeallocate:
		return append(out, prepareOp{kind: opDeallocate, name: st.Name})
	case st.Kind == classify.KindExecute && st.Text == "" && st.Name != "":
		return append(out, prepareOp{kind: opExecute, name: st.Name})
	case st.Kind == classify.KindExecute:
		if names := classify.PreparedNames([]byte(st.Text), st.TextOptions); len(names) > 0 {
			return append(out, prepareOp{kind: opMakes, names: names})
		}
	case st.Flags&classify.SQLPrepare != 0 && st.Start <= st.End && st.End <= len(text):
		if names := classify.PreparedNames(text[st.Start:st.End], st.Options); len(names) > 0 {
			return append(out, prepareOp{kind: opMakes, names: names})
		}
	}
	return out
}

// checkSQLPrepares refuses a query whose PREPAREs could give the session more names than
// max, before it runs (a multi-statement query is refused whole).
func checkSQLPrepares(max int, have sqlPrepared, ops []prepareOp) error {
	if len(ops) == 0 {
		return nil
	}
	n := len(have)
	type entry struct {
		exists bool
		names  []string
	}
	over := map[string]entry{} // the names as the query's statements before this one left them
	lookup := func(name string) entry {
		if e, ok := over[name]; ok {
			return e
		}
		names, ok := have[name]
		return entry{exists: ok, names: names}
	}
	makes := func(name string, names []string) error {
		if lookup(name).exists {
			return nil
		}
		if n >= max {
			return errTooManySQLPrepared(max)
		}
		n++
		over[name] = entry{exists: true, names: names}
		return nil
	}
	for _, op := range ops {
		switch op.kind {
		case opPrepare:
			if err := makes(op.name, op.names); err != nil {
				return err
			}
			over[op.name] = entry{exists: true, names: op.names}
		case opDeallocate:
			if lookup(op.name).exists {
				n--
			}
			over[op.name] = entry{}
		case opExecute:
			for _, name := range lookup(op.name).names {
				if err := makes(name, nil); err != nil {
					return err
				}
			}
		case opMakes:
			for _, name := range op.names {
				if err := makes(name, nil); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// errTooManySQLPrepared is MariaDB's ER_MAX_PREPARED_STMT_COUNT_REACHED, for the session's bound.
func errTooManySQLPrepared(max int) error {
	return &mysql.MyError{Code: mysql.ER_MAX_PREPARED_STMT_COUNT_REACHED, State: "42000", Message: fmt.Sprintf(
		"Can't create more than max_prepared_stmt_count statements (current value: %d) (vtdirect: SQL PREPARE names per session, "+
			"--mysql-server-max-prepared-stmts; DEALLOCATE PREPARE the statements the session no longer needs)", max)}
}

// noteSQLPrepares updates the session's names from the reply to a query (multi: of several
// statements) that ran.
func noteSQLPrepares(s *Session, ops []prepareOp, multi bool, res tabletserver.Result, err error) {
	if len(ops) == 0 {
		return
	}
	failed := res.Err
	if err != nil {
		if failed = asMyError(err); failed == nil {
			failed = &mysql.MyError{} // the outcome is unknown: as a failure
		}
	}
	if s.sqlPrepared == nil {
		s.sqlPrepared = sqlPrepared{}
	}
	made := func(name string) {
		if _, ok := s.sqlPrepared[name]; !ok {
			s.sqlPrepared[name] = nil // its text is not known: it makes nothing more
		}
	}
	for _, op := range ops {
		switch {
		case op.kind == opPrepare && (failed == nil || multi):
			s.sqlPrepared[op.name] = op.names
		case op.kind == opPrepare:
			delete(s.sqlPrepared, op.name) // MariaDB dropped the old statement of that name first
		case op.kind == opDeallocate && (failed == nil || !multi):
			delete(s.sqlPrepared, op.name)
		case op.kind == opExecute && !multi && failed != nil && failed.Code == mysql.ER_UNKNOWN_STMT_HANDLER:
			delete(s.sqlPrepared, op.name)
		case op.kind == opExecute:
			for _, name := range s.sqlPrepared[op.name] {
				made(name)
			}
		case op.kind == opMakes:
			// Whether or not it failed, it may have run some of them.
			for _, name := range op.names {
				made(name)
			}
		}
	}
}

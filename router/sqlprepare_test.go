package router

import (
	"slices"
	"strings"
	"testing"

	"github.com/go-mysql-org/go-mysql/mysql"

	"github.com/vtdirect/vtdirect/classify"
	"github.com/vtdirect/vtdirect/tabletserver"
)

// The session's SQL PREPARE names follow its queries and their replies as MariaDB keeps them,
// and a query that would take the session past the bound is refused before it runs.
func TestSQLPrepareNames(t *testing.T) {
	stmts := func(q string) ([]prepareOp, bool) {
		cq := classify.Analyze([]byte(q), classify.Options{})
		qq := query{parsed: cq, multi: cq.Count > 1}
		return prepareOps([]byte(q), &qq), qq.multi
	}
	ok := tabletserver.Result{}
	failed := tabletserver.Result{Err: &mysql.MyError{Code: mysql.ER_NO_SUCH_TABLE}}
	unknown := tabletserver.Result{Err: &mysql.MyError{Code: mysql.ER_UNKNOWN_STMT_HANDLER}}
	steps := []struct {
		q       string
		reply   tabletserver.Result
		refused bool   // over the bound of 2
		names   string // the names after it
	}{
		{"SELECT 1", ok, false, ""},
		{"PREPARE a FROM 'SELECT 1'", ok, false, "a"},
		{"prepare A from 'select 2'", ok, false, "a"},
		{"PREPARE b FROM 'SELECT 1'", failed, false, "a"},
		{"PREPARE b FROM 'SELECT 1'", ok, false, "a,b"},
		{"PREPARE c FROM 'SELECT 1'", ok, true, "a,b"},
		{"DEALLOCATE PREPARE a; PREPARE c FROM 'SELECT 1'", ok, false, "b,c"},
		{"PREPARE b FROM 'SELEC'", failed, false, "c"}, // MariaDB drops the old b first
		{"PREPARE d FROM 'SELECT 1'; SELECT * FROM nosuch", failed, false, "c,d"},
		{"DROP PREPARE c; SELECT * FROM nosuch", failed, false, "c,d"}, // may not have run
		{"PREPARE e FROM 'SELECT 1'", ok, true, "c,d"},
		{"EXECUTE c", unknown, false, "d"},
		{"DEALLOCATE PREPARE x", unknown, false, "d"},
		{"PREPARE d FROM 'SELECT 1'; PREPARE e FROM 'SELECT 1'; PREPARE f FROM 'SELECT 1'; DEALLOCATE PREPARE d", ok, true, "d"},
		{"PREPARE e FROM 'SELECT 1'; DEALLOCATE PREPARE d; PREPARE f FROM 'SELECT 1'", ok, false, "e,f"},
		{"EXECUTE IMMEDIATE 'SELECT 1'", ok, false, "e,f"},
		// PREPAREs inside a statement count as made once it ran, failed or not.
		{"BEGIN NOT ATOMIC PREPARE g FROM 'SELECT 1'; END", ok, true, "e,f"},
		{"DEALLOCATE PREPARE e; DEALLOCATE PREPARE f", ok, false, ""},
		{"FOR i IN 1..3 DO PREPARE g FROM 'SELECT 1'; END FOR", failed, false, "g"},
		{"EXECUTE IMMEDIATE 'BEGIN NOT ATOMIC PREPARE h FROM ''SELECT 1''; PREPARE i FROM ''x''; END'", ok, true, "g"},
		{"DROP PREPARE g", ok, false, ""},
		{"PREPARE p FROM 'BEGIN NOT ATOMIC PREPARE h FROM ''SELECT 1''; PREPARE i FROM ''x''; END'", ok, false, "p"},
		{"EXECUTE p", ok, true, "p"},
		{"PREPARE p FROM 'BEGIN NOT ATOMIC PREPARE h FROM ''SELECT 1''; END'", ok, false, "p"},
		{"EXECUTE p", failed, false, "h,p"},
	}
	s := &Session{}
	for _, st := range steps {
		list, multi := stmts(st.q)
		err := checkSQLPrepares(2, s.sqlPrepared, list)
		if (err != nil) != st.refused {
			t.Fatalf("%q: refused %v, want %v", st.q, err, st.refused)
		}
		if err != nil {
			if me := asMyError(err); me == nil || me.Code != mysql.ER_MAX_PREPARED_STMT_COUNT_REACHED ||
				!strings.HasPrefix(me.Message, "Can't create more than max_prepared_stmt_count statements (current value: 2)") {
				t.Fatalf("%q: %v", st.q, err)
			}
		} else {
			noteSQLPrepares(s, list, multi, st.reply, nil)
		}
		if got := namesOf(s.sqlPrepared); got != st.names {
			t.Fatalf("%q: names %q, want %q", st.q, got, st.names)
		}
	}
}

// namesOf lists the names of p, in order.
func namesOf(p sqlPrepared) string {
	names := make([]string, 0, len(p))
	for n := range p {
		names = append(names, n)
	}
	slices.Sort(names)
	return strings.Join(names, ",")
}

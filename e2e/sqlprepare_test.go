package e2e

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/go-mysql-org/go-mysql/client"
	gomysql "github.com/go-mysql-org/go-mysql/mysql"

	"github.com/vtdirect/vtdirect/gateway"
)

// A session's SQL PREPARE names are bounded as its COM_STMT_PREPARE statements are
// (--mysql-server-max-prepared-stmts), so that one session cannot use up MariaDB's
// server-wide max_prepared_stmt_count: past the bound a PREPARE of a new name gets MariaDB's
// 1461 and never reaches MariaDB; re-preparing a name, DEALLOCATE | DROP PREPARE, a failed
// PREPARE and a reset free names as MariaDB does; PREPAREs a statement runs inside itself
// count; the session keeps working, and other sessions have bounds of their own.
func TestSQLPrepareNamesPerSession(t *testing.T) {
	const max = 3
	g := newGateway(t, func(c *gatewayConfigT) { c.Limits = gateway.Limits{MaxPreparedStmts: max} })
	ctx := t.Context()
	a := conn(t, openDB(t, dsn(g, "commerce", "multiStatements=true")))
	exec := func(q string) error {
		_, err := a.ExecContext(ctx, q)
		return err
	}
	mustRun := func(q string) {
		t.Helper()
		if err := exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	tooMany := func(q string) {
		t.Helper()
		me := mysqlErr(t, exec(q), 1461)
		if want := fmt.Sprintf("Can't create more than max_prepared_stmt_count statements (current value: %d)", max); !strings.HasPrefix(me.Message, want) {
			t.Fatalf("%s: message %q, want it to start with %q", q, me.Message, want)
		}
	}
	executes := func(name string, want int64) {
		t.Helper()
		if got := queryInt(t, a, "EXECUTE "+name); got != want {
			t.Fatalf("EXECUTE %s = %d, want %d", name, got, want)
		}
	}
	for i := 1; i <= max; i++ {
		mustRun(fmt.Sprintf("PREPARE s%d FROM 'SELECT %d'", i, i))
	}
	mustRun("PREPARE S1 FROM 'SELECT 10'") // the same name (MariaDB ignores its case): nothing new
	tooMany("PREPARE s4 FROM 'SELECT 4'")
	tooMany("SELECT 1; PREPARE s4 FROM 'SELECT 4'") // a multi-statement query is refused whole
	mysqlErr(t, exec("EXECUTE s4"), 1243)           // MariaDB never prepared it
	executes("s1", 10)
	executes("s2", 2)

	mustRun("DEALLOCATE PREPARE s2")
	mustRun("PREPARE s4 FROM 'SELECT 4'")
	executes("s4", 4)
	mustRun("DROP PREPARE s3")
	mustRun("SELECT 1; PREPARE s5 FROM 'SELECT 5'; PREPARE s5 FROM 'SELECT 55'")
	executes("s5", 55)
	tooMany("PREPARE s6 FROM 'SELECT 6'")
	// A failed PREPARE drops the statement of that name (MariaDB deallocates it first).
	mysqlErr(t, exec("PREPARE s1 FROM 'SELEC 1'"), 1064)
	mysqlErr(t, exec("EXECUTE s1"), 1243)
	mustRun("PREPARE s6 FROM 'SELECT 6'")
	executes("s6", 6)
	// A multi-statement query that fails does not say which of its statements ran: its
	// DEALLOCATE counts as not run, until a DEALLOCATE of the name settles it.
	if err := exec("DEALLOCATE PREPARE s4; SELECT nosuch FROM nosuch_table"); err == nil {
		t.Fatal("a query reading a table that does not exist succeeded")
	}
	tooMany("PREPARE s7 FROM 'SELECT 7'")
	mysqlErr(t, exec("DEALLOCATE PREPARE s4"), 1243)
	mustRun("PREPARE s7 FROM 'SELECT 7'")
	executes("s7", 7)

	// Another session has its own bound.
	b := conn(t, openDB(t, dsn(g, "commerce")))
	for i := 1; i <= max; i++ {
		if _, err := b.ExecContext(ctx, fmt.Sprintf("PREPARE s%d FROM 'SELECT %d'", i, i)); err != nil {
			t.Fatalf("another session's PREPARE s%d: %v", i, err)
		}
	}
	executes("s5", 55)
	// PREPAREs in a compound statement's body or in the text of EXECUTE IMMEDIATE count too.
	bexec := func(q string) error {
		_, err := b.ExecContext(ctx, q)
		return err
	}
	if err := bexec("DEALLOCATE PREPARE s1"); err != nil {
		t.Fatal(err)
	}
	mysqlErr(t, bexec("BEGIN NOT ATOMIC PREPARE c1 FROM 'SELECT 1'; PREPARE c2 FROM 'SELECT 2'; END"), 1461)
	mysqlErr(t, bexec("EXECUTE c1"), 1243)
	if err := bexec("BEGIN NOT ATOMIC PREPARE c1 FROM 'SELECT 11'; END"); err != nil {
		t.Fatal(err)
	}
	if got := queryInt(t, b, "EXECUTE c1"); got != 11 {
		t.Fatalf("EXECUTE c1 = %d", got)
	}
	mysqlErr(t, bexec("EXECUTE IMMEDIATE 'BEGIN NOT ATOMIC PREPARE c2 FROM ''SELECT 2''; END'"), 1461)
	// ... and in a compound statement prepared with COM_STMT_PREPARE, at each execution.
	bin, err := b.PrepareContext(ctx, "BEGIN NOT ATOMIC PREPARE c2 FROM 'SELECT 2'; END")
	if err != nil {
		t.Fatal(err)
	}
	defer bin.Close()
	_, err = bin.ExecContext(ctx)
	mysqlErr(t, err, 1461)
	if err := bexec("DEALLOCATE PREPARE c1"); err != nil {
		t.Fatal(err)
	}
	if _, err := bin.ExecContext(ctx); err != nil {
		t.Fatal(err)
	}
	if got := queryInt(t, b, "EXECUTE c2"); got != 2 {
		t.Fatalf("EXECUTE c2 = %d", got)
	}

	// COM_RESET_CONNECTION deallocates them all, and frees the names.
	raw, err := client.Connect(g.MySQLAddr(), "app", "app", "commerce")
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	for i := 1; i <= max; i++ {
		if _, err := raw.Execute(fmt.Sprintf("PREPARE r%d FROM 'SELECT %d'", i, i)); err != nil {
			t.Fatal(err)
		}
	}
	_, err = raw.Execute("PREPARE r4 FROM 'SELECT 4'")
	var me *gomysql.MyError
	if !errors.As(err, &me) || me.Code != 1461 {
		t.Fatalf("PREPARE r4 past the bound: %v, want 1461", err)
	}
	if err := resetConnection(raw); err != nil {
		t.Fatal(err)
	}
	for i := 4; i < 4+max; i++ {
		if _, err := raw.Execute(fmt.Sprintf("PREPARE r%d FROM 'SELECT %d'", i, i)); err != nil {
			t.Fatalf("PREPARE r%d after COM_RESET_CONNECTION: %v", i, err)
		}
	}
}

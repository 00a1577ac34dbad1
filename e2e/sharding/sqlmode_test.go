package sharding

import (
	"strings"
	"testing"
)

// TestUnplannableSQLMode: while the session's sql_mode has a mode under which MariaDB reads
// expressions otherwise than the sharded planner (|| as concatenation, NOT before a
// comparison), a statement on a sharded keyspace is refused with 1235 saying what to do;
// SET (to leave the mode), COMMIT and ROLLBACK still go.
func TestUnplannableSQLMode(t *testing.T) {
	db := openDB(t, dsn(gw, "customer"))
	for _, mode := range []string{"'ORACLE'", "'PIPES_AS_CONCAT'", "'ANSI'", "'HIGH_NOT_PRECEDENCE'", "2"} { // 2: PIPES_AS_CONCAT's bit
		t.Run(mode, func(t *testing.T) {
			c := conn(t, db)
			mustExec(t, c, "SET sql_mode = "+mode)
			// Under PIPES_AS_CONCAT this is customer_id = 12; the planner would read OR.
			_, err := tryRows(t.Context(), c, "SELECT email FROM customer WHERE customer_id = 1 || 2")
			if me := mysqlErr(t, err, 1235); !strings.Contains(me.Message, "sql_mode") || !strings.Contains(me.Message, "SET sql_mode = DEFAULT") {
				t.Errorf("message %q does not say what to do", me.Message)
			}
			_, err = c.ExecContext(t.Context(), "SELECT email FROM customer WHERE customer_id = ?", 5) // prepared
			mysqlErr(t, err, 1235)
			mustExec(t, c, "COMMIT")
			mustExec(t, c, "SET sql_mode = DEFAULT")
			if got := rows(t, c, "SELECT email FROM customer WHERE customer_id = ?", 5); strings.Join(flat(got), ",") != "eve5@example.com" {
				t.Errorf("after SET sql_mode = DEFAULT: %v", got)
			}
		})
	}
	// SET STATEMENT sql_mode = ... FOR: not in Vitess's grammar, refused by the planner
	_, err := tryRows(t.Context(), conn(t, db), "SET STATEMENT sql_mode = 'PIPES_AS_CONCAT' FOR SELECT email FROM customer WHERE customer_id = 1 || 2")
	mysqlErr(t, err, 1064)
	// The modes the planner follows go on.
	c := conn(t, db)
	mustExec(t, c, "SET sql_mode = 'ANSI_QUOTES,NO_BACKSLASH_ESCAPES,STRICT_TRANS_TABLES'")
	if got := rows(t, c, `SELECT "email" FROM customer WHERE customer_id = 5`); strings.Join(flat(got), ",") != "eve5@example.com" {
		t.Errorf("under ANSI_QUOTES: %v", got)
	}
}

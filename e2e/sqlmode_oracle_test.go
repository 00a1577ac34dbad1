package e2e

import (
	"strings"
	"testing"

	"github.com/vtdirect/vtdirect/acl"
)

// A session's sql_mode ORACLE, however it was set, is how the gateway reads the session's
// next queries (the status flags say only ANSI_QUOTES; the gateway follows the tracked
// sql_mode): what ORACLE's grammar reads otherwise is refused for non-admins, and never
// reaches MariaDB, while plain statements keep working. The statement that differs here:
// under ORACLE, seq.NEXTVAL writes the sequence seq (in the default grammar it is a column),
// which a user with only the read right must not do.
func TestOracleSQLModeAcrossQueries(t *testing.T) {
	g := secureGateway(t, func(c *gatewayConfigT) {
		c.Users["reader"] = "reader-pw"
		p, err := acl.New(acl.Config{Users: map[string]acl.UserConfig{
			"ops":    {Admin: true},
			"reader": {Keyspaces: map[string]acl.Right{"commerce": acl.Read}},
		}})
		if err != nil {
			t.Fatal(err)
		}
		c.Access = p
	})
	ctx := t.Context()
	direct := directDB(t, cluster.Primary().Alias())
	for _, q := range []string{
		"CREATE SEQUENCE IF NOT EXISTS e2e_ora_seq",
		"CREATE TABLE IF NOT EXISTS e2e_ora (id INT PRIMARY KEY, v VARCHAR(20))",
		"REPLACE INTO e2e_ora VALUES (1, 'one')",
	} {
		if _, err := direct.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	t.Cleanup(func() {
		direct.ExecContext(t.Context(), "DROP SEQUENCE IF EXISTS e2e_ora_seq")
		direct.ExecContext(t.Context(), "DROP TABLE IF EXISTS e2e_ora")
	})
	// next_not_cached_value moves at the first NEXTVAL (it reserves a cache of values).
	untouched := queryInt(t, direct, "SELECT next_not_cached_value FROM e2e_ora_seq")

	reader := conn(t, openDB(t, userDSN(g, "reader", "reader-pw", "commerce", "multiStatements=true")))
	spellings := []string{
		"SET sql_mode=ORACLE",
		"set session sql_mode = 'ORACLE,STRICT_TRANS_TABLES'",
		"SET @@sql_mode := 'oracle'",
		"SET @x = 1; SET sql_mode = ORACLE",
		"EXECUTE IMMEDIATE 'SET sql_mode=ORACLE'",
		"PREPARE so FROM 'SET sql_mode=ORACLE'; EXECUTE so",
		"SET @@session.sql_mode = 512", // ORACLE's bit
	}
	for _, set := range spellings {
		if _, err := reader.ExecContext(ctx, "SET sql_mode = DEFAULT"); err != nil {
			t.Fatal(err)
		}
		if _, err := reader.ExecContext(ctx, set); err != nil {
			t.Fatalf("%s: %v", set, err)
		}
		if mode := queryString(t, reader, "SELECT @@session.sql_mode"); !strings.Contains(mode, "ORACLE") {
			t.Fatalf("after %s: sql_mode %s", set, mode)
		}
		// Refused: what ORACLE reads as another statement than the default grammar does.
		for _, q := range []string{"SELECT e2e_ora_seq.nextval", "select v, e2e_ora_seq.NEXTVAL from e2e_ora", "BEGIN WORK"} {
			_, err := reader.ExecContext(ctx, q)
			if err == nil {
				t.Fatalf("after %s: %s ran for a user with the read right only", set, q)
			}
			mysqlErr(t, err, 1227)
		}
		// Plain statements work, read as MariaDB reads them under ORACLE.
		if got := queryString(t, reader, `SELECT 'x' || "v" FROM "e2e_ora" WHERE id = 1`); got != "xone" {
			t.Fatalf("after %s: 'x' || v = %q", set, got)
		}
		if _, err := reader.ExecContext(ctx, "START TRANSACTION"); err != nil {
			t.Fatalf("after %s: START TRANSACTION: %v", set, err)
		}
		if _, err := reader.ExecContext(ctx, "COMMIT"); err != nil {
			t.Fatal(err)
		}
	}
	if got := queryInt(t, direct, "SELECT next_not_cached_value FROM e2e_ora_seq"); got != untouched {
		t.Fatalf("the sequence moved (next_not_cached_value %d, was %d): a refused NEXTVAL ran", got, untouched)
	}

	// Back to the default grammar, the same text is a column reference again (MariaDB's own
	// error), and SET STATEMENT does not outlast its statement.
	if _, err := reader.ExecContext(ctx, "SET sql_mode = DEFAULT"); err != nil {
		t.Fatal(err)
	}
	_, err := reader.ExecContext(ctx, "SELECT e2e_ora_seq.nextval")
	mysqlErr(t, err, 1109) // unknown table in the field list
	if _, err := reader.ExecContext(ctx, "SET STATEMENT sql_mode=ORACLE FOR SELECT 1"); err != nil {
		t.Fatal(err)
	}
	_, err = reader.ExecContext(ctx, "SELECT e2e_ora_seq.nextval")
	mysqlErr(t, err, 1109)

	// An admin runs what ORACLE reads differently.
	ops := conn(t, openDB(t, userDSN(g, "ops", "ops-pw", "commerce")))
	if _, err := ops.ExecContext(ctx, "SET sql_mode=ORACLE"); err != nil {
		t.Fatal(err)
	}
	if n := queryInt(t, ops, "SELECT e2e_ora_seq.nextval"); n < 1 {
		t.Fatalf("admin: nextval %d", n)
	}
}

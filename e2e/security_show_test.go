package e2e

import (
	"context"
	"database/sql"
	"slices"
	"strings"
	"testing"

	querypb "vitess.io/vitess/go/vt/proto/query"
	vtgatepb "vitess.io/vitess/go/vt/proto/vtgate"
)

// rowsQuerier runs a query with rows (a *sql.DB or a *sql.Conn).
type rowsQuerier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// showRows runs q and returns its column names and its rows, each as its values joined by
// "|" (NULL as "NULL"), sorted.
func showRows(t *testing.T, db rowsQuerier, q string, args ...any) ([]string, []string) {
	t.Helper()
	rows, err := db.QueryContext(t.Context(), q, args...)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for rows.Next() {
		vals := make([]sql.NullString, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		parts := make([]string, len(vals))
		for i, v := range vals {
			parts[i] = "NULL"
			if v.Valid {
				parts[i] = v.String
			}
		}
		out = append(out, strings.Join(parts, "|"))
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	slices.Sort(out)
	return cols, out
}

// TestShowOfOwnKeyspaces: a user limited to some keyspaces gets 1044 for a SHOW naming
// another keyspace's database, and only its own databases' rows from the SHOWs that list
// every database's objects, the rows MariaDB gives for them (the gateway adds a condition on
// the database column; README "information_schema of one's own keyspaces").
func TestShowOfOwnKeyspaces(t *testing.T) {
	g := customerGateway(t)
	ctx := t.Context()
	direct := directDB(t, cluster.Primary().Alias())
	for _, q := range []string{
		"CREATE OR REPLACE PROCEDURE commerce.p_commerce() SELECT 1",
		"CREATE OR REPLACE FUNCTION commerce.f_commerce() RETURNS INT DETERMINISTIC RETURN 1",
		"CREATE OR REPLACE PROCEDURE customer.p_customer() SELECT 2",
		"CREATE OR REPLACE PROCEDURE customer.q_customer() SELECT 3",
		"CREATE OR REPLACE FUNCTION customer.f_customer() RETURNS INT DETERMINISTIC RETURN 2",
		"CREATE OR REPLACE TRIGGER commerce.tr_commerce BEFORE INSERT ON commerce.customer FOR EACH ROW SET @x = 1",
		"CREATE OR REPLACE EVENT commerce.e_commerce ON SCHEDULE EVERY 1 DAY DISABLE DO SELECT 1",
		"CREATE OR REPLACE VIEW commerce.v_commerce AS SELECT 1 AS one",
	} {
		if _, err := direct.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	t.Cleanup(func() {
		for _, q := range []string{"DROP PROCEDURE IF EXISTS commerce.p_commerce", "DROP FUNCTION IF EXISTS commerce.f_commerce",
			"DROP TRIGGER IF EXISTS commerce.tr_commerce", "DROP EVENT IF EXISTS commerce.e_commerce", "DROP VIEW IF EXISTS commerce.v_commerce"} {
			direct.ExecContext(context.Background(), q)
		}
	})
	cust := openDB(t, userDSN(g, "cust", "cust-pw", "customer"))
	c := conn(t, cust)

	// SHOWs naming another keyspace's database: refused by the access rules
	for _, q := range []string{
		"SHOW TABLE STATUS FROM commerce", "SHOW TABLE STATUS IN commerce LIKE '%'", "SHOW TRIGGERS FROM commerce",
		"SHOW EVENTS FROM commerce", "SHOW EVENTS IN commerce", "SHOW OPEN TABLES FROM commerce", "SHOW OPEN TABLES IN commerce",
		"SHOW INDEX FROM customer FROM commerce", "SHOW INDEXES IN commerce.customer", "SHOW KEYS FROM customer IN commerce",
		"SHOW COLUMNS FROM customer IN commerce", "SHOW FULL COLUMNS FROM commerce.customer", "SHOW FULL TABLES IN commerce",
		"SHOW CREATE TABLE commerce.customer", "SHOW CREATE VIEW commerce.v_commerce", "SHOW CREATE PROCEDURE commerce.p_commerce",
		"SHOW CREATE FUNCTION commerce.f_commerce", "SHOW PROCEDURE CODE commerce.p_commerce", "SHOW FUNCTION CODE commerce.f_commerce",
		"SHOW CREATE TRIGGER commerce.tr_commerce", "SHOW CREATE EVENT commerce.e_commerce", "SHOW CREATE DATABASE commerce",
		"SHOW CREATE SCHEMA IF NOT EXISTS commerce", "SHOW CREATE PACKAGE commerce.pk", "SHOW CREATE PACKAGE BODY commerce.pk",
	} {
		_, err := c.ExecContext(ctx, q)
		mysqlErr(t, err, 1044)
	}

	// SHOWs listing every database's objects: the user's databases' rows, as MariaDB has them
	for _, tc := range []struct{ q, want string }{
		{"SHOW PROCEDURE STATUS", "SHOW PROCEDURE STATUS WHERE Db = 'customer'"},
		{"show procedure status -- a comment", "SHOW PROCEDURE STATUS WHERE Db = 'customer'"},
		{"SHOW FUNCTION STATUS", "SHOW FUNCTION STATUS WHERE Db = 'customer'"},
		{"SHOW PROCEDURE STATUS WHERE Db = 'customer'", "SHOW PROCEDURE STATUS WHERE Db = 'customer'"},
		{"SHOW PROCEDURE STATUS WHERE Db = 'commerce'", ""},
		{"SHOW PROCEDURE STATUS WHERE Db = 'commerce' OR 1 = 1 -- x", "SHOW PROCEDURE STATUS WHERE Db = 'customer'"},
		{"SHOW PROCEDURE STATUS WHERE Name LIKE 'p%' OR (Db = 'commerce')", "SHOW PROCEDURE STATUS WHERE Db = 'customer' AND Name LIKE 'p%'"},
		{"SHOW FUNCTION STATUS WHERE Db LIKE 'c%'", "SHOW FUNCTION STATUS WHERE Db = 'customer'"},
		{"SHOW PROCEDURE STATUS LIKE 'p%'", "SHOW PROCEDURE STATUS WHERE Db = 'customer' AND Name LIKE 'p%'"},
		{"SHOW PROCEDURE STATUS LIKE 'P\\_%'", "SHOW PROCEDURE STATUS WHERE Db = 'customer' AND Name LIKE 'P\\_%'"},
		{"SHOW PACKAGE STATUS", "SHOW PACKAGE STATUS WHERE Db = 'customer'"},
		{"SET STATEMENT max_statement_time = 10 FOR SHOW FUNCTION STATUS", "SHOW FUNCTION STATUS WHERE Db = 'customer'"},
		{"SET STATEMENT max_statement_time = 10 FOR SHOW DATABASES", "SHOW DATABASES WHERE `Database` IN ('customer', 'information_schema')"},
		{"SHOW PACKAGE BODY STATUS LIKE '%'", "SHOW PACKAGE BODY STATUS WHERE Db = 'customer'"},
		{"SHOW DATABASES LIKE '%'", "SHOW DATABASES WHERE `Database` IN ('customer', 'information_schema')"},
		{"SHOW SCHEMAS WHERE `Database` LIKE 'c%'", "SHOW DATABASES WHERE `Database` = 'customer'"},
	} {
		_, got := showRows(t, c, tc.q)
		var want []string
		if tc.want != "" {
			_, want = showRows(t, direct, tc.want)
		}
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("%s: cust gets\n%s\nMariaDB has for its databases\n%s", tc.q, strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
		if strings.Contains(strings.Join(got, "\n"), "commerce") {
			t.Errorf("%s: cust sees commerce: %v", tc.q, got)
		}
	}
	// the column names stay MariaDB's (LIKE on SHOW DATABASES aside: it names its column after the pattern)
	gotCols, _ := showRows(t, c, "SHOW PROCEDURE STATUS LIKE 'p%'")
	wantCols, _ := showRows(t, direct, "SHOW PROCEDURE STATUS LIKE 'p%'")
	if !slices.Equal(gotCols, wantCols) {
		t.Errorf("columns %v, MariaDB's %v", gotCols, wantCols)
	}
	if _, got := showRows(t, c, "SHOW PROCEDURE STATUS"); len(got) != 2 {
		t.Errorf("SHOW PROCEDURE STATUS: %v, want customer's two procedures", got)
	}
	// the prepared form, as JDBC's DatabaseMetaData and DBeaver send it
	if _, got := showRows(t, cust, "SHOW FUNCTION STATUS WHERE Db = ?", "commerce"); len(got) != 0 {
		t.Errorf("prepared, commerce: %v", got)
	}
	if _, got := showRows(t, cust, "SHOW FUNCTION STATUS WHERE Db = ?", "customer"); len(got) != 1 {
		t.Errorf("prepared, customer: %v", got)
	}
	st, err := c.PrepareContext(ctx, "SHOW DATABASES")
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	_, got := showRows(t, stmtQuerier{st}, "")
	if strings.Contains(strings.Join(got, ","), "commerce") {
		t.Errorf("prepared SHOW DATABASES: %v", got)
	}
	// SHOW OPEN TABLES without FROM: the open tables of the user's databases only
	if _, err := direct.ExecContext(ctx, "SELECT COUNT(*) FROM commerce.customer"); err != nil {
		t.Fatal(err)
	}
	queryInt(t, c, "SELECT COUNT(*) FROM t")
	for _, q := range []string{"SHOW OPEN TABLES", "SHOW OPEN TABLES LIKE 't'", "SHOW OPEN TABLES WHERE `Database` <> ''"} {
		_, got := showRows(t, c, q)
		if len(got) == 0 || !slices.Contains(got, "customer|t|0|0") && !strings.HasPrefix(strings.Join(got, ","), "customer|t|") {
			t.Errorf("%s: %v, want customer's t", q, got)
		}
		for _, r := range got {
			if !strings.HasPrefix(r, "customer|") {
				t.Errorf("%s: cust sees %q", q, r)
			}
		}
	}
	if _, all := showRows(t, direct, "SHOW OPEN TABLES"); !slices.ContainsFunc(all, func(r string) bool { return strings.HasPrefix(r, "commerce|") }) {
		t.Errorf("MariaDB has no open commerce table: %v", all)
	}
	// forms the gateway cannot limit: 1142
	for _, q := range []string{
		"SHOW PROCEDURE STATUS /*!99999 WHERE 1 = 0 */", "SHOW PROCEDURE STATUS WHERE 1) OR (1", "PREPARE s FROM 'SHOW PROCEDURE STATUS'",
		"EXECUTE IMMEDIATE 'SHOW OPEN TABLES'", "BEGIN NOT ATOMIC SHOW FUNCTION STATUS; END",
	} {
		_, err := c.ExecContext(ctx, q)
		mysqlErr(t, err, 1142)
	}
	// under sql_mode ORACLE too
	if _, err := c.ExecContext(ctx, "SET sql_mode = 'ORACLE'"); err != nil {
		t.Fatal(err)
	}
	if _, got := showRows(t, c, "SHOW PROCEDURE STATUS"); len(got) != 2 || strings.Contains(strings.Join(got, ","), "commerce") {
		t.Errorf("under ORACLE: %v", got)
	}
	if _, err := c.ExecContext(ctx, "SET sql_mode = DEFAULT"); err != nil {
		t.Fatal(err)
	}
	// gRPC Execute
	vc := grpcClientOf(t, g, "cust", "cust-pw")
	resp, err := vc.Execute(ctx, &vtgatepb.ExecuteRequest{
		Session: &vtgatepb.Session{TargetString: "customer", Autocommit: true},
		Query:   &querypb.BoundQuery{Sql: "SHOW FUNCTION STATUS"},
	})
	if err != nil || resp.Error != nil {
		t.Fatalf("gRPC Execute: %v %v", err, resp.GetError())
	}
	if rows := resp.Result.GetRows(); len(rows) != 1 || strings.Contains(string(rows[0].Values), "commerce") {
		t.Errorf("gRPC Execute: %v", rows)
	}
	// an ordinary user's SHOW is sent as written
	app := openDB(t, userDSN(g, "app", "app", "customer"))
	if _, got := showRows(t, app, "SHOW PROCEDURE STATUS LIKE 'p\\_commerce'"); len(got) != 1 {
		t.Errorf("app: %v", got)
	}
}

// stmtQuerier runs a prepared statement as a rowsQuerier (its query argument unused).
type stmtQuerier struct{ st *sql.Stmt }

func (q stmtQuerier) QueryContext(ctx context.Context, _ string, args ...any) (*sql.Rows, error) {
	return q.st.QueryContext(ctx, args...)
}

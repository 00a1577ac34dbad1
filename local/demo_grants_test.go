package local

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"testing"

	"github.com/go-sql-driver/mysql"
)

// forbiddenAppPrivileges are the rights the demo's data-path user must not have (issue 13:
// no SUPER, READ ONLY ADMIN or replication rights, nor other administration), as SHOW GRANTS
// spells them.
var forbiddenAppPrivileges = []string{"ALL PRIVILEGES", "SUPER", "READ_ONLY ADMIN", "REPLICATION", "BINLOG",
	"SLAVE MONITOR", "REPLICA MONITOR", "PROCESS", "FILE", "SHUTDOWN", "RELOAD", "CREATE USER",
	"CONNECTION ADMIN", "GRANT OPTION", "SET USER", "FEDERATED ADMIN"}

// checkDemoGrants checks the accounts of every tablet of a running demo: the app user has
// none of forbiddenAppPrivileges (and MariaDB refuses it replication control and the replica
// status), the replication user has REPLICATION SLAVE only and is what replicas connect with,
// and replicas are read_only.
func checkDemoGrants(t *testing.T, ctx context.Context, cfg DemoConfig) {
	t.Helper()
	for _, spec := range cfg.Layout.Tablets {
		dba, err := sql.Open("mysql", tabletDBADSN(&cfg, spec, ""))
		if err != nil {
			t.Fatal(err)
		}
		defer dba.Close()
		for _, host := range []string{"%", "localhost"} {
			grants := showGrants(t, ctx, dba, cfg.User, host)
			for _, bad := range forbiddenAppPrivileges {
				if strings.Contains(grants, bad) {
					t.Errorf("%s: SHOW GRANTS FOR '%s'@'%s' has %s: %s", spec.Alias(), cfg.User, host, bad, grants)
				}
			}
			if !strings.Contains(grants, "SELECT, INSERT, UPDATE, DELETE") {
				t.Errorf("%s: the app user cannot read and write: %s", spec.Alias(), grants)
			}
			repl := showGrants(t, ctx, dba, cfg.ReplUser, host)
			if !strings.Contains(repl, "GRANT REPLICATION SLAVE ON *.*") || strings.Contains(repl, ",") {
				t.Errorf("%s: SHOW GRANTS FOR '%s'@'%s' = %s, want REPLICATION SLAVE alone", spec.Alias(), cfg.ReplUser, host, repl)
			}
		}
		var readOnly int
		if err := dba.QueryRowContext(ctx, "SELECT @@global.read_only").Scan(&readOnly); err != nil {
			t.Fatal(err)
		}
		if primary := spec.Alias() == cfg.Layout.Primary().Alias(); primary == (readOnly != 0) {
			t.Errorf("%s (%s): read_only = %d", spec.Alias(), spec.Type, readOnly)
		}
		if spec.Alias() != cfg.Layout.Primary().Alias() {
			rows, err := dba.QueryContext(ctx, "SHOW SLAVE STATUS")
			if err != nil {
				t.Fatal(err)
			}
			cols, _ := rows.Columns()
			vals := make([]sql.RawBytes, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			user := ""
			if rows.Next() {
				if err := rows.Scan(ptrs...); err != nil {
					t.Fatal(err)
				}
				for i, c := range cols {
					if c == "Master_User" {
						user = string(vals[i])
					}
				}
			}
			rows.Close()
			if user != cfg.ReplUser {
				t.Errorf("%s replicates as %q, want %q", spec.Alias(), user, cfg.ReplUser)
			}
		}
		// MariaDB itself refuses the app user what it lacks: 1227 (access denied; you need
		// the ... privilege).
		app, err := sql.Open("mysql", tabletDSN(&cfg, spec, ""))
		if err != nil {
			t.Fatal(err)
		}
		defer app.Close()
		for _, stmt := range []string{"SET GLOBAL read_only = 0", "STOP SLAVE", "SHOW SLAVE STATUS", "SHOW BINARY LOGS", "SET SESSION sql_log_bin = 0"} {
			_, err := app.ExecContext(ctx, stmt)
			var me *mysql.MySQLError
			if !errors.As(err, &me) || me.Number != 1227 {
				t.Errorf("%s: %q as the app user: %v, want error 1227", spec.Alias(), stmt, err)
			}
		}
	}
}

func showGrants(t *testing.T, ctx context.Context, db *sql.DB, user, host string) string {
	t.Helper()
	rows, err := db.QueryContext(ctx, "SHOW GRANTS FOR "+quoteString(user)+"@"+quoteString(host))
	if err != nil {
		t.Fatalf("SHOW GRANTS FOR %s@%s: %v", user, host, err)
	}
	defer rows.Close()
	var all []string
	for rows.Next() {
		var g string
		if err := rows.Scan(&g); err != nil {
			t.Fatal(err)
		}
		all = append(all, g)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return strings.Join(all, "; ")
}

package local

import (
	"context"
	"database/sql"
	"errors"
	"strconv"
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
			for _, g := range strings.Split(grants, "; ") {
				for _, bad := range forbiddenAppPrivileges {
					// On a database, ALL PRIVILEGES is how SHOW GRANTS spells AppPrivileges.
					if strings.Contains(g, bad) && (bad != "ALL PRIVILEGES" || strings.Contains(g, " ON *.* ")) {
						t.Errorf("%s: SHOW GRANTS FOR '%s'@'%s' has %s: %s", spec.Alias(), cfg.User, host, bad, g)
					}
				}
			}
			onDB := " ON `" + cfg.Layout.DBName + "`.* "
			if !strings.Contains(grants, "GRANT "+AppPrivileges+onDB) && !strings.Contains(grants, "GRANT ALL PRIVILEGES"+onDB) {
				t.Errorf("%s: the app user cannot read and write %s: %s", spec.Alias(), cfg.Layout.DBName, grants)
			}
			checkNothingGlobal(t, spec.Alias(), cfg.User, host, grants, "")
			filtered := showGrants(t, ctx, dba, cfg.FilteredUser, host)
			checkNothingGlobal(t, spec.Alias(), cfg.FilteredUser, host, filtered, FilteredPrivileges)
			if !strings.Contains(filtered, "GRANT SELECT ON `"+cfg.Layout.DBName+"`.*") {
				t.Errorf("%s: the change streams' user cannot read %s: %s", spec.Alias(), cfg.Layout.DBName, filtered)
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

// checkNothingGlobal checks that grants (SHOW GRANTS of user@host) give on *.* global
// ("" for none) and nothing else: no SELECT on mysql.* or on databases that are no keyspace's.
func checkNothingGlobal(t *testing.T, alias, user, host, grants, global string) {
	t.Helper()
	want := "GRANT USAGE ON *.*"
	if global != "" {
		want = "GRANT " + global + " ON *.*"
	}
	for _, g := range strings.Split(grants, "; ") {
		if strings.Contains(g, " ON *.* ") && !strings.HasPrefix(g, want+" ") {
			t.Errorf("%s: '%s'@'%s' has %q, want %s only on *.*", alias, user, host, g, want)
		}
	}
}

// checkAppDataPath checks on a running demo's primary spec, whose keyspace database is db,
// what MariaDB lets the app user do (the backend's grants are the last line of defence):
// everything the gateway and its clients do on the keyspace's database (DML, DDL, temporary
// tables, locks, views, procedures, events, XA, the gateway's session tracking,
// schema switch, FOUND_ROWS() restore and KILL QUERY of its own threads), and nothing
// elsewhere: not mysql.user, not a database that is no keyspace's (error 1142 or 1044). The
// change streams' user reads the keyspace's tables and not mysql.user either.
func checkAppDataPath(t *testing.T, ctx context.Context, cfg DemoConfig, spec TabletSpec, db string) {
	t.Helper()
	dba, err := sql.Open("mysql", tabletDBADSN(&cfg, spec, ""))
	if err != nil {
		t.Fatal(err)
	}
	defer dba.Close()
	for _, s := range []string{"CREATE DATABASE IF NOT EXISTS not_a_keyspace",
		"CREATE TABLE IF NOT EXISTS not_a_keyspace.t (id INT PRIMARY KEY)"} {
		if _, err := dba.ExecContext(ctx, s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
	appDB, err := sql.Open("mysql", tabletDSN(&cfg, spec, db))
	if err != nil {
		t.Fatal(err)
	}
	defer appDB.Close()
	conn, err := appDB.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	other, err := appDB.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	var otherID int64
	if err := other.QueryRowContext(ctx, "SELECT CONNECTION_ID()").Scan(&otherID); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{
		// What the gateway runs on its data connections.
		"SET SESSION session_track_system_variables = '*', session_track_schema = ON, session_track_state_change = ON",
		"SELECT @@version, @@global.read_only, @@global.autocommit",
		"SELECT COUNT(*) FROM information_schema.COLLATIONS",
		"SELECT COUNT(*) FROM information_schema.SYSTEM_VARIABLES WHERE VARIABLE_SCOPE = 'SESSION'",
		"SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE USER = CURRENT_USER()",
		"USE information_schema", "USE `" + db + "`",
		"SELECT SQL_CALC_FOUND_ROWS 1 FROM seq_1_to_3 LIMIT 0",
		"KILL QUERY " + strconv.FormatInt(otherID, 10),
		// What clients do.
		"CREATE TABLE grants_check (id INT PRIMARY KEY, v VARCHAR(20), w INT)",
		"INSERT INTO grants_check VALUES (1, 'a', 0)", "UPDATE grants_check SET v = 'b' WHERE id = 1",
		"SELECT * FROM grants_check", "DELETE FROM grants_check WHERE id = 1",
		"ALTER TABLE grants_check ADD COLUMN x INT", "CREATE INDEX grants_check_w ON grants_check (w)",
		"CREATE TEMPORARY TABLE grants_tmp (id INT)", "INSERT INTO grants_tmp VALUES (1)", "DROP TEMPORARY TABLE grants_tmp",
		"LOCK TABLES grants_check WRITE", "UNLOCK TABLES",
		"CREATE VIEW grants_view AS SELECT id FROM grants_check", "SELECT * FROM grants_view", "DROP VIEW grants_view",
		"CREATE PROCEDURE grants_proc() UPDATE grants_check SET w = w + 1", "CALL grants_proc()", "DROP PROCEDURE grants_proc",
		"CREATE EVENT grants_ev ON SCHEDULE AT CURRENT_TIMESTAMP + INTERVAL 1 DAY DO DELETE FROM grants_check", "DROP EVENT grants_ev",
		"XA START 'grants'", "INSERT INTO grants_check (id, v) VALUES (3, 'xa')", "XA END 'grants'", "XA PREPARE 'grants'", "XA COMMIT 'grants'",
	} {
		if _, err := conn.ExecContext(ctx, s); err != nil {
			t.Errorf("%s: %q as the app user: %v", spec.Alias(), s, err)
		}
	}
	for _, c := range []struct {
		stmt string
		code uint16
	}{
		{"SELECT * FROM mysql.user", 1142},
		{"SELECT * FROM mysql.db", 1142},
		{"SELECT * FROM not_a_keyspace.t", 1142},
		{"INSERT INTO not_a_keyspace.t VALUES (1)", 1142},
		{"USE not_a_keyspace", 1044},
		{"CREATE DATABASE not_a_keyspace_either", 1044},
		// MariaDB's own rule while the binlog is on (log_bin_trust_function_creators=OFF):
		// triggers and stored functions are the admin's to create (procedures are not).
		{"CREATE TRIGGER grants_trg BEFORE INSERT ON grants_check FOR EACH ROW SET NEW.w = 2", 1419},
		{"CREATE FUNCTION grants_fn() RETURNS INT DETERMINISTIC RETURN 1", 1419},
	} {
		_, err := conn.ExecContext(ctx, c.stmt)
		var me *mysql.MySQLError
		if !errors.As(err, &me) || me.Number != c.code {
			t.Errorf("%s: %q as the app user: %v, want error %d", spec.Alias(), c.stmt, err, c.code)
		}
	}
	if _, err := conn.ExecContext(ctx, "DROP TABLE grants_check"); err != nil {
		t.Errorf("%s: DROP TABLE as the app user: %v", spec.Alias(), err)
	}
	rows, err := conn.QueryContext(ctx, "SHOW DATABASES")
	if err != nil {
		t.Fatal(err)
	}
	var seen []string
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			t.Fatal(err)
		}
		seen = append(seen, name)
	}
	rows.Close()
	if got := strings.Join(seen, " "); !strings.Contains(" "+got+" ", " "+db+" ") || strings.Contains(got, "mysql") || strings.Contains(got, "not_a_keyspace") {
		t.Errorf("%s: SHOW DATABASES as the app user: %s, want %s and no other server database", spec.Alias(), got, db)
	}

	filtered, err := sql.Open("mysql", tabletDSNAs(spec, cfg.FilteredUser, cfg.FilteredPassword))
	if err != nil {
		t.Fatal(err)
	}
	defer filtered.Close()
	var n int
	if err := filtered.QueryRowContext(ctx, "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = ?", db).Scan(&n); err != nil || n == 0 {
		t.Errorf("%s: the change streams' user sees %d tables of %s: %v", spec.Alias(), n, db, err)
	}
	_, err = filtered.ExecContext(ctx, "SELECT * FROM mysql.user")
	var me *mysql.MySQLError
	if !errors.As(err, &me) || me.Number != 1142 {
		t.Errorf("%s: SELECT * FROM mysql.user as the change streams' user: %v, want error 1142", spec.Alias(), err)
	}
}

// tabletDSNAs is a DSN for user on spec's server.
func tabletDSNAs(spec TabletSpec, user, password string) string {
	m := &MariaDB{cfg: MariaDBConfig{Port: spec.MySQLPort, User: user, Password: password}}
	return m.DSN("")
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

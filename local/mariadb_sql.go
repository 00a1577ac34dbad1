package local

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/go-sql-driver/mysql"
)

// AppPrivileges are the data path's privileges, which a LeastPrivilege server gives its User
// (the gateway's --db-app-user) on each of its AppDatabases and nowhere else: reading and
// writing tables, DDL (CREATE and DROP of the database itself too), routines, views, events and
// triggers, temporary tables and locks. Nothing on *.* (USAGE), so no SELECT on mysql.* or on a
// database that is no keyspace's, no SHOW DATABASES (SHOW DATABASES lists what it may use);
// and none of SUPER, READ ONLY ADMIN, PROCESS, FILE, RELOAD, SHUTDOWN, CREATE USER, CONNECTION
// ADMIN, the replication and binlog privileges (REPLICATION SLAVE, BINLOG MONITOR alias
// REPLICATION CLIENT, SLAVE MONITOR, REPLICATION SLAVE ADMIN, REPLICATION MASTER ADMIN, BINLOG
// ADMIN, BINLOG REPLAY), nor GRANT OPTION: the gateway's own checks are the first line, these
// grants the last. What the gateway runs on its data connections beyond the client's
// statements needs no more: session tracking (SET SESSION session_track_*), @@ variables and
// information_schema need no privilege, KILL QUERY of the user's own threads neither, and the
// Sequence engine's seq_1_to_N that restores FOUND_ROWS() is read in the tablet's database.
// These are all of MariaDB's database-level privileges but GRANT OPTION, so SHOW GRANTS spells
// them ALL PRIVILEGES ON `db`.*; they are listed so that a privilege a later version adds is not
// given unread. While the binlog is on (log_bin_trust_function_creators=OFF) MariaDB wants
// SUPER too for CREATE TRIGGER and CREATE FUNCTION: the admin creates those.
const AppPrivileges = "SELECT, INSERT, UPDATE, DELETE, CREATE, DROP, REFERENCES, INDEX, ALTER, " +
	"CREATE TEMPORARY TABLES, LOCK TABLES, EXECUTE, CREATE VIEW, SHOW VIEW, CREATE ROUTINE, ALTER ROUTINE, " +
	"EVENT, TRIGGER, DELETE HISTORY"

// FilteredPrivileges are the change streams' global privileges, which a LeastPrivilege server
// gives its FilteredUser (--db-filtered-user) beside SELECT on the AppDatabases (the copy
// phase): reading the binlog, and the source's binlog and replica status.
const FilteredPrivileges = "REPLICATION SLAVE, BINLOG MONITOR, SLAVE MONITOR"

// SchemaDBPattern is the GRANT database pattern of every schema keyspace's database (vt_ks0001
// ..., schemas.go): one grant covers the schemas `local up --schemas N` adds later.
const SchemaDBPattern = `vt\_ks%`

// GrantDB is the GRANT database pattern of exactly database name: GRANT takes `_` and `%` in a
// database name as wildcards, so they are escaped.
func GrantDB(name string) string {
	return strings.NewReplacer(`\`, `\\`, `_`, `\_`, `%`, `\%`).Replace(name)
}

// grantOn is "`pattern`.*", the database level of GRANT.
func grantOn(pattern string) string {
	return "`" + strings.ReplaceAll(pattern, "`", "``") + "`.*"
}

// createUser makes the accounts of accountStatements over root's unix socket. It does not
// write the binlog: replicas must start with an empty GTID history of their own, or strict mode
// refuses the primary's events.
func (m *MariaDB) createUser(ctx context.Context) error {
	db, err := m.RootDB(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	if err := execAccounts(ctx, db, &m.cfg); err != nil {
		return fmt.Errorf("create user on %s: %w", m.Addr(), err)
	}
	return nil
}

// RegrantAccounts runs accountStatements on a running server through dsn, an account with
// every privilege and GRANT OPTION (the admin DBAUser): `local up` on a server started before
// makes its accounts what cfg says, whatever grants an older version gave them.
func RegrantAccounts(ctx context.Context, dsn string, cfg MariaDBConfig) error {
	if err := cfg.validate(); err != nil {
		return err
	}
	db, err := sql.Open("mysql", dsn)
	if err != nil {
		return err
	}
	defer db.Close()
	return execAccounts(ctx, db, &cfg)
}

// execAccounts runs accountStatements on one connection of db.
func execAccounts(ctx context.Context, db *sql.DB, cfg *MariaDBConfig) error {
	conn, err := db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	for _, s := range accountStatements(cfg) {
		if _, err := conn.ExecContext(ctx, s); err != nil {
			return fmt.Errorf("%s: %w", redactPassword(s), err)
		}
	}
	return nil
}

// accountStatements create cfg.User and the admin cfg.DBAUser on '%' and 'localhost' (and
// set their passwords), and drop the passwordless TCP roots that mariadb-install-db made,
// without writing the binlog. The admin has every privilege with GRANT OPTION (replication
// setup, failover, the control connection). User has every privilege too (but READ_ONLY ADMIN
// with FenceUser: then read_only stops its writes); with LeastPrivilege, AppPrivileges on the
// AppDatabases only, ReplUser REPLICATION SLAVE only, and FilteredUser FilteredPrivileges and
// SELECT on the AppDatabases. A least-privilege account loses first whatever it had (REVOKE
// ALL: global, database, table and routine grants), so a data dir made by an older version
// gets exactly these grants.
func accountStatements(cfg *MariaDBConfig) []string {
	stmts := []string{"SET SESSION sql_log_bin = 0"}
	type account struct {
		user, password string
		all            bool   // ALL PRIVILEGES ON *.* WITH GRANT OPTION
		global         string // privileges on *.*, "" for none
		perDB          string // privileges on each of cfg.AppDatabases, "" for none
	}
	accounts := []account{{user: cfg.User, password: cfg.Password, all: true}, {user: cfg.DBAUser, password: cfg.DBAPassword, all: true}}
	if cfg.LeastPrivilege {
		accounts[0] = account{user: cfg.User, password: cfg.Password, perDB: AppPrivileges}
		accounts = append(accounts,
			account{user: cfg.ReplUser, password: cfg.ReplPassword, global: "REPLICATION SLAVE"},
			account{user: cfg.FilteredUser, password: cfg.FilteredPassword, global: FilteredPrivileges, perDB: "SELECT"})
	}
	for _, a := range accounts {
		for _, host := range []string{"%", "localhost"} {
			acct := fmt.Sprintf("%s@%s", quoteString(a.user), quoteString(host))
			pw := quoteString(a.password)
			stmts = append(stmts,
				fmt.Sprintf("CREATE USER IF NOT EXISTS %s IDENTIFIED BY %s", acct, pw),
				fmt.Sprintf("ALTER USER %s IDENTIFIED BY %s", acct, pw))
			if a.all {
				stmts = append(stmts, fmt.Sprintf("GRANT ALL PRIVILEGES ON *.* TO %s WITH GRANT OPTION", acct))
				if cfg.FenceUser && a.user == cfg.User {
					// The serving user must not write past read_only: that is how failover
					// fences a demoted primary (the admin user sets read_only).
					stmts = append(stmts, fmt.Sprintf("REVOKE READ_ONLY ADMIN ON *.* FROM %s", acct))
				}
				continue
			}
			stmts = append(stmts, fmt.Sprintf("REVOKE ALL PRIVILEGES, GRANT OPTION FROM %s", acct))
			if a.global != "" {
				stmts = append(stmts, fmt.Sprintf("GRANT %s ON *.* TO %s", a.global, acct))
			}
			if a.perDB != "" {
				for _, d := range cfg.AppDatabases {
					stmts = append(stmts, fmt.Sprintf("GRANT %s ON %s TO %s", a.perDB, grantOn(d), acct))
				}
			}
		}
	}
	return append(stmts, "DROP USER IF EXISTS 'root'@'127.0.0.1', 'root'@'::1'")
}

// redactPassword cuts a statement at IDENTIFIED BY, so that an error does not show the
// password.
func redactPassword(s string) string {
	if i := strings.Index(s, " IDENTIFIED BY "); i >= 0 {
		return s[:i] + " IDENTIFIED BY ..."
	}
	return s
}

// quoteString quotes s as a MySQL string literal.
func quoteString(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `'`, `\'`)
	return "'" + r.Replace(s) + "'"
}

// DSN returns a go-sql-driver/mysql DSN for the configured user over TCP, with database db
// ("" for none).
func (m *MariaDB) DSN(db string) string {
	c := mysql.NewConfig()
	c.User, c.Passwd = m.cfg.User, m.cfg.Password
	c.Net, c.Addr, c.DBName = "tcp", m.Addr(), db
	return c.FormatDSN()
}

// DBADSN is DSN for the admin user (DBAUser), which alone may change read_only.
func (m *MariaDB) DBADSN(db string) string {
	c := mysql.NewConfig()
	c.User, c.Passwd = m.cfg.DBAUser, m.cfg.DBAPassword
	c.Net, c.Addr, c.DBName = "tcp", m.Addr(), db
	return c.FormatDSN()
}

// rootDSN is root over the unix socket, for bootstrapping.
func (m *MariaDB) rootDSN(db string) string {
	c := mysql.NewConfig()
	c.User = "root"
	c.Net, c.Addr, c.DBName = "unix", m.socket, db
	return c.FormatDSN()
}

// DB opens a *sql.DB for the configured user on database db. The caller closes it.
func (m *MariaDB) DB(db string) (*sql.DB, error) {
	d, err := sql.Open("mysql", m.DSN(db))
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", m.Addr(), err)
	}
	return d, nil
}

// RootDB opens a *sql.DB for root over the unix socket and checks it connects. The caller
// closes it.
func (m *MariaDB) RootDB(ctx context.Context) (*sql.DB, error) {
	d, err := sql.Open("mysql", m.rootDSN(""))
	if err != nil {
		return nil, fmt.Errorf("open root on %s: %w", m.socket, err)
	}
	if err := d.PingContext(ctx); err != nil {
		d.Close()
		return nil, fmt.Errorf("connect as root on %s: %w", m.socket, err)
	}
	return d, nil
}

package local

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/go-sql-driver/mysql"
)

// AppPrivileges are the data path's privileges, which a LeastPrivilege server gives its User
// (the gateway's --db-app-user): reading and writing tables, DDL, routines, views, events and
// triggers, temporary tables and locks. Not SUPER, READ ONLY ADMIN, PROCESS, FILE, RELOAD,
// SHUTDOWN, CREATE USER, CONNECTION ADMIN, the replication and binlog privileges (REPLICATION
// SLAVE, BINLOG MONITOR alias REPLICATION CLIENT, SLAVE MONITOR, REPLICATION SLAVE ADMIN,
// REPLICATION MASTER ADMIN, BINLOG ADMIN, BINLOG REPLAY), nor GRANT OPTION: the gateway's own
// checks are the first line, these grants the last.
const AppPrivileges = "SELECT, INSERT, UPDATE, DELETE, CREATE, DROP, REFERENCES, INDEX, ALTER, SHOW DATABASES, " +
	"CREATE TEMPORARY TABLES, LOCK TABLES, EXECUTE, CREATE VIEW, SHOW VIEW, CREATE ROUTINE, ALTER ROUTINE, " +
	"EVENT, TRIGGER, DELETE HISTORY"

// createUser creates cfg.User and the admin cfg.DBAUser, and drops the passwordless TCP roots
// that mariadb-install-db made. The admin has every privilege; User has every privilege too
// (but READ_ONLY ADMIN with FenceUser: then read_only stops its writes), or with
// LeastPrivilege only AppPrivileges, beside the replication and change-stream users. It does
// not write the binlog: replicas must start with an empty GTID history of their own, or strict
// mode refuses the primary's events.
func (m *MariaDB) createUser(ctx context.Context) error {
	db, err := m.RootDB(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	conn, err := db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("create user on %s: %w", m.Addr(), err)
	}
	defer conn.Close()
	stmts := []string{"SET SESSION sql_log_bin = 0"}
	type account struct{ user, password, grants string }
	accounts := []account{{m.cfg.User, m.cfg.Password, "ALL PRIVILEGES"}, {m.cfg.DBAUser, m.cfg.DBAPassword, "ALL PRIVILEGES"}}
	if m.cfg.LeastPrivilege {
		accounts[0].grants = AppPrivileges
		accounts = append(accounts,
			account{m.cfg.ReplUser, m.cfg.ReplPassword, "REPLICATION SLAVE"},
			account{m.cfg.FilteredUser, m.cfg.FilteredPassword, "SELECT, REPLICATION SLAVE, BINLOG MONITOR, SLAVE MONITOR"})
	}
	for _, a := range accounts {
		for _, host := range []string{"%", "localhost"} {
			acct := fmt.Sprintf("%s@%s", quoteString(a.user), quoteString(host))
			pw := quoteString(a.password)
			stmts = append(stmts,
				fmt.Sprintf("CREATE USER IF NOT EXISTS %s IDENTIFIED BY %s", acct, pw),
				fmt.Sprintf("ALTER USER %s IDENTIFIED BY %s", acct, pw))
			if a.grants == "ALL PRIVILEGES" {
				stmts = append(stmts, fmt.Sprintf("GRANT ALL PRIVILEGES ON *.* TO %s WITH GRANT OPTION", acct))
			} else {
				// A data dir made before keeps the account: what it had beyond grants goes.
				stmts = append(stmts,
					fmt.Sprintf("REVOKE ALL PRIVILEGES, GRANT OPTION FROM %s", acct),
					fmt.Sprintf("GRANT %s ON *.* TO %s", a.grants, acct))
			}
			if m.cfg.FenceUser && a.user == m.cfg.User && a.user != m.cfg.DBAUser && !m.cfg.LeastPrivilege {
				// The serving user must not write past read_only: that is how failover
				// fences a demoted primary (the admin user sets read_only).
				stmts = append(stmts, fmt.Sprintf("REVOKE READ_ONLY ADMIN ON *.* FROM %s", acct))
			}
		}
	}
	stmts = append(stmts, "DROP USER IF EXISTS 'root'@'127.0.0.1', 'root'@'::1'")
	for _, s := range stmts {
		if _, err := conn.ExecContext(ctx, s); err != nil {
			return fmt.Errorf("create user on %s: %s: %w", m.Addr(), s, err)
		}
	}
	return nil
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

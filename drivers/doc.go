// Package drivers holds the driver matrix: the tests that prove, as users use it, that a
// session through the gateway behaves exactly as on its own MariaDB connection.
//
// Each driver (go-sql-driver/mysql in several DSN variants, the mariadb CLI and mariadb-dump,
// MariaDB Connector/J, PyMySQL, mysqlclient, SQLAlchemy, PHP PDO and mysqli, Perl DBD::MariaDB,
// node mysql2) runs one script twice: directly against the primary MariaDB (the oracle) and
// through a gateway whose backend pools are small (so sessions really share backend
// connections). Each run prints a canonical transcript, one line per step; the test compares
// the two line by line and then checks on MariaDB directly that every write the script saw
// acknowledged is there and every rolled-back one is not. TestGoSQLDriverSuite runs
// go-sql-driver/mysql's own integration tests both ways and wants every test that passes
// directly to pass through the gateway.
//
// The external drivers are Debian packages (and npm's mysql2) that `make test` installs
// (scripts/deps.sh with VTDIRECT_NEED_DRIVERS=1); a missing one fails its test with the
// command that installs it. The package has no non-test code.
package drivers

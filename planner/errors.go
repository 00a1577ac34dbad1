package planner

import (
	"fmt"

	"github.com/go-mysql-org/go-mysql/mysql"
)

// unsupported is the refusal of a statement the gateway cannot run correctly on a sharded
// keyspace: error 1235 (ER_NOT_SUPPORTED_YET, SQLSTATE 42000) naming the construct, as
// vtgate's "unsupported" errors do, and what to do instead.
func unsupported(format string, args ...any) error {
	return &mysql.MyError{Code: mysql.ER_NOT_SUPPORTED_YET, State: "42000",
		Message: "vtdirect: " + fmt.Sprintf(format, args...)}
}

// noSuchTable is a table that the keyspace's vschema does not have (1146, as vtgate).
func noSuchTable(ks, table string) error {
	return &mysql.MyError{Code: mysql.ER_NO_SUCH_TABLE, State: "42S02", Message: fmt.Sprintf(
		"vtdirect: table '%s' is not in the vschema of sharded keyspace %s; add it to the vschema (vtdirect topo apply-vschema %s FILE.json), "+
			"or name its keyspace (other_keyspace.%s)", table, ks, ks, table)}
}

// syntaxError is a statement the planner's grammar (Vitess's) cannot parse (1064).
func syntaxError(err error) error {
	return &mysql.MyError{Code: mysql.ER_PARSE_ERROR, State: "42000", Message: fmt.Sprintf(
		"vtdirect: the planner of sharded keyspaces (Vitess's SQL grammar) cannot parse this statement: %v; "+
			"a statement only MariaDB understands can run on one shard with an explicit target (USE `keyspace:-80`)", err)}
}

// brokenVSchema is a keyspace whose vschema does not build.
func brokenVSchema(err error) error {
	return &mysql.MyError{Code: mysql.ER_UNKNOWN_ERROR, State: "HY000", Message: fmt.Sprintf(
		"vtdirect: %v; fix it with vtdirect topo apply-vschema", err)}
}

package router

import (
	"fmt"

	"github.com/go-mysql-org/go-mysql/mysql"
)

// The errors the router makes. Vitess reports unavailability as 1105 (ER_UNKNOWN_ERROR)
// with SQLSTATE HY000, and clients of vtgate expect the same.

func errUnknownDatabase(db string) error {
	return mysql.NewError(mysql.ER_BAD_DB_ERROR,
		fmt.Sprintf("Unknown database '%s' (vtdirect: no such keyspace; SHOW DATABASES lists the keyspaces)", db))
}

func errUnavailable(format string, args ...any) error {
	return &mysql.MyError{Code: mysql.ER_UNKNOWN_ERROR, State: "HY000", Message: "vtdirect: " + fmt.Sprintf(format, args...)}
}

func errReadOnlyTarget(t Target) error {
	return &mysql.MyError{Code: mysql.ER_OPTION_PREVENTS_STATEMENT, State: "HY000", Message: fmt.Sprintf(
		"vtdirect: this statement writes, and the target %s is read-only; use %s or %s@primary for writes",
		t, t.Keyspace, t.Keyspace)}
}

func errInTransaction(what string) error {
	return &mysql.MyError{Code: mysql.ER_CANT_CHANGE_TX_CHARACTERISTICS, State: "25001", Message: fmt.Sprintf(
		"vtdirect: cannot %s while a transaction is open; COMMIT or ROLLBACK first", what)}
}

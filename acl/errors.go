package acl

import (
	"fmt"

	"github.com/go-mysql-org/go-mysql/mysql"
)

// The denials, in MySQL's words (clients and tools match the codes), with what the gateway
// refused and why after them.

// dbDenied is ER_DBACCESS_DENIED_ERROR (1044, 42000).
func dbDenied(user, host, keyspace, why string) error {
	return &mysql.MyError{Code: mysql.ER_DBACCESS_DENIED_ERROR, State: "42000", Message: fmt.Sprintf(
		"Access denied for user '%s'@'%s' to database '%s' (vtdirect: %s)", user, host, keyspace, why)}
}

// rightDenied is 1044 for a statement that needs more than the user's right in a keyspace.
func rightDenied(user, host, keyspace string, need, have Right) error {
	why := fmt.Sprintf("the statement needs the %s right in keyspace %s; the user's access rules give it %s", need, keyspace, have)
	if have == None {
		why = fmt.Sprintf("the statement needs the %s right in keyspace %s; the user's access rules give it no access there", need, keyspace)
	}
	return dbDenied(user, host, keyspace, why)
}

// tableDenied is ER_TABLEACCESS_DENIED_ERROR (1142, 42000), as MariaDB words it.
func tableDenied(command, user, host, keyspace, table string, need Right, why string) error {
	return &mysql.MyError{Code: mysql.ER_TABLEACCESS_DENIED_ERROR, State: "42000", Message: fmt.Sprintf(
		"%s command denied to user '%s'@'%s' for table `%s`.`%s` (vtdirect: %s right: %s)", command, user, host, keyspace, table, need, why)}
}

// specificDenied is ER_SPECIFIC_ACCESS_DENIED_ERROR (1227, 42000).
func specificDenied(privilege, why string) error {
	return &mysql.MyError{Code: mysql.ER_SPECIFIC_ACCESS_DENIED_ERROR, State: "42000", Message: fmt.Sprintf(
		"Access denied; you need (at least one of) the %s privilege(s) for this operation (vtdirect: %s)", privilege, why)}
}

// notAlone refuses a KILL that is not a query of its own (1235, 42000).
func notAlone() error {
	return &mysql.MyError{Code: mysql.ER_NOT_SUPPORTED_YET, State: "42000", Message: "vtdirect: KILL must be a query of its own " +
		"(not in a multi-statement query, a compound statement or a prepared statement): the gateway answers it with its own connection ids"}
}

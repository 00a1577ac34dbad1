package router

import (
	"strconv"

	"github.com/go-mysql-org/go-mysql/mysql"

	"github.com/vtdirect/vtdirect/mysqlserver"
)

// showDatabases answers SHOW DATABASES with the keyspaces, with MariaDB's column metadata.
func (e *Executor) showDatabases(c *mysqlserver.Conn, status uint16) error {
	r := databasesTable(e.reg.Snapshot()).mysqlResult(status)
	r.Fields[0].OrgName = "SCHEMA_NAME"
	r.Fields[0].Flags |= noDefaultValueFlag
	return c.WriteResult(r)
}

// connectionID answers SELECT CONNECTION_ID() with the gateway's id (the one the client got
// in the handshake and that KILL takes), with MariaDB's column metadata.
func (e *Executor) connectionID(c *mysqlserver.Conn, name string, status uint16) error {
	r := &mysqlserver.Result{
		Status: status,
		Fields: []*mysqlserver.Field{{
			Name: name, Charset: 63, ColumnLength: 10, Type: mysql.MYSQL_TYPE_LONG,
			Flags: mysql.NOT_NULL_FLAG | mysql.UNSIGNED_FLAG | mysql.BINARY_FLAG | mysql.NUM_FLAG,
		}},
		Rows: [][][]byte{{strconv.AppendUint(nil, uint64(c.ID()), 10)}},
	}
	return c.WriteResult(r)
}

// selectAutocommit answers SELECT @@autocommit from the session (backend connections always
// run with autocommit on), with MariaDB's column metadata.
func (e *Executor) selectAutocommit(c *mysqlserver.Conn, s *Session, name string) error {
	v := "0"
	if s.autocommit {
		v = "1"
	}
	return c.WriteResult(&mysqlserver.Result{
		Status: s.status(),
		Fields: []*mysqlserver.Field{{Name: name, Charset: 63, ColumnLength: 1, Type: mysql.MYSQL_TYPE_LONGLONG, Flags: mysql.BINARY_FLAG}},
		Rows:   [][][]byte{{[]byte(v)}},
	})
}

// defaultCollation is the collation of the gateway's backend connections
// (utf8mb4_general_ci): a client that asks for it needs no SET NAMES.
const defaultCollation = 45

// setNamesFor returns the SET NAMES that gives a backend connection the client's collation.
func setNamesFor(collation uint16) (string, bool) {
	if collation == defaultCollation || collation == 0 {
		return "", false
	}
	cs, ok := collations[collation]
	if !ok {
		return "", false
	}
	return "SET NAMES " + cs[0] + " COLLATE " + cs[1], true
}

// collations are the collation ids clients commonly send in the handshake.
var collations = map[uint16][2]string{
	8:   {"latin1", "latin1_swedish_ci"},
	33:  {"utf8mb3", "utf8mb3_general_ci"},
	46:  {"utf8mb4", "utf8mb4_bin"},
	47:  {"latin1", "latin1_bin"},
	63:  {"binary", "binary"},
	83:  {"utf8mb3", "utf8mb3_bin"},
	192: {"utf8mb3", "utf8mb3_unicode_ci"},
	224: {"utf8mb4", "utf8mb4_unicode_ci"},
	// Ids the server does not know (255, MySQL 8's utf8mb4_0900_ai_ci, on MariaDB 10.11) are
	// left out on purpose: MariaDB then uses its default, as the backend connection does.
}

// noDefaultValueFlag is NO_DEFAULT_VALUE_FLAG, which go-mysql does not name.
const noDefaultValueFlag = 4096

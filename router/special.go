package router

import (
	"strconv"

	"github.com/go-mysql-org/go-mysql/mysql"

	"github.com/vtdirect/vtdirect/mysqlserver"
)

// showDatabases is SHOW DATABASES answered with the keyspaces, with MariaDB's column metadata.
func (e *Executor) showDatabases(t *table, status uint16) *mysqlserver.Result {
	r := t.mysqlResult(status)
	r.Fields[0].OrgName = "SCHEMA_NAME"
	r.Fields[0].Flags |= noDefaultValueFlag
	return r
}

// connectionIDResult is SELECT CONNECTION_ID() answered with the gateway's id (the one the
// client got in the handshake and that KILL takes), with MariaDB's column metadata.
func connectionIDResult(c *mysqlserver.Conn, name string, status uint16) *mysqlserver.Result {
	return &mysqlserver.Result{
		Status: status,
		Fields: []*mysqlserver.Field{{
			Name: name, Charset: 63, ColumnLength: 10, Type: mysql.MYSQL_TYPE_LONG,
			Flags: mysql.NOT_NULL_FLAG | mysql.UNSIGNED_FLAG | mysql.BINARY_FLAG | mysql.NUM_FLAG,
		}},
		Rows: [][][]byte{{strconv.AppendUint(nil, uint64(c.ID()), 10)}},
	}
}

// noDefaultValueFlag is NO_DEFAULT_VALUE_FLAG, which go-mysql does not name.
const noDefaultValueFlag = 4096

// rowCountResult is SELECT ROW_COUNT() answered by the gateway, with MariaDB's column
// metadata (BIGINT(21) NOT NULL).
func rowCountResult(name string, n int64, status uint16) *mysqlserver.Result {
	return &mysqlserver.Result{
		Status: status,
		Fields: []*mysqlserver.Field{{
			Name: name, Charset: 63, ColumnLength: 21, Type: mysql.MYSQL_TYPE_LONGLONG,
			Flags: mysql.NOT_NULL_FLAG | mysql.BINARY_FLAG,
		}},
		Rows: [][][]byte{{strconv.AppendInt(nil, n, 10)}},
	}
}

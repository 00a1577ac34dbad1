package grpcvtgate

import (
	"errors"
	"fmt"

	"github.com/go-mysql-org/go-mysql/mysql"
	vtrpcpb "vitess.io/vitess/go/vt/proto/vtrpc"
)

// rpcError turns an Executor error into Vitess's RPCError. Vitess's clients read the MySQL
// code and SQLSTATE back from the message suffix "(errno N) (sqlstate S)".
func rpcError(err error) *vtrpcpb.RPCError {
	var me *mysql.MyError
	if errors.As(err, &me) {
		return &vtrpcpb.RPCError{
			Code:    codeForMySQL(me.Code),
			Message: fmt.Sprintf("%s (errno %d) (sqlstate %s)", me.Message, me.Code, me.State),
		}
	}
	return &vtrpcpb.RPCError{Code: vtrpcpb.Code_UNKNOWN, Message: err.Error()}
}

func codeForMySQL(code uint16) vtrpcpb.Code {
	switch code {
	case mysql.ER_ACCESS_DENIED_ERROR, mysql.ER_DBACCESS_DENIED_ERROR, mysql.ER_TABLEACCESS_DENIED_ERROR:
		return vtrpcpb.Code_PERMISSION_DENIED
	case mysql.ER_NO_SUCH_TABLE, mysql.ER_BAD_DB_ERROR, mysql.ER_PARSE_ERROR, mysql.ER_BAD_FIELD_ERROR, mysql.ER_SYNTAX_ERROR:
		return vtrpcpb.Code_INVALID_ARGUMENT
	case mysql.ER_DUP_ENTRY:
		return vtrpcpb.Code_ALREADY_EXISTS
	case mysql.ER_LOCK_WAIT_TIMEOUT, mysql.ER_QUERY_INTERRUPTED:
		return vtrpcpb.Code_DEADLINE_EXCEEDED
	case mysql.ER_LOCK_DEADLOCK:
		return vtrpcpb.Code_ABORTED
	}
	return vtrpcpb.Code_UNKNOWN
}

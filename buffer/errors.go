package buffer

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/go-mysql-org/go-mysql/mysql"
)

// The buffer's errors are 1105 (ER_UNKNOWN_ERROR, HY000), as vtgate's buffer reports them;
// each says the client may retry.

func errWindow(keyspace, shard string, window time.Duration) error {
	return &mysql.MyError{Code: mysql.ER_UNKNOWN_ERROR, State: "HY000", Message: fmt.Sprintf(
		"vtdirect: a reparent of %s/%s is in progress and did not end within --buffer-window (%v); retry", keyspace, shard, window)}
}

func errFull(keyspace, shard string, size int) error {
	return &mysql.MyError{Code: mysql.ER_UNKNOWN_ERROR, State: "HY000", Message: fmt.Sprintf(
		"vtdirect: a reparent of %s/%s is in progress and the buffer is full (--buffer-size %d requests); retry", keyspace, shard, size)}
}

func errInterrupted(keyspace, shard string) error {
	return &mysql.MyError{Code: mysql.ER_UNKNOWN_ERROR, State: "HY000", Message: fmt.Sprintf(
		"vtdirect: the transaction was interrupted by a reparent of %s/%s and rolled back on the old primary; retry the transaction", keyspace, shard)}
}

// IsReparentError reports whether err is one of the buffer's errors (retryable).
func IsReparentError(err error) bool {
	me, ok := err.(*mysql.MyError)
	return ok && me.Code == mysql.ER_UNKNOWN_ERROR && strings.Contains(me.Message, "reparent of")
}

// shortAlias turns "zone1-0000000100" into "zone1-100", the form failover uses.
func shortAlias(alias string) string {
	i := strings.LastIndexByte(alias, '-')
	if i < 0 {
		return alias
	}
	n, err := strconv.ParseUint(alias[i+1:], 10, 32)
	if err != nil {
		return alias
	}
	return alias[:i+1] + strconv.FormatUint(n, 10)
}

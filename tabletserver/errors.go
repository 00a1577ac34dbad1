package tabletserver

import (
	"errors"
	"fmt"
	"time"

	"github.com/go-mysql-org/go-mysql/mysql"
)

// Flags of cmd/vtdirect that the error messages tell an operator to raise (Vitess's names).
const (
	flagPoolSize     = "--queryserver-config-pool-size"
	flagPoolTimeout  = "--queryserver-config-query-pool-timeout"
	flagTxPoolSize   = "--queryserver-config-transaction-cap"
	flagTxTimeout    = "--queryserver-config-transaction-timeout"
	flagQueryTimeout = "--queryserver-config-query-timeout"
	flagMaxRows      = "--queryserver-config-max-result-size"
	// flagMaxConnections is the per-server limit; only the config file sets it per server.
	flagMaxConnections = "--db-max-connections"
)

// Client error codes that go-mysql does not name.
const (
	crServerLost = 2013 // CR_SERVER_LOST: "Lost connection to MySQL server during query"
)

// ClientWriteError is returned when writing the reply to the client failed: the client is gone
// and the caller should close its connection rather than write an error packet.
type ClientWriteError struct{ Err error }

func (e *ClientWriteError) Error() string { return "vtdirect: write to client: " + e.Err.Error() }
func (e *ClientWriteError) Unwrap() error { return e.Err }

// StatementError is an error that ended only the statement: the backend connection is intact,
// its reply fully read, and its transaction (if any) still open. The query timeout, the
// result-size limit and Conn.KillQuery stop a statement this way (KILL QUERY on the server,
// the rest of the reply drained); so do a command refused before it was sent (a malformed
// frame, a context already done) and a statement that ExecStmt could not prepare. The caller
// writes the error to the client (after Result.NextSeq if Result.Forwarded) and may keep using
// the connection: a pinned transaction stays pinned.
type StatementError struct{ Err *mysql.MyError }

func (e *StatementError) Error() string { return e.Err.Error() }
func (e *StatementError) Unwrap() error { return e.Err }

// StatementOnly reports whether err, returned by Exec, Prepare or ExecStmt, ended only the
// statement and left the connection and its transaction usable (a *StatementError).
func StatementOnly(err error) bool {
	var se *StatementError
	return errors.As(err, &se)
}

// stmtOnly marks err as ending only the statement.
func stmtOnly(err *mysql.MyError) error { return &StatementError{Err: err} }

// ReplyCompleteError is returned when the client already has the backend's whole reply and
// the backend connection then turned out broken (bytes after the end of the reply): Result
// has Forwarded and Complete set. The caller must close the backend connection (Close; a
// transaction on it is rolled back, which the session must learn) and write nothing to the
// client, whose reply is complete: an error packet after it would put the client out of step.
type ReplyCompleteError struct{ Err error }

func (e *ReplyCompleteError) Error() string {
	return "vtdirect: backend connection broke after a complete reply: " + e.Err.Error()
}
func (e *ReplyCompleteError) Unwrap() error { return e.Err }

// errPoolExhausted is 1203 ER_TOO_MANY_USER_CONNECTIONS (42000): the code Vitess gives its
// "resource pool timed out" (RESOURCE_EXHAUSTED), so clients that know Vitess see the same. 1040
// ER_CON_COUNT_ERROR would be wrong: it belongs to the connection phase (SQLSTATE 08004), and
// clients treat it as "could not connect", while this client is connected and may retry.
func errPoolExhausted(alias, pool string, size int, wait time.Duration, flag string) *mysql.MyError {
	return mysql.NewError(mysql.ER_TOO_MANY_USER_CONNECTIONS, fmt.Sprintf(
		"vtdirect: all %d %s connections to tablet %s stayed busy for %v; retry, or raise %s (or %s)",
		size, pool, alias, wait, flag, flagPoolTimeout))
}

// errClosed is 1053 ER_SERVER_SHUTDOWN: the tablet left the topo or the gateway is stopping.
func errClosed(alias string) *mysql.MyError {
	return &mysql.MyError{Code: mysql.ER_SERVER_SHUTDOWN, State: "08S01", Message: fmt.Sprintf(
		"vtdirect: tablet %s is shutting down (removed from the topo, or the gateway is stopping); retry", alias)}
}

// errTxKilled is 1317 ER_QUERY_INTERRUPTED (70100), as Vitess reports a transaction its killer
// ended (ABORTED).
func errTxKilled(alias string, timeout time.Duration) *mysql.MyError {
	return mysql.NewError(mysql.ER_QUERY_INTERRUPTED, fmt.Sprintf(
		"vtdirect: transaction was rolled back after timeout: it stayed open on tablet %s longer than %v (%s); "+
			"start a new transaction, and commit sooner or raise %s", alias, timeout, flagTxTimeout, flagTxTimeout))
}

// errTxKilledMid is 2013 CR_SERVER_LOST for a statement that was running when the transaction
// killer closed its connection: the transaction is rolled back unless that statement was its
// COMMIT and the server applied it, which the gateway cannot tell.
func errTxKilledMid(alias string, timeout time.Duration) *mysql.MyError {
	return &mysql.MyError{Code: crServerLost, State: mysql.DEFAULT_MYSQL_STATE, Message: fmt.Sprintf(
		"vtdirect: lost connection to tablet %s during query: its transaction stayed open longer than %v (%s) and was ended while the statement ran; "+
			"it was rolled back unless the statement was its COMMIT, which may have been applied: check before retrying, and commit sooner or raise %s",
		alias, timeout, flagTxTimeout, flagTxTimeout)}
}

// errTxClosed tells that a reserved connection was closed because its tablet went away.
func errTxClosed(alias string) *mysql.MyError {
	return mysql.NewError(mysql.ER_QUERY_INTERRUPTED, fmt.Sprintf(
		"vtdirect: transaction was rolled back: tablet %s was removed or the gateway is stopping; start a new transaction", alias))
}

// errQueryTimeout is 1317 ER_QUERY_INTERRUPTED (70100), what MySQL says of a killed query.
func errQueryTimeout(alias string, timeout time.Duration) *mysql.MyError {
	return mysql.NewError(mysql.ER_QUERY_INTERRUPTED, fmt.Sprintf(
		"vtdirect: query exceeded the query timeout of %v and was killed on tablet %s; make it faster or raise %s",
		timeout, alias, flagQueryTimeout))
}

// errKilled is 1317 ER_QUERY_INTERRUPTED, what MySQL says of a query that KILL QUERY stopped.
func errKilled(alias string) *mysql.MyError {
	return mysql.NewError(mysql.ER_QUERY_INTERRUPTED, fmt.Sprintf(
		"vtdirect: query execution was interrupted on tablet %s (KILL QUERY)", alias))
}

// errCanceled reports a query stopped (or not started) because its context ended.
func errCanceled(alias string, cause error) *mysql.MyError {
	return mysql.NewError(mysql.ER_QUERY_INTERRUPTED, fmt.Sprintf(
		"vtdirect: query on tablet %s was interrupted: %v", alias, cause))
}

// errMaxRows is 1104 ER_TOO_BIG_SELECT (42000), MySQL's own error for a SELECT over a
// configured size limit; the text is Vitess's "Row count exceeded N".
func errMaxRows(alias string, n uint64) *mysql.MyError {
	return mysql.NewError(mysql.ER_TOO_BIG_SELECT, fmt.Sprintf(
		"vtdirect: Row count exceeded %d on tablet %s; add a LIMIT, or raise %s", n, alias, flagMaxRows))
}

// errLostClosed is 2013 CR_SERVER_LOST for a statement that was running on a held connection
// when the gateway closed it (its tablet stopped serving: a reparent, a removal, the gateway
// stopping): the statement reached the server, and whether it was applied is unknown (a
// COMMIT may have committed), so it must not be presented as rolled back or simply retried.
func errLostClosed(alias string) *mysql.MyError {
	return &mysql.MyError{Code: crServerLost, State: mysql.DEFAULT_MYSQL_STATE, Message: fmt.Sprintf(
		"vtdirect: lost connection to tablet %s during query: the tablet stopped serving (a reparent, its removal or the gateway stopping) "+
			"while the statement ran; whether it was applied is unknown (a transaction it did not commit was rolled back): check before retrying", alias)}
}

// NotSentError wraps the error of a command that never reached the backend (its connection
// had been killed or broken before): the command did not run, whatever it was, so a caller
// may treat it as not executed.
type NotSentError struct{ Err error }

func (e *NotSentError) Error() string { return e.Err.Error() }
func (e *NotSentError) Unwrap() error { return e.Err }

// NotSent reports whether err says the command never reached the backend.
func NotSent(err error) bool {
	var ns *NotSentError
	return errors.As(err, &ns)
}

// errLost is 2013 CR_SERVER_LOST, what a client library reports when the server's socket breaks.
func errLost(alias, addr string, err error) *mysql.MyError {
	return &mysql.MyError{Code: crServerLost, State: mysql.DEFAULT_MYSQL_STATE, Message: fmt.Sprintf(
		"vtdirect: lost connection to tablet %s (%s) during query: %v; retry", alias, addr, err)}
}

// errBackendProtocol reports a reply vtdirect could not follow; the connection is dropped.
func errBackendProtocol(alias string, err error) *mysql.MyError {
	return mysql.NewError(mysql.ER_UNKNOWN_ERROR, fmt.Sprintf(
		"vtdirect: tablet %s sent a reply vtdirect cannot follow (%v); the backend connection was dropped", alias, err))
}

// errUnsupportedCommand is 1047 ER_UNKNOWN_COM_ERROR.
func errUnsupportedCommand(cmd byte) *mysql.MyError {
	return mysql.NewError(mysql.ER_UNKNOWN_COM_ERROR, fmt.Sprintf(
		"vtdirect: command 0x%02x cannot be sent to a pooled backend connection", cmd))
}

// errMalformed is 1835 ER_MALFORMED_PACKET for a command too short to be one.
func errMalformed(what string) *mysql.MyError {
	return mysql.NewError(mysql.ER_MALFORMED_PACKET, "vtdirect: malformed "+what)
}

// errUnusable is returned by a method called on a connection that was closed or recycled.
func errUnusable(alias string) *mysql.MyError {
	return mysql.NewError(mysql.ER_UNKNOWN_ERROR, fmt.Sprintf(
		"vtdirect: backend connection to tablet %s was already closed or returned to its pool", alias))
}

// errDial wraps a failure to open a backend connection, keeping the server's code (1045 access
// denied, 1049 unknown database, 1040 too many connections) when it sent one.
func errDial(alias, addr string, err error) *mysql.MyError {
	var me *mysql.MyError
	if errors.As(err, &me) {
		return &mysql.MyError{Code: me.Code, State: me.State, Message: fmt.Sprintf(
			"vtdirect: cannot connect to tablet %s (%s): %s", alias, addr, me.Message)}
	}
	return mysql.NewError(mysql.ER_UNKNOWN_ERROR, fmt.Sprintf(
		"vtdirect: cannot connect to tablet %s (%s): %v", alias, addr, err))
}

// errMissingCaps is a server that refused a capability the gateway needs to serve its client
// (CLIENT_SESSION_TRACK: MariaDB 10.2+, MySQL 5.7+).
type errMissingCaps uint32

func (e errMissingCaps) Error() string {
	return fmt.Sprintf("the server does not offer capabilities %#x the gateway needs (session tracking needs MariaDB 10.2+ or MySQL 5.7+)", uint32(e))
}

// errBackendExhausted is errPoolExhausted for the connections of a whole MySQL server, which
// every tablet on it shares.
func errBackendExhausted(alias string, key BackendKey, limit int, wait time.Duration) *mysql.MyError {
	return mysql.NewError(mysql.ER_TOO_MANY_USER_CONNECTIONS, fmt.Sprintf(
		"vtdirect: all %d connections to %s as %s, which every tablet there shares, stayed busy for %v (tablet %s); retry, or raise %s (or %s)",
		limit, key.Addr, key.User, wait, alias, flagMaxConnections, flagPoolTimeout))
}

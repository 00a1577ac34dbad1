package mysqlserver

// Prepared statements: the per-connection statement table, COM_STMT_PREPARE (handed to the
// Handler), COM_STMT_SEND_LONG_DATA (buffered here), COM_STMT_RESET and COM_STMT_CLOSE.
// https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_com_stmt_prepare.html
// https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_com_stmt_send_long_data.html
// https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_com_stmt_reset.html
// https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_com_stmt_close.html
// https://mariadb.com/kb/en/com_stmt_prepare/

import (
	"fmt"

	"github.com/go-mysql-org/go-mysql/mysql"
)

// Stmt is a prepared statement of one client connection, under the gateway's own id.
//
// mysqlserver remembers the parameter types a client sent last (a client may execute with
// new-params-bound = 0) and buffers the long data (COM_STMT_SEND_LONG_DATA) sent for the next
// execution. The Handler sees every COM_STMT_EXECUTE with flags 0 (no cursor), iteration
// count 1, null bitmap and new-params-bound = 1 with the types; the parameters that have long
// data (LongData) are left out of it as the client left them out (null bit clear, type
// bound, no value): the handler sends the backend their long data as COM_STMT_SEND_LONG_DATA
// packets right before the execute. So no command grows past what the client sent, and the
// backend statement needs no state but its prepare.
type Stmt struct {
	ID    uint32 // the gateway's statement id, given to the client
	Query string
	// ParamCount and ColumnCount are filled by Handler.ComStmtPrepare.
	ParamCount, ColumnCount uint16
	// Failed is set by Handler.ComStmtPrepare when the prepare was answered with an ERR.
	Failed bool
	// Session is the Handler's data for this statement.
	Session any

	types    []byte   // 2 bytes per parameter, as last sent by the client
	long     [][]byte // long data per parameter; nil = none (allocated on first use)
	longSize int      // total bytes in long
	longErr  *mysql.MyError
}

// defaultMaxStmtsPerConn bounds a connection's statement table by default (MySQL's
// max_prepared_stmt_count default, per connection here).
const defaultMaxStmtsPerConn = 16382

// LongData is the long data the client sent for parameter i for this execution (possibly
// empty), or nil when it sent none. Valid during Handler.ComStmtExecute.
func (st *Stmt) LongData(i int) []byte {
	if i < 0 || i >= len(st.long) {
		return nil
	}
	return st.long[i]
}

// HasLongData says whether some parameter has long data for this execution.
func (st *Stmt) HasLongData() bool { return st.anyLong() }

// anyLong says whether some parameter has long data (possibly empty).
func (st *Stmt) anyLong() bool {
	for _, b := range st.long {
		if b != nil {
			return true
		}
	}
	return false
}

func unknownStmt(id uint32, op string) *mysql.MyError {
	return mysql.NewDefaultError(mysql.ER_UNKNOWN_STMT_HANDLER, 10, fmt.Sprint(id), op)
}

func stmtID(p []byte) (uint32, bool) {
	if len(p) < 5 {
		return 0, false
	}
	return le32(p[1:5]), true
}

func (c *Conn) newStmtID() uint32 {
	for {
		c.nextStmtID++
		id := c.nextStmtID
		if _, used := c.stmts[id]; id != 0 && id != 0xffffffff && !used {
			return id
		}
	}
}

// MaxPreparedStmts is the most prepared statements the connection may have at once
// (Config.MaxPreparedStmts): its COM_STMT_PREPARE statements, and the router applies the same
// bound to the session's SQL PREPARE names.
func (c *Conn) MaxPreparedStmts() int { return c.l.cfg.MaxPreparedStmts }

// stmtPrepare serves COM_STMT_PREPARE through the Handler and keeps the statement unless
// the prepare failed.
func (c *Conn) stmtPrepare(p []byte) error {
	if c.stmts == nil {
		c.stmts = make(map[uint32]*Stmt)
	}
	if max := c.l.cfg.MaxPreparedStmts; len(c.stmts) >= max {
		return c.WriteError(&mysql.MyError{Code: mysql.ER_MAX_PREPARED_STMT_COUNT_REACHED, State: "42000", Message: fmt.Sprintf(
			"Can't create more than max_prepared_stmt_count statements (current value: %d) (vtdirect: per connection, "+
				"--mysql-server-max-prepared-stmts; close statements the client no longer needs)", max)})
	}
	st := &Stmt{ID: c.newStmtID(), Query: string(p[1:])}
	c.wroteErr = false
	if err := c.l.h.ComStmtPrepare(c, st); err != nil {
		return err
	}
	if !st.Failed && !c.wroteErr {
		c.stmts[st.ID] = st
	}
	return nil
}

// stmtSendLongData buffers a chunk of a parameter. It never replies; errors are reported by
// the next execution, as MySQL does.
func (c *Conn) stmtSendLongData(p []byte) {
	id, ok := stmtID(p)
	st := c.stmts[id]
	if !ok || st == nil {
		return
	}
	if st.longErr != nil {
		return
	}
	if len(p) < 7 {
		st.longErr = errBadExecute("malformed COM_STMT_SEND_LONG_DATA")
		return
	}
	param := int(le16(p[5:7]))
	if param >= int(st.ParamCount) {
		st.longErr = errBadExecute(fmt.Sprintf("long data for parameter %d of a statement with %d", param, st.ParamCount))
		return
	}
	data := p[7:]
	if st.longSize+len(data) > c.l.cfg.MaxPacketSize {
		st.longErr = mysql.NewError(mysql.ER_NET_PACKET_TOO_LARGE, fmt.Sprintf(
			"vtdirect: long data of the statement's parameters exceeds the maximum packet size (%d bytes)", c.l.cfg.MaxPacketSize))
		c.dropLongData(st)
		return
	}
	if c.kept+len(data) > c.l.cfg.SessionBudget {
		// COM_STMT_SEND_LONG_DATA has no reply: the data is dropped and the next execution
		// of the statement says why.
		st.longErr = mysql.NewError(mysql.ER_NET_PACKET_TOO_LARGE, fmt.Sprintf(
			"vtdirect: the connection's long data (all its statements) and settings exceed its budget of %d bytes "+
				"(--mysql-server-session-budget); execute or reset statements before sending more", c.l.cfg.SessionBudget))
		c.dropLongData(st)
		return
	}
	if total := c.l.cfg.TotalBudget; total > 0 && c.l.kept.Load()+int64(len(data)) > total {
		st.longErr = mysql.NewError(mysql.ER_NET_PACKET_TOO_LARGE, fmt.Sprintf(
			"vtdirect: the long data and settings of all client connections exceed the gateway's budget of %d bytes "+
				"(--mysql-server-total-session-budget); execute the statement with smaller parameters or try again later", total))
		c.dropLongData(st)
		return
	}
	if st.long == nil {
		st.long = make([][]byte, st.ParamCount)
	}
	if st.long[param] == nil {
		st.long[param] = make([]byte, 0, len(data))
	}
	st.long[param] = append(st.long[param], data...)
	st.longSize += len(data)
	c.keep(len(data))
}

// dropLongData forgets a statement's buffered chunks (keeping a pending error) and gives
// their bytes back to the connection's budget.
func (c *Conn) dropLongData(st *Stmt) {
	c.keep(-st.longSize)
	st.resetLongData()
}

// resetLongData drops the buffered chunks but keeps a pending error.
func (st *Stmt) resetLongData() {
	for i := range st.long {
		st.long[i] = nil
	}
	st.longSize = 0
}

// stmtReset serves COM_STMT_RESET: forget long data, reply OK.
func (c *Conn) stmtReset(p []byte) error {
	id, _ := stmtID(p)
	st := c.stmts[id]
	if st == nil {
		return c.WriteError(unknownStmt(id, "mysqld_stmt_reset"))
	}
	c.dropLongData(st)
	st.longErr = nil
	return c.WriteOK(0, 0, c.status, 0)
}

// stmtClose serves COM_STMT_CLOSE: no reply.
func (c *Conn) stmtClose(p []byte) {
	id, _ := stmtID(p)
	st := c.stmts[id]
	if st == nil {
		return
	}
	delete(c.stmts, id)
	c.dropLongData(st)
	c.l.h.ComStmtClose(c, st)
}

// closeAllStmts forgets every statement (COM_RESET_CONNECTION).
func (c *Conn) closeAllStmts() {
	for id, st := range c.stmts {
		delete(c.stmts, id)
		c.dropLongData(st)
		c.l.h.ComStmtClose(c, st)
	}
}

// WritePrepareOK answers COM_STMT_PREPARE for a statement the gateway prepares itself:
// COM_STMT_PREPARE_OK, then the parameter and column definitions, each followed by EOF
// (unless the client negotiated CLIENT_DEPRECATE_EOF).
// It sets st.ParamCount and st.ColumnCount.
func (c *Conn) WritePrepareOK(st *Stmt, params, columns []*Field) error {
	st.ParamCount, st.ColumnCount = uint16(len(params)), uint16(len(columns))
	start := c.begin()
	c.wbuf = append(c.wbuf, mysql.OK_HEADER)
	c.wbuf = appendUint32(c.wbuf, st.ID)
	c.wbuf = appendUint16(c.wbuf, st.ColumnCount)
	c.wbuf = appendUint16(c.wbuf, st.ParamCount)
	c.wbuf = append(c.wbuf, 0, 0, 0) // filler, warning count
	c.end(start)
	if len(params) > 0 {
		c.appendFields(params, c.status)
	}
	if len(columns) > 0 {
		c.appendFields(columns, c.status)
	}
	return c.flush()
}

package mysqlserver

// Command phase: read one command packet, dispatch it on its first byte.
// https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_command_phase.html
// https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_com_set_option.html
// https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_com_reset_connection.html
// https://mariadb.com/kb/en/com_set_option/
// https://mariadb.com/kb/en/2-text-protocol/

import (
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/go-mysql-org/go-mysql/mysql"
)

// Handler serves the commands of authenticated clients. Every method is called from the
// connection's goroutine and writes the client's reply itself (through the Conn's writers
// or RawWriter), except ComStmtClose which has none. A returned error means the connection
// is unusable (broken I/O): mysqlserver closes it without writing anything more.
type Handler interface {
	// NewConnection is called after authentication; an error refuses the client (written
	// as ERR, then the connection is closed).
	NewConnection(c *Conn) error
	// ConnectionClosed is called once when a connection that NewConnection accepted ends.
	// Prepared statements still open are not closed one by one.
	ConnectionClosed(c *Conn)
	ComQuery(c *Conn, cmd *Command) error
	ComInitDB(c *Conn, db string) error
	ComFieldList(c *Conn, cmd *Command) error
	// ComStatistics answers COM_STATISTICS (the mariadb client's `status`): one string packet.
	ComStatistics(c *Conn, cmd *Command) error
	// ComStmtPrepare fills st.ParamCount and st.ColumnCount and writes the reply with
	// st.ID as the statement id. If the reply is an ERR sent through RawWriter, set
	// st.Failed so that mysqlserver forgets the statement (WriteError is noticed anyway).
	ComStmtPrepare(c *Conn, st *Stmt) error
	// ComStmtExecute gets the normalised COM_STMT_EXECUTE (see Stmt); the handler may
	// overwrite the statement id in cmd.Payload()[1:5] with the backend's id.
	ComStmtExecute(c *Conn, st *Stmt, cmd *Command) error
	// ComStmtClose is called after mysqlserver forgot st; it writes no reply.
	ComStmtClose(c *Conn, st *Stmt)
	// ComResetConnection resets the session (COM_RESET_CONNECTION) and writes OK or ERR.
	// mysqlserver has already closed every prepared statement (calling ComStmtClose).
	ComResetConnection(c *Conn) error
	// ComChangeUser resets the session after a COM_CHANGE_USER and writes the reply.
	// mysqlserver has authenticated the new user and closed every prepared statement.
	// With denied nil, the Conn has the new user, database, collation and attributes: write
	// OK or ERR (an unknown database, say). With denied set (a wrong password), the Conn
	// keeps the previous user and database, and the session is reset all the same, as
	// MariaDB does: write denied.
	ComChangeUser(c *Conn, denied *mysql.MyError) error
}

// Command holds one client command. Frame = 4 header bytes (seq 0, length) + payload;
// valid only until the handler returns. For payloads >= 16 MiB-1 mysqlserver reassembles
// the payload and Frame[0:4] is left for the writer (use WritePacket to split).
type Command struct{ Frame []byte }

// Payload is the command byte and its arguments.
func (c *Command) Payload() []byte { return c.Frame[4:] }

// errQuit ends the command loop after COM_QUIT.
var errQuit = errors.New("client quit")

// commandLoop serves commands until the client leaves or I/O fails.
func (c *Conn) commandLoop() {
	for {
		if err := c.serveCommand(); err != nil {
			switch {
			case errors.Is(err, errIdleTimeout):
				c.logger().Debug("connection closed: idle timeout", "timeout", c.idle.d)
			case !errors.Is(err, errQuit) && !errors.Is(err, io.EOF):
				c.logger().Debug("connection ends", "err", err)
			}
			return
		}
		if cap(c.rawB) > maxKeptBuf {
			c.rawB = nil
		}
	}
}

// readCommand reads the next command. Framing errors are answered as the protocol demands
// (ER_NET_PACKET_TOO_LARGE, ER_NET_PACKETS_OUT_OF_ORDER) and returned: the connection must
// then be closed because the stream can no longer be trusted.
func (c *Conn) readCommand() (*Command, error) {
	if c.zc != nil {
		c.zc.startCommand(len(c.rd.buffered()) > 0)
	}
	if err := c.awaitCommand(); err != nil {
		return nil, err
	}
	frame, seq, err := c.rd.readPacket(0, c.l.cfg.MaxPacketSize)
	if err == nil {
		c.seq = c.nextSeq(seq)
		c.cmd.Frame = frame
		return &c.cmd, nil
	}
	var tooLarge *errPacketTooLarge
	var order *errOutOfOrder
	var zorder *errCompressedOutOfOrder
	switch {
	case errors.As(err, &tooLarge):
		c.seq = tooLarge.seq + 1
		_ = c.WriteError(mysql.NewError(mysql.ER_NET_PACKET_TOO_LARGE,
			fmt.Sprintf("Got a packet bigger than 'max_allowed_packet' bytes (%d): vtdirect closes the connection", c.l.cfg.MaxPacketSize)))
		c.drain(tooLarge.remaining)
	case errors.As(err, &order):
		c.seq = order.got + 1
		_ = c.WriteError(mysql.NewError(mysql.ER_NET_PACKETS_OUT_OF_ORDER, "Got packets out of order"))
	case errors.As(err, &zorder):
		c.seq, c.zc.seq = 1, zorder.got+1
		_ = c.WriteError(mysql.NewError(mysql.ER_NET_PACKETS_OUT_OF_ORDER, "Got packets out of order"))
	}
	return nil, err
}

// drain reads and drops (for a short while) the rest of a refused packet, so that the
// client, still sending it, reads our ERR instead of a connection reset.
func (c *Conn) drain(n int) {
	_ = c.raw.SetReadDeadline(time.Now().Add(2 * time.Second))
	_ = c.rd.discard(n)
}

// serveCommand reads and serves one command.
func (c *Conn) serveCommand() error {
	cmd, err := c.readCommand()
	if err != nil {
		return err
	}
	p := cmd.Payload()
	if len(p) == 0 {
		return c.WriteError(mysql.NewDefaultError(mysql.ER_UNKNOWN_COM_ERROR))
	}
	h := c.l.h
	switch p[0] {
	case mysql.COM_QUERY:
		return h.ComQuery(c, cmd)
	case mysql.COM_STMT_EXECUTE:
		return c.stmtExecute(cmd)
	case mysql.COM_PING:
		return c.WriteOK(0, 0, c.status, 0)
	case mysql.COM_QUIT:
		return errQuit
	case mysql.COM_INIT_DB:
		return h.ComInitDB(c, string(p[1:]))
	case mysql.COM_FIELD_LIST:
		return h.ComFieldList(c, cmd)
	case mysql.COM_STATISTICS:
		return h.ComStatistics(c, cmd)
	case mysql.COM_STMT_PREPARE:
		return c.stmtPrepare(p)
	case mysql.COM_STMT_SEND_LONG_DATA:
		c.stmtSendLongData(p)
		return nil
	case mysql.COM_STMT_CLOSE:
		c.stmtClose(p)
		return nil
	case mysql.COM_STMT_RESET:
		return c.stmtReset(p)
	case mysql.COM_RESET_CONNECTION:
		c.closeAllStmts()
		return h.ComResetConnection(c)
	case mysql.COM_SET_OPTION:
		return c.setOption(p)
	case mysql.COM_CHANGE_USER:
		return c.changeUser(p)
	case mysql.COM_PROCESS_KILL:
		// The old form of KILL CONNECTION (PyMySQL's and mysqlclient's kill()): the handler
		// answers it as that statement.
		if len(p) < 5 {
			return c.WriteError(mysql.NewError(erMalformedPacket, "Malformed communication packet"))
		}
		id := uint32(p[1]) | uint32(p[2])<<8 | uint32(p[3])<<16 | uint32(p[4])<<24
		q := append([]byte{0, 0, 0, 0, mysql.COM_QUERY}, "KILL CONNECTION "+strconv.FormatUint(uint64(id), 10)...)
		return h.ComQuery(c, &Command{Frame: q})
	default:
		// COM_STMT_FETCH included: cursors are never opened (execute flags are cleared).
		return c.WriteError(mysql.NewDefaultError(mysql.ER_UNKNOWN_COM_ERROR))
	}
}

// setOption answers COM_SET_OPTION: MYSQL_OPTION_MULTI_STATEMENTS_ON (0) and _OFF (1) change
// what MultiStatements reports and are answered with EOF (an OK with header 0xfe under
// CLIENT_DEPRECATE_EOF), other values with ER_UNKNOWN_COM_ERROR, as MariaDB does. A gateway
// that does not offer CLIENT_MULTI_STATEMENTS refuses to turn it on.
func (c *Conn) setOption(p []byte) error {
	const multiStatementsOn, multiStatementsOff = 0, 1
	if len(p) < 3 {
		return c.WriteError(mysql.NewError(erMalformedPacket, "Malformed communication packet"))
	}
	switch le16(p[1:]) {
	case multiStatementsOn:
		if c.l.cfg.Capabilities&mysql.CLIENT_MULTI_STATEMENTS == 0 {
			return c.WriteError(mysql.NewError(mysql.ER_NOT_SUPPORTED_YET, "vtdirect: multi-statements are not supported; send one statement per query"))
		}
		c.multiStatements = true
	case multiStatementsOff:
		c.multiStatements = false
	default:
		return c.WriteError(mysql.NewDefaultError(mysql.ER_UNKNOWN_COM_ERROR))
	}
	return c.WriteEOF(c.status, 0)
}

// SetStatus sets the server status flags the Conn puts in replies it makes on its own
// (COM_PING, COM_STMT_RESET, COM_SET_OPTION). Default SERVER_STATUS_AUTOCOMMIT.
func (c *Conn) SetStatus(status uint16) { c.status = status }

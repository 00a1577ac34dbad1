package tabletserver

// The reply grammar of the classic protocol without CLIENT_DEPRECATE_EOF, as negotiated by every
// backend connection (docs/internals.md). References:
//   https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_com_query_response.html
//   https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_com_stmt_prepare.html
//   https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_com_stmt_execute.html
//   https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_com_field_list.html
//
// replyParser is a pure state machine: the forwarder walks packet headers and asks it, for each
// packet, whether it must see the whole packet (OK, ERR, EOF, a column count, the prepare OK:
// all small) or only counts it (column definitions and rows: forwarded without being read).

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/go-mysql-org/go-mysql/mysql"
)

// maxPayload is the largest payload of one packet; a packet this long is followed by a
// continuation packet.
const maxPayload = 1<<24 - 1

// Packet header bytes.
const (
	hdrOK          = 0x00
	hdrEOF         = 0xFE
	hdrERR         = 0xFF
	hdrLocalInfile = 0xFB
)

// replyKind selects the grammar of the reply to a command.
type replyKind uint8

const (
	replyQuery     replyKind = iota // OK | ERR | result sets (text or binary rows), repeated while SERVER_MORE_RESULTS_EXISTS
	replyPrepare                    // prepare OK, param defs + EOF, column defs + EOF | ERR
	replyFieldList                  // column defs until EOF | ERR
	replyString                     // one packet that is not an OK (COM_STATISTICS)
	replyNone                       // no reply at all (COM_STMT_CLOSE, COM_STMT_SEND_LONG_DATA)
)

// replyKindOf returns the reply grammar of command cmd, or ok=false for a command that a pooled
// backend connection must not run.
func replyKindOf(cmd byte) (replyKind, bool) {
	switch cmd {
	case mysql.COM_QUERY, mysql.COM_STMT_EXECUTE, mysql.COM_PING, mysql.COM_INIT_DB,
		mysql.COM_STMT_RESET, mysql.COM_SET_OPTION, mysql.COM_RESET_CONNECTION, mysql.COM_PROCESS_KILL,
		mysql.COM_REFRESH, mysql.COM_DEBUG:
		return replyQuery, true
	case mysql.COM_STMT_PREPARE:
		return replyPrepare, true
	case mysql.COM_FIELD_LIST:
		return replyFieldList, true
	case mysql.COM_STATISTICS:
		return replyString, true
	case mysql.COM_STMT_CLOSE, mysql.COM_STMT_SEND_LONG_DATA:
		return replyNone, true
	}
	// COM_QUIT (use Close), COM_CHANGE_USER (would re-authenticate), COM_STMT_FETCH (cursors
	// are never opened), replication and unknown commands.
	return 0, false
}

type replyState uint8

const (
	stFirst          replyState = iota // OK, ERR or a column count (or, for prepare, the prepare OK)
	stColumns                          // column definitions, remaining counts them
	stColumnsEOF                       // the EOF after the column definitions
	stRows                             // rows until EOF or ERR
	stPrepParams                       // parameter definitions of a prepare reply
	stPrepParamsEOF                    //
	stPrepColumns                      // column definitions of a prepare reply
	stPrepColumnsEOF                   //
	stFieldList                        // COM_FIELD_LIST: definitions until EOF or ERR
	stString                           // COM_STATISTICS: one opaque packet
	stDone
)

// errProtocol reports a reply that breaks the grammar: the connection must be discarded.
var errProtocol = errors.New("malformed reply")

// replyParser follows one reply. The zero value is not ready: call reset.
type replyParser struct {
	kind      replyKind
	state     replyState
	remaining uint64 // definitions left in stColumns, stPrepParams, stPrepColumns

	status     uint16         // status flags of the latest OK or EOF, intermediate ones included
	statusSeen bool           // an OK or EOF of this reply carried status flags
	rows       uint64         // rows of every result set of the reply
	err        *mysql.MyError // the ERR that ended the reply, if any
	errFirst   bool           // that ERR was the reply's first packet
	// holdErr, when not 0, is the code of an ERR that the forwarder must not forward when it
	// is the reply's first packet: the caller will retry the command (prepare, 1461).
	holdErr uint16

	// prepare reply
	stmtID       uint32 // backend statement id
	params, cols uint16
	rewriteID    bool   // write clientID over the statement id in the prepare OK
	clientID     uint32 //
}

func (p *replyParser) reset(kind replyKind) {
	*p = replyParser{kind: kind}
	switch kind {
	case replyFieldList:
		p.state = stFieldList
	case replyString:
		p.state = stString
	case replyNone:
		p.state = stDone
	}
}

func (p *replyParser) done() bool { return p.state == stDone }

// isEOF tells an EOF packet from a row or definition that starts with 0xFE: an EOF payload is
// shorter than 9 bytes, a row starting with the 8-byte length prefix 0xFE is longer.
func isEOF(first byte, length int) bool { return first == hdrEOF && length < 9 }

// whole reports whether the packet whose payload starts with first and has length bytes must be
// handed to feed in full; otherwise it is counted with skip and forwarded unread.
func (p *replyParser) whole(first byte, length int) bool {
	if length == 0 {
		return true // an empty payload is never a row or a definition: let feed reject it
	}
	switch p.state {
	case stColumns, stPrepParams, stPrepColumns, stRows, stFieldList:
		return first == hdrERR || isEOF(first, length)
	case stString:
		return false
	}
	return true
}

// skip counts a packet that whole said need not be read.
func (p *replyParser) skip() {
	switch p.state {
	case stColumns:
		if p.remaining--; p.remaining == 0 {
			p.state = stColumnsEOF
		}
	case stPrepParams:
		if p.remaining--; p.remaining == 0 {
			p.state = stPrepParamsEOF
		}
	case stPrepColumns:
		if p.remaining--; p.remaining == 0 {
			p.state = stPrepColumnsEOF
		}
	case stRows:
		p.rows++
	case stString:
		p.state = stDone
	}
}

// inRows reports whether the next opaque packet is a row.
func (p *replyParser) inRows() bool { return p.state == stRows }

// feed reads a whole packet. It may rewrite the statement id of a prepare OK in place.
func (p *replyParser) feed(payload []byte) error {
	if len(payload) == 0 {
		return fmt.Errorf("%w: empty packet", errProtocol)
	}
	first := payload[0]
	if first == hdrERR && p.state != stDone {
		p.err = parseERR(payload)
		p.errFirst = p.state == stFirst
		p.state = stDone
		return nil
	}
	switch p.state {
	case stFirst:
		if p.kind == replyPrepare {
			return p.feedPrepareOK(payload)
		}
		switch {
		case first == hdrOK:
			return p.feedOK(payload)
		case isEOF(first, len(payload)):
			return p.feedEOF(payload, false)
		case first == hdrLocalInfile:
			return fmt.Errorf("%w: LOCAL INFILE request, but CLIENT_LOCAL_FILES was not negotiated", errProtocol)
		}
		n, size, ok := readLenEnc(payload)
		if !ok || size != len(payload) || n == 0 {
			return fmt.Errorf("%w: bad column count packet % x", errProtocol, head(payload))
		}
		p.remaining, p.state = n, stColumns
		return nil
	case stColumnsEOF:
		if !isEOF(first, len(payload)) {
			return fmt.Errorf("%w: want EOF after column definitions, got % x", errProtocol, head(payload))
		}
		p.state = stRows
		return nil
	case stRows:
		if !isEOF(first, len(payload)) {
			return fmt.Errorf("%w: want a row or EOF, got % x", errProtocol, head(payload))
		}
		return p.feedEOF(payload, true)
	case stPrepParamsEOF:
		if !isEOF(first, len(payload)) || len(payload) < 5 {
			return fmt.Errorf("%w: want EOF after parameter definitions, got % x", errProtocol, head(payload))
		}
		// The status of a prepare with parameters and no columns is in this EOF (MySQL and
		// MariaDB both send it); with columns, the columns' EOF overrides it.
		p.setStatus(payload[3:5])
		p.state = stDone
		if p.cols > 0 {
			p.state, p.remaining = stPrepColumns, uint64(p.cols)
		}
		return nil
	case stPrepColumnsEOF, stFieldList:
		if !isEOF(first, len(payload)) || len(payload) < 5 {
			return fmt.Errorf("%w: want EOF after definitions, got % x", errProtocol, head(payload))
		}
		p.setStatus(payload[3:5])
		p.state = stDone
		return nil
	}
	return fmt.Errorf("%w: unexpected packet % x in state %d", errProtocol, head(payload), p.state)
}

// feedOK reads an OK: header, affected rows, last insert id (both length-encoded), status,
// warnings.
func (p *replyParser) feedOK(payload []byte) error {
	pos := 1
	for i := 0; i < 2; i++ {
		_, n, ok := readLenEnc(payload[pos:])
		if !ok {
			return fmt.Errorf("%w: truncated OK packet", errProtocol)
		}
		pos += n
	}
	if len(payload) < pos+2 {
		return fmt.Errorf("%w: truncated OK packet", errProtocol)
	}
	p.setStatus(payload[pos:])
	p.next()
	return nil
}

// feedEOF reads an EOF (header, warnings, status) that ends a result set or a reply.
func (p *replyParser) feedEOF(payload []byte, endOfRows bool) error {
	if len(payload) < 5 {
		// A pre-4.1 EOF has no status: impossible with CLIENT_PROTOCOL_41.
		return fmt.Errorf("%w: truncated EOF packet", errProtocol)
	}
	p.setStatus(payload[3:5])
	p.next()
	return nil
}

// setStatus records the status flags at the start of b.
func (p *replyParser) setStatus(b []byte) {
	p.status = binary.LittleEndian.Uint16(b)
	p.statusSeen = true
}

// statusKnown reports whether the reply ended with an OK or EOF carrying status flags, so that
// p.status is the session's state after the command. An ERR carries none; neither do a prepare
// reply without parameters and columns (the prepare OK has no status field), COM_STATISTICS
// and the commands without a reply.
func (p *replyParser) statusKnown() bool { return p.statusSeen && p.err == nil }

// held reports whether the reply is an ERR that the forwarder keeps from the client (holdErr).
func (p *replyParser) held() bool {
	return p.holdErr != 0 && p.err != nil && p.errFirst && p.err.Code == p.holdErr
}

// next moves on after an OK or an EOF ending a result: another result follows when the server
// says so.
func (p *replyParser) next() {
	if p.status&mysql.SERVER_MORE_RESULTS_EXISTS != 0 && p.kind == replyQuery {
		p.state = stFirst
		return
	}
	p.state = stDone
}

// feedPrepareOK reads the first packet of a prepare reply: 0x00, statement id (4), column count
// (2), parameter count (2), filler (1), warnings (2).
func (p *replyParser) feedPrepareOK(payload []byte) error {
	if payload[0] != hdrOK || len(payload) < 12 {
		return fmt.Errorf("%w: bad prepare OK % x", errProtocol, head(payload))
	}
	p.stmtID = binary.LittleEndian.Uint32(payload[1:5])
	p.cols = binary.LittleEndian.Uint16(payload[5:7])
	p.params = binary.LittleEndian.Uint16(payload[7:9])
	if p.rewriteID {
		binary.LittleEndian.PutUint32(payload[1:5], p.clientID)
	}
	switch {
	case p.params > 0:
		p.state, p.remaining = stPrepParams, uint64(p.params)
	case p.cols > 0:
		p.state, p.remaining = stPrepColumns, uint64(p.cols)
	default:
		p.state = stDone
	}
	return nil
}

// parseERR decodes an ERR payload: 0xFF, code (2), '#' and SQLSTATE (5), message.
func parseERR(payload []byte) *mysql.MyError {
	e := &mysql.MyError{State: mysql.DEFAULT_MYSQL_STATE}
	if len(payload) < 3 {
		e.Code, e.Message = mysql.ER_UNKNOWN_ERROR, "malformed error packet from backend"
		return e
	}
	e.Code = binary.LittleEndian.Uint16(payload[1:3])
	msg := payload[3:]
	if len(msg) >= 6 && msg[0] == '#' {
		e.State = string(msg[1:6])
		msg = msg[6:]
	}
	e.Message = string(msg)
	return e
}

// readLenEnc reads a length-encoded integer at the start of b and returns it with its size.
func readLenEnc(b []byte) (v uint64, size int, ok bool) {
	if len(b) == 0 {
		return 0, 0, false
	}
	switch b[0] {
	case 0xFC:
		if len(b) < 3 {
			return 0, 0, false
		}
		return uint64(binary.LittleEndian.Uint16(b[1:])), 3, true
	case 0xFD:
		if len(b) < 4 {
			return 0, 0, false
		}
		return uint64(b[1]) | uint64(b[2])<<8 | uint64(b[3])<<16, 4, true
	case 0xFE:
		if len(b) < 9 {
			return 0, 0, false
		}
		return binary.LittleEndian.Uint64(b[1:]), 9, true
	case 0xFB, 0xFF:
		return 0, 0, false
	}
	return uint64(b[0]), 1, true
}

// head is the start of a packet for error messages.
func head(b []byte) []byte {
	if len(b) > 16 {
		return b[:16]
	}
	return b
}

package tabletserver

// The reply grammar of the classic protocol, with or without CLIENT_DEPRECATE_EOF (a backend
// connection negotiates it exactly when the client it serves did). References:
//   https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_com_query_response.html
//   https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_com_stmt_prepare.html
//   https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_com_stmt_execute.html
//   https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_com_field_list.html
//   https://mariadb.com/kb/en/result-set-packets/ (DEPRECATE_EOF)
//
// replyParser is a pure state machine: the forwarder walks packet headers and asks it, for each
// packet, whether it must see the whole packet (OK, ERR, EOF, a column count, the prepare OK,
// a LOCAL INFILE request: all small) or only counts it (column definitions and rows: forwarded
// without being read). Whole OK packets carry session-tracking information (every backend
// connection negotiates CLIENT_SESSION_TRACK): the parser records it (track.go) and rewrites the
// packet for a client that did not ask for all of it.

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
	replyQuery     replyKind = iota // OK | ERR | LOCAL INFILE | result sets (text or binary rows), repeated while SERVER_MORE_RESULTS_EXISTS
	replyPrepare                    // prepare OK, param defs [+ EOF], column defs [+ EOF] | ERR
	replyFieldList                  // column defs until EOF (or 0xFE OK) | ERR
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
	stFirst          replyState = iota // OK, ERR, LOCAL INFILE or a column count (or, for prepare, the prepare OK)
	stColumns                          // column definitions, remaining counts them
	stColumnsEOF                       // the EOF after the column definitions (not with DEPRECATE_EOF)
	stRows                             // rows until EOF (or the 0xFE OK) or ERR
	stPrepParams                       // parameter definitions of a prepare reply
	stPrepParamsEOF                    //
	stPrepColumns                      // column definitions of a prepare reply
	stPrepColumnsEOF                   //
	stFieldList                        // COM_FIELD_LIST: definitions until EOF or ERR
	stString                           // COM_STATISTICS: one opaque packet
	stInfile                           // the server asked for a LOCAL INFILE: the client's file is relayed
	stDone
)

// errProtocol reports a reply that breaks the grammar: the connection must be discarded.
var errProtocol = errors.New("malformed reply")

// replyParser follows one reply. The zero value is not ready: call reset.
type replyParser struct {
	kind      replyKind
	state     replyState
	remaining uint64 // definitions left in stColumns, stPrepParams, stPrepColumns
	// deprecateEOF: the connection negotiated CLIENT_DEPRECATE_EOF (no EOF after definitions,
	// a result set ends with an OK whose header is 0xFE).
	deprecateEOF bool
	// infile: the connection negotiated CLIENT_LOCAL_FILES (the client allowed it).
	infile bool

	status     uint16         // status flags of the latest OK or EOF, intermediate ones included
	statusSeen bool           // an OK or EOF of this reply carried status flags
	sawInTrans bool           // some OK or EOF of the reply had SERVER_STATUS_IN_TRANS
	rows       uint64         // rows of every result set of the reply
	lastRows   uint64         // rows of the current (last) result set
	resultSet  bool           // the latest result was rows, not an OK
	err        *mysql.MyError // the ERR that ended the reply, if any
	errFirst   bool           // that ERR was the reply's first packet
	// holdErr, when not 0, is the code of an ERR that the forwarder must not forward when it
	// is the reply's first packet: the caller will retry the command (prepare, 1461).
	holdErr uint16

	// From the latest OK (and EOF for warnings).
	affected, insertID uint64
	warnings           uint16
	lastInsertID       uint64 // the last non-zero insert id of any OK

	// Session tracking (track.go).
	track   trackState
	rewrote bool   // feed rewrote the packet: its new payload is in out
	out     []byte // scratch: the rewritten payload
	keep    []byte // scratch: the session-state entries the client gets

	// prepare reply
	stmtID       uint32 // backend statement id
	params, cols uint16
	rewriteID    bool   // write clientID over the statement id in the prepare OK
	clientID     uint32 //
}

// reset prepares the parser for the reply to a new command, keeping its scratch buffers.
func (p *replyParser) reset(kind replyKind, deprecateEOF, infile bool, filter TrackFilter) {
	out, keep, vars := p.out[:0], p.keep[:0], p.track.vars[:0]
	*p = replyParser{kind: kind, deprecateEOF: deprecateEOF, infile: infile, out: out, keep: keep}
	p.track = trackState{filter: filter, vars: vars}
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

// isEnd tells the packet that ends a run of rows or definitions from a row or a definition:
// without DEPRECATE_EOF an EOF, whose payload is shorter than 9 bytes (a row starting with the
// 8-byte length prefix 0xFE is longer); with it an OK with header 0xFE, which is shorter than a
// maximum-size packet (a row starting with 0xFE holds a value of 16 MiB or more).
func (p *replyParser) isEnd(first byte, length int) bool {
	if first != hdrEOF {
		return false
	}
	if p.deprecateEOF {
		return length < maxPayload
	}
	return length < 9
}

// whole reports whether the packet whose payload starts with first and has length bytes must be
// handed to feed in full; otherwise it is counted with skip and forwarded unread.
func (p *replyParser) whole(first byte, length int) bool {
	if length == 0 {
		return true // an empty payload is never a row or a definition: let feed reject it
	}
	switch p.state {
	case stColumns, stPrepParams, stPrepColumns, stRows, stFieldList:
		return first == hdrERR || p.isEnd(first, length)
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
			if p.deprecateEOF {
				p.state = stRows
			}
		}
	case stPrepParams:
		if p.remaining--; p.remaining == 0 {
			p.state = stPrepParamsEOF
			if p.deprecateEOF {
				p.afterParams()
			}
		}
	case stPrepColumns:
		if p.remaining--; p.remaining == 0 {
			p.state = stPrepColumnsEOF
			if p.deprecateEOF {
				p.state = stDone
			}
		}
	case stRows:
		p.rows++
		p.lastRows++
	case stString:
		p.state = stDone
	}
}

// inRows reports whether the next opaque packet is a row.
func (p *replyParser) inRows() bool { return p.state == stRows }

// feed reads a whole packet. It may rewrite the packet in place (the statement id of a prepare
// OK, a status flag) or into p.out (an OK whose session-tracking information the client must
// not get in full: p.rewrote says so).
func (p *replyParser) feed(payload []byte) error {
	p.rewrote = false
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
			return p.feedOK(payload, false)
		case first == hdrEOF && len(payload) < 9 && !p.deprecateEOF:
			return p.feedEOF(payload, false)
		case first == hdrEOF && p.deprecateEOF:
			return p.feedOK(payload, false) // COM_SET_OPTION and friends answer with the 0xFE OK
		case first == hdrLocalInfile:
			if !p.infile {
				return fmt.Errorf("%w: LOCAL INFILE request, but CLIENT_LOCAL_FILES was not negotiated", errProtocol)
			}
			p.state = stInfile
			return nil
		}
		n, size, ok := readLenEnc(payload)
		if !ok || size != len(payload) || n == 0 {
			return fmt.Errorf("%w: bad column count packet % x", errProtocol, head(payload))
		}
		p.remaining, p.state = n, stColumns
		p.lastRows, p.resultSet = 0, true
		return nil
	case stColumnsEOF:
		if !p.isEnd(first, len(payload)) {
			return fmt.Errorf("%w: want EOF after column definitions, got % x", errProtocol, head(payload))
		}
		p.state = stRows
		return nil
	case stRows:
		if !p.isEnd(first, len(payload)) {
			return fmt.Errorf("%w: want a row or the end of rows, got % x", errProtocol, head(payload))
		}
		if p.deprecateEOF {
			return p.feedOK(payload, true)
		}
		return p.feedEOF(payload, true)
	case stPrepParamsEOF:
		if !p.isEnd(first, len(payload)) || len(payload) < 5 {
			return fmt.Errorf("%w: want EOF after parameter definitions, got % x", errProtocol, head(payload))
		}
		// The status of a prepare with parameters and no columns is in this EOF (MySQL and
		// MariaDB both send it); with columns, the columns' EOF overrides it.
		p.setStatus(binary.LittleEndian.Uint16(payload[3:5]))
		p.afterParams()
		return nil
	case stPrepColumnsEOF:
		if !p.isEnd(first, len(payload)) || len(payload) < 5 {
			return fmt.Errorf("%w: want EOF after definitions, got % x", errProtocol, head(payload))
		}
		p.setStatus(binary.LittleEndian.Uint16(payload[3:5]))
		p.state = stDone
		return nil
	case stFieldList:
		if !p.isEnd(first, len(payload)) || len(payload) < 5 {
			return fmt.Errorf("%w: want EOF after definitions, got % x", errProtocol, head(payload))
		}
		if p.deprecateEOF {
			p.resultSet = false
			return p.feedOK(payload, false)
		}
		p.setStatus(binary.LittleEndian.Uint16(payload[3:5]))
		p.state = stDone
		return nil
	}
	return fmt.Errorf("%w: unexpected packet % x in state %d", errProtocol, head(payload), p.state)
}

func (p *replyParser) afterParams() {
	p.state = stDone
	if p.cols > 0 {
		p.state, p.remaining = stPrepColumns, uint64(p.cols)
	}
}

// feedOK reads an OK (header 0x00, or 0xFE when it ends rows with DEPRECATE_EOF): affected
// rows, last insert id (both length-encoded), status, warnings, then the info string and the
// session-state information (track.go), which it may rewrite for the client.
func (p *replyParser) feedOK(payload []byte, endOfRows bool) error {
	pos := 1
	var vals [2]uint64
	for i := range vals {
		v, n, ok := readLenEnc(payload[pos:])
		if !ok {
			return fmt.Errorf("%w: truncated OK packet", errProtocol)
		}
		vals[i] = v
		pos += n
	}
	if len(payload) < pos+4 {
		return fmt.Errorf("%w: truncated OK packet", errProtocol)
	}
	status := binary.LittleEndian.Uint16(payload[pos:])
	p.setStatus(status)
	p.warnings = binary.LittleEndian.Uint16(payload[pos+2:])
	if !endOfRows {
		p.affected, p.insertID = vals[0], vals[1]
		p.resultSet = false
		if vals[1] != 0 {
			p.lastInsertID = vals[1]
		}
	}
	if status&mysql.SERVER_SESSION_STATE_CHANGED != 0 {
		if err := p.trackOK(payload, pos+4, status); err != nil {
			return err
		}
	}
	p.next()
	return nil
}

// feedEOF reads an EOF (header, warnings, status) that ends a result set or a reply.
func (p *replyParser) feedEOF(payload []byte, endOfRows bool) error {
	if len(payload) < 5 {
		// A pre-4.1 EOF has no status: impossible with CLIENT_PROTOCOL_41.
		return fmt.Errorf("%w: truncated EOF packet", errProtocol)
	}
	status := binary.LittleEndian.Uint16(payload[3:5])
	p.warnings = binary.LittleEndian.Uint16(payload[1:3])
	if !endOfRows {
		p.resultSet = false
	}
	if status&mysql.SERVER_SESSION_STATE_CHANGED != 0 {
		// An EOF carries the flag but no details (MariaDB: SET STATEMENT ... FOR SELECT): the
		// details, if any, come with a later OK. A client that does not track gets no flag.
		p.track.eofChanged = true
		if p.track.filter == nil {
			status &^= mysql.SERVER_SESSION_STATE_CHANGED
			binary.LittleEndian.PutUint16(payload[3:5], status)
		}
	}
	p.setStatus(status)
	p.next()
	return nil
}

// setStatus records the status flags of an OK or EOF.
func (p *replyParser) setStatus(status uint16) {
	p.status = status
	p.statusSeen = true
	if status&mysql.SERVER_STATUS_IN_TRANS != 0 {
		p.sawInTrans = true
	}
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

// readLenEncString reads a length-encoded string at the start of b.
func readLenEncString(b []byte) (s []byte, size int, ok bool) {
	n, k, ok := readLenEnc(b)
	if !ok || n > uint64(len(b)-k) {
		return nil, 0, false
	}
	return b[k : k+int(n)], k + int(n), true
}

// appendLenEnc appends a length-encoded integer.
func appendLenEnc(b []byte, v uint64) []byte {
	switch {
	case v < 0xfb:
		return append(b, byte(v))
	case v <= 0xffff:
		return append(b, 0xfc, byte(v), byte(v>>8))
	case v <= 0xffffff:
		return append(b, 0xfd, byte(v), byte(v>>8), byte(v>>16))
	}
	return binary.LittleEndian.AppendUint64(append(b, 0xfe), v)
}

// head is the start of a packet for error messages.
func head(b []byte) []byte {
	if len(b) > 16 {
		return b[:16]
	}
	return b
}

package mysqlserver

// Replies the gateway makes itself: OK, ERR and EOF packets and text result sets. Each reply
// is built whole in the connection's write buffer and sent with one Write.
// https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_basic_ok_packet.html
// https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_basic_err_packet.html
// https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_basic_eof_packet.html
// https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_com_query_response_text_resultset.html
// https://mariadb.com/kb/en/result-set-packets/

import (
	"errors"
	"fmt"

	"github.com/go-mysql-org/go-mysql/mysql"
)

// Field describes one column of a gateway-made result set (Protocol::ColumnDefinition41).
type Field struct {
	Schema, Table, OrgTable, Name, OrgName string
	Charset                                uint16 // collation id: 33 utf8, 45 utf8mb4, 63 binary
	ColumnLength                           uint32
	Type                                   byte // mysql.MYSQL_TYPE_*
	Flags                                  uint16
	Decimals                               byte
}

// Result is a gateway-made text result set. A nil value is SQL NULL.
type Result struct {
	Fields []*Field
	Rows   [][][]byte
	// Status goes in the closing EOF packet (mysql.SERVER_STATUS_*), e.g. AUTOCOMMIT.
	Status uint16
}

// begin reserves a packet header in the write buffer and returns where the packet starts.
func (c *Conn) begin() int {
	c.wbuf = append(c.wbuf, 0, 0, 0, 0)
	return len(c.wbuf) - 4
}

// end fills in the header of the packet started at start, splitting the payload into
// several packets when it reaches 16 MiB-1 bytes.
func (c *Conn) end(start int) {
	n := len(c.wbuf) - start - 4
	if n < maxPayloadLen {
		c.wbuf[start], c.wbuf[start+1], c.wbuf[start+2], c.wbuf[start+3] = byte(n), byte(n>>8), byte(n>>16), c.seq
		c.seq++
		return
	}
	payload := append([]byte(nil), c.wbuf[start+4:]...)
	c.wbuf = c.wbuf[:start]
	for {
		k := min(len(payload), maxPayloadLen)
		c.wbuf = append(c.wbuf, byte(k), byte(k>>8), byte(k>>16), c.seq)
		c.wbuf = append(c.wbuf, payload[:k]...)
		c.seq++
		payload = payload[k:]
		if k < maxPayloadLen {
			return
		}
	}
}

// flush writes the buffered reply with one Write.
func (c *Conn) flush() error {
	_, err := c.out.Write(c.wbuf)
	if c.zc != nil {
		c.seq = c.zc.seq // as MySQL's net_flush does under compression
	}
	if cap(c.wbuf) > maxKeptBuf {
		c.wbuf = make([]byte, 0, 1024)
	} else {
		c.wbuf = c.wbuf[:0]
	}
	return err
}

// OKPacket is an OK packet: what a statement did, and with CLIENT_SESSION_TRACK what it
// changed in the session.
type OKPacket struct {
	AffectedRows, LastInsertID uint64
	Status, Warnings           uint16
	// Info is the human-readable summary ("Rows matched: 1  Changed: 1  Warnings: 0").
	Info string
	// SessionState holds session-state change entries (built with AppendSessionState and
	// its helpers). It is sent only to a client that negotiated CLIENT_SESSION_TRACK, which
	// then gets SERVER_SESSION_STATE_CHANGED in Status; other clients get neither.
	SessionState []byte
}

// WriteOK writes an OK packet.
func (c *Conn) WriteOK(affected, insertID uint64, status, warnings uint16) error {
	return c.WriteOKPacket(OKPacket{AffectedRows: affected, LastInsertID: insertID, Status: status, Warnings: warnings})
}

// WriteOKPacket writes ok as MariaDB does for the client's capabilities.
func (c *Conn) WriteOKPacket(ok OKPacket) error {
	start := c.begin()
	c.wbuf = appendOKPayload(c.wbuf, mysql.OK_HEADER, &ok, c.caps)
	c.end(start)
	return c.flush()
}

// appendOKPayload appends an OK packet payload with the given header (0x00, or 0xfe for the
// OK that replaces EOF under CLIENT_DEPRECATE_EOF). As MariaDB does, the info is
// length-encoded and sent when not empty or when session state follows.
func appendOKPayload(b []byte, header byte, ok *OKPacket, caps uint32) []byte {
	track := caps&mysql.CLIENT_SESSION_TRACK != 0 && len(ok.SessionState) > 0
	status := ok.Status &^ mysql.SERVER_SESSION_STATE_CHANGED
	if track {
		status |= mysql.SERVER_SESSION_STATE_CHANGED
	}
	b = append(b, header)
	b = appendLenEnc(b, ok.AffectedRows)
	b = appendLenEnc(b, ok.LastInsertID)
	b = appendUint16(b, status)
	b = appendUint16(b, ok.Warnings)
	if track || ok.Info != "" {
		b = appendLenEncStr(b, ok.Info)
	}
	if track {
		b = appendLenEncString(b, ok.SessionState)
	}
	return b
}

// Session-state change types (the entries of an OK packet's session-state information).
// https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_basic_ok_packet.html
// https://mariadb.com/kb/en/ok_packet/#session-change-type
const (
	SessionTrackSystemVariables            = 0x00
	SessionTrackSchema                     = 0x01
	SessionTrackStateChange                = 0x02
	SessionTrackGTIDs                      = 0x03
	SessionTrackTransactionCharacteristics = 0x04
	SessionTrackTransactionState           = 0x05
)

// AppendSessionState appends one session-state change entry: its type and its data.
func AppendSessionState(b []byte, typ byte, data []byte) []byte {
	return appendLenEncString(append(b, typ), data)
}

// AppendSessionStateSchema appends the entry that reports a new default database (USE db).
func AppendSessionStateSchema(b []byte, db string) []byte {
	b = append(b, SessionTrackSchema)
	b = appendLenEnc(b, uint64(lenEncLen(uint64(len(db)))+len(db)))
	return appendLenEncStr(b, db)
}

// AppendSessionStateSystemVariable appends the entry that reports a system variable's new
// value (for the variables in session_track_system_variables).
func AppendSessionStateSystemVariable(b []byte, name, value string) []byte {
	b = append(b, SessionTrackSystemVariables)
	b = appendLenEnc(b, uint64(lenEncLen(uint64(len(name)))+len(name)+lenEncLen(uint64(len(value)))+len(value)))
	return appendLenEncStr(appendLenEncStr(b, name), value)
}

// lenEncLen is the size of v as a length-encoded integer.
func lenEncLen(v uint64) int {
	switch {
	case v < 0xfb:
		return 1
	case v <= 0xffff:
		return 3
	case v <= 0xffffff:
		return 4
	}
	return 9
}

// WriteError writes an ERR packet: a *mysql.MyError (anywhere in err's chain) keeps its
// code and SQLSTATE, anything else becomes 1105 HY000 with err's text.
func (c *Conn) WriteError(err error) error {
	c.wroteErr = true
	start := c.begin()
	c.wbuf = appendErrPayload(c.wbuf, toMyError(err))
	c.end(start)
	return c.flush()
}

// toMyError classifies err for the client.
func toMyError(err error) *mysql.MyError {
	var me *mysql.MyError
	if errors.As(err, &me) {
		return me
	}
	if err == nil {
		return mysql.NewError(mysql.ER_UNKNOWN_ERROR, "vtdirect: unknown error")
	}
	return mysql.NewError(mysql.ER_UNKNOWN_ERROR, err.Error())
}

// appendErrPacket is an ERR payload sent before the client said what it speaks (instead of
// the greeting): without the SQLSTATE, which only a client with CLIENT_PROTOCOL_41 reads, as
// MySQL sends it.
func appendErrPacket(b []byte, e *mysql.MyError) []byte {
	b = append(b, mysql.ERR_HEADER)
	b = appendUint16(b, e.Code)
	return append(b, e.Message...)
}

func appendErrPayload(b []byte, e *mysql.MyError) []byte {
	b = append(b, mysql.ERR_HEADER)
	b = appendUint16(b, e.Code)
	state := e.State
	if len(state) != 5 {
		state = mysql.DEFAULT_MYSQL_STATE
	}
	b = append(b, '#')
	b = append(b, state...)
	return append(b, e.Message...)
}

// WriteEOF writes an EOF packet, or under CLIENT_DEPRECATE_EOF the OK packet with header
// 0xfe that replaces it.
func (c *Conn) WriteEOF(status, warnings uint16) error {
	start := c.begin()
	c.appendEOF(status, warnings)
	c.end(start)
	return c.flush()
}

// appendEOF appends the payload that ends a result set (or a COM_FIELD_LIST reply).
func (c *Conn) appendEOF(status, warnings uint16) {
	if c.caps&mysql.CLIENT_DEPRECATE_EOF != 0 {
		c.wbuf = appendOKPayload(c.wbuf, mysql.EOF_HEADER, &OKPacket{Status: status, Warnings: warnings}, c.caps)
		return
	}
	c.wbuf = append(c.wbuf, mysql.EOF_HEADER)
	c.wbuf = appendUint16(c.wbuf, warnings)
	c.wbuf = appendUint16(c.wbuf, status)
}

// WriteResult writes r as a text result set (column count, column definitions, EOF unless
// CLIENT_DEPRECATE_EOF, rows, then EOF or its OK replacement); a result without fields is
// written as an OK packet.
func (c *Conn) WriteResult(r *Result) error {
	if len(r.Fields) == 0 {
		return c.WriteOK(0, 0, r.Status, 0)
	}
	for i, row := range r.Rows {
		if len(row) != len(r.Fields) {
			return fmt.Errorf("mysqlserver: result row %d has %d values for %d fields", i, len(row), len(r.Fields))
		}
	}
	start := c.begin()
	c.wbuf = appendLenEnc(c.wbuf, uint64(len(r.Fields)))
	c.end(start)
	c.appendFields(r.Fields, r.Status)
	for _, row := range r.Rows {
		start := c.begin()
		for _, v := range row {
			if v == nil {
				c.wbuf = append(c.wbuf, 0xfb)
			} else {
				c.wbuf = appendLenEncString(c.wbuf, v)
			}
		}
		c.end(start)
	}
	start = c.begin()
	c.appendEOF(r.Status, 0)
	c.end(start)
	return c.flush()
}

// appendFields appends one column definition packet per field, then an EOF packet unless the
// client negotiated CLIENT_DEPRECATE_EOF.
func (c *Conn) appendFields(fields []*Field, status uint16) {
	for _, f := range fields {
		start := c.begin()
		c.wbuf = appendColumnDef(c.wbuf, f)
		c.end(start)
	}
	if c.caps&mysql.CLIENT_DEPRECATE_EOF != 0 {
		return
	}
	start := c.begin()
	c.appendEOF(status, 0)
	c.end(start)
}

// appendColumnDef appends a Protocol::ColumnDefinition41 payload.
func appendColumnDef(b []byte, f *Field) []byte {
	b = appendLenEncStr(b, "def")
	b = appendLenEncStr(b, f.Schema)
	b = appendLenEncStr(b, f.Table)
	b = appendLenEncStr(b, f.OrgTable)
	b = appendLenEncStr(b, f.Name)
	b = appendLenEncStr(b, f.OrgName)
	b = append(b, 0x0c) // length of the fixed-length fields
	b = appendUint16(b, f.Charset)
	b = appendUint32(b, f.ColumnLength)
	b = append(b, f.Type)
	b = appendUint16(b, f.Flags)
	b = append(b, f.Decimals, 0, 0)
	return b
}

// ParseOK decodes an OK packet payload (header 0x00, or 0xfe for an OK sent as EOF) that a
// server sent to a connection with capabilities caps (CLIENT_SESSION_TRACK says how to read
// what follows the warnings). Info and SessionState alias payload.
func ParseOK(payload []byte, caps uint32) (OKPacket, error) {
	var ok OKPacket
	if len(payload) == 0 || (payload[0] != mysql.OK_HEADER && payload[0] != mysql.EOF_HEADER) {
		return ok, errors.New("not an OK packet")
	}
	p := payload[1:]
	var n int
	var good bool
	if ok.AffectedRows, n, good = readLenEnc(p); !good {
		return ok, errors.New("OK packet: truncated affected rows")
	}
	p = p[n:]
	if ok.LastInsertID, n, good = readLenEnc(p); !good {
		return ok, errors.New("OK packet: truncated insert id")
	}
	p = p[n:]
	if len(p) < 4 {
		return ok, errors.New("OK packet: truncated status")
	}
	ok.Status, ok.Warnings = le16(p), le16(p[2:])
	p = p[4:]
	if len(p) == 0 {
		return ok, nil
	}
	info, n, good := readLenEncString(p)
	if !good {
		return ok, errors.New("OK packet: malformed info")
	}
	ok.Info = string(info)
	p = p[n:]
	if caps&mysql.CLIENT_SESSION_TRACK != 0 && ok.Status&mysql.SERVER_SESSION_STATE_CHANGED != 0 && len(p) > 0 {
		if ok.SessionState, _, good = readLenEncString(p); !good {
			return ok, errors.New("OK packet: malformed session state")
		}
	}
	return ok, nil
}

// ParseErr decodes an ERR packet payload (header 0xff) into a *mysql.MyError.
func ParseErr(payload []byte) (*mysql.MyError, error) {
	if len(payload) < 3 || payload[0] != mysql.ERR_HEADER {
		return nil, errors.New("not an ERR packet")
	}
	e := &mysql.MyError{Code: le16(payload[1:]), State: mysql.DEFAULT_MYSQL_STATE}
	msg := payload[3:]
	if len(msg) >= 6 && msg[0] == '#' {
		e.State = string(msg[1:6])
		msg = msg[6:]
	}
	e.Message = string(msg)
	return e, nil
}

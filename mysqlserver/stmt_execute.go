package mysqlserver

// COM_STMT_EXECUTE: validate the client's payload and hand the Handler a normalised one
// (flags 0, iteration count 1, types always bound, the long-data parameters left out as the
// client left them out).
// https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_com_stmt_execute.html
// https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_binary_resultset.html (value encodings)
// https://mariadb.com/kb/en/com_stmt_execute/

import (
	"github.com/go-mysql-org/go-mysql/mysql"
)

// execHeaderLen: command byte, statement id (4), flags (1), iteration count (4).
const execHeaderLen = 10

// span is a parameter value's [start, end) in the client's payload.
type span struct{ start, end int }

// execRequest is a parsed COM_STMT_EXECUTE. Slices alias the payload (or the statement's
// remembered types).
type execRequest struct {
	nullBitmap []byte
	newBound   bool
	types      []byte // 2 bytes per parameter
	values     []span // per parameter; empty for NULL and long-data parameters
	end        int    // payload offset just after the last value
}

// execScratch is a connection's reusable space for executions.
type execScratch struct {
	spans []span
	buf   []byte
	cmd   Command
}

func errBadExecute(detail string) *mysql.MyError {
	return mysql.NewError(mysql.ER_WRONG_ARGUMENTS, "Incorrect arguments to mysqld_stmt_execute: "+detail)
}

// parseExecute validates payload (a COM_STMT_EXECUTE for a statement with n parameters)
// and locates its parts. stored are the types remembered from an earlier execution, long
// tells which parameters have long data (their values are not in the payload). spans is
// reused for the result. It never reads past payload.
func parseExecute(payload []byte, n int, stored []byte, long [][]byte, spans []span) (execRequest, error) {
	var r execRequest
	if len(payload) < execHeaderLen {
		return r, errBadExecute("packet too short")
	}
	r.end = execHeaderLen
	if n == 0 {
		return r, nil
	}
	p := payload[execHeaderLen:]
	nb := (n + 7) / 8
	if len(p) < nb+1 {
		return r, errBadExecute("missing null bitmap")
	}
	r.nullBitmap = p[:nb]
	r.newBound = p[nb] == 1
	off := execHeaderLen + nb + 1
	if r.newBound {
		if len(payload)-off < 2*n {
			return r, errBadExecute("missing parameter types")
		}
		r.types = payload[off : off+2*n]
		off += 2 * n
	} else {
		if len(stored) != 2*n {
			return r, errBadExecute("parameter types were never sent")
		}
		r.types = stored
	}
	if cap(spans) < n {
		spans = make([]span, n)
	}
	r.values = spans[:n]
	for i := 0; i < n; i++ {
		if (long != nil && long[i] != nil) || r.nullBitmap[i/8]&(1<<(i%8)) != 0 {
			r.values[i] = span{off, off}
			continue
		}
		size, ok := binaryValueLen(r.types[2*i], payload[off:])
		if !ok {
			return r, errBadExecute("malformed or unsupported parameter value")
		}
		r.values[i] = span{off, off + size}
		off += size
	}
	r.end = off
	return r, nil
}

// binaryValueLen is the encoded size of one binary-protocol value of type typ at the start
// of b; ok is false for an unknown type or a truncated value.
func binaryValueLen(typ byte, b []byte) (int, bool) {
	fixed := -1
	switch typ {
	case mysql.MYSQL_TYPE_NULL:
		fixed = 0
	case mysql.MYSQL_TYPE_TINY:
		fixed = 1
	case mysql.MYSQL_TYPE_SHORT, mysql.MYSQL_TYPE_YEAR:
		fixed = 2
	case mysql.MYSQL_TYPE_LONG, mysql.MYSQL_TYPE_INT24, mysql.MYSQL_TYPE_FLOAT:
		fixed = 4
	case mysql.MYSQL_TYPE_LONGLONG, mysql.MYSQL_TYPE_DOUBLE:
		fixed = 8
	case mysql.MYSQL_TYPE_DATE, mysql.MYSQL_TYPE_DATETIME, mysql.MYSQL_TYPE_TIMESTAMP, mysql.MYSQL_TYPE_TIME:
		// One length byte, then 0, 4, 7 or 11 bytes (dates) or 0, 8 or 12 (time).
		if len(b) == 0 || int(b[0]) > 12 || int(b[0]) >= len(b) {
			return 0, false
		}
		return 1 + int(b[0]), true
	default:
		if !isLenEncType(typ) {
			return 0, false
		}
		_, n, ok := readLenEncString(b)
		return n, ok
	}
	return fixed, fixed <= len(b)
}

// isLenEncType says whether values of typ are sent as length-encoded strings.
func isLenEncType(typ byte) bool {
	switch typ {
	case mysql.MYSQL_TYPE_DECIMAL, mysql.MYSQL_TYPE_NEWDECIMAL, mysql.MYSQL_TYPE_VARCHAR,
		mysql.MYSQL_TYPE_BIT, mysql.MYSQL_TYPE_JSON, mysql.MYSQL_TYPE_ENUM, mysql.MYSQL_TYPE_SET,
		mysql.MYSQL_TYPE_TINY_BLOB, mysql.MYSQL_TYPE_MEDIUM_BLOB, mysql.MYSQL_TYPE_LONG_BLOB,
		mysql.MYSQL_TYPE_BLOB, mysql.MYSQL_TYPE_VAR_STRING, mysql.MYSQL_TYPE_STRING,
		mysql.MYSQL_TYPE_GEOMETRY:
		return true
	}
	return false
}

// normalizeExecute returns the frame for the handler. When the client's payload already
// binds the types it is patched in place: no copy. Parameters with long data keep their
// type and have no value; their null bit is cleared (long data wins over it, as in MySQL).
func normalizeExecute(frame []byte, n int, r *execRequest, long [][]byte, buf []byte) (out, newBuf []byte) {
	payload := frame[4:]
	if n == 0 || r.newBound {
		payload[5] = 0                                              // flags: no cursor
		payload[6], payload[7], payload[8], payload[9] = 1, 0, 0, 0 // iteration count
		clearLongNulls(r.nullBitmap, long)
		out = frame[:4+r.end]
		setFrameHeader(out)
		return out, buf
	}
	b := append(buf[:0], 0, 0, 0, 0)
	b = append(b, payload[:5]...) // command, statement id
	b = append(b, 0, 1, 0, 0, 0)
	nullAt := len(b)
	b = append(b, r.nullBitmap...)
	clearLongNulls(b[nullAt:nullAt+len(r.nullBitmap)], long)
	b = append(b, 1)
	b = append(b, r.types...)
	for _, v := range r.values {
		b = append(b, payload[v.start:v.end]...)
	}
	setFrameHeader(b)
	return b, b
}

// clearLongNulls clears the null bit of the parameters that have long data.
func clearLongNulls(nullBitmap []byte, long [][]byte) {
	for i, l := range long {
		if l != nil {
			nullBitmap[i/8] &^= 1 << (i % 8)
		}
	}
}

// setFrameHeader writes the payload length and sequence 0 into frame[0:4]; a payload too
// big for one packet gets 0xffffff, for WritePacket to split.
func setFrameHeader(frame []byte) {
	n := min(len(frame)-4, maxPayloadLen)
	frame[0], frame[1], frame[2], frame[3] = byte(n), byte(n>>8), byte(n>>16), 0
}

// stmtExecute serves COM_STMT_EXECUTE.
func (c *Conn) stmtExecute(cmd *Command) error {
	id, _ := stmtID(cmd.Payload())
	st := c.stmts[id]
	if st == nil {
		return c.WriteError(unknownStmt(id, "mysqld_stmt_execute"))
	}
	defer func() { c.dropLongData(st); st.longErr = nil }() // long data serves one execution
	if st.longErr != nil {
		return c.WriteError(st.longErr)
	}
	n := int(st.ParamCount)
	var long [][]byte
	if st.anyLong() {
		long = st.long
	}
	r, err := parseExecute(cmd.Payload(), n, st.types, long, c.exec.spans)
	if r.values != nil {
		c.exec.spans = r.values
	}
	if err != nil {
		return c.WriteError(err)
	}
	if r.newBound {
		st.types = append(st.types[:0], r.types...)
	}
	frame, buf := normalizeExecute(cmd.Frame, n, &r, long, c.exec.buf)
	c.exec.buf = buf
	c.exec.cmd.Frame = frame
	err = c.l.h.ComStmtExecute(c, st, &c.exec.cmd)
	if cap(c.exec.buf) > maxKeptBuf {
		c.exec.buf = nil
	}
	return err
}

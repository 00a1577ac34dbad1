package engine

import (
	"encoding/binary"
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/go-mysql-org/go-mysql/mysql"
)

// ResultWriter writes a result set to the client in packets numbered from 1 (the client's
// command was 0), buffering up to flushSize bytes per write.
type ResultWriter struct {
	w    io.Writer
	caps uint32
	// Binary: rows in the binary protocol (a prepared statement's result).
	Binary bool
	seq    uint8
	buf    []byte
	row    []byte // a text row being encoded (reused)
	err    error
	cols   []Column
	// Wrote reports whether any byte reached the client.
	Wrote bool
}

const flushSize = 64 << 10

// NewResultWriter writes to w for a client that negotiated caps.
func NewResultWriter(w io.Writer, caps uint32, binaryRows bool) *ResultWriter {
	return &ResultWriter{w: w, caps: caps, Binary: binaryRows, seq: 1}
}

// UseBuffer has the writer buffer its packets in buf's memory (a caller's, reused from one
// result to the next); Buffer gives it back after the result, empty, or nil when it grew
// past what is worth keeping.
func (r *ResultWriter) UseBuffer(buf []byte) { r.buf = buf[:0] }

// Buffer is the writer's buffer, for UseBuffer of the next result.
func (r *ResultWriter) Buffer() []byte {
	if cap(r.buf) > 2*flushSize {
		return nil
	}
	return r.buf[:0]
}

// Seq is the sequence id of the next packet (to write an error after a partial result).
func (r *ResultWriter) Seq() uint8 { return r.seq }

func (r *ResultWriter) packet(payload []byte) {
	for {
		n := min(len(payload), maxPacket)
		r.buf = append(r.buf, byte(n), byte(n>>8), byte(n>>16), r.seq)
		r.buf = append(r.buf, payload[:n]...)
		r.seq++
		payload = payload[n:]
		if n < maxPacket {
			break
		}
	}
	if len(r.buf) >= flushSize {
		r.Flush()
	}
}

// Flush writes what is buffered.
func (r *ResultWriter) Flush() error {
	if r.err == nil && len(r.buf) > 0 {
		r.Wrote = true
		_, r.err = r.w.Write(r.buf)
	}
	r.buf = r.buf[:0]
	return r.err
}

// Err is the first write error.
func (r *ResultWriter) Err() error { return r.err }

// Header writes the column count and definitions (and the EOF after them unless the client
// negotiated CLIENT_DEPRECATE_EOF).
func (r *ResultWriter) Header(cols []Column, status uint16) {
	r.cols = cols
	r.row = appendLenEnc(r.row[:0], uint64(len(cols)))
	r.packet(r.row)
	for _, c := range cols {
		r.packet(c.Raw)
	}
	if r.caps&mysql.CLIENT_DEPRECATE_EOF == 0 {
		r.packet([]byte{mysql.EOF_HEADER, 0, 0, byte(status), byte(status >> 8)})
	}
}

// RowPayload writes a text row payload as it is (the columns it holds are the header's).
func (r *ResultWriter) RowPayload(p []byte) { r.packet(p) }

// Row writes a row of values (nil: NULL), text or binary as the result is.
func (r *ResultWriter) Row(vals [][]byte) {
	if r.Binary {
		r.packet(binaryRow(r.cols, vals))
		return
	}
	b := r.row[:0]
	for _, v := range vals {
		b = appendValue(b, v)
	}
	r.row = b
	r.packet(b) // copies b into the buffer
}

// End writes the packet that ends the result (EOF, or its OK replacement).
func (r *ResultWriter) End(status, warnings uint16) error {
	if r.caps&mysql.CLIENT_DEPRECATE_EOF != 0 {
		b := []byte{mysql.EOF_HEADER, 0, 0, byte(status), byte(status >> 8), byte(warnings), byte(warnings >> 8)}
		r.packet(b)
	} else {
		r.packet([]byte{mysql.EOF_HEADER, byte(warnings), byte(warnings >> 8), byte(status), byte(status >> 8)})
	}
	return r.Flush()
}

// binaryRow encodes a row in the binary protocol from text values.
// https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_binary_resultset.html
func binaryRow(cols []Column, vals [][]byte) []byte {
	nb := (len(vals) + 7 + 2) / 8
	b := make([]byte, 1+nb, 1+nb+len(vals)*8)
	for i, v := range vals {
		if v == nil {
			b[1+(i+2)/8] |= 1 << ((i + 2) % 8)
			continue
		}
		b = appendBinaryValue(b, cols[i], v)
	}
	return b
}

func appendBinaryValue(b []byte, c Column, v []byte) []byte {
	unsigned := c.Flags&mysql.UNSIGNED_FLAG != 0
	intOf := func() uint64 {
		if unsigned {
			n, _ := strconv.ParseUint(string(v), 10, 64)
			return n
		}
		n, _ := strconv.ParseInt(string(v), 10, 64)
		return uint64(n)
	}
	switch c.Type {
	case mysql.MYSQL_TYPE_TINY:
		return append(b, byte(intOf()))
	case mysql.MYSQL_TYPE_SHORT, mysql.MYSQL_TYPE_YEAR:
		return binary.LittleEndian.AppendUint16(b, uint16(intOf()))
	case mysql.MYSQL_TYPE_LONG, mysql.MYSQL_TYPE_INT24:
		return binary.LittleEndian.AppendUint32(b, uint32(intOf()))
	case mysql.MYSQL_TYPE_LONGLONG:
		return binary.LittleEndian.AppendUint64(b, intOf())
	case mysql.MYSQL_TYPE_FLOAT:
		f, _ := strconv.ParseFloat(string(v), 32)
		return binary.LittleEndian.AppendUint32(b, math.Float32bits(float32(f)))
	case mysql.MYSQL_TYPE_DOUBLE:
		f, _ := strconv.ParseFloat(string(v), 64)
		return binary.LittleEndian.AppendUint64(b, math.Float64bits(f))
	case mysql.MYSQL_TYPE_DATE, mysql.MYSQL_TYPE_DATETIME, mysql.MYSQL_TYPE_TIMESTAMP, mysql.MYSQL_TYPE_NEWDATE:
		return appendBinaryDatetime(b, string(v))
	case mysql.MYSQL_TYPE_TIME:
		return appendBinaryTime(b, string(v))
	}
	b = appendLenEnc(b, uint64(len(v)))
	return append(b, v...)
}

func atoiPart(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}

// appendBinaryDatetime encodes "YYYY-MM-DD[ hh:mm:ss[.ffffff]]".
func appendBinaryDatetime(b []byte, s string) []byte {
	date, clock, _ := strings.Cut(s, " ")
	dp := strings.Split(date, "-")
	if len(dp) != 3 {
		return append(b, 0)
	}
	y, mo, d := atoiPart(dp[0]), atoiPart(dp[1]), atoiPart(dp[2])
	var h, mi, sec, us int
	if clock != "" {
		hms, frac, _ := strings.Cut(clock, ".")
		cp := strings.Split(hms, ":")
		if len(cp) == 3 {
			h, mi, sec = atoiPart(cp[0]), atoiPart(cp[1]), atoiPart(cp[2])
		}
		if frac != "" {
			for len(frac) < 6 {
				frac += "0"
			}
			us = atoiPart(frac[:6])
		}
	}
	switch {
	case us != 0:
		b = append(b, 11, byte(y), byte(y>>8), byte(mo), byte(d), byte(h), byte(mi), byte(sec))
		return binary.LittleEndian.AppendUint32(b, uint32(us))
	case h != 0 || mi != 0 || sec != 0:
		return append(b, 7, byte(y), byte(y>>8), byte(mo), byte(d), byte(h), byte(mi), byte(sec))
	case y != 0 || mo != 0 || d != 0:
		return append(b, 4, byte(y), byte(y>>8), byte(mo), byte(d))
	}
	return append(b, 0)
}

// appendBinaryTime encodes "[-]h:mm:ss[.ffffff]".
func appendBinaryTime(b []byte, s string) []byte {
	us := parseTime([]byte(s))
	neg := byte(0)
	if us < 0 {
		neg, us = 1, -us
	}
	frac := us % 1_000_000
	secs := us / 1_000_000
	days, h, mi, sec := secs/86400, (secs%86400)/3600, (secs%3600)/60, secs%60
	if us == 0 {
		return append(b, 0)
	}
	if frac != 0 {
		b = append(b, 12, neg)
		b = binary.LittleEndian.AppendUint32(b, uint32(days))
		b = append(b, byte(h), byte(mi), byte(sec))
		return binary.LittleEndian.AppendUint32(b, uint32(frac))
	}
	b = append(b, 8, neg)
	b = binary.LittleEndian.AppendUint32(b, uint32(days))
	return append(b, byte(h), byte(mi), byte(sec))
}

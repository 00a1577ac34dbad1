package engine

import (
	"errors"
	"fmt"
)

// Packet helpers for the text protocol.
// https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_com_query_response_text_resultset.html

var errMalformed = errors.New("malformed packet")

// readLenEnc reads a length-encoded integer.
func readLenEnc(b []byte) (uint64, int, bool) {
	if len(b) == 0 {
		return 0, 0, false
	}
	switch c := b[0]; {
	case c < 0xfb:
		return uint64(c), 1, true
	case c == 0xfc:
		if len(b) < 3 {
			return 0, 0, false
		}
		return uint64(b[1]) | uint64(b[2])<<8, 3, true
	case c == 0xfd:
		if len(b) < 4 {
			return 0, 0, false
		}
		return uint64(b[1]) | uint64(b[2])<<8 | uint64(b[3])<<16, 4, true
	case c == 0xfe:
		if len(b) < 9 {
			return 0, 0, false
		}
		var v uint64
		for i := 8; i >= 1; i-- {
			v = v<<8 | uint64(b[i])
		}
		return v, 9, true
	}
	return 0, 0, false
}

func appendLenEnc(b []byte, v uint64) []byte {
	switch {
	case v < 0xfb:
		return append(b, byte(v))
	case v <= 0xffff:
		return append(b, 0xfc, byte(v), byte(v>>8))
	case v <= 0xffffff:
		return append(b, 0xfd, byte(v), byte(v>>8), byte(v>>16))
	}
	return append(b, 0xfe, byte(v), byte(v>>8), byte(v>>16), byte(v>>24), byte(v>>32), byte(v>>40), byte(v>>48), byte(v>>56))
}

// appendValue appends a text-protocol value (nil: NULL).
func appendValue(b []byte, v []byte) []byte {
	if v == nil {
		return append(b, 0xfb)
	}
	b = appendLenEnc(b, uint64(len(v)))
	return append(b, v...)
}

// splitRow reads a text row's values into vals (reused); a NULL is nil, an empty value a
// non-nil empty slice.
func splitRow(payload []byte, vals [][]byte) ([][]byte, error) {
	vals = vals[:0]
	for p := payload; len(p) > 0; {
		if p[0] == 0xfb {
			vals = append(vals, nil)
			p = p[1:]
			continue
		}
		n, k, ok := readLenEnc(p)
		if !ok || uint64(len(p)-k) < n {
			return nil, fmt.Errorf("%w: row value", errMalformed)
		}
		vals = append(vals, p[k:k+int(n):k+int(n)])
		p = p[k+int(n):]
	}
	return vals, nil
}

// Column is a column definition as a shard sent it (Protocol::ColumnDefinition41), with the
// fields a comparison needs.
type Column struct {
	Raw      []byte // the payload, forwarded as is
	Name     string
	Charset  uint16 // collation id; 63: binary
	Length   uint32
	Type     byte
	Flags    uint16
	Decimals byte
	fixed    int // offset of the fixed-length fields in Raw
}

// parseColumn reads a column definition payload.
func parseColumn(payload []byte) (Column, error) {
	c := Column{Raw: payload}
	p := 0
	for i := 0; i < 6; i++ {
		n, k, ok := readLenEnc(payload[p:])
		if !ok || p+k+int(n) > len(payload) {
			return c, fmt.Errorf("%w: column definition", errMalformed)
		}
		if i == 4 {
			c.Name = string(payload[p+k : p+k+int(n)])
		}
		p += k + int(n)
	}
	if p+13 > len(payload) {
		return c, fmt.Errorf("%w: column definition", errMalformed)
	}
	c.fixed = p + 1 // after the 0x0c length byte
	f := payload[c.fixed:]
	c.Charset = uint16(f[0]) | uint16(f[1])<<8
	c.Length = uint32(f[2]) | uint32(f[3])<<8 | uint32(f[4])<<16 | uint32(f[5])<<24
	c.Type = f[6]
	c.Flags = uint16(f[7]) | uint16(f[8])<<8
	c.Decimals = f[9]
	return c, nil
}

// withDecimals returns a copy of the definition with other decimals and length (AVG's).
func (c Column) withDecimals(dec byte, length uint32, typ byte) Column {
	raw := append([]byte(nil), c.Raw...)
	f := raw[c.fixed:]
	f[2], f[3], f[4], f[5] = byte(length), byte(length>>8), byte(length>>16), byte(length>>24)
	f[6] = typ
	f[9] = dec
	c.Raw, c.Decimals, c.Length, c.Type = raw, dec, length, typ
	return c
}

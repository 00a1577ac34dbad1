package vstream

// Binlog cell values (as go-mysql decodes them) to Vitess's text encoding: a querypb.Row holds
// the concatenated text of every value and a length per value (-1 for NULL). The text forms
// follow Vitess's vstreamer (vitess.io/vitess/go/mysql/binlog/rbr.go): integers in decimal,
// floats in strconv 'E' form, DECIMAL with its declared scale, times as MySQL prints them,
// ENUM/SET as their member names, BIT as big-endian bytes.

import (
	"fmt"
	"strconv"

	querypb "vitess.io/vitess/go/vt/proto/query"
)

// fixedStringer is shopspring/decimal.Decimal's method, asserted so as not to import it.
type fixedStringer interface{ StringFixed(places int32) string }

// appendValue appends the text form of v (a value of column c) to b.
func appendValue(b []byte, c *column, v any) ([]byte, error) {
	switch x := v.(type) {
	case int8:
		if c.Unsigned {
			return strconv.AppendUint(b, uint64(uint8(x)), 10), nil
		}
		return strconv.AppendInt(b, int64(x), 10), nil
	case int16:
		if c.Unsigned {
			return strconv.AppendUint(b, uint64(uint16(x)), 10), nil
		}
		return strconv.AppendInt(b, int64(x), 10), nil
	case int32:
		if c.Unsigned {
			if c.DataType == "mediumint" {
				return strconv.AppendUint(b, uint64(uint32(x)&0xffffff), 10), nil
			}
			return strconv.AppendUint(b, uint64(uint32(x)), 10), nil
		}
		return strconv.AppendInt(b, int64(x), 10), nil
	case int64:
		switch c.Type {
		case querypb.Type_ENUM:
			return appendEnum(b, c, x), nil
		case querypb.Type_SET:
			return appendSet(b, c, x), nil
		case querypb.Type_BIT:
			return appendBit(b, c, x), nil
		}
		if c.Unsigned {
			return strconv.AppendUint(b, uint64(x), 10), nil
		}
		return strconv.AppendInt(b, x, 10), nil
	case int:
		return strconv.AppendInt(b, int64(x), 10), nil
	case uint64:
		return strconv.AppendUint(b, x, 10), nil
	case float32:
		return strconv.AppendFloat(b, float64(x), 'E', -1, 32), nil
	case float64:
		return strconv.AppendFloat(b, x, 'E', -1, 64), nil
	case string:
		return padBinary(append(b, x...), c, len(x)), nil
	case []byte:
		return padBinary(append(b, x...), c, len(x)), nil
	case fixedStringer:
		return append(b, x.StringFixed(int32(c.Scale))...), nil
	case fmt.Stringer:
		return append(b, x.String()...), nil
	}
	return b, fmt.Errorf("column %s: unsupported binlog value %T", c.Name, v)
}

// padBinary right-pads a BINARY(n) value of n bytes with zeros: the binlog drops the padding
// that a SELECT returns, and Vitess's vstreamer restores it (go/mysql/binlog/rbr.go).
func padBinary(b []byte, c *column, n int) []byte {
	if c.Type != querypb.Type_BINARY || c.Field == nil {
		return b
	}
	for ; n < int(c.Field.ColumnLength); n++ {
		b = append(b, 0)
	}
	return b
}

// appendEnum appends the name of the 1-based ENUM index i ("" for 0, MySQL's error value).
func appendEnum(b []byte, c *column, i int64) []byte {
	if i >= 1 && int(i) <= len(c.Values) {
		return append(b, c.Values[i-1]...)
	}
	if i == 0 {
		return b
	}
	return strconv.AppendInt(b, i, 10)
}

// appendSet appends the comma-joined names of the members in bitmask m.
func appendSet(b []byte, c *column, m int64) []byte {
	first := true
	for i, v := range c.Values {
		if m&(1<<uint(i)) == 0 {
			continue
		}
		if !first {
			b = append(b, ',')
		}
		first = false
		b = append(b, v...)
	}
	return b
}

// appendBit appends a BIT(n) value as (n+7)/8 big-endian bytes, as MySQL returns it.
func appendBit(b []byte, c *column, v int64) []byte {
	n := 8
	if c.Field != nil && c.Field.ColumnLength > 0 {
		n = int(c.Field.ColumnLength+7) / 8
	}
	for i := n - 1; i >= 0; i-- {
		b = append(b, byte(uint64(v)>>(8*uint(i))))
	}
	return b
}

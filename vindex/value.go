package vindex

import (
	"encoding/hex"
	"errors"
	"math/big"
	"strconv"
)

// Kind is the type of a Value, as far as a vindex cares: Vitess's vindexes read signed
// integers, unsigned integers and everything else differently.
type Kind uint8

const (
	Null      Kind = iota
	Int64          // a signed integer (literals, INT columns)
	Uint64         // an unsigned integer (literals above 2^63-1, UNSIGNED columns)
	Float64        // a floating-point number (1e3, DOUBLE columns)
	Decimal        // an exact decimal (1.5, DECIMAL columns)
	VarChar        // text: a string literal, a CHAR/VARCHAR/TEXT column
	VarBinary      // bytes: x'..', 0x.., b'..' literals, BINARY/BLOB columns
)

var kindNames = [...]string{"NULL", "INT64", "UINT64", "FLOAT64", "DECIMAL", "VARCHAR", "VARBINARY"}

func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "kind(" + strconv.Itoa(int(k)) + ")"
}

// Value is a typed SQL value: Raw is its text for numbers (as MySQL prints them), its bytes
// for strings.
type Value struct {
	Kind Kind
	Raw  []byte
}

// Int64Value, Uint64Value, StringValue, BytesValue and NullValue build Values.
func Int64Value(n int64) Value   { return Value{Kind: Int64, Raw: strconv.AppendInt(nil, n, 10)} }
func Uint64Value(n uint64) Value { return Value{Kind: Uint64, Raw: strconv.AppendUint(nil, n, 10)} }
func StringValue(s string) Value { return Value{Kind: VarChar, Raw: []byte(s)} }
func BytesValue(b []byte) Value  { return Value{Kind: VarBinary, Raw: b} }
func NullValue() Value           { return Value{Kind: Null} }

// IsNull reports whether v is NULL.
func (v Value) IsNull() bool { return v.Kind == Null }

// String is the value as SQL would show it, for messages.
func (v Value) String() string {
	switch v.Kind {
	case Null:
		return "NULL"
	case Int64, Uint64, Float64, Decimal:
		return string(v.Raw)
	case VarBinary:
		return "x'" + hex.EncodeToString(v.Raw) + "'"
	}
	return strconv.Quote(string(v.Raw))
}

// ErrNoKeyspaceID means that a value maps to no keyspace id (Vitess's DestinationNone): no
// row can hold it, so a query for it needs no shard and an insert of it fails.
var ErrNoKeyspaceID = errors.New("value maps to no keyspace id")

// asUint64 reads the value as Vitess's hash and numeric vindexes do: signed integers by
// strconv.ParseInt (a negative one as its two's complement), everything else as an unsigned
// decimal integer that may have spaces or tabs around it (fastparse.ParseUint64).
func (v Value) asUint64() (uint64, bool) {
	if v.Kind == Int64 {
		return parseInt64(v.Raw)
	}
	return parseUint64(v.Raw)
}

// parseInt64 parses a signed base-10 integer strictly (strconv.ParseInt's rules: an optional
// sign, digits, nothing else, no overflow), as its two's complement.
func parseInt64(s []byte) (uint64, bool) {
	neg := false
	if len(s) > 0 && (s[0] == '-' || s[0] == '+') {
		neg, s = s[0] == '-', s[1:]
	}
	if len(s) == 0 {
		return 0, false
	}
	var d uint64
	for _, c := range s {
		if c < '0' || c > '9' {
			return 0, false
		}
		if d > (1<<63)/10 {
			return 0, false
		}
		d = d*10 + uint64(c-'0')
	}
	if neg {
		if d > 1<<63 {
			return 0, false
		}
		return -d, true
	}
	if d > 1<<63-1 {
		return 0, false
	}
	return d, true
}

// parseUint64 parses a base-10 unsigned integer with optional spaces and tabs before and
// after: no sign, no other character, no overflow.
func parseUint64(s []byte) (uint64, bool) {
	i := 0
	for i < len(s) && (s[i] == ' ' || s[i] == '\t') {
		i++
	}
	start := i
	var d uint64
	for ; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
		if d > (1<<64-1)/10 {
			return 0, false
		}
		n := d*10 + uint64(s[i]-'0')
		if n < d {
			return 0, false
		}
		d = n
	}
	if i == start {
		return 0, false
	}
	for i < len(s) && (s[i] == ' ' || s[i] == '\t') {
		i++
	}
	return d, i == len(s)
}

// DecodeHexNum decodes a 0x... literal into its bytes (an even number of digits).
func DecodeHexNum(lit string) ([]byte, error) {
	if len(lit) < 3 || lit[0] != '0' || lit[1] != 'x' {
		return nil, errors.New("invalid hex number " + lit)
	}
	return hex.DecodeString(lit[2:])
}

// DecodeHexVal decodes an x'...' literal into its bytes.
func DecodeHexVal(lit string) ([]byte, error) {
	if len(lit) < 3 || (lit[0] != 'x' && lit[0] != 'X') || lit[1] != '\'' || lit[len(lit)-1] != '\'' {
		return nil, errors.New("invalid hex value " + lit)
	}
	return hex.DecodeString(lit[2 : len(lit)-1])
}

// DecodeBitNum decodes a 0b... literal into its bytes, most significant first.
func DecodeBitNum(lit string) ([]byte, error) {
	if len(lit) < 3 || lit[0] != '0' || lit[1] != 'b' {
		return nil, errors.New("invalid bit number " + lit)
	}
	var i big.Int
	if _, ok := i.SetString(lit, 0); !ok {
		return nil, errors.New("invalid bit number " + lit)
	}
	return i.Bytes(), nil
}

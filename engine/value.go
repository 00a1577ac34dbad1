package engine

import (
	"bytes"
	"math/big"
	"strconv"
	"strings"

	"github.com/go-mysql-org/go-mysql/mysql"
)

// cmpKind is how values of a column compare.
type cmpKind uint8

const (
	cmpBytes   cmpKind = iota // byte by byte (binary strings, dates, datetimes, bits)
	cmpInt                    // signed integers
	cmpUint                   // unsigned integers
	cmpDecimal                // exact decimals
	cmpFloat                  // floating point
	cmpTime                   // TIME ([-]h:mm:ss[.f], hours may exceed 24)
	cmpWeight                 // text, by its WEIGHT_STRING() column
)

// kindOf is how a column's values compare, from its definition.
func kindOf(c Column, hasWeight bool) cmpKind {
	switch c.Type {
	case mysql.MYSQL_TYPE_TINY, mysql.MYSQL_TYPE_SHORT, mysql.MYSQL_TYPE_LONG, mysql.MYSQL_TYPE_LONGLONG,
		mysql.MYSQL_TYPE_INT24, mysql.MYSQL_TYPE_YEAR:
		if c.Flags&mysql.UNSIGNED_FLAG != 0 {
			return cmpUint
		}
		return cmpInt
	case mysql.MYSQL_TYPE_DECIMAL, mysql.MYSQL_TYPE_NEWDECIMAL:
		return cmpDecimal
	case mysql.MYSQL_TYPE_FLOAT, mysql.MYSQL_TYPE_DOUBLE:
		return cmpFloat
	case mysql.MYSQL_TYPE_TIME:
		return cmpTime
	case mysql.MYSQL_TYPE_DATE, mysql.MYSQL_TYPE_DATETIME, mysql.MYSQL_TYPE_TIMESTAMP, mysql.MYSQL_TYPE_NEWDATE, mysql.MYSQL_TYPE_BIT:
		return cmpBytes
	}
	if c.Charset != 63 && hasWeight {
		return cmpWeight
	}
	return cmpBytes
}

// compareValues compares two non-NULL values of a kind. pad is the collation's pad weight
// for cmpWeight (nil: NO PAD or binary).
func compareValues(a, b []byte, k cmpKind, pad []byte) int {
	switch k {
	case cmpInt:
		x, err1 := strconv.ParseInt(string(a), 10, 64)
		y, err2 := strconv.ParseInt(string(b), 10, 64)
		if err1 == nil && err2 == nil {
			return cmpOrdered(x, y)
		}
		return compareDecimal(a, b)
	case cmpUint:
		x, err1 := strconv.ParseUint(string(a), 10, 64)
		y, err2 := strconv.ParseUint(string(b), 10, 64)
		if err1 == nil && err2 == nil {
			return cmpOrdered(x, y)
		}
		return compareDecimal(a, b)
	case cmpDecimal:
		return compareDecimal(a, b)
	case cmpFloat:
		x, _ := strconv.ParseFloat(string(a), 64)
		y, _ := strconv.ParseFloat(string(b), 64)
		return cmpOrdered(x, y)
	case cmpTime:
		return cmpOrdered(parseTime(a), parseTime(b))
	case cmpWeight:
		return compareWeights(a, b, pad)
	}
	return bytes.Compare(a, b)
}

func cmpOrdered[T int64 | uint64 | float64](x, y T) int {
	switch {
	case x < y:
		return -1
	case x > y:
		return 1
	}
	return 0
}

// compareWeights compares two WEIGHT_STRING()s. For a PAD SPACE collation (pad is the weight
// of a space) strings compare as if the shorter were padded with spaces, which MariaDB's
// WEIGHT_STRING() does not do: 'a' and 'a ' are equal, 'a\t' is below 'a'.
func compareWeights(a, b, pad []byte) int {
	if len(pad) == 0 {
		return bytes.Compare(a, b)
	}
	a, b = trimPad(a, pad), trimPad(b, pad)
	n := min(len(a), len(b))
	if c := bytes.Compare(a[:n], b[:n]); c != 0 {
		return c
	}
	switch {
	case len(a) == len(b):
		return 0
	case len(a) > len(b):
		return comparePadded(a[n:], pad)
	}
	return -comparePadded(b[n:], pad)
}

func trimPad(w, pad []byte) []byte {
	for len(w) >= len(pad) && bytes.Equal(w[len(w)-len(pad):], pad) {
		w = w[:len(w)-len(pad)]
	}
	return w
}

// comparePadded compares a remainder with spaces' weights.
func comparePadded(rest, pad []byte) int {
	for len(rest) >= len(pad) {
		if c := bytes.Compare(rest[:len(pad)], pad); c != 0 {
			return c
		}
		rest = rest[len(pad):]
	}
	if len(rest) > 0 {
		return bytes.Compare(rest, pad[:len(rest)])
	}
	return 0
}

// parseTime reads a TIME value as microseconds.
func parseTime(v []byte) int64 {
	s := string(v)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var frac int64
	if i := strings.IndexByte(s, '.'); i >= 0 {
		f := s[i+1:]
		for len(f) < 6 {
			f += "0"
		}
		frac, _ = strconv.ParseInt(f[:6], 10, 64)
		s = s[:i]
	}
	parts := strings.Split(s, ":")
	var total int64
	for _, p := range parts {
		n, _ := strconv.ParseInt(p, 10, 64)
		total = total*60 + n
	}
	for i := len(parts); i < 3; i++ {
		total *= 60
	}
	us := total*1_000_000 + frac
	if neg {
		return -us
	}
	return us
}

// decimal is an exact decimal: unscaled / 10^scale.
type decimal struct {
	unscaled big.Int
	scale    int
}

// parseDecimal reads a decimal (or integer) text; ok false for anything else.
func parseDecimal(v []byte) (decimal, bool) {
	var d decimal
	s := string(v)
	if i := strings.IndexByte(s, '.'); i >= 0 {
		d.scale = len(s) - i - 1
		s = s[:i] + s[i+1:]
	}
	_, ok := d.unscaled.SetString(s, 10)
	return d, ok
}

func (d *decimal) rescale(scale int) {
	if scale > d.scale {
		d.unscaled.Mul(&d.unscaled, pow10(scale-d.scale))
		d.scale = scale
	}
}

func pow10(n int) *big.Int { return new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(n)), nil) }

func (d *decimal) add(o decimal) {
	s := max(d.scale, o.scale)
	d.rescale(s)
	o.rescale(s)
	d.unscaled.Add(&d.unscaled, &o.unscaled)
}

// format prints the decimal with its scale, as MySQL prints a DECIMAL.
func (d *decimal) format() []byte {
	neg := d.unscaled.Sign() < 0
	digits := new(big.Int).Abs(&d.unscaled).String()
	if d.scale > 0 {
		for len(digits) <= d.scale {
			digits = "0" + digits
		}
		digits = digits[:len(digits)-d.scale] + "." + digits[len(digits)-d.scale:]
	}
	if neg {
		digits = "-" + digits
	}
	return []byte(digits)
}

// divide returns d / n with scale more digits, rounded half away from zero (MySQL's
// decimal division, as AVG computes it).
func (d *decimal) divide(n uint64, more int) decimal {
	var out decimal
	out.scale = d.scale + more
	num := new(big.Int).Mul(&d.unscaled, pow10(more))
	den := new(big.Int).SetUint64(n)
	q, r := new(big.Int), new(big.Int)
	q.QuoRem(num, den, r)
	// Round half away from zero: |2r| >= den.
	r2 := new(big.Int).Abs(r)
	r2.Lsh(r2, 1)
	if r2.Cmp(den) >= 0 {
		if num.Sign() < 0 {
			q.Sub(q, big.NewInt(1))
		} else {
			q.Add(q, big.NewInt(1))
		}
	}
	out.unscaled.Set(q)
	return out
}

// compareDecimal compares two decimal texts exactly.
func compareDecimal(a, b []byte) int {
	x, ok1 := parseDecimal(a)
	y, ok2 := parseDecimal(b)
	if !ok1 || !ok2 {
		fa, _ := strconv.ParseFloat(string(a), 64)
		fb, _ := strconv.ParseFloat(string(b), 64)
		return cmpOrdered(fa, fb)
	}
	s := max(x.scale, y.scale)
	x.rescale(s)
	y.rescale(s)
	return x.unscaled.Cmp(&y.unscaled)
}

// formatFloat prints a double as MariaDB does for most values.
func formatFloat(f float64) []byte { return strconv.AppendFloat(nil, f, 'g', -1, 64) }

// rat reads a value as an exact number for HAVING; ok false for NULL.
func rat(v []byte, k cmpKind) (*big.Rat, bool) {
	if v == nil {
		return nil, false
	}
	if k == cmpFloat {
		f, err := strconv.ParseFloat(string(v), 64)
		if err != nil {
			return new(big.Rat), true
		}
		r := new(big.Rat)
		if r.SetFloat64(f) == nil {
			return new(big.Rat), true
		}
		return r, true
	}
	r, ok := new(big.Rat).SetString(string(v))
	if !ok {
		// MySQL reads a string's leading number; anything else is 0.
		return new(big.Rat), true
	}
	return r, true
}

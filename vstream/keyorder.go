package vstream

// Key order during the copy phase. The copy reads a table in key order (ORDER BY the key, as
// MariaDB orders it) and, between chunks, passes on only the binlog changes to rows at or
// before the last key copied: so the stream must compare a binlog row's key with the last
// copied key exactly as MariaDB does. Integers, DECIMALs and floats compare as numbers;
// binary strings, dates and times as bytes (their text forms are fixed-width); ENUM by member
// index; character strings in their column's collation, through the server's own sort keys
// (WEIGHT_STRING), so case- and accent-insensitive collations and PAD SPACE rules hold.

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"math/big"
	"slices"
	"strconv"
	"strings"

	querypb "vitess.io/vitess/go/vt/proto/query"
)

// weigher returns the collation sort key of a string value; fromClient says that v came from a
// SELECT (in the connection's utf8mb4) rather than from the binlog (in the column's charset).
type weigher func(collation uint32, v []byte, fromClient bool) ([]byte, error)

// collated reports whether column i of t compares through sort keys, with its collation.
func collated(t *tableMeta, i int) (uint32, bool) {
	if t.def == nil || i >= len(t.def.Columns) {
		return 0, false
	}
	d := &t.def.Columns[i]
	switch t.Columns[i].Type {
	case querypb.Type_CHAR, querypb.Type_VARCHAR, querypb.Type_TEXT:
		return d.Collation, d.Collation != 0 && d.Collation != 63
	}
	return 0, false
}

// compareKey compares a binlog value (text form a) with a copied key value b of column i of t,
// whose sort key (for collated columns) is bw.
func compareKey(t *tableMeta, i int, a, b, bw []byte, weigh weigher) (int, error) {
	c := &t.Columns[i]
	if coll, ok := collated(t, i); ok {
		aw, err := weigh(coll, a, false)
		if err != nil {
			return 0, err
		}
		if bw == nil {
			if bw, err = weigh(coll, b, true); err != nil {
				return 0, err
			}
		}
		return bytes.Compare(aw, bw), nil
	}
	return compareTyped(c, a, b), nil
}

// compareTyped compares two text values of a column whose order is not a collation's.
func compareTyped(c *column, a, b []byte) int {
	if integral, unsigned := isIntegral(c.Type); integral {
		if unsigned {
			x, _ := strconv.ParseUint(string(a), 10, 64)
			y, _ := strconv.ParseUint(string(b), 10, 64)
			return cmpOrdered(x, y)
		}
		x, _ := strconv.ParseInt(string(a), 10, 64)
		y, _ := strconv.ParseInt(string(b), 10, 64)
		return cmpOrdered(x, y)
	}
	switch c.Type {
	case querypb.Type_DECIMAL:
		return compareDecimal(string(a), string(b))
	case querypb.Type_FLOAT32, querypb.Type_FLOAT64:
		x, _ := strconv.ParseFloat(string(a), 64)
		y, _ := strconv.ParseFloat(string(b), 64)
		switch {
		case x < y:
			return -1
		case x > y:
			return 1
		}
		return 0
	case querypb.Type_ENUM:
		return cmpOrdered(int64(slices.Index(c.Values, string(a))), int64(slices.Index(c.Values, string(b))))
	case querypb.Type_TIME:
		return compareTime(string(a), string(b))
	}
	return bytes.Compare(a, b)
}

// compareDecimal compares two decimal texts ("-12.50", "9") exactly.
func compareDecimal(a, b string) int {
	x, ok1 := new(big.Rat).SetString(a)
	y, ok2 := new(big.Rat).SetString(b)
	if !ok1 || !ok2 {
		return strings.Compare(a, b)
	}
	return x.Cmp(y)
}

// compareTime compares TIME texts ("-838:59:59", "12:34:56.78"), which may be negative and
// have hours of several widths.
func compareTime(a, b string) int {
	return cmpOrdered(timeMicros(a), timeMicros(b))
}

func timeMicros(s string) int64 {
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	frac := ""
	if i := strings.IndexByte(s, '.'); i >= 0 {
		s, frac = s[:i], s[i+1:]
	}
	var h, m, sec int64
	parts := strings.Split(s, ":")
	if len(parts) == 3 {
		h, _ = strconv.ParseInt(parts[0], 10, 64)
		m, _ = strconv.ParseInt(parts[1], 10, 64)
		sec, _ = strconv.ParseInt(parts[2], 10, 64)
	}
	us := ((h*60+m)*60 + sec) * 1e6
	if frac != "" {
		f, _ := strconv.ParseInt((frac + "000000")[:6], 10, 64)
		us += f
	}
	if neg {
		return -us
	}
	return us
}

// serverWeigher asks the source for sort keys (one round trip per value: only rows of the
// table being copied, during the copy's catch-up, are weighed).
func (s *shardStream) serverWeigher(ctx context.Context) weigher {
	return func(collation uint32, v []byte, fromClient bool) ([]byte, error) {
		info, ok := s.schema.collation(ctx, collation)
		if !ok {
			return nil, fmt.Errorf("collation id %d unknown to the source", collation)
		}
		expr := "CONVERT(? USING " + info.charset + ")" // a []byte argument is sent as _binary'...'
		if fromClient {
			expr = "CONVERT(CONVERT(? USING utf8mb4) USING " + info.charset + ")"
		}
		var w []byte
		err := s.db.QueryRowContext(ctx, "SELECT WEIGHT_STRING("+expr+" COLLATE "+info.name+")", v).Scan(&w)
		if err == sql.ErrNoRows {
			return nil, fmt.Errorf("no sort key for collation %s", info.name)
		}
		return w, err
	}
}

package router

// Decoding a buffered text-protocol reply into a Vitess QueryResult, for the gRPC Execute
// path. The MySQL-protocol path never decodes: it forwards replies verbatim.
// https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_com_query_response_text_resultset.html

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/go-mysql-org/go-mysql/mysql"
	querypb "vitess.io/vitess/go/vt/proto/query"
)

var errShortPacket = errors.New("vtdirect: malformed reply from MySQL")

// decodeResult reads the packets of a COM_QUERY reply (framed, as on the wire) into a
// QueryResult; a trailing second result set (CALL) is ignored. An ERR reply is returned as
// the MySQL error.
func decodeResult(b []byte) (*querypb.QueryResult, error) {
	next := func() ([]byte, error) {
		if len(b) < 4 {
			return nil, errShortPacket
		}
		n := int(b[0]) | int(b[1])<<8 | int(b[2])<<16
		if len(b) < 4+n {
			return nil, errShortPacket
		}
		p := b[4 : 4+n]
		b = b[4+n:]
		return p, nil
	}
	p, err := next()
	if err != nil || len(p) == 0 {
		return nil, errShortPacket
	}
	switch p[0] {
	case 0x00: // OK
		affected, n := lenEncInt(p[1:])
		insertID, _ := lenEncInt(p[1+n:])
		return &querypb.QueryResult{RowsAffected: affected, InsertId: insertID}, nil
	case 0xff:
		return nil, decodeErr(p)
	}
	count, _ := lenEncInt(p)
	qr := &querypb.QueryResult{Fields: make([]*querypb.Field, 0, count)}
	for range count {
		if p, err = next(); err != nil {
			return nil, err
		}
		f, err := decodeField(p)
		if err != nil {
			return nil, err
		}
		qr.Fields = append(qr.Fields, f)
	}
	if p, err = next(); err != nil || !isEOF(p) {
		return nil, errShortPacket
	}
	for {
		if p, err = next(); err != nil {
			return nil, err
		}
		if isEOF(p) {
			qr.RowsAffected = uint64(len(qr.Rows))
			return qr, nil
		}
		if p[0] == 0xff {
			return nil, decodeErr(p)
		}
		row := &querypb.Row{Lengths: make([]int64, 0, count)}
		for range count {
			if len(p) == 0 {
				return nil, errShortPacket
			}
			if p[0] == 0xfb {
				row.Lengths = append(row.Lengths, -1)
				p = p[1:]
				continue
			}
			l, n := lenEncInt(p)
			if n == 0 || uint64(len(p)-n) < l {
				return nil, errShortPacket
			}
			row.Lengths = append(row.Lengths, int64(l))
			row.Values = append(row.Values, p[n:n+int(l)]...)
			p = p[n+int(l):]
		}
		qr.Rows = append(qr.Rows, row)
	}
}

func isEOF(p []byte) bool { return len(p) > 0 && len(p) < 9 && p[0] == 0xfe }

func decodeErr(p []byte) error {
	if len(p) < 3 {
		return errShortPacket
	}
	e := &mysql.MyError{Code: binary.LittleEndian.Uint16(p[1:3]), State: "HY000"}
	msg := p[3:]
	if len(msg) >= 6 && msg[0] == '#' {
		e.State = string(msg[1:6])
		msg = msg[6:]
	}
	e.Message = string(msg)
	return e
}

// decodeField reads a Protocol::ColumnDefinition41.
func decodeField(p []byte) (*querypb.Field, error) {
	var strs [6]string // catalog, schema, table, org_table, name, org_name
	for i := range strs {
		l, n := lenEncInt(p)
		if n == 0 || uint64(len(p)-n) < l {
			return nil, errShortPacket
		}
		strs[i] = string(p[n : n+int(l)])
		p = p[n+int(l):]
	}
	_, n := lenEncInt(p) // length of the fixed fields, 0x0c
	p = p[n:]
	if len(p) < 10 {
		return nil, errShortPacket
	}
	charset := binary.LittleEndian.Uint16(p[0:2])
	length := binary.LittleEndian.Uint32(p[2:6])
	typ := p[6]
	flags := binary.LittleEndian.Uint16(p[7:9])
	decimals := p[9]
	return &querypb.Field{
		Name: strs[4], Table: strs[2], OrgTable: strs[3], Database: strs[1], OrgName: strs[5],
		Type: vitessType(typ, flags, charset), ColumnLength: length, Charset: uint32(charset),
		Decimals: uint32(decimals), Flags: uint32(flags),
	}, nil
}

// lenEncInt reads a length-encoded integer and says how many bytes it took (0: malformed).
func lenEncInt(p []byte) (uint64, int) {
	if len(p) == 0 {
		return 0, 0
	}
	switch c := p[0]; {
	case c < 0xfb:
		return uint64(c), 1
	case c == 0xfc && len(p) >= 3:
		return uint64(binary.LittleEndian.Uint16(p[1:3])), 3
	case c == 0xfd && len(p) >= 4:
		return uint64(p[1]) | uint64(p[2])<<8 | uint64(p[3])<<16, 4
	case c == 0xfe && len(p) >= 9:
		return binary.LittleEndian.Uint64(p[1:9]), 9
	}
	return 0, 0
}

// vitessType maps a column definition's MySQL type to Vitess's, as vtgate reports it.
func vitessType(t uint8, flags, charset uint16) querypb.Type {
	unsigned := flags&mysql.UNSIGNED_FLAG != 0
	pick := func(s, u querypb.Type) querypb.Type {
		if unsigned {
			return u
		}
		return s
	}
	binary := charset == 63
	text := func(txt, bin querypb.Type) querypb.Type {
		if binary {
			return bin
		}
		return txt
	}
	switch t {
	case mysql.MYSQL_TYPE_DECIMAL, mysql.MYSQL_TYPE_NEWDECIMAL:
		return querypb.Type_DECIMAL
	case mysql.MYSQL_TYPE_TINY:
		return pick(querypb.Type_INT8, querypb.Type_UINT8)
	case mysql.MYSQL_TYPE_SHORT:
		return pick(querypb.Type_INT16, querypb.Type_UINT16)
	case mysql.MYSQL_TYPE_LONG:
		return pick(querypb.Type_INT32, querypb.Type_UINT32)
	case mysql.MYSQL_TYPE_INT24:
		return pick(querypb.Type_INT24, querypb.Type_UINT24)
	case mysql.MYSQL_TYPE_LONGLONG:
		return pick(querypb.Type_INT64, querypb.Type_UINT64)
	case mysql.MYSQL_TYPE_FLOAT:
		return querypb.Type_FLOAT32
	case mysql.MYSQL_TYPE_DOUBLE:
		return querypb.Type_FLOAT64
	case mysql.MYSQL_TYPE_NULL:
		return querypb.Type_NULL_TYPE
	case mysql.MYSQL_TYPE_TIMESTAMP:
		return querypb.Type_TIMESTAMP
	case mysql.MYSQL_TYPE_DATE, mysql.MYSQL_TYPE_NEWDATE:
		return querypb.Type_DATE
	case mysql.MYSQL_TYPE_TIME:
		return querypb.Type_TIME
	case mysql.MYSQL_TYPE_DATETIME:
		return querypb.Type_DATETIME
	case mysql.MYSQL_TYPE_YEAR:
		return querypb.Type_YEAR
	case mysql.MYSQL_TYPE_BIT:
		return querypb.Type_BIT
	case mysql.MYSQL_TYPE_JSON:
		return querypb.Type_JSON
	case mysql.MYSQL_TYPE_ENUM:
		return querypb.Type_ENUM
	case mysql.MYSQL_TYPE_SET:
		return querypb.Type_SET
	case mysql.MYSQL_TYPE_GEOMETRY:
		return querypb.Type_GEOMETRY
	case mysql.MYSQL_TYPE_TINY_BLOB, mysql.MYSQL_TYPE_MEDIUM_BLOB, mysql.MYSQL_TYPE_LONG_BLOB, mysql.MYSQL_TYPE_BLOB:
		return text(querypb.Type_TEXT, querypb.Type_BLOB)
	case mysql.MYSQL_TYPE_VARCHAR, mysql.MYSQL_TYPE_VAR_STRING:
		return text(querypb.Type_VARCHAR, querypb.Type_VARBINARY)
	case mysql.MYSQL_TYPE_STRING:
		switch {
		case flags&mysql.ENUM_FLAG != 0:
			return querypb.Type_ENUM
		case flags&mysql.SET_FLAG != 0:
			return querypb.Type_SET
		}
		return text(querypb.Type_CHAR, querypb.Type_BINARY)
	}
	return querypb.Type_VARBINARY
}

func errTooLarge(limit int) error {
	return &mysql.MyError{Code: mysql.ER_TOO_BIG_SELECT, State: "42000", Message: fmt.Sprintf(
		"vtdirect: the result is larger than %d MiB, the limit of gRPC Execute; add a LIMIT, or use the MySQL protocol, which streams", limit>>20)}
}

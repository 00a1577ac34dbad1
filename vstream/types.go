package vstream

// MySQL column types to Vitess query.Type, and the Vitess flags that go with each type.
// Vitess's mapping: vitess.io/vitess/go/sqltypes (type.go); flags are MySQL's column-definition
// flags (https://dev.mysql.com/doc/dev/mysql-server/latest/group__group__cs__column__definition__flags.html).

import (
	"strings"

	querypb "vitess.io/vitess/go/vt/proto/query"
)

// vitessType maps an information_schema DATA_TYPE to a Vitess type.
func vitessType(dataType string, unsigned bool, collation string) querypb.Type {
	pick := func(s, u querypb.Type) querypb.Type {
		if unsigned {
			return u
		}
		return s
	}
	binary := collation == "" || collation == "binary"
	switch dataType {
	case "tinyint":
		return pick(querypb.Type_INT8, querypb.Type_UINT8)
	case "smallint":
		return pick(querypb.Type_INT16, querypb.Type_UINT16)
	case "mediumint":
		return pick(querypb.Type_INT24, querypb.Type_UINT24)
	case "int", "integer":
		return pick(querypb.Type_INT32, querypb.Type_UINT32)
	case "bigint":
		return pick(querypb.Type_INT64, querypb.Type_UINT64)
	case "float":
		return querypb.Type_FLOAT32
	case "double", "real":
		return querypb.Type_FLOAT64
	case "decimal", "numeric":
		return querypb.Type_DECIMAL
	case "date":
		return querypb.Type_DATE
	case "datetime":
		return querypb.Type_DATETIME
	case "timestamp":
		return querypb.Type_TIMESTAMP
	case "time":
		return querypb.Type_TIME
	case "year":
		return querypb.Type_YEAR
	case "char":
		if binary {
			return querypb.Type_BINARY
		}
		return querypb.Type_CHAR
	case "varchar":
		if binary {
			return querypb.Type_VARBINARY
		}
		return querypb.Type_VARCHAR
	case "binary":
		return querypb.Type_BINARY
	case "varbinary":
		return querypb.Type_VARBINARY
	case "tinytext", "text", "mediumtext", "longtext":
		if binary {
			return querypb.Type_BLOB
		}
		return querypb.Type_TEXT
	case "tinyblob", "blob", "mediumblob", "longblob":
		return querypb.Type_BLOB
	case "enum":
		return querypb.Type_ENUM
	case "set":
		return querypb.Type_SET
	case "bit":
		return querypb.Type_BIT
	case "json":
		return querypb.Type_JSON
	case "geometry", "point", "linestring", "polygon", "multipoint", "multilinestring", "multipolygon", "geometrycollection":
		return querypb.Type_GEOMETRY
	case "uuid", "inet4", "inet6":
		return querypb.Type_VARCHAR
	}
	return querypb.Type_VARBINARY
}

// typeFlags are the flags implied by a type (Vitess sets the same ones from the protocol).
func typeFlags(t querypb.Type) uint32 {
	var f uint32
	switch t {
	case querypb.Type_INT8, querypb.Type_INT16, querypb.Type_INT24, querypb.Type_INT32, querypb.Type_INT64,
		querypb.Type_UINT8, querypb.Type_UINT16, querypb.Type_UINT24, querypb.Type_UINT32, querypb.Type_UINT64,
		querypb.Type_FLOAT32, querypb.Type_FLOAT64, querypb.Type_DECIMAL, querypb.Type_YEAR:
		f |= uint32(querypb.MySqlFlag_NUM_FLAG)
	case querypb.Type_BLOB, querypb.Type_TEXT, querypb.Type_JSON, querypb.Type_GEOMETRY:
		f |= uint32(querypb.MySqlFlag_BLOB_FLAG)
	case querypb.Type_ENUM:
		f |= uint32(querypb.MySqlFlag_ENUM_FLAG)
	case querypb.Type_SET:
		f |= uint32(querypb.MySqlFlag_SET_FLAG)
	case querypb.Type_TIMESTAMP:
		f |= uint32(querypb.MySqlFlag_TIMESTAMP_FLAG)
	}
	switch t {
	case querypb.Type_BLOB, querypb.Type_BINARY, querypb.Type_VARBINARY, querypb.Type_BIT, querypb.Type_GEOMETRY:
		f |= uint32(querypb.MySqlFlag_BINARY_FLAG)
	}
	return f
}

// charsetID gives the collation id Vitess puts in Field.Charset: 63 (binary) for binary and
// numeric types, else the column collation's id for the common utf8mb4/latin1 collations.
func charsetID(collation string, t querypb.Type) uint32 {
	switch t {
	case querypb.Type_CHAR, querypb.Type_VARCHAR, querypb.Type_TEXT, querypb.Type_ENUM, querypb.Type_SET:
	default:
		return 63
	}
	switch strings.ToLower(collation) {
	case "utf8mb4_general_ci":
		return 45
	case "utf8mb4_bin":
		return 46
	case "utf8mb4_unicode_ci":
		return 224
	case "utf8mb4_0900_ai_ci":
		return 255
	case "utf8mb3_general_ci", "utf8_general_ci":
		return 33
	case "latin1_swedish_ci":
		return 8
	case "latin1_bin":
		return 47
	case "binary", "":
		return 63
	}
	return 45
}

// isIntegral reports whether values of t compare as integers.
func isIntegral(t querypb.Type) (integral, unsigned bool) {
	switch t {
	case querypb.Type_INT8, querypb.Type_INT16, querypb.Type_INT24, querypb.Type_INT32, querypb.Type_INT64, querypb.Type_YEAR:
		return true, false
	case querypb.Type_UINT8, querypb.Type_UINT16, querypb.Type_UINT24, querypb.Type_UINT32, querypb.Type_UINT64:
		return true, true
	}
	return false, false
}

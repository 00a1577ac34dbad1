package vstream

// Table shapes from TABLE_MAP events. With binlog_row_metadata=FULL (MariaDB 10.5+, MySQL
// 8.0.1+), every TABLE_MAP event carries the column names, signedness, charsets, ENUM/SET
// members and primary key of the table as it was when the row was written
// (https://mariadb.com/kb/en/table_map_event/, optional metadata fields;
// https://dev.mysql.com/doc/dev/mysql-server/latest/classbinary__log_1_1Table__map__event.html):
// rows are then decoded with the shape of their own position, whatever the schema is now.

import (
	"bytes"
	"fmt"
	"slices"

	"github.com/go-mysql-org/go-mysql/mysql"
	"github.com/go-mysql-org/go-mysql/replication"
)

// hasFullMetadata reports whether tm names its columns (binlog_row_metadata=FULL).
func hasFullMetadata(tm *replication.TableMapEvent) bool {
	return len(tm.ColumnName) == int(tm.ColumnCount) && tm.ColumnCount > 0
}

// defFromTableMap reads the table's shape from a TABLE_MAP event with full metadata. maxLen
// gives the bytes per character of a collation id.
func defFromTableMap(tm *replication.TableMapEvent, maxLen func(uint32) int) (*tableDef, error) {
	if !hasFullMetadata(tm) {
		return nil, fmt.Errorf("table %s: TABLE_MAP event without column names", tm.Table)
	}
	d := &tableDef{Name: string(tm.Table), Columns: make([]colDef, tm.ColumnCount)}
	unsigned := tm.UnsignedMap()
	colls := tm.CollationMap()
	enumSetColls := tm.EnumSetCollationMap()
	enums, sets := tm.EnumStrValueString(), tm.SetStrValueString()
	var nEnum, nSet int
	for i := range d.Columns {
		c := &d.Columns[i]
		c.Name = string(tm.ColumnName[i])
		_, c.Nullable = tm.Nullable(i)
		c.Unsigned = unsigned[i]
		meta := tm.ColumnMeta[i]
		switch typ := tm.ColumnType[i]; typ {
		case mysql.MYSQL_TYPE_TINY:
			c.DataType = "tinyint"
		case mysql.MYSQL_TYPE_SHORT:
			c.DataType = "smallint"
		case mysql.MYSQL_TYPE_INT24:
			c.DataType = "mediumint"
		case mysql.MYSQL_TYPE_LONG:
			c.DataType = "int"
		case mysql.MYSQL_TYPE_LONGLONG:
			c.DataType = "bigint"
		case mysql.MYSQL_TYPE_FLOAT:
			c.DataType = "float"
		case mysql.MYSQL_TYPE_DOUBLE:
			c.DataType = "double"
		case mysql.MYSQL_TYPE_NEWDECIMAL:
			c.DataType, c.Length, c.Scale = "decimal", int64(meta>>8), int(meta&0xff)
		case mysql.MYSQL_TYPE_YEAR:
			c.DataType = "year"
		case mysql.MYSQL_TYPE_DATE, mysql.MYSQL_TYPE_NEWDATE:
			c.DataType = "date"
		case mysql.MYSQL_TYPE_TIME, mysql.MYSQL_TYPE_TIME2:
			c.DataType, c.Scale = "time", fsp(typ, meta)
		case mysql.MYSQL_TYPE_DATETIME, mysql.MYSQL_TYPE_DATETIME2:
			c.DataType, c.Scale = "datetime", fsp(typ, meta)
		case mysql.MYSQL_TYPE_TIMESTAMP, mysql.MYSQL_TYPE_TIMESTAMP2:
			c.DataType, c.Scale = "timestamp", fsp(typ, meta)
		case mysql.MYSQL_TYPE_BIT:
			c.DataType, c.Length = "bit", int64(meta>>8)*8+int64(meta&0xff)
		case mysql.MYSQL_TYPE_JSON:
			c.DataType = "json"
		case mysql.MYSQL_TYPE_GEOMETRY:
			c.DataType = "geometry"
		case mysql.MYSQL_TYPE_VARCHAR, mysql.MYSQL_TYPE_VAR_STRING:
			c.Collation, c.Length = uint32(colls[i]), int64(meta)
			c.DataType = pickBinary(c.Collation, "varchar", "varbinary")
		case mysql.MYSQL_TYPE_BLOB:
			c.Collation = uint32(colls[i])
			prefix := [...]string{1: "tiny", 2: "", 3: "medium", 4: "long"}
			if int(meta) < 1 || int(meta) > 4 {
				return nil, fmt.Errorf("table %s column %s: BLOB pack length %d", d.Name, c.Name, meta)
			}
			c.DataType = prefix[meta] + pickBinary(c.Collation, "text", "blob")
			c.Length = blobLengths[c.DataType]
		case mysql.MYSQL_TYPE_STRING:
			real, length := stringMeta(meta)
			switch real {
			case mysql.MYSQL_TYPE_ENUM, mysql.MYSQL_TYPE_SET:
				c.Collation = uint32(enumSetColls[i])
				if real == mysql.MYSQL_TYPE_ENUM {
					c.DataType = "enum"
					if nEnum < len(enums) {
						c.Values = enums[nEnum]
					}
					nEnum++
				} else {
					c.DataType = "set"
					if nSet < len(sets) {
						c.Values = sets[nSet]
					}
					nSet++
				}
			default:
				c.Collation, c.Length = uint32(colls[i]), int64(length)
				c.DataType = pickBinary(c.Collation, "char", "binary")
			}
		default:
			return nil, fmt.Errorf("table %s column %s: binlog column type %d is not supported", d.Name, c.Name, typ)
		}
		if c.Collation != 0 {
			c.MaxLen = maxLen(c.Collation)
		}
	}
	for _, k := range tm.PrimaryKey {
		d.PK = append(d.PK, int(k))
	}
	return d, nil
}

// fsp is the fractional-second digits of a temporal column (old types have none).
func fsp(typ byte, meta uint16) int {
	switch typ {
	case mysql.MYSQL_TYPE_TIME2, mysql.MYSQL_TYPE_DATETIME2, mysql.MYSQL_TYPE_TIMESTAMP2:
		return int(meta)
	}
	return 0
}

// stringMeta decodes the metadata of a MYSQL_TYPE_STRING column: the real type and the byte
// length, whose two high bits hide in the type byte (sql/field.cc, Field_string::do_save_field_metadata).
func stringMeta(meta uint16) (real byte, length int) {
	b0, b1 := byte(meta>>8), int(meta&0xff)
	if b0&0x30 != 0x30 {
		return b0 | 0x30, b1 | int((b0&0x30)^0x30)<<4
	}
	return b0, b1
}

func pickBinary(collation uint32, text, binary string) string {
	if collation == 63 {
		return binary
	}
	return text
}

// sameTableMap reports whether two TABLE_MAP events describe the same table shape, so that
// the definition read from the first can serve the second without decoding it again.
func sameTableMap(a, b *replication.TableMapEvent) bool {
	if a == b {
		return true
	}
	if a.ColumnCount != b.ColumnCount || !bytes.Equal(a.Table, b.Table) || !bytes.Equal(a.ColumnType, b.ColumnType) ||
		!slices.Equal(a.ColumnMeta, b.ColumnMeta) || !bytes.Equal(a.NullBitmap, b.NullBitmap) ||
		!bytes.Equal(a.SignednessBitmap, b.SignednessBitmap) || !slices.Equal(a.DefaultCharset, b.DefaultCharset) ||
		!slices.Equal(a.ColumnCharset, b.ColumnCharset) || !slices.Equal(a.PrimaryKey, b.PrimaryKey) ||
		!slices.Equal(a.EnumSetDefaultCharset, b.EnumSetDefaultCharset) || !slices.Equal(a.EnumSetColumnCharset, b.EnumSetColumnCharset) ||
		len(a.ColumnName) != len(b.ColumnName) || len(a.EnumStrValue) != len(b.EnumStrValue) || len(a.SetStrValue) != len(b.SetStrValue) {
		return false
	}
	for i := range a.ColumnName {
		if !bytes.Equal(a.ColumnName[i], b.ColumnName[i]) {
			return false
		}
	}
	return equalStrValues(a.EnumStrValue, b.EnumStrValue) && equalStrValues(a.SetStrValue, b.SetStrValue)
}

func equalStrValues(a, b [][][]byte) bool {
	for i := range a {
		if len(a[i]) != len(b[i]) {
			return false
		}
		for j := range a[i] {
			if !bytes.Equal(a[i][j], b[i][j]) {
				return false
			}
		}
	}
	return true
}

// matchesTableMap reports whether d has the column count and binlog types of tm: a shape read
// elsewhere (the schema history) is checked against every TABLE_MAP it decodes.
func matchesTableMap(d *tableDef, tm *replication.TableMapEvent) bool {
	if len(d.Columns) != int(tm.ColumnCount) {
		return false
	}
	for i := range d.Columns {
		if !binlogTypeFits(d.Columns[i].DataType, tm.ColumnType[i], tm.ColumnMeta[i]) {
			return false
		}
	}
	return true
}

// binlogTypeFits reports whether a column of dataType is written with binlog type typ.
func binlogTypeFits(dataType string, typ byte, meta uint16) bool {
	switch typ {
	case mysql.MYSQL_TYPE_TINY:
		return dataType == "tinyint"
	case mysql.MYSQL_TYPE_SHORT:
		return dataType == "smallint"
	case mysql.MYSQL_TYPE_INT24:
		return dataType == "mediumint"
	case mysql.MYSQL_TYPE_LONG:
		return dataType == "int"
	case mysql.MYSQL_TYPE_LONGLONG:
		return dataType == "bigint"
	case mysql.MYSQL_TYPE_FLOAT:
		return dataType == "float"
	case mysql.MYSQL_TYPE_DOUBLE:
		return dataType == "double"
	case mysql.MYSQL_TYPE_NEWDECIMAL:
		return dataType == "decimal"
	case mysql.MYSQL_TYPE_YEAR:
		return dataType == "year"
	case mysql.MYSQL_TYPE_DATE, mysql.MYSQL_TYPE_NEWDATE:
		return dataType == "date"
	case mysql.MYSQL_TYPE_TIME, mysql.MYSQL_TYPE_TIME2:
		return dataType == "time"
	case mysql.MYSQL_TYPE_DATETIME, mysql.MYSQL_TYPE_DATETIME2:
		return dataType == "datetime"
	case mysql.MYSQL_TYPE_TIMESTAMP, mysql.MYSQL_TYPE_TIMESTAMP2:
		return dataType == "timestamp"
	case mysql.MYSQL_TYPE_BIT:
		return dataType == "bit"
	case mysql.MYSQL_TYPE_VARCHAR, mysql.MYSQL_TYPE_VAR_STRING:
		return dataType == "varchar" || dataType == "varbinary"
	case mysql.MYSQL_TYPE_BLOB:
		_, ok := blobLengths[dataType]
		return ok || dataType == "json"
	case mysql.MYSQL_TYPE_JSON:
		return dataType == "json"
	case mysql.MYSQL_TYPE_GEOMETRY:
		return dataType == "geometry"
	case mysql.MYSQL_TYPE_STRING:
		switch real, _ := stringMeta(meta); real {
		case mysql.MYSQL_TYPE_ENUM:
			return dataType == "enum"
		case mysql.MYSQL_TYPE_SET:
			return dataType == "set"
		}
		return dataType == "char" || dataType == "binary"
	}
	return false
}

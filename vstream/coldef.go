package vstream

// Column definitions in one canonical form, whatever they were read from: a TABLE_MAP event
// with full row metadata (tablemap.go), information_schema (schema.go) or the schema history
// (history.go). The FIELD event of a table is built from this form alone, so a table sends
// the same FIELD event whether a stream read its shape from the binlog, from the copy phase's
// information_schema or from the history: a consumer resuming from any position gets the
// events a live stream got. What the binlog cannot say (display widths, AUTO_INCREMENT,
// secondary keys) is left out of the FIELD event for the same reason: integer ColumnType uses
// the server's default display width.

import (
	"fmt"
	"strings"

	querypb "vitess.io/vitess/go/vt/proto/query"
)

// colDef is one column as the binlog knows it.
type colDef struct {
	Name     string `json:"name"`
	DataType string `json:"type"` // information_schema DATA_TYPE: "int", "varchar", "enum"...
	Unsigned bool   `json:"unsigned,omitempty"`
	Nullable bool   `json:"nullable,omitempty"`
	// Collation is the collation id of a string, ENUM or SET column (63: binary); 0 otherwise.
	Collation uint32 `json:"collation,omitempty"`
	// MaxLen is the bytes per character of the column's charset (for CHAR(n) in ColumnType).
	MaxLen int `json:"maxlen,omitempty"`
	// Length is the byte length of a string column, the precision of a DECIMAL, the bits of
	// a BIT.
	Length int64 `json:"length,omitempty"`
	// Scale is a DECIMAL's scale or a TIME/DATETIME/TIMESTAMP's fractional digits.
	Scale  int      `json:"scale,omitempty"`
	Values []string `json:"values,omitempty"` // ENUM/SET members
}

// tableDef is one table as the binlog knows it.
type tableDef struct {
	Name    string   `json:"name"`
	Columns []colDef `json:"columns"`
	PK      []int    `json:"pk,omitempty"` // key columns in key order (primary or a NOT NULL unique key)
	// Create is the CREATE TABLE statement (schema history entries only: the tracker rebuilds
	// its shadow schema from it).
	Create string `json:"create,omitempty"`
}

// equal reports whether two definitions describe the same shape.
func (d *tableDef) equal(o *tableDef) bool {
	if d.Name != o.Name || len(d.Columns) != len(o.Columns) || len(d.PK) != len(o.PK) {
		return false
	}
	for i := range d.PK {
		if d.PK[i] != o.PK[i] {
			return false
		}
	}
	for i := range d.Columns {
		a, b := &d.Columns[i], &o.Columns[i]
		if a.Name != b.Name || a.DataType != b.DataType || a.Unsigned != b.Unsigned || a.Nullable != b.Nullable ||
			a.Collation != b.Collation || a.Length != b.Length || a.Scale != b.Scale || len(a.Values) != len(b.Values) {
			return false
		}
		for j := range a.Values {
			if a.Values[j] != b.Values[j] {
				return false
			}
		}
	}
	return true
}

// meta builds the tableMeta (with FIELD descriptions) of d in database db.
func (d *tableDef) meta(db string) *tableMeta {
	t := &tableMeta{Name: d.Name, PK: append([]int(nil), d.PK...), def: d}
	pk := make(map[int]bool, len(d.PK))
	for _, i := range d.PK {
		pk[i] = true
	}
	for i := range d.Columns {
		t.Columns = append(t.Columns, d.Columns[i].column(d.Name, db, pk[i]))
	}
	return t
}

// column builds the column and its Vitess Field.
func (c *colDef) column(table, db string, key bool) column {
	collation := ""
	if c.Collation != 0 && c.Collation != 63 {
		collation = "text" // any non-binary collation: vitessType only asks binary or not
	}
	col := column{Name: c.Name, DataType: c.DataType, Unsigned: c.Unsigned, Values: c.Values}
	col.Type = vitessType(c.DataType, c.Unsigned, collation)
	if c.DataType == "decimal" {
		col.Scale = c.Scale
	}
	flags := typeFlags(col.Type)
	if !c.Nullable {
		flags |= uint32(querypb.MySqlFlag_NOT_NULL_FLAG)
	}
	if key {
		flags |= uint32(querypb.MySqlFlag_PRI_KEY_FLAG)
	}
	if c.Unsigned {
		flags |= uint32(querypb.MySqlFlag_UNSIGNED_FLAG)
	}
	charset := uint32(63)
	switch col.Type {
	case querypb.Type_CHAR, querypb.Type_VARCHAR, querypb.Type_TEXT, querypb.Type_ENUM, querypb.Type_SET:
		if c.Collation != 0 {
			charset = c.Collation
		}
	}
	var decimals uint32
	switch c.DataType {
	case "decimal", "time", "datetime", "timestamp":
		decimals = uint32(c.Scale)
	case "float", "double":
		decimals = 31 // NOT_FIXED_DEC, as the protocol reports
	}
	col.Field = &querypb.Field{
		Name: c.Name, Type: col.Type, Table: table, OrgTable: table, Database: db, OrgName: c.Name,
		ColumnLength: uint32(c.displayLength()), Charset: charset, Decimals: decimals, Flags: flags,
		ColumnType: c.columnType(),
	}
	return col
}

// intWidths are the default display widths of the integer types (signed, unsigned).
var intWidths = map[string][2]int{"tinyint": {4, 3}, "smallint": {6, 5}, "mediumint": {9, 8}, "int": {11, 10}, "bigint": {20, 20}}

// blobLengths are the byte lengths of the BLOB/TEXT types.
var blobLengths = map[string]int64{"tinyblob": 255, "tinytext": 255, "blob": 65535, "text": 65535,
	"mediumblob": 16777215, "mediumtext": 16777215, "longblob": 4294967295, "longtext": 4294967295}

// displayLength is the Field's ColumnLength, as the MySQL protocol reports it.
func (c *colDef) displayLength() int64 {
	if w, ok := intWidths[c.DataType]; ok {
		if c.Unsigned {
			return int64(w[1])
		}
		return int64(w[0])
	}
	switch c.DataType {
	case "decimal":
		n := c.Length
		if c.Scale > 0 {
			n++
		}
		if !c.Unsigned {
			n++
		}
		return n
	case "float":
		return 12
	case "double":
		return 22
	case "date":
		return 10
	case "time":
		return 10 + fracWidth(c.Scale)
	case "datetime", "timestamp":
		return 19 + fracWidth(c.Scale)
	case "year":
		return 4
	case "bit":
		return c.Length
	case "enum", "set":
		n := 0
		for i, v := range c.Values {
			if c.DataType == "enum" {
				n = max(n, len(v))
			} else {
				n += len(v)
				if i > 0 {
					n++
				}
			}
		}
		return int64(n * max(c.MaxLen, 1))
	}
	if n, ok := blobLengths[c.DataType]; ok {
		return n
	}
	return c.Length
}

func fracWidth(fsp int) int64 {
	if fsp > 0 {
		return int64(fsp) + 1
	}
	return 0
}

// columnType is information_schema's COLUMN_TYPE as MariaDB prints it for a column declared
// without a display width.
func (c *colDef) columnType() string {
	uns := ""
	if c.Unsigned {
		uns = " unsigned"
	}
	if w, ok := intWidths[c.DataType]; ok {
		i := 0
		if c.Unsigned {
			i = 1
		}
		return fmt.Sprintf("%s(%d)%s", c.DataType, w[i], uns)
	}
	switch c.DataType {
	case "decimal":
		return fmt.Sprintf("decimal(%d,%d)%s", c.Length, c.Scale, uns)
	case "float", "double":
		return c.DataType + uns
	case "time", "datetime", "timestamp":
		if c.Scale > 0 {
			return fmt.Sprintf("%s(%d)", c.DataType, c.Scale)
		}
		return c.DataType
	case "year":
		return "year(4)"
	case "bit":
		return fmt.Sprintf("bit(%d)", c.Length)
	case "char", "varchar":
		return fmt.Sprintf("%s(%d)", c.DataType, c.Length/int64(max(c.MaxLen, 1)))
	case "binary", "varbinary":
		return fmt.Sprintf("%s(%d)", c.DataType, c.Length)
	case "enum", "set":
		var b strings.Builder
		b.WriteString(c.DataType)
		b.WriteByte('(')
		for i, v := range c.Values {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString("'" + strings.ReplaceAll(v, "'", "''") + "'")
		}
		b.WriteByte(')')
		return b.String()
	}
	return c.DataType
}

package vstream

// Table metadata read from information_schema on the source: column names, Vitess types, flags,
// ENUM/SET value lists and the primary key. Binlog row events carry only positional values, so
// every FIELD event and every ROW translation depends on this.

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"sync"

	querypb "vitess.io/vitess/go/vt/proto/query"
)

// column is one column of a source table.
type column struct {
	Name     string
	DataType string // information_schema DATA_TYPE, lower case: "int", "varchar", ...
	Type     querypb.Type
	Unsigned bool
	Scale    int      // DECIMAL scale (fraction digits)
	Values   []string // ENUM/SET members, in declaration order
	Field    *querypb.Field
}

// tableMeta describes one source table.
type tableMeta struct {
	Name    string
	Columns []column
	PK      []int // column indexes of the primary key (or first unique key), in key order
}

// schemaCache caches tableMeta per table; a DDL on the stream clears it.
type schemaCache struct {
	db     *sql.DB
	dbName string

	mu     sync.Mutex            // guards tables
	tables map[string]*tableMeta // by table name
}

func newSchemaCache(db *sql.DB, dbName string) *schemaCache {
	return &schemaCache{db: db, dbName: dbName, tables: make(map[string]*tableMeta)}
}

// invalidate forgets every cached table (after a DDL).
func (s *schemaCache) invalidate() {
	s.mu.Lock()
	clear(s.tables)
	s.mu.Unlock()
}

// listTables returns the base tables of the database, sorted by name.
func (s *schemaCache) listTables(ctx context.Context) ([]string, error) {
	rows, err := s.db.QueryContext(ctx,
		"SELECT table_name FROM information_schema.tables WHERE table_schema = ? AND table_type = 'BASE TABLE' ORDER BY table_name",
		s.dbName)
	if err != nil {
		return nil, fmt.Errorf("list tables of %s: %w", s.dbName, err)
	}
	defer rows.Close()
	var names []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, err
		}
		names = append(names, n)
	}
	return names, rows.Err()
}

// table returns the metadata of name, loading it on first use. A missing table is (nil, nil).
func (s *schemaCache) table(ctx context.Context, name string) (*tableMeta, error) {
	s.mu.Lock()
	t, ok := s.tables[name]
	s.mu.Unlock()
	if ok {
		return t, nil
	}
	t, err := s.load(ctx, name)
	if err != nil || t == nil {
		return t, err
	}
	s.mu.Lock()
	s.tables[name] = t
	s.mu.Unlock()
	return t, nil
}

func (s *schemaCache) load(ctx context.Context, name string) (*tableMeta, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT column_name, data_type, column_type, is_nullable, column_key,
		IFNULL(numeric_scale, 0), IFNULL(character_maximum_length, IFNULL(numeric_precision, 0)),
		IFNULL(collation_name, ''), IFNULL(datetime_precision, 0), extra
		FROM information_schema.columns WHERE table_schema = ? AND table_name = ? ORDER BY ordinal_position`,
		s.dbName, name)
	if err != nil {
		return nil, fmt.Errorf("read columns of %s.%s: %w", s.dbName, name, err)
	}
	defer rows.Close()
	t := &tableMeta{Name: name}
	var uniq []int
	for rows.Next() {
		var (
			cname, dataType, colType, nullable, key, collation, extra string
			scale, length, dtPrec                                     int64
		)
		if err := rows.Scan(&cname, &dataType, &colType, &nullable, &key, &scale, &length, &collation, &dtPrec, &extra); err != nil {
			return nil, fmt.Errorf("read columns of %s.%s: %w", s.dbName, name, err)
		}
		c := column{Name: cname, DataType: strings.ToLower(dataType), Scale: int(scale)}
		c.Unsigned = strings.Contains(strings.ToLower(colType), "unsigned")
		c.Type = vitessType(c.DataType, c.Unsigned, collation)
		if c.DataType == "enum" || c.DataType == "set" {
			c.Values = parseEnumValues(colType)
		}
		flags := typeFlags(c.Type)
		if nullable == "NO" {
			flags |= uint32(querypb.MySqlFlag_NOT_NULL_FLAG)
		}
		switch key {
		case "PRI":
			flags |= uint32(querypb.MySqlFlag_PRI_KEY_FLAG)
			t.PK = append(t.PK, len(t.Columns))
		case "UNI":
			flags |= uint32(querypb.MySqlFlag_UNIQUE_KEY_FLAG)
			uniq = append(uniq, len(t.Columns))
		case "MUL":
			flags |= uint32(querypb.MySqlFlag_MULTIPLE_KEY_FLAG)
		}
		if c.Unsigned {
			flags |= uint32(querypb.MySqlFlag_UNSIGNED_FLAG)
		}
		if strings.Contains(extra, "auto_increment") {
			flags |= uint32(querypb.MySqlFlag_AUTO_INCREMENT_FLAG)
		}
		decimals := uint32(scale)
		if dtPrec > 0 {
			decimals = uint32(dtPrec)
		}
		c.Field = &querypb.Field{
			Name:         cname,
			Type:         c.Type,
			Table:        name,
			OrgTable:     name,
			Database:     s.dbName,
			OrgName:      cname,
			ColumnLength: uint32(length),
			Charset:      charsetID(collation, c.Type),
			Decimals:     decimals,
			Flags:        flags,
			ColumnType:   colType,
		}
		t.Columns = append(t.Columns, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read columns of %s.%s: %w", s.dbName, name, err)
	}
	if len(t.Columns) == 0 {
		return nil, nil
	}
	if len(t.PK) == 0 {
		t.PK = uniq
	}
	if len(t.PK) > 1 {
		if err := s.orderPK(ctx, t); err != nil {
			return nil, err
		}
	}
	return t, nil
}

// orderPK puts a composite primary key in key order (information_schema.columns lists table order).
func (s *schemaCache) orderPK(ctx context.Context, t *tableMeta) error {
	rows, err := s.db.QueryContext(ctx, `SELECT column_name FROM information_schema.statistics
		WHERE table_schema = ? AND table_name = ? AND index_name = 'PRIMARY' ORDER BY seq_in_index`, s.dbName, t.Name)
	if err != nil {
		return fmt.Errorf("read primary key of %s.%s: %w", s.dbName, t.Name, err)
	}
	defer rows.Close()
	var pk []int
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return err
		}
		for i, c := range t.Columns {
			if strings.EqualFold(c.Name, n) {
				pk = append(pk, i)
			}
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if len(pk) > 0 {
		t.PK = pk
	}
	return nil
}

// parseEnumValues turns "enum('a','b”c')" into ["a", "b'c"].
func parseEnumValues(colType string) []string {
	open := strings.IndexByte(colType, '(')
	if open < 0 {
		return nil
	}
	s := colType[open+1:]
	var vals []string
	for len(s) > 0 && s[0] == '\'' {
		var b strings.Builder
		i := 1
		for i < len(s) {
			if s[i] == '\'' {
				if i+1 < len(s) && s[i+1] == '\'' {
					b.WriteByte('\'')
					i += 2
					continue
				}
				break
			}
			if s[i] == '\\' && i+1 < len(s) {
				i++
			}
			b.WriteByte(s[i])
			i++
		}
		vals = append(vals, b.String())
		s = s[min(i+1, len(s)):]
		s = strings.TrimLeft(s, ", ")
	}
	return vals
}

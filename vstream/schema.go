package vstream

// Table metadata read from information_schema on the source: column names, Vitess types, flags,
// ENUM/SET value lists and the primary key. Binlog row events carry only positional values, so
// every FIELD event and every ROW translation depends on this.

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
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
	def     *tableDef
}

// schemaCache caches tableMeta per table; a DDL on the stream clears it.
type schemaCache struct {
	db     *sql.DB
	dbName string

	mu         sync.Mutex               // guards tables and collations
	tables     map[string]*tableMeta    // by table name
	collations map[uint32]collationInfo // by collation id; nil until loaded
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
	d, err := s.loadDef(ctx, name)
	if err != nil || d == nil {
		return nil, err
	}
	return d.meta(s.dbName), nil
}

// loadDef reads the definition of table name from information_schema; nil when it does not
// exist.
func (s *schemaCache) loadDef(ctx context.Context, name string) (*tableDef, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT c.column_name, c.data_type, c.column_type, c.is_nullable,
		IFNULL(c.numeric_precision, 0), IFNULL(c.numeric_scale, 0), IFNULL(c.character_octet_length, 0),
		IFNULL(c.datetime_precision, 0), IFNULL(co.id, 0), IFNULL(cs.maxlen, 0)
		FROM information_schema.columns c
		LEFT JOIN information_schema.collations co ON co.collation_name = c.collation_name
		LEFT JOIN information_schema.character_sets cs ON cs.character_set_name = co.character_set_name
		WHERE c.table_schema = ? AND c.table_name = ? ORDER BY c.ordinal_position`,
		s.dbName, name)
	if err != nil {
		return nil, fmt.Errorf("read columns of %s.%s: %w", s.dbName, name, err)
	}
	defer rows.Close()
	d := &tableDef{Name: name}
	for rows.Next() {
		var (
			c                                    colDef
			colType, nullable                    string
			prec, scale, octets, dtPrec, id, mbl int64
		)
		if err := rows.Scan(&c.Name, &c.DataType, &colType, &nullable, &prec, &scale, &octets, &dtPrec, &id, &mbl); err != nil {
			return nil, fmt.Errorf("read columns of %s.%s: %w", s.dbName, name, err)
		}
		c.DataType = strings.ToLower(c.DataType)
		c.Unsigned = strings.Contains(strings.ToLower(colType), "unsigned")
		c.Nullable = nullable == "YES"
		switch c.DataType {
		case "decimal", "numeric":
			c.DataType, c.Length, c.Scale = "decimal", prec, int(scale)
		case "bit":
			c.Length = prec
		case "time", "datetime", "timestamp":
			c.Scale = int(dtPrec)
		case "enum", "set":
			c.Values = parseEnumValues(colType)
		case "char", "varchar", "binary", "varbinary":
			c.Length = octets
		case "integer":
			c.DataType = "int"
		case "real":
			c.DataType = "double"
		}
		if _, ok := blobLengths[c.DataType]; ok {
			c.Length = blobLengths[c.DataType]
		}
		if id > 0 {
			c.Collation, c.MaxLen = uint32(id), int(mbl)
		} else if isBinaryString(c.DataType) {
			c.Collation, c.MaxLen = 63, 1
		}
		d.Columns = append(d.Columns, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read columns of %s.%s: %w", s.dbName, name, err)
	}
	if len(d.Columns) == 0 {
		return nil, nil
	}
	if d.PK, err = s.keyColumns(ctx, d); err != nil {
		return nil, err
	}
	return d, nil
}

// isBinaryString reports the string types that have no collation in information_schema.
func isBinaryString(dataType string) bool {
	switch dataType {
	case "binary", "varbinary", "tinyblob", "blob", "mediumblob", "longblob":
		return true
	}
	return false
}

// keyColumns picks the key rows are identified and copied by: the primary key, else the first
// unique key whose columns are all NOT NULL and whole (no prefix); none for other tables.
func (s *schemaCache) keyColumns(ctx context.Context, d *tableDef) ([]int, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT index_name, column_name, sub_part IS NOT NULL, nullable = 'YES'
		FROM information_schema.statistics WHERE table_schema = ? AND table_name = ? AND non_unique = 0
		ORDER BY index_name = 'PRIMARY' DESC, index_name, seq_in_index`, s.dbName, d.Name)
	if err != nil {
		return nil, fmt.Errorf("read keys of %s.%s: %w", s.dbName, d.Name, err)
	}
	defer rows.Close()
	var (
		best, cur   []int
		curName     string
		curUsable   bool
		haveCurrent bool
	)
	finish := func() {
		if haveCurrent && curUsable && best == nil {
			best = cur
		}
	}
	for rows.Next() {
		var idx, col string
		var prefix, nullable bool
		if err := rows.Scan(&idx, &col, &prefix, &nullable); err != nil {
			return nil, err
		}
		if !haveCurrent || idx != curName {
			finish()
			cur, curName, curUsable, haveCurrent = nil, idx, true, true
		}
		i := slices.IndexFunc(d.Columns, func(c colDef) bool { return strings.EqualFold(c.Name, col) })
		if i < 0 || prefix || nullable {
			curUsable = false
			continue
		}
		cur = append(cur, i)
	}
	finish()
	return best, rows.Err()
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

// collationInfo names a collation and its charset.
type collationInfo struct {
	name, charset string
	maxLen        int
}

// loadCollations reads the source's collations once (information_schema.collations and
// character_sets).
func (s *schemaCache) loadCollations(ctx context.Context) {
	s.mu.Lock()
	loaded := s.collations != nil
	s.mu.Unlock()
	if loaded {
		return
	}
	m := map[uint32]collationInfo{63: {name: "binary", charset: "binary", maxLen: 1}}
	rows, err := s.db.QueryContext(ctx, `SELECT co.id, co.collation_name, cs.character_set_name, cs.maxlen
		FROM information_schema.collations co
		JOIN information_schema.character_sets cs ON cs.character_set_name = co.character_set_name`)
	if err != nil {
		return // tried again at the next use
	}
	defer rows.Close()
	for rows.Next() {
		var id uint32
		var c collationInfo
		if rows.Scan(&id, &c.name, &c.charset, &c.maxLen) == nil && plainName(c.name) && plainName(c.charset) {
			m[id] = c
		}
	}
	if rows.Err() != nil {
		return
	}
	s.mu.Lock()
	s.collations = m
	s.mu.Unlock()
}

// plainName reports a plain identifier (what collation and charset names are).
func plainName(v string) bool {
	if v == "" {
		return false
	}
	for _, r := range v {
		if !(r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}

// collation returns the collation of id.
func (s *schemaCache) collation(ctx context.Context, id uint32) (collationInfo, bool) {
	s.loadCollations(ctx)
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.collations[id]
	return c, ok
}

// maxLen returns the bytes per character of a collation id; 1 when unknown.
func (s *schemaCache) maxLen(ctx context.Context) func(uint32) int {
	s.loadCollations(ctx)
	return func(id uint32) int {
		s.mu.Lock()
		defer s.mu.Unlock()
		if n := s.collations[id].maxLen; n > 0 {
			return n
		}
		return 1
	}
}

package router

import (
	"strings"
	"time"

	"github.com/go-mysql-org/go-mysql/mysql"
	querypb "vitess.io/vitess/go/vt/proto/query"

	"github.com/vtdirect/vtdirect/discovery"
	"github.com/vtdirect/vtdirect/mysqlserver"
)

// table is a result the gateway makes itself (SHOW DATABASES, SHOW VITESS_*), written either
// to a MySQL client or into a gRPC QueryResult. Every column is a VARCHAR.
type table struct {
	schema, table string // what MySQL puts in the column definitions, if anything
	columns       []string
	rows          [][]string
}

// mysqlResult is the table for a MySQL client; status goes into its final EOF.
func (t *table) mysqlResult(status uint16) *mysqlserver.Result {
	r := &mysqlserver.Result{Status: status}
	for _, c := range t.columns {
		r.Fields = append(r.Fields, &mysqlserver.Field{
			Schema: t.schema, Table: t.table, OrgTable: t.table, Name: c, OrgName: c,
			Charset: 33, ColumnLength: 192, Type: mysql.MYSQL_TYPE_VAR_STRING, Flags: mysql.NOT_NULL_FLAG,
		})
	}
	for _, row := range t.rows {
		vals := make([][]byte, len(row))
		for i, v := range row {
			vals[i] = []byte(v)
		}
		r.Rows = append(r.Rows, vals)
	}
	return r
}

func (t *table) queryResult() *querypb.QueryResult {
	qr := &querypb.QueryResult{RowsAffected: uint64(len(t.rows))}
	for _, c := range t.columns {
		qr.Fields = append(qr.Fields, &querypb.Field{
			Name: c, Type: querypb.Type_VARCHAR, Database: t.schema, Table: t.table, OrgTable: t.table, OrgName: c,
			Charset: 33, ColumnLength: 192, Flags: uint32(mysql.NOT_NULL_FLAG),
		})
	}
	for _, row := range t.rows {
		r := &querypb.Row{}
		for _, v := range row {
			r.Lengths = append(r.Lengths, int64(len(v)))
			r.Values = append(r.Values, v...)
		}
		qr.Rows = append(qr.Rows, r)
	}
	return qr
}

// databasesTable answers SHOW DATABASES: the keyspaces, with MariaDB's column metadata.
// Only the keyspaces visible passes (nil: all) are listed, as MySQL lists the databases a
// user has privileges on.
func databasesTable(snap *discovery.Snapshot, visible func(string) bool) *table {
	t := &table{schema: "information_schema", table: "SCHEMATA", columns: []string{"Database"}}
	for _, ks := range snap.Keyspaces {
		if visible == nil || visible(ks) {
			t.rows = append(t.rows, []string{ks})
		}
	}
	return t
}

// vitessShardsTable answers SHOW VITESS_SHARDS [LIKE 'pattern']: "keyspace/shard" for every
// shard that has tablets, as vtgate lists them.
func vitessShardsTable(snap *discovery.Snapshot, pattern string, visible func(string) bool) *table {
	t := &table{columns: []string{"Shards"}}
	for _, ks := range snap.Keyspaces {
		if visible != nil && !visible(ks) {
			continue
		}
		for _, sh := range snap.Shards(ks) {
			name := ks + "/" + sh.Name
			if pattern == "" || likeMatch(pattern, name) {
				t.rows = append(t.rows, []string{name})
			}
		}
	}
	return t
}

// vitessTabletsTable answers SHOW VITESS_TABLETS [LIKE 'pattern'] with vtgate's columns; the
// pattern matches the alias.
func vitessTabletsTable(snap *discovery.Snapshot, pattern string, visible func(string) bool) *table {
	t := &table{columns: []string{"Cell", "Keyspace", "Shard", "TabletType", "State", "Alias", "Hostname", "PrimaryTermStartTime"}}
	for _, tab := range snap.Tablets() {
		if pattern != "" && !likeMatch(pattern, tab.Alias) || visible != nil && !visible(tab.Keyspace) {
			continue
		}
		state := "NOT_SERVING"
		if tab.Health().Serving {
			state = "SERVING"
		}
		term := ""
		if ts := tab.Record.GetPrimaryTermStartTime(); ts != nil && ts.GetSeconds() > 0 {
			term = time.Unix(ts.GetSeconds(), int64(ts.GetNanoseconds())).UTC().Format(time.RFC3339)
		}
		t.rows = append(t.rows, []string{tab.Cell, tab.Keyspace, tab.Shard, tab.Type.String(), state,
			tab.Alias, tab.Record.GetHostname(), term})
	}
	return t
}

// likeMatch matches s against an SQL LIKE pattern (% any run, _ one character, \ escapes),
// ignoring ASCII case as MySQL's default collations do.
func likeMatch(pattern, s string) bool {
	p, v := strings.ToLower(pattern), strings.ToLower(s)
	var match func(pi, si int) bool
	match = func(pi, si int) bool {
		for pi < len(p) {
			switch c := p[pi]; c {
			case '%':
				for pi < len(p) && p[pi] == '%' {
					pi++
				}
				if pi == len(p) {
					return true
				}
				for k := si; k <= len(v); k++ {
					if match(pi, k) {
						return true
					}
				}
				return false
			case '_':
				if si >= len(v) {
					return false
				}
				pi, si = pi+1, si+1
			default:
				if c == '\\' && pi+1 < len(p) {
					pi++
					c = p[pi]
				}
				if si >= len(v) || v[si] != c {
					return false
				}
				pi, si = pi+1, si+1
			}
		}
		return si == len(v)
	}
	return match(0, 0)
}

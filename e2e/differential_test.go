package e2e

import (
	"fmt"
	"reflect"
	"testing"

	"github.com/go-mysql-org/go-mysql/client"
	gomysql "github.com/go-mysql-org/go-mysql/mysql"
)

// TestDifferential runs the same statements against the primary directly and through the
// gateway, with a client that exposes the whole column definition, and wants the same rows,
// the same column metadata (type, flags, charset, decimals, length, names) and the same
// errors — in the text protocol and in the binary protocol of prepared statements.
func TestDifferential(t *testing.T) {
	primary := cluster.Primary().MariaDB
	direct := goMySQLConn(t, primary.Addr(), cluster.Layout.DBName)
	through := goMySQLConn(t, gw.MySQLAddr(), "commerce")

	setup := []string{
		"DROP TABLE IF EXISTS e2e_types",
		`CREATE TABLE e2e_types (
			id INT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
			ti TINYINT, si SMALLINT UNSIGNED, mi MEDIUMINT ZEROFILL, bi BIGINT UNSIGNED,
			de DECIMAL(12,4), fl FLOAT, db DOUBLE, bt BIT(5), yr YEAR,
			da DATE, dt DATETIME(3), ts TIMESTAMP(6) NULL, tm TIME(2),
			ch CHAR(3), vc VARCHAR(20) CHARACTER SET latin1, vb VARBINARY(10), tx TEXT, bl BLOB,
			en ENUM('a','b'), st SET('x','y'), js JSON, u8 VARCHAR(5) COLLATE utf8mb4_bin,
			UNIQUE KEY (vc), KEY (ti, si))`,
		`INSERT INTO e2e_types VALUES
			(NULL, -5, 65535, 7, 18446744073709551615, -12.3456, 1.5, -2.25e100, b'10101', 2024,
			 '2026-11-22', '2026-11-22 01:02:03.456', '2026-11-22 01:02:03.456789', '-838:59:59.99',
			 'abc', 'latïn', x'00ff', 'text', x'deadbeef', 'b', 'x,y', '{"k": [1, 2]}', 'ünï'),
			(NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
			 NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)`,
	}
	for _, q := range setup {
		if _, err := direct.Execute(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	t.Cleanup(func() { _, _ = direct.Execute("DROP TABLE IF EXISTS e2e_types") })

	queries := []string{
		"SELECT * FROM e2e_types ORDER BY id",
		"SELECT id, ti + 1, de * 2, CONCAT(ch, vc), LENGTH(bl), en, st FROM e2e_types ORDER BY id",
		"SELECT 1, 1.5, 'x', NULL, 1e3, -0, 18446744073709551615, CAST(1 AS CHAR), _latin1 'z', x'41'",
		"SELECT COUNT(*), SUM(id), MAX(dt), GROUP_CONCAT(ch) FROM e2e_types",
		"SELECT c.customer_id, c.email, o.order_id FROM customer c LEFT JOIN corder o USING (customer_id) ORDER BY 1, 3 LIMIT 20",
		"SELECT * FROM e2e_types WHERE 1 = 0",
		"SELECT seq FROM seq_1_to_1000 WHERE seq % 7 = 0",
		"SHOW TABLES",
		"SHOW CREATE TABLE e2e_types",
		"SHOW COLUMNS FROM e2e_types",
		"SHOW VARIABLES LIKE 'version%'",
		"SELECT table_name, table_rows IS NOT NULL FROM information_schema.tables WHERE table_schema = DATABASE() ORDER BY 1",
		"EXPLAIN SELECT * FROM e2e_types WHERE id = 1",
		"SELECT @@version, @@sql_mode, @@autocommit, DATABASE(), @@character_set_results, @@collation_connection",
		"DO 1",
		"SELECT JSON_EXTRACT(js, '$.k[1]'), bt + 0, HEX(vb) FROM e2e_types ORDER BY id",
		"UPDATE e2e_types SET ti = ti WHERE id = 1",
		"SELECT * FROM no_such_table",
		"SELECT no_such_column FROM e2e_types",
		"SELEC 1",
	}
	for _, q := range queries {
		t.Run(q, func(t *testing.T) {
			want, wantErr := direct.Execute(q)
			got, gotErr := through.Execute(q)
			compareResults(t, want, wantErr, got, gotErr)
		})
	}

	t.Run("COM_FIELD_LIST", func(t *testing.T) {
		want, wantErr := direct.FieldList("e2e_types", "")
		got, gotErr := through.FieldList("e2e_types", "")
		if wantErr != nil || gotErr != nil {
			t.Fatalf("direct %v, gateway %v", wantErr, gotErr)
		}
		if w, g := fieldsOf(&gomysql.Result{Resultset: &gomysql.Resultset{Fields: want}}),
			fieldsOf(&gomysql.Result{Resultset: &gomysql.Resultset{Fields: got}}); !reflect.DeepEqual(w, g) || len(w) != 23 {
			t.Fatalf("field lists differ:\ndirect:  %+v\ngateway: %+v", w, g)
		}
		_, wantErr = direct.FieldList("no_such_table", "")
		_, gotErr = through.FieldList("no_such_table", "")
		if wantErr == nil || gotErr == nil || wantErr.Error() != gotErr.Error() {
			t.Fatalf("errors differ: direct %v, gateway %v", wantErr, gotErr)
		}
	})

	prepared := []struct {
		q    string
		args []any
	}{
		{"SELECT * FROM e2e_types WHERE id = ?", []any{1}},
		{"SELECT * FROM e2e_types WHERE id > ? ORDER BY id", []any{0}},
		{"SELECT ?, ?, ?, ?, ?", []any{int64(-7), "str", 2.5, nil, []byte{0, 1, 2}}},
		{"SELECT id, dt, ts, tm, da FROM e2e_types WHERE vc = ? OR id = ?", []any{"latïn", 2}},
		{"SELECT c.email FROM customer c WHERE c.customer_id IN (?, ?, ?)", []any{1, 2, 3}},
		{"SELECT * FROM e2e_types WHERE id = ?", []any{"not a number"}},
	}
	for _, p := range prepared {
		t.Run("prepared "+p.q, func(t *testing.T) {
			want, wantErr := executePrepared(direct, p.q, p.args)
			got, gotErr := executePrepared(through, p.q, p.args)
			compareResults(t, want, wantErr, got, gotErr)
		})
	}
}

func goMySQLConn(t *testing.T, addr, db string) *client.Conn {
	t.Helper()
	c, err := client.Connect(addr, "app", "app", db)
	if err != nil {
		t.Fatalf("connect %s: %v", addr, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func executePrepared(c *client.Conn, q string, args []any) (*gomysql.Result, error) {
	st, err := c.Prepare(q)
	if err != nil {
		return nil, err
	}
	defer st.Close()
	return st.Execute(args...)
}

// field is the part of a column definition a client sees (go-mysql's Field without its raw
// bytes and default value).
type field struct {
	Schema, Table, OrgTable, Name, OrgName string
	Charset                                uint16
	ColumnLength                           uint32
	Type                                   uint8
	Flag                                   uint16
	Decimal                                uint8
}

func fieldsOf(r *gomysql.Result) []field {
	if r == nil || r.Resultset == nil {
		return nil
	}
	out := make([]field, len(r.Fields))
	for i, f := range r.Fields {
		out[i] = field{string(f.Schema), string(f.Table), string(f.OrgTable), string(f.Name), string(f.OrgName),
			f.Charset, f.ColumnLength, f.Type, f.Flag, f.Decimal}
	}
	return out
}

func rowsOf(r *gomysql.Result) [][]string {
	if r == nil || r.Resultset == nil {
		return nil
	}
	out := make([][]string, r.RowNumber())
	for i := range out {
		row := make([]string, r.ColumnNumber())
		for j := range row {
			v, err := r.GetValue(i, j)
			if err != nil {
				row[j] = "ERR " + err.Error()
				continue
			}
			row[j] = fmt.Sprintf("%T:%v", v, v)
		}
		out[i] = row
	}
	return out
}

func compareResults(t *testing.T, want *gomysql.Result, wantErr error, got *gomysql.Result, gotErr error) {
	t.Helper()
	if (wantErr == nil) != (gotErr == nil) {
		t.Fatalf("direct error %v, through the gateway %v", wantErr, gotErr)
	}
	if wantErr != nil {
		if wantErr.Error() != gotErr.Error() {
			t.Fatalf("direct error %q, through the gateway %q", wantErr, gotErr)
		}
		return
	}
	if w, g := fieldsOf(want), fieldsOf(got); !reflect.DeepEqual(w, g) {
		t.Fatalf("column metadata differs:\ndirect:  %+v\ngateway: %+v", w, g)
	}
	if w, g := rowsOf(want), rowsOf(got); !reflect.DeepEqual(w, g) {
		t.Fatalf("rows differ:\ndirect:  %v\ngateway: %v", w, g)
	}
	if want.AffectedRows != got.AffectedRows || want.Warnings != got.Warnings {
		t.Fatalf("direct affected=%d warnings=%d, gateway affected=%d warnings=%d",
			want.AffectedRows, want.Warnings, got.AffectedRows, got.Warnings)
	}
}

package router

import (
	"testing"

	"github.com/vtdirect/vtdirect/classify"
)

func TestFilterInfoSchema(t *testing.T) {
	allowed := []string{"customer", "odd name"}
	d := func(table, col string) string {
		return "(SELECT * FROM `information_schema`.`" + table + "` WHERE `" + col + "` IN ('information_schema', 'customer', X'6f6464206e616d65'))"
	}
	for _, c := range []struct{ in, want string }{
		{"SELECT 1", "SELECT 1"},
		{"SELECT table_name FROM information_schema.tables", "SELECT table_name FROM " + d("tables", "TABLE_SCHEMA") + " AS `tables`"},
		{"select * from INFORMATION_SCHEMA . `COLUMNS` c where c.table_schema = ?",
			"select * from " + d("COLUMNS", "TABLE_SCHEMA") + " c where c.table_schema = ?"},
		{"SELECT * FROM `information_schema`.SCHEMATA AS s", "SELECT * FROM " + d("SCHEMATA", "SCHEMA_NAME") + " AS s"},
		{"SELECT * FROM information_schema/**/./*x*/ROUTINES WHERE 1",
			"SELECT * FROM " + d("ROUTINES", "ROUTINE_SCHEMA") + " AS `ROUTINES` WHERE 1"},
		{"SELECT (SELECT COUNT(*) FROM information_schema.TABLES), 2 FROM information_schema.VIEWS, information_schema.TRIGGERS t",
			"SELECT (SELECT COUNT(*) FROM " + d("TABLES", "TABLE_SCHEMA") + " AS `TABLES`), 2 FROM " + d("VIEWS", "TABLE_SCHEMA") +
				" AS `VIEWS`, " + d("TRIGGERS", "TRIGGER_SCHEMA") + " t"},
		{"SELECT /*!information_schema.TABLES.TABLE_NAME*/ 1", "SELECT /*!information_schema.TABLES.TABLE_NAME*/ 1"}, // a column
		{"SELECT * FROM /*!information_schema.TABLES*/", "SELECT * FROM /*!" + d("TABLES", "TABLE_SCHEMA") + " AS `TABLES`*/"},
		{"SELECT * FROM information_schema.PROCESSLIST", "SELECT * FROM information_schema.PROCESSLIST"}, // no database column
		{"SELECT 'information_schema.TABLES'", "SELECT 'information_schema.TABLES'"},
		{"SHOW COLUMNS FROM information_schema.TABLES", "SHOW COLUMNS FROM information_schema.TABLES"},
		{"DESCRIBE information_schema.TABLES", "DESCRIBE information_schema.TABLES"},
		{"SELECT 1; SELECT * FROM information_schema.TABLES LIMIT 1",
			"SELECT 1; SELECT * FROM " + d("TABLES", "TABLE_SCHEMA") + " AS `TABLES` LIMIT 1"},
		{"SELECT * FROM information_schema.tables JOIN information_schema.columns USING (table_name)",
			"SELECT * FROM " + d("tables", "TABLE_SCHEMA") + " AS `tables` JOIN " + d("columns", "TABLE_SCHEMA") + " AS `columns` USING (table_name)"},
	} {
		got, err := filterInfoSchema([]byte(c.in), classify.Options{}, allowed, false)
		if err != nil {
			t.Errorf("%q: %v", c.in, err)
			continue
		}
		if string(got) != c.want {
			t.Errorf("%q:\n got %s\nwant %s", c.in, got, c.want)
		}
	}
	for _, q := range []string{
		"PREPARE s FROM 'SELECT * FROM information_schema.TABLES'",
		"EXECUTE IMMEDIATE 'SELECT * FROM INFORMATION_SCHEMA.COLUMNS'",
		"SELECT * FROM information_schema.TABLES WHERE x = 'unterminated",
	} {
		if _, err := filterInfoSchema([]byte(q), classify.Options{}, allowed, false); err == nil {
			t.Errorf("%q: no error", q)
		}
	}
}

func TestMentionsInfoSchema(t *testing.T) {
	for q, want := range map[string]bool{
		"select 1": false, "information_schema": true, "x INFORMATION_SCHEMA.t": true, "Information_Schem": false,
		"informationXschema": false, "iiinformation_schema": true,
	} {
		if got := mentionsInfoSchema([]byte(q)); got != want {
			t.Errorf("%q: %v", q, got)
		}
	}
}

func TestFilterShow(t *testing.T) {
	allowed := []string{"customer", "odd name"}
	in := " IN ('customer', X'6f6464206e616d65')"
	for _, c := range []struct{ in, want string }{
		{"SHOW TABLES", "SHOW TABLES"},
		{"SHOW DATABASES", "SHOW DATABASES"}, // the gateway answers it
		{"SHOW PROCEDURE STATUS", "SHOW PROCEDURE STATUS WHERE `Db`" + in},
		{"show function status -- c", "show function status WHERE `Db`" + in},
		{"SHOW PACKAGE BODY STATUS LIKE 'a%'", "SHOW PACKAGE BODY STATUS WHERE `Name` LIKE 'a%' AND `Db`" + in},
		{"SHOW PROCEDURE STATUS WHERE Db = ? -- c", "SHOW PROCEDURE STATUS WHERE ( Db = ? -- c\n) AND `Db`" + in},
		{"SHOW OPEN TABLES", "SHOW OPEN TABLES WHERE `Database`" + in},
		{"SHOW OPEN TABLES FROM customer", "SHOW OPEN TABLES FROM customer"}, // the access rules check it
		{"SHOW OPEN TABLES LIKE 't%'", "SHOW OPEN TABLES WHERE `Table` LIKE 't%' AND `Database`" + in},
		{"SHOW SCHEMAS LIKE 'c%'", "SHOW SCHEMAS WHERE `Database` LIKE 'c%' AND `Database` IN ('information_schema', 'customer', X'6f6464206e616d65')"},
		{"SELECT 1; SHOW FUNCTION STATUS; SELECT 2", "SELECT 1; SHOW FUNCTION STATUS WHERE `Db`" + in + "; SELECT 2"},
		{"SELECT 'SHOW PROCEDURE STATUS'", "SELECT 'SHOW PROCEDURE STATUS'"},
		{"SET STATEMENT max_statement_time = 1 FOR SHOW PROCEDURE STATUS", "SET STATEMENT max_statement_time = 1 FOR SHOW PROCEDURE STATUS WHERE `Db`" + in},
		{"SET STATEMENT max_statement_time = 1 FOR SHOW DATABASES",
			"SET STATEMENT max_statement_time = 1 FOR SHOW DATABASES WHERE `Database` IN ('information_schema', 'customer', X'6f6464206e616d65')"},
		{"SET STATEMENT max_statement_time = 1 FOR SHOW DATABASES LIKE 'c%'",
			"SET STATEMENT max_statement_time = 1 FOR SHOW DATABASES WHERE `Database` LIKE 'c%' AND `Database` IN ('information_schema', 'customer', X'6f6464206e616d65')"},
	} {
		got, err := filterInfoSchema([]byte(c.in), classify.Options{}, allowed, false)
		if err != nil {
			t.Errorf("%q: %v", c.in, err)
			continue
		}
		if string(got) != c.want {
			t.Errorf("%q:\n got %q\nwant %q", c.in, got, c.want)
		}
	}
	for _, q := range []string{
		"SHOW PROCEDURE STATUS /*!99999 WHERE 1 = 0 */", "SHOW PROCEDURE STATUS WHERE 1) OR (1", "SHOW PROCEDURE STATUS LIKE 'a' 'b'",
		"PREPARE s FROM 'SHOW PROCEDURE STATUS'", "EXECUTE IMMEDIATE 'show open tables'", "BEGIN NOT ATOMIC SHOW FUNCTION STATUS; END",
	} {
		if _, err := filterInfoSchema([]byte(q), classify.Options{}, allowed, false); err == nil {
			t.Errorf("%q: no error", q)
		}
	}
	if got, _ := filterInfoSchema([]byte("SHOW PROCEDURE STATUS"), classify.Options{}, nil, false); string(got) != "SHOW PROCEDURE STATUS WHERE `Db` IN (NULL)" {
		t.Errorf("no database: %q", got)
	}
	if got, _ := filterInfoSchema([]byte("SHOW DATABASES"), classify.Options{}, allowed, true); string(got) != "SHOW DATABASES WHERE `Database` IN ('information_schema', 'customer', X'6f6464206e616d65')" {
		t.Errorf("prepared SHOW DATABASES: %q", got) // the gateway answers only the text protocol's
	}
}

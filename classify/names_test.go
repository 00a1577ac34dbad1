package classify

import (
	"slices"
	"testing"
)

func TestQualifiers(t *testing.T) {
	tests := []struct {
		q    string
		opt  Options
		want []string
	}{
		{"select * from t", Options{}, nil},
		{"select * from other.t", Options{}, []string{"other"}},
		{"select c.id from customer c", Options{}, []string{"c"}},
		{"select other.t.col from other.t", Options{}, []string{"other", "t", "other"}},
		{"select * from `my db`.`t`", Options{}, []string{"my db"}},
		{"select * from `a``b`.t", Options{}, []string{"a`b"}},
		{`select * from "o".t`, Options{AnsiQuotes: true}, []string{"o"}},
		{`select * from "o".t`, Options{}, nil}, // a string, then .t: MariaDB refuses it
		{"select other . t from x", Options{}, []string{"other"}},
		{"select other.f(1)", Options{}, []string{"other"}},
		{"select 1 /*! , (select 1 from o.t) */", Options{}, []string{"o"}},
		{"select 1 /*M!100000 , (select 1 from o.t) */", Options{}, []string{"o"}},
		{"select 1 /* from o.t */ -- o2.t", Options{}, nil},
		{"select 'o.t', 1.5, @a, @@session.sql_mode", Options{}, nil},
		{"select t.* from t", Options{}, []string{"t"}},
		// MariaDB ends a number at its exponent: 1e1JOIN is 1e1 JOIN, and the table after it is
		// another database's; after a dot, t.1e1x is one name
		{"select 1 from t join u on 1e1JOIN(o.v)", Options{}, []string{"o"}},
		{"select t.1e1x from t", Options{}, []string{"t"}},
		// under ANSI_QUOTES @"..." is a quoted name, with no backslash escapes: the subquery is code
		{`select @"a\", (select count(*) from o.t) -- "`, Options{AnsiQuotes: true}, []string{"o"}},
		{`select @"a\", (select count(*) from o.t) -- "`, Options{}, nil}, // one string, as MariaDB reads it then
	}
	for _, tt := range tests {
		got := slices.Collect(Qualifiers([]byte(tt.q), tt.opt))
		if !slices.Equal(got, tt.want) {
			t.Errorf("Qualifiers(%q) = %q, want %q", tt.q, got, tt.want)
		}
	}
}

func TestCurrentDatabaseOnly(t *testing.T) {
	tests := []struct {
		q    string
		want bool
	}{
		{"select * from t where id = 1", true},
		{"select count(*), now() from t", true},
		{"insert into t values (1, 'a')", true},
		{"insert into t (a, b) select a, b from u", true},
		{"update t set v = v + 1 where id in (select id from u)", true},
		{"delete from t where id = 2", true},
		{"replace into t values (1)", true},
		{"select f(1)", true}, // a stored function of the current database
		{"select * from information_schema.tables", true},
		{"select 1; select 2", true},
		{"select @x := 1", true},                  // the session's own
		{"insert into other.t values (1)", false}, // another database
		{"insert into t select * from `o`.t", false},
		{"select t.id from t", false}, // a table or a database: not told apart
		{"select other.f()", false},
		{"select get_lock('x', 0)", false},
		{"select release_lock('x')", false},
		{"select nextval(s)", false},
		{"select * from t into outfile '/tmp/x'", false},
		{"select * from t into dumpfile '/tmp/x'", false},
		{"select 1e1INTO OUTFILE '/tmp/x'", false},                  // 1e1 INTO OUTFILE, as MariaDB reads it
		{"insert into information_\u017fchema.u values (2)", false}, // not information_schema to MariaDB
		{"insert into t values (next value for s)", false},
		{"update t set v = (select get_lock('x', 0))", false},
		{"select 1 /*! , (select 1 from o.t) */", false},
		{"set statement max_statement_time = 1 for select * from t", true},
		{"select * from t for update", true},
		{"do 1", false},
		{"call p()", false},
		{"set global max_connections = 10", false},
		{"set @x = 1", false},
		{"begin not atomic select 1; end", false},
		{"create table t2 (id int)", false},
		{"xa start 'x'", false},
		{"execute immediate 'select 1'", false},
		{"select 1; insert into o.t values (1)", false},
		{"select * from mysql.user", false},
		{"", false},
	}
	for _, tt := range tests {
		q := []byte(tt.q)
		cq := Analyze(q, Options{})
		if got := CurrentDatabaseOnly(q, &cq, Options{}); got != tt.want {
			t.Errorf("CurrentDatabaseOnly(%q) = %v, want %v (kinds %s, flags %s)", tt.q, got, tt.want, cq.Kinds, cq.Flags)
		}
	}
}

func TestCode(t *testing.T) {
	tests := []struct{ q, want string }{
		{"select  1", "select 1"},
		{"select /* c */ a -- x\n from t", "select a from t"},
		{"select 1 /*M!100000 , b */ from t", "select 1 , b from t"},
		{"select 1 /*!50700 , b */", "select 1 , b"},
		{"select 'a /* b */' from `t`", "select 'a /* b */' from `t`"},
		{"select a.b from c", "select a . b from c"},
	}
	for _, tt := range tests {
		got, ok := Code([]byte(tt.q), Options{})
		if !ok || string(got) != tt.want {
			t.Errorf("Code(%q) = %q, %v; want %q", tt.q, got, ok, tt.want)
		}
	}
	if _, ok := Code([]byte("select 'a"), Options{}); ok {
		t.Error("Code of an unterminated string: ok")
	}
}

func TestShowDatabase(t *testing.T) {
	tests := []struct{ q, want string }{
		{"show tables", ""},
		{"show tables from other", "other"},
		{"SHOW FULL TABLES IN `o t` LIKE 'x%'", "o t"},
		{"show table status from other", "other"},
		{"show open tables in other", "other"},
		{"show triggers from other", "other"},
		{"show events in other", "other"},
		{"show columns from t", ""},
		{"show columns from t from other", "other"},
		{"show full fields in t in other", "other"},
		{"show index from t from other", "other"},
		{"show extended keys from t in other", "other"},
		{"show columns from other.t", ""}, // a qualifier
		{"show create database other", "other"},
		{"show create schema if not exists other", "other"},
		{"show create table other.t", ""},
		{"show binlog events in 'log' from 4", ""},
		{"show status like 'x'", ""},
	}
	for _, tt := range tests {
		st := Analyze([]byte(tt.q), Options{}).First
		if st.Kind != KindShow || st.Show.Database != tt.want {
			t.Errorf("Analyze(%q) = %s, database %q; want %q", tt.q, st.Kind, st.Show.Database, tt.want)
		}
	}
	if st := Analyze([]byte("show tables from mysql"), Options{}).First; !st.Flags.Has(ServerInternals) {
		t.Errorf("show tables from mysql: flags %s", st.Flags)
	}
}

func TestDatabaseDDL(t *testing.T) {
	tests := []struct{ q, want string }{
		{"create database other", "other"},
		{"CREATE SCHEMA IF NOT EXISTS `o`", "o"},
		{"create or replace database other", "other"},
		{"drop database if exists other", "other"},
		{"alter database other character set utf8mb4", "other"},
		{"alter database character set utf8mb4", ""},
		{"alter database default collate utf8mb4_bin", ""},
		{"drop database sys", "sys"},
		{"create table t (a int)", ""},
	}
	for _, tt := range tests {
		st := Analyze([]byte(tt.q), Options{}).First
		if st.Kind != KindDDL || st.Name != tt.want {
			t.Errorf("Analyze(%q) = %s name %q, want ddl name %q", tt.q, st.Kind, st.Name, tt.want)
		}
	}
}

func TestPrepareCarriesInnerAdmin(t *testing.T) {
	tests := []struct {
		q    string
		want Flags
	}{
		{"prepare s from 'shutdown'", Admin},
		{"prepare s from 'kill 5'", Kills},
		{"prepare s from 'kill user u'", Kills | Admin},
		{"prepare s from 'select * from information_schema.processlist'", ServerInternals},
		{"prepare s from 'select 1 into outfile ''/tmp/x'''", Admin},
		{"prepare s from 'select 1'", 0},
	}
	for _, tt := range tests {
		st := Analyze([]byte(tt.q), Options{}).First
		if st.Kind != KindPrepare || st.Flags&(Admin|Kills|ServerInternals) != tt.want {
			t.Errorf("Analyze(%q) = %s flags %s, want %s", tt.q, st.Kind, st.Flags, tt.want)
		}
	}
}

// TestTokensAfterExponent: a number ends at its exponent's last digit, as in MariaDB's lexer.
func TestTokensAfterExponent(t *testing.T) {
	for q, want := range map[string][]TokenKind{
		"1e1JOIN":  {TokNumber, TokWord},
		"1E+1from": {TokNumber, TokWord},
		"1.5e-3x":  {TokNumber, TokWord},
		"1e1":      {TokNumber},
		"1ex":      {TokWord}, // no exponent digits: a name
		"t.1e1x":   {TokWord, TokDot, TokWord},
	} {
		var got []TokenKind
		tz := NewTokenizer([]byte(q), Options{})
		for tok := tz.Next(); tok.Kind != TokEOF && tok.Kind != TokError; tok = tz.Next() {
			got = append(got, tok.Kind)
		}
		if !slices.Equal(got, want) {
			t.Errorf("%q: tokens %v, want %v", q, got, want)
		}
	}
}

// TestStatementsUnderAnsiQuotes: @"..." hides no second statement under ANSI_QUOTES.
func TestStatementsUnderAnsiQuotes(t *testing.T) {
	q := []byte(`SELECT @"a\"; INSERT INTO other.u VALUES (77) -- "`)
	if got := Analyze(q, Options{AnsiQuotes: true}).Count; got != 2 {
		t.Errorf("under ANSI_QUOTES: %d statements, want 2", got)
	}
	if got := Analyze(q, Options{}).Count; got != 1 {
		t.Errorf("without ANSI_QUOTES: %d statements, want 1 (one string)", got)
	}
}

func TestIsInformationSchema(t *testing.T) {
	for name, want := range map[string]bool{"information_schema": true, "INFORMATION_SCHEMA": true, "Information_Schema": true,
		"information_\u017fchema": false, "information_schem": false, "information_schema_": false} {
		if got := IsInformationSchema(name); got != want {
			t.Errorf("IsInformationSchema(%q) = %v", name, got)
		}
	}
}

package classify

import (
	"strings"
	"testing"
)

// lastStatement returns the last statement of q.
func lastStatement(q string, opt Options) Statement {
	var last Statement
	for st := range Statements([]byte(q), opt) {
		last = st
	}
	return last
}

// After a SET of sql_mode or of the client character set, the statements after it are read
// with the options MariaDB reads them with, or cannot be judged (KindUnknown with Admin) when
// the splitter cannot know them.
func TestReadingAfterSet(t *testing.T) {
	ansi := Options{AnsiQuotes: true}
	tests := []struct {
		q    string
		want Options // the last statement's options, when it can be judged
		bad  bool    // the last statement cannot be judged
	}{
		{"SET sql_mode='ANSI_QUOTES'; SELECT 1", ansi, false},
		{"SET sql_mode=4; SELECT 1", ansi, false},
		{"SET sql_mode=1048576; SELECT 1", Options{NoBackslashEscapes: true}, false},
		{"SET sql_mode=262144; SELECT 1", ansi, false},                                                 // ANSI
		{"SET sql_mode=1048832; SELECT 1", Options{AnsiQuotes: true, NoBackslashEscapes: true}, false}, // POSTGRESQL | NO_BACKSLASH_ESCAPES
		{"SET sql_mode=0; SELECT 1", Options{}, false},
		{"SET sql_mode=''; SELECT 1", Options{}, false},
		{"SET sql_mode='ANSI_QUOTES,'; SELECT 1", ansi, false},
		{"SET @@session.sql_mode = ansi_quotes; SELECT 1", ansi, false},
		{"SET GLOBAL sql_mode=CONCAT('a', 'b'); SELECT 1", Options{}, false}, // another scope
		{"SET NAMES gbk; SELECT 1", Options{Charset: CharsetGBK}, false},
		{"SET character_set_client = 'big5'; SELECT 1", Options{Charset: CharsetBig5}, false},
		{"SET CHARACTER SET sjis; SELECT 1", Options{Charset: CharsetSJIS}, false},
		{"SET @x = 1; SET sql_mode = 'TRADITIONAL'; SELECT 1", Options{}, false},
		{"prepare s from 'select 1'; execute s; select 1", Options{}, false},
		{"SET sql_mode='ORACLE'; SELECT 1", Options{AnsiQuotes: true, Oracle: true}, false}, // a plain statement: see oracle_test.go
		{"SET sql_mode=512; SELECT 1", Options{AnsiQuotes: true, Oracle: true}, false},
		{"SET sql_mode=ORACLE; BEGIN WORK", Options{}, true},

		{"SET sql_mode=CONCAT('ANSI_QUOTES',''); SELECT 1", Options{}, true},
		{"SET sql_mode=@m; SELECT 1", Options{}, true},
		{"SET sql_mode=DEFAULT; SELECT 1", Options{}, true},
		{"SET sql_mode=NULL; SELECT 1", Options{}, true},
		{"SET sql_mode='ANSI_QUOTES,NO_SUCH_MODE'; SELECT 1", Options{}, true},
		{"SET sql_mode=' ANSI_QUOTES'; SELECT 1", Options{}, true},
		{"SET sql_mode=34359738368; SELECT 1", Options{}, true}, // 1<<35: no such bit
		{"SET character_set_client=28; SELECT 1", Options{}, true},
		{"SET character_set_client=CONCAT('gb','k'); SELECT 1", Options{}, true},
		{"SET NAMES DEFAULT; SELECT 1", Options{}, true},
		{"SET CHARACTER SET DEFAULT; SELECT 1", Options{}, true},
		{"SET NAMES 'nosuchcs'; SELECT 1", Options{}, true},
		{"SET @x=1 /*!50700 , sql_mode='ANSI_QUOTES' */; SELECT 1", Options{}, true},
		{"SET @x=1 /*M!100000 , character_set_client='gbk' */; SELECT 1", Options{}, true},
		{"SET sql_mode=4; SET sql_mode=@m; SET sql_mode=''; SELECT 1", Options{}, true}, // stays to the end
		{"SET sql_mode 4; SELECT 1", Options{}, true},                                   // a SET it cannot read
		{"EXECUTE IMMEDIATE 'SET sql_mode=4'; SELECT 1", Options{}, true},
		{"EXECUTE s; SELECT 1", Options{}, true},
		{"prepare s from 'set sql_mode=4'; execute s; select 1", Options{}, true},
		{"prepare s from 'select 1'; prepare s from @v; execute s; select 1", Options{}, true},
		{"BEGIN NOT ATOMIC SET NAMES gbk; END; SELECT 1", Options{}, true},
		{"BEGIN NOT ATOMIC EXECUTE IMMEDIATE 'SET NAMES gbk'; END; SELECT 1", Options{}, true},
		{"SET STATEMENT sql_mode='' FOR SET sql_mode='ANSI_QUOTES'; SELECT 1", Options{}, true},
	}
	for _, tt := range tests {
		st := lastStatement(tt.q, Options{})
		bad := st.Kind == KindUnknown && st.Flags&Admin != 0
		switch {
		case bad != tt.bad:
			t.Errorf("%q: last statement %s %s (%s), cannot be judged: %v, want %v", tt.q, st.Kind, st.Flags, st.Reason, bad, tt.bad)
		case !tt.bad && st.Options != tt.want:
			t.Errorf("%q: last statement read with %+v, want %+v", tt.q, st.Options, tt.want)
		}
	}
}

// The reviewer's multi-statement bypasses: the statement MariaDB runs after the SET reads
// mysql.user, which the classifier sees, or cannot judge.
func TestReadingBypasses(t *testing.T) {
	for _, q := range []string{
		`SET sql_mode=1048576; SELECT 'a\'; SELECT user,password FROM mysql.user; -- '`,
		`SET sql_mode=4; SELECT * FROM "mysql".user`,
		`SET sql_mode=CONCAT('ANSI_QUOTES',''); SELECT "x\" , 1 -- " , (SELECT password FROM mysql.user)`,
		"SET character_set_client=28; SELECT '\xbf\\'; SELECT user,password FROM mysql.user; -- '",
		"SET NAMES gbk; SELECT '\xbf\\'; SELECT user,password FROM mysql.user; -- '",
		`SET @x=1 /*!50700 , sql_mode='ANSI_QUOTES' */; SELECT "x\" , 1 -- " , (SELECT password FROM mysql.user)`,
	} {
		res := Analyze([]byte(q), Options{})
		if res.Flags&(Admin|ServerInternals) == 0 {
			t.Errorf("%q: flags %s: the read of mysql.user is not seen", q, res.Flags)
		}
	}
}

// The text of PREPARE and EXECUTE IMMEDIATE is read under the options of the SET STATEMENT
// around it, or cannot be judged when they are not literals the classifier understands.
func TestDynamicTextOptions(t *testing.T) {
	tests := []struct {
		q    string
		want Flags // of the query, besides sql_prepare
	}{
		{`SET STATEMENT sql_mode='ANSI_QUOTES' FOR EXECUTE IMMEDIATE 'SELECT password FROM "mysql".user WHERE user=''vt_dba'''`, ServerInternals},
		{`SET STATEMENT sql_mode=4 FOR PREPARE s FROM 'SELECT password FROM "mysql".user'`, ServerInternals},
		{`SET STATEMENT sql_mode='NO_BACKSLASH_ESCAPES' FOR PREPARE s FROM 'select ''\\'' , (select password from mysql.user) -- '''`, ServerInternals},
		{`SET STATEMENT max_statement_time=1, sql_mode='NO_BACKSLASH_ESCAPES' FOR EXECUTE IMMEDIATE 'select ''\\'' , 1 -- '''`, 0},
		{`SET STATEMENT sql_mode='' FOR EXECUTE IMMEDIATE 'SELECT "mysql".user'`, 0},
		{`SET STATEMENT sql_mode=CONCAT('ANSI','_QUOTES') FOR EXECUTE IMMEDIATE 'SELECT 1'`, Admin},
		{`SET STATEMENT sql_mode=DEFAULT FOR PREPARE s FROM 'SELECT 1'`, Admin},
		{`SET STATEMENT character_set_client=28 FOR EXECUTE IMMEDIATE 'SELECT 1'`, Admin},
		{`SET STATEMENT max_statement_time=1 FOR SET STATEMENT sql_mode=ORACLE FOR EXECUTE IMMEDIATE 'SELECT 1'`, 0},
		{`SET STATEMENT sql_mode=ORACLE FOR EXECUTE IMMEDIATE 'BEGIN SELECT 1; END'`, Admin},
		{`SET STATEMENT sql_mode=ORACLE FOR PREPARE s FROM 'SELECT s.nextval'`, Admin},
		{`EXECUTE IMMEDIATE 'SELECT 1' /*!50700 'x' */`, Admin},
		{`BEGIN NOT ATOMIC SET sql_mode='ANSI_QUOTES'; EXECUTE IMMEDIATE 'SELECT 1'; END`, Admin | Compound},
		{`BEGIN NOT ATOMIC SET NAMES gbk; PREPARE s FROM 'SELECT 1'; END`, Admin | Compound},
		{`BEGIN NOT ATOMIC EXECUTE IMMEDIATE 'SELECT 1'; END`, Compound},
	}
	for _, tt := range tests {
		res := Analyze([]byte(tt.q), Options{})
		if got := res.Flags &^ SQLPrepare; got != tt.want {
			t.Errorf("%q: flags %s (%s), want %s", tt.q, got, res.Reason, tt.want)
		}
	}
	st := Analyze([]byte(`SET STATEMENT sql_mode='ANSI_QUOTES' FOR PREPARE s FROM 'SELECT 1'`), Options{}).First
	if st.TextOptions != (Options{AnsiQuotes: true}) || st.Options != (Options{}) {
		t.Errorf("TextOptions %+v, Options %+v", st.TextOptions, st.Options)
	}
}

// CREATE PACKAGE [BODY] (sql_mode ORACLE) is stored code; it and the anonymous blocks of
// sql_mode ORACLE run to the end of the query, which cannot be judged.
func TestOracleStatements(t *testing.T) {
	for _, q := range []string{
		"CREATE PACKAGE BODY pk1 AS PROCEDURE p1 AS BEGIN EXECUTE IMMEDIATE 'x'; END; END; CALL pk1.p1",
		"create or replace definer=current_user package pk1 as procedure p1; end; select 1",
		"BEGIN SET GLOBAL read_only = 0; END; SELECT 1",
		"DECLARE a INT; BEGIN SET GLOBAL read_only = 0; END; SELECT 1",
	} {
		res := Analyze([]byte(q), Options{})
		if res.Count != 1 || res.Flags&Admin == 0 || res.First.End != len(q) {
			t.Errorf("%q: %d statements, flags %s, first ends at %d", q, res.Count, res.Flags, res.First.End)
		}
	}
	for _, q := range []string{"DROP PACKAGE pk1", "drop package body if exists pk1"} {
		if st := Analyze([]byte(q), Options{}).First; st.Kind != KindDDL || st.Flags&Admin == 0 || !strings.Contains(st.Reason, "PACKAGE") {
			t.Errorf("%q: %s %s %q", q, st.Kind, st.Flags, st.Reason)
		}
	}
	// BEGIN and BEGIN WORK still start a transaction.
	for _, q := range []string{"BEGIN", "begin work", "BEGIN; SELECT 1"} {
		if st := Analyze([]byte(q), Options{}).First; st.Kind != KindBegin {
			t.Errorf("%q: %s", q, st.Kind)
		}
	}
}

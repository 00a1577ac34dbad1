package classify_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/vtdirect/vtdirect/classify"
	"github.com/vtdirect/vtdirect/local"
)

// These hold the classifier to how MariaDB 10.11 reads the text of the bypasses of issue
// 13's rules a security review found (run by TestAgainstMariaDB).

// testSQLModeBits: MariaDB's sql_mode bits are the names the classifier decodes numbers
// with, in order, and a number sets the status flags the classifier reads it as.
func testSQLModeBits(t *testing.T, m *local.MariaDB) {
	c := connect(t, m, m.User(), m.Password(), false)
	r := mustExec(t, c, "SELECT LOWER(ENUM_VALUE_LIST) FROM information_schema.SYSTEM_VARIABLES WHERE VARIABLE_NAME = 'SQL_MODE'")
	if got, want := str(r.Values[0][0].Value()), strings.Join(classify.SQLModeNames, ","); got != want {
		t.Errorf("MariaDB's sql_mode names:\n  %s\nthe classifier's:\n  %s", got, want)
	}
	for _, mode := range []string{"4", "1048576", "262144", "256", "1024", "2048", "4096", "1048832", "2097152", "0"} {
		q := "SET sql_mode = " + mode
		r := mustExec(t, c, q)
		fromServer := classify.OptionsFromStatus(classify.Options{}, r.Status)
		fromText := lastStatementOf(q + "; SELECT 1").Options
		if fromServer != fromText {
			t.Errorf("%s: status %#x says %+v, the classifier reads %+v", q, r.Status, fromServer, fromText)
		}
	}
	mustExec(t, c, "SET sql_mode = DEFAULT")
	// A number for character_set_client is a collation id (28: gbk_chinese_ci): the
	// classifier does not decode it.
	mustExec(t, c, "SET character_set_client = 28")
	if r := mustExec(t, c, "SELECT @@character_set_client"); str(r.Values[0][0].Value()) != "gbk" {
		t.Errorf("character_set_client = 28 is %v", r.Values[0][0].Value())
	}
	mustExec(t, c, "SET NAMES utf8mb4")
	if st := lastStatementOf("SET character_set_client = 28; SELECT 1"); st.Kind != classify.KindUnknown || st.Flags&classify.Admin == 0 {
		t.Errorf("after character_set_client = 28: %s %s, want unknown with admin", st.Kind, st.Flags)
	}
}

// testReadingChanges: statements after which MariaDB reads the rest of a query differently:
// the classifier follows them or does not judge the rest. A SET in a versioned comment
// MariaDB skips does not run (one below 50700 does); a compound statement's SET NAMES stays
// after it (its SET sql_mode does not); an EXECUTE [IMMEDIATE] of a SET runs it; a
// procedure's SET NAMES does not stay.
func testReadingChanges(t *testing.T, m *local.MariaDB) {
	c := connect(t, m, m.User(), m.Password(), true)
	resetSchema(t, c)
	tests := []struct {
		q, check, want string
		changed        bool // MariaDB reads the rest of the query differently
	}{
		{"SET @x = 1 /*!50700 , sql_mode = 'ANSI_QUOTES' */", "SELECT @@sql_mode LIKE '%ANSI_QUOTES%'", "0", false},
		{"SET @x = 1 /*!50699 , sql_mode = 'ANSI_QUOTES' */", "SELECT @@sql_mode LIKE '%ANSI_QUOTES%'", "1", true},
		{"BEGIN NOT ATOMIC SET NAMES gbk; END", "SELECT @@character_set_client", "gbk", true},
		{"BEGIN NOT ATOMIC SET sql_mode = 'ANSI_QUOTES'; END", "SELECT @@sql_mode LIKE '%ANSI_QUOTES%'", "0", false},
		{"EXECUTE IMMEDIATE 'SET sql_mode = 4'", "SELECT @@sql_mode", "ANSI_QUOTES", true},
		{"PREPARE s FROM 'SET NAMES big5'; EXECUTE s", "SELECT @@character_set_client", "big5", true},
		{"CREATE OR REPLACE PROCEDURE p() SET NAMES gbk; CALL p()", "SELECT @@character_set_client", "utf8mb4", false},
	}
	for _, tt := range tests {
		mustExec(t, c, "SET sql_mode = DEFAULT")
		mustExec(t, c, "SET NAMES utf8mb4")
		if out := results(t, c, tt.q); len(out) == 0 || strings.HasPrefix(out[len(out)-1], "ERR") {
			t.Fatalf("%s: %q", tt.q, out)
		}
		r := mustExec(t, c, tt.check)
		if got := str(r.Values[0][0].Value()); got != tt.want {
			t.Errorf("%s; %s: MariaDB says %s, the test expects %s", tt.q, tt.check, got, tt.want)
		}
		st := lastStatementOf(tt.q + "; SELECT 1")
		judged := !(st.Kind == classify.KindUnknown && st.Flags&classify.Admin != 0)
		if tt.changed && judged && st.Options == (classify.Options{}) {
			t.Errorf("%s: the next statement is judged with %+v, but MariaDB reads it otherwise", tt.q, st.Options)
		}
	}
	mustExec(t, c, "SET sql_mode = DEFAULT")
	mustExec(t, c, "SET NAMES utf8mb4")
}

func lastStatementOf(q string) classify.Statement {
	var last classify.Statement
	for st := range classify.Statements([]byte(q), classify.Options{}) {
		last = st
	}
	return last
}

// commas counts the ',' tokens of q read with opt.
func commas(q string, opt classify.Options) int {
	tz := classify.NewTokenizer([]byte(q), opt)
	n := 0
	for {
		switch tk := tz.Next(); tk.Kind {
		case classify.TokEOF, classify.TokError:
			return n
		case classify.TokComma:
			n++
		}
	}
}

// testDynamicText: MariaDB reads the text of EXECUTE IMMEDIATE and PREPARE under the
// sql_mode of the SET STATEMENT around it, as Statement.TextOptions say: the classifier
// reading the text with them sees the columns MariaDB returns.
func testDynamicText(t *testing.T, m *local.MariaDB) {
	c := connect(t, m, m.User(), m.Password(), false)
	resetSchema(t, c)
	for _, tt := range []struct {
		q, run string
		cols   int
	}{
		{`SET STATEMENT sql_mode='ANSI_QUOTES' FOR EXECUTE IMMEDIATE 'SELECT a, b FROM "cls"."t" WHERE a = 1'`, "", 2},
		{`SET STATEMENT sql_mode=4 FOR EXECUTE IMMEDIATE 'SELECT "a" FROM t WHERE a = 1'`, "", 1},
		{`SET STATEMENT sql_mode='NO_BACKSLASH_ESCAPES' FOR PREPARE s FROM 'select ''\\'' , 2 -- '''`, "EXECUTE s", 2},
		{`PREPARE s FROM 'select ''\\'' , 2 -- '''`, "EXECUTE s", 1},
	} {
		r := mustExec(t, c, tt.q)
		if tt.run != "" {
			r = mustExec(t, c, tt.run)
		}
		if len(r.Fields) != tt.cols {
			t.Fatalf("%s: MariaDB returned %d columns, the test expects %d", tt.q, len(r.Fields), tt.cols)
		}
		st := classify.Analyze([]byte(tt.q), classify.Options{}).First
		if st.Text == "" {
			t.Fatalf("%s: no text (%s %s)", tt.q, st.Kind, st.Reason)
		}
		if got := commas(st.Text, st.TextOptions) + 1; got != tt.cols {
			t.Errorf("%s: the classifier reads %q with %+v as %d columns, MariaDB returned %d", tt.q, st.Text, st.TextOptions, got, tt.cols)
		}
	}
}

// testXA: MariaDB takes several spellings of one xid; the classifier's Xid compares them
// equal, and tells apart the xids MariaDB tells apart.
func testXA(t *testing.T, m *local.MariaDB) {
	c := connect(t, m, m.User(), m.Password(), false)
	var first classify.Xid
	for i, q := range []string{"XA START x'61', 'b', 0x10", `XA END 'a', "b", 16`, "XA PREPARE 0x61, b'01100010', 16", "XA ROLLBACK 'a', 'b', 16"} {
		mustExec(t, c, q)
		st := classify.Analyze([]byte(q), classify.Options{}).First
		if st.XA == nil || !st.XA.HasXid {
			t.Fatalf("%s: no xid", q)
		}
		if i == 0 {
			first = st.XA.Xid
		} else if st.XA.Xid != first {
			t.Errorf("%s: xid %+v, MariaDB took it for %+v", q, st.XA.Xid, first)
		}
	}
	mustExec(t, c, "XA START 'a'")
	if _, err := c.Execute("XA END 'a', 'b'"); err == nil {
		t.Errorf("MariaDB ended XA START 'a' with XA END 'a', 'b'")
	}
	mustExec(t, c, "XA END 'a', '', 1")
	mustExec(t, c, "XA ROLLBACK 'a'")
	xid := func(q string) classify.Xid { return classify.Analyze([]byte(q), classify.Options{}).First.XA.Xid }
	if xid("XA END 'a'") == xid("XA END 'a', 'b'") || xid("XA END 'a'") != xid("XA END 'a', '', 1") {
		t.Errorf("xids: 'a' %+v, 'a','b' %+v, 'a','',1 %+v", xid("XA END 'a'"), xid("XA END 'a', 'b'"), xid("XA END 'a', '', 1"))
	}
}

// testOracle: under sql_mode ORACLE, MariaDB runs BEGIN stmt; END and DECLARE ... BEGIN ...
// END as anonymous blocks and takes CREATE PACKAGE [BODY]: the classifier cannot judge them,
// with or without Options.Oracle (which the router sets from the session's tracked sql_mode:
// the status flags do not tell ORACLE from ANSI_QUOTES).
func testOracle(t *testing.T, m *local.MariaDB) {
	c := connect(t, m, m.User(), m.Password(), false)
	resetSchema(t, c)
	mustExec(t, c, "SET sql_mode = ORACLE")
	defer mustExec(t, c, "SET sql_mode = DEFAULT")
	for _, tt := range []struct{ q, want string }{
		{"BEGIN SET @a = 5; END", "5"},
		{"DECLARE x INT := 6; BEGIN SET @a = x; END", "6"},
		{"CREATE PACKAGE pk1 AS PROCEDURE p1; END", "6"},
		{"CREATE PACKAGE BODY pk1 AS PROCEDURE p1 AS BEGIN SET @a = 7; END; END", "6"},
		{"CALL pk1.p1", "7"},
		{"DROP PACKAGE pk1", "7"},
	} {
		mustExec(t, c, tt.q)
		if r := mustExec(t, c, "SELECT @a"); str(r.Values[0][0].Value()) != tt.want {
			t.Errorf("%s: @a = %v, want %s", tt.q, r.Values[0][0].Value(), tt.want)
		}
		if tt.q == "CALL pk1.p1" {
			continue // a CALL: creating the package was the step refused
		}
		if res := classify.Analyze([]byte(tt.q), classify.Options{}); res.Flags&classify.Admin == 0 {
			t.Errorf("%s: flags %s, want admin", tt.q, res.Flags)
		}
	}
	// What the classifier does not judge under Options.Oracle means something else there:
	// s.NEXTVAL is the sequence's next value, not a column; BEGIN WORK is a block calling a
	// procedure WORK, not a transaction. A plain statement reads as it does elsewhere.
	oracle := classify.Options{AnsiQuotes: true, Oracle: true}
	mustExec(t, c, "CREATE SEQUENCE s_ora")
	for _, want := range []int64{1, 2} {
		r := mustExec(t, c, "SELECT s_ora.nextval")
		if got, _ := r.GetInt(0, 0); got != want {
			t.Errorf("SELECT s_ora.nextval under ORACLE: %d, want %d", got, want)
		}
	}
	if _, err := c.Execute("BEGIN WORK"); err == nil {
		t.Error("BEGIN WORK under ORACLE: no error (a block calling a procedure WORK, which does not exist)")
	}
	for _, q := range []string{"SELECT s_ora.nextval", "BEGIN WORK", "BEGIN SET @a = 5; END"} {
		if res := classify.Analyze([]byte(q), oracle); res.Flags&classify.Admin == 0 {
			t.Errorf("%s under Options.Oracle: flags %s, want admin", q, res.Flags)
		}
	}
	q := `SELECT 'a' || "b" FROM t WHERE a = 1`
	if r := mustExec(t, c, q); str(r.Values[0][0].Value()) != "a10" {
		t.Errorf("%s under ORACLE: %v", q, r.Values[0][0].Value())
	}
	if res := classify.Analyze([]byte(q), oracle); res.Flags&classify.Admin != 0 || res.First.Kind != classify.KindSelect || !res.ReadOnly {
		t.Errorf("%s under Options.Oracle: %s %s", q, res.First.Kind, res.Flags)
	}
}

// str renders a value of a result row.
func str(v any) string {
	if b, ok := v.([]byte); ok {
		return string(b)
	}
	return fmt.Sprint(v)
}

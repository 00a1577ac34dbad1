package classify

import "testing"

// Under sql_mode ORACLE (Options.Oracle, as the router tracks it, or a SET of it earlier in
// the query) the plain statements are judged as in the default grammar; what ORACLE's
// grammar reads otherwise cannot be judged (KindUnknown with Admin), and neither can the
// rest of its query.
func TestOracleStatementsJudged(t *testing.T) {
	oracle := Options{AnsiQuotes: true, Oracle: true}
	judged := []struct {
		q    string
		kind Kind
	}{
		{"SELECT 1", KindSelect},
		{`SELECT "id", 'a' || 'b' FROM "customer" WHERE id = 1`, KindSelect},
		{"select * from t minus select * from u", KindSelect},
		{"INSERT INTO t VALUES (1)", KindInsert},
		{"UPDATE t SET v = v || 'x'", KindUpdate},
		{"DELETE FROM t WHERE id = 1", KindDelete},
		{"SET @x := 5", KindSet},
		{"SET sql_mode = DEFAULT", KindSet},
		{"START TRANSACTION", KindBegin},
		{"COMMIT", KindCommit},
		{"SHOW TABLES", KindShow},
		{"CREATE TABLE t2 (id NUMBER, v VARCHAR2(10))", KindDDL},
		{"SELECT NEXTVAL(s), LASTVAL(s)", KindSelect},
		{"SELECT t.next_value FROM t", KindSelect},
		{"PREPARE s FROM 'SELECT 1'", KindPrepare},
		{"EXECUTE IMMEDIATE 'SELECT a FROM t WHERE id = :1' USING 1", KindExecute},
	}
	for _, tt := range judged {
		res := Analyze([]byte(tt.q), oracle)
		if res.First.Kind != tt.kind || res.Flags&Admin != 0 {
			t.Errorf("%q under ORACLE: %s %s (%s), want %s judged", tt.q, res.First.Kind, res.Flags, res.Reason, tt.kind)
		}
	}
	doubted := []string{
		"BEGIN", "begin work", "BEGIN; SELECT 1", // an anonymous block there (BEGIN WORK calls a procedure WORK)
		"BEGIN SELECT 1; END",
		"DECLARE a INT; BEGIN SELECT 1; END",
		"<<l>> BEGIN SELECT 1; END",
		"WHILE 1 LOOP SELECT 1; EXIT; END LOOP", "FOR i IN 1..3 LOOP SELECT 1; END LOOP",
		"IF 1 THEN SELECT 1; ELSIF 2 THEN SELECT 2; END IF",
		"LOOP EXIT; END LOOP",
		"SELECT s.nextval", "select db.s.NEXTVAL from dual", "SELECT s.`currval`", "INSERT INTO t VALUES (s.nextval)",
		"SELECT 1..2",
		"CREATE PROCEDURE p AS BEGIN SELECT 1; END",
		"CREATE PACKAGE pk AS PROCEDURE p; END",
		"PREPARE s FROM 'SELECT s.nextval'", "EXECUTE IMMEDIATE 'BEGIN SELECT 1; END'",
		"SELECT 1; SELECT s.nextval",
	}
	for _, q := range doubted {
		if res := Analyze([]byte(q), oracle); res.Flags&Admin == 0 {
			t.Errorf("%q under ORACLE: %s %s, want Admin (cannot be judged)", q, res.First.Kind, res.Flags)
		}
	}
	// After a doubted statement, the rest of the query cannot be judged either.
	if st := lastStatement("SELECT s.nextval; SELECT 1", oracle); st.Kind != KindUnknown || st.Flags&Admin == 0 {
		t.Errorf("after a doubted statement: %s %s", st.Kind, st.Flags)
	}
	// A SET of ORACLE in the query makes the statements after it read so, and a SET back
	// ends it.
	if st := lastStatement("SET sql_mode=ORACLE; SELECT s.nextval", Options{}); st.Flags&Admin == 0 {
		t.Errorf("after SET sql_mode=ORACLE: %s %s", st.Kind, st.Flags)
	}
	if st := lastStatement("SET sql_mode=ORACLE; SET sql_mode=''; BEGIN", Options{}); st.Kind != KindBegin || st.Options.Oracle {
		t.Errorf("after SET sql_mode='': %s %s %+v", st.Kind, st.Flags, st.Options)
	}
	// Without ORACLE the same texts are what they were.
	if st := Analyze([]byte("BEGIN WORK"), Options{}).First; st.Kind != KindBegin {
		t.Errorf("BEGIN WORK without ORACLE: %s", st.Kind)
	}
}

// OptionsFromSQLMode reads a session's sql_mode as MariaDB reports it (or as it was set).
func TestOptionsFromSQLMode(t *testing.T) {
	for _, tt := range []struct {
		mode string
		want Options
		ok   bool
	}{
		{"", Options{}, true},
		{"STRICT_TRANS_TABLES,ERROR_FOR_DIVISION_BY_ZERO,NO_AUTO_CREATE_USER,NO_ENGINE_SUBSTITUTION", Options{}, true},
		{"PIPES_AS_CONCAT,ANSI_QUOTES,IGNORE_SPACE,ORACLE,NO_KEY_OPTIONS,NO_TABLE_OPTIONS,NO_FIELD_OPTIONS,NO_AUTO_CREATE_USER,SIMULTANEOUS_ASSIGNMENT",
			Options{AnsiQuotes: true, Oracle: true}, true},
		{"oracle", Options{AnsiQuotes: true, Oracle: true}, true},
		{"512", Options{AnsiQuotes: true, Oracle: true}, true},
		{"ANSI,NO_BACKSLASH_ESCAPES", Options{AnsiQuotes: true, NoBackslashEscapes: true}, true},
		{"NO_SUCH_MODE", Options{}, false},
	} {
		got, ok := OptionsFromSQLMode(Options{Charset: CharsetGBK}, tt.mode)
		tt.want.Charset = CharsetGBK
		if got != tt.want || ok != tt.ok {
			t.Errorf("%q: %+v %v, want %+v %v", tt.mode, got, ok, tt.want, tt.ok)
		}
	}
}

func TestSQLModeHas(t *testing.T) {
	for _, c := range []struct {
		value, mode string
		want        bool
	}{
		{"PIPES_AS_CONCAT,ANSI_QUOTES,IGNORE_SPACE,ORACLE", "oracle", true},
		{"ansi_quotes, pipes_as_concat", "pipes_as_concat", true},
		{"STRICT_TRANS_TABLES", "pipes_as_concat", false},
		{"2", "pipes_as_concat", true},
		{"4", "pipes_as_concat", false},
		{"536870912", "high_not_precedence", true},
		{"", "ansi", false},
		{"2", "no_such_mode", false},
	} {
		if got := SQLModeHas(c.value, c.mode); got != c.want {
			t.Errorf("SQLModeHas(%q, %q) = %v, want %v", c.value, c.mode, got, c.want)
		}
	}
}

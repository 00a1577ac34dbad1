package classify_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/go-mysql-org/go-mysql/client"
	"github.com/go-mysql-org/go-mysql/mysql"

	"github.com/vtdirect/vtdirect/classify"
	"github.com/vtdirect/vtdirect/local"
)

// These tests hold the classifier to what MariaDB 10.11 does: where it splits a
// multi-statement query, which statements a read-only server accepts, how scope keywords
// carry over in SET, which column name SELECT CONNECTION_ID() gets, which sql_mode values
// set the status flags, how a gbk client's strings end.

func startMariaDB(t *testing.T) *local.MariaDB {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	m, err := local.StartMariaDB(ctx, local.MariaDBConfig{Dir: t.TempDir(), ServerID: 1, User: "app", Password: "app"})
	if err != nil {
		t.Fatalf("StartMariaDB: %v", err) // also when MariaDB is missing: never skip
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := m.Stop(ctx); err != nil {
			t.Errorf("stop MariaDB: %v", err)
		}
	})
	return m
}

// connect opens a go-mysql connection; multi asks for CLIENT_MULTI_STATEMENTS.
func connect(t *testing.T, m *local.MariaDB, user, password string, multi bool) *client.Conn {
	t.Helper()
	c, err := client.Connect(m.Addr(), user, password, "", func(c *client.Conn) error {
		c.SetCapability(mysql.CLIENT_MULTI_RESULTS)
		if multi {
			c.SetCapability(mysql.CLIENT_MULTI_STATEMENTS)
		} else {
			c.UnsetCapability(mysql.CLIENT_MULTI_STATEMENTS)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("connect as %s: %v", user, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func mustExec(t *testing.T, c *client.Conn, q string) *mysql.Result {
	t.Helper()
	r, err := c.Execute(q)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return r
}

// results runs q as one COM_QUERY and renders every result MariaDB sends, up to its first
// error (after which it runs nothing more).
func results(t *testing.T, c *client.Conn, q string) []string {
	t.Helper()
	var out []string
	failed := false
	_, err := c.ExecuteMultiple(q, func(r *mysql.Result, err error) {
		if failed {
			return
		}
		switch {
		case err != nil:
			failed = true
			code := 0
			var me *mysql.MyError
			if errors.As(err, &me) {
				code = int(me.Code)
			}
			out = append(out, fmt.Sprintf("ERR %d", code))
		case r.Resultset != nil && len(r.Fields) > 0:
			var cols []string
			for _, f := range r.Fields {
				cols = append(cols, string(f.Name))
			}
			var rows []string
			for i := range r.Values {
				var vs []string
				for j := range r.Values[i] {
					vs = append(vs, fmt.Sprint(r.Values[i][j].Value()))
				}
				rows = append(rows, strings.Join(vs, ","))
			}
			out = append(out, fmt.Sprintf("%s: %s", strings.Join(cols, ","), strings.Join(rows, ";")))
		default:
			out = append(out, fmt.Sprintf("OK %d", r.AffectedRows))
		}
	})
	if err != nil && !failed {
		out = append(out, "ERR "+err.Error())
	}
	return out
}

func resetSchema(t *testing.T, c *client.Conn) {
	t.Helper()
	for _, q := range []string{"DROP DATABASE IF EXISTS cls", "CREATE DATABASE cls", "USE cls",
		"CREATE TABLE t (a INT PRIMARY KEY, b INT)", "INSERT INTO t VALUES (1, 10), (2, 20)", "SET sql_mode = DEFAULT", "SET NAMES utf8mb4"} {
		mustExec(t, c, q)
	}
}

func TestAgainstMariaDB(t *testing.T) {
	m := startMariaDB(t)
	t.Run("Split", func(t *testing.T) { testSplit(t, m) })
	t.Run("ReadOnly", func(t *testing.T) { testReadOnly(t, m) })
	t.Run("SetScope", func(t *testing.T) { testSetScope(t, m) })
	t.Run("ColumnNames", func(t *testing.T) { testColumnNames(t, m) })
	t.Run("StatusFlags", func(t *testing.T) { testStatusFlags(t, m) })
	t.Run("Charset", func(t *testing.T) { testCharset(t, m) })
	t.Run("SkippedComment", func(t *testing.T) { testSkippedComment(t, m) })
	t.Run("SQLModeBits", func(t *testing.T) { testSQLModeBits(t, m) })
	t.Run("ReadingChanges", func(t *testing.T) { testReadingChanges(t, m) })
	t.Run("DynamicText", func(t *testing.T) { testDynamicText(t, m) })
	t.Run("XA", func(t *testing.T) { testXA(t, m) })
	t.Run("Oracle", func(t *testing.T) { testOracle(t, m) })
}

// splitQueries are multi-statement queries whose bodies and strings hold ';'. None loops
// forever when run.
var splitQueries = []string{
	"select 1; select 2",
	"select ';' as `;`, \";\"; select 2 -- ;\n; select 3 # ;",
	"select 1; /* c */ select 2;",
	"select 1; -- trailing comment",
	"select 1;;",
	"select 1;; select 2",
	"select 'a\\'; select 1'; select 2",
	"create procedure p() begin declare x int default 0; if x = 0 then select 'zero'; end if; end; call p(); drop procedure p",
	"create procedure p() select 1; call p(); drop procedure p",
	"CREATE DEFINER=CURRENT_USER PROCEDURE `p`(IN a INT, OUT b VARCHAR(10)) COMMENT 'x;y' READS SQL DATA SQL SECURITY INVOKER BEGIN SELECT a; SET b = 'x;'; END; call p(1, @b); select @b; drop procedure p",
	"create function f(a int) returns int deterministic begin return a + 1; end; select f(1); drop function f",
	"create function f() returns varchar(10) character set utf8mb4 collate utf8mb4_bin no sql begin declare s varchar(10); set s = 'a;'; return s; end; select f(); drop function f",
	"create function f() returns int return if(1, 2, 3); select f(); drop function f",
	"create function f() returns int return case when 1 then 2 end; select f(); drop function f",
	"create function f() returns set('a','b') return 'a'; select f(); drop function f",
	"create function f() returns double precision l: begin return 1; end l; select f(); drop function f",
	"create trigger tr before insert on t for each row begin if new.b < 0 then set new.b = 0; end if; end; insert into t values (3, -1); select * from t; drop trigger tr",
	"create trigger tr before update on t for each row set new.b = new.b + 1; update t set b = 0 where a = 1; select * from t; drop trigger tr",
	"create event e on schedule every 1 day starts now() + interval 1 day do begin delete from t; insert into t values (9, 9); end; drop event e; select 1",
	"create event e on schedule at now() + interval 1 day do begin select 1; end; alter event e disable; alter event e do begin select 2; end; drop event e",
	"create procedure p() begin declare done int default 0; declare v int; declare c cursor for select a from t for update; declare continue handler for not found, sqlstate value '02000' begin set done = 1; end; open c; fetch c into v; close c; select v; end; call p(); drop procedure p",
	"create procedure p() begin declare exit handler for sqlexception if 1 then select 'handled'; end if; signal sqlstate '45000'; end; call p(); drop procedure p",
	"create procedure p() begin l1: loop leave l1; end loop l1; l2: while 0 do select 1; end while l2; l3: repeat select repeat('a', 2); until 1 end repeat; for i in 1..2 do select i; end for; end; call p(); drop procedure p",
	"create procedure p(x int) begin case x when 1 then select case when x then 1 else 2 end as r; else begin end; end case; end; call p(1); drop procedure p",
	"create procedure p() begin if (1) then select if(1,2,3); elseif exists (select 1) then drop table if exists u; else create table if not exists u (a int); end if; end; call p(); drop procedure p",
	"create or replace procedure p() begin set statement max_statement_time = 10 for select * from t; end; call p(); drop procedure if exists p",
	"create procedure if not exists p() select 1; call p(); drop procedure p",
	"begin not atomic select 1; select 2; end; select 3",
	"begin; select 1; commit",
	"begin work; select 1; rollback work",
	"if 1 then select 1; elseif 2 then select 2; else select 3; end if; select 4",
	"case 1 when 1 then select 'a'; else select 'c'; end case; select 3",
	"while 0 do select 1; end while; select 3",
	"repeat select 1; until 1 end repeat; select 3",
	"for i in 1..2 do select i; end for; select 3",
	"begin not atomic declare x int default case when 1 then 2 end; select x; end; select 3",
	"begin not atomic declare x int; set x = case 1 when 1 then 5 end; case when x = 5 then select 'five'; end case; end; select 3",
	"begin not atomic l1: begin select 1; end l1; l2: loop leave l2; end loop l2; end; select 3",
	"begin not atomic declare continue handler for sqlexception, sqlwarning begin select 'h'; end; select 1; end; select 3",
	"set statement max_statement_time=10 for create procedure p() begin select 1; end; call p(); drop procedure p",
	"/*!50003 CREATE*/ /*!50003 PROCEDURE p() BEGIN SELECT 1; END */; call p(); drop procedure p",
	"/*!40101 set @a=1 */; /*!40101 select @a */;",
	"select 1; /*!40101 select 2; select 3 */ ; select 4",
	"l: begin not atomic select 1; end l; select 2",
	"set sql_mode='ANSI_QUOTES'; select \"a;b\" from (select 1 as \"a;b\") x; set sql_mode=default; select \"c;d\"",
	"set sql_mode='NO_BACKSLASH_ESCAPES'; select 'a\\'; select 2; set sql_mode=default",
	"set statement sql_mode='NO_BACKSLASH_ESCAPES' for select 'a\\'; select 2 '; select 3",
	"set sql_mode=1048576; select 'a\\'; select 2; set sql_mode=0; select 'b\\'; select 3'",
	"set sql_mode=4; select \"a;b\" from (select 1 as \"a;b\") x; set sql_mode=262144; select \"c;d\" from (select 1 as \"c;d\") y",
	"set sql_mode='ANSI_QUOTES,'; select \"a;b\" from (select 1 as \"a;b\") x",
	"prepare s from 'select 1; select 2'; select 1",
	"prepare s from 'select ?; '; execute s using 5; deallocate prepare s",
	"execute immediate 'select 1'; select 2",
	"set statement max_statement_time=10 for set statement sql_mode='' for select 1; select 2",
	"select 1; select 'unterminated",
}

// testSplit runs each query once as a multi-statement COM_QUERY and once statement by
// statement as the splitter cuts it (on a connection without CLIENT_MULTI_STATEMENTS, as
// the gateway's backend connections), from the same schema state: the results must match.
func testSplit(t *testing.T, m *local.MariaDB) {
	multi := connect(t, m, m.User(), m.Password(), true)
	single := connect(t, m, m.User(), m.Password(), false)
	// Functions that do not say DETERMINISTIC are refused with binary logging on otherwise.
	mustExec(t, multi, "SET GLOBAL log_bin_trust_function_creators = 1")
	t.Cleanup(func() { mustExec(t, multi, "SET GLOBAL log_bin_trust_function_creators = DEFAULT") })
	for _, q := range splitQueries {
		t.Run(q, func(t *testing.T) {
			resetSchema(t, multi)
			want := results(t, multi, q)
			t.Logf("MariaDB: %q", want)

			resetSchema(t, single)
			var got []string
			qb := []byte(q)
			end := 0
			for st := range classify.Statements(qb, classify.Options{}) {
				end = st.End
				if st.Kind == classify.KindEmpty && strings.TrimSpace(string(qb[st.Start:st.End])) == "" {
					got = append(got, "ERR 1064") // MariaDB refuses an empty statement between two ';'
					break
				}
				got = append(got, results(t, single, q[st.Start:st.End])...)
				if strings.HasPrefix(got[len(got)-1], "ERR") {
					break
				}
			}
			// With multi-statements on, MariaDB answers a comment after the last ';' with one
			// more OK (without them, it ignores it, as the splitter does).
			if len(got) > 0 && !strings.HasPrefix(got[len(got)-1], "ERR") && strings.Trim(q[end:], "; \t\n") != "" {
				got = append(got, "OK 0")
			}
			if strings.Join(got, "\n") != strings.Join(want, "\n") {
				var pieces []string
				for st := range classify.Statements(qb, classify.Options{}) {
					pieces = append(pieces, fmt.Sprintf("%s %q", st.Kind, q[st.Start:st.End]))
				}
				t.Errorf("split into:\n  %s\nstatement by statement:\n  %s\nas one query:\n  %s",
					strings.Join(pieces, "\n  "), strings.Join(got, "\n  "), strings.Join(want, "\n  "))
			}
		})
	}
}

// readOnlyQueries: whether a read-only MariaDB accepts each statement from an account
// without READ_ONLY ADMIN. ReadOnly must say the same.
var readOnlyQueries = []struct {
	q        string
	accepted bool
}{
	{"select * from t", true},
	{"select * from t lock in share mode", true},
	{"select * from t for update", false},
	{"select * from (select * from t for update) x", false},
	{"(select * from t) for update", false},
	{"with x as (select 1) select * from x", true},
	{"values (1)", true},
	{"select nextval(s)", false},
	{"select next value for s", false},
	{"select setval(s, 100)", false},
	{"select lastval(s), previous value for s", true},
	{"select get_lock('x', 0), release_lock('x')", true},
	{"select 1, 2 into @a, @b", true},
	{"explain select * from t", true},
	{"explain update t set b = 1", false},
	{"explain delete from t", false},
	{"analyze select * from t", true},
	{"analyze update t set b = 1", false},
	{"describe t", true},
	{"show tables", true},
	{"show warnings", true},
	{"help 'select'", true},
	{"use cls", true},
	{"set session wait_timeout = 100", true},
	{"set @x = 1", true},
	{"set names utf8mb4", true},
	{"set transaction read only", true},
	{"set statement max_statement_time = 10 for select 1", true},
	{"set statement max_statement_time = 10 for update t set b = 1", false},
	{"begin", true},
	{"start transaction read only", true},
	{"start transaction read write", false},
	{"start transaction with consistent snapshot", true},
	{"commit", true},
	{"rollback", true},
	{"savepoint a", true},
	{"get diagnostics @n = number", true},
	{"prepare s1 from 'select 1'", true},
	{"prepare s2 from 'update t set b = 1'", true}, // MariaDB prepares it; ReadOnly says no (executing it writes)
	{"deallocate prepare s1", true},
	{"lock tables t read", true},
	{"lock tables t write", false},
	{"unlock tables", true},
	{"handler t open", true},
	{"handler t read first", true},
	{"handler t close", true},
	{"check table t", true},
	{"checksum table t", true},
	{"analyze table t", false},
	{"insert into t values (5, 5)", false},
	{"update t set b = 1", false},
	{"delete from t", false},
	{"replace into t values (1, 1)", false},
	{"create table u (a int)", false},
	{"drop table t", false},
	{"truncate t", false},
	{"alter table t add c int", false},
}

func testReadOnly(t *testing.T, m *local.MariaDB) {
	admin := connect(t, m, m.User(), m.Password(), false)
	resetSchema(t, admin)
	for _, q := range []string{"CREATE SEQUENCE s", "CREATE USER IF NOT EXISTS 'ro'@'%' IDENTIFIED BY 'ro'",
		"GRANT ALL ON cls.* TO 'ro'@'%'", "SET GLOBAL read_only = 1"} {
		mustExec(t, admin, q)
	}
	t.Cleanup(func() { mustExec(t, admin, "SET GLOBAL read_only = 0") })
	ro := connect(t, m, "ro", "ro", false)
	mustExec(t, ro, "USE cls")
	for _, tt := range readOnlyQueries {
		_, err := ro.Execute(tt.q)
		refused := false
		var me *mysql.MyError
		if errors.As(err, &me) && me.Code == 1290 { // ER_OPTION_PREVENTS_STATEMENT
			refused = true
		} else if err != nil {
			t.Fatalf("%s: %v (not the read-only refusal: fix the test's schema)", tt.q, err)
		}
		if refused == tt.accepted {
			t.Errorf("%s: read-only MariaDB accepted=%v, the test says %v", tt.q, !refused, tt.accepted)
		}
		got := classify.Analyze([]byte(tt.q), classify.Options{}).ReadOnly
		if strings.HasPrefix(tt.q, "prepare s2") {
			continue // see the comment on the case
		}
		if got != tt.accepted {
			t.Errorf("%s: ReadOnly = %v, a read-only MariaDB accepts it: %v", tt.q, got, tt.accepted)
		}
		if tt.q == "start transaction read only" || tt.q == "begin" || tt.q == "start transaction with consistent snapshot" {
			mustExec(t, ro, "ROLLBACK")
		}
	}
}

// testSetScope runs SETs of global and session variables and reads back which scope each
// assignment changed.
func testSetScope(t *testing.T, m *local.MariaDB) {
	c := connect(t, m, m.User(), m.Password(), false)
	vars := []string{"net_read_timeout", "net_write_timeout", "wait_timeout", "interactive_timeout"}
	queries := []string{
		"SET GLOBAL net_read_timeout = 101, net_write_timeout = 102",
		"SET SESSION net_read_timeout = 101, GLOBAL net_write_timeout = 102, wait_timeout = 103",
		"SET @@global.net_read_timeout = 101, net_write_timeout = 102",
		"SET GLOBAL net_read_timeout = 101, @@session.net_write_timeout = 102, wait_timeout = 103",
		"SET LOCAL net_read_timeout = 101, @@global.net_write_timeout = 102, interactive_timeout = 104",
		"SET @@net_read_timeout = 101, global wait_timeout = 103, @@local.interactive_timeout = 104",
		"SET @@global .net_read_timeout = 101, @@global. net_write_timeout = 102, @@session .wait_timeout = 103",
		"SET GLOBAL net_read_timeout = 101, @@local /* c */ . /* c */ `net_write_timeout` = 102, @@GLOBAL\n.interactive_timeout = 104",
	}
	for _, q := range queries {
		// Start from known values: 30 everywhere.
		for _, v := range vars {
			mustExec(t, c, fmt.Sprintf("SET GLOBAL %s = 30, SESSION %s = 30", v, v))
		}
		mustExec(t, c, q)
		want := map[string]classify.Scope{}
		for _, a := range classify.Analyze([]byte(q), classify.Options{}).First.Set.Assignments {
			want[a.Name] = a.Scope
		}
		for _, v := range vars {
			r := mustExec(t, c, fmt.Sprintf("SELECT @@global.%s, @@session.%s", v, v))
			g, _ := r.GetInt(0, 0)
			s, _ := r.GetInt(0, 1)
			scope, set := want[v]
			switch {
			case !set && (g != 30 || s != 30):
				t.Errorf("%s: %s changed (global %d, session %d), the classifier saw no assignment", q, v, g, s)
			case set && scope == classify.ScopeGlobal && (g == 30 || s != 30):
				t.Errorf("%s: %s: global %d, session %d; the classifier says global", q, v, g, s)
			case set && scope == classify.ScopeSession && (g != 30 || s == 30):
				t.Errorf("%s: %s: global %d, session %d; the classifier says session", q, v, g, s)
			}
		}
	}
	for _, v := range vars {
		mustExec(t, c, fmt.Sprintf("SET GLOBAL %s = DEFAULT", v))
	}
}

// testColumnNames compares the column name the classifier predicts for SELECT
// CONNECTION_ID() and SELECT @@autocommit with MariaDB's.
func testColumnNames(t *testing.T, m *local.MariaDB) {
	c := connect(t, m, m.User(), m.Password(), false)
	for _, q := range []string{"select connection_id()", "SELECT CONNECTION_ID ( ) ;", "select connection_id(/* c */)",
		"select /* c */ connection_id() /* c */", "select connection_id()-- c", "select /*!connection_id()*/",
		"select connection_id() as id", "select connection_id() id", "select connection_id() as `a``b`",
		"select connection_id() 'x'", "select connection_id() as \"y\"", `select connection_id() as 'a''b\'c'`,
		"select @@autocommit", "select @@session.autocommit;", "SELECT @@LOCAL.AUTOCOMMIT AS `ac`", "select @@`autocommit`"} {
		st := classify.Analyze([]byte(q), classify.Options{}).First
		if st.Kind != classify.KindConnectionID && st.Kind != classify.KindSelectAutocommit {
			t.Errorf("%s: kind %s", q, st.Kind)
			continue
		}
		r := mustExec(t, c, q)
		if got := string(r.Fields[0].Name); got != st.Name {
			t.Errorf("%s: MariaDB names the column %q, the classifier %q", q, got, st.Name)
		}
	}
}

// testStatusFlags: the sql_mode values sqlModeOptions reads as ANSI_QUOTES or
// NO_BACKSLASH_ESCAPES set the status flags MariaDB reports them with.
func testStatusFlags(t *testing.T, m *local.MariaDB) {
	c := connect(t, m, m.User(), m.Password(), false)
	for _, mode := range []string{"", "ANSI_QUOTES", "ANSI", "ORACLE", "POSTGRESQL", "MSSQL", "DB2", "MAXDB",
		"TRADITIONAL", "NO_BACKSLASH_ESCAPES", "ANSI_QUOTES,NO_BACKSLASH_ESCAPES", "MYSQL323", "MYSQL40"} {
		q := fmt.Sprintf("SET sql_mode = '%s'", mode)
		r := mustExec(t, c, q)
		fromServer := classify.OptionsFromStatus(classify.Options{}, r.Status)
		// The options the splitter reads the next statements with: a string only
		// NO_BACKSLASH_ESCAPES ends there, names only ANSI_QUOTES makes identifiers.
		var fromText classify.Options
		fromText.NoBackslashEscapes = classify.Analyze([]byte(q+`; select 'a\'; select 2`), classify.Options{}).Count == 3
		fromText.AnsiQuotes = classify.Analyze([]byte(q+`; select * from "information_schema"."processlist"`), classify.Options{}).Flags&classify.ServerInternals != 0
		if fromServer != fromText {
			t.Errorf("%s: status %#x says %+v, the classifier reads %+v", q, r.Status, fromServer, fromText)
		}
	}
	mustExec(t, c, "SET sql_mode = DEFAULT")
}

// testCharset: with a gbk client, 0xbf5c is one character and the quote after it ends the
// string, so the assignment after it runs; the classifier sees it only when told the charset.
func testCharset(t *testing.T, m *local.MariaDB) {
	c := connect(t, m, m.User(), m.Password(), false)
	mustExec(t, c, "SET NAMES gbk")
	defer mustExec(t, c, "SET NAMES utf8mb4")
	q := "select '\xbf\x5c', @x := 2 -- '"
	mustExec(t, c, "SET @x = 1")
	mustExec(t, c, q)
	if r := mustExec(t, c, "SELECT @x"); r.Values[0][0].Value() != int64(2) {
		t.Fatalf("@x = %v: MariaDB did not run the assignment", r.Values[0][0].Value())
	}
	if res := classify.Analyze([]byte(q), classify.Options{Charset: classify.CharsetGBK}); res.Flags&classify.WritesUserVar == 0 {
		t.Errorf("gbk: flags %s, want writes_user_var", res.Flags)
	}
	if res := classify.Analyze([]byte(q), classify.Options{}); res.Flags&classify.WritesUserVar != 0 {
		t.Errorf("utf8: flags %s: as utf8 the bytes are one string", res.Flags)
	}

	// In latin1 (and the sets CharsetByName maps to CharsetSpaceA0), 0xA0 is white space.
	mustExec(t, c, "SET NAMES latin1")
	q = "select\xa01,\xa0@x\xa0:=\xa03"
	mustExec(t, c, q)
	if r := mustExec(t, c, "SELECT @x"); r.Values[0][0].Value() != int64(3) {
		t.Fatalf("@x = %v: MariaDB did not run the assignment", r.Values[0][0].Value())
	}
	res := classify.Analyze([]byte(q), classify.Options{Charset: classify.CharsetByName("latin1")})
	if res.First.Kind != classify.KindSelect || res.Flags&classify.WritesUserVar == 0 {
		t.Errorf("latin1: %s %s, want select writes_user_var", res.First.Kind, res.Flags)
	}
}

// testSkippedComment: MariaDB skips /*!99999 ... */ up to its first */, even inside what
// would be a string: the classifier, reading the content as code, cannot judge such a
// statement and says so.
func testSkippedComment(t *testing.T, m *local.MariaDB) {
	c := connect(t, m, m.User(), m.Password(), false)
	q := "select 1 /*!99999 ' */ , 2 -- ' */"
	if r := mustExec(t, c, q); len(r.Fields) != 2 {
		t.Fatalf("MariaDB returned %d columns, the test expects 2 (the comment ends at its first */)", len(r.Fields))
	}
	if res := classify.Analyze([]byte(q), classify.Options{}); res.First.Kind != classify.KindUnknown || res.Flags&classify.Admin == 0 {
		t.Errorf("%s: %s %s, want unknown with admin", q, res.First.Kind, res.Flags)
	}
	// Below 50700 MariaDB runs the content as code: a string in it is a string.
	q = "select 1 /*!40101 , '*/' */"
	if r := mustExec(t, c, q); len(r.Fields) != 2 {
		t.Fatalf("MariaDB returned %d columns, the test expects 2", len(r.Fields))
	}
	if res := classify.Analyze([]byte(q), classify.Options{}); res.First.Kind != classify.KindSelect {
		t.Errorf("%s: %s, want select", q, res.First.Kind)
	}
}

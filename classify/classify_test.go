package classify

import (
	"strings"
	"testing"
)

// kindCase is a query, its first statement's kind, the query's flags (exactly) and whether
// it is read-only.
type kindCase struct {
	q     string
	kind  Kind
	flags Flags
	ro    bool
}

func runKindCases(t *testing.T, opt Options, cases []kindCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.q, func(t *testing.T) {
			got := Analyze([]byte(tc.q), opt)
			if got.First.Kind != tc.kind || got.Flags != tc.flags || got.ReadOnly != tc.ro {
				t.Errorf("Analyze(%q) = kind %s flags %q read-only %v; want %s %q %v",
					tc.q, got.First.Kind, got.Flags, got.ReadOnly, tc.kind, tc.flags, tc.ro)
			}
		})
	}
}

func TestKinds(t *testing.T) {
	runKindCases(t, Options{}, []kindCase{
		// Reads.
		{"SELECT c FROM sbtest1 WHERE id=123", KindSelect, 0, true},
		{"  /* hint */ select 1", KindSelect, 0, true},
		{"-- note\nselect 1", KindSelect, 0, true},
		{"# note\nSELECT 1", KindSelect, 0, true},
		{"--\tnote\nselect 1", KindSelect, 0, true},
		{"(select 1) union (select 2)", KindSelect, 0, true},
		{"((select 1))", KindSelect, 0, true},
		{"WITH t AS (select 1) select * from t", KindSelect, 0, true},
		{"with recursive t (n) as (select 1 union all select n+1 from t where n < 3), u as (select 2) select * from t", KindSelect, 0, true},
		{"with t as (select 1) update u join t set u.a = 1", KindUpdate, 0, false},
		{"with t as (select 1) delete from u", KindDelete, 0, false},
		{"VALUES (1), (2)", KindSelect, 0, true},
		{"table t", KindSelect, 0, true},
		{"select 'delete from t; drop table x' as `; insert`", KindSelect, 0, true},
		{"select \"update -- \" from t", KindSelect, 0, true},
		{"select * from t lock in share mode", KindSelect, 0, true},
		{"select * from t for system_time all", KindSelect, 0, true},
		// A read-only MariaDB refuses these reads.
		{"select * from t where id = 1 for update", KindSelect, ForUpdate, false},
		{"select * from (select * from t for update) x", KindSelect, ForUpdate, false},
		{"select nextval(s)", KindSelect, WritesSequence, false},
		{"select next value for s", KindSelect, WritesSequence, false},
		{"select setval(s, 10)", KindSelect, WritesSequence, false},
		{"select lastval(s), previous value for s", KindSelect, ReadsSequence, true},
		{"select * from t into outfile '/tmp/x'", KindSelect, Admin, false},
		{"select c into dumpfile '/tmp/x' from t", KindSelect, Admin, false},
		{"select load_file('/etc/passwd')", KindSelect, Admin, false},
		// DML.
		{"insert into t values (1)", KindInsert, 0, false},
		{"INSERT INTO t SELECT * FROM u", KindInsert, 0, false},
		{"UPDATE t set a=1", KindUpdate, 0, false},
		{"delete from t", KindDelete, 0, false},
		{"replace into t values (1)", KindReplace, 0, false},
		{"insert into t values (1) returning id", KindInsert, 0, false},
		// Executable comments hide statements.
		{"/*!40000 DELETE FROM t */", KindDelete, 0, false},
		{"/*!40000 ALTER TABLE t DISABLE KEYS */;", KindDDL, 0, false},
		{"/*M!100401 DELETE FROM t */", KindDelete, 0, false},
		{"/*!99999 DELETE FROM t */", KindDelete, 0, false}, // MariaDB skips it; read conservatively
		{"/*M!999999 INSERT INTO t VALUES (1) */", KindInsert, 0, false},
		{"/*! DELETE */ FROM t", KindDelete, 0, false},
		{"select 1 /*!, (select nextval(s)) */", KindSelect, WritesSequence, false},
		{"/*!50003 CREATE*/ /*!50017 DEFINER=`root`@`localhost`*/ /*!50003 TRIGGER tr BEFORE INSERT ON t FOR EACH ROW SET NEW.a = 1 */", KindDDL, Admin, false},
		{"/*+ MAX_EXECUTION_TIME(1) */ select 1", KindSelect, 0, true},
		{"/*M select */ delete from t", KindDelete, 0, false},
		{"/*vt+ QUERY_TIMEOUT_MS=10 */ select 1", KindSelect, 0, true},
		// DDL.
		{"create table t (id int)", KindDDL, 0, false},
		{"CREATE OR REPLACE TABLE t (id int)", KindDDL, 0, false},
		{"create temporary table t (id int)", KindDDL, CreatesTempTable, false},
		{"create or replace temporary table t select 1", KindDDL, CreatesTempTable, false},
		{"drop table t", KindDDL, 0, false},
		{"drop temporary table if exists t", KindDDL, DropsTempTable, false},
		{"truncate t", KindDDL, 0, false},
		{"rename table a to b", KindDDL, 0, false},
		{"alter online table t add column c int", KindDDL, 0, false},
		{"create definer=`u`@`%` sql security invoker view v as select 1", KindDDL, 0, false},
		{"create database d", KindDDL, 0, false},
		{"create unique index i on t (a)", KindDDL, 0, false},
		{"create sequence s", KindDDL, 0, false},
		{"create procedure p() select 1", KindDDL, Admin, false},
		{"create definer = 'a'@'b' function f() returns int return 1", KindDDL, Admin, false},
		{"create aggregate function f returns string soname 'x.so'", KindDDL, Admin, false},
		{"drop procedure if exists p", KindDDL, Admin, false},
		{"alter event e disable", KindDDL, Admin, false},
		{"drop trigger t", KindDDL, Admin, false},
		{"create server s foreign data wrapper mysql options (host 'h')", KindDDL, Admin, false},
		// Transactions.
		{"begin", KindBegin, 0, true},
		{"BEGIN WORK", KindBegin, 0, true},
		{"begin;", KindBegin, 0, true},
		{"start transaction", KindBegin, 0, true},
		{"start transaction read only", KindBegin, 0, true},
		{"start transaction read write", KindBegin, 0, false}, // refused by a read-only server
		{"START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY", KindBegin, 0, true},
		{"start transaction read", KindUnknown, 0, false},
		{"begin foo", KindUnknown, Admin, false},
		{"commit", KindCommit, 0, true},
		{"commit work", KindCommit, 0, true},
		{"COMMIT AND CHAIN", KindCommit, Chain, true},
		{"commit and no chain", KindCommit, 0, true},
		{"commit release", KindCommit, Release, true},
		{"commit work and chain no release", KindCommit, Chain | NoRelease, true},
		{"commit no release", KindCommit, NoRelease, true},
		{"rollback", KindRollback, 0, true},
		{"rollback work and no chain release", KindRollback, Release, true},
		{"rollback to savepoint a", KindSavepoint, 0, true},
		{"ROLLBACK WORK TO a", KindSavepoint, 0, true},
		{"savepoint a", KindSavepoint, 0, true},
		{"release savepoint a", KindSavepoint, 0, true},
		{"xa start 'x'", KindXA, XA, false},
		{"XA RECOVER", KindXA, XA | Admin, false},
		// Compound statements.
		{"begin not atomic select 1; end", KindCompound, Compound, false},
		{"BEGIN /* c */ NOT ATOMIC select 1; END", KindCompound, Compound, false},
		{"if 1 then select 1; end if", KindCompound, Compound, false},
		{"case when 1 then select 1; end case", KindCompound, Compound, false},
		{"while 0 do select 1; end while", KindCompound, Compound, false},
		{"repeat select 1; until 1 end repeat", KindCompound, Compound, false},
		{"for i in 1..3 do select i; end for", KindCompound, Compound, false},
		{"loop leave; end loop", KindCompound, Compound, false},
		{"l: begin not atomic select 1; end l", KindUnknown, 0, false}, // MariaDB 10.11 refuses a label here
		{"begin not atomic set @x = 1; select last_insert_id(); end", KindCompound, Compound | WritesUserVar | ReadsLastInsertID, false},
		// A compound statement runs its body now: its statements' flags are its own.
		{"begin not atomic set global max_connections = 10; end", KindCompound, Compound | Admin, false},
		{"if 1 then create temporary table t (a int); else begin shutdown; end; end if", KindCompound, Compound | CreatesTempTable | Admin, false},
		{"begin not atomic declare exit handler for sqlexception kill user u; prepare s from @q; call p(@a); end", KindCompound, Compound | Admin | Kills | SQLPrepare | Call | ReadsUserVar | WritesUserVar, false},
		{"while 0 do lock tables t read; end while", KindCompound, Compound | TakesLock, false},
		// A stored program's definition does not run its body.
		{"create procedure p() begin set global max_connections = 10; create temporary table t (a int); end", KindDDL, Admin, false},
		// Use, show, help, explain.
		{"use commerce", KindUse, 0, true},
		{"use mysql", KindUse, ServerInternals, true},
		{"use a b", KindUnknown, 0, false},
		{"show tables", KindShow, 0, true},
		{"show databases", KindShow, 0, true},
		{"show warnings", KindShow, ReadsDiagnostics | DiagnosticsStatement, true},
		{"show count(*) errors", KindShow, ReadsDiagnostics | DiagnosticsStatement, true},
		{"show full processlist", KindShow, ServerInternals, true},
		{"show engine innodb status", KindShow, ServerInternals, true},
		{"show tables from mysql", KindShow, ServerInternals, true},
		{"show tables in `performance_schema`", KindShow, ServerInternals, true},
		{"show explain for 5", KindShow, ServerInternals, true},
		{"help 'select'", KindHelp, 0, true},
		{"describe t", KindExplain, 0, true},
		{"desc t c", KindExplain, 0, true},
		{"explain select 1", KindExplain, 0, true},
		{"explain extended select * from t", KindExplain, 0, true},
		{"explain format=json select 1", KindExplain, 0, true},
		{"explain update t set a = 1", KindExplain, 0, false}, // refused by a read-only server
		{"explain for connection 5", KindExplain, ServerInternals, true},
		{"analyze select * from t", KindExplain, 0, true},
		{"analyze format=json delete from t", KindExplain, 0, false}, // runs the delete
		{"analyze table t", KindAdmin, 0, false},
		{"analyze no_write_to_binlog table t", KindAdmin, 0, false},
		// Locks and handlers.
		{"lock tables t read", KindLock, TakesLock, true},
		{"LOCK TABLE t AS a READ LOCAL, u READ", KindLock, TakesLock, true},
		{"lock tables t write", KindLock, TakesLock, false},
		{"lock tables t read, u low_priority write", KindLock, TakesLock, false},
		{"unlock tables", KindUnlock, ReleasesLock, true},
		{"flush tables with read lock", KindLock, TakesLock | Admin, false},
		{"flush tables t for export", KindLock, TakesLock | Admin, false},
		{"flush logs", KindAdmin, Admin, false},
		{"backup lock t", KindLock, TakesLock, false},
		{"backup unlock", KindUnlock, ReleasesLock, true},
		{"backup stage start", KindLock, TakesLock | Admin, false},
		{"backup stage end", KindUnlock, ReleasesLock | Admin, false},
		{"select get_lock('x', 1)", KindSelect, TakesLock, true},
		{"SELECT gEt_LoCk ('x', 1)", KindSelect, TakesLock, true},
		{"do get_lock('x', 1)", KindDo, TakesLock, false},
		{"select release_lock('x'), release_all_locks()", KindSelect, ReleasesLock, true},
		{"select is_free_lock('x'), count(*) from t", KindSelect, 0, true},
		{"select db.get_lock(1)", KindSelect, 0, true},             // a stored function
		{"select `get_lock`('x', 1)", KindSelect, TakesLock, true}, // a function's name may be quoted
		{"select `db`.`get_lock`(1)", KindSelect, 0, true},
		{"handler t open", KindHandler, OpensHandler, true},
		{"handler db.t open as h", KindHandler, OpensHandler, true},
		{"handler h read first", KindHandler, 0, true},
		{"handler h close", KindHandler, ClosesHandler, true},
		// Calls, loads, prepared statements.
		{"call p()", KindCall, Call, false},
		{"call p(@a, @b)", KindCall, Call | WritesUserVar | ReadsUserVar, false},
		{"do 1", KindDo, 0, false},
		{"load data infile '/x' into table t", KindLoad, Admin, false},
		{"load data local infile '/x' into table t", KindLoad, LocalInfile, false},
		{"LOAD DATA LOW_PRIORITY LOCAL INFILE 'x' INTO TABLE t", KindLoad, LocalInfile, false},
		{"load xml local infile 'x' into table t", KindLoad, LocalInfile, false},
		{"load index into cache t", KindAdmin, 0, false},
		{"prepare s from 'select 1'", KindPrepare, SQLPrepare, true},
		{"prepare s from 'delete from t'", KindPrepare, SQLPrepare, false},
		{"prepare s from @q", KindPrepare, SQLPrepare | Admin | ReadsUserVar, false},
		{"prepare s from concat('select ', 1)", KindPrepare, SQLPrepare | Admin, false},
		{"execute s", KindExecute, SQLPrepare, false},
		{"execute s using @a, @b", KindExecute, SQLPrepare | ReadsUserVar, false},
		{"execute immediate 'select 1'", KindExecute, SQLPrepare, false},
		{"execute immediate 'select last_insert_id()'", KindExecute, SQLPrepare | ReadsLastInsertID, false},
		{"execute immediate @q", KindExecute, SQLPrepare | Admin | ReadsUserVar, false},
		{"deallocate prepare s", KindDeallocate, SQLPrepare, true},
		{"drop prepare s", KindDeallocate, SQLPrepare, true},
		// Diagnostics.
		{"get diagnostics @n = number", KindGetDiagnostics, ReadsDiagnostics | DiagnosticsStatement | WritesUserVar, true},
		{"get current diagnostics condition 1 @m = message_text", KindGetDiagnostics, ReadsDiagnostics | DiagnosticsStatement | WritesUserVar, true},
		{"get stacked diagnostics condition @c @m = message_text", KindGetDiagnostics, ReadsDiagnostics | DiagnosticsStatement | WritesUserVar | ReadsUserVar, true},
		{"select @@warning_count, @@session.error_count", KindSelect, ReadsDiagnostics, true},
		{"signal sqlstate '45000'", KindSignal, 0, false},
		{"resignal", KindSignal, 0, false},
		// Administration.
		{"kill 12", KindKill, Kills, true},
		{"kill user u", KindKill, Admin | Kills, true},
		{"kill query id 5", KindKill, Admin | Kills, true},
		{"shutdown", KindAdmin, Admin, false},
		{"grant select on *.* to 'u'@'%'", KindAdmin, Admin, false},
		{"revoke all on *.* from u@localhost", KindAdmin, Admin, false},
		{"create user 'u'@'h' identified by 'p'", KindAdmin, Admin, false},
		{"alter user u@h account lock", KindAdmin, Admin, false},
		{"drop user u", KindAdmin, Admin, false},
		{"rename user a to b", KindAdmin, Admin, false},
		{"create role r", KindAdmin, Admin, false},
		{"drop role r", KindAdmin, Admin, false},
		{"change master to master_host='h'", KindAdmin, Admin, false},
		{"start slave", KindAdmin, Admin, false},
		{"start replica", KindAdmin, Admin, false},
		{"stop all slaves", KindAdmin, Admin, false},
		{"reset master", KindAdmin, Admin, false},
		{"reset slave all", KindAdmin, Admin, false},
		{"reset query cache", KindAdmin, Admin, false},
		{"purge binary logs to 'b.000002'", KindAdmin, Admin, false},
		{"binlog 'AAAA'", KindAdmin, Admin, false},
		{"install soname 'ha_x'", KindAdmin, Admin, false},
		{"uninstall plugin x", KindAdmin, Admin, false},
		{"cache index t in c", KindAdmin, 0, false},
		{"optimize table t", KindAdmin, 0, false},
		{"repair table t", KindAdmin, 0, false},
		{"check table t", KindAdmin, 0, true},
		{"checksum table t", KindAdmin, 0, true},
		// Server internals.
		{"select * from information_schema.processlist", KindSelect, ServerInternals, true},
		{"select * from INFORMATION_SCHEMA.`INNODB_TRX`", KindSelect, ServerInternals, true},
		{"select * from information_schema.tables", KindSelect, 0, true},
		{"select * from performance_schema.threads", KindSelect, ServerInternals, true},
		{"select * from `mysql`.user", KindSelect, ServerInternals, true},
		{"select * from sys.x", KindSelect, ServerInternals, true},
		{"select mysql from t", KindSelect, 0, true},
		{"select @@performance_schema as performance_schema", KindSelect, 0, true}, // Connector/J asks it on connecting
		// Empty and unknown.
		{"/* only a comment */", KindEmpty, 0, true},
		{"-- only\n# comments", KindEmpty, 0, true},
		{"frobnicate", KindUnknown, 0, false},
		{"select 'unterminated", KindUnknown, 0, false},
		{"select 1 /* unterminated", KindUnknown, 0, false},
		{"select 1 /*! unterminated", KindUnknown, 0, false},
		{"select `unterminated", KindUnknown, 0, false},
		{"show vitess_shards like 'unterminated", KindUnknown, 0, false},
		{"select 1 /*! a /*! b */ */", KindUnknown, 0, false},
		// MariaDB skips /*!99999 ... */ at the first */: inside, a string or line comment
		// with */ in it would hide what follows from this package's reading.
		{"select 1 /*!99999 ' */ into outfile '/tmp/x' -- ' */", KindUnknown, Admin, false},
		{"select 1 /*!99999 -- */ , nextval(s) \n */", KindUnknown, Admin, false},
		{"select 1 /*!40101 , '*/' */", KindSelect, 0, true}, // no version: always code, the string is one
		{"select 1 /*! , '*/' */", KindSelect, 0, true},
	})
}

// TestDeepNesting: no query makes the classifier recurse deeply (a goroutine's stack
// overflow would end the gateway), nor take more than linear time.
func TestDeepNesting(t *testing.T) {
	for _, q := range []string{
		strings.Repeat("set statement a=1 for ", 100000) + "select 1",
		strings.Repeat("(", 100000) + "select 1" + strings.Repeat(")", 100000),
		"begin not atomic " + strings.Repeat("begin ", 100000) + strings.Repeat("end; ", 100000) + "end",
		"select " + strings.Repeat("case when 1 then ", 100000) + "1" + strings.Repeat(" end", 100000),
		"explain " + strings.Repeat("explain ", 100000) + "select 1",
		// Linear, not quadratic:
		"select 1" + strings.Repeat(";", 300000) + "x",
		"prepare s from " + strings.Repeat("'select 1 ' ", 100000),
		"set a" + strings.Repeat(".b", 100000) + " = 1",
		"set " + strings.Repeat("@a = 1, ", 100000) + "@b = 2",
	} {
		res := Analyze([]byte(q), Options{})
		if res.Count == 0 {
			t.Errorf("no statement in %.40q...", q)
		}
	}
}

func TestEmptyQuery(t *testing.T) {
	for _, q := range []string{"", "  \n\t"} {
		if got := Analyze([]byte(q), Options{}); got.Count != 0 || got.ReadOnly {
			t.Errorf("Analyze(%q) = %+v, want no statement", q, got)
		}
	}
}

func TestUserVariables(t *testing.T) {
	runKindCases(t, Options{}, []kindCase{
		{"set @x = 1", KindSet, WritesUserVar, true},
		{"set @x := 1", KindSet, WritesUserVar, true},
		{"set @x = @y", KindSet, WritesUserVar | ReadsUserVar, true},
		{"set @x = 1, @y = (select @z := 2)", KindSet, WritesUserVar, true},
		{"set session sql_mode = @old", KindSet, ReadsUserVar, true},
		{"select @a := 1", KindSelect, WritesUserVar, true},
		{"select @a", KindSelect, ReadsUserVar, true},
		{"select @`a b`, @'c', @\"d\", @e.f$g", KindSelect, ReadsUserVar, true},
		{"select 1, 2 into @a, @b", KindSelect, WritesUserVar, true},
		{"select 1 into @a from dual where @b", KindSelect, WritesUserVar | ReadsUserVar, true},
		{"update t set a = @x", KindUpdate, ReadsUserVar, false},
		{"update t set a = (@x := @x + 1)", KindUpdate, WritesUserVar | ReadsUserVar, false},
		// LOAD DATA reads columns into user variables: (@v) SET c = @v leaves @v set.
		{"load data local infile 'x' into table t (a, @v) set b = @v", KindLoad, LocalInfile | WritesUserVar | ReadsUserVar, false},
		{"select 'x@y', `@z`", KindSelect, 0, true},
		{"grant select on t to 'u'@'h'", KindAdmin, Admin, false}, // 'u'@'h' is an account, not a variable
		{"create definer=u@localhost view v as select 1", KindDDL, 0, false},
	})
}

func TestLastInsertID(t *testing.T) {
	runKindCases(t, Options{}, []kindCase{
		{"select last_insert_id()", KindSelect, ReadsLastInsertID, true},
		{"select LAST_INSERT_ID ( )", KindSelect, ReadsLastInsertID, true},
		{"select last_insert_id(/* c */)", KindSelect, ReadsLastInsertID, true},
		{"update t set id = last_insert_id(id + 1)", KindUpdate, SetsLastInsertID, false},
		{"select @@identity", KindSelect, ReadsLastInsertID, true},
		{"select @@session.last_insert_id, @@LAST_INSERT_ID", KindSelect, ReadsLastInsertID, true},
		{"set last_insert_id = 5", KindSet, SetsLastInsertID, true},
		{"set @@identity = 5", KindSet, SetsLastInsertID, true},
		{"select found_rows()", KindSelect, ReadsFoundRows, true},
		{"select sql_calc_found_rows * from t limit 1", KindSelect, CalcFoundRows, true},
		{"select row_count()", KindSelect, ReadsRowCount, true},
		{"select connection_id(), 1", KindSelect, ReadsConnectionID, true},
		{"select t.last_insert_id from t", KindSelect, 0, true},
		{"select last_insert_id from t", KindSelect, 0, true},
	})
}

func TestQuoting(t *testing.T) {
	runKindCases(t, Options{}, []kindCase{
		{`select 'it\'s; delete from t'`, KindSelect, 0, true},
		{`select 'it''s; delete' from t`, KindSelect, 0, true},
		{`select "a\"b; delete"`, KindSelect, 0, true},
		{`select N'x;y', _utf8mb4'a;b', _latin1"c;d", X'3B', B'1', 0x3b, 0b1`, KindSelect, 0, true},
		{"select `a``;b` from t", KindSelect, 0, true},
		{"select 1 -- ; delete\n", KindSelect, 0, true},
		{"select 1 --; delete from t", KindSelect, 0, false}, // "--;" is no comment: 1 - -, then a DELETE
	})
	// NO_BACKSLASH_ESCAPES: 'a\' is a whole string.
	runKindCases(t, Options{NoBackslashEscapes: true}, []kindCase{
		{`select 'a\'; delete from t`, KindSelect, 0, false},
		{`select 'a\''; delete from t'`, KindSelect, 0, true},
	})
	// ANSI_QUOTES: "..." is an identifier.
	runKindCases(t, Options{AnsiQuotes: true}, []kindCase{
		{`select "a;b" from t`, KindSelect, 0, true},
		{`select "a""b" from "information_schema"."processlist"`, KindSelect, ServerInternals, true},
		{`use "d"`, KindUse, 0, true},
	})
}

func TestStatementCount(t *testing.T) {
	tests := []struct {
		q     string
		count int
		kinds Kinds
	}{
		{"select 1; select 2", 2, 1 << KindSelect},
		{"select 1;", 1, 1 << KindSelect},
		{"select 1;  ", 1, 1 << KindSelect},
		{"select 1; -- c", 1, 1 << KindSelect},
		{"select 1; /* c */ ;", 1, 1 << KindSelect},
		{"select 1;;", 1, 1 << KindSelect},
		{"select 1;; select 2", 3, 1<<KindSelect | 1<<KindEmpty},
		{"; select 1", 2, 1<<KindSelect | 1<<KindEmpty},
		{"select 1; delete from t", 2, 1<<KindSelect | 1<<KindDelete},
		{"select ';'; select \";\"; select `;`", 3, 1 << KindSelect},
		{"select 1 # ;\n; select 2", 2, 1 << KindSelect},
		// A statement that ends inside an executable comment is malformed: the rest is one.
		{"select 1; /*!40101 select 2; select 3 */ ; select 4", 2, 1<<KindSelect | 1<<KindUnknown},
		{"/*!40101 set a=1 */; /*!40101 set b=2 */;", 2, 1 << KindSet},
	}
	for _, tt := range tests {
		got := Analyze([]byte(tt.q), Options{})
		if got.Count != tt.count || got.Kinds != tt.kinds {
			t.Errorf("Analyze(%q): %d statements of kinds %s, want %d of %s", tt.q, got.Count, got.Kinds, tt.count, tt.kinds)
		}
	}
}

// TestStatementRanges checks the byte ranges of the statements of multi-statement queries,
// including stored programs and compound statements with ';' in their bodies.
func TestStatementRanges(t *testing.T) {
	tests := []struct {
		q    string
		want []string // each statement's text, trimmed, and its kind
	}{
		{"select 1; select 2", []string{"select 1|select", "select 2|select"}},
		{"create procedure p() begin declare x int default 0; if x = 0 then select 'zero'; end if; end; call p(); drop procedure p",
			[]string{"create procedure p() begin declare x int default 0; if x = 0 then select 'zero'; end if; end|ddl", "call p()|call", "drop procedure p|ddl"}},
		{"create procedure p() select 1; call p()", []string{"create procedure p() select 1|ddl", "call p()|call"}},
		{"CREATE DEFINER=`root`@`localhost` PROCEDURE `p`(IN a INT, OUT b VARCHAR(10)) COMMENT 'x;y' READS SQL DATA SQL SECURITY INVOKER BEGIN SELECT a; SET b = 'x'; END; select 2",
			[]string{"CREATE DEFINER=`root`@`localhost` PROCEDURE `p`(IN a INT, OUT b VARCHAR(10)) COMMENT 'x;y' READS SQL DATA SQL SECURITY INVOKER BEGIN SELECT a; SET b = 'x'; END|ddl", "select 2|select"}},
		{"create function f(a int) returns int deterministic begin return a + 1; end; select f(1)",
			[]string{"create function f(a int) returns int deterministic begin return a + 1; end|ddl", "select f(1)|select"}},
		{"create function f() returns varchar(10) character set utf8mb4 collate utf8mb4_bin no sql begin declare s varchar(10); set s = 'a'; return s; end; select 1",
			[]string{"create function f() returns varchar(10) character set utf8mb4 collate utf8mb4_bin no sql begin declare s varchar(10); set s = 'a'; return s; end|ddl", "select 1|select"}},
		{"create function f() returns int return if(1, 2, 3); select 1", []string{"create function f() returns int return if(1, 2, 3)|ddl", "select 1|select"}},
		{"create function f() returns int return case when 1 then 2 end; select 1", []string{"create function f() returns int return case when 1 then 2 end|ddl", "select 1|select"}},
		{"create function f() returns set('a','b') return 'a'; select 1", []string{"create function f() returns set('a','b') return 'a'|ddl", "select 1|select"}},
		{"create function f() returns double precision unsigned l: begin return 1; end l; select 1", []string{"create function f() returns double precision unsigned l: begin return 1; end l|ddl", "select 1|select"}},
		{"create function u returns string soname 'u.so'; select 1", []string{"create function u returns string soname 'u.so'|ddl", "select 1|select"}},
		{"create trigger tr before insert on t for each row begin if new.a < 0 then set new.a = 0; end if; end; insert into t values (1)",
			[]string{"create trigger tr before insert on t for each row begin if new.a < 0 then set new.a = 0; end if; end|ddl", "insert into t values (1)|insert"}},
		{"create trigger tr after update on t for each row follows other insert into log values (old.a); select 1",
			[]string{"create trigger tr after update on t for each row follows other insert into log values (old.a)|ddl", "select 1|select"}},
		{"create event e on schedule every 1 day starts now() on completion preserve do begin delete from t; insert into u values (1); end; select 1",
			[]string{"create event e on schedule every 1 day starts now() on completion preserve do begin delete from t; insert into u values (1); end|ddl", "select 1|select"}},
		{"alter event e on schedule every 2 day; select 1", []string{"alter event e on schedule every 2 day|ddl", "select 1|select"}},
		{"alter event e do begin select 1; end; select 2", []string{"alter event e do begin select 1; end|ddl", "select 2|select"}},
		{"create procedure p() begin declare c cursor for select a from t for update; declare continue handler for not found, sqlstate value '02000' begin set @done = 1; end; open c; fetch c into x; close c; end; select 1",
			[]string{"create procedure p() begin declare c cursor for select a from t for update; declare continue handler for not found, sqlstate value '02000' begin set @done = 1; end; open c; fetch c into x; close c; end|ddl", "select 1|select"}},
		{"create procedure p() begin declare exit handler for sqlexception if 1 then rollback; end if; start transaction; end; select 1",
			[]string{"create procedure p() begin declare exit handler for sqlexception if 1 then rollback; end if; start transaction; end|ddl", "select 1|select"}},
		{"create procedure p() begin l1: loop leave l1; end loop l1; l2: while 1 do select 1; end while l2; l3: repeat select repeat('a', 2); until 1 end repeat; for i in 1..2 do select i; end for; end; select 1",
			[]string{"create procedure p() begin l1: loop leave l1; end loop l1; l2: while 1 do select 1; end while l2; l3: repeat select repeat('a', 2); until 1 end repeat; for i in 1..2 do select i; end for; end|ddl", "select 1|select"}},
		{"create procedure p() begin case x when 1 then select case when a then 1 else 2 end; else begin end; end case; end; select 1",
			[]string{"create procedure p() begin case x when 1 then select case when a then 1 else 2 end; else begin end; end case; end|ddl", "select 1|select"}},
		{"create procedure p() begin if (1) then select if(1,2,3); elseif exists (select 1) then drop table if exists t; else create table if not exists t (a int); end if; end; select 1",
			[]string{"create procedure p() begin if (1) then select if(1,2,3); elseif exists (select 1) then drop table if exists t; else create table if not exists t (a int); end if; end|ddl", "select 1|select"}},
		{"create or replace procedure if not exists p() begin set statement max_statement_time = 1 for select * from t for system_time all; end; select 1",
			[]string{"create or replace procedure if not exists p() begin set statement max_statement_time = 1 for select * from t for system_time all; end|ddl", "select 1|select"}},
		{"begin not atomic select 1; select 2; end; select 3", []string{"begin not atomic select 1; select 2; end|compound", "select 3|select"}},
		{"begin; select 1; commit", []string{"begin|begin", "select 1|select", "commit|commit"}},
		{"begin work; select 1", []string{"begin work|begin", "select 1|select"}},
		{"if 1 then select 1; elseif 2 then select 2; else select 3; end if; select 4", []string{"if 1 then select 1; elseif 2 then select 2; else select 3; end if|compound", "select 4|select"}},
		{"case 1 when 1 then select 'a'; else select 'c'; end case; select 3", []string{"case 1 when 1 then select 'a'; else select 'c'; end case|compound", "select 3|select"}},
		{"while 0 do select 1; end while; select 3", []string{"while 0 do select 1; end while|compound", "select 3|select"}},
		{"repeat select 1; until 1 end repeat; select 3", []string{"repeat select 1; until 1 end repeat|compound", "select 3|select"}},
		{"for i in 1..2 do select i; end for; select 3", []string{"for i in 1..2 do select i; end for|compound", "select 3|select"}},
		{"begin not atomic declare x int default case when 1 then 2 end; select x; end; select 3", []string{"begin not atomic declare x int default case when 1 then 2 end; select x; end|compound", "select 3|select"}},
		{"begin not atomic l1: begin select 1; end l1; l2: loop leave l2; end loop l2; end; select 3", []string{"begin not atomic l1: begin select 1; end l1; l2: loop leave l2; end loop l2; end|compound", "select 3|select"}},
		{"set statement max_statement_time=1 for create procedure p() begin select 1; end; select 2", []string{"set statement max_statement_time=1 for create procedure p() begin select 1; end|ddl", "select 2|select"}},
		{"/*!50003 CREATE*/ /*!50003 PROCEDURE p() BEGIN SELECT 1; END */; select 2", []string{"/*!50003 CREATE*/ /*!50003 PROCEDURE p() BEGIN SELECT 1; END */|ddl", "select 2|select"}},
		// A body the tracker cannot follow runs to the end of the query.
		{"create procedure p() begin if 1 then select 1; end loop; end; select 2", []string{"create procedure p() begin if 1 then select 1; end loop; end; select 2|ddl"}},
		{"begin not atomic select 1; select 2", []string{"begin not atomic select 1; select 2|compound"}},
	}
	for _, tt := range tests {
		t.Run(tt.q, func(t *testing.T) {
			q := []byte(tt.q)
			var got []string
			for st := range Statements(q, Options{}) {
				got = append(got, strings.TrimSpace(string(q[st.Start:st.End]))+"|"+st.Kind.String())
			}
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("statements of %q:\n%s\nwant:\n%s", tt.q, strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}

// TestSQLModeChanges: a SET of sql_mode changes how MariaDB reads the statements after it
// in the same query; SET STATEMENT sql_mode=... applies to its own statement.
func TestSQLModeChanges(t *testing.T) {
	tests := []struct {
		q     string
		opt   Options
		count int
	}{
		{`set sql_mode='ANSI_QUOTES'; select "a;b" from t`, Options{}, 2},
		{`set sql_mode='ANSI_QUOTES'; select "a;b" from t; set sql_mode=''; select "a;b"`, Options{}, 4},
		{`set sql_mode='NO_BACKSLASH_ESCAPES'; select 'a\'; select 2`, Options{}, 3},
		// MariaDB reads SET STATEMENT's own statement with the session's sql_mode.
		{`set statement sql_mode='NO_BACKSLASH_ESCAPES' for select 'a\'; select 2 '; select 3; select 4`, Options{}, 3},
		{`set sql_mode='ansi'; select "x;y"`, Options{}, 2},
		{`set sql_mode=''; select "x;y"`, Options{AnsiQuotes: true}, 2},
		{`set sql_mode=@old; select "x;y"`, Options{AnsiQuotes: true}, 2}, // not a literal: unchanged
	}
	for _, tt := range tests {
		if got := Analyze([]byte(tt.q), tt.opt); got.Count != tt.count {
			t.Errorf("Analyze(%q, %+v): %d statements, want %d", tt.q, tt.opt, got.Count, tt.count)
		}
	}
}

func TestMultiByteCharsets(t *testing.T) {
	// In gbk, 0xbf5c is one character: its 0x5c is not a backslash, so the quote after it
	// ends the string and what follows is code.
	q := []byte("select '\xbf\x5c' into outfile '/tmp/x' -- '")
	if got := Analyze(q, Options{Charset: CharsetGBK}); got.Flags&Admin == 0 {
		t.Errorf("gbk: flags %s, want admin (INTO OUTFILE)", got.Flags)
	}
	// Read as utf8, the same bytes are one string up to the last quote: no INTO OUTFILE.
	if got := Analyze(q, Options{}); got.Flags&Admin != 0 {
		t.Errorf("utf8: flags %s, want no admin", got.Flags)
	}
	// SET NAMES gbk changes the reading of the statements after it.
	q2 := []byte("set names gbk; select '\xbf\x5c'; select 2")
	if got := Analyze(q2, Options{}); got.Count != 3 {
		t.Errorf("set names gbk: %d statements, want 3", got.Count)
	}
}

func TestOptionsFromStatus(t *testing.T) {
	o := OptionsFromStatus(Options{Charset: CharsetSJIS}, 0x8202)
	if !o.AnsiQuotes || !o.NoBackslashEscapes || o.Charset != CharsetSJIS {
		t.Errorf("OptionsFromStatus(0x8202) = %+v", o)
	}
	if o := OptionsFromStatus(o, 0x0002); o.AnsiQuotes || o.NoBackslashEscapes {
		t.Errorf("OptionsFromStatus(0x0002) = %+v", o)
	}
}

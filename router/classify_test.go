package router

import (
	"testing"
)

func TestClassify(t *testing.T) {
	tests := []struct {
		q    string
		want Statement
	}{
		{"select * from customer where id = 1", Statement{Kind: KindSelect}},
		{"  /* hint */ SELECT 1", Statement{Kind: KindSelect}},
		{"-- note\nselect 1", Statement{Kind: KindSelect}},
		{"# note\nselect 1", Statement{Kind: KindSelect}},
		{"(select 1) union (select 2)", Statement{Kind: KindSelect}},
		{"WITH t AS (select 1) select * from t", Statement{Kind: KindSelect}},
		{"insert into t values (1)", Statement{Kind: KindWrite}},
		{"UPDATE t set a=1", Statement{Kind: KindWrite}},
		{"delete from t", Statement{Kind: KindWrite}},
		{"replace into t values (1)", Statement{Kind: KindWrite}},
		{"create table t (id int)", Statement{Kind: KindWrite}},
		{"drop table t", Statement{Kind: KindWrite}},
		{"truncate t", Statement{Kind: KindWrite}},
		{"set names utf8mb4", Statement{Kind: KindSet}},
		{"SET SESSION sql_mode = ''", Statement{Kind: KindSet}},
		{"set @@session.time_zone = '+00:00'", Statement{Kind: KindSet}},
		{"set @x = 1", Statement{Kind: KindStateful}},
		{"set autocommit = 0", Statement{Kind: KindSetAutocommit, Arg: "0"}},
		{"SET @@autocommit=1", Statement{Kind: KindSetAutocommit, Arg: "1"}},
		{"set @@session.autocommit=OFF", Statement{Kind: KindSetAutocommit, Arg: "0"}},
		{"set session autocommit = true", Statement{Kind: KindSetAutocommit, Arg: "1"}},
		{"set autocommit=0, sql_mode=''", Statement{Kind: KindSetAutocommit}},
		{"set sql_mode='', autocommit=0", Statement{Kind: KindSetAutocommit}},
		{"set global max_connections = 10", Statement{Kind: KindSetNoRecord}},
		{"set @@global.max_connections = 10", Statement{Kind: KindSetNoRecord}},
		{"set transaction isolation level read committed", Statement{Kind: KindSetNextTx}},
		{"SET SESSION TRANSACTION ISOLATION LEVEL SERIALIZABLE", Statement{Kind: KindSet}},
		{"set password = 'x'", Statement{Kind: KindSetNoRecord}},
		{"SET STATEMENT max_statement_time=1 FOR DELETE FROM t", Statement{Kind: KindWrite}},
		{"SET STATEMENT max_statement_time=1 FOR SELECT 1", Statement{Kind: KindOther}},
		{"create temporary table t (id int)", Statement{Kind: KindStateful}},
		{"LOCK TABLES t WRITE", Statement{Kind: KindStateful}},
		{"select get_lock('x', 1)", Statement{Kind: KindStateful}},
		{"SELECT gEt_LoCk ('x', 1)", Statement{Kind: KindStateful}},
		{"select is_free_lock('x'), count(*) from t", Statement{Kind: KindSelect}},
		{"select @a := 1", Statement{Kind: KindStateful}},
		{"prepare s from 'select 1'", Statement{Kind: KindStateful}},
		{"/*!40014 SET FOREIGN_KEY_CHECKS=0 */;", Statement{Kind: KindSet}},
		{"/*!40101 SET @OLD_SQL_MODE=@@SQL_MODE */", Statement{Kind: KindStateful}},
		{"/*M!100401 SET NAMES utf8mb4 */", Statement{Kind: KindSet}},
		{"/*!40000 ALTER TABLE t DISABLE KEYS */", Statement{Kind: KindWrite}},
		{"begin", Statement{Kind: KindBegin}},
		{"BEGIN WORK", Statement{Kind: KindBegin}},
		{"begin not atomic select 1; end", Statement{Kind: KindOther}},
		{"start transaction read only", Statement{Kind: KindBegin}},
		{"start slave", Statement{Kind: KindOther}},
		{"commit", Statement{Kind: KindCommit}},
		{"commit;", Statement{Kind: KindCommit}},
		{"rollback", Statement{Kind: KindRollback}},
		{"rollback work", Statement{Kind: KindRollback}},
		{"rollback to savepoint a", Statement{Kind: KindOther}},
		{"rollback work to a", Statement{Kind: KindOther}},
		{"use commerce", Statement{Kind: KindUse, Arg: "commerce"}},
		{"USE `commerce@replica`;", Statement{Kind: KindUse, Arg: "commerce@replica"}},
		{"use `a``b`", Statement{Kind: KindUse, Arg: "a`b"}},
		{"use a b", Statement{Kind: KindOther}},
		{"show databases", Statement{Kind: KindShowDatabases}},
		{"SHOW SCHEMAS;", Statement{Kind: KindShowDatabases}},
		{"show databases like 'x'", Statement{Kind: KindOther}},
		{"show tables", Statement{Kind: KindOther}},
		{"select connection_id()", Statement{Kind: KindConnectionID, Arg: "connection_id()"}},
		{"SELECT CONNECTION_ID ( ) ;", Statement{Kind: KindConnectionID, Arg: "CONNECTION_ID ( )"}},
		{"select connection_id() + 1", Statement{Kind: KindSelect}},
		{"SELECT @@autocommit", Statement{Kind: KindSelectAutocommit, Arg: "@@autocommit"}},
		{"select @@session.autocommit;", Statement{Kind: KindSelectAutocommit, Arg: "@@session.autocommit"}},
		{"select @@autocommit, 1", Statement{Kind: KindSelect}},
		{"kill 12", Statement{Kind: KindKill, KillID: 12}},
		{"KILL QUERY 7", Statement{Kind: KindKill, KillID: 7, KillQuery: true}},
		{"kill connection 7;", Statement{Kind: KindKill, KillID: 7}},
		{"kill hard query 7", Statement{Kind: KindKill, KillID: 7, KillQuery: true}},
		{"kill query id 7", Statement{Kind: KindOther}},
		{"kill 99999999999", Statement{Kind: KindOther}},
		{"/*!40101 SELECT 1 */", Statement{Kind: KindOther}},
		{"SHOW VITESS_SHARDS", Statement{Kind: KindShowVitessShards}},
		{"/*vt+ WORKLOAD_NAME=debezium */ SHOW VITESS_SHARDS LIKE 'commerce/%'", Statement{Kind: KindShowVitessShards, Arg: "commerce/%"}},
		{"show vitess_tablets", Statement{Kind: KindShowVitessTablets}},
		{"show vitess_tablets like 'x''y'", Statement{Kind: KindShowVitessTablets, Arg: "x'y"}},
		{"show vitess_shards where 1", Statement{Kind: KindOther}},
		{"show vitess_shards like 'unterminated", Statement{Kind: KindOther}},
		{"", Statement{Kind: KindOther}},
		{"/* unterminated", Statement{Kind: KindOther}},
		{"--", Statement{Kind: KindOther}},
	}
	for _, tt := range tests {
		t.Run(tt.q, func(t *testing.T) {
			if got := Classify([]byte(tt.q)); got != tt.want {
				t.Fatalf("Classify(%q) = %+v, want %+v", tt.q, got, tt.want)
			}
		})
	}
}

func FuzzClassify(f *testing.F) {
	for _, s := range []string{"select 1", "kill query 1", "use `x`", "/* a */ set @@session.x=1", "-- \n", "rollback work to x"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, q []byte) {
		s := Classify(q)
		if s.Kind > KindStateful {
			t.Fatalf("kind out of range: %d", s.Kind)
		}
	})
}

func BenchmarkClassifySelect(b *testing.B) {
	q := []byte("SELECT c FROM sbtest1 WHERE id=4711")
	b.ReportAllocs()
	for b.Loop() {
		if Classify(q).Kind != KindSelect {
			b.Fatal("wrong kind")
		}
	}
}

func TestLikeMatch(t *testing.T) {
	tests := []struct {
		pattern, s string
		want       bool
	}{
		{"commerce/%", "commerce/0", true},
		{"commerce/%", "commerce/-80", true},
		{"commerce/%", "customer/0", false},
		{"%", "", true},
		{"a_c", "abc", true},
		{"a_c", "ac", false},
		{"COMMERCE/%", "commerce/0", true},
		{`a\%b`, "a%b", true},
		{`a\%b`, "axb", false},
		{"%-80", "customer/-80", true},
		{"%%x%%", "abxcd", true},
		{"", "", true},
		{"", "x", false},
	}
	for _, tt := range tests {
		if got := likeMatch(tt.pattern, tt.s); got != tt.want {
			t.Errorf("likeMatch(%q, %q) = %v, want %v", tt.pattern, tt.s, got, tt.want)
		}
	}
}

func TestShowTablesFrom(t *testing.T) {
	tests := []struct {
		q, db, rest string
		ok          bool
	}{
		{"SHOW TABLES FROM commerce", "commerce", "SHOW TABLES", true},
		{"/*vt+ WORKLOAD_NAME=debezium */ SHOW TABLES FROM commerce", "commerce", "SHOW TABLES", true},
		{"show full tables in `commerce` like 'c%'", "commerce", "SHOW full tables like 'c%'", true},
		{"show tables", "", "", false},
		{"show databases", "", "", false},
		{"select 1", "", "", false},
	}
	for _, tt := range tests {
		db, rest, ok := showTablesFrom([]byte(tt.q))
		if ok != tt.ok || db != tt.db || (ok && string(rest) != tt.rest) {
			t.Errorf("showTablesFrom(%q) = %q, %q, %v; want %q, %q, %v", tt.q, db, rest, ok, tt.db, tt.rest, tt.ok)
		}
	}
}

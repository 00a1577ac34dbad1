package router

import "testing"

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
		{"set @x = 1", Statement{Kind: KindSet}},
		{"set autocommit = 0", Statement{Kind: KindSetNoRecord}},
		{"SET @@autocommit=1", Statement{Kind: KindSetNoRecord}},
		{"set @@session.autocommit=0", Statement{Kind: KindSetNoRecord}},
		{"set session autocommit=0", Statement{Kind: KindSetNoRecord}},
		{"set global max_connections = 10", Statement{Kind: KindSetNoRecord}},
		{"set @@global.max_connections = 10", Statement{Kind: KindSetNoRecord}},
		{"set transaction isolation level read committed", Statement{Kind: KindSetNoRecord}},
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
		{"kill 12", Statement{Kind: KindKill, KillID: 12}},
		{"KILL QUERY 7", Statement{Kind: KindKill, KillID: 7, KillQuery: true}},
		{"kill connection 7;", Statement{Kind: KindKill, KillID: 7}},
		{"kill hard query 7", Statement{Kind: KindKill, KillID: 7, KillQuery: true}},
		{"kill query id 7", Statement{Kind: KindOther}},
		{"kill 99999999999", Statement{Kind: KindOther}},
		{"/*!40101 SET NAMES utf8 */", Statement{Kind: KindOther}},
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
		if s.Kind > KindKill {
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

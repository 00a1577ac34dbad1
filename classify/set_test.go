package classify

import (
	"fmt"
	"strings"
	"testing"
)

// assignments renders a SET's assignments compactly: form scope name=value (literal or
// the value's text), collate, user.
func assignments(q []byte, st Statement) string {
	if st.Set == nil {
		return "<nil>"
	}
	var parts []string
	for _, a := range st.Set.Assignments {
		v := "(" + string(a.ValueSpan.Text(q)) + ")"
		if a.Literal {
			v = fmt.Sprintf("%q", a.Value)
		}
		s := fmt.Sprintf("%s:%s:%s=%s", formNames[a.Form], a.Scope, a.Name, v)
		if a.Collate != "" {
			s += " collate " + a.Collate
		}
		if a.User != "" {
			s += " for " + a.User
		}
		parts = append(parts, s)
	}
	if len(st.Set.StatementVars) > 0 {
		parts = append(parts, "statement "+strings.Join(st.Set.StatementVars, ","))
	}
	return strings.Join(parts, "; ")
}

var formNames = map[SetForm]string{SetVariable: "var", SetUserVariable: "user", SetNames: "names",
	SetCharset: "charset", SetTransaction: "tx", SetPassword: "password", SetRole: "role", SetDefaultRole: "default_role"}

func TestSet(t *testing.T) {
	tests := []struct {
		q     string
		kind  Kind
		want  string
		ro    bool
		flags Flags
	}{
		{"set autocommit = 0", KindSet, `var:session:autocommit="0"`, true, 0},
		{"SET @@autocommit=ON", KindSet, `var:session:autocommit="ON"`, true, 0},
		{"set @@session.autocommit := off", KindSet, `var:session:autocommit="off"`, true, 0},
		{"set @@local.sql_mode = 'ANSI', LOCAL wait_timeout = 10", KindSet, `var:session:sql_mode="ANSI"; var:session:wait_timeout="10"`, true, 0},
		{"set @@`sql_mode` = default", KindSet, `var:session:sql_mode="default"`, true, 0},
		{"SET SESSION sql_mode = ''", KindSet, `var:session:sql_mode=""`, true, 0},
		{"set time_zone = '+00:00'", KindSet, `var:session:time_zone="+00:00"`, true, 0},
		{"set x = -1", KindSet, `var:session:x="-1"`, true, 0},
		{"set x = null", KindSet, `var:session:x="null"`, true, 0},
		{"set x = 'it''s', y = \"a\\nb\"", KindSet, "var:session:x=\"it's\"; var:session:y=\"a\\nb\"", true, 0},
		{"set sql_mode = concat(@@sql_mode, ',ANSI'), b = 2", KindSet, `var:session:sql_mode=(concat(@@sql_mode, ',ANSI')); var:session:b="2"`, true, 0},
		{"set x = 1 + 1", KindSet, `var:session:x=(1 + 1)`, true, 0},
		{"set x = (select a from t where b in (1, 2))", KindSet, `var:session:x=((select a from t where b in (1, 2)))`, true, 0},
		{"set global keycache1.key_buffer_size = 1024", KindSet, `var:global:keycache1.key_buffer_size="1024"`, false, Admin},
		// A scope keyword carries over to later assignments, an @@ prefix does not (MariaDB 10.11).
		{"set global a=1, b=2", KindSet, `var:global:a="1"; var:global:b="2"`, false, Admin},
		{"set session a=1, global b=2, c=3", KindSet, `var:session:a="1"; var:global:b="2"; var:global:c="3"`, false, Admin},
		{"set @@global.a=1, b=2", KindSet, `var:global:a="1"; var:session:b="2"`, false, Admin},
		{"set global a=1, @@session.b=2, c=3", KindSet, `var:global:a="1"; var:session:b="2"; var:global:c="3"`, false, Admin},
		{"set local a=1, @@global.b=2, c=3", KindSet, `var:session:a="1"; var:global:b="2"; var:session:c="3"`, false, Admin},
		{"set @x = 1, @`Y z` := 'a'", KindSet, `user:session:x="1"; user:session:y z="a"`, true, WritesUserVar},
		{"set @'q' = 1", KindSet, `user:session:q="1"`, true, WritesUserVar},
		{"SET NAMES utf8mb4", KindSet, `names:session:names="utf8mb4"`, true, 0},
		{"set names 'latin1' collate 'latin1_bin'", KindSet, `names:session:names="latin1" collate latin1_bin`, true, 0},
		{"set names default", KindSet, `names:session:names="default"`, true, 0},
		{"set names utf8, @x = 1, autocommit = 1", KindSet, `names:session:names="utf8"; user:session:x="1"; var:session:autocommit="1"`, true, WritesUserVar},
		{"set character set utf8mb4", KindSet, `charset:session:charset="utf8mb4"`, true, 0},
		{"SET CHARSET default", KindSet, `charset:session:charset="default"`, true, 0},
		{"set transaction isolation level read committed", KindSet, `tx:next_transaction:tx_isolation="READ-COMMITTED"`, true, 0},
		{"set transaction read only, isolation level repeatable read", KindSet, `tx:next_transaction:tx_read_only="1"; tx:next_transaction:tx_isolation="REPEATABLE-READ"`, true, 0},
		{"SET SESSION TRANSACTION ISOLATION LEVEL SERIALIZABLE", KindSet, `tx:session:tx_isolation="SERIALIZABLE"`, true, 0},
		{"set global transaction read write", KindSet, `tx:global:tx_read_only="0"`, false, Admin},
		{"set local transaction isolation level read uncommitted", KindSet, `tx:session:tx_isolation="READ-UNCOMMITTED"`, true, 0},
		{"set @a=1, transaction isolation level read committed", KindUnknown, `user:session:a="1"`, false, WritesUserVar},
		{"set password = password('x')", KindAdmin, `password:session:password=(password('x'))`, false, Admin},
		{"set password for 'u'@'h' = 'x', @a = 1", KindAdmin, `password:session:password="x" for 'u'@'h'; user:session:a="1"`, false, Admin | WritesUserVar},
		{"set role r", KindAdmin, `role:session:role="r"`, true, 0},
		{"set role none", KindAdmin, `role:session:role="none"`, true, 0},
		{"set default role r for u@h", KindAdmin, `default_role:session:default role="r" for u@h`, false, Admin},
		{"set statement max_statement_time=1, sql_mode='' for select 1", KindSelect, `statement max_statement_time,sql_mode`, true, 0},
		{"SET STATEMENT max_statement_time=1 FOR DELETE FROM t", KindDelete, `statement max_statement_time`, false, 0},
		{"set statement x = (select 1 for update) for update t set a = 1", KindUpdate, `statement x`, false, ForUpdate},
		{"set statement x=1 for call p(@a)", KindCall, `statement x`, false, Call | WritesUserVar | ReadsUserVar},
		{"set statement x=1 for create temporary table t (a int)", KindDDL, `statement x`, false, CreatesTempTable},
		{"set statement a=1 for set statement b=2 for delete from t", KindDelete, `statement a,b`, false, 0},
		{"set", KindUnknown, ``, false, 0},
		{"set x", KindUnknown, ``, false, 0},
		{"set x = ", KindUnknown, ``, false, 0},
	}
	for _, tt := range tests {
		t.Run(tt.q, func(t *testing.T) {
			q := []byte(tt.q)
			got := Analyze(q, Options{})
			st := got.First
			if st.Kind != tt.kind || assignments(q, st) != tt.want && tt.want != "" || got.ReadOnly != tt.ro || got.Flags != tt.flags {
				t.Errorf("Analyze(%q) = %s %s ro=%v flags=%q\nwant %s %s ro=%v flags=%q",
					tt.q, st.Kind, assignments(q, st), got.ReadOnly, got.Flags, tt.kind, tt.want, tt.ro, tt.flags)
			}
			if st.Flags&Admin != 0 && st.Reason == "" {
				t.Errorf("Analyze(%q): admin without a reason", tt.q)
			}
		})
	}
}

// TestSetSpans: an assignment's span is its text without the scope keyword, so that a
// single assignment can be replayed.
func TestSetSpans(t *testing.T) {
	q := []byte("SET GLOBAL a = 1, @@session.b=(1,2), NAMES utf8 COLLATE utf8_bin, @x := 'y'")
	st := Analyze(q, Options{}).First
	var got []string
	for _, a := range st.Set.Assignments {
		got = append(got, string(a.Span.Text(q)))
	}
	want := []string{"a = 1", "@@session.b=(1,2)", "NAMES utf8 COLLATE utf8_bin", "@x := 'y'"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("spans %q, want %q", got, want)
	}
}

// MariaDB reads @@global, its dot and the name as separate tokens: spaces and comments
// around the dot keep the scope (checked on MariaDB 10.11 in mariadb_test.go).
func TestSysVarScopeSpaces(t *testing.T) {
	tests := []struct {
		q     string
		scope Scope
		name  string
	}{
		{"SET @@global .wait_timeout=5", ScopeGlobal, "wait_timeout"},
		{"SET @@global. wait_timeout=5", ScopeGlobal, "wait_timeout"},
		{"SET @@GLOBAL/* c */./* c */`wait_timeout`=5", ScopeGlobal, "wait_timeout"},
		{"SET @@global\n.keycache1 .key_buffer_size=5", ScopeGlobal, "keycache1.key_buffer_size"},
		{"SET @@session .wait_timeout=5", ScopeSession, "wait_timeout"},
		{"SET a=1, @@local . wait_timeout=5", ScopeSession, "wait_timeout"},
		{"SET @@global.wait_timeout=5", ScopeGlobal, "wait_timeout"},
		{"SET @@wait_timeout=5", ScopeSession, "wait_timeout"},
	}
	for _, tt := range tests {
		st := Analyze([]byte(tt.q), Options{}).First
		if st.Set == nil || len(st.Set.Assignments) == 0 {
			t.Errorf("%q: %s, no assignments", tt.q, st.Kind)
			continue
		}
		a := st.Set.Assignments[len(st.Set.Assignments)-1]
		if a.Scope != tt.scope || a.Name != tt.name {
			t.Errorf("%q: %s %s, want %s %s", tt.q, a.Scope, a.Name, tt.scope, tt.name)
		}
		if (tt.scope == ScopeGlobal) != (st.Flags&Admin != 0) {
			t.Errorf("%q: flags %s", tt.q, st.Flags)
		}
	}
	if st := Analyze([]byte("SET @@`global`.x=1"), Options{}).First; st.Flags&Admin != 0 {
		t.Errorf("@@`global`.x is a structured variable named global (MariaDB refuses it): flags %s", st.Flags)
	}
}

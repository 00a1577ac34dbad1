package classify

import "testing"

func TestShow(t *testing.T) {
	tests := []struct {
		q    string
		want Show
	}{
		{"show databases", Show{Kind: ShowDatabases}},
		{"SHOW SCHEMAS;", Show{Kind: ShowDatabases}},
		{"show /* c */ databases -- c", Show{Kind: ShowDatabases}},
		{"show databases like 'x'", Show{}},
		{"show tables", Show{}},
		{"SHOW VITESS_SHARDS", Show{Kind: ShowVitessShards}},
		{"/*vt+ WORKLOAD_NAME=debezium */ SHOW VITESS_SHARDS LIKE 'commerce/%'", Show{Kind: ShowVitessShards, Like: "commerce/%", HasLike: true}},
		{"show vitess_tablets", Show{Kind: ShowVitessTablets}},
		{"show vitess_tablets like 'x''y'", Show{Kind: ShowVitessTablets, Like: "x'y", HasLike: true}},
		{"show vitess_tablets like ''", Show{Kind: ShowVitessTablets, HasLike: true}},
		{`show vitess_tablets like 'a\_b'`, Show{Kind: ShowVitessTablets, Like: `a\_b`, HasLike: true}},
		{"show vitess_shards where 1", Show{}},
		{"show processlist", Show{Kind: ShowProcesslist}},
		{"SHOW FULL PROCESSLIST", Show{Kind: ShowProcesslist, Full: true}},
		{"show full tables", Show{}},
		{"show vschema tables", Show{Kind: ShowVSchemaTables}},
		{"show vschema vindexes", Show{Kind: ShowVSchemaVindexes}},
		{"show vschema vindexes on t", Show{}},
		{"show warnings", Show{Kind: ShowWarnings}},
		{"show errors", Show{Kind: ShowErrors}},
		{"show warnings limit 10", Show{Kind: ShowWarnings, Limit: 10, HasLimit: true}},
		{"show warnings limit 2, 10", Show{Kind: ShowWarnings, Limit: 10, Offset: 2, HasLimit: true}},
		{"show errors limit 10 offset 2", Show{Kind: ShowErrors, Limit: 10, Offset: 2, HasLimit: true}},
		{"show warnings limit x", Show{}},
		{"show count(*) warnings", Show{Kind: ShowCountWarnings}},
		{"show COUNT( * ) errors", Show{Kind: ShowCountErrors}},
		{"show count(/* c */*)warnings", Show{Kind: ShowCountWarnings}},
		{"show count (*) warnings", Show{}}, // MariaDB refuses the space
	}
	for _, tt := range tests {
		st := Analyze([]byte(tt.q), Options{}).First
		if st.Kind != KindShow || st.Show == nil || *st.Show != tt.want {
			t.Errorf("Analyze(%q) = %s %+v, want show %+v", tt.q, st.Kind, st.Show, tt.want)
		}
	}
}

func TestKill(t *testing.T) {
	tests := []struct {
		q     string
		want  Kill
		admin bool
	}{
		{"kill 12", Kill{ID: 12, Plain: true}, false},
		{"KILL QUERY 7", Kill{Target: KillQuery, Query: true, ID: 7, Plain: true}, false},
		{"kill connection 7;", Kill{ID: 7, Plain: true}, false},
		{"kill hard query 7", Kill{Target: KillQuery, Query: true, Hard: true, ID: 7, Plain: true}, false},
		{"kill soft connection 7", Kill{Soft: true, ID: 7, Plain: true}, false},
		{"kill (99999)", Kill{ID: 99999, Plain: true}, false},
		{"kill ((5)) /* c */", Kill{ID: 5, Plain: true}, false},
		{"kill 18446744073709551615", Kill{ID: 18446744073709551615, Plain: true}, false},
		{"kill 18446744073709551616", Kill{}, true},
		{"kill query id 7", Kill{Target: KillQueryID, Query: true, ID: 7, Plain: true}, true},
		{"kill 1+1", Kill{}, true},
		{"kill @x", Kill{}, true},
		{"kill '5'", Kill{}, true},
		{"kill (5", Kill{}, true},
		{"kill user nobody", Kill{Target: KillUser, User: "nobody"}, true},
		{"kill query user 'u'@'h'", Kill{Target: KillUser, Query: true, User: "'u'@'h'"}, true},
		{"kill hard connection user u@localhost", Kill{Target: KillUser, Hard: true, User: "u@localhost"}, true},
	}
	for _, tt := range tests {
		st := Analyze([]byte(tt.q), Options{}).First
		if st.Kind != KindKill || st.Kill == nil || *st.Kill != tt.want || (st.Flags&Admin != 0) != tt.admin || !st.ReadOnly {
			t.Errorf("Analyze(%q) = %s %+v flags %s, want kill %+v admin %v", tt.q, st.Kind, st.Kill, st.Flags, tt.want, tt.admin)
		}
	}
	for _, q := range []string{"kill", "kill query", "kill user"} {
		if st := Analyze([]byte(q), Options{}).First; st.Kind != KindUnknown {
			t.Errorf("Analyze(%q) = %s, want unknown", q, st.Kind)
		}
	}
}

// TestNames checks Statement.Name: the database of USE, the column MariaDB names after
// SELECT CONNECTION_ID() (checked on MariaDB 10.11), prepared statements, savepoints.
func TestNames(t *testing.T) {
	tests := []struct {
		q    string
		kind Kind
		name string
	}{
		{"use commerce", KindUse, "commerce"},
		{"USE `commerce@replica`;", KindUse, "commerce@replica"},
		{"use commerce@replica", KindUse, "commerce@replica"},
		{"use `commerce:-80`@rdonly", KindUse, "commerce:-80@rdonly"},
		{"use `a``b`", KindUse, "a`b"},
		{"use test/* c */", KindUse, "test"},
		{"use 'test'", KindUnknown, ""},
		{"use test.x", KindUnknown, ""},
		{"select connection_id()", KindConnectionID, "connection_id()"},
		{"SELECT CONNECTION_ID ( ) ;", KindConnectionID, "CONNECTION_ID ( )"},
		{"select connection_id(/* c */)", KindConnectionID, "connection_id(/* c */)"},
		{"select /* c */ connection_id() /* c */", KindConnectionID, "connection_id()"},
		{"select connection_id()-- c", KindConnectionID, "connection_id()"},
		{"select /*!connection_id()*/", KindConnectionID, "connection_id()"},
		{"select connection_id() as id", KindConnectionID, "id"},
		{"select connection_id() id", KindConnectionID, "id"},
		{"select connection_id() as `a``b`", KindConnectionID, "a`b"},
		{"select connection_id() 'x'", KindConnectionID, "x"},
		{`select connection_id() as 'a''b\'c'`, KindConnectionID, "a'b'c"},
		{"select connection_id() as ``", KindConnectionID, ""},
		{"select connection_id() + 1", KindSelect, ""},
		{"select connection_id() from dual", KindSelect, ""},
		{"select connection_id(1)", KindSelect, ""},
		{"SELECT @@autocommit", KindSelectAutocommit, "@@autocommit"},
		{"select @@session.autocommit;", KindSelectAutocommit, "@@session.autocommit"},
		{"select @@LOCAL.AUTOCOMMIT as a", KindSelectAutocommit, "a"},
		{"select @@global.autocommit", KindSelect, ""},
		{"select @@autocommit, 1", KindSelect, ""},
		{"prepare STMT1 from 'select 1'", KindPrepare, "stmt1"},
		{"execute Stmt1", KindExecute, "stmt1"},
		{"deallocate prepare `S`", KindDeallocate, "s"},
		{"savepoint `sp 1`", KindSavepoint, "sp 1"},
		{"release savepoint a", KindSavepoint, "a"},
		{"handler db.t open", KindHandler, "db.t"},
	}
	for _, tt := range tests {
		st := Analyze([]byte(tt.q), Options{}).First
		if st.Kind != tt.kind || st.Name != tt.name {
			t.Errorf("Analyze(%q) = %s %q, want %s %q", tt.q, st.Kind, st.Name, tt.kind, tt.name)
		}
	}
	if st := Analyze([]byte(`use "test"`), Options{}).First; st.Kind != KindUnknown {
		t.Errorf(`use "test" without ANSI_QUOTES: %s, want unknown`, st.Kind)
	}
}

func TestInner(t *testing.T) {
	tests := []struct {
		q     string
		kind  Kind
		inner Kind
		text  string
	}{
		{"explain select 1", KindExplain, KindSelect, ""},
		{"explain delete from t", KindExplain, KindDelete, ""},
		{"analyze update t set a = 1", KindExplain, KindUpdate, ""},
		{"describe t", KindExplain, KindUnknown, ""},
		{"prepare s from 'select ?'", KindPrepare, KindSelect, "select ?"},
		{"prepare s from 'insert into t ' 'values (?)'", KindPrepare, KindInsert, "insert into t values (?)"},
		{`prepare s from 'select \'a\''`, KindPrepare, KindSelect, "select 'a'"},
		{"execute immediate 'drop table t' using 1", KindExecute, KindDDL, "drop table t"},
	}
	for _, tt := range tests {
		st := Analyze([]byte(tt.q), Options{}).First
		if st.Kind != tt.kind || st.Inner != tt.inner || st.Text != tt.text {
			t.Errorf("Analyze(%q) = %s inner %s text %q, want %s %s %q", tt.q, st.Kind, st.Inner, st.Text, tt.kind, tt.inner, tt.text)
		}
	}
}

func TestTxOptions(t *testing.T) {
	tests := []struct {
		q    string
		want TxOptions
	}{
		{"begin", 0},
		{"start transaction read only", TxReadOnly},
		{"start transaction read write, with consistent snapshot", TxReadWrite | TxConsistentSnapshot},
	}
	for _, tt := range tests {
		if st := Analyze([]byte(tt.q), Options{}).First; st.Kind != KindBegin || st.Tx != tt.want {
			t.Errorf("Analyze(%q) = %s %b, want begin %b", tt.q, st.Kind, st.Tx, tt.want)
		}
	}
}

func TestDirective(t *testing.T) {
	q := []byte("/* a */ /*vt+ QUERY_TIMEOUT_MS=100 WORKLOAD_NAME=x */ select 1; /*vt+ PLANNER=gen4 */ select 2")
	res := Analyze(q, Options{})
	if got := string(res.Directive.Text(q)); got != "QUERY_TIMEOUT_MS=100 WORKLOAD_NAME=x" {
		t.Errorf("query directive %q", got)
	}
	var got []string
	for st := range Statements(q, Options{}) {
		got = append(got, string(st.Directive.Text(q)))
	}
	if len(got) != 2 || got[1] != "PLANNER=gen4" {
		t.Errorf("statement directives %q", got)
	}
	if res := Analyze([]byte("select /*vt+*/ 1"), Options{}); !res.Directive.Empty() {
		t.Errorf("empty directive: %+v", res.Directive)
	}
}

func TestReasons(t *testing.T) {
	// Every Admin statement says why; the query reports its first.
	q := []byte("select 1; kill user u; shutdown")
	res := Analyze(q, Options{})
	if res.Reason != reasonKill {
		t.Errorf("reason %q, want %q", res.Reason, reasonKill)
	}
	for st := range Statements(q, Options{}) {
		if (st.Flags&Admin != 0) != (st.Reason != "") {
			t.Errorf("statement %q: flags %s reason %q", q[st.Start:st.End], st.Flags, st.Reason)
		}
	}
}

// The SHOWs that show accounts' credentials (Admin: SHOW GRANTS too, since the session's own
// account is the gateway's backend user) or what MariaDB keeps for its
// PROCESS, BINLOG MONITOR and SLAVE MONITOR privileges (ServerInternals).
func TestShowBeyond(t *testing.T) {
	tests := []struct {
		q    string
		want Flags
	}{
		{"SHOW GRANTS", Admin},
		{"show grants for current_user", Admin},
		{"SHOW GRANTS FOR CURRENT_USER()", Admin},
		{"show grants for current_user ( )", Admin},
		{"SHOW GRANTS FOR vt_dba@'%'", Admin},
		{"show grants for 'vt_dba'", Admin},
		{"SHOW GRANTS FOR CURRENT_USER() x", Admin},
		{"show grants for current_role", Admin},
		{"SHOW CREATE USER vt_dba", Admin},
		{"show create user current_user()", Admin},
		{"SHOW CREATE TABLE t", 0},
		{"SHOW USER_STATISTICS", ServerInternals},
		{"show client_statistics", ServerInternals},
		{"SHOW INDEX_STATISTICS", ServerInternals},
		{"show table_statistics", ServerInternals},
		{"SHOW BINLOG EVENTS IN 'mb.000001'", ServerInternals},
		{"show relaylog events", ServerInternals},
		{"SHOW MASTER STATUS", ServerInternals},
		{"show master logs", ServerInternals},
		{"SHOW BINARY LOGS", ServerInternals},
		{"show slave status", ServerInternals},
		{"SHOW REPLICA 'c1' STATUS", ServerInternals},
		{"show all slaves status", ServerInternals},
		{"SHOW SLAVE HOSTS", ServerInternals},
		{"SHOW STATUS", 0},
		{"SHOW VARIABLES LIKE 'x'", 0},
		{"SHOW TABLES", 0},
	}
	for _, tt := range tests {
		st := Analyze([]byte(tt.q), Options{}).First
		if st.Kind != KindShow || st.Flags != tt.want {
			t.Errorf("%q: %s %s, want show %s", tt.q, st.Kind, st.Flags, tt.want)
		}
		if tt.want&Admin != 0 && st.Reason == "" {
			t.Errorf("%q: no reason", tt.q)
		}
	}
}

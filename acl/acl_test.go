package acl

import (
	"errors"
	"strings"
	"testing"

	"github.com/go-mysql-org/go-mysql/mysql"
	topodatapb "vitess.io/vitess/go/vt/proto/topodata"

	"github.com/vtdirect/vtdirect/classify"
)

// databases is the resolver of the tests: two keyspaces besides commerce, one of them with
// Vitess's vt_ naming.
type databases map[string]string

func (d databases) KeyspaceOfDatabase(db string) (string, bool) { ks, ok := d[db]; return ks, ok }

var testDBs = databases{"commerce": "commerce", "vt_other": "other", "shared": "other2"}

const (
	primary = topodatapb.TabletType_PRIMARY
	replica = topodatapb.TabletType_REPLICA
)

func testPolicy(t *testing.T, groups []TableGroup) *Policy {
	t.Helper()
	p, err := New(Config{Users: map[string]UserConfig{
		"ops":    {Admin: true},
		"report": {Keyspaces: map[string]Right{"commerce": Read}, TabletTypes: []topodatapb.TabletType{replica, topodatapb.TabletType_RDONLY}},
		"writer": {Keyspaces: map[string]Right{"commerce": Write, "other": Read}},
		"dev":    {Keyspaces: map[string]Right{"%": DDL}},
		"ana":    {Groups: []string{"analysts"}},
	}, TableGroups: groups})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// check runs a query for a user on commerce's primary (or tt) and returns the error code (0:
// allowed).
func check(p *Policy, user, q string, tt topodatapb.TabletType, prepared bool) (uint16, error) {
	req := &Request{Query: []byte(q), Keyspace: "commerce", Database: "commerce", TabletType: tt, Host: "10.0.0.7", Prepared: prepared}
	err := p.User(user).Check(req, testDBs)
	if err == nil {
		return 0, nil
	}
	var me *mysql.MyError
	if !errors.As(err, &me) {
		return 0xffff, err
	}
	return me.Code, err
}

// Each statement that acts beyond the session, in several spellings: refused for a user that
// is not an admin (app: no rules), allowed for an admin.
func TestBeyondTheSession(t *testing.T) {
	p := testPolicy(t, nil)
	denied := []string{
		"SHUTDOWN", "shutdown", "/*! SHUTDOWN */", "/*M!100000 shutdown */", "  /* c */ ShutDown -- bye",
		"SET PASSWORD = PASSWORD('x')", "set password for 'app'@'%' = 'x'", "SeT PaSsWoRd='x'",
		"ALTER USER CURRENT_USER() IDENTIFIED BY 'x'", "alter user 'app'@'%' identified by 'x'",
		"GRANT ALL ON *.* TO 'app'@'%'", "revoke all on *.* from 'x'", "CREATE USER 'x'@'%'", "drop user app",
		"STOP SLAVE", "stop replica", "START SLAVE", "RESET MASTER", "reset slave all",
		"CHANGE MASTER TO MASTER_HOST='evil'", "PURGE BINARY LOGS TO 'x'",
		"SET GLOBAL read_only = 0", "set @@global.read_only=0", "SET /* c */ GLOBAL max_connections = 5",
		"SET SESSION sql_mode = '', GLOBAL max_connections = 5", "set @@GLOBAL.max_connections=1",
		"FLUSH TABLES WITH READ LOCK", "flush tables", "FLUSH /*!40101 TABLES WITH READ LOCK */",
		"SELECT 1 INTO OUTFILE '/tmp/x'", "select * from customer into dumpfile '/tmp/y'",
		"SELECT 1 /*!INTO OUTFILE '/tmp/x' */", "select load_file('/etc/passwd')",
		"LOAD DATA INFILE '/etc/passwd' INTO TABLE customer",
		"PREPARE s FROM @v", "execute immediate @v", "EXECUTE IMMEDIATE 'SHUTDOWN'", "prepare s from 'shutdown'",
		"CREATE PROCEDURE p() SELECT 1", "create definer=current_user function f() returns int return 1",
		"CREATE EVENT e ON SCHEDULE EVERY 1 HOUR DO DELETE FROM customer",
		"CREATE TRIGGER tr BEFORE INSERT ON customer FOR EACH ROW SET @x = 1", "drop procedure p",
		"select 1; shutdown", "BEGIN NOT ATOMIC SET GLOBAL read_only = 0; END",
		"INSTALL SONAME 'ha_connect'", "CREATE SERVER s FOREIGN DATA WRAPPER mysql OPTIONS (HOST 'x')",
		"CREATE DATABASE newdb", "drop database if exists `newdb`",
		// the server's internals
		"select * from information_schema.processlist", "SELECT info FROM INFORMATION_SCHEMA.PROCESSLIST",
		"select * from information_schema.`innodb_trx`", "SELECT * FROM performance_schema.threads",
		"select * from sys.processlist", "SHOW ENGINE INNODB STATUS", "show full processlist; select 1",
		"select * from mysql.user", "show tables from mysql", "show explain for 5",
	}
	for _, q := range denied {
		code, err := check(p, "app", q, primary, false)
		if code != mysql.ER_SPECIFIC_ACCESS_DENIED_ERROR {
			t.Errorf("app %q: %v, want 1227", q, err)
		} else if !strings.Contains(err.Error(), `"Admin": true`) {
			t.Errorf("app %q: message %q does not say what allows it", q, err)
		}
		if code, err := check(p, "ops", q, primary, false); code != 0 {
			t.Errorf("ops (admin) %q: %v", q, err)
		}
	}
	// The prepared form of each is refused too.
	for _, q := range []string{"SHUTDOWN", "SET GLOBAL x = 1", "select * from information_schema.processlist", "show processlist"} {
		if code, err := check(p, "app", q, primary, true); code != mysql.ER_SPECIFIC_ACCESS_DENIED_ERROR {
			t.Errorf("app prepared %q: %v, want 1227", q, err)
		}
	}
	allowed := []string{
		"select 1", "SHOW PROCESSLIST", "show full processlist", "select * from information_schema.tables",
		"kill 5", "KILL QUERY 7", "kill user app", "kill query id 9", // a lone KILL: the router decides
		"set session sql_mode = ''", "set @x = 1", "prepare s from 'select 1'", "execute immediate 'select 1'",
		"create table t (a int)", "drop temporary table if exists t", "LOAD DATA LOCAL INFILE 'x' INTO TABLE customer",
	}
	for _, q := range allowed {
		if code, err := check(p, "app", q, primary, false); code != 0 {
			t.Errorf("app %q: %v", q, err)
		}
	}
}

// A KILL the gateway cannot answer (not a query of its own) is refused for everyone.
func TestKillNotAlone(t *testing.T) {
	p := testPolicy(t, nil)
	for _, q := range []string{"select 1; kill 5", "kill 5; select 1", "BEGIN NOT ATOMIC KILL 5; END",
		"PREPARE s FROM 'KILL 5'", "execute immediate 'kill 5'", "if 1 then kill query 3; end if"} {
		for _, user := range []string{"app", "ops"} {
			if code, err := check(p, user, q, primary, false); code != mysql.ER_NOT_SUPPORTED_YET {
				t.Errorf("%s %q: %v, want 1235", user, q, err)
			}
		}
	}
	if code, err := check(p, "ops", "kill 5", primary, true); code != mysql.ER_NOT_SUPPORTED_YET {
		t.Errorf("prepared kill: %v, want 1235", err)
	}
}

func TestKeyspaceRules(t *testing.T) {
	p := testPolicy(t, nil)
	tests := []struct {
		user, q string
		tt      topodatapb.TabletType
		want    uint16
	}{
		{"report", "select * from customer", replica, 0},
		{"report", "select c.id from customer c join corder o on o.cid = c.id", replica, 0},
		{"report", "select * from commerce.customer", replica, 0},
		{"report", "select * from customer", primary, mysql.ER_DBACCESS_DENIED_ERROR}, // its tablet types
		{"report", "insert into customer values (1)", replica, mysql.ER_DBACCESS_DENIED_ERROR},
		{"report", "select * from customer for update", replica, mysql.ER_DBACCESS_DENIED_ERROR},
		{"report", "select * from vt_other.t", replica, mysql.ER_DBACCESS_DENIED_ERROR},
		{"report", "SELECT * FROM `vt_other`.`t`", replica, mysql.ER_DBACCESS_DENIED_ERROR},
		{"report", "select * from /*!vt_other.*/t", replica, mysql.ER_DBACCESS_DENIED_ERROR},
		{"report", "select * from customer where id in (select id from shared.t)", replica, mysql.ER_DBACCESS_DENIED_ERROR},
		{"report", "select vt_other.f(1)", replica, mysql.ER_DBACCESS_DENIED_ERROR},
		{"report", "SHOW TABLES FROM vt_other", replica, mysql.ER_DBACCESS_DENIED_ERROR},
		{"report", "show columns from t in vt_other", replica, mysql.ER_DBACCESS_DENIED_ERROR},
		{"report", "describe vt_other.t", replica, mysql.ER_DBACCESS_DENIED_ERROR},
		{"report", "select 1; select * from vt_other.t", replica, mysql.ER_DBACCESS_DENIED_ERROR},
		{"report", "prepare s from 'select * from vt_other.t'", replica, mysql.ER_DBACCESS_DENIED_ERROR},
		{"report", "select * from nosuchdb.t", replica, 0}, // no keyspace's: the backend's grants decide
		{"report", "create temporary table t (a int)", replica, mysql.ER_DBACCESS_DENIED_ERROR},
		{"writer", "insert into customer values (1)", primary, 0},
		{"writer", "select * from vt_other.t", primary, 0},
		{"writer", "insert into customer select * from vt_other.t", primary, 0}, // read there is enough
		{"writer", "insert into vt_other.t values (1)", primary, mysql.ER_DBACCESS_DENIED_ERROR},
		{"writer", "update customer c join vt_other.t o on o.id = c.id set c.n = o.n", primary, mysql.ER_DBACCESS_DENIED_ERROR},
		{"writer", "delete from vt_other.t", primary, mysql.ER_DBACCESS_DENIED_ERROR},
		{"writer", "create table t (a int)", primary, mysql.ER_DBACCESS_DENIED_ERROR}, // ddl
		{"writer", "drop database vt_other", primary, mysql.ER_DBACCESS_DENIED_ERROR},
		{"writer", "select * from shared.t", primary, mysql.ER_DBACCESS_DENIED_ERROR},
		{"writer", "BEGIN NOT ATOMIC SELECT 1; END", primary, mysql.ER_DBACCESS_DENIED_ERROR},
		{"dev", "create table vt_other.t (a int)", primary, 0},
		{"dev", "drop database vt_other", primary, 0},
		{"dev", "create database brandnew", primary, mysql.ER_SPECIFIC_ACCESS_DENIED_ERROR},
		{"ops", "create database brandnew", primary, 0},
	}
	for _, tt := range tests {
		code, err := check(p, tt.user, tt.q, tt.tt, false)
		if code != tt.want {
			t.Errorf("%s %q on %s: %v, want %d", tt.user, tt.q, tt.tt, err, tt.want)
		}
	}
	_, err := check(p, "report", "insert into customer values (1)", replica, false)
	if msg := err.Error(); !strings.Contains(msg, "'report'@'10.0.0.7'") || !strings.Contains(msg, "'commerce'") || !strings.Contains(msg, "write") {
		t.Errorf("the message names the user, keyspace and right: %q", msg)
	}
	if err := p.User("report").CheckTarget("other", replica, "h"); err == nil {
		t.Error("report may use keyspace other")
	}
	if err := p.User("report").CheckTarget("commerce", primary, "h"); err == nil {
		t.Error("report may use primary targets")
	}
	if err := p.User("writer").CheckTarget("other", primary, "h"); err != nil {
		t.Errorf("writer may not use other: %v", err)
	}
}

func TestTableACL(t *testing.T) {
	p := testPolicy(t, []TableGroup{
		{Name: "customers", Tables: []string{"commerce.customer", "corder%"}, Readers: []string{"report", "analysts", "ops"},
			Writers: []string{"writer"}, Admins: []string{"ops"}},
		{Name: "other", Tables: []string{"other.%"}, Readers: []string{"writer"}},
		{Name: "public", Tables: []string{"product"}, Readers: []string{"%"}},
	})
	tests := []struct {
		user, q string
		want    uint16
	}{
		{"report", "select * from customer", 0},
		{"report", "select * from commerce.customer", 0},
		{"report", "select * from corder_2024 o join customer c on c.id = o.cid", 0},
		{"report", "select * from nothere", mysql.ER_TABLEACCESS_DENIED_ERROR},
		{"ana", "select * from corder", 0},
		{"ana", "select * from product", 0},
		{"writer", "select * from customer", mysql.ER_TABLEACCESS_DENIED_ERROR}, // as in Vitess: writers are not readers
		{"writer", "insert into customer values (1)", 0},
		{"writer", "insert into customer select * from product", 0},
		{"writer", "insert into customer select * from vt_other.t", 0},
		{"writer", "insert into customer select * from corder", mysql.ER_TABLEACCESS_DENIED_ERROR},
		{"nobody", "with customer as (select 1) select * from customer", 0},
		{"nobody", "select * from (with c as (select 1 a) select * from c) x join customer on 1", mysql.ER_TABLEACCESS_DENIED_ERROR},
		{"nobody", "select 1 /*M!100000 , (select 1 from customer) */", mysql.ER_TABLEACCESS_DENIED_ERROR},
		{"nobody", "set @x = (select max(id) from customer)", mysql.ER_TABLEACCESS_DENIED_ERROR},
		{"nobody", "set @x = 1", 0},
		{"nobody", "begin", 0},
		{"nobody", "lock tables customer read", mysql.ER_TABLEACCESS_DENIED_ERROR},
		{"report", "lock tables customer read", 0},
		{"report", "lock tables customer write", mysql.ER_DBACCESS_DENIED_ERROR}, // its keyspace right first
		{"ana", "lock tables customer write", mysql.ER_TABLEACCESS_DENIED_ERROR},
		{"report", "handler customer open", 0},
		{"nobody", "handler `customer` open", mysql.ER_TABLEACCESS_DENIED_ERROR},
		{"writer", "load data local infile 'f' into table customer", 0},
		{"ana", "load data local infile 'f' into table customer", mysql.ER_TABLEACCESS_DENIED_ERROR},
		{"ana", "alter table customer add column x int", mysql.ER_TABLEACCESS_DENIED_ERROR},
		{"ops", "alter table customer add column x int", 0},
		{"ops", "drop table customer, product", mysql.ER_TABLEACCESS_DENIED_ERROR},                  // product: no admins
		{"report", "select * from customer for system_time all", mysql.ER_TABLEACCESS_DENIED_ERROR}, // MariaDB syntax: cannot parse
		{"report", "select * from nosuchdb.customer", mysql.ER_TABLEACCESS_DENIED_ERROR},
		{"report", "explain select * from customer", 0},
		{"nobody", "describe customer", mysql.ER_TABLEACCESS_DENIED_ERROR},
	}
	for _, tt := range tests {
		tp := replica
		if tt.user != "report" {
			tp = primary
		}
		code, err := check(p, tt.user, tt.q, tp, false)
		if code != tt.want {
			t.Errorf("%s %q: %v, want %d", tt.user, tt.q, err, tt.want)
		}
	}
	_, err := check(p, "writer", "select * from customer", primary, false)
	if msg := err.Error(); !strings.Contains(msg, "SELECT command denied to user 'writer'@'10.0.0.7' for table `commerce`.`customer`") ||
		!strings.Contains(msg, "read right") {
		t.Errorf("message: %q", msg)
	}
}

func TestConfigErrors(t *testing.T) {
	bad := []Config{
		{Users: map[string]UserConfig{"a": {Keyspaces: map[string]Right{"c%d": Read}}}},
		{Users: map[string]UserConfig{"a": {Keyspaces: map[string]Right{"": Read}}}},
		{Users: map[string]UserConfig{"a": {TabletTypes: []topodatapb.TabletType{topodatapb.TabletType_BACKUP}}}},
		{TableGroups: []TableGroup{{Name: "g"}}},
		{TableGroups: []TableGroup{{Name: "g", Tables: []string{"a%b"}}}},
		{TableGroups: []TableGroup{{Name: "g", Tables: []string{"t"}}, {Name: "h", Tables: []string{"t"}}}},
		{TableGroups: []TableGroup{{Name: "g", Tables: []string{"k%.t"}}}},
	}
	for i, c := range bad {
		if _, err := New(c); err == nil {
			t.Errorf("config %d: no error", i)
		}
	}
}

func TestParseTableACL(t *testing.T) {
	groups, err := ParseTableACL([]byte(`{"table_groups": [{"name": "all", "table_names_or_prefixes": ["%"],
		"readers": ["app"], "writers": ["app"], "admins": ["ops"]}]}`))
	if err != nil || len(groups) != 1 || groups[0].Tables[0] != "%" || groups[0].Admins[0] != "ops" {
		t.Fatalf("%+v, %v", groups, err)
	}
	for _, bad := range []string{`{}`, `{"table_groups": [{"tables": ["x"]}]}`, `[`} {
		if _, err := ParseTableACL([]byte(bad)); err == nil {
			t.Errorf("%s: no error", bad)
		}
	}
}

// The per-query cost for a user without rules: nothing but the classification's flags.
func BenchmarkCheckOpen(b *testing.B) {
	p := Open()
	u := p.User("app")
	q := []byte("SELECT c FROM sbtest1 WHERE id = 5")
	cq := classify.Analyze(q, classify.Options{})
	req := &Request{Query: q, Parsed: &cq, Keyspace: "commerce", Database: "commerce", TabletType: primary}
	b.ReportAllocs()
	for b.Loop() {
		if err := u.Check(req, testDBs); err != nil {
			b.Fatal(err)
		}
	}
}

// A user limited to one keyspace: one scan of the statement for qualified names.
func BenchmarkCheckKeyspaces(b *testing.B) {
	p, _ := New(Config{Users: map[string]UserConfig{"r": {Keyspaces: map[string]Right{"commerce": Read}}}})
	u := p.User("r")
	q := []byte("SELECT c FROM sbtest1 WHERE id = 5")
	cq := classify.Analyze(q, classify.Options{})
	req := &Request{Query: q, Parsed: &cq, Keyspace: "commerce", Database: "commerce", TabletType: primary}
	b.ReportAllocs()
	for b.Loop() {
		if err := u.Check(req, testDBs); err != nil {
			b.Fatal(err)
		}
	}
}

// A user under the table ACL: the statement is parsed.
func BenchmarkCheckTableACL(b *testing.B) {
	p, _ := New(Config{TableGroups: []TableGroup{{Name: "all", Tables: []string{"%"}, Readers: []string{"r"}}}})
	u := p.User("r")
	q := []byte("SELECT c FROM sbtest1 WHERE id = 5")
	cq := classify.Analyze(q, classify.Options{})
	req := &Request{Query: q, Parsed: &cq, Keyspace: "commerce", Database: "commerce", TabletType: primary}
	b.ReportAllocs()
	for b.Loop() {
		if err := u.Check(req, testDBs); err != nil {
			b.Fatal(err)
		}
	}
}

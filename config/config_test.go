package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	topodatapb "vitess.io/vitess/go/vt/proto/topodata"

	"github.com/vtdirect/vtdirect/tabletserver"
)

func env(m map[string]string) LookupEnv {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func loadExample(t *testing.T) *File {
	t.Helper()
	f, err := Load("testdata/example.yaml", env(map[string]string{"VTDIRECT_REPORTING_PASSWORD": "rep"}))
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func tabletAt(cell string, uid uint32, ks string, port int32) *topodatapb.Tablet {
	return &topodatapb.Tablet{Alias: &topodatapb.TabletAlias{Cell: cell, Uid: uid}, Keyspace: ks, Shard: "0",
		MysqlHostname: "127.0.0.1", MysqlPort: port}
}

// The example of the docs loads; each tablet gets the most specific value of each setting.
func TestInheritance(t *testing.T) {
	f := loadExample(t)
	base := tabletserver.Config{PoolSize: 1, TxPoolSize: 2, QueryTimeout: time.Hour, MaxResultRows: 7}
	tests := []struct {
		name   string
		tablet *topodatapb.Tablet
		want   func(c tabletserver.Config) bool
	}{
		{"global only", tabletAt("zone2", 200, "other", 17200), func(c tabletserver.Config) bool {
			return c.PoolSize == 16 && c.TxPoolSize == 32 && c.MaxConnections == 200 && c.QueryTimeout == time.Hour &&
				c.User == "vt_app" && c.Password == "vt-app-secret" && c.HealthInterval == 2*time.Second
		}},
		{"server overrides global", tabletAt("zone2", 200, "other", 17100), func(c tabletserver.Config) bool {
			return c.MaxConnections == 400 && c.PoolSize == 16
		}},
		{"keyspace overrides server and global", tabletAt("zone1", 101, "commerce", 17100), func(c tabletserver.Config) bool {
			return c.PoolSize == 32 && c.QueryTimeout == 10*time.Second && c.MaxConnections == 400 && c.MaxResultRows == 7
		}},
		{"tablet overrides all (alias in short form in the file)", tabletAt("zone1", 100, "commerce", 17100), func(c tabletserver.Config) bool {
			return c.PoolSize == 32 && c.MaxResultRows == 100000 && c.QueryTimeout == 10*time.Second
		}},
		{"untouched fields keep the base", tabletAt("zone9", 1, "x", 1), func(c tabletserver.Config) bool {
			return c.PoolWaitTimeout == 0 && c.TxTimeout == 30*time.Second
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := f.TabletConfig(base, tt.tablet); !tt.want(got) {
				t.Errorf("config %+v", got)
			}
		})
	}
	if p, ok := f.KeyspacePicker("reports"); !ok || *p.MaxLag != 5*time.Minute || len(p.Cells) != 1 || p.Cells[0] != "zone2" || p.CellPreference != nil {
		t.Errorf("reports picker %+v", p)
	}
	if _, ok := f.KeyspacePicker("commerce"); ok {
		t.Error("commerce has no picker settings of its own")
	}
	if u := f.UserPasswords(); u["app"] != "app-secret" || u["reporting"] != "rep" || len(u) != 2 {
		t.Errorf("users %v", u)
	}
	if s, ok := f.Secret("failover", "dba_password"); !ok || s != "dba-secret" {
		t.Errorf("dba password %q %v", s, ok)
	}
	flags := map[string]string{}
	for _, fv := range f.FlagValues() {
		flags[fv.Flag] = fv.Text
	}
	for flag, want := range map[string]string{"cell": "zone1", "mysql-server-port": "15306", "queryserver-config-pool-size": "16",
		"drop-dimensions": "tablet", "enable-failover": "true", "failover-promotion-rules": "zone1-101=prefer,zone2-201=must_not",
		"db-app-user": "vt_app", "enable-buffer": "true", "discovery-low-replication-lag": "30s"} {
		if flags[flag] != want {
			t.Errorf("flag %s = %q, want %q", flag, flags[flag], want)
		}
	}
	for flag := range flags {
		if strings.Contains(flag, "password") {
			t.Errorf("a password reaches flag %s", flag)
		}
	}
}

// Flag names are accepted as keys, with dashes or underscores.
func TestFlagNamesAsKeys(t *testing.T) {
	f, err := Parse("f.yaml", []byte("global:\n  queryserver-config-pool-size: 5\n  queryserver_config_transaction_cap: 6\ngateway:\n  mysql-server-port: 1\n"), nil)
	if err != nil {
		t.Fatal(err)
	}
	c := f.TabletConfig(tabletserver.Config{}, tabletAt("c", 1, "k", 1))
	if c.PoolSize != 5 || c.TxPoolSize != 6 || f.Gateway["mysql_port"].Int != 1 {
		t.Errorf("%+v %+v", c, f.Gateway)
	}
	if KeyOfFlag("--queryserver-config-pool-size") != "global.pool_size" || KeyOfFlag("db_app_user") != "global.user" || KeyOfFlag("cell") != "gateway.cell" {
		t.Errorf("KeyOfFlag: %q %q", KeyOfFlag("--queryserver-config-pool-size"), KeyOfFlag("db_app_user"))
	}
}

// A relative file name in the file (the users file, certificates, the table ACL) names a file
// beside the configuration file, wherever the gateway was started; an absolute one stays.
func TestRelativePathsFollowTheFile(t *testing.T) {
	f, err := Parse("/etc/vtdirect/vtdirect.yaml", []byte("gateway:\n  auth_static_file: users.json\n  table_acl_config: acl/tables.json\n  tls_cert: /pki/gw.pem\nglobal:\n  ssl_ca: ca.pem\n"), nil)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, fv := range f.FlagValues() {
		got[fv.Flag] = fv.Text
	}
	want := map[string]string{
		"mysql-auth-server-static-file": "/etc/vtdirect/users.json",
		"table-acl-config":              "/etc/vtdirect/acl/tables.json",
		"mysql-server-ssl-cert":         "/pki/gw.pem",
		"db-ssl-ca":                     "/etc/vtdirect/ca.pem",
	}
	for flag, w := range want {
		if got[flag] != w {
			t.Errorf("%s = %q, want %q", flag, got[flag], w)
		}
	}
}

// Every kind of bad file fails with the file, the line and the key.
func TestBadFiles(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "pw"), []byte("x\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, yaml string
		line       int
		key, msg   string
	}{
		{"unknown key", "global:\n  pool_sise: 3\n", 2, "global.pool_sise", "unknown key"},
		{"unknown section", "globals:\n  pool_size: 3\n", 1, "globals", "unknown section"},
		{"wrong type", "keyspaces:\n  commerce:\n    pool_size: ten\n", 3, "keyspaces.commerce.pool_size", `want an integer, got "ten"`},
		{"wrong duration", "global:\n  query_timeout: 5\n", 2, "global.query_timeout", "want a duration"},
		{"wrong bool", "failover:\n  enabled: maybe\n", 2, "failover.enabled", "want true or false"},
		{"negative", "global:\n  pool_size: -1\n", 2, "global.pool_size", "must not be negative"},
		{"missing secret file", "global:\n  user: u\n  password_file: /no/such/file\n", 3, "global.password_file", "cannot read the secret"},
		{"missing secret variable", "users:\n  app:\n    password_env: NO_SUCH_VAR\n", 3, "users.app.password_env", "NO_SUCH_VAR is not set"},
		{"password in the file", "global:\n  password: hunter2\n", 2, "global.password", "passwords are not written in the file"},
		{"two secrets", "global:\n  password_file: pw\n  password_env: HOME\n", 3, "global.password_env", "already given on line 2"},
		{"duplicate tablet", "tablets:\n  zone1-100:\n    pool_size: 1\n  zone1-0000000100:\n    pool_size: 2\n", 4, "tablets.zone1-0000000100", `names the same tablet as "zone1-100" on line 2`},
		{"duplicate key", "global:\n  pool_size: 1\n  queryserver-config-pool-size: 2\n", 3, "global.queryserver-config-pool-size", "pool_size is already given on line 2"},
		{"bad alias", "tablets:\n  zone1:\n    pool_size: 1\n", 2, "tablets.zone1", "not a tablet alias"},
		{"bad server", "servers:\n  db1:\n    max_connections: 1\n", 2, "servers.db1", "host:port"},
		{"setting of another section", "keyspaces:\n  ks:\n    max_connections: 5\n", 3, "keyspaces.ks.max_connections", "belongs in global, servers"},
		{"gateway key in global", "global:\n  mysql_port: 1\n", 2, "global.mysql_port", "belongs in gateway"},
		{"user without password", "users:\n  app: {}\n", 2, "users.app", "no password"},
		{"not a mapping", "global: 3\n", 1, "global", "want a mapping"},
		{"syntax", "global:\n  pool_size: [1\n", 0, "", "not valid YAML"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(dir, "vtdirect.yaml")
			_, err := Parse(path, []byte(tt.yaml), env(map[string]string{"HOME": "/root"}))
			var ce *Error
			if !errors.As(err, &ce) {
				t.Fatalf("err %v: want a *config.Error", err)
			}
			if ce.File != path || (tt.line != 0 && ce.Line != tt.line) || ce.Line < 1 || ce.Key != tt.key || !strings.Contains(ce.Msg, tt.msg) {
				t.Errorf("got %q (line %d, key %q); want line %d, key %q, message with %q", err, ce.Line, ce.Key, tt.line, tt.key, tt.msg)
			}
			if !strings.HasPrefix(err.Error(), path+":") {
				t.Errorf("%q does not start with the file name", err)
			}
		})
	}
}

// All problems of a file are reported at once, in line order.
func TestBadFileReportsAll(t *testing.T) {
	_, err := Parse("f.yaml", []byte("global:\n  pool_size: x\n  nope: 1\nkeyspaces:\n  a:\n    cells: {x: 1}\n"), nil)
	if err == nil || strings.Count(err.Error(), "f.yaml:") != 3 || !strings.Contains(err.Error(), "f.yaml:2:") || !strings.Contains(err.Error(), "f.yaml:6:") {
		t.Fatalf("errors: %v", err)
	}
}

// Diff says what a reload applies and what needs a restart, without secrets.
func TestDiff(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	write("pw1", "one")
	write("pw2", "two")
	a, err := Load(write("a.yaml", "gateway:\n  mysql_port: 1\nglobal:\n  pool_size: 4\n  password_file: pw1\nkeyspaces:\n  ks:\n    pool_size: 8\n"), nil)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Load(write("b.yaml", "gateway:\n  mysql_port: 2\nglobal:\n  pool_size: 5\n  password_file: pw2\n"), nil)
	if err != nil {
		t.Fatal(err)
	}
	applied, restart := Diff(a, b)
	all := strings.Join(applied, "\n") + "\n" + strings.Join(restart, "\n")
	for _, want := range []string{"global.pool_size: 4 → 5", "keyspaces.ks.pool_size: 8 → (default)", "global.password: changed"} {
		if !strings.Contains(strings.Join(applied, "\n"), want) {
			t.Errorf("applied lacks %q:\n%s", want, all)
		}
	}
	if len(restart) != 1 || !strings.Contains(restart[0], "gateway.mysql_port: 1 → 2 (needs a restart)") {
		t.Errorf("restart: %v", restart)
	}
	if strings.Contains(all, "one") || strings.Contains(all, "two") {
		t.Errorf("a secret shows in the diff:\n%s", all)
	}
}

// The example of docs/vtdirect.example.yaml (the README shows it) is the one these tests load.
func TestDocsExampleIsTested(t *testing.T) {
	docs, err := os.ReadFile("../docs/vtdirect.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	tested, err := os.ReadFile("testdata/example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if string(docs) != string(tested) {
		t.Fatal("docs/vtdirect.example.yaml differs from config/testdata/example.yaml: keep them the same")
	}
}

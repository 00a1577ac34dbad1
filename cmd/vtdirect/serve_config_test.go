package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/spf13/pflag"
	topodatapb "vitess.io/vitess/go/vt/proto/topodata"

	"github.com/vtdirect/vtdirect/config"
	"github.com/vtdirect/vtdirect/local"
)

// runServeCmd runs `vtdirect serve ARGS` until ctx ends and returns its error.
func runServeCmd(ctx context.Context, args ...string) error {
	cmd := newServeCmd()
	cmd.SetArgs(args)
	cmd.SetOut(io.Discard)
	cmd.SetErr(io.Discard)
	cmd.SilenceUsage, cmd.SilenceErrors = true, true
	return cmd.ExecuteContext(ctx)
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

// The file supersedes the flags: a legacy flag beside --config stops start-up naming it and
// its key; a bad file names its file, line and key.
func TestServeConfigRefusesFlagsAndBadFiles(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.yaml")
	writeFile(t, good, "gateway:\n  cell: zone1\n")
	err := runServeCmd(t.Context(), "--config", good, "--queryserver-config-pool-size", "3", "--cell", "zone2")
	if err == nil || !strings.Contains(err.Error(), "--queryserver-config-pool-size (in the file: global.pool_size)") ||
		!strings.Contains(err.Error(), "--cell (in the file: gateway.cell)") {
		t.Errorf("legacy flags with --config: %v", err)
	}
	bad := filepath.Join(dir, "bad.yaml")
	writeFile(t, bad, "global:\n  user: app\nkeyspaces:\n  commerce:\n    pool_size: lots\n")
	err = runServeCmd(t.Context(), "--config", bad)
	if err == nil || !strings.HasPrefix(err.Error(), bad+":5: keyspaces.commerce.pool_size: want an integer") {
		t.Errorf("bad file: %v", err)
	}
	missing := filepath.Join(dir, "missing.yaml")
	writeFile(t, missing, "users:\n  app:\n    password_file: nowhere.pw\n")
	err = runServeCmd(t.Context(), "--config", missing)
	if err == nil || !strings.Contains(err.Error(), missing+":3: users.app.password_file: cannot read the secret") {
		t.Errorf("missing secret file: %v", err)
	}
	// The password flags are gone.
	if err := runServeCmd(t.Context(), "--db-app-password", "x"); err == nil || !strings.Contains(err.Error(), "unknown flag") {
		t.Errorf("--db-app-password: %v", err)
	}
}

// Every serve flag has its key in the file, but the credentials file (the file's secrets
// replace it).
func TestEveryServeFlagHasAKey(t *testing.T) {
	fs := pflag.NewFlagSet("serve", pflag.ContinueOnError)
	defineServeFlags(fs, &serveFlags{})
	fs.VisitAll(func(f *pflag.Flag) {
		if config.KeyOfFlag(f.Name) == "" && f.Name != "db-credentials-file" {
			t.Errorf("--%s has no key in the configuration file (config/schema.go)", f.Name)
		}
	})
}

// The demo's gateway configuration is a valid file.
func TestDemoConfigFileLoads(t *testing.T) {
	dir := t.TempDir()
	f := &localFlags{user: "app", password: "app", tabletPortBase: 17000, etcdPort: 2379, etcdPeerPort: 2380,
		cell: "zone1", mysqlPort: 15306, grpcPort: 15991, httpPort: 15000, schemas: 3}
	cfg := demoConfig(f, dir, "/bin/vtdirect")
	for path, content := range cfg.Gateway.Files {
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			t.Fatal(err)
		}
		writeFile(t, path, content)
	}
	file, err := config.Load(cfg.Gateway.Args[2], nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := newServeCmd().ParseFlags(cfg.Gateway.Args[1:]); err != nil {
		t.Fatal(err)
	}
	sf := &serveFlags{configPath: cfg.Gateway.Args[2]}
	fs := pflag.NewFlagSet("serve", pflag.ContinueOnError)
	defineServeFlags(fs, sf)
	if err := sf.applyFile(fs, file); err != nil {
		t.Fatal(err)
	}
	if u, _ := sf.users(); u["app"] != "app" || sf.ts.Password != "app" || sf.fo.dbaPassword != local.DefaultDBAPassword || !sf.fo.enable || sf.fo.keyspaces != "commerce" {
		t.Errorf("demo config: users %v, password %q, dba %q, failover %v keyspaces %q", u, sf.ts.Password, sf.fo.dbaPassword, sf.fo.enable, sf.fo.keyspaces)
	}
	// Least privilege: the control connection is the admin's, VStream the change-stream
	// user's, replication the replication user's; the data path's user has none of their rights.
	if sf.ts.ControlUser != local.DefaultDBAUser || sf.ts.ControlPassword != local.DefaultDBAPassword ||
		sf.sec.filteredUser != local.DefaultFilteredUser || sf.sec.filteredPass != local.DefaultFilteredPassword ||
		sf.fo.repl != local.DefaultReplUser || sf.fo.replPassword != local.DefaultReplPassword {
		t.Errorf("demo config: control %q/%q, filtered %q/%q, repl %q/%q", sf.ts.ControlUser, sf.ts.ControlPassword,
			sf.sec.filteredUser, sf.sec.filteredPass, sf.fo.repl, sf.fo.replPassword)
	}
	for _, a := range cfg.Gateway.Args {
		if strings.Contains(a, "app") && a != cfg.Gateway.Args[2] {
			t.Errorf("a password reaches the command line: %q", a)
		}
	}
}

// A reload (HTTP and SIGHUP) changes a pool size while a session keeps its transaction; the
// passwords never show in the gateway's logs, metrics, pages or /debug/pprof/cmdline.
func TestServeConfigReload(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	layout := local.DemoLayout()
	layout.Tablets = []local.TabletSpec{{Cell: "zone1", UID: 100, Type: topodatapb.TabletType_PRIMARY}}
	// Passwords no page would show by chance.
	backendPW, gatewayPW, rotatedPW := "be-"+randomHex(t), "gw-"+randomHex(t), "gw2-"+randomHex(t)
	c, err := local.StartCluster(ctx, local.ClusterConfig{Dir: t.TempDir(), Layout: &layout, SampleData: true, Password: backendPW})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "app.pw"), c.Password()+"\n")
	writeFile(t, filepath.Join(dir, "gw.pw"), gatewayPW+"\n")
	// The gateway logs to stderr: capture it (at debug level) to look for the secrets.
	logFile, err := os.Create(filepath.Join(dir, "gateway.log"))
	if err != nil {
		t.Fatal(err)
	}
	stderr := os.Stderr
	os.Stderr = logFile
	defer func() { os.Stderr = stderr; logFile.Close() }()
	ports := make([]int, 2)
	for i := range ports {
		if ports[i], err = local.FreePort(); err != nil {
			t.Fatal(err)
		}
	}
	path := filepath.Join(dir, "vtdirect.yaml")
	file := func(pool int) string {
		return fmt.Sprintf(`gateway:
  cell: zone1
  topo_address: %s
  topo_root: %s
  mysql_port: %d
  http_port: %d
  grpc_port: 0
  log_level: debug
users:
  app: {password_file: gw.pw}
global:
  user: %s
  password_file: app.pw
  health_check_interval: 200ms
keyspaces:
  commerce:
    pool_size: %d
`, c.TopoAddr(), c.Layout.GlobalRoot, ports[0], ports[1], c.User(), pool)
	}
	writeFile(t, path, file(4))
	sctx, stop := context.WithCancel(ctx)
	served := make(chan error, 1)
	go func() { served <- runServeCmd(sctx, "--config", path) }()
	defer func() {
		stop()
		if err := <-served; err != nil {
			t.Errorf("serve: %v", err)
		}
	}()
	httpAddr := fmt.Sprintf("127.0.0.1:%d", ports[1])
	capacity := func() int {
		resp, err := http.Get("http://" + httpAddr + "/zone1-100/debug/pools")
		if err != nil {
			return -1
		}
		defer resp.Body.Close()
		var p struct {
			QueryCapacity int `json:"query_capacity"`
		}
		if json.NewDecoder(resp.Body).Decode(&p) != nil {
			return -1
		}
		return p.QueryCapacity
	}
	waitUntil(t, "the gateway's tablet", func() bool { return capacity() == 4 })

	mc := mysql.NewConfig()
	mc.User, mc.Passwd, mc.Net, mc.Addr, mc.DBName = "app", gatewayPW, "tcp", fmt.Sprintf("127.0.0.1:%d", ports[0]), "commerce"
	db, err := sql.Open("mysql", mc.FormatDSN())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	waitUntil(t, "the primary to serve", func() bool { _, err := conn.ExecContext(ctx, "SELECT 1"); return err == nil })
	if _, err := conn.ExecContext(ctx, "BEGIN"); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.ExecContext(ctx, "INSERT INTO customer (email) VALUES ('reload@example.com')"); err != nil {
		t.Fatal(err)
	}

	// vtdirect config reload, as an operator runs it.
	writeFile(t, path, file(2))
	reload := newConfigCmd()
	reload.SilenceUsage, reload.SilenceErrors = true, true
	var out bytes.Buffer
	reload.SetOut(&out)
	reload.SetArgs([]string{"reload", "--server", httpAddr})
	if err := reload.ExecuteContext(ctx); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "applied: keyspaces.commerce.pool_size: 4 → 2") {
		t.Errorf("reload output: %s", out.String())
	}
	if n := capacity(); n != 2 {
		t.Errorf("capacity after the reload: %d, want 2", n)
	}
	// SIGHUP does the same.
	writeFile(t, path, file(3))
	if err := syscall.Kill(os.Getpid(), syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "the SIGHUP reload", func() bool { return capacity() == 3 })

	// The session kept its transaction through both.
	if _, err := conn.ExecContext(ctx, "INSERT INTO customer (email) VALUES ('reload2@example.com')"); err != nil {
		t.Fatalf("the session's transaction after the reloads: %v", err)
	}
	if _, err := conn.ExecContext(ctx, "COMMIT"); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := db.QueryRowContext(ctx, "SELECT COUNT(*) FROM customer WHERE email LIKE 'reload%'").Scan(&n); err != nil || n != 2 {
		t.Errorf("rows of the transaction: %d (%v)", n, err)
	}
	// A reload that changes what needs a restart says so and keeps running.
	writeFile(t, path, strings.Replace(file(3), fmt.Sprintf("mysql_port: %d", ports[0]), "mysql_port: 1", 1))
	out.Reset()
	reload.SetArgs([]string{"reload", "--server", httpAddr})
	if err := reload.ExecuteContext(ctx); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "not applied: gateway.mysql_port") || !strings.Contains(out.String(), "needs a restart") {
		t.Errorf("reload output: %s", out.String())
	}
	// A bad file is refused; the running configuration stays.
	writeFile(t, path, "global:\n  pool_size: many\n")
	reload.SetArgs([]string{"reload", "--server", httpAddr})
	if err := reload.ExecuteContext(ctx); err == nil || !strings.Contains(err.Error(), path+":2: global.pool_size") {
		t.Errorf("reload of a bad file: %v", err)
	}
	if n := capacity(); n != 3 {
		t.Errorf("capacity after a refused reload: %d, want 3", n)
	}

	// A gateway user's password changed in its file: a reload applies it to new logins, and
	// says so without the password.
	writeFile(t, path, file(3))
	writeFile(t, filepath.Join(dir, "gw.pw"), rotatedPW+"\n")
	out.Reset()
	reload.SetArgs([]string{"reload", "--server", httpAddr})
	if err := reload.ExecuteContext(ctx); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "users.app.password: changed") || strings.Contains(out.String(), rotatedPW) {
		t.Errorf("reload output of a password change: %s", out.String())
	}
	mc.Passwd = rotatedPW
	rotated, err := sql.Open("mysql", mc.FormatDSN())
	if err != nil {
		t.Fatal(err)
	}
	defer rotated.Close()
	if err := rotated.PingContext(ctx); err != nil {
		t.Errorf("login with the new password: %v", err)
	}
	mc.Passwd = gatewayPW
	old, err := sql.Open("mysql", mc.FormatDSN())
	if err != nil {
		t.Fatal(err)
	}
	defer old.Close()
	var me *mysql.MySQLError
	if err := old.PingContext(ctx); !errors.As(err, &me) || me.Number != 1045 {
		t.Errorf("login with the old password: %v, want 1045", err)
	}

	// Access rules given by a reload apply to every session's next statement: the users file
	// (named relative to the configuration file) now lets app only read commerce.
	writeFile(t, filepath.Join(dir, "users.json"), `{"app": [{"Password": "unused", "Keyspaces": {"commerce": "read"}}]}`)
	writeFile(t, path, strings.Replace(file(3), "  log_level: debug\n", "  log_level: debug\n  auth_static_file: users.json\n", 1))
	out.Reset()
	reload.SetArgs([]string{"reload", "--server", httpAddr})
	if err := reload.ExecuteContext(ctx); err != nil {
		t.Fatal(err)
	}
	for name, c := range map[string]*sql.DB{"a session open before the reload": db, "a new session": rotated} {
		if _, err := c.ExecContext(ctx, "INSERT INTO customer (email) VALUES ('denied@example.com')"); !errors.As(err, &me) || me.Number != 1044 {
			t.Errorf("%s: a write after the reload made app a reader: %v, want 1044", name, err)
		}
		if err := c.QueryRowContext(ctx, "SELECT COUNT(*) FROM customer").Scan(&n); err != nil {
			t.Errorf("%s: a read after the reload: %v", name, err)
		}
	}

	// No secret anywhere the gateway shows or logs.
	var seen bytes.Buffer
	for _, page := range []string{"/metrics", "/debug/vars", "/debug/status", "/debug/tablets", "/debug/tablets?format=json",
		"/debug/pools", "/debug/health", "/debug/livequeryz", "/debug/txz",
		"/zone1-100/debug/status", "/zone1-100/debug/pools", "/zone1-100/debug/health", "/zone1-100/debug/vars"} {
		resp, err := http.Get("http://" + httpAddr + page)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("%s: %s", page, resp.Status)
		}
		fmt.Fprintf(&seen, "%s\n%s\n", page, body)
	}
	// The command line is not served at all (it may hold secrets of other tools' flags).
	if resp, err := http.Get("http://" + httpAddr + "/debug/pprof/cmdline"); err != nil || resp.StatusCode != http.StatusNotFound {
		t.Errorf("/debug/pprof/cmdline: %v %v, want 404", resp, err)
	} else {
		resp.Body.Close()
	}
	logged, err := os.ReadFile(logFile.Name())
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(logged, []byte("level=DEBUG")) {
		t.Errorf("the gateway logged no debug line to stderr; the secret check would not see its log")
	}
	seen.Write(logged)
	for _, secret := range []string{backendPW, gatewayPW, rotatedPW} {
		if i := bytes.Index(seen.Bytes(), []byte(secret)); i >= 0 {
			t.Errorf("a password shows: ...%s...", seen.Bytes()[max(i-200, 0):i])
		}
	}
}

func randomHex(t *testing.T) string {
	b := make([]byte, 8)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

package local

import (
	topodatapb "vitess.io/vitess/go/vt/proto/topodata"

	"bytes"
	"context"
	"database/sql"
	"io"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The demo runs etcd and the gateway as detached processes of the vtdirect binary. In this
// package's tests the test binary plays that binary: TestMain runs a role when the first
// argument names one. The "gateway" role is a plain TCP relay to the primary, enough to check
// the launcher's plumbing (the real gateway is tested by its own package).
const (
	roleEtcd    = "vtdirect-test-role-etcd"
	roleGateway = "vtdirect-test-role-gateway"
)

func TestMain(m *testing.M) {
	if len(os.Args) > 1 && (os.Args[1] == roleEtcd || os.Args[1] == roleGateway) {
		os.Exit(runRole(os.Args[1], os.Args[2:]))
	}
	os.Exit(m.Run())
}

// fakeGateway makes cfg's gateway the relay of runRole to the MySQL server on backendPort,
// started as the demo starts the real one: `serve --config FILE`, its ports only in the file.
func fakeGateway(cfg *DemoConfig, backendPort int) {
	file := filepath.Join(cfg.gatewayDir(), "fake.conf")
	cfg.Gateway.Args = []string{roleGateway, "serve", "--config", file}
	cfg.Gateway.Files = map[string]string{file: net.JoinHostPort("127.0.0.1", strconv.Itoa(cfg.Gateway.MySQLPort)) + " " +
		net.JoinHostPort("127.0.0.1", strconv.Itoa(backendPort))}
}

func runRole(role string, args []string) int {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	switch role {
	case roleEtcd: // args: dir port peerPort
		port, _ := strconv.Atoi(args[1])
		peer, _ := strconv.Atoi(args[2])
		if err := RunEtcd(ctx, args[0], port, peer, nil); err != nil {
			os.Stderr.WriteString(err.Error() + "\n")
			return 1
		}
	case roleGateway: // args: "serve" "--config" FILE, as the real one: FILE holds "listenAddr backendAddr"
		b, err := os.ReadFile(args[2])
		if err != nil {
			return 1
		}
		addrs := strings.Fields(string(b))
		if len(addrs) != 2 {
			return 1
		}
		args = []string{"serve", addrs[0], addrs[1]}
		l, err := net.Listen("tcp", args[1])
		if err != nil {
			return 1
		}
		go func() { <-ctx.Done(); l.Close() }()
		for {
			c, err := l.Accept()
			if err != nil {
				return 0
			}
			go relay(c, args[2])
		}
	}
	return 0
}

func relay(c net.Conn, backend string) {
	defer c.Close()
	b, err := net.Dial("tcp", backend)
	if err != nil {
		return
	}
	defer b.Close()
	go func() { _, _ = io.Copy(b, c); b.Close() }()
	_, _ = io.Copy(c, b)
}

func freePorts(t *testing.T, n int) []int {
	t.Helper()
	ports := make([]int, n)
	for i := range ports {
		p, err := FreePort()
		if err != nil {
			t.Fatal(err)
		}
		ports[i] = p
	}
	return ports
}

// upDemo runs Up with the configuration build makes of n fresh ports and a fresh directory,
// again with new ones when a port was taken by another process between its choice and its
// bind (the packages' tests run at once). Down runs at the test's end whatever happened.
func upDemo(t *testing.T, ctx context.Context, n int, build func(dir string, ports []int) DemoConfig) (DemoConfig, []int, string) {
	t.Helper()
	for attempt := 1; ; attempt++ {
		dir := t.TempDir()
		ports := freePorts(t, n)
		cfg := build(dir, ports)
		t.Cleanup(func() {
			// Whatever happened, leave no detached process behind.
			_ = Down(context.Background(), dir, false, io.Discard)
		})
		var out bytes.Buffer
		err := Up(ctx, cfg, &out)
		if err == nil {
			return cfg, ports, out.String()
		}
		if attempt == 3 || !strings.Contains(err.Error(), "is in use by another process") {
			t.Fatalf("Up: %v\n%s", err, out.String())
		}
		t.Logf("Up, try %d: %v; again with other ports", attempt, err)
		_ = Down(context.Background(), dir, false, io.Discard)
	}
}

func TestDemoUpStatusDown(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	cfg, ports, upOut := upDemo(t, ctx, 9, func(dir string, ports []int) DemoConfig {
		layout := DemoLayout()
		for i := range layout.Tablets {
			layout.Tablets[i].MySQLPort = ports[i]
		}
		cfg := DemoConfig{
			Dir: dir, Layout: layout, User: "app", Password: "app",
			EtcdPort: ports[4], EtcdPeerPort: ports[5],
			Gateway:    DemoGateway{Cell: "zone1", MySQLPort: ports[6], GRPCPort: ports[7], HTTPPort: ports[8]},
			Executable: os.Args[0],
			Schemas:    2,
		}
		cfg.EtcdArgs = []string{roleEtcd, cfg.EtcdDir(), strconv.Itoa(cfg.EtcdPort), strconv.Itoa(cfg.EtcdPeerPort)}
		fakeGateway(&cfg, layout.Tablets[0].MySQLPort)
		return cfg
	})
	dir := cfg.Dir
	var out bytes.Buffer
	out.WriteString(upOut)
	t.Logf("up:\n%s", out.String())
	grantsCfg := cfg
	if err := grantsCfg.validate(); err != nil { // the accounts' defaults, as Up filled them in
		t.Fatal(err)
	}
	checkDemoGrants(t, ctx, grantsCfg)
	checkAppDataPath(t, ctx, grantsCfg, cfg.Layout.Primary(), cfg.Layout.DBName)
	checkAppDataPath(t, ctx, grantsCfg, cfg.Layout.Primary(), SchemaDB(2))
	// Servers whose accounts an older version made (SELECT on *.*, and more) get the grants
	// of this one from up, running or not.
	for _, spec := range cfg.Layout.Tablets {
		plantOldGrants(t, ctx, &grantsCfg, spec)
	}
	for _, want := range []string{"starting mariadbd zone1-100 (PRIMARY) on 127.0.0.1:" + strconv.Itoa(ports[0]) + " ... ok", "mariadb -h 127.0.0.1 -P " + strconv.Itoa(ports[6])} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("up output lacks %q", want)
		}
	}

	// Up again is harmless: everything is already running.
	out.Reset()
	if err := Up(ctx, cfg, &out); err != nil {
		t.Fatalf("Up again: %v\n%s", err, out.String())
	}
	if strings.Contains(out.String(), "starting") {
		t.Errorf("second up started something:\n%s", out.String())
	}
	checkDemoGrants(t, ctx, grantsCfg)

	out.Reset()
	if err := Status(ctx, dir, &out); err != nil {
		t.Fatalf("Status: %v\n%s", err, out.String())
	}
	t.Logf("status:\n%s", out.String())
	if got := strings.Count(out.String(), "io=Yes sql=Yes"); got != 3 {
		t.Errorf("status shows %d running replicas, want 3:\n%s", got, out.String())
	}

	// A crashed replica is restarted by up.
	pid := liveProcess(filepath.Join(dir, "zone2-201", pidFileName))
	if err := StopProcess(ctx, pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	if err := Status(ctx, dir, io.Discard); err == nil {
		t.Error("status reports no error with a tablet down")
	}
	out.Reset()
	if err := Up(ctx, cfg, &out); err != nil {
		t.Fatalf("Up after crash: %v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "starting mariadbd zone2-201") {
		t.Errorf("up did not restart zone2-201:\n%s", out.String())
	}

	out.Reset()
	if err := Down(ctx, dir, true, &out); err != nil {
		t.Fatalf("Down: %v\n%s", err, out.String())
	}
	t.Logf("down:\n%s", out.String())
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("--purge left %s: %v", dir, err)
	}
}

// plantOldGrants gives the app user of spec's server, on that server alone, what an older
// version gave it: every data privilege on *.* and SHOW DATABASES.
func plantOldGrants(t *testing.T, ctx context.Context, cfg *DemoConfig, spec TabletSpec) {
	t.Helper()
	db, err := sql.Open("mysql", tabletDBADSN(cfg, spec, ""))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	for _, s := range []string{"SET SESSION sql_log_bin = 0",
		"GRANT " + AppPrivileges + ", SHOW DATABASES ON *.* TO " + quoteString(cfg.User) + "@'%'",
		"GRANT SELECT ON *.* TO " + quoteString(cfg.FilteredUser) + "@'localhost'"} {
		if _, err := conn.ExecContext(ctx, s); err != nil {
			t.Fatalf("%s: %s: %v", spec.Alias(), s, err)
		}
	}
}

func TestStopOrder(t *testing.T) {
	cfg := DemoConfig{Dir: "/d", Layout: DemoLayout(), Gateway: DemoGateway{MySQLPort: 15306}, EtcdPort: 2379}
	var got []string
	for _, p := range stopOrder(cfg.processes(roles{})) {
		got = append(got, p.name)
	}
	want := "gateway etcd zone1-101 zone2-200 zone2-201 zone1-100"
	if strings.Join(got, " ") != want {
		t.Errorf("stop order %v, want %s", got, want)
	}
	// After a failover the topo's roles count: the new primary stops last.
	got = nil
	r := roles{types: map[string]topodatapb.TabletType{"zone1-100": topodatapb.TabletType_REPLICA, "zone1-101": topodatapb.TabletType_PRIMARY}}
	for _, p := range stopOrder(cfg.processes(r)) {
		got = append(got, p.name)
	}
	if want := "gateway etcd zone1-100 zone2-200 zone2-201 zone1-101"; strings.Join(got, " ") != want {
		t.Errorf("stop order after a failover %v, want %s", got, want)
	}
}

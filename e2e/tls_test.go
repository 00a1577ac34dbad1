package e2e

import (
	"bytes"
	"context"
	"crypto/tls"
	"database/sql"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	querypb "vitess.io/vitess/go/vt/proto/query"
	vtgatepb "vitess.io/vitess/go/vt/proto/vtgate"

	"github.com/vtdirect/vtdirect/backendconn"
	"github.com/vtdirect/vtdirect/gateway"
	"github.com/vtdirect/vtdirect/local"
)

// TLS end to end, with the test's own CA (TestMain gives every MariaDB a certificate of it):
// clients that require TLS of the gateway, the gateway verifying MariaDB's certificate (and
// refusing one of another CA), gRPC with and without a client certificate.

func TestTLSEndToEnd(t *testing.T) {
	ctx := t.Context()
	serverCert, err := testCA.TLSCertificate("gateway", "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	g := newGateway(t, func(c *gatewayConfigT) {
		c.TLSConfig = &tls.Config{Certificates: []tls.Certificate{serverCert}, MinVersion: tls.VersionTLS12}
		c.RequireTLS = true
		c.TabletServer.TLSMode = backendconn.TLSVerifyCA
		c.TabletServer.TLSConfig = &tls.Config{RootCAs: testCA.Pool()}
		c.GRPCTLS = &tls.Config{Certificates: []tls.Certificate{serverCert}, MinVersion: tls.VersionTLS12,
			ClientCAs: testCA.Pool(), ClientAuth: tls.RequireAndVerifyClientCert}
	})

	t.Run("mysql client requiring TLS", func(t *testing.T) {
		if err := mysql.RegisterTLSConfig("e2e-ca", &tls.Config{RootCAs: testCA.Pool(), ServerName: "127.0.0.1"}); err != nil {
			t.Fatal(err)
		}
		db := openDB(t, dsn(g, "commerce", "tls=e2e-ca"))
		c := conn(t, db)
		// the client's session is over TLS, and so is the gateway's connection to MariaDB
		var name, version string
		if err := c.QueryRowContext(ctx, "SHOW SESSION STATUS LIKE 'Ssl_version'").Scan(&name, &version); err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(version, "TLS") {
			t.Fatalf("the backend connection's Ssl_version is %q; want TLS", version)
		}
		// a client without TLS is refused by the gateway
		_, err := openDB(t, dsn(g, "commerce")).ExecContext(ctx, "SELECT 1")
		if err == nil {
			t.Fatal("a client without TLS got in")
		}
	})

	t.Run("gateway with a wrong CA for MariaDB", func(t *testing.T) {
		other, err := local.NewCA("some other CA")
		if err != nil {
			t.Fatal(err)
		}
		cfg := gatewayConfig()
		cfg.TabletServer.TLSMode = backendconn.TLSVerifyCA
		cfg.TabletServer.TLSConfig = &tls.Config{RootCAs: other.Pool()}
		bad, err := gateway.Start(ctx, cfg, cluster.Topo)
		if err != nil {
			t.Fatal(err)
		}
		defer bad.Close()
		// no tablet is served: every connection to MariaDB fails its certificate check
		var health []string
		defer func() {
			if t.Failed() {
				t.Logf("health: %q", health)
			}
		}()
		waitFor(t, "the tablets' health to report the certificate", func() bool {
			tabs := bad.Registry.Snapshot().Tablets()
			health = health[:0]
			ok := len(tabs) > 0
			for _, tab := range tabs {
				health = append(health, fmt.Sprintf("%s serving=%v err=%v", tab.Alias, tab.Health().Serving, tab.Health().Err))
				if tab.Health().Serving || tab.Health().Err == nil || !strings.Contains(tab.Health().Err.Error(), "certificate") {
					ok = false
				}
			}
			return ok
		})
		_, err = openDB(t, dsn(bad, "commerce")).ExecContext(ctx, "SELECT 1")
		if err == nil {
			t.Fatal("a query went through a gateway that cannot verify MariaDB")
		}
	})

	t.Run("grpc with and without a client certificate", func(t *testing.T) {
		clientCert, err := testCA.TLSCertificate("client")
		if err != nil {
			t.Fatal(err)
		}
		call := func(cfg *tls.Config) error {
			vc := grpcClientOf(t, g, "app", "app", grpc.WithTransportCredentials(credentials.NewTLS(cfg)))
			cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			defer cancel()
			resp, err := vc.Execute(cctx, &vtgatepb.ExecuteRequest{
				Session: &vtgatepb.Session{TargetString: "commerce", Autocommit: true},
				Query:   &querypb.BoundQuery{Sql: "SELECT 1"},
			})
			if err == nil && resp.Error != nil {
				err = fmt.Errorf("%v", resp.Error)
			}
			return err
		}
		if err := call(&tls.Config{RootCAs: testCA.Pool(), Certificates: []tls.Certificate{clientCert}}); err != nil {
			t.Fatalf("with a client certificate: %v", err)
		}
		if err := call(&tls.Config{RootCAs: testCA.Pool()}); err == nil {
			t.Fatal("without a client certificate: no error")
		}
	})
}

// syncBuffer is a log destination tests read while the gateway writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// A least-privileged backend user (no SUPER, no replication control, no grants) serves the
// data path; no page, metric or log line shows a password, and the backend's grants stop an
// admin's statement the user may not run.
func TestSecretsAndLeastPrivilege(t *testing.T) {
	ctx := t.Context()
	const backendPW, clientPW = "backend-pw-e2e-51c3", "client-pw-e2e-9a7f"
	primary := directDB(t, cluster.Primary().Alias())
	for _, q := range []string{
		"CREATE USER IF NOT EXISTS 'e2e_least'@'%' IDENTIFIED BY '" + backendPW + "'",
		"GRANT SELECT, INSERT, UPDATE, DELETE, CREATE TEMPORARY TABLES, LOCK TABLES, EXECUTE, SHOW VIEW ON `" + cluster.Layout.DBName + "`.* TO 'e2e_least'@'%'",
		"GRANT SLAVE MONITOR ON *.* TO 'e2e_least'@'%'",
	} {
		if _, err := primary.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	t.Cleanup(func() { primary.Exec("DROP USER IF EXISTS 'e2e_least'@'%'") })
	for _, tab := range cluster.Tablets() {
		if tab != cluster.Primary() {
			if err := localWaitCaughtUp(ctx, tab.Alias()); err != nil {
				t.Fatal(err)
			}
		}
	}
	logs := &syncBuffer{}
	g := newGateway(t, func(c *gatewayConfigT) {
		c.Users = map[string]string{"app": clientPW, "ops": clientPW + "-ops"}
		c.Access = securePolicy(t)
		c.TabletServer.User, c.TabletServer.Password = "e2e_least", backendPW
		c.Logger = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	})
	app := openDB(t, userDSN(g, "app", clientPW, "commerce"))
	if n := queryInt(t, app, "SELECT COUNT(*) FROM customer"); n == 0 {
		t.Fatal("no rows through the least-privileged backend user")
	}
	if n := queryInt(t, openDB(t, userDSN(g, "app", clientPW, "commerce@replica")), "SELECT COUNT(*) FROM customer"); n == 0 {
		t.Fatal("no rows from a replica through the least-privileged backend user")
	}
	// a failed login and a refused statement, so that the log has something to say
	_, err := openDB(t, userDSN(g, "app", "wrong-"+clientPW, "commerce")).ExecContext(ctx, "SELECT 1")
	mysqlErr(t, err, 1045)
	_, err = app.ExecContext(ctx, "SET GLOBAL max_connections = 10")
	mysqlErr(t, err, 1227)
	// the admin passes the gateway's check; the backend's grants are the last line
	ops := openDB(t, userDSN(g, "ops", clientPW+"-ops", "commerce"))
	_, err = ops.ExecContext(ctx, "SET GLOBAL max_connections = 10")
	mysqlErr(t, err, 1227)
	if _, err := ops.ExecContext(ctx, "SHUTDOWN"); err == nil {
		t.Fatal("SHUTDOWN through the least-privileged backend user: no error")
	}
	var dummy sql.NullString
	if err := ops.QueryRowContext(ctx, "SELECT 1").Scan(&dummy); err != nil {
		t.Fatal(err)
	}

	code, _ := httpGetFrom(t, g, "/debug/pprof/cmdline")
	if code != http.StatusNotFound {
		t.Fatalf("/debug/pprof/cmdline: status %d, want 404", code)
	}
	pages := map[string]string{"log": logs.String()}
	for _, p := range []string{"/", "/metrics", "/debug/status", "/debug/picker?keyspace=commerce", "/debug/failover", "/debug/pprof/",
		"/debug/pprof/goroutine?debug=2", "/healthz"} {
		_, body := httpGetFrom(t, g, p)
		pages[p] = body
	}
	for where, text := range pages {
		for _, pw := range []string{backendPW, clientPW} {
			if strings.Contains(text, pw) {
				t.Errorf("%s shows a password (%s)", where, pw)
			}
		}
	}
}

package e2e

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	gomysql "github.com/go-mysql-org/go-mysql/mysql"
	"github.com/go-sql-driver/mysql"

	"github.com/vtdirect/vtdirect/gateway"
	"github.com/vtdirect/vtdirect/local"
	"github.com/vtdirect/vtdirect/tabletserver"
)

// cluster is the one cluster every test of the package shares; gw is a gateway in cell zone1
// with the default settings. Tests that change the cluster put it back as they found it.
var (
	cluster *local.Cluster
	gw      *gateway.Gateway
	testCA  *local.CA // signed the MariaDBs' certificates
)

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	if err := local.CheckMariaDBInstalled(); err != nil {
		fmt.Fprintln(os.Stderr, "e2e tests need MariaDB (`make test` installs it):", err)
		return 1
	}
	dir, err := os.MkdirTemp("", "vtdirect-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	// Every MariaDB offers TLS with a certificate of the test's own CA (security_test.go).
	if testCA, err = local.NewCA("vtdirect e2e CA"); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	caFile, certFile, keyFile, err := testCA.WriteFiles(dir, "mariadb", "127.0.0.1")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	cluster, err = local.StartCluster(ctx, local.ClusterConfig{Dir: dir, SampleData: true, Logger: quietLogger(),
		MariaDBArgs: []string{"--ssl-ca=" + caFile, "--ssl-cert=" + certFile, "--ssl-key=" + keyFile}})
	if err != nil {
		fmt.Fprintln(os.Stderr, "start cluster:", err)
		return 1
	}
	defer cluster.Close()
	gw, err = startGateway(ctx, nil)
	if err != nil {
		fmt.Fprintln(os.Stderr, "start gateway:", err)
		return 1
	}
	defer gw.Close()
	return m.Run()
}

func quietLogger() *slog.Logger {
	if os.Getenv("VTDIRECT_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// gatewayConfig is the default test gateway: cell zone1, user app/app, fast health probes.
func gatewayConfig() gateway.Config {
	return gateway.Config{
		Cell:          "zone1",
		MySQLAddr:     "127.0.0.1:0",
		HTTPAddr:      "127.0.0.1:0",
		GRPCAddr:      "127.0.0.1:0",
		LocalInfile:   true,
		Users:         map[string]string{"app": "app", "other": "secret"},
		MaxPacketSize: 64 << 20,
		WriteTimeout:  time.Minute,
		TabletServer: tabletserver.Config{
			User:            cluster.User(),
			Password:        cluster.Password(),
			PoolSize:        8,
			PoolWaitTimeout: 5 * time.Second,
			IdleTimeout:     time.Minute,
			TxPoolSize:      8,
			TxTimeout:       30 * time.Second,
			HealthInterval:  200 * time.Millisecond,
			ConnectTimeout:  5 * time.Second,
		},
		Logger: quietLogger(),
	}
}

// startGateway starts a gateway over the shared cluster and waits until it sees every tablet
// healthy. change edits the default config.
func startGateway(ctx context.Context, change func(*gateway.Config)) (*gateway.Gateway, error) {
	cfg := gatewayConfig()
	if change != nil {
		change(&cfg)
	}
	g, err := gateway.Start(ctx, cfg, cluster.Topo)
	if err != nil {
		return nil, err
	}
	var aliases []string
	for _, t := range cluster.Tablets() {
		aliases = append(aliases, t.Alias())
	}
	if err := waitServing(ctx, g, aliases...); err != nil {
		g.Close()
		return nil, err
	}
	return g, nil
}

func newGateway(t *testing.T, change func(*gateway.Config)) *gateway.Gateway {
	t.Helper()
	g, err := startGateway(t.Context(), change)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(g.Close)
	return g
}

// waitServing waits until the gateway's registry has every alias serving (or, with a
// leading "!", absent or not serving).
func waitServing(ctx context.Context, g *gateway.Gateway, aliases ...string) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	for {
		changed := g.Registry.Changed()
		snap := g.Registry.Snapshot()
		pending := ""
		for _, a := range aliases {
			want := !strings.HasPrefix(a, "!")
			a = strings.TrimPrefix(a, "!")
			serving := false
			for _, t := range snap.Tablets() {
				if shortAlias(t.Alias) == a && t.Health().Serving {
					serving = true
				}
			}
			if serving != want {
				pending = a
				break
			}
		}
		if pending == "" {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("tablet %s did not reach the wanted state: %w", pending, ctx.Err())
		case <-changed:
		}
	}
}

// shortAlias turns Vitess's "zone1-0000000100" into "zone1-100".
func shortAlias(a string) string {
	i := strings.LastIndexByte(a, '-')
	if i < 0 {
		return a
	}
	uid := strings.TrimLeft(a[i+1:], "0")
	if uid == "" {
		uid = "0"
	}
	return a[:i+1] + uid
}

// dsn is a go-sql-driver DSN for the gateway g and a target.
func dsn(g *gateway.Gateway, target string, params ...string) string {
	d := fmt.Sprintf("app:app@tcp(%s)/%s", g.MySQLAddr(), target)
	if len(params) > 0 {
		d += "?" + strings.Join(params, "&")
	}
	return d
}

func openDB(t *testing.T, dsn string) *sql.DB {
	t.Helper()
	db, err := sql.Open("mysql", dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// conn is one dedicated client connection (one gateway session).
func conn(t *testing.T, db *sql.DB) *sql.Conn {
	t.Helper()
	c, err := db.Conn(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

type querier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

func queryInt(t *testing.T, q querier, query string, args ...any) int64 {
	t.Helper()
	var n int64
	if err := q.QueryRowContext(t.Context(), query, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

func queryString(t *testing.T, q querier, query string, args ...any) string {
	t.Helper()
	var s string
	if err := q.QueryRowContext(t.Context(), query, args...).Scan(&s); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return s
}

// mysqlErr checks that err is a MySQL error with the code, and returns it.
func mysqlErr(t *testing.T, err error, code uint16) *mysql.MySQLError {
	t.Helper()
	var me *mysql.MySQLError
	if !errors.As(err, &me) {
		t.Fatalf("error = %v, want MySQL error %d", err, code)
	}
	if me.Number != code {
		t.Fatalf("error = %v, want MySQL error %d", err, code)
	}
	return me
}

// primaryDB is a direct connection to the primary MariaDB.
func directDB(t *testing.T, alias string) *sql.DB {
	t.Helper()
	tab := cluster.Tablet(alias)
	if tab == nil {
		t.Fatalf("no tablet %s", alias)
	}
	return openDB(t, tab.MariaDB.DSN(cluster.Layout.DBName))
}

type gatewayConfigT = gateway.Config

type gatewayT = gateway.Gateway

var _ = gomysql.ER_UNKNOWN_ERROR

func localWaitCaughtUp(ctx context.Context, alias string) error {
	return local.WaitCaughtUp(ctx, cluster.Primary().MariaDB, cluster.Tablet(alias).MariaDB)
}

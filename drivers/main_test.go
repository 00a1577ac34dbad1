package drivers

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"strconv"
	"testing"
	"time"

	_ "github.com/go-sql-driver/mysql"
	topodatapb "vitess.io/vitess/go/vt/proto/topodata"

	"github.com/vtdirect/vtdirect/acl"
	"github.com/vtdirect/vtdirect/gateway"
	"github.com/vtdirect/vtdirect/local"
	"github.com/vtdirect/vtdirect/tabletserver"
)

// The one cluster of the package (a primary only: every driver writes) and its gateway.
var (
	cluster *local.Cluster
	gw      *gateway.Gateway
)

// Backend pools of the gateway: small, so that the sessions of the scripts (and of the
// scripts running in parallel) really share backend connections, yet at least as large as
// the number of sessions that hold a transaction at once (one per script, -parallel 2).
const (
	poolSize   = 2
	txPoolSize = 2
)

// The second account (COM_CHANGE_USER), on the gateway and on MariaDB alike.
const (
	otherUser     = "other"
	otherPassword = "secret"
)

func TestMain(m *testing.M) { os.Exit(run(m)) }

func run(m *testing.M) int {
	if err := local.CheckMariaDBInstalled(); err != nil {
		fmt.Fprintln(os.Stderr, "driver tests need MariaDB (`make test` installs it):", err)
		return 1
	}
	dir, err := os.MkdirTemp("", "vtdirect-drivers-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	layout := primaryOnlyLayout()
	cluster, err = local.StartCluster(ctx, local.ClusterConfig{Dir: dir, Layout: &layout, SampleData: true, Logger: quietLogger()})
	if err != nil {
		fmt.Fprintln(os.Stderr, "start cluster:", err)
		return 1
	}
	defer cluster.Close()
	if err := createOtherUser(ctx); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	gw, err = startGateway(ctx)
	if err != nil {
		fmt.Fprintln(os.Stderr, "start gateway:", err)
		return 1
	}
	defer gw.Close()
	return m.Run()
}

// primaryOnlyLayout is the demo's keyspace commerce/0 with its primary alone, on a free port.
func primaryOnlyLayout() local.Layout {
	l := local.DemoLayout()
	l.Cells = []string{"zone1"}
	l.CellsAliases = nil
	var primary local.TabletSpec
	for _, t := range l.Tablets {
		if t.Type == topodatapb.TabletType_PRIMARY {
			primary = t
		}
	}
	primary.MySQLPort = 0
	l.Tablets = []local.TabletSpec{primary}
	return l
}

func quietLogger() *slog.Logger {
	if os.Getenv("VTDIRECT_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// startGateway starts the gateway as `vtdirect serve` runs by default (the handshake's server
// version included: drivers read it), with small pools, and waits for the primary to serve.
func startGateway(ctx context.Context) (*gateway.Gateway, error) {
	return startGatewayPools(ctx, poolSize, txPoolSize)
}

// startGatewayPools is startGateway with other pool sizes.
func startGatewayPools(ctx context.Context, poolSize, txPoolSize int) (*gateway.Gateway, error) {
	cfg := gateway.Config{
		Cell:      "zone1",
		MySQLAddr: "127.0.0.1:0",
		Users:     map[string]string{cluster.User(): cluster.Password(), otherUser: otherPassword},
		// The drivers' own suites create procedures and functions, which the access rules
		// leave to admins (README: Users, access rules and bounds).
		Access:        driverSuitePolicy(),
		MaxPacketSize: 64 << 20,
		WriteTimeout:  time.Minute,
		LocalInfile:   true, // as `vtdirect serve` by default
		TabletServer: tabletserver.Config{
			User:            cluster.User(),
			Password:        cluster.Password(),
			PoolSize:        poolSize,
			PoolWaitTimeout: 10 * time.Second,
			IdleTimeout:     time.Minute,
			TxPoolSize:      txPoolSize,
			TxTimeout:       time.Minute,
			HealthInterval:  200 * time.Millisecond,
			ConnectTimeout:  5 * time.Second,
		},
		Logger: quietLogger(),
	}
	g, err := gateway.Start(ctx, cfg, cluster.Topo)
	if err != nil {
		return nil, err
	}
	wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	for {
		changed := g.Registry.Changed()
		for _, t := range g.Registry.Snapshot().Tablets() {
			if t.Health().Serving {
				return g, nil
			}
		}
		select {
		case <-wctx.Done():
			g.Close()
			return nil, fmt.Errorf("the gateway never saw the primary serving: %w", wctx.Err())
		case <-changed:
		}
	}
}

// createOtherUser makes the second account on MariaDB, as the gateway knows it.
func createOtherUser(ctx context.Context) error {
	// As the admin user: the app user lacks READ_ONLY ADMIN (local fences it), so it cannot
	// grant everything.
	db, err := sql.Open("mysql", cluster.Primary().MariaDB.DBADSN(""))
	if err != nil {
		return err
	}
	defer db.Close()
	for _, q := range []string{
		fmt.Sprintf("CREATE USER IF NOT EXISTS '%s'@'%%' IDENTIFIED BY '%s'", otherUser, otherPassword),
		fmt.Sprintf("GRANT ALL PRIVILEGES ON *.* TO '%s'@'%%'", otherUser),
	} {
		if _, err := db.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("create user %s on MariaDB: %s: %w", otherUser, q, err)
		}
	}
	return nil
}

// endpoint is where one run of a script connects: MariaDB directly or the gateway. Both have
// the same accounts and the same database name (the keyspace commerce is database commerce).
type endpoint struct {
	name       string // "direct" or "gateway"
	host       string
	port       int
	user, pass string
	db         string
}

func (e endpoint) addr() string { return net.JoinHostPort(e.host, strconv.Itoa(e.port)) }

// dsn is a go-sql-driver/mysql DSN for the endpoint with extra parameters.
func (e endpoint) dsn(params string) string {
	d := fmt.Sprintf("%s:%s@tcp(%s)/%s", e.user, e.pass, e.addr(), e.db)
	if params != "" {
		d += "?" + params
	}
	return d
}

func directEndpoint() endpoint {
	m := cluster.Primary().MariaDB
	return endpoint{name: "direct", host: "127.0.0.1", port: m.Port(), user: m.User(), pass: m.Password(), db: cluster.Layout.DBName}
}

func gatewayEndpoint() endpoint { return endpointOf(gw) }

// endpointOf is the endpoint of a gateway.
func endpointOf(g *gateway.Gateway) endpoint {
	_, p, _ := net.SplitHostPort(g.MySQLAddr())
	port, _ := strconv.Atoi(p)
	return endpoint{name: "gateway", host: "127.0.0.1", port: port, user: cluster.User(), pass: cluster.Password(), db: cluster.Layout.Keyspace}
}

// endpoints are the two runs of every script, the oracle first.
func endpoints() []endpoint { return []endpoint{directEndpoint(), gatewayEndpoint()} }

// directDB is a pool of connections straight to the primary, for the checks after a run.
func directDB(t *testing.T) *sql.DB {
	t.Helper()
	db, err := sql.Open("mysql", directEndpoint().dsn(""))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// driverSuitePolicy makes the suites' user an admin; otherUser stays an ordinary user.
func driverSuitePolicy() *acl.Policy {
	p, err := acl.New(acl.Config{Users: map[string]acl.UserConfig{cluster.User(): {Admin: true}}})
	if err != nil {
		panic(err) // a literal configuration
	}
	return p
}

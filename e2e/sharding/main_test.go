package sharding

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

	"github.com/go-sql-driver/mysql"

	"github.com/vtdirect/vtdirect/gateway"
	"github.com/vtdirect/vtdirect/local"
	"github.com/vtdirect/vtdirect/tabletserver"
	"github.com/vtdirect/vtdirect/topo"
)

// The cluster every test shares: commerce (unsharded) and customer (sharded), and a gateway.
var (
	cluster *local.Cluster
	sharded *local.ShardedCluster
	gw      *gateway.Gateway
)

func TestMain(m *testing.M) { os.Exit(run(m)) }

func run(m *testing.M) int {
	if err := local.CheckMariaDBInstalled(); err != nil {
		fmt.Fprintln(os.Stderr, "sharding tests need MariaDB (`make test` installs it):", err)
		return 1
	}
	dir, err := os.MkdirTemp("", "vtdirect-sharding-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	// userstat: per-table statistics, which prove where statements ran.
	cluster, err = local.StartCluster(ctx, local.ClusterConfig{Dir: dir, SampleData: true, Logger: quietLogger(), MariaDBArgs: []string{"--userstat=1"}})
	if err != nil {
		fmt.Fprintln(os.Stderr, "start cluster:", err)
		return 1
	}
	defer cluster.Close()
	sharded, err = local.StartShardedKeyspace(ctx, cluster, local.ShardedConfig{SampleData: true})
	if err != nil {
		fmt.Fprintln(os.Stderr, "start sharded keyspace:", err)
		return 1
	}
	defer sharded.Close()
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

func gatewayConfig() gateway.Config {
	return gateway.Config{
		Cell:      "zone1",
		MySQLAddr: "127.0.0.1:0",
		Users:     map[string]string{"app": "app"},
		TabletServer: tabletserver.Config{
			User: cluster.User(), Password: cluster.Password(),
			PoolSize: 16, PoolWaitTimeout: 5 * time.Second, IdleTimeout: time.Minute,
			TxPoolSize: 32, TxTimeout: 30 * time.Second,
			HealthInterval: 200 * time.Millisecond, ConnectTimeout: 5 * time.Second,
		},
		Logger: quietLogger(),
	}
}

// startGateway starts a gateway and waits until every tablet serves and the vschemas are
// read.
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
	for _, t := range append(cluster.Tablets(), sharded.Tablets()...) {
		aliases = append(aliases, topo.TabletAliasString(t.Record.Alias))
	}
	if err := g.Registry.WaitForTablets(ctx, aliases...); err != nil {
		g.Close()
		return nil, err
	}
	deadline := time.Now().Add(30 * time.Second)
	for !g.VSchema.VSchema().Sharded("customer") {
		if time.Now().After(deadline) {
			g.Close()
			return nil, errors.New("the gateway did not read customer's vschema")
		}
		select {
		case <-g.VSchema.Changed():
		case <-time.After(time.Second):
		}
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
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

func mustExec(t *testing.T, q querier, query string, args ...any) sql.Result {
	t.Helper()
	r, err := q.ExecContext(t.Context(), query, args...)
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return r
}

func queryInt(t *testing.T, q querier, query string, args ...any) int64 {
	t.Helper()
	var n int64
	if err := q.QueryRowContext(t.Context(), query, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

// rows reads a result as strings (NULL as "NULL").
func rows(t *testing.T, q querier, query string, args ...any) [][]string {
	t.Helper()
	out, err := tryRows(t.Context(), q, query, args...)
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return out
}

func tryRows(ctx context.Context, q querier, query string, args ...any) ([][]string, error) {
	rs, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rs.Close()
	cols, err := rs.Columns()
	if err != nil {
		return nil, err
	}
	var out [][]string
	for rs.Next() {
		vals := make([]sql.NullString, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rs.Scan(ptrs...); err != nil {
			return nil, err
		}
		row := make([]string, len(cols))
		for i, v := range vals {
			row[i] = "NULL"
			if v.Valid {
				row[i] = v.String
			}
		}
		out = append(out, row)
	}
	return out, rs.Err()
}

// mysqlErr checks that err is a MySQL error with the code.
func mysqlErr(t *testing.T, err error, code uint16) *mysql.MySQLError {
	t.Helper()
	var me *mysql.MySQLError
	if !errors.As(err, &me) || me.Number != code {
		t.Fatalf("error = %v, want MySQL error %d", err, code)
	}
	return me
}

// shardDB is a direct connection to a tablet of the sharded keyspace.
func shardDB(t *testing.T, alias string) *sql.DB {
	t.Helper()
	tab := sharded.Tablet(alias)
	if tab == nil {
		t.Fatalf("no tablet %s", alias)
	}
	return openDB(t, tab.MariaDB.DSN(sharded.Keyspace.DBName))
}

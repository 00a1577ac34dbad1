// Package schemas tests one gateway over many schemas on one MariaDB primary and one replica:
// 1,000 keyspaces, each its own database on both servers, served through shared backends.
package schemas

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	topodatapb "vitess.io/vitess/go/vt/proto/topodata"

	"github.com/vtdirect/vtdirect/gateway"
	"github.com/vtdirect/vtdirect/local"
	"github.com/vtdirect/vtdirect/picker"
	"github.com/vtdirect/vtdirect/stats"
	"github.com/vtdirect/vtdirect/tabletserver"
)

const nSchemas = 1000

var (
	cluster *local.Cluster
	gw      *gateway.Gateway
)

func TestMain(m *testing.M) { os.Exit(run(m)) }

func run(m *testing.M) int {
	if err := local.CheckMariaDBInstalled(); err != nil {
		fmt.Fprintln(os.Stderr, "these tests need MariaDB (`make test` installs it):", err)
		return 1
	}
	dir, err := os.MkdirTemp("", "vtdirect-schemas-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	layout := local.DemoLayout()
	layout.Tablets = []local.TabletSpec{
		{Cell: "zone1", UID: 100, Type: topodatapb.TabletType_PRIMARY},
		{Cell: "zone1", UID: 101, Type: topodatapb.TabletType_REPLICA},
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	cluster, err = local.StartCluster(ctx, local.ClusterConfig{Dir: dir, Layout: &layout, Logger: log})
	if err != nil {
		fmt.Fprintln(os.Stderr, "start cluster:", err)
		return 1
	}
	defer cluster.Close()
	if err := cluster.AddSchemas(ctx, 1, nSchemas); err != nil {
		fmt.Fprintln(os.Stderr, "add schemas:", err)
		return 1
	}
	gw, err = gateway.Start(ctx, gateway.Config{
		Cell: "zone1", MySQLAddr: "127.0.0.1:0", HTTPAddr: "127.0.0.1:0",
		Users: map[string]string{"app": "app"},
		TabletServer: tabletserver.Config{
			User: cluster.User(), Password: cluster.Password(),
			PoolSize: 4, TxPoolSize: 4, MaxConnections: 24,
			HealthInterval: time.Second, ConnectTimeout: 5 * time.Second,
		},
		Logger: log,
	}, cluster.Topo)
	if err != nil {
		fmt.Fprintln(os.Stderr, "start gateway:", err)
		return 1
	}
	defer gw.Close()
	if err := waitAllServing(ctx, 2*(nSchemas+1)); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return m.Run()
}

// waitAllServing waits until the registry has n tablets, all serving.
func waitAllServing(ctx context.Context, n int) error {
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	for {
		changed := gw.Registry.Changed()
		snap := gw.Registry.Snapshot()
		serving := 0
		for _, t := range snap.Tablets() {
			if t.Health().Serving {
				serving++
			}
		}
		if len(snap.Tablets()) == n && serving == n {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%d tablets, %d serving; want %d serving: %w", len(snap.Tablets()), serving, n, ctx.Err())
		case <-changed:
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func openGateway(t *testing.T, db string) *sql.DB {
	t.Helper()
	cfg := mysql.NewConfig()
	cfg.User, cfg.Passwd, cfg.Net, cfg.Addr, cfg.DBName = "app", "app", "tcp", gw.MySQLAddr(), db
	d, err := sql.Open("mysql", cfg.FormatDSN())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

func httpGet(t *testing.T, path string) (int, string) {
	t.Helper()
	resp, err := http.Get("http://" + gw.HTTPAddr() + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

// Every keyspace serves through the gateway, its primary and its replica, from a pool of
// client connections that move between keyspaces; the backends stay within their limit.
func TestEveryKeyspaceServes(t *testing.T) {
	ctx := t.Context()
	db := openGateway(t, "")
	db.SetMaxOpenConns(16)
	var wg sync.WaitGroup
	errs := make(chan error, nSchemas)
	sem := make(chan struct{}, 16) // 16 clients at once
	for i := 1; i <= nSchemas; i++ {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			ks := local.SchemaKeyspace(i)
			conn, err := db.Conn(ctx)
			if err != nil {
				errs <- err
				return
			}
			defer conn.Close()
			target := ks
			if i%2 == 0 {
				target = ks + "@replica"
			}
			if _, err := conn.ExecContext(ctx, "USE `"+target+"`"); err != nil {
				errs <- fmt.Errorf("USE %s: %w", target, err)
				return
			}
			var name, dbName string
			if err := conn.QueryRowContext(ctx, "SELECT name, DATABASE() FROM t WHERE id = 1").Scan(&name, &dbName); err != nil {
				errs <- fmt.Errorf("%s: %w", target, err)
				return
			}
			if name != ks || dbName != local.SchemaDB(i) {
				errs <- fmt.Errorf("%s read %q in %q", target, name, dbName)
			}
			if i%2 == 1 {
				if _, err := conn.ExecContext(ctx, "UPDATE t SET name = name WHERE id = 1"); err != nil {
					errs <- fmt.Errorf("write to %s: %w", ks, err)
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	backends := gw.Registry.Backends().All()
	if len(backends) != 2 {
		t.Fatalf("%d backends for 2 servers", len(backends))
	}
	for _, b := range backends {
		st := b.Stats()
		if st.Tablets != nSchemas+1 || st.InUse+st.Idle > st.MaxConnections || st.MaxConnections != 24 {
			t.Errorf("backend %+v: want %d tablets and at most 24 connections", st, nSchemas+1)
		}
		if st.Switches == 0 {
			t.Errorf("backend %s: no schema switch counted", st.Key)
		}
	}
	// Without traffic, a probe of each server per interval (1 s), whatever its 1,001 tablets.
	before := map[string]uint64{}
	for _, b := range backends {
		before[b.Key().Addr] = b.Stats().Probes
	}
	time.Sleep(3 * time.Second) // a window to count probes in; no condition to wait for
	for _, b := range backends {
		if n := b.Stats().Probes - before[b.Key().Addr]; n < 2 || n > 4 {
			t.Errorf("backend %s: %d probes in 3 s at a 1 s interval", b.Key(), n)
		}
	}
}

// seriesCount counts the samples of a metric in a Prometheus exposition.
func seriesCount(body, name string) int {
	re := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(name) + `(\{|\s)`)
	return len(re.FindAllStringIndex(body, -1))
}

// /metrics has a series per tablet, and fewer as dimensions are dropped or combined; a
// timing merges; /debug/vars is the same as JSON.
func TestMetricsDimensions(t *testing.T) {
	tablets := 2 * (nSchemas + 1)
	reload := func(f stats.Folding) {
		t.Helper()
		if _, err := gw.Reload(gateway.Reload{TabletServer: gwConfig(), Users: map[string]string{"app": "app"}, Folding: f}); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() { reload(stats.Folding{}) })
	tests := []struct {
		name    string
		folding stats.Folding
		want    int
		label   string
	}{
		{"every tablet", stats.Folding{}, tablets, `tablet="zone1-0010000001"`},
		{"tablet dropped", stats.Folding{Drop: stats.Set("tablet")}, nSchemas + 1, `{keyspace="ks0001",shard="0"}`},
		{"keyspace, shard and tablet dropped", stats.Folding{Drop: stats.Set("keyspace", "shard", "tablet")}, 1, ""},
		{"combined as Vitess does", stats.Folding{Combine: stats.Set("keyspace", "tablet")}, 1, `{keyspace="all",shard="0",tablet="all"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reload(tt.folding)
			code, body := httpGet(t, "/metrics")
			if code != http.StatusOK {
				t.Fatalf("/metrics: %d", code)
			}
			for _, name := range []string{"vttablet_conn_pool_capacity", "vtdirect_tablet_serving", "vttablet_mysql_count"} {
				if n := seriesCount(body, name); n != tt.want {
					t.Errorf("%s: %d series, want %d", name, n, tt.want)
				}
			}
			if tt.label != "" && !strings.Contains(body, "vttablet_conn_pool_capacity"+tt.label) && !strings.Contains(body, tt.label) {
				t.Errorf("no series with %s", tt.label)
			}
			if tt.want == 1 {
				// Gauges add: the capacity of every tablet; a timing merges every tablet's.
				if !strings.Contains(body, fmt.Sprintf("vttablet_conn_pool_capacity%s %d", labelsOf(tt.label), 4*tablets)) {
					t.Errorf("folded capacity is not the sum (%d):\n%s", 4*tablets, grep(body, "vttablet_conn_pool_capacity"))
				}
				if !strings.Contains(body, fmt.Sprintf("vtdirect_tablet_serving%s %d", labelsOf(tt.label), tablets)) {
					t.Errorf("folded serving gauge is not the number of tablets:\n%s", grep(body, "vtdirect_tablet_serving"))
				}
			}
		})
	}
	reload(stats.Folding{Drop: stats.Set("tablet")})
	code, body := httpGet(t, "/debug/vars")
	var vars map[string]any
	if code != http.StatusOK || json.Unmarshal([]byte(body), &vars) != nil {
		t.Fatalf("/debug/vars: %d", code)
	}
	capacity, ok := vars["ConnPoolCapacity"].(map[string]any)
	if !ok || len(capacity) != nSchemas+1 || capacity["ks0001.0"] != float64(8) {
		t.Errorf("ConnPoolCapacity in /debug/vars: %d keys, ks0001.0 = %v", len(capacity), capacity["ks0001.0"])
	}
	if _, ok := vars["Mysql"].(map[string]any)["Histograms"]; !ok {
		t.Errorf("Mysql is not a timings variable: %v", vars["Mysql"])
	}
}

func labelsOf(label string) string {
	if label == "" {
		return ""
	}
	return label
}

func grep(body, name string) string {
	var out []string
	for _, l := range strings.Split(body, "\n") {
		if strings.HasPrefix(l, name) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

func gwConfig() tabletserver.Config {
	return tabletserver.Config{User: cluster.User(), Password: cluster.Password(), PoolSize: 4, TxPoolSize: 4,
		MaxConnections: 24, HealthInterval: time.Second, ConnectTimeout: 5 * time.Second}
}

// A sample of tablets' pages, and the root summaries' links.
func TestTabletPages(t *testing.T) {
	db := openGateway(t, "ks0007")
	if _, err := db.Exec("SELECT SLEEP(0)"); err != nil {
		t.Fatal(err)
	}
	for _, i := range []int{1, 7, 500, nSchemas} {
		for _, alias := range []string{fmt.Sprintf("zone1-%d", 10000000+i), fmt.Sprintf("zone1-%010d", 10100000+i)} {
			padded := alias
			if a, err := picker.ParseAlias(alias); err == nil {
				padded = fmt.Sprintf("%s-%010d", a.Cell, a.UID)
			}
			for _, page := range []string{"status", "pools", "livequeryz", "txz", "health", "vars"} {
				code, body := httpGet(t, "/"+alias+"/debug/"+page)
				ok := strings.Contains(body, local.SchemaKeyspace(i)) || strings.Contains(body, padded)
				if page == "livequeryz" || page == "txz" {
					ok = strings.HasPrefix(body, "[")
				}
				if code != http.StatusOK || !ok {
					t.Errorf("/%s/debug/%s: %d %.200s", alias, page, code, body)
				}
			}
		}
	}
	if code, body := httpGet(t, "/zone1-0010000007/debug/pools"); code != http.StatusOK || !strings.Contains(body, `"database": "vt_ks0007"`) || !strings.Contains(body, `"server_max_connections": 24`) {
		t.Errorf("pools page: %s", body)
	}
	if code, _ := httpGet(t, "/zone1-0099999999/debug/status"); code != http.StatusNotFound {
		t.Errorf("a tablet that does not exist: %d, want 404", code)
	}
	// The summary links to every tablet's pages, and the links work.
	code, body := httpGet(t, "/debug/tablets?keyspace=ks0042")
	links := regexp.MustCompile(`href="(/zone1-[0-9]+/debug/[a-z]+)"`).FindAllStringSubmatch(body, -1)
	if code != http.StatusOK || len(links) != 2*6 {
		t.Fatalf("/debug/tablets?keyspace=ks0042: %d, %d links", code, len(links))
	}
	for _, l := range links {
		if code, _ := httpGet(t, l[1]); code != http.StatusOK {
			t.Errorf("link %s: %d", l[1], code)
		}
	}
	if code, body := httpGet(t, "/debug/pools"); code != http.StatusOK || strings.Count(body, `"user":`) != 2 {
		t.Errorf("/debug/pools: %d", code)
	}
	// A transaction shows on its tablet's page, with the query MySQL runs.
	conn, err := db.Conn(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(t.Context(), "BEGIN"); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.ExecContext(t.Context(), "UPDATE t SET name = name"); err != nil {
		t.Fatal(err)
	}
	if code, body := httpGet(t, "/zone1-10000007/debug/txz"); code != http.StatusOK || !strings.Contains(body, `"in_transaction": true`) {
		t.Errorf("txz with a transaction open: %s", body)
	}
	if _, err := conn.ExecContext(t.Context(), "ROLLBACK"); err != nil {
		t.Fatal(err)
	}
}

// A keyspace added while running serves; one removed stops serving and its pages go.
func TestKeyspaceAddedAndRemoved(t *testing.T) {
	ctx := t.Context()
	const added = nSchemas + 1
	if err := cluster.AddSchemas(ctx, added, added); err != nil {
		t.Fatal(err)
	}
	db := openGateway(t, "")
	waitFor(t, "the added keyspace to serve", func() error {
		return readName(ctx, db, local.SchemaKeyspace(added), local.SchemaKeyspace(added))
	})
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "USE `"+local.SchemaKeyspace(added)+"@replica`"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the added keyspace's replica", func() error {
		var name string
		return conn.QueryRowContext(ctx, "SELECT name FROM t").Scan(&name)
	})
	if err := cluster.RemoveSchemas(ctx, 1, 1); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the removed keyspace to go", func() error {
		_, err := db.ExecContext(ctx, "USE ks0001")
		var me *mysql.MySQLError
		if errors.As(err, &me) && me.Number == 1049 {
			return nil
		}
		return fmt.Errorf("USE ks0001: %v", err)
	})
	if code, _ := httpGet(t, "/zone1-10000001/debug/status"); code != http.StatusNotFound {
		t.Errorf("the removed tablet's page: %d, want 404", code)
	}
	if code, _ := httpGet(t, fmt.Sprintf("/zone1-%d/debug/status", 10000000+added)); code != http.StatusOK {
		t.Errorf("the added tablet's page: %d", code)
	}
	if err := readName(ctx, db, "ks0002", "ks0002"); err != nil {
		t.Errorf("another keyspace after the removal: %v", err)
	}
}

// readName reads t's name through target on a connection of its own.
func readName(ctx context.Context, db *sql.DB, target, want string) error {
	conn, err := db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "USE `"+target+"`"); err != nil {
		return err
	}
	var name string
	if err := conn.QueryRowContext(ctx, "SELECT name FROM t").Scan(&name); err != nil {
		return err
	}
	if name != want {
		return fmt.Errorf("%s read %q, want %q", target, name, want)
	}
	return nil
}

func waitFor(t *testing.T, what string, f func() error) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		err := f()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s: %v", what, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestNoMultiStatementsAfterSwitch: a client without CLIENT_MULTI_STATEMENTS moving between
// schemas gets what its own MariaDB connection gives for a ';' the classifier does not count
// (inside an executable comment, which MariaDB splits at only with multi-statements on):
// the switches through a shared backend must not leave multi-statements on for it.
func TestNoMultiStatementsAfterSwitch(t *testing.T) {
	ctx := t.Context()
	const q = "SELECT 1 /*! ; SELECT 2 */"
	direct, err := sql.Open("mysql", cluster.Primary().MariaDB.DSN(local.SchemaDB(100)))
	if err != nil {
		t.Fatal(err)
	}
	defer direct.Close()
	_, want := direct.ExecContext(ctx, q)
	if want == nil {
		t.Fatalf("%s straight to MariaDB succeeded", q)
	}
	for i := 100; i < 120; i++ { // schemas no other test removes
		// A session of its own for each (a failed statement's diagnostics keep a session on
		// its target), whose statement finds the backend connection on another schema.
		db := openGateway(t, local.SchemaKeyspace(i))
		if _, err := db.ExecContext(ctx, q); err == nil || err.Error() != want.Error() {
			t.Fatalf("schema %d: %s through the gateway: %v; straight to MariaDB: %v", i, q, err, want)
		}
		db.Close()
	}
}

package failover_test

// Integration tests of failover: real MariaDB servers (package local), a real etcd, gateways
// started in-process with failover and the buffer on, and go-sql-driver clients.

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	topodatapb "vitess.io/vitess/go/vt/proto/topodata"

	"github.com/vtdirect/vtdirect/buffer"
	"github.com/vtdirect/vtdirect/failover"
	"github.com/vtdirect/vtdirect/gateway"
	"github.com/vtdirect/vtdirect/local"
	"github.com/vtdirect/vtdirect/tabletserver"
	"github.com/vtdirect/vtdirect/topo"
)

func TestMain(m *testing.M) {
	if err := local.CheckMariaDBInstalled(); err != nil {
		fmt.Fprintln(os.Stderr, "failover integration tests need MariaDB (`make test` installs it):", err)
		os.Exit(1)
	}
	_ = mysql.SetLogger(quietDriverLog{})
	os.Exit(m.Run())
}

type quietDriverLog struct{}

func (quietDriverLog) Print(...any) {}

func testLogger() *slog.Logger {
	if os.Getenv("VTDIRECT_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// startCluster starts the demo layout (free ports) with the durability policy and a table
// for the writers.
func startCluster(t *testing.T, durability string) *local.Cluster {
	t.Helper()
	l := local.DemoLayout()
	for i := range l.Tablets {
		l.Tablets[i].MySQLPort = 0
	}
	l.Durability = durability
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	c, err := local.StartCluster(ctx, local.ClusterConfig{Dir: t.TempDir(), Layout: &l, Logger: testLogger()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	db := openDB(t, c.Primary().MariaDB.DSN("commerce"))
	if _, err := db.ExecContext(ctx, "CREATE TABLE acked (id BIGINT PRIMARY KEY, writer INT, at DATETIME(6) DEFAULT NOW(6))"); err != nil {
		t.Fatal(err)
	}
	for _, r := range c.Tablets() {
		if r != c.Primary() {
			if err := local.WaitCaughtUp(ctx, c.Primary().MariaDB, r.MariaDB); err != nil {
				t.Fatal(err)
			}
		}
	}
	return c
}

// gw is a gateway under test with its own topo connection (closing it is the gateway's death
// as far as its leases go).
type gw struct {
	*gateway.Gateway
	ts   *topo.Server
	once sync.Once // close may be called by the test and by its cleanup
}

type gwOptions struct {
	poll, lease time.Duration
	block       time.Duration
	rules       map[string]failover.Rule
	stepHook    func(id, step string) error
	preHooks    []string
	postHooks   []string
	noFailover  bool
	cell        string
	// topoAddr overrides the cluster's etcd (a proxy in front of it).
	topoAddr string
}

func startGateway(t *testing.T, c *local.Cluster, o gwOptions) *gw {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	addr := c.TopoAddr()
	if o.topoAddr != "" {
		addr = o.topoAddr
	}
	ts, err := topo.Open(ctx, topo.ImplEtcd, addr, c.Layout.GlobalRoot)
	if err != nil {
		t.Fatal(err)
	}
	if o.poll == 0 {
		o.poll = 200 * time.Millisecond
	}
	if o.lease == 0 {
		o.lease = 2 * time.Second
	}
	if o.cell == "" {
		o.cell = "zone1"
	}
	cfg := gateway.Config{
		Cell: o.cell, MySQLAddr: "127.0.0.1:0", HTTPAddr: "127.0.0.1:0",
		ServerVersion: "8.0.40-vtdirect", Users: map[string]string{"app": "app"}, MaxPacketSize: 64 << 20,
		TabletServer: tabletserver.Config{User: c.User(), Password: c.Password(), PoolSize: 16, TxPoolSize: 16,
			TxTimeout: 30 * time.Second, HealthInterval: 500 * time.Millisecond, ConnectTimeout: 2 * time.Second},
		Buffer: &buffer.Config{Window: 10 * time.Second, Size: 1000, MaxFailoverDuration: 20 * time.Second},
		Logger: testLogger(),
	}
	if !o.noFailover {
		cfg.Failover = &failover.Config{
			DBAUser: c.DBAUser(), DBAPassword: c.DBAPassword(),
			PollInterval: o.poll, LeaseTTL: o.lease, BlockPeriod: o.block, NetTimeout: local.SlaveNetTimeout * time.Second,
			WaitReplicasTimeout: 10 * time.Second, GracePeriod: 2 * time.Second, PromotionRules: o.rules,
			StepHook: o.stepHook, PreHooks: o.preHooks, PostHooks: o.postHooks,
		}
	}
	g, err := gateway.Start(t.Context(), cfg, ts) // the gateway lives as long as the test
	if err != nil {
		ts.Close()
		t.Fatal(err)
	}
	x := &gw{Gateway: g, ts: ts}
	t.Cleanup(x.close)
	var aliases []string
	for _, tab := range c.Tablets() {
		aliases = append(aliases, topo.TabletAliasString(tab.Record.Alias))
	}
	if err := g.Registry.WaitForTablets(ctx, aliases...); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() && g.Failover() != nil {
			var b strings.Builder
			g.Failover().Status().WriteText(&b)
			t.Logf("failover status of the gateway in %s:\n%s", o.cell, b.String())
		}
	})
	return x
}

var closeMu sync.Mutex

func (g *gw) close() {
	g.once.Do(func() {
		closeMu.Lock()
		defer closeMu.Unlock()
		g.Gateway.Close()
		g.ts.Close()
	})
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

func gatewayDSN(g *gw, target string) string {
	return fmt.Sprintf("app:app@tcp(%s)/%s?timeout=5s", g.MySQLAddr(), target)
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, d time.Duration, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(d)
	last := ""
	for {
		ok, why := cond()
		if ok {
			return
		}
		last = why
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s (last: %s)", d, what, last)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// shardPrimary reads the shard record's primary.
func shardPrimary(t *testing.T, c *local.Cluster) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	si, err := c.Topo.GetShard(ctx, "commerce", "0")
	if err != nil {
		t.Fatal(err)
	}
	if si.PrimaryAlias == nil {
		return ""
	}
	return fmt.Sprintf("%s-%d", si.PrimaryAlias.Cell, si.PrimaryAlias.Uid)
}

// waitNewPrimary waits until the shard record names a primary other than old, and the
// gateway serves it.
func waitNewPrimary(t *testing.T, c *local.Cluster, old string, d time.Duration) string {
	t.Helper()
	var p string
	waitFor(t, d, "a new primary in the shard record", func() (bool, string) {
		p = shardPrimary(t, c)
		return p != "" && p != old, "primary " + p
	})
	return p
}

// writers insert rows with unique ids through the gateway, each on its own connection, and
// remember which inserts were acknowledged.
type writers struct {
	next  atomic.Int64
	mu    sync.Mutex // guards acked and errs
	acked map[int64]time.Time
	errs  []string
	// lastOK is the time of the latest acknowledged insert (unix nanos).
	lastOK atomic.Int64
	stop   chan struct{}
	wg     sync.WaitGroup
}

func startWriters(t *testing.T, db *sql.DB, n int, every time.Duration) *writers {
	w := &writers{acked: map[int64]time.Time{}, stop: make(chan struct{})}
	for i := range n {
		w.wg.Add(1)
		go func() {
			defer w.wg.Done()
			tick := time.NewTicker(every)
			defer tick.Stop()
			for {
				select {
				case <-w.stop:
					return
				case <-t.Context().Done():
					return
				case <-tick.C:
				}
				id := w.next.Add(1)
				ctx, cancel := context.WithTimeout(t.Context(), 15*time.Second)
				_, err := db.ExecContext(ctx, "INSERT INTO acked (id, writer) VALUES (?, ?)", id, i)
				cancel()
				now := time.Now()
				w.mu.Lock()
				if err == nil {
					w.acked[id] = now
					w.lastOK.Store(now.UnixNano())
				} else {
					w.errs = append(w.errs, fmt.Sprintf("%s insert %d: %v", now.Format("15:04:05.000"), id, err))
				}
				w.mu.Unlock()
			}
		}()
	}
	return w
}

func (w *writers) halt() {
	close(w.stop)
	w.wg.Wait()
}

func (w *writers) ackedIDs() []int64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := make([]int64, 0, len(w.acked))
	for id := range w.acked {
		out = append(out, id)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

func (w *writers) errors() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]string(nil), w.errs...)
}

// firstAckAfter is the first acknowledged insert after t0.
func (w *writers) firstAckAfter(t0 time.Time) (time.Time, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	var best time.Time
	for _, at := range w.acked {
		if at.After(t0) && (best.IsZero() || at.Before(best)) {
			best = at
		}
	}
	return best, !best.IsZero()
}

// checkAllPresent checks that every acknowledged id is on every reachable tablet, waiting
// for the replicas to catch up with the primary.
func checkAllPresent(t *testing.T, c *local.Cluster, ids []int64, skip ...string) {
	t.Helper()
	primary := shardPrimary(t, c)
	pm := c.Tablet(primary).MariaDB
	for _, tab := range c.Tablets() {
		if tab.Alias() == primary || contains(skip, tab.Alias()) || !tab.MariaDB.Running() {
			continue
		}
		ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
		err := local.WaitCaughtUp(ctx, pm, tab.MariaDB)
		cancel()
		if err != nil {
			t.Errorf("%s did not catch up with the primary %s: %v", tab.Alias(), primary, err)
		}
	}
	for _, tab := range c.Tablets() {
		if contains(skip, tab.Alias()) || !tab.MariaDB.Running() {
			continue
		}
		db := openDB(t, tab.MariaDB.DSN("commerce"))
		have := map[int64]bool{}
		rows, err := db.QueryContext(t.Context(), "SELECT id FROM acked")
		if err != nil {
			t.Fatalf("%s: %v", tab.Alias(), err)
		}
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				t.Fatal(err)
			}
			have[id] = true
		}
		rows.Close()
		var missing []int64
		for _, id := range ids {
			if !have[id] {
				missing = append(missing, id)
			}
		}
		if len(missing) > 0 {
			t.Errorf("%s lacks %d of %d acknowledged inserts: %v", tab.Alias(), len(missing), len(ids), head(missing, 20))
		}
	}
}

func contains(s []string, x string) bool {
	for _, v := range s {
		if v == x {
			return true
		}
	}
	return false
}

func head[T any](s []T, n int) []T {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// writableWatch polls every tablet's read_only and records when two were writable at once.
type writableWatch struct {
	stop  chan struct{}
	wg    sync.WaitGroup
	mu    sync.Mutex // guards twice
	twice []string
}

func watchWritable(t *testing.T, c *local.Cluster) *writableWatch {
	w := &writableWatch{stop: make(chan struct{})}
	dbs := map[string]*sql.DB{}
	for _, tab := range c.Tablets() {
		dbs[tab.Alias()] = openDB(t, tab.MariaDB.DSN("")+"?timeout=200ms&readTimeout=200ms")
	}
	w.wg.Add(1)
	go func() {
		defer w.wg.Done()
		for {
			select {
			case <-w.stop:
				return
			case <-time.After(20 * time.Millisecond):
			}
			var writable []string
			for alias, db := range dbs {
				var ro int
				if err := db.QueryRowContext(t.Context(), "SELECT @@global.read_only").Scan(&ro); err == nil && ro == 0 {
					writable = append(writable, alias)
				}
			}
			if len(writable) > 1 {
				sort.Strings(writable)
				w.mu.Lock()
				w.twice = append(w.twice, strings.Join(writable, "+")+" at "+time.Now().Format("15:04:05.000"))
				w.mu.Unlock()
			}
		}
	}()
	return w
}

func (w *writableWatch) check(t *testing.T) {
	t.Helper()
	close(w.stop)
	w.wg.Wait()
	if len(w.twice) > 0 {
		t.Errorf("two tablets were writable at once: %v", head(w.twice, 10))
	}
}

// recoveries returns the shard's journal, newest first.
func recoveries(t *testing.T, c *local.Cluster) []*failover.Recovery {
	t.Helper()
	recs, err := failover.NewJournal(c.Topo).Recoveries(t.Context(), "commerce", "0")
	if err != nil {
		t.Fatal(err)
	}
	return recs
}

// tabletType reads a tablet's type from the topo.
func tabletType(t *testing.T, c *local.Cluster, alias string) topodatapb.TabletType {
	t.Helper()
	a, err := topo.ParseTabletAlias(alias)
	if err != nil {
		t.Fatal(err)
	}
	tab, err := c.Topo.GetTablet(t.Context(), a)
	if err != nil {
		t.Fatal(err)
	}
	return tab.Type
}

func isMySQLErr(err error, code uint16) bool {
	var me *mysql.MySQLError
	return errors.As(err, &me) && me.Number == code
}

// waitMore waits until n more inserts were acknowledged.
func (w *writers) waitMore(t *testing.T, n int) {
	t.Helper()
	w.mu.Lock()
	start := len(w.acked)
	w.mu.Unlock()
	waitFor(t, 30*time.Second, fmt.Sprintf("%d more acknowledged inserts", n), func() (bool, string) {
		w.mu.Lock()
		defer w.mu.Unlock()
		return len(w.acked) >= start+n, fmt.Sprintf("%d so far", len(w.acked)-start)
	})
}

// longestPause is the longest time between two consecutive acknowledged inserts.
func (w *writers) longestPause() time.Duration {
	w.mu.Lock()
	ts := make([]time.Time, 0, len(w.acked))
	for _, at := range w.acked {
		ts = append(ts, at)
	}
	w.mu.Unlock()
	sort.Slice(ts, func(i, j int) bool { return ts[i].Before(ts[j]) })
	var d time.Duration
	for i := 1; i < len(ts); i++ {
		d = max(d, ts[i].Sub(ts[i-1]))
	}
	return d
}

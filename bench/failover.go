package main

// `go run ./bench failover`: the time from a SIGKILL of the primary to the first write
// acknowledged through the gateway, and the longest write pause of a planned reparent,
// against a real `vtdirect serve --enable-failover --enable-buffer` over the demo layout
// (four MariaDB tablets, semi_sync), with clients writing every few milliseconds.

import (
	"context"
	"database/sql"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	topodatapb "vitess.io/vitess/go/vt/proto/topodata"

	"github.com/vtdirect/vtdirect/failover"
	"github.com/vtdirect/vtdirect/local"
)

type failoverOptions struct {
	kills, planned int
	poll           time.Duration
	writers        int
	every          time.Duration
	vtdirect, dir  string
}

func runFailoverBench(ctx context.Context, args []string) error {
	var o failoverOptions
	fs := flag.NewFlagSet("bench failover", flag.ContinueOnError)
	fs.IntVar(&o.kills, "kills", 20, "times the primary is killed")
	fs.IntVar(&o.planned, "planned", 10, "planned reparents")
	fs.DurationVar(&o.poll, "poll", time.Second, "the gateway's --failover-poll-interval")
	fs.IntVar(&o.writers, "writers", 4, "clients inserting through the gateway")
	fs.DurationVar(&o.every, "every", 5*time.Millisecond, "each client's pause between inserts")
	fs.StringVar(&o.vtdirect, "vtdirect", "", "vtdirect binary (default: build ./cmd/vtdirect)")
	fs.StringVar(&o.dir, "dir", "", "directory for the cluster and logs (default: a temp dir, removed at the end)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	p := progress{start: time.Now()}
	dir, bin, cleanup, err := prepareBench(ctx, p, o.dir, "vtdirect-bench-failover-", o.vtdirect)
	if err != nil {
		return err
	}
	defer cleanup()
	p.say("starting the demo layout (4 MariaDB tablets, semi_sync) and etcd in %s", dir)
	l := local.DemoLayout()
	for i := range l.Tablets {
		l.Tablets[i].MySQLPort = 0
	}
	l.Durability = failover.PolicySemiSync
	c, err := local.StartCluster(ctx, local.ClusterConfig{Dir: filepath.Join(dir, "cluster"), Layout: &l, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		return err
	}
	defer c.Close()
	pdb, err := sql.Open("mysql", c.Primary().MariaDB.DSN("commerce"))
	if err != nil {
		return err
	}
	// acked takes the writes; one sbtest1 row answers startServe's readiness query.
	for _, q := range []string{"CREATE TABLE acked (id BIGINT PRIMARY KEY, at DATETIME(6) DEFAULT NOW(6))",
		"CREATE TABLE sbtest1 (id INT PRIMARY KEY, c CHAR(120))", "INSERT INTO sbtest1 VALUES (1, 'ready')"} {
		if _, err = pdb.ExecContext(ctx, q); err != nil {
			pdb.Close()
			return err
		}
	}
	pdb.Close()
	gw, err := startServe(ctx, bin, gatewaySettings{topoAddr: c.TopoAddr(), topoRoot: c.Layout.GlobalRoot, poolSize: 16,
		logFile: filepath.Join(dir, "gateway.log"), extra: []string{
			"--enable-failover", "--enable-buffer", "--failover-poll-interval", o.poll.String(),
			"--failover-block-period", "0", "--failover-lease-ttl", "5s",
			"--db-dba-user", c.DBAUser(), // its password: the credentials file (startServe)
			"--replica-net-timeout", strconv.Itoa(local.SlaveNetTimeout) + "s", "--health-check-interval", "1s",
		}})
	if err != nil {
		return err
	}
	defer gw.stop()
	b := &failoverBench{o: o, c: c, gw: gw, p: p}
	if err := b.waitSemiSync(ctx); err != nil {
		return err
	}
	db, err := sql.Open("mysql", clientDSN(gw.mysqlAddr)+"&timeout=5s")
	if err != nil {
		return err
	}
	defer db.Close()
	db.SetMaxOpenConns(o.writers * 2)
	w := startBenchWriters(ctx, db, o.writers, o.every)
	defer w.halt()
	kills, err := b.kills(ctx, w)
	if err != nil {
		return err
	}
	pauses, err := b.planned(ctx, w)
	if err != nil {
		return err
	}
	w.halt()
	lost, err := b.lost(ctx, w)
	if err != nil {
		return err
	}
	b.report(kills, pauses, w, lost)
	return nil
}

type failoverBench struct {
	rebuilds int
	o        failoverOptions
	c        *local.Cluster
	gw       *gatewayProc
	p        progress
}

func (b *failoverBench) primary(ctx context.Context) (string, error) {
	si, err := b.c.Topo.GetShard(ctx, "commerce", "0")
	if err != nil {
		return "", err
	}
	if si.PrimaryAlias == nil {
		return "", nil
	}
	return fmt.Sprintf("%s-%d", si.PrimaryAlias.Cell, si.PrimaryAlias.Uid), nil
}

func (b *failoverBench) waitSemiSync(ctx context.Context) error {
	b.p.say("waiting for failover to configure semi-sync")
	return poll(ctx, 60*time.Second, func() (bool, error) {
		p, err := b.primary(ctx)
		if err != nil || p == "" {
			return false, err
		}
		db, err := sql.Open("mysql", b.c.Tablet(p).MariaDB.DSN(""))
		if err != nil {
			return false, err
		}
		defer db.Close()
		var on int
		var name, clients string
		_ = db.QueryRowContext(ctx, "SELECT @@global.rpl_semi_sync_master_enabled").Scan(&on)
		_ = db.QueryRowContext(ctx, "SHOW GLOBAL STATUS LIKE 'Rpl_semi_sync_master_clients'").Scan(&name, &clients)
		return on == 1 && clients != "0", nil
	})
}

// kills kills the primary o.kills times, each at a random point of the poll cycle, and
// returns each kill-to-first-acknowledged-write time.
func (b *failoverBench) kills(ctx context.Context, w *benchWriters) ([]time.Duration, error) {
	var out []time.Duration
	for i := range b.o.kills {
		old, err := b.primary(ctx)
		if err != nil {
			return nil, err
		}
		if err := w.waitAcked(ctx, 20); err != nil {
			return nil, err
		}
		time.Sleep(time.Duration(rand.Int64N(int64(b.o.poll)))) // a random phase against the poll ticker
		killed := time.Now()
		b.c.Tablet(old).MariaDB.Kill()
		dead := time.Now() // a write acknowledged after this went to the new primary
		var first time.Time
		if err := poll(ctx, 60*time.Second, func() (bool, error) {
			var ok bool
			first, ok = w.firstAckAfter(dead)
			return ok, nil
		}); err != nil {
			return nil, fmt.Errorf("kill %d of %s: no write acknowledged: %w", i+1, old, err)
		}
		if err := poll(ctx, 60*time.Second, func() (bool, error) { p, err := b.primary(ctx); return p != old, err }); err != nil {
			return nil, err
		}
		next, _ := b.primary(ctx)
		d := first.Sub(killed)
		out = append(out, d)
		b.p.say("kill %2d: %s killed, %s promoted, first write after %v", i+1, old, next, d.Round(time.Millisecond))
		if err := b.c.Tablet(old).MariaDB.Start(ctx); err != nil {
			return nil, err
		}
		if err := b.waitReplica(ctx, old, next); err != nil {
			return nil, err
		}
		// The next kill finds every replica caught up (a rebuilt one copies the whole binlog).
		wctx, cancel := context.WithTimeout(ctx, 60*time.Second)
		err = local.WaitCaughtUp(wctx, b.c.Tablet(next).MariaDB, b.c.Tablet(old).MariaDB)
		cancel()
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// waitReplica waits until alias replicates from primary again (failover repointed it). A
// tablet failover took out of service (it held an insert that was in flight at the kill and
// that no replica received: never acknowledged) is rebuilt empty, as an operator would.
func (b *failoverBench) waitReplica(ctx context.Context, alias, primary string) error {
	return poll(ctx, 60*time.Second, func() (bool, error) {
		if tab, err := b.c.Topo.GetTablet(ctx, b.c.Tablet(alias).Record.Alias); err == nil && tab.Type == topodatapb.TabletType_DRAINED {
			b.rebuilds++
			b.p.say("  %s was taken out of service (%s); rebuilding it", alias, tab.Tags[failover.RebuildTag])
			return false, b.c.RebuildTablet(ctx, alias)
		}
		db, err := sql.Open("mysql", b.c.Tablet(alias).MariaDB.DSN(""))
		if err != nil {
			return false, err
		}
		defer db.Close()
		st, ok, err := local.QueryReplicaStatus(ctx, db)
		return err == nil && ok && st.Running() && st.MasterPort == b.c.Tablet(primary).MariaDB.Port(), nil
	})
}

// planned runs planned reparents through the gateway's HTTP API, alternating between two
// tablets, and returns the longest pause between acknowledged writes during each.
func (b *failoverBench) planned(ctx context.Context, w *benchWriters) ([]time.Duration, error) {
	var out []time.Duration
	for i := range b.o.planned {
		cur, err := b.primary(ctx)
		if err != nil {
			return nil, err
		}
		to := "zone1-101"
		if cur == "zone1-101" {
			to = "zone1-100"
		}
		if err := w.waitAcked(ctx, 50); err != nil {
			return nil, err
		}
		start := time.Now()
		q := url.Values{"keyspace": {"commerce"}, "shard": {"0"}, "kind": {"planned"}, "new_primary": {to}}
		resp, err := http.Post("http://"+b.gw.httpAddr+"/debug/failover/reparent?"+q.Encode(), "", nil)
		if err != nil {
			return nil, err
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if !strings.Contains(string(body), "result: success") {
			return nil, fmt.Errorf("planned reparent to %s: %s", to, body)
		}
		if err := w.waitAcked(ctx, 50); err != nil {
			return nil, err
		}
		pause := w.longestPause(start.Add(-100*time.Millisecond), time.Now())
		out = append(out, pause)
		b.p.say("planned %2d: %s -> %s, longest write pause %v", i+1, cur, to, pause.Round(time.Millisecond))
	}
	return out, nil
}

// lost counts acknowledged inserts missing on the primary at the end.
func (b *failoverBench) lost(ctx context.Context, w *benchWriters) (int, error) {
	p, err := b.primary(ctx)
	if err != nil {
		return 0, err
	}
	db, err := sql.Open("mysql", b.c.Tablet(p).MariaDB.DSN("commerce"))
	if err != nil {
		return 0, err
	}
	defer db.Close()
	rows, err := db.QueryContext(ctx, "SELECT id FROM acked")
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	have := map[int64]bool{}
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return 0, err
		}
		have[id] = true
	}
	n := 0
	for _, id := range w.ids() {
		if !have[id] {
			n++
		}
	}
	return n, rows.Err()
}

func (b *failoverBench) report(kills, pauses []time.Duration, w *benchWriters, lost int) {
	pct := func(d []time.Duration, q float64) time.Duration {
		s := slices.Clone(d)
		slices.Sort(s)
		return s[min(len(s)-1, int(q*float64(len(s))))]
	}
	fmt.Println()
	fmt.Printf("failover, %s polls, semi_sync, %d writers every %v; %d acknowledged inserts, %d lost, %d client errors, %d old primaries rebuilt\n",
		b.o.poll, b.o.writers, b.o.every, len(w.ids()), lost, w.errCount(), b.rebuilds)
	fmt.Println("| measure | p50 | max | target |")
	fmt.Println("| --- | --- | --- | --- |")
	if len(kills) > 0 {
		fmt.Printf("| kill -9 of the primary to the first acknowledged write (%d kills) | %v | %v | p50 <= 2s, max <= 3s |\n",
			len(kills), pct(kills, 0.5).Round(time.Millisecond), pct(kills, 1).Round(time.Millisecond))
	}
	if len(pauses) > 0 {
		fmt.Printf("| planned reparent: longest write pause (%d reparents) | %v | %v | <= 1s |\n",
			len(pauses), pct(pauses, 0.5).Round(time.Millisecond), pct(pauses, 1).Round(time.Millisecond))
	}
}

// poll runs f until it says done, fails, or d passes.
func poll(ctx context.Context, d time.Duration, f func() (bool, error)) error {
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	for {
		ok, err := f()
		if err != nil {
			return err
		}
		if ok {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(5 * time.Millisecond):
		}
	}
}

// benchWriters insert through the gateway and keep every acknowledgement's time.
type benchWriters struct {
	next   int64
	mu     sync.Mutex // guards next, acked and errs
	acked  map[int64]time.Time
	errs   int
	cancel context.CancelFunc
	wg     sync.WaitGroup
	once   sync.Once
}

func startBenchWriters(ctx context.Context, db *sql.DB, n int, every time.Duration) *benchWriters {
	ctx, cancel := context.WithCancel(ctx)
	w := &benchWriters{acked: map[int64]time.Time{}, cancel: cancel}
	for range n {
		w.wg.Add(1)
		go func() {
			defer w.wg.Done()
			for ctx.Err() == nil {
				w.mu.Lock()
				w.next++
				id := w.next
				w.mu.Unlock()
				qctx, qcancel := context.WithTimeout(ctx, 15*time.Second)
				_, err := db.ExecContext(qctx, "INSERT INTO acked (id) VALUES (?)", id)
				qcancel()
				now := time.Now()
				w.mu.Lock()
				if err == nil {
					w.acked[id] = now
				} else if ctx.Err() == nil {
					w.errs++
				}
				w.mu.Unlock()
				select {
				case <-ctx.Done():
				case <-time.After(every):
				}
			}
		}()
	}
	return w
}

func (w *benchWriters) halt() { w.once.Do(func() { w.cancel(); w.wg.Wait() }) }

func (w *benchWriters) ids() []int64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := make([]int64, 0, len(w.acked))
	for id := range w.acked {
		out = append(out, id)
	}
	return out
}

func (w *benchWriters) errCount() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.errs
}

func (w *benchWriters) firstAckAfter(t time.Time) (time.Time, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	var best time.Time
	for _, at := range w.acked {
		if at.After(t) && (best.IsZero() || at.Before(best)) {
			best = at
		}
	}
	return best, !best.IsZero()
}

// waitAcked waits for n more acknowledged inserts.
func (w *benchWriters) waitAcked(ctx context.Context, n int) error {
	w.mu.Lock()
	start := len(w.acked)
	w.mu.Unlock()
	return poll(ctx, 60*time.Second, func() (bool, error) {
		w.mu.Lock()
		defer w.mu.Unlock()
		return len(w.acked) >= start+n, nil
	})
}

// longestPause is the longest gap between acknowledgements within [from, to].
func (w *benchWriters) longestPause(from, to time.Time) time.Duration {
	w.mu.Lock()
	var ts []time.Time
	for _, at := range w.acked {
		if !at.Before(from) && !at.After(to) {
			ts = append(ts, at)
		}
	}
	w.mu.Unlock()
	slices.SortFunc(ts, func(a, b time.Time) int { return a.Compare(b) })
	var d time.Duration
	for i := 1; i < len(ts); i++ {
		d = max(d, ts[i].Sub(ts[i-1]))
	}
	return d
}

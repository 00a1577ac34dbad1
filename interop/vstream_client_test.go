package interop

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"sort"
	"strconv"
	"sync"
	"testing"
	"time"

	binlogdatapb "vitess.io/vitess/go/vt/proto/binlogdata"
	querypb "vitess.io/vitess/go/vt/proto/query"
	topodatapb "vitess.io/vitess/go/vt/proto/topodata"
	vtgatepb "vitess.io/vitess/go/vt/proto/vtgate"
	_ "vitess.io/vitess/go/vt/vtgate/grpcvtgateconn"
	"vitess.io/vitess/go/vt/vtgate/vtgateconn"

	"github.com/vtdirect/vtdirect/gateway"
	"github.com/vtdirect/vtdirect/local"
	"github.com/vtdirect/vtdirect/tabletserver"
)

// TestVStreamWithVitessClient drives a gateway's VStream with Vitess's own Go client while a
// writer changes the table: copy then stream, stop and resume from the saved VGTID, kill the
// source replica mid-stream. A consumer that applies every event must end with exactly the
// table's rows, having seen no duplicate insert and no change to a row it lacks.
func TestVStreamWithVitessClient(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	cluster, g := startStreamingGateway(t, ctx)

	primary, err := sql.Open("mysql", cluster.Primary().MariaDB.DSN(cluster.Layout.DBName))
	ok(t, err)
	defer primary.Close()
	_, err = primary.ExecContext(ctx, "CREATE TABLE vs (id INT PRIMARY KEY, v INT NOT NULL)")
	ok(t, err)
	for i := 1; i <= 600; i++ {
		_, err := primary.ExecContext(ctx, "INSERT INTO vs VALUES (?, ?)", i, i)
		ok(t, err)
	}

	stopWriter := make(chan struct{})
	var writerWG sync.WaitGroup
	writerWG.Add(1)
	go func() {
		defer writerWG.Done()
		rnd := rand.New(rand.NewPCG(1, 2))
		for n := 0; ; n++ {
			select {
			case <-stopWriter:
				return
			default:
			}
			id := 1 + rnd.IntN(1000)
			var q string
			switch rnd.IntN(3) {
			case 0:
				q = fmt.Sprintf("INSERT IGNORE INTO vs VALUES (%d, %d)", id, n)
			case 1:
				q = fmt.Sprintf("UPDATE vs SET v = %d WHERE id = %d", n, id)
			default:
				q = fmt.Sprintf("DELETE FROM vs WHERE id = %d", id)
			}
			if _, err := primary.ExecContext(ctx, q); err != nil && ctx.Err() == nil {
				t.Errorf("writer: %s: %v", q, err)
				return
			}
			time.Sleep(2 * time.Millisecond) // a steady trickle, not a flood
		}
	}()
	defer func() {
		select {
		case <-stopWriter:
		default:
			close(stopWriter)
		}
		writerWG.Wait()
	}()

	conn, err := vtgateconn.DialProtocol(ctx, "grpc", g.GRPCAddr())
	ok(t, err)
	defer conn.Close()
	c := newConsumer()
	filter := &binlogdatapb.Filter{Rules: []*binlogdatapb.Rule{{Match: "vs", Filter: "select * from vs"}}}
	flags := &vtgatepb.VStreamFlags{HeartbeatInterval: 1}
	start := &binlogdatapb.VGtid{ShardGtids: []*binlogdatapb.ShardGtid{{Keyspace: "commerce", Shard: "0", Gtid: ""}}}

	// 1. Copy, then stream for a while; stop.
	sctx, scancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- c.stream(sctx, conn, start, filter, flags) }()
	c.waitFor(t, ctx, "COPY_COMPLETED", func() bool { return c.copyDone })
	time.Sleep(300 * time.Millisecond) // let some binlog changes through after the copy
	scancel()
	<-done

	// 2. Resume from the saved VGTID; kill the source (the zone1 replica) mid-stream.
	saved := c.savedVGTID()
	sctx, scancel = context.WithCancel(ctx)
	defer scancel()
	go func() { done <- c.stream(sctx, conn, saved, filter, flags) }()
	c.waitFor(t, ctx, "events after the resume", func() bool { return c.eventsSinceResume > 20 })
	cluster.Tablet("zone1-101").MariaDB.Kill()
	time.Sleep(500 * time.Millisecond)
	close(stopWriter)
	writerWG.Wait()

	// 3. The consumer converges on the table.
	deadline := time.Now().Add(60 * time.Second)
	for {
		want := tableRows(t, ctx, primary)
		got, problem := c.snapshot()
		if problem != "" {
			t.Fatalf("consumer: %s", problem)
		}
		if equalRows(want, got) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the consumer has %d rows, the table %d, and they differ", len(got), len(want))
		}
		time.Sleep(100 * time.Millisecond)
	}
	// The stream moved to the zone2 replica, the healthy tablet left.
	zone2, err := sql.Open("mysql", cluster.Tablet("zone2-200").MariaDB.DSN(""))
	ok(t, err)
	defer zone2.Close()
	var dumps int
	ok(t, zone2.QueryRowContext(ctx, "SELECT COUNT(*) FROM information_schema.processlist WHERE command LIKE 'Binlog Dump%'").Scan(&dumps))
	if dumps != 1 {
		t.Fatalf("%d binlog dumps on zone2-200 after zone1-101 died, want the stream's one", dumps)
	}
	scancel()
	if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
		t.Fatalf("stream: %v", err)
	}
}

// startStreamingGateway starts the demo layout on free ports and a zone1 gateway with its gRPC
// port, without authentication (Vitess's client sends credentials only when given a file).
func startStreamingGateway(t *testing.T, ctx context.Context) (*local.Cluster, *gateway.Gateway) {
	t.Helper()
	if err := local.CheckMariaDBInstalled(); err != nil {
		t.Fatalf("this test needs MariaDB (`make test` installs it): %v", err)
	}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	cluster, err := local.StartCluster(ctx, local.ClusterConfig{Dir: t.TempDir(), SampleData: true, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cluster.Close)
	g, err := gateway.Start(ctx, gateway.Config{
		Cell: "zone1", MySQLAddr: "127.0.0.1:0", GRPCAddr: "127.0.0.1:0", ServerVersion: "8.0.40-vtdirect",
		InsecureNoAuth: true, MaxPacketSize: 16 << 20,
		TabletServer: tabletserver.Config{
			User: cluster.User(), Password: cluster.Password(), PoolSize: 4, PoolWaitTimeout: 5 * time.Second,
			IdleTimeout: time.Minute, TxPoolSize: 4, TxTimeout: 30 * time.Second,
			HealthInterval: 200 * time.Millisecond, ConnectTimeout: 5 * time.Second,
		},
		Logger: quiet,
	}, cluster.Topo)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(g.Close)
	waitServing(t, ctx, g, "zone1-0000000100", "zone1-0000000101", "zone2-0000000200")
	return cluster, g
}

// consumer applies VStream events to an in-memory copy of table vs (id -> v).
type consumer struct {
	mu                sync.Mutex
	rows              map[int64]int64
	copyDone          bool
	vgtid             *binlogdatapb.VGtid
	problem           string
	eventsSinceResume int
}

func newConsumer() *consumer { return &consumer{rows: map[int64]int64{}} }

func (c *consumer) stream(ctx context.Context, conn *vtgateconn.VTGateConn, vg *binlogdatapb.VGtid, f *binlogdatapb.Filter, flags *vtgatepb.VStreamFlags) error {
	c.mu.Lock()
	c.eventsSinceResume = 0
	c.mu.Unlock()
	r, err := conn.VStream(ctx, topodatapb.TabletType_REPLICA, vg, f, flags)
	if err != nil {
		return err
	}
	for {
		evs, err := r.Recv()
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return err
		}
		c.apply(evs)
	}
}

// apply takes one response. A response holds whole transactions and the VGTID after them, so
// a stream cut between responses resumes from the last VGTID without applying anything twice.
func (c *consumer) apply(evs []*binlogdatapb.VEvent) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, ev := range evs {
		c.eventsSinceResume++
		switch ev.Type {
		case binlogdatapb.VEventType_VGTID:
			c.vgtid = ev.Vgtid
		case binlogdatapb.VEventType_COPY_COMPLETED:
			c.copyDone = true
		case binlogdatapb.VEventType_ROW:
			for _, rc := range ev.RowEvent.RowChanges {
				if rc.Before != nil {
					id, _ := rowValues(rc.Before)
					if _, ok := c.rows[id]; !ok && c.problem == "" {
						c.problem = fmt.Sprintf("change to row %d, which the consumer does not have", id)
					}
					delete(c.rows, id)
				}
				if rc.After != nil {
					id, v := rowValues(rc.After)
					if _, ok := c.rows[id]; ok && c.problem == "" {
						c.problem = fmt.Sprintf("row %d inserted twice", id)
					}
					c.rows[id] = v
				}
			}
		}
	}
}

func rowValues(r *querypb.Row) (int64, int64) {
	id, _ := strconv.ParseInt(string(r.Values[:r.Lengths[0]]), 10, 64)
	v, _ := strconv.ParseInt(string(r.Values[r.Lengths[0]:r.Lengths[0]+r.Lengths[1]]), 10, 64)
	return id, v
}

func (c *consumer) savedVGTID() *binlogdatapb.VGtid {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.vgtid.CloneVT()
}

func (c *consumer) snapshot() (map[int64]int64, string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[int64]int64, len(c.rows))
	for k, v := range c.rows {
		out[k] = v
	}
	return out, c.problem
}

func (c *consumer) waitFor(t *testing.T, ctx context.Context, what string, cond func() bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	for {
		c.mu.Lock()
		okNow, problem := cond(), c.problem
		c.mu.Unlock()
		if problem != "" {
			t.Fatalf("consumer: %s", problem)
		}
		if okNow {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("timed out waiting for %s", what)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

func tableRows(t *testing.T, ctx context.Context, db *sql.DB) map[int64]int64 {
	t.Helper()
	rows, err := db.QueryContext(ctx, "SELECT id, v FROM vs")
	ok(t, err)
	defer rows.Close()
	out := map[int64]int64{}
	for rows.Next() {
		var id, v int64
		ok(t, rows.Scan(&id, &v))
		out[id] = v
	}
	ok(t, rows.Err())
	return out
}

func equalRows(a, b map[int64]int64) bool {
	if len(a) != len(b) {
		return false
	}
	keys := make([]int64, 0, len(a))
	for k := range a {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i] < keys[j] })
	for _, k := range keys {
		if bv, ok := b[k]; !ok || bv != a[k] {
			return false
		}
	}
	return true
}

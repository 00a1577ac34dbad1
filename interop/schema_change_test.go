package interop

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	binlogdatapb "vitess.io/vitess/go/vt/proto/binlogdata"
	topodatapb "vitess.io/vitess/go/vt/proto/topodata"
	vtgatepb "vitess.io/vitess/go/vt/proto/vtgate"
	"vitess.io/vitess/go/vt/vtgate/grpcvtgateconn"
	"vitess.io/vitess/go/vt/vtgate/vtgateconn"

	"github.com/vtdirect/vtdirect/gateway"
	"github.com/vtdirect/vtdirect/local"
	"github.com/vtdirect/vtdirect/tabletserver"
)

// shapeRow is a row as a consumer must get it: the columns of the FIELD event in force, and
// the values.
type shapeRow struct {
	table string
	cols  string // "id,a,b"
	vals  string // "1|x|NULL"
}

// schemaChange is one change of the suite: statements before the DDL, the DDL, statements
// after; the rows each insert must arrive as.
type schemaChange struct {
	name   string
	before []string
	ddl    string
	after  []string
	want   []shapeRow
}

func schemaChanges() []schemaChange {
	r := func(table, cols, vals string) shapeRow { return shapeRow{table, cols, vals} }
	return []schemaChange{
		{"add_column", []string{"CREATE TABLE sc_add (id INT PRIMARY KEY, a VARCHAR(8))", "INSERT INTO sc_add VALUES (1, 'p')"},
			"ALTER TABLE sc_add ADD COLUMN b INT", []string{"INSERT INTO sc_add VALUES (2, 'q', 5)"},
			[]shapeRow{r("sc_add", "id,a", "1|p"), r("sc_add", "id,a,b", "2|q|5")}},
		{"drop_column", []string{"CREATE TABLE sc_drop (id INT PRIMARY KEY, a INT, b VARCHAR(8))", "INSERT INTO sc_drop VALUES (1, 7, 'x')"},
			"ALTER TABLE sc_drop DROP COLUMN a", []string{"INSERT INTO sc_drop VALUES (2, 'y')"},
			[]shapeRow{r("sc_drop", "id,a,b", "1|7|x"), r("sc_drop", "id,b", "2|y")}},
		{"rename_column", []string{"CREATE TABLE sc_ren (id INT PRIMARY KEY, a INT, b INT)", "INSERT INTO sc_ren VALUES (1, 10, 20)"},
			"ALTER TABLE sc_ren RENAME COLUMN a TO c", []string{"INSERT INTO sc_ren VALUES (2, 11, 21)"},
			[]shapeRow{r("sc_ren", "id,a,b", "1|10|20"), r("sc_ren", "id,c,b", "2|11|21")}},
		{"modify_column", []string{"CREATE TABLE sc_mod (id INT PRIMARY KEY, a INT)", "INSERT INTO sc_mod VALUES (1, 42)"},
			"ALTER TABLE sc_mod MODIFY a VARCHAR(20)", []string{"INSERT INTO sc_mod VALUES (2, 'forty-three')"},
			[]shapeRow{r("sc_mod", "id,a", "1|42"), r("sc_mod", "id,a", "2|forty-three")}},
		{"reorder_columns", []string{"CREATE TABLE sc_ord (id INT PRIMARY KEY, a INT, b INT)", "INSERT INTO sc_ord VALUES (1, 100, 200)"},
			"ALTER TABLE sc_ord MODIFY b INT AFTER id", []string{"INSERT INTO sc_ord (id, a, b) VALUES (2, 101, 201)"},
			[]shapeRow{r("sc_ord", "id,a,b", "1|100|200"), r("sc_ord", "id,b,a", "2|201|101")}},
		{"enum_values", []string{"CREATE TABLE sc_enum (id INT PRIMARY KEY, e ENUM('x','y'))", "INSERT INTO sc_enum VALUES (1, 'y')"},
			"ALTER TABLE sc_enum MODIFY e ENUM('z','y','x')", []string{"INSERT INTO sc_enum VALUES (2, 'x')"},
			[]shapeRow{r("sc_enum", "id,e", "1|y"), r("sc_enum", "id,e", "2|x")}},
		{"create_table", nil, "CREATE TABLE sc_new (id INT PRIMARY KEY, n VARCHAR(4))", []string{"INSERT INTO sc_new VALUES (1, 'new')"},
			[]shapeRow{r("sc_new", "id,n", "1|new")}},
		{"drop_table", []string{"CREATE TABLE sc_gone (id INT PRIMARY KEY, g INT)", "INSERT INTO sc_gone VALUES (1, 9)"},
			"DROP TABLE sc_gone", nil,
			[]shapeRow{r("sc_gone", "id,g", "1|9")}},
		{"rename_table", []string{"CREATE TABLE sc_old (id INT PRIMARY KEY, o INT)", "INSERT INTO sc_old VALUES (1, 1)"},
			"RENAME TABLE sc_old TO sc_renamed", []string{"INSERT INTO sc_renamed VALUES (2, 2)"},
			[]shapeRow{r("sc_old", "id,o", "1|1"), r("sc_renamed", "id,o", "2|2")}},
		{"truncate", []string{"CREATE TABLE sc_trunc (id INT PRIMARY KEY, t VARCHAR(4))", "INSERT INTO sc_trunc VALUES (1, 'a')"},
			"TRUNCATE TABLE sc_trunc", []string{"INSERT INTO sc_trunc VALUES (1, 'b')"},
			[]shapeRow{r("sc_trunc", "id,t", "1|a"), r("sc_trunc", "id,t", "1|b")}},
	}
}

// TestSchemaChanges runs the schema-change suite with binlog_row_metadata FULL (rows decoded
// from the TABLE_MAP events) and MINIMAL (rows decoded from the schema history).
func TestSchemaChanges(t *testing.T) {
	for _, meta := range []string{"FULL", "MINIMAL"} {
		t.Run(meta, func(t *testing.T) { testSchemaChanges(t, meta) })
	}
}

// testSchemaChanges: for each change, rows written before and after it are consumed with
// Vitess's client (a) by a live stream, (b) by streams resumed from a VGTID saved before the
// change, (c) by a stream that lags behind the changes (its consumer stops reading while the
// changes run, behind 16 MiB of other rows), (d) by streams resumed through a restarted
// gateway. Each row must arrive with the FIELD event of the shape it was written in.
func testSchemaChanges(t *testing.T, meta string) {
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	cluster, g, stopGateway := startGatewayWith(t, ctx, []string{"--binlog-row-metadata=" + meta})
	db := cluster.Layout.DBName
	primary, err := sql.Open("mysql", cluster.Primary().MariaDB.DSN(db))
	ok(t, err)
	defer primary.Close()
	ok(t, exec(ctx, primary, "CREATE TABLE filler (id INT PRIMARY KEY, pad LONGTEXT)"))
	filter := &binlogdatapb.Filter{Rules: []*binlogdatapb.Rule{{Match: "/^(sc_|filler)"}}}
	flags := &vtgatepb.VStreamFlags{ExcludeKeyspaceFromTableName: true}

	conn, err := vtgateconn.DialProtocol(ctx, "grpc", g.GRPCAddr())
	ok(t, err)
	defer conn.Close()
	current := &binlogdatapb.VGtid{ShardGtids: []*binlogdatapb.ShardGtid{{Keyspace: cluster.Layout.Keyspace, Shard: cluster.Layout.Shard, Gtid: "current"}}}
	sctx, scancel := context.WithCancel(ctx)
	defer scancel()
	live := newShapeConsumer()
	go live.run(sctx, conn, current, filter, flags, nil)
	live.waitVGTID(t, ctx)
	// (c): a stream whose consumer reads nothing until released, on a connection of its own
	// with fixed 64 KiB flow-control windows: on the live stream's busy connection grpc-go
	// grows the windows up to 16 MiB (BDP), and the paused client could take in the whole
	// filler below without the stream ever lagging.
	laggingConn, err := vtgateconn.DialCustom(ctx, grpcvtgateconn.Dial(grpc.WithInitialWindowSize(64<<10), grpc.WithInitialConnWindowSize(64<<10)), g.GRPCAddr())
	ok(t, err)
	defer laggingConn.Close()
	lagging := newShapeConsumer()
	release := make(chan struct{})
	go lagging.run(sctx, laggingConn, current, filter, flags, release)
	lagging.waitVGTID(t, ctx)
	// 16 MiB the lagging stream must send first: it is blocked on them while the changes run.
	ok(t, exec(ctx, primary, "INSERT INTO filler SELECT seq, REPEAT('f', 4096) FROM seq_1_to_4096"))

	saved := map[string]*binlogdatapb.VGtid{}
	for _, c := range schemaChanges() {
		live.waitCaughtUp(t, ctx, primary)
		saved[c.name] = live.savedVGTID()
		for _, q := range append(append(append([]string(nil), c.before...), c.ddl), c.after...) {
			ok(t, exec(ctx, primary, q))
		}
	}
	defer func() {
		if t.Failed() {
			rows, err := primary.QueryContext(context.Background(), "SELECT id, kind, gtid, pos, LEFT(ddl, 60), IFNULL(JSON_EXTRACT(tables, '$[*].name'), '') FROM _vtdirect.schema_version")
			if err != nil {
				t.Logf("history: %v", err)
				return
			}
			defer rows.Close()
			for rows.Next() {
				var id int
				var kind, gtid, pos, ddl, names string
				_ = rows.Scan(&id, &kind, &gtid, &pos, &ddl, &names)
				t.Logf("history %d %s %s %s %q %s", id, kind, gtid, pos, ddl, names)
			}
		}
	}()
	if !sendingBinlog(t, ctx, cluster) {
		t.Fatal("no binlog dump thread of the primary is busy sending: the lagging stream did not lag behind the changes")
	}
	live.waitCaughtUp(t, ctx, primary)
	close(release)
	lagging.waitCaughtUp(t, ctx, primary)

	all := schemaChanges()
	var wantAll []shapeRow
	for _, c := range all {
		wantAll = append(wantAll, c.want...)
	}
	check := func(what string, got []shapeRow, want []shapeRow) {
		t.Helper()
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%s:\n got %v\nwant %v", what, got, want)
		}
	}
	check("(a) live", live.rows(), wantAll)
	check("(c) lagging", lagging.rows(), wantAll)
	resumeAll := func(mode string, conn *vtgateconn.VTGateConn) {
		for i, c := range all {
			r := newShapeConsumer()
			rctx, rcancel := context.WithCancel(ctx)
			go r.run(rctx, conn, saved[c.name], filter, flags, nil)
			r.waitCaughtUp(t, ctx, primary)
			rcancel()
			var want []shapeRow
			for _, later := range all[i:] {
				want = append(want, later.want...)
			}
			check(fmt.Sprintf("%s from before %s", mode, c.name), r.rows(), want)
			if p := r.problemText(); p != "" {
				t.Errorf("%s from before %s: %s", mode, c.name, p)
			}
		}
	}
	resumeAll("(b) resume", conn)
	for _, c := range []*shapeConsumer{live, lagging} {
		if p := c.problemText(); p != "" {
			t.Error(p)
		}
	}
	scancel()
	// (d): a new gateway (its caches and trackers new) serves the same resumes.
	stopGateway()
	g2, _ := startGatewayOn(t, ctx, cluster)
	conn2, err := vtgateconn.DialProtocol(ctx, "grpc", g2.GRPCAddr())
	ok(t, err)
	defer conn2.Close()
	resumeAll("(d) after a gateway restart", conn2)
}

func exec(ctx context.Context, db *sql.DB, q string) error {
	if _, err := db.ExecContext(ctx, q); err != nil {
		return fmt.Errorf("%s: %w", q, err)
	}
	return nil
}

// sendingBinlog reports whether a binlog dump thread of any server is busy sending events
// (not waiting for new ones): a stream that reads behind the binlog's end.
func sendingBinlog(t *testing.T, ctx context.Context, cluster *local.Cluster) bool {
	for _, tab := range cluster.Tablets() {
		db, err := sql.Open("mysql", tab.MariaDB.DSN(""))
		ok(t, err)
		var busy int
		err = db.QueryRowContext(ctx, "SELECT COUNT(*) FROM information_schema.processlist WHERE command LIKE 'Binlog Dump%' AND IFNULL(state, '') NOT LIKE '%has sent all binlog%'").Scan(&busy)
		db.Close()
		ok(t, err)
		if busy > 0 {
			return true
		}
	}
	return false
}

// shapeConsumer records every row of the sc_ tables with the FIELD event in force.
type shapeConsumer struct {
	mu      sync.Mutex // guards everything below
	fields  map[string]string
	got     []shapeRow
	vgtid   *binlogdatapb.VGtid
	problem string
	inTx    bool
	pending []shapeRow // rows of the open transaction (chunked transactions span responses)
}

func newShapeConsumer() *shapeConsumer { return &shapeConsumer{fields: map[string]string{}} }

// run streams until ctx ends; with release set, it reads nothing until release is closed.
func (c *shapeConsumer) run(ctx context.Context, conn *vtgateconn.VTGateConn, vg *binlogdatapb.VGtid, f *binlogdatapb.Filter, flags *vtgatepb.VStreamFlags, release chan struct{}) {
	r, err := conn.VStream(ctx, topodatapb.TabletType_REPLICA, vg, f, flags)
	if err != nil {
		c.fail(err.Error())
		return
	}
	first := true
	for {
		evs, err := r.Recv()
		if err != nil {
			if ctx.Err() == nil && err != io.EOF {
				c.fail("stream ended: " + err.Error())
			}
			return
		}
		c.apply(evs)
		if first && release != nil {
			first = false
			select {
			case <-release:
			case <-ctx.Done():
				return
			}
		}
	}
}

func (c *shapeConsumer) fail(p string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.problem == "" {
		c.problem = p
	}
}

func (c *shapeConsumer) apply(evs []*binlogdatapb.VEvent) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, ev := range evs {
		switch ev.Type {
		case binlogdatapb.VEventType_VGTID:
			c.vgtid = ev.Vgtid
		case binlogdatapb.VEventType_BEGIN:
			c.pending = c.pending[:0] // a BEGIN after a BEGIN: the partial transaction is sent again
		case binlogdatapb.VEventType_COMMIT:
			c.got = append(c.got, c.pending...)
			c.pending = c.pending[:0]
		case binlogdatapb.VEventType_FIELD:
			var names []string
			for _, f := range ev.FieldEvent.Fields {
				names = append(names, f.Name)
			}
			c.fields[ev.FieldEvent.TableName] = strings.Join(names, ",")
		case binlogdatapb.VEventType_ROW:
			tbl := ev.RowEvent.TableName
			if !strings.HasPrefix(tbl, "sc_") {
				continue
			}
			cols, ok := c.fields[tbl]
			if !ok && c.problem == "" {
				c.problem = "row of " + tbl + " before any FIELD event"
			}
			for _, rc := range ev.RowEvent.RowChanges {
				if rc.After != nil {
					c.pending = append(c.pending, shapeRow{tbl, cols, rowText(rc.After.Lengths, rc.After.Values)})
				}
			}
		}
	}
}

func rowText(lengths []int64, values []byte) string {
	var parts []string
	off := int64(0)
	for _, l := range lengths {
		if l < 0 {
			parts = append(parts, "NULL")
			continue
		}
		parts = append(parts, string(values[off:off+l]))
		off += l
	}
	return strings.Join(parts, "|")
}

func (c *shapeConsumer) rows() []shapeRow {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]shapeRow(nil), c.got...)
}

func (c *shapeConsumer) problemText() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.problem
}

func (c *shapeConsumer) savedVGTID() *binlogdatapb.VGtid {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.vgtid.CloneVT()
}

func (c *shapeConsumer) waitVGTID(t *testing.T, ctx context.Context) {
	t.Helper()
	for {
		c.mu.Lock()
		v, p := c.vgtid, c.problem
		c.mu.Unlock()
		if p != "" {
			t.Fatal(p)
		}
		if v != nil {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatal("no VGTID")
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// waitCaughtUp waits until the consumer's VGTID holds the primary's current position.
func (c *shapeConsumer) waitCaughtUp(t *testing.T, ctx context.Context, primary *sql.DB) {
	t.Helper()
	var pos string
	ok(t, primary.QueryRowContext(ctx, "SELECT @@gtid_binlog_pos").Scan(&pos))
	deadline := time.Now().Add(60 * time.Second)
	for {
		c.mu.Lock()
		v, p := c.vgtid, c.problem
		c.mu.Unlock()
		if p != "" {
			t.Fatal(p)
		}
		if v != nil && len(v.ShardGtids) == 1 && seqOf(v.ShardGtids[0].Gtid) >= seqOf(pos) {
			return
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			t.Fatalf("consumer at %v, primary at %s", v, pos)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// startGatewayWith starts a local cluster whose servers get args, and a gateway on it.
func startGatewayWith(t *testing.T, ctx context.Context, args []string) (*local.Cluster, *gateway.Gateway, func()) {
	t.Helper()
	if err := local.CheckMariaDBInstalled(); err != nil {
		t.Fatalf("this test needs MariaDB (`make test` installs it): %v", err)
	}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	cluster, err := local.StartCluster(ctx, local.ClusterConfig{Dir: t.TempDir(), MariaDBArgs: args, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cluster.Close)
	g, stop := startGatewayOn(t, ctx, cluster)
	return cluster, g, stop
}

// startGatewayOn starts a gateway (gRPC on a free port) on cluster; stop closes it (once).
func startGatewayOn(t *testing.T, ctx context.Context, cluster *local.Cluster) (*gateway.Gateway, func()) {
	t.Helper()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	g, err := gateway.Start(ctx, gateway.Config{
		Cell: "zone1", MySQLAddr: "127.0.0.1:0", GRPCAddr: "127.0.0.1:0", HTTPAddr: "127.0.0.1:0", ServerVersion: "8.0.40-vtdirect",
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
	stop := sync.OnceFunc(g.Close)
	t.Cleanup(stop)
	waitServing(t, ctx, g, "zone1-0000000100", "zone1-0000000101", "zone2-0000000200")
	return g, stop
}

// seqOf is the sequence number of a one-domain MariaDB position ("MariaDB/0-100-42": 42).
func seqOf(pos string) int64 {
	i := strings.LastIndexByte(pos, '-')
	n, _ := strconv.ParseInt(pos[i+1:], 10, 64)
	return n
}

package tabletserver

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-mysql-org/go-mysql/mysql"
	topodatapb "vitess.io/vitess/go/vt/proto/topodata"

	"github.com/vtdirect/vtdirect/local"
)

// schemaTablet is a tablet of keyspace ks on m, in database db.
func schemaTablet(m *local.MariaDB, uid uint32, ks, db string) *topodatapb.Tablet {
	return &topodatapb.Tablet{
		Alias: &topodatapb.TabletAlias{Cell: "ms", Uid: uid}, Keyspace: ks, Shard: "0",
		Type: topodatapb.TabletType_PRIMARY, MysqlHostname: "127.0.0.1", MysqlPort: int32(m.Port()),
		DbNameOverride: db,
	}
}

// schemaTablets creates n databases ms_<prefix>_i with a table t (id, db) on m and opens a
// tablet server for each on one Backends.
func schemaTablets(t *testing.T, m *local.MariaDB, prefix string, n int, cfg Config) (*Backends, []*TabletServer) {
	t.Helper()
	ctx := context.Background()
	bs := NewBackends(nil)
	cfg.User, cfg.Password = m.User(), m.Password()
	// The tablets are primaries: a primary serves when its server is writable.
	if err := execAll(ctx, m, "", "SET GLOBAL read_only = OFF"); err != nil {
		t.Fatal(err)
	}
	var out []*TabletServer
	for i := range n {
		db := fmt.Sprintf("ms_%s_%d", prefix, i)
		if err := execAll(ctx, m, "", "DROP DATABASE IF EXISTS "+db, "CREATE DATABASE "+db,
			"CREATE TABLE "+db+".t (id INT PRIMARY KEY, db VARCHAR(64))",
			"INSERT INTO "+db+".t VALUES (1, '"+db+"')"); err != nil {
			t.Fatal(err)
		}
		ts := NewShared(bs, cfg, schemaTablet(m, uint32(1000+i), fmt.Sprintf("ks%d", i), db), nil, nil)
		ts.Open()
		t.Cleanup(ts.Close)
		out = append(out, ts)
	}
	return bs, out
}

// opLog records the reads and writes of a backend connection, in order.
type opLog struct {
	rw  io.ReadWriter
	mu  sync.Mutex
	ops []byte // 'W' or 'R'
}

func (o *opLog) Read(p []byte) (int, error) {
	o.mu.Lock()
	o.ops = append(o.ops, 'R')
	o.mu.Unlock()
	return o.rw.Read(p)
}

func (o *opLog) Write(p []byte) (int, error) {
	o.mu.Lock()
	o.ops = append(o.ops, 'W')
	o.mu.Unlock()
	return o.rw.Write(p)
}

func silentOne(t *testing.T, c *Conn, q string) string {
	t.Helper()
	rows, err := c.Silent(context.Background(), q)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	if len(rows) != 1 || len(rows[0]) != 1 {
		t.Fatalf("%s: rows %v", q, rows)
	}
	return rows[0][0]
}

// Tablets of many schemas on one server share one backend; a connection one tablet used is
// switched to the next tablet's database in the same write as its statement.
func TestIntegrationSchemasShareBackend(t *testing.T) {
	m := sharedMariaDB(t)
	bs, tabs := schemaTablets(t, m, "share", 3, Config{MaxConnections: 2})
	if len(bs.All()) != 1 || tabs[0].Backend() != tabs[2].Backend() || tabs[0].Backend().Tablets() != 3 {
		t.Fatalf("%d backends for 3 tablets on one server", len(bs.All()))
	}
	ctx := context.Background()
	c, err := tabs[0].Get(ctx, Want{})
	if err != nil {
		t.Fatal(err)
	}
	if got := silentOne(t, c, "SELECT db FROM t"); got != "ms_share_0" {
		t.Fatalf("tablet 0 read %q", got)
	}
	c.Release(0)
	for i, ts := range []*TabletServer{tabs[1], tabs[2], tabs[0], tabs[1]} {
		c2, err := ts.Get(ctx, Want{})
		if err != nil {
			t.Fatal(err)
		}
		if c2 != c {
			t.Fatalf("hand-out %d: a new connection; want the idle one switched", i)
		}
		log := &opLog{rw: c2.nc}
		c2.rw = log
		var w bytes.Buffer
		res, err := c2.Exec(ctx, &Request{Frame: queryFrame("SELECT db, DATABASE() FROM t"), Pipeline: true}, &w)
		c2.rw = c2.nc
		if err != nil || res.Err != nil || res.Rows != 1 {
			t.Fatalf("Exec on %s: %v %+v", ts.Alias(), err, res)
		}
		if !strings.Contains(w.String(), ts.DBName()) {
			t.Errorf("tablet %s read another database's row", ts.Alias())
		}
		if c2.schema != ts.DBName() {
			t.Errorf("connection believes it is on %q, want %q", c2.schema, ts.DBName())
		}
		if ops := string(log.ops); strings.Contains(strings.TrimLeft(ops, "W"), "W") {
			t.Errorf("reads and writes %s: the switch took a round trip of its own", ops)
		}
		c2.Release(0)
	}
	if st := tabs[0].Backend().Stats(); st.Switches != 4 || st.SwitchesAlone != 0 {
		t.Errorf("%d switches (%d alone), want 4 pipelined", st.Switches, st.SwitchesAlone)
	}
	// Prepared statements are per database: the same text on the same connection runs in
	// each tablet's own database.
	for _, ts := range tabs {
		c, err := ts.Get(ctx, Want{})
		if err != nil {
			t.Fatal(err)
		}
		var w bytes.Buffer
		if _, _, r, err := c.Prepare(ctx, "SELECT db FROM t WHERE id = ?", 1, io.Discard); err != nil || r.Err != nil {
			t.Fatalf("prepare: %v %v", err, r.Err)
		}
		res, err := c.ExecStmt(ctx, "SELECT db FROM t WHERE id = ?", execPayload(1), nil, &Request{}, &w)
		if err != nil || res.Err != nil || res.Rows != 1 || !strings.Contains(w.String(), ts.DBName()) {
			t.Errorf("%s: prepared statement read %q (%v %v)", ts.Alias(), w.String(), err, res.Err)
		}
		c.Release(0)
	}
	if n := len(c.stmts.m); n != 3 {
		t.Errorf("%d statements cached on the shared connection, want one per database (3)", n)
	}
	// Health: every tablet serves from the one probe.
	waitFor(t, "the tablets to serve", 10*time.Second, func() bool {
		return tabs[0].Health().Serving && tabs[1].Health().Serving && tabs[2].Health().Serving
	})
}

// The backend's MaxConnections bounds the connections whatever the number of tablets; each
// tablet's PoolSize is a sub-quota.
func TestIntegrationBackendLimit(t *testing.T) {
	m := sharedMariaDB(t)
	_, tabs := schemaTablets(t, m, "limit", 4, Config{MaxConnections: 3, PoolSize: 2, PoolWaitTimeout: 200 * time.Millisecond})
	ctx := context.Background()
	a1, err := tabs[0].Get(ctx, Want{})
	if err != nil {
		t.Fatal(err)
	}
	a2, err := tabs[0].Get(ctx, Want{})
	if err != nil {
		t.Fatal(err)
	}
	// Tablet 0's own cap (2) is reached.
	_, err = tabs[0].Get(ctx, Want{})
	var me *mysql.MyError
	if !errors.As(err, &me) || me.Code != mysql.ER_TOO_MANY_USER_CONNECTIONS || !strings.Contains(me.Message, "--queryserver-config-pool-size") {
		t.Fatalf("third Get of tablet 0: %v, want its pool cap", err)
	}
	b1, err := tabs[1].Get(ctx, Want{})
	if err != nil {
		t.Fatal(err)
	}
	// The server's limit (3) is reached: tablet 2 waits, then fails naming the server.
	_, err = tabs[2].Get(ctx, Want{})
	if !errors.As(err, &me) || me.Code != mysql.ER_TOO_MANY_USER_CONNECTIONS || !strings.Contains(me.Message, "every tablet there shares") {
		t.Fatalf("Get past the server limit: %v", err)
	}
	// A connection given back serves a waiting tablet at once.
	got := make(chan error, 1)
	go func() {
		c, err := tabs[3].Get(ctx, Want{})
		if err == nil {
			c.Release(0)
		}
		got <- err
	}()
	time.Sleep(20 * time.Millisecond) // let it queue; the outcome does not depend on it
	a1.Release(0)
	if err := <-got; err != nil {
		t.Fatalf("a waiting Get after a release: %v", err)
	}
	a2.Release(0)
	b1.Release(0)
	st := tabs[0].Backend().Stats()
	if st.InUse != 0 || st.Idle > 3 || st.MaxConnections != 3 {
		t.Errorf("backend stats %+v", st)
	}
	// A reload raises the limit: both tablets' Gets pass.
	tabs[0].Backend().configure(Config{User: m.User(), Password: m.Password(), MaxConnections: 5})
	var held []*Conn
	for _, ts := range tabs[:3] {
		for range 2 {
			c, err := ts.Get(ctx, Want{})
			if err != nil && ts == tabs[2] && len(held) == 5 {
				break // 5 is the new limit
			}
			if err != nil {
				t.Fatalf("after raising the limit: %v (%d held)", err, len(held))
			}
			held = append(held, c)
		}
	}
	if len(held) != 5 {
		t.Errorf("%d connections with a limit of 5", len(held))
	}
	for _, c := range held {
		c.Release(0)
	}
}

// A tablet whose database was dropped: its health says so, and a statement on a connection
// switched from another tablet's database never runs there, whether the switch is two
// COM_INIT_DB (a fresh connection) or one multi-statement USE (after a first switch).
func TestIntegrationDroppedSchema(t *testing.T) {
	for _, multi := range []bool{false, true} {
		t.Run(fmt.Sprintf("multi=%v", multi), func(t *testing.T) { testDroppedSchema(t, multi) })
	}
}

func testDroppedSchema(t *testing.T, multi bool) {
	m := sharedMariaDB(t)
	_, tabs := schemaTablets(t, m, "drop", 2, Config{HealthInterval: 100 * time.Millisecond})
	ctx := context.Background()
	waitFor(t, "both serving", 10*time.Second, func() bool { return tabs[0].Health().Serving && tabs[1].Health().Serving })
	c, err := tabs[0].Get(ctx, Want{})
	if err != nil {
		t.Fatal(err)
	}
	silentOne(t, c, "SELECT COUNT(*) FROM t")
	c.Release(0)
	if multi {
		// To tablet 1 and back: the first switch turns multi-statements on, the second is one.
		for _, ts := range []*TabletServer{tabs[1], tabs[0]} {
			x, err := ts.Get(ctx, Want{})
			if err != nil || x != c {
				t.Fatalf("Get: %v (same connection %v)", err, x == c)
			}
			if _, err := x.Exec(ctx, &Request{Frame: queryFrame("SELECT COUNT(*) FROM t")}, io.Discard); err != nil {
				t.Fatal(err)
			}
			x.Release(0)
		}
		if !c.multi || c.schema != tabs[0].DBName() {
			t.Fatalf("after two switches: multi %v, on %q", c.multi, c.schema)
		}
	}
	if err := execAll(ctx, m, "", "DROP DATABASE ms_drop_1"); err != nil {
		t.Fatal(err)
	}
	// Before the probe notices: the switch fails, the INSERT must not land in ms_drop_0.t.
	c2, err := tabs[1].Get(ctx, Want{})
	if err != nil {
		t.Fatal(err)
	}
	if c2 != c {
		t.Fatal("want the idle connection of tablet 0")
	}
	var w bytes.Buffer
	res, err := c2.Exec(ctx, &Request{Frame: queryFrame("INSERT INTO t VALUES (2, 'wrong')")}, &w)
	var me *mysql.MyError
	if !errors.As(err, &me) || me.Code != mysql.ER_BAD_DB_ERROR || res.Forwarded || w.Len() != 0 || StatementOnly(err) {
		t.Fatalf("Exec after the drop: %v (forwarded %v, %d bytes)", err, res.Forwarded, w.Len())
	}
	if !strings.Contains(me.Message, "its database ms_drop_1") {
		t.Errorf("the error does not name the dropped database: %s", me.Message)
	}
	c2.Close()
	d, err := m.DB("ms_drop_0")
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	var n int
	if err := d.QueryRow("SELECT COUNT(*) FROM t").Scan(&n); err != nil || n != 1 {
		t.Fatalf("ms_drop_0.t has %d rows (%v): the statement ran on another tablet's database", n, err)
	}
	waitFor(t, "the dropped tablet to stop serving", 10*time.Second, func() bool {
		h := tabs[1].Health()
		return h.Reachable && !h.Serving && h.Err != nil && strings.Contains(h.Err.Error(), "does not exist")
	})
	if !tabs[0].Health().Serving {
		t.Error("the other tablet stopped serving")
	}
	if hist := tabs[1].HealthHistory(); len(hist) < 2 || hist[0].Health.Serving {
		t.Errorf("health history %+v", hist)
	}
}

// A reset (the session that held a connection let it go) keeps the connection on its
// tablet's database, and a reset on the way to another tablet switches it.
func TestIntegrationResetKeepsSchema(t *testing.T) {
	m := sharedMariaDB(t)
	_, tabs := schemaTablets(t, m, "reset", 2, Config{})
	ctx := context.Background()
	c, err := tabs[0].Get(ctx, Want{})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Reset(ctx); err != nil {
		t.Fatal(err)
	}
	if db := silentOne(t, c, "SELECT DATABASE()"); db != "ms_reset_0" || c.schema != db {
		t.Fatalf("after a reset on %q (believed %q)", db, c.schema)
	}
	c.MarkSettings(&Settings{Key: "x", Statements: []string{"SET @@session.sql_mode = 'ANSI'"}})
	c.Release(0)
	// Other settings and another database: one round trip resets, switches and sets.
	c2, err := tabs[1].Get(ctx, Want{Settings: &Settings{Key: "y", Statements: []string{"SET @@session.sql_mode = 'TRADITIONAL'"}}})
	if err != nil || c2 != c {
		t.Fatalf("Get: %v (same connection %v)", err, c2 == c)
	}
	if db := silentOne(t, c2, "SELECT DATABASE()"); db != "ms_reset_1" {
		t.Fatalf("on %q", db)
	}
	if mode := silentOne(t, c2, "SELECT @@session.sql_mode"); !strings.Contains(mode, "STRICT_TRANS_TABLES") {
		t.Errorf("sql_mode %q", mode)
	}
	c2.Release(0)
}

// BenchmarkSchemaSwitch: a point select on a connection already on the tablet's database,
// and on one that another tablet's statement left on its own (switched in the same write, or
// for a statement that is not Request.Pipeline, in a write of its own first);
// mariadb-µs/op is the server's CPU per statement (its /proc stat, 10 ms ticks: run long).
func BenchmarkSchemaSwitch(b *testing.B) {
	m := sharedMariaDB(b)
	bs := NewBackends(nil)
	cfg := Config{User: m.User(), Password: m.Password(), MaxConnections: 1}
	var tabs []*TabletServer
	for i := range 2 {
		db := fmt.Sprintf("ms_bench_%d", i)
		if err := execAll(context.Background(), m, "", "CREATE DATABASE IF NOT EXISTS "+db,
			"CREATE TABLE IF NOT EXISTS "+db+".t (id INT PRIMARY KEY, db VARCHAR(64))",
			"INSERT IGNORE INTO "+db+".t VALUES (1, '"+db+"')"); err != nil {
			b.Fatal(err)
		}
		ts := NewShared(bs, cfg, schemaTablet(m, uint32(2000+i), fmt.Sprintf("kb%d", i), db), nil, nil)
		ts.Open()
		b.Cleanup(ts.Close)
		tabs = append(tabs, ts)
	}
	frame := queryFrame("SELECT db FROM t WHERE id = 1")
	run := func(b *testing.B, alternate, pipeline bool) {
		ctx := context.Background()
		i := 0
		cpu0 := serverCPU(b, m.PID())
		for b.Loop() {
			ts := tabs[0]
			if alternate {
				ts = tabs[i%2]
			}
			i++
			c, err := ts.Get(ctx, Want{})
			if err != nil {
				b.Fatal(err)
			}
			if res, err := c.Exec(ctx, &Request{Frame: frame, Pipeline: pipeline}, io.Discard); err != nil || res.Err != nil || res.Rows != 1 {
				b.Fatal(res, err)
			}
			c.Release(0)
		}
		b.ReportMetric(float64(serverCPU(b, m.PID())-cpu0)/float64(time.Microsecond)/float64(b.N), "mariadb-µs/op")
	}
	b.Run("same_schema", func(b *testing.B) { run(b, false, true) })
	b.Run("switched", func(b *testing.B) { run(b, true, true) })
	b.Run("switched_alone", func(b *testing.B) { run(b, true, false) }) // the switch's OK awaited first
}

// serverCPU is the CPU time (user + system) process pid has used, from /proc/pid/stat.
func serverCPU(tb testing.TB, pid int) time.Duration {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		tb.Fatal(err)
	}
	s := string(data)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	// f[0] is field 3 (state): utime is field 14, stime 15, in USER_HZ (100) ticks.
	u, err1 := strconv.ParseUint(f[11], 10, 64)
	st, err2 := strconv.ParseUint(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		tb.Fatalf("stat of %d: %v %v", pid, err1, err2)
	}
	return time.Duration(u+st) * 10 * time.Millisecond
}

// A tablet server opened on a backend whose latest readings contradict its record (a replica
// just promoted, still read_only when the backend last probed) has the backend probe again at
// once: a reparent's writes do not wait for the next health interval.
func TestIntegrationOpenProbesWhenNotServing(t *testing.T) {
	m := sharedMariaDB(t)
	ctx := context.Background()
	if err := execAll(ctx, m, "", "DROP DATABASE IF EXISTS ms_promote", "CREATE DATABASE ms_promote", "SET GLOBAL read_only = ON"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = execAll(context.Background(), m, "", "SET GLOBAL read_only = OFF", "DROP DATABASE IF EXISTS ms_promote")
	})
	bs := NewBackends(nil)
	cfg := Config{User: m.User(), Password: m.Password(), HealthInterval: time.Hour}
	old := NewShared(bs, cfg, schemaTablet(m, 3000, "kp", "ms_promote"), nil, nil)
	old.Open()
	t.Cleanup(old.Close)
	waitFor(t, "the first probe", 10*time.Second, func() bool { return old.Health().Reachable })
	if old.Health().Serving {
		t.Fatal("a read_only primary serves")
	}
	// The promotion: writable, then the tablet's new record opens a new tablet server.
	if err := execAll(ctx, m, "", "SET GLOBAL read_only = OFF"); err != nil {
		t.Fatal(err)
	}
	promoted := NewShared(bs, cfg, schemaTablet(m, 3001, "kp", "ms_promote"), nil, nil)
	promoted.Open()
	t.Cleanup(promoted.Close)
	waitFor(t, "the promoted primary to serve (well before the hour's probe)", 10*time.Second, func() bool { return promoted.Health().Serving })
}

// A connection given back stays on its database: nothing is sent at release or untag, the
// next statement of the same tablet runs without a switch, and a tablet finds an idle
// connection already on its database before one on another.
func TestIntegrationReleaseKeepsSchema(t *testing.T) {
	m := sharedMariaDB(t)
	_, tabs := schemaTablets(t, m, "keep", 2, Config{MaxConnections: 2})
	ctx := context.Background()
	switches := func() uint64 { return tabs[0].Backend().Stats().Switches }
	run := func(ts *TabletServer, c *Conn) {
		t.Helper()
		rec, err := c.silent(ctx, "SELECT CONCAT(db, '/', DATABASE()) FROM t", true)
		if err != nil {
			t.Fatal(err)
		}
		rows, err := rec.rows()
		if err != nil || len(rows) != 1 {
			t.Fatalf("rows %v %v", rows, err)
		}
		if got := rows[0][0]; got != ts.DBName()+"/"+ts.DBName() {
			t.Fatalf("tablet %s read %q", ts.Alias(), got)
		}
	}
	get := func(ts *TabletServer) *Conn {
		t.Helper()
		c, err := ts.Get(ctx, Want{})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	c := get(tabs[0])
	run(tabs[0], c)
	log := &opLog{rw: c.nc}
	c.rw = log
	c.Release(7)
	c.Untag(c.Lease())
	if len(log.ops) != 0 {
		t.Fatalf("release and untag did %q on the connection; want nothing", log.ops)
	}
	before := switches()
	c2 := get(tabs[0])
	run(tabs[0], c2)
	if c2 != c || switches() != before || c.schema != tabs[0].DBName() {
		t.Fatalf("same tablet again: same connection %v, %d switches, on %q", c2 == c, switches()-before, c.schema)
	}
	// Another tablet takes it: one switch, in the statement's write.
	log.ops = nil
	c2.Release(0)
	c3 := get(tabs[1])
	run(tabs[1], c3)
	if c3 != c || switches() != before+1 {
		t.Fatalf("other tablet: same connection %v, %d switches", c3 == c, switches()-before)
	}
	if ops := string(log.ops); strings.Contains(strings.TrimLeft(ops, "W"), "W") {
		t.Errorf("reads and writes %s: the switch took a round trip of its own", ops)
	}
	// Two idle connections, one on each database (the one on tabs[1]'s released last):
	// each tablet gets the one on its own database.
	d := get(tabs[0])
	run(tabs[0], d)
	d.Release(0)
	c3.Release(0)
	before = switches()
	for _, ts := range []*TabletServer{tabs[0], tabs[1], tabs[0], tabs[1]} {
		x := get(ts)
		run(ts, x)
		x.Release(0)
	}
	if n := switches() - before; n != 0 {
		t.Errorf("%d switches with an idle connection on each tablet's database, want 0", n)
	}
	c.rw = c.nc
}

// A client's COM_RESET_CONNECTION leaves MariaDB's multi-statement option as it was: a
// multi-statement query of a client without CLIENT_MULTI_STATEMENTS still fails as on its
// own connection (1064), and the connection's next switch is still safe.
func TestIntegrationMultiStatementsAfterReset(t *testing.T) {
	m := sharedMariaDB(t)
	_, tabs := schemaTablets(t, m, "mreset", 2, Config{MaxConnections: 1})
	ctx := context.Background()
	exec := func(c *Conn, req *Request) Result {
		t.Helper()
		res, err := c.Exec(ctx, req, io.Discard)
		if err != nil {
			t.Fatalf("%q: %v", req.Frame[5:], err)
		}
		return res
	}
	c, err := tabs[0].Get(ctx, Want{})
	if err != nil {
		t.Fatal(err)
	}
	if res := exec(c, &Request{Frame: queryFrame("SELECT 1; SELECT 2"), Multi: MultiOn}); res.Err != nil {
		t.Fatalf("multi-statement with multi on: %v", res.Err)
	}
	if res := exec(c, &Request{Frame: []byte{1, 0, 0, 0, mysql.COM_RESET_CONNECTION}}); res.Err != nil {
		t.Fatalf("reset: %v", res.Err)
	}
	res := exec(c, &Request{Frame: queryFrame("SELECT 1; SELECT 2"), Multi: MultiOff})
	if res.Err == nil || res.Err.Code != mysql.ER_PARSE_ERROR {
		t.Fatalf("multi-statement with multi off after a reset: %v, want 1064", res.Err)
	}
	c.Release(0)
	// The next tablet's statement switches and reads its own database.
	c2, err := tabs[1].Get(ctx, Want{})
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Release(0)
	if got := silentOne(t, c2, "SELECT CONCAT(db, '/', DATABASE()) FROM t"); got != tabs[1].DBName()+"/"+tabs[1].DBName() {
		t.Fatalf("after the switch: %q", got)
	}
}

// After a refused switch, a statement that could reach another database (one not
// Request.Pipeline) was never sent: the row is not inserted, the lock not taken. A statement
// that is Pipeline goes in the switch's write; one that is not waits for the switch's OK.
func TestIntegrationFailedSwitchRunsNothing(t *testing.T) {
	m := sharedMariaDB(t)
	_, tabs := schemaTablets(t, m, "fsw", 3, Config{MaxConnections: 1})
	ctx := context.Background()
	db := openDB(t, m)
	// onOther hands out the connection after tabs[0] left it on ms_fsw_0.
	onOther := func(t *testing.T, ts *TabletServer) *Conn {
		t.Helper()
		c, err := tabs[0].Get(ctx, Want{})
		if err != nil {
			t.Fatal(err)
		}
		silentOne(t, c, "SELECT COUNT(*) FROM t")
		c.Release(0)
		c2, err := ts.Get(ctx, Want{})
		if err != nil || c2 != c {
			t.Fatalf("Get: %v (same connection %v)", err, c2 == c)
		}
		return c2
	}
	exec := func(c *Conn, q string, pipeline bool) (string, Result, error) {
		log := &opLog{rw: c.nc}
		c.rw = log
		res, err := c.Exec(ctx, &Request{Frame: queryFrame(q), Pipeline: pipeline}, io.Discard)
		c.rw = c.nc
		log.mu.Lock()
		defer log.mu.Unlock()
		return string(log.ops), res, err
	}
	// writes counts the writes of a command that are separated by reads: its round trips.
	writes := func(ops string) int { return strings.Count(strings.ReplaceAll(ops, "WW", "W"), "W") }

	t.Run("pipelined", func(t *testing.T) {
		c := onOther(t, tabs[2])
		ops, res, err := exec(c, "SELECT db FROM t", true)
		if err != nil || res.Err != nil || writes(ops) != 1 {
			t.Errorf("%v %v, ops %s: want one write", err, res.Err, ops)
		}
		c.Release(0)
	})
	t.Run("alone", func(t *testing.T) {
		c := onOther(t, tabs[2])
		before := tabs[0].Backend().Stats().SwitchesAlone
		ops, res, err := exec(c, "INSERT INTO ms_fsw_2.t VALUES (2, 'alone')", false)
		if err != nil || res.Err != nil || writes(ops) != 2 {
			t.Errorf("%v %v, ops %s: want the switch's write, then the statement's", err, res.Err, ops)
		}
		if c.schema != "ms_fsw_2" {
			t.Errorf("on %q", c.schema)
		}
		c.Release(0)
		if n := tabs[0].Backend().Stats().SwitchesAlone - before; n != 1 {
			t.Errorf("%d switches alone, want 1", n)
		}
	})
	if err := execAll(ctx, m, "", "DROP DATABASE ms_fsw_1"); err != nil {
		t.Fatal(err)
	}
	// refusedOn runs q on c (handed to the dropped tablet): the switch is refused. It may run
	// on another goroutine than the test's.
	refusedOn := func(t *testing.T, c *Conn, q string) {
		ops, res, err := exec(c, q, false)
		var me *mysql.MyError
		if !errors.As(err, &me) || me.Code != mysql.ER_BAD_DB_ERROR || res.Forwarded {
			t.Errorf("%s after the drop: %v (forwarded %v)", q, err, res.Forwarded)
		}
		if writes(ops) != 1 {
			t.Errorf("ops %s: the statement was written after the refused switch", ops)
		}
		c.Close()
	}
	refused := func(t *testing.T, q string) {
		t.Helper()
		refusedOn(t, onOther(t, tabs[1]), q)
	}
	t.Run("insert", func(t *testing.T) {
		refused(t, "INSERT INTO ms_fsw_0.t VALUES (7, 'ran')")
		var n int
		if err := db.QueryRow("SELECT COUNT(*) FROM ms_fsw_0.t WHERE id = 7").Scan(&n); err != nil || n != 0 {
			t.Fatalf("ms_fsw_0.t has the row (%d, %v): the statement ran after the refused switch", n, err)
		}
	})
	t.Run("get_lock", func(t *testing.T) {
		refused(t, "SELECT GET_LOCK('ms_fsw_lock', 0)")
		var holder sql.NullInt64
		if err := db.QueryRow("SELECT IS_USED_LOCK('ms_fsw_lock')").Scan(&holder); err != nil || holder.Valid {
			t.Fatalf("the lock is held by %v (%v): the statement ran after the refused switch", holder, err)
		}
	})
	t.Run("get_lock_waits", func(t *testing.T) {
		// The lock is held elsewhere: a GET_LOCK that ran would wait for it, in the
		// processlist, before any reply. (The lock of a statement that ran goes with the
		// closed connection, maybe before IS_USED_LOCK looks: this sees it either way.)
		const q = "SELECT GET_LOCK('ms_fsw_wait', 60)"
		hold, err := db.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer hold.Close()
		var got int
		if err := hold.QueryRowContext(ctx, "SELECT GET_LOCK('ms_fsw_wait', 0)").Scan(&got); err != nil || got != 1 {
			t.Fatalf("holding the lock: %d %v", got, err)
		}
		c := onOther(t, tabs[1])
		done := make(chan struct{})
		go func() {
			defer close(done)
			refusedOn(t, c, q)
		}()
		ran := false
		waitFor(t, "the refused statement or its wait", 20*time.Second, func() bool {
			select {
			case <-done:
				return true
			default:
			}
			var n int
			if err := db.QueryRow("SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE INFO = ?", q).Scan(&n); err == nil && n > 0 {
				ran = true
			}
			return ran
		})
		if ran {
			t.Error("the GET_LOCK waits on the server: it ran after the refused switch")
		}
		if _, err := hold.ExecContext(ctx, "DO RELEASE_LOCK('ms_fsw_wait')"); err != nil {
			t.Fatal(err)
		}
		<-done
	})
}

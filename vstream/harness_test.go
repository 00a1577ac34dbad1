package vstream_test

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	_ "github.com/go-sql-driver/mysql"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	binlogdatapb "vitess.io/vitess/go/vt/proto/binlogdata"
	topodatapb "vitess.io/vitess/go/vt/proto/topodata"
	vtgatepb "vitess.io/vitess/go/vt/proto/vtgate"
	"vitess.io/vitess/go/vt/proto/vtgateservice"

	"github.com/vtdirect/vtdirect/grpcvtgate"
	"github.com/vtdirect/vtdirect/local"
	"github.com/vtdirect/vtdirect/vstream"
)

const testDB = "t"

// cluster is a primary and replicas of keyspace "ks" shard "0" in database "t".
type cluster struct {
	primary  *local.MariaDB
	replicas []*local.MariaDB
	pdb      *sql.DB
}

// testLogger logs warnings (a re-pick, a failed dump) to stderr, which go test shows for a
// failing package only, so that a failure in CI says what the streams went through; with
// VSTREAM_TEST_LOG set it logs everything.
func testLogger(t testing.TB) *slog.Logger {
	level := slog.LevelWarn
	if os.Getenv("VSTREAM_TEST_LOG") != "" {
		level = slog.LevelDebug
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
}

func startCluster(t testing.TB, ctx context.Context, replicas int) *cluster {
	t.Helper()
	return startClusterArgs(t, ctx, make([][]string, replicas+1)...)
}

// startClusterArgs starts a primary and len(args)-1 replicas, server i with mariadbd options
// args[i] (e.g. "--binlog-format=MIXED").
func startClusterArgs(t testing.TB, ctx context.Context, args ...[]string) *cluster {
	t.Helper()
	replicas := len(args) - 1
	start := func(id uint32) *local.MariaDB {
		m, err := local.StartMariaDB(ctx, local.MariaDBConfig{Dir: t.TempDir(), ServerID: id, User: "app", Password: "app", Logger: testLogger(t),
			ExtraArgs: args[id-100]})
		if err != nil {
			t.Fatalf("StartMariaDB: %v", err)
		}
		t.Cleanup(func() {
			c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			_ = m.Stop(c)
		})
		return m
	}
	c := &cluster{primary: start(100)}
	for i := range replicas {
		c.replicas = append(c.replicas, start(uint32(101+i)))
	}
	if len(c.replicas) > 0 {
		if err := local.SetupReplication(ctx, c.primary, c.replicas...); err != nil {
			t.Fatalf("SetupReplication: %v", err)
		}
	}
	db, err := sql.Open("mysql", c.primary.DSN(""))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	c.pdb = db
	c.exec(t, "CREATE DATABASE "+testDB)
	c.exec(t, "CREATE TABLE t.t1 (id INT PRIMARY KEY, v VARCHAR(32) NOT NULL, n INT UNSIGNED, e ENUM('a','b','c'), s SET('x','y'))")
	c.exec(t, "CREATE TABLE t.t2 (k VARCHAR(16) PRIMARY KEY, w BIGINT)")
	for _, r := range c.replicas {
		if err := local.WaitCaughtUp(ctx, c.primary, r); err != nil {
			t.Fatalf("WaitCaughtUp: %v", err)
		}
	}
	return c
}

func (c *cluster) exec(t testing.TB, q string, args ...any) {
	t.Helper()
	if _, err := c.pdb.Exec(q, args...); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

// picker serves fixed sources; a source marked down is never picked.
type picker struct {
	mu      sync.Mutex // guards sources and down
	sources []vstream.Source
	down    map[string]bool
	picks   []string
}

func (p *picker) PickSource(ctx context.Context, req vstream.SourceRequest) (vstream.Source, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, tt := range req.TabletTypes {
		for _, s := range p.sources {
			if s.TabletType != tt || p.down[s.Alias] || slices.Contains(req.Exclude, s.Alias) {
				continue
			}
			if len(req.Cells) > 0 && !slices.Contains(req.Cells, s.Cell) {
				continue
			}
			p.picks = append(p.picks, s.Alias)
			return s, nil
		}
	}
	return vstream.Source{}, fmt.Errorf("no healthy %v tablet (excluded %v)", req.TabletTypes, req.Exclude)
}

// CheckSource makes picker a vstream.HealthChecker: a source marked down is unhealthy.
func (p *picker) CheckSource(ctx context.Context, src vstream.Source) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.down[src.Alias] {
		return fmt.Errorf("tablet %s is not serving", src.Alias)
	}
	return nil
}

func (p *picker) Shards(ctx context.Context, keyspace string) ([]string, error) {
	return []string{"0"}, nil
}

func (p *picker) setDown(alias string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.down == nil {
		p.down = map[string]bool{}
	}
	p.down[alias] = true
}

func (p *picker) picked() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.picks)
}

func newPicker(c *cluster) *picker {
	p := &picker{}
	p.sources = append(p.sources, vstream.Source{Alias: "zone1-100", Cell: "zone1", TabletType: topodatapb.TabletType_PRIMARY, Addr: c.primary.Addr(), DBName: testDB})
	for i, r := range c.replicas {
		cell := "zone1"
		if i%2 == 1 {
			cell = "zone2"
		}
		p.sources = append(p.sources, vstream.Source{Alias: fmt.Sprintf("%s-%d", cell, 101+i), Cell: cell, TabletType: topodatapb.TabletType_REPLICA, Addr: r.Addr(), DBName: testDB})
	}
	return p
}

// serve starts the gRPC face on 127.0.0.1:0 and returns a client of Vitess's generated API.
func serve(t testing.TB, p vstream.SourcePicker, tune func(*vstream.Config)) vtgateservice.VitessClient {
	t.Helper()
	c, _ := serveAddr(t, p, tune)
	return c
}

// serveAddr is serve, also returning the server's address.
func serveAddr(t testing.TB, p vstream.SourcePicker, tune func(*vstream.Config)) (vtgateservice.VitessClient, string) {
	t.Helper()
	c, addr, _ := serveManager(t, p, tune)
	return c, addr
}

// serveManager is serveAddr, also returning the Manager.
func serveManager(t testing.TB, p vstream.SourcePicker, tune func(*vstream.Config)) (vtgateservice.VitessClient, string, *vstream.Manager) {
	t.Helper()
	cfg := vstream.Config{User: "app", Password: "app", Picker: p, Logger: testLogger(t), RetryBackoff: 100 * time.Millisecond}
	if tune != nil {
		tune(&cfg)
	}
	m, err := vstream.NewManager(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(m.Close)
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer(grpcvtgate.ServerOptions(nil)...)
	vtgateservice.RegisterVitessServer(srv, grpcvtgate.New(grpcvtgate.Config{VStream: m}))
	go func() { _ = srv.Serve(lis) }()
	t.Cleanup(srv.Stop)
	// Vitess's own client uses the vtprotobuf codec too.
	cc, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.ForceCodecV2(grpcvtgate.Codec())))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cc.Close() })
	return vtgateservice.NewVitessClient(cc), lis.Addr().String(), m
}

// consumer applies every event it receives to an in-memory copy of the tables and fails on
// a duplicate insert or a change to a missing row.
type consumer struct {
	mu       sync.Mutex                   // guards everything below
	rows     map[string]map[string]string // table -> pk text -> row text
	vgtid    *binlogdatapb.VGtid
	events   []*binlogdatapb.VEvent
	copyDone bool
	err      error
	fields   map[string]*binlogdatapb.FieldEvent
}

func newConsumer() *consumer {
	return &consumer{rows: map[string]map[string]string{}, fields: map[string]*binlogdatapb.FieldEvent{}}
}

func rowText(r interface {
	GetLengths() []int64
	GetValues() []byte
}) (pk string, all string) {
	var parts []string
	off := int64(0)
	for _, l := range r.GetLengths() {
		if l < 0 {
			parts = append(parts, "NULL")
			continue
		}
		parts = append(parts, string(r.GetValues()[off:off+l]))
		off += l
	}
	return parts[0], strings.Join(parts, "|")
}

func (c *consumer) apply(evs []*binlogdatapb.VEvent) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, ev := range evs {
		c.events = append(c.events, ev)
		switch ev.Type {
		case binlogdatapb.VEventType_VGTID:
			c.vgtid = ev.Vgtid
		case binlogdatapb.VEventType_FIELD:
			c.fields[ev.FieldEvent.TableName] = ev.FieldEvent
		case binlogdatapb.VEventType_COPY_COMPLETED:
			if ev.Keyspace == "" {
				c.copyDone = true
			}
		case binlogdatapb.VEventType_ROW:
			tbl := ev.RowEvent.TableName
			if c.rows[tbl] == nil {
				c.rows[tbl] = map[string]string{}
			}
			m := c.rows[tbl]
			for _, rc := range ev.RowEvent.RowChanges {
				if rc.Before != nil {
					pk, _ := rowText(rc.Before)
					if _, ok := m[pk]; !ok && c.err == nil {
						c.err = fmt.Errorf("%s: change to missing row %s", tbl, pk)
					}
					delete(m, pk)
				}
				if rc.After != nil {
					pk, all := rowText(rc.After)
					if _, ok := m[pk]; ok && rc.Before == nil && c.err == nil {
						c.err = fmt.Errorf("%s: duplicate insert of row %s", tbl, pk)
					}
					m[pk] = all
				}
			}
		}
	}
}

func (c *consumer) snapshot(table string) map[string]string {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := map[string]string{}
	for k, v := range c.rows[table] {
		out[k] = v
	}
	return out
}

// stream runs a VStream into c until ctx ends; it returns the stream's final error.
func stream(ctx context.Context, client vtgateservice.VitessClient, req *vtgatepb.VStreamRequest, c *consumer) error {
	s, err := client.VStream(ctx, req)
	if err != nil {
		return err
	}
	for {
		resp, err := s.Recv()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		c.apply(resp.Events)
	}
}

// tableRows reads table t.<name> as the consumer encodes it (all columns joined by "|").
func tableRows(t testing.TB, db *sql.DB, name string) map[string]string {
	t.Helper()
	rows, err := db.Query("SELECT * FROM t." + name)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	out := map[string]string{}
	vals := make([]sql.RawBytes, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		var parts []string
		for _, v := range vals {
			if v == nil {
				parts = append(parts, "NULL")
			} else {
				parts = append(parts, string(v))
			}
		}
		out[parts[0]] = strings.Join(parts, "|")
	}
	return out
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t testing.TB, ctx context.Context, what string, cond func() (bool, string)) {
	t.Helper()
	for {
		ok, msg := cond()
		if ok {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("waiting for %s: %s", what, msg)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// sameRows compares the consumer's table with the database's.
func sameRows(t testing.TB, c *consumer, db *sql.DB, table string) (bool, string) {
	got := c.snapshot("ks." + table)
	want := tableRows(t, db, table)
	if len(got) != len(want) {
		return false, fmt.Sprintf("consumer has %d rows, table has %d", len(got), len(want))
	}
	for k, v := range want {
		if got[k] != v {
			return false, fmt.Sprintf("row %s: consumer %q, table %q", k, got[k], v)
		}
	}
	return true, ""
}

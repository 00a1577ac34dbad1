package tabletserver

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/binary"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	topodatapb "vitess.io/vitess/go/vt/proto/topodata"

	"github.com/go-mysql-org/go-mysql/mysql"

	"github.com/vtdirect/vtdirect/local"
)

// One MariaDB serves the integration tests that do not stop or reconfigure their server; it
// is started on first use and stopped by TestMain.
var shared struct {
	once sync.Once
	m    *local.MariaDB
	dir  string
	err  error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if shared.m != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		_ = shared.m.Stop(ctx)
		cancel()
	}
	if shared.dir != "" {
		os.RemoveAll(shared.dir)
	}
	os.Exit(code)
}

const testDB = "vt_test"

// sharedMariaDB returns the shared server, with database vt_test holding table t (id, v) and
// procedure two_results. It fails the test (never skips) when MariaDB cannot start.
func sharedMariaDB(t testing.TB) *local.MariaDB {
	t.Helper()
	shared.once.Do(func() {
		shared.dir, shared.err = os.MkdirTemp("", "tabletserver-test-")
		if shared.err != nil {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		shared.m, shared.err = local.StartMariaDB(ctx, local.MariaDBConfig{
			Dir: shared.dir, ServerID: 1, User: "app", Password: "app",
		})
		if shared.err != nil {
			return
		}
		if shared.err = execAll(ctx, shared.m, "", "CREATE DATABASE IF NOT EXISTS "+testDB); shared.err != nil {
			return
		}
		shared.err = execAll(ctx, shared.m, testDB,
			"CREATE TABLE IF NOT EXISTS "+testDB+".t (id BIGINT PRIMARY KEY, v VARCHAR(64), d DECIMAL(10,2), ts DATETIME(3), b BLOB, f DOUBLE)",
			"INSERT IGNORE INTO "+testDB+".t SELECT seq, CONCAT('value-', seq), seq / 7, '2024-01-02 03:04:05.678', REPEAT('x', seq % 300), seq * 1.5 FROM seq_1_to_2000",
			"CREATE PROCEDURE IF NOT EXISTS "+testDB+".two_results() BEGIN SELECT 1 AS a; SELECT 2 AS b, 'three' AS c; END",
			"CREATE TABLE IF NOT EXISTS "+testDB+".tx (id INT PRIMARY KEY)",
		)
	})
	if shared.err != nil {
		t.Fatalf("start MariaDB for tabletserver tests: %v", shared.err)
	}
	return shared.m
}

func execAll(ctx context.Context, m *local.MariaDB, db string, stmts ...string) error {
	d, err := m.DB(db)
	if err != nil {
		return err
	}
	defer d.Close()
	for _, s := range stmts {
		if _, err := d.ExecContext(ctx, s); err != nil {
			return fmt.Errorf("%s: %w", s, err)
		}
	}
	return nil
}

func openDB(t testing.TB, m *local.MariaDB) *sql.DB {
	t.Helper()
	db, err := m.DB("")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func testTablet(m *local.MariaDB, uid uint32, typ topodatapb.TabletType) *topodatapb.Tablet {
	return &topodatapb.Tablet{
		Alias:         &topodatapb.TabletAlias{Cell: "test", Uid: uid},
		Keyspace:      "test",
		Shard:         "0",
		Type:          typ,
		MysqlHostname: "127.0.0.1",
		MysqlPort:     int32(m.Port()),
	}
}

// startServer makes an opened TabletServer for m, closed at the end of the test.
func startServer(t testing.TB, m *local.MariaDB, cfg Config, typ topodatapb.TabletType, onHealth func()) *TabletServer {
	t.Helper()
	cfg.User, cfg.Password = m.User(), m.Password()
	ts := New(cfg, testTablet(m, m.ServerID(), typ), nil, onHealth)
	ts.Open()
	t.Cleanup(ts.Close)
	return ts
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t testing.TB, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// pingOK is the reply to a COM_PING on an autocommit connection: it ends a raw capture.
var pingOK = []byte{7, 0, 0, 1, 0, 0, 0, byte(mysql.SERVER_STATUS_AUTOCOMMIT), 0, 0, 0}

// rawReply sends frame on a fresh connection's socket followed by a COM_PING and returns every
// byte the server answered before the ping's OK: the server's reply as it is on the wire,
// read without the forwarder.
func rawReply(t testing.TB, ts *TabletServer, frame []byte) []byte {
	t.Helper()
	c, err := ts.be.dial(context.Background(), ts, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer c.nc.Close()
	n := len(frame) - 4
	frame[0], frame[1], frame[2], frame[3] = byte(n), byte(n>>8), byte(n>>16), 0
	ping := []byte{1, 0, 0, 0, mysql.COM_PING}
	if _, err := c.nc.Write(append(append([]byte(nil), frame...), ping...)); err != nil {
		t.Fatal(err)
	}
	if err := c.nc.SetReadDeadline(time.Now().Add(30 * time.Second)); err != nil {
		t.Fatal(err)
	}
	var got []byte
	buf := make([]byte, 64<<10)
	for !bytes.HasSuffix(got, pingOK) {
		k, err := c.nc.Read(buf)
		got = append(got, buf[:k]...)
		if err != nil {
			t.Fatalf("raw read: %v after %d bytes", err, len(got))
		}
	}
	return got[:len(got)-len(pingOK)]
}

// textValues decodes the rows of a one-result text reply into strings ("NULL" for NULL).
func textValues(t testing.TB, reply []byte) [][]string {
	t.Helper()
	var packets [][]byte
	for len(reply) >= 4 {
		n := int(reply[0]) | int(reply[1])<<8 | int(reply[2])<<16
		packets = append(packets, reply[4:4+n])
		reply = reply[4+n:]
	}
	if len(packets) == 0 || packets[0][0] == 0xFF || packets[0][0] == 0 {
		t.Fatalf("not a result set: % x", packets)
	}
	cols := int(packets[0][0])
	var rows [][]string
	for _, p := range packets[1+cols+1:] {
		if p[0] == 0xFE && len(p) < 9 {
			break
		}
		var row []string
		for len(p) > 0 {
			if p[0] == 0xFB {
				row = append(row, "NULL")
				p = p[1:]
				continue
			}
			v, size, _ := readLenEnc(p)
			row = append(row, string(p[size:size+int(v)]))
			p = p[size+int(v):]
		}
		rows = append(rows, row)
	}
	return rows
}

// execPayload builds a COM_STMT_EXECUTE payload (statement id left 0) for BIGINT parameters.
func execPayload(params ...int64) []byte {
	b := []byte{mysql.COM_STMT_EXECUTE, 0, 0, 0, 0, 0, 1, 0, 0, 0}
	if len(params) > 0 {
		b = append(b, make([]byte, (len(params)+7)/8)...) // null bitmap
		b = append(b, 1)
		for range params {
			b = append(b, mysql.MYSQL_TYPE_LONGLONG, 0)
		}
		for _, p := range params {
			b = binary.LittleEndian.AppendUint64(b, uint64(p))
		}
	}
	return b
}

// startMariaDB starts a server of the test's own, stopped at the end of the test.
func startMariaDB(t *testing.T, ctx context.Context, serverID uint32) *local.MariaDB {
	t.Helper()
	m, err := local.StartMariaDB(ctx, local.MariaDBConfig{Dir: t.TempDir(), ServerID: serverID, User: "app", Password: "app"})
	if err != nil {
		t.Fatalf("StartMariaDB: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_ = m.Stop(ctx)
	})
	return m
}

func setupReplication(ctx context.Context, primary *local.MariaDB, replicas ...*local.MariaDB) error {
	return local.SetupReplication(ctx, primary, replicas...)
}

package tabletserver

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"testing"
	"time"

	"github.com/go-mysql-org/go-mysql/mysql"
	topodatapb "vitess.io/vitess/go/vt/proto/topodata"
)

// Builders of backend replies, one packet at a time.

func pkt(seq byte, payload ...byte) []byte {
	n := len(payload)
	return append([]byte{byte(n), byte(n >> 8), byte(n >> 16), seq}, payload...)
}

func okPayload(status uint16) []byte {
	return []byte{0x00, 0x01, 0x00, byte(status), byte(status >> 8), 0, 0}
}

func eofPayload(status uint16) []byte {
	return []byte{0xFE, 0, 0, byte(status), byte(status >> 8)}
}

func errPayload(code uint16, state, msg string) []byte {
	b := []byte{0xFF, byte(code), byte(code >> 8), '#'}
	b = append(b, state...)
	return append(b, msg...)
}

// colDef is a column definition's payload (opaque to the forwarder; it starts with "def").
func colDef(name string) []byte {
	b := []byte{3, 'd', 'e', 'f', 0, 0, 0, byte(len(name))}
	b = append(b, name...)
	b = append(b, 0, 0x0c, 0x21, 0, 0x0b, 0, 0, 0, 0x03, 0, 0, 0, 0, 0)
	return b
}

func textRow(vals ...string) []byte {
	var b []byte
	for _, v := range vals {
		b = append(b, byte(len(v)))
		b = append(b, v...)
	}
	return b
}

// resultSet builds a text result set of rows single-column rows starting at seq; it returns
// the bytes and the next sequence id.
func resultSet(seq byte, rows int, status uint16) ([]byte, byte) {
	var b []byte
	add := func(p ...byte) { b = append(b, pkt(seq, p...)...); seq++ }
	add(1)
	add(colDef("c")...)
	add(eofPayload(0)...)
	for i := 0; i < rows; i++ {
		add(textRow("row")...)
	}
	add(eofPayload(status)...)
	return b, seq
}

// chunkReader returns at most chunk bytes per Read, like a socket with small segments.
type chunkReader struct {
	data  []byte
	chunk int
	reads int
}

func (r *chunkReader) Read(p []byte) (int, error) {
	if len(r.data) == 0 {
		return 0, io.EOF
	}
	n := min(len(p), r.chunk, len(r.data))
	copy(p, r.data[:n])
	r.data = r.data[n:]
	r.reads++
	return n, nil
}

type fakeBackend struct {
	*chunkReader
	written bytes.Buffer
}

func (f *fakeBackend) Write(p []byte) (int, error) { return f.written.Write(p) }

// countingWriter records what the client got and how many writes it took.
type countingWriter struct {
	bytes.Buffer
	writes int
}

func (w *countingWriter) Write(p []byte) (int, error) { w.writes++; return w.Buffer.Write(p) }

func testServer(cfg Config) *TabletServer {
	t := New(cfg, &topodatapb.Tablet{Alias: &topodatapb.TabletAlias{Cell: "test", Uid: 1}, Keyspace: "test",
		MysqlHostname: "127.0.0.1", MysqlPort: 1}, nil, nil)
	return t
}

func testConn(t *testing.T, cfg Config, reply []byte, chunk int) (*Conn, *fakeBackend) {
	t.Helper()
	cfg.User = "u"
	ts := testServer(cfg)
	t.Cleanup(ts.Close)
	ts.be.killQuery = func(context.Context, uint32) error { return nil } // no control connection
	c := newConn(ts.be, nil, 7, 0)
	c.ts, c.pool = ts, ts.be.pool
	c.schema, c.wantSchema = ts.dbName, ts.dbName
	c.maxRows, c.queryTimeout = uint64(ts.config().MaxResultRows), ts.config().QueryTimeout
	fb := &fakeBackend{chunkReader: &chunkReader{data: reply, chunk: chunk}}
	c.rw = fb
	c.state.Store(connInUse)
	return c, fb
}

func queryFrame(q string) []byte {
	return append([]byte{0, 0, 0, 0, mysql.COM_QUERY}, q...)
}

func TestExecForwardsVerbatim(t *testing.T) {
	rs, _ := resultSet(1, 3, mysql.SERVER_STATUS_AUTOCOMMIT)
	multi1, seq := resultSet(1, 2, mysql.SERVER_MORE_RESULTS_EXISTS|mysql.SERVER_STATUS_AUTOCOMMIT)
	multi2, seq := resultSet(seq, 1, mysql.SERVER_MORE_RESULTS_EXISTS|mysql.SERVER_STATUS_AUTOCOMMIT)
	multi := append(append(multi1, multi2...), pkt(seq, okPayload(mysql.SERVER_STATUS_AUTOCOMMIT)...)...)

	// A row whose first value is 300 bytes long starts with 0xFC; one of 70000 bytes with
	// 0xFD; neither is a terminator.
	long := bytes.Repeat([]byte{'x'}, 70000)
	bigRow := append([]byte{0xFD, byte(len(long)), byte(len(long) >> 8), byte(len(long) >> 16)}, long...)
	var big []byte
	big = append(big, pkt(1, 1)...)
	big = append(big, pkt(2, colDef("c")...)...)
	big = append(big, pkt(3, eofPayload(0)...)...)
	big = append(big, pkt(4, bigRow...)...)
	big = append(big, pkt(5, eofPayload(mysql.SERVER_STATUS_IN_TRANS)...)...)

	// A row of 9+ bytes starting with 0xFE (8-byte length prefix) is a row, not an EOF.
	feRow := append([]byte{0xFE, 1, 0, 0, 0, 0, 0, 0, 0}, 'z')
	var fe []byte
	fe = append(fe, pkt(1, 1)...)
	fe = append(fe, pkt(2, colDef("c")...)...)
	fe = append(fe, pkt(3, eofPayload(0)...)...)
	fe = append(fe, pkt(4, feRow...)...)
	fe = append(fe, pkt(5, eofPayload(2)...)...)

	tests := []struct {
		name       string
		reply      []byte
		wantStatus uint16
		wantRows   uint64
		wantErr    uint16 // backend ERR code in Result.Err
		wantSeq    uint8
	}{
		{"ok", pkt(1, okPayload(mysql.SERVER_STATUS_AUTOCOMMIT)...), mysql.SERVER_STATUS_AUTOCOMMIT, 0, 0, 2},
		{"err", pkt(1, errPayload(1146, "42S02", "Table 't.x' doesn't exist")...), 0, 0, 1146, 2},
		{"result set", rs, mysql.SERVER_STATUS_AUTOCOMMIT, 3, 0, 8},
		{"multi result", multi, mysql.SERVER_STATUS_AUTOCOMMIT, 3, 0, seq + 1},
		{"row bigger than the buffer", big, mysql.SERVER_STATUS_IN_TRANS, 1, 0, 6},
		{"row starting with 0xFE", fe, 2, 1, 0, 6},
	}
	for _, tt := range tests {
		for _, chunk := range []int{1, 3, 7, 1 << 20} {
			t.Run(tt.name, func(t *testing.T) {
				c, fb := testConn(t, Config{}, tt.reply, chunk)
				var w countingWriter
				res, err := c.Exec(context.Background(), &Request{Frame: queryFrame("select 1")}, &w)
				if err != nil {
					t.Fatalf("Exec: %v", err)
				}
				if !bytes.Equal(w.Bytes(), tt.reply) {
					t.Fatalf("forwarded %d bytes, want the %d of the reply verbatim", w.Len(), len(tt.reply))
				}
				if w.writes > fb.reads {
					t.Errorf("%d writes for %d reads: want at most one write per read", w.writes, fb.reads)
				}
				if res.Status != tt.wantStatus || res.Rows != tt.wantRows || res.NextSeq != tt.wantSeq || !res.Forwarded {
					t.Errorf("Result = %+v, want status %#x rows %d nextSeq %d", res, tt.wantStatus, tt.wantRows, tt.wantSeq)
				}
				if tt.wantErr != 0 && (res.Err == nil || res.Err.Code != tt.wantErr) {
					t.Errorf("Result.Err = %v, want code %d", res.Err, tt.wantErr)
				}
				if tt.wantErr == 0 && res.Err != nil {
					t.Errorf("Result.Err = %v", res.Err)
				}
				if got := fb.written.Bytes(); !bytes.Equal(got, pkt(0, append([]byte{mysql.COM_QUERY}, "select 1"...)...)) {
					t.Errorf("command sent % x", got)
				}
			})
		}
	}
}

func TestExecMalformedReplies(t *testing.T) {
	rs, _ := resultSet(1, 1, 0)
	tests := []struct {
		name  string
		reply []byte
		code  uint16
	}{
		{"truncated", rs[:len(rs)-3], crServerLost},
		{"nothing", nil, crServerLost},
		{"trailing bytes", append(pkt(1, okPayload(0)...), 1, 2), mysql.ER_UNKNOWN_ERROR},
		{"local infile", pkt(1, 0xFB, 'f'), mysql.ER_UNKNOWN_ERROR},
		{"no EOF after columns", append(append(pkt(1, 1), pkt(2, colDef("c")...)...), pkt(3, textRow("a")...)...), mysql.ER_UNKNOWN_ERROR},
		{"empty packet", pkt(1), mysql.ER_UNKNOWN_ERROR},
		{"bad column count", pkt(1, 0xFC, 1), mysql.ER_UNKNOWN_ERROR},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, _ := testConn(t, Config{}, tt.reply, 5)
			_, err := c.Exec(context.Background(), &Request{Frame: queryFrame("x")}, io.Discard)
			var me *mysql.MyError
			if !errors.As(err, &me) || me.Code != tt.code {
				t.Fatalf("err = %v, want code %d", err, tt.code)
			}
			if !c.broken {
				t.Error("connection not marked broken")
			}
			if _, err := c.Exec(context.Background(), &Request{Frame: queryFrame("x")}, io.Discard); err == nil {
				t.Error("a broken connection ran another command")
			}
		})
	}
}

func TestExecMaxRows(t *testing.T) {
	rs, _ := resultSet(1, 10, 0)
	for _, chunk := range []int{2, 1 << 20} {
		c, _ := testConn(t, Config{MaxResultRows: 4}, rs, chunk)
		var w bytes.Buffer
		res, err := c.Exec(context.Background(), &Request{Frame: queryFrame("x")}, &w)
		var me *mysql.MyError
		if !errors.As(err, &me) || me.Code != mysql.ER_TOO_BIG_SELECT {
			t.Fatalf("err = %v, want ER_TOO_BIG_SELECT", err)
		}
		// Column count, definition, EOF and 4 rows were forwarded: 7 packets, seq 1..7.
		want, _ := resultSet(1, 4, 0)
		want = want[:len(want)-9] // without the final EOF
		if !bytes.Equal(w.Bytes(), want) {
			t.Fatalf("forwarded % x\nwant % x", w.Bytes(), want)
		}
		if !res.Forwarded || res.NextSeq != 8 || res.Rows != 10 {
			t.Errorf("Result = %+v, want Forwarded, NextSeq 8, Rows 10 (drained)", res)
		}
		if c.broken {
			t.Error("the drained connection should stay usable")
		}
	}
}

func TestExecStoppedBeforeReply(t *testing.T) {
	// A kill that lands before the reply arrives: nothing is forwarded, the backend's
	// "interrupted" error is replaced by the gateway's.
	reply := pkt(1, errPayload(1317, "70100", "Query execution was interrupted")...)
	c, _ := testConn(t, Config{QueryTimeout: 1 << 40}, reply, 100)
	c.running = true
	c.reason.Store(reasonTimeout)
	c.parser.reset(replyQuery, false, false, nil)
	var w bytes.Buffer
	res, err := c.forward(&w, nil)
	if !errors.Is(err, errStopped) || w.Len() != 0 || res.Forwarded || res.NextSeq != 1 {
		t.Fatalf("forward = %+v, %v, %d bytes forwarded", res, err, w.Len())
	}
}

func TestPrepareReplyRewritesID(t *testing.T) {
	var reply []byte
	prepOK := []byte{0x00, 0x2a, 0, 0, 0, 1, 0, 2, 0, 0, 0, 0} // backend id 42, 1 column, 2 params
	reply = append(reply, pkt(1, prepOK...)...)
	reply = append(reply, pkt(2, colDef("?")...)...)
	reply = append(reply, pkt(3, colDef("?")...)...)
	reply = append(reply, pkt(4, eofPayload(0)...)...)
	reply = append(reply, pkt(5, colDef("c")...)...)
	reply = append(reply, pkt(6, eofPayload(2)...)...)
	for _, chunk := range []int{1, 1 << 20} {
		c, fb := testConn(t, Config{}, append([]byte(nil), reply...), chunk)
		var w bytes.Buffer
		params, cols, res, err := c.Prepare(context.Background(), "select ? + ?", 9, &w)
		if err != nil || params != 2 || cols != 1 || res.NextSeq != 7 {
			t.Fatalf("Prepare = %d, %d, %+v, %v", params, cols, res, err)
		}
		want := append([]byte(nil), reply...)
		binary.LittleEndian.PutUint32(want[5:9], 9)
		if !bytes.Equal(w.Bytes(), want) {
			t.Fatalf("forwarded % x\nwant % x", w.Bytes(), want)
		}
		if info, ok := c.stmts.get(stmtKey{"vt_test", "select ? + ?"}); !ok || info.id != 42 {
			t.Errorf("cache = %+v, %v; want backend id 42", info, ok)
		}
		wantCmd := pkt(0, append([]byte{mysql.COM_STMT_PREPARE}, "select ? + ?"...)...)
		if !bytes.Equal(fb.written.Bytes(), wantCmd) {
			t.Errorf("sent % x", fb.written.Bytes())
		}

		// Execute: the backend id goes into the payload; a binary row starts with 0x00.
		var exec []byte
		exec = append(exec, pkt(1, 1)...)
		exec = append(exec, pkt(2, colDef("c")...)...)
		exec = append(exec, pkt(3, eofPayload(0)...)...)
		exec = append(exec, pkt(4, 0x00, 0x00, 3)...)
		exec = append(exec, pkt(5, eofPayload(2)...)...)
		fb.chunkReader.data = exec
		fb.written.Reset()
		payload := []byte{mysql.COM_STMT_EXECUTE, 9, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 8, 0, 8, 0, 1, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0}
		w.Reset()
		res, err = c.ExecStmt(context.Background(), "select ? + ?", payload, nil, &Request{}, &w)
		if err != nil || res.Rows != 1 || !bytes.Equal(w.Bytes(), exec) {
			t.Fatalf("ExecStmt = %+v, %v", res, err)
		}
		if got := binary.LittleEndian.Uint32(fb.written.Bytes()[5:9]); got != 42 {
			t.Errorf("executed statement id %d, want 42", got)
		}
	}
}

func TestFieldListAndStatistics(t *testing.T) {
	var fl []byte
	fl = append(fl, pkt(1, colDef("a")...)...)
	fl = append(fl, pkt(2, colDef("b")...)...)
	fl = append(fl, pkt(3, eofPayload(2)...)...)
	c, _ := testConn(t, Config{}, fl, 4)
	var w bytes.Buffer
	res, err := c.Exec(context.Background(), &Request{Frame: append([]byte{0, 0, 0, 0, mysql.COM_FIELD_LIST}, "t\x00"...)}, &w)
	if err != nil || !bytes.Equal(w.Bytes(), fl) || res.NextSeq != 4 {
		t.Fatalf("field list: %+v, %v", res, err)
	}
	stat := pkt(1, []byte("Uptime: 5  Threads: 1")...)
	c, _ = testConn(t, Config{}, stat, 4)
	w.Reset()
	if _, err := c.Exec(context.Background(), &Request{Frame: []byte{0, 0, 0, 0, mysql.COM_STATISTICS}}, &w); err != nil || !bytes.Equal(w.Bytes(), stat) {
		t.Fatalf("statistics: %v", err)
	}
	c, _ = testConn(t, Config{}, nil, 4)
	if _, err := c.Exec(context.Background(), &Request{Frame: []byte{0, 0, 0, 0, mysql.COM_QUIT}}, &w); err == nil {
		t.Fatal("COM_QUIT accepted")
	}
}

func TestClientWriteError(t *testing.T) {
	rs, _ := resultSet(1, 3, 0)
	c, _ := testConn(t, Config{}, rs, 1<<20)
	_, err := c.Exec(context.Background(), &Request{Frame: queryFrame("x")}, failingWriter{})
	var cwe *ClientWriteError
	if !errors.As(err, &cwe) || !c.broken {
		t.Fatalf("err = %v (broken %v), want *ClientWriteError", err, c.broken)
	}
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, io.ErrClosedPipe }

func TestIsEnd(t *testing.T) {
	tests := []struct {
		first     byte
		length    int
		deprecate bool
		want      bool
	}{
		{0xFE, 5, false, true}, {0xFE, 1, false, true}, {0xFE, 8, false, true}, {0xFE, 9, false, false}, {0xFE, 100, false, false},
		{0x00, 5, false, false}, {0xFF, 5, false, false}, {0xFB, 1, false, false},
		// With DEPRECATE_EOF the end of rows is an OK with header 0xFE, of any size under the
		// maximum packet (it may carry session-state information).
		{0xFE, 7, true, true}, {0xFE, 100, true, true}, {0xFE, maxPayload - 1, true, true}, {0xFE, maxPayload, true, false},
		{0x00, 7, true, false},
	}
	for _, tt := range tests {
		p := replyParser{deprecateEOF: tt.deprecate}
		if got := p.isEnd(tt.first, tt.length); got != tt.want {
			t.Errorf("isEnd(%#x, %d, deprecate %v) = %v, want %v", tt.first, tt.length, tt.deprecate, got, tt.want)
		}
	}
}

func TestReadLenEnc(t *testing.T) {
	tests := []struct {
		in   []byte
		v    uint64
		size int
		ok   bool
	}{
		{[]byte{5}, 5, 1, true},
		{[]byte{0xFC, 0x2c, 0x01}, 300, 3, true},
		{[]byte{0xFD, 1, 0, 1}, 65537, 4, true},
		{[]byte{0xFE, 1, 0, 0, 0, 0, 0, 0, 0}, 1, 9, true},
		{[]byte{0xFC, 1}, 0, 0, false},
		{[]byte{0xFB}, 0, 0, false},
		{nil, 0, 0, false},
	}
	for _, tt := range tests {
		v, size, ok := readLenEnc(tt.in)
		if v != tt.v || size != tt.size || ok != tt.ok {
			t.Errorf("readLenEnc(% x) = %d, %d, %v", tt.in, v, size, ok)
		}
	}
}

func TestExecRowOfExactlyMaxPayload(t *testing.T) {
	// A row payload of exactly 2^24-1 bytes is followed by an empty continuation packet.
	row := make([]byte, maxPayload)
	row[0] = 0xFD
	n := maxPayload - 4
	row[1], row[2], row[3] = byte(n), byte(n>>8), byte(n>>16)
	var reply []byte
	reply = append(reply, pkt(1, 1)...)
	reply = append(reply, pkt(2, colDef("c")...)...)
	reply = append(reply, pkt(3, eofPayload(0)...)...)
	reply = append(reply, pkt(4, row...)...)
	reply = append(reply, pkt(5)...) // the empty tail
	reply = append(reply, pkt(6, textRow("next")...)...)
	reply = append(reply, pkt(7, eofPayload(2)...)...)
	c, _ := testConn(t, Config{}, reply, 100_000)
	var w bytes.Buffer
	res, err := c.Exec(context.Background(), &Request{Frame: queryFrame("x")}, &w)
	if err != nil || res.Rows != 2 || res.NextSeq != 8 || res.Status != 2 {
		t.Fatalf("Exec = %+v, %v", res, err)
	}
	if !bytes.Equal(w.Bytes(), reply) {
		t.Fatal("reply not forwarded verbatim")
	}
	if c.bufHigh != defaultBufSize {
		t.Errorf("buffer grew to %d", c.bufHigh)
	}
}

func TestStmtCacheEvictsLeastRecentlyUsed(t *testing.T) {
	const size = 8
	var s stmtCache
	s.init(size)
	add := func(q string, id uint32) (uint32, bool) {
		closeID, ok := s.makeRoom(stmtKey{"db", q})
		s.put(stmtKey{"db", q}, stmtInfo{id: id})
		return closeID, ok
	}
	for i := 0; i < size; i++ {
		if id, ok := add(string(rune('a'+i)), uint32(i+1)); ok {
			t.Fatalf("put %d closed statement %d", i, id)
		}
	}
	if _, ok := s.get(stmtKey{"db", "a"}); !ok { // now the most recently used
		t.Fatal("first statement missing")
	}
	if id, ok := add("new", 1000); !ok || id != 2 {
		t.Fatalf("evicted %d (%v), want statement 2 (the least recently used)", id, ok)
	}
	if len(s.m) != size {
		t.Errorf("cache holds %d", len(s.m))
	}
	// Re-preparing a cached query closes its old statement.
	if id, ok := add("new", 1001); !ok || id != 1000 {
		t.Errorf("replaced %d (%v), want 1000", id, ok)
	}
	if len(s.m) != size {
		t.Errorf("cache holds %d", len(s.m))
	}
	// The same text in another database is another statement.
	if _, ok := s.get(stmtKey{"other", "new"}); ok {
		t.Error("a statement of database db was found for database other")
	}
}

func TestHealthSame(t *testing.T) {
	base := Health{Reachable: true, Serving: true, Lag: time.Second}
	tests := []struct {
		name string
		h    Health
		same bool
	}{
		{"identical but probed later", Health{Reachable: true, Serving: true, Lag: time.Second, LastProbe: time.Now()}, true},
		{"lag", Health{Reachable: true, Serving: true, Lag: 2 * time.Second}, false},
		{"serving", Health{Reachable: true, Lag: time.Second}, false},
		{"error appears", Health{Reachable: true, Serving: true, Lag: time.Second, Err: io.EOF}, false},
	}
	for _, tt := range tests {
		if got := base.same(&tt.h); got != tt.same {
			t.Errorf("%s: same = %v", tt.name, got)
		}
	}
	a, b := Health{Err: errors.New("x")}, Health{Err: errors.New("x")}
	if !a.same(&b) {
		t.Error("equal error texts differ")
	}
}

func TestConfigDefaultsAndValidate(t *testing.T) {
	c := Config{}.withDefaults()
	if c.PoolSize != DefaultPoolSize || c.TxTimeout != DefaultTxTimeout || c.QueryTimeout != 0 {
		t.Errorf("defaults %+v", c)
	}
	if err := (Config{User: "u"}).Validate(); err != nil {
		t.Errorf("zero config: %v", err)
	}
	if err := (Config{User: "u", PoolSize: -1}).Validate(); err == nil {
		t.Error("negative PoolSize accepted")
	}
	if err := (Config{User: "u", PreparedStmtCacheSize: -1}).Validate(); err == nil {
		t.Error("negative PreparedStmtCacheSize accepted")
	}
	if c.PreparedStmtCacheSize != DefaultPreparedStmtCacheSize {
		t.Errorf("PreparedStmtCacheSize default %d", c.PreparedStmtCacheSize)
	}
	if err := (Config{}).Validate(); err == nil {
		t.Error("empty User accepted")
	}
	if got := (Config{IdleTimeout: time.Hour, TxTimeout: time.Second}).tick(); got != 100*time.Millisecond {
		t.Errorf("tick = %v", got)
	}
}

func TestTabletAddressing(t *testing.T) {
	tab := &topodatapb.Tablet{
		Alias: &topodatapb.TabletAlias{Cell: "zone1", Uid: 100}, Keyspace: "commerce",
		Hostname: "h", PortMap: map[string]int32{"mysql": 3306},
	}
	if got := aliasString(tab.Alias); got != "zone1-0000000100" {
		t.Errorf("alias %q", got)
	}
	if got := mysqlAddr(tab); got != "h:3306" {
		t.Errorf("addr %q", got)
	}
	if got := dbName(tab); got != "vt_commerce" {
		t.Errorf("db %q", got)
	}
	tab.MysqlHostname, tab.MysqlPort, tab.DbNameOverride = "127.0.0.1", 17100, "commerce"
	if mysqlAddr(tab) != "127.0.0.1:17100" || dbName(tab) != "commerce" {
		t.Errorf("overrides: %s %s", mysqlAddr(tab), dbName(tab))
	}
}

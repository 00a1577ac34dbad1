package mysqlserver

import (
	"bytes"
	"compress/zlib"
	"context"
	"database/sql"
	"errors"
	"io"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-mysql-org/go-mysql/mysql"
	driver "github.com/go-sql-driver/mysql"
)

// dialConn opens one client connection (its own pool) as user/pass and pings it.
func dialConn(t *testing.T, l *Listener, user, pass string) (*sql.DB, error) {
	t.Helper()
	db := openDB(t, l, user, pass, nil)
	return db, db.PingContext(t.Context())
}

func TestMaxConnections(t *testing.T) {
	l := startServer(t, Config{MaxConnections: 3}, newFakeHandler())
	var dbs []*sql.DB
	for range 3 {
		db, err := dialConn(t, l, "u", "p")
		if err != nil {
			t.Fatal(err)
		}
		dbs = append(dbs, db)
	}
	_, err := dialConn(t, l, "u", "p")
	if me := mysqlErr(t, err); me.Number != mysql.ER_CON_COUNT_ERROR || me.Message != "Too many connections" {
		t.Fatalf("4th connection: %v", err)
	}
	// The first three keep working; one leaving makes room.
	for _, db := range dbs {
		if _, err := db.ExecContext(t.Context(), "select 1"); err != nil {
			t.Fatal(err)
		}
	}
	dbs[0].Close()
	waitFor(t, "a connection to close", func() bool { return l.Stats().Connections == 2 })
	if _, err := dialConn(t, l, "u", "p"); err != nil {
		t.Fatalf("after one left: %v", err)
	}
	if st := l.Stats(); st.Refused["max_connections"] != 1 {
		t.Errorf("stats: %+v", st)
	}
}

// Many clients at once against the limit: exactly the limit get in, the others get 1040,
// nobody hangs.
func TestMaxConnectionsConcurrent(t *testing.T) {
	const limit, clients = 20, 100
	l := startServer(t, Config{MaxConnections: limit}, newFakeHandler())
	var mu sync.Mutex
	ok, refused := 0, 0
	var wg sync.WaitGroup
	hold := make(chan struct{})
	for range clients {
		wg.Go(func() {
			cfg := driver.NewConfig()
			cfg.User, cfg.Passwd, cfg.Net, cfg.Addr = "u", "p", "tcp", l.Addr().String()
			conn, err := driver.NewConnector(cfg)
			if err != nil {
				t.Error(err)
				return
			}
			c, err := conn.Connect(context.Background())
			mu.Lock()
			var me *driver.MySQLError
			switch {
			case err == nil:
				ok++
			case errors.As(err, &me) && me.Number == mysql.ER_CON_COUNT_ERROR:
				refused++
			default:
				t.Errorf("connect: %v", err)
			}
			mu.Unlock()
			if err == nil {
				<-hold
				c.Close()
			}
		})
	}
	waitFor(t, "every client to be answered", func() bool { mu.Lock(); defer mu.Unlock(); return ok+refused == clients })
	close(hold)
	wg.Wait()
	if ok != limit || refused != clients-limit {
		t.Fatalf("%d connected, %d refused; want %d and %d", ok, refused, limit, clients-limit)
	}
}

func TestMaxUserConnections(t *testing.T) {
	h := newFakeHandler()
	l := startServer(t, Config{MaxUserConnections: 2, UserMaxConnections: func(u string) int {
		if u == "empty" {
			return 1
		}
		return 0
	}}, h)
	for range 2 {
		if _, err := dialConn(t, l, "u", "p"); err != nil {
			t.Fatal(err)
		}
	}
	_, err := dialConn(t, l, "u", "p")
	if me := mysqlErr(t, err); me.Number != mysql.ER_TOO_MANY_USER_CONNECTIONS || !strings.Contains(me.Message, "User u already has more than 'max_user_connections'") {
		t.Fatalf("third connection of u: %v", err)
	}
	if _, err := dialConn(t, l, "empty", ""); err != nil {
		t.Fatal(err)
	}
	if me := mysqlErr(t, second(dialConn(t, l, "empty", ""))); me.Number != mysql.ER_TOO_MANY_USER_CONNECTIONS {
		t.Fatalf("second connection of empty (its own limit 1): %v", me)
	}
	if st := l.Stats(); st.Refused["max_user_connections"] != 2 {
		t.Errorf("stats: %+v", st)
	}
}

func second[T any](_ T, err error) error { return err }

func TestMaxPreparedStmts(t *testing.T) {
	l := startServer(t, Config{MaxPreparedStmts: 4}, newFakeHandler())
	r := dialRaw(t, l)
	r.login()
	for range 4 {
		r.prepare("SELECT ?", 1)
	}
	r.write(0, append([]byte{mysql.COM_STMT_PREPARE}, "SELECT ?"...))
	p := r.mustRead()
	expectErrPacket(t, p, mysql.ER_MAX_PREPARED_STMT_COUNT_REACHED, "42000")
	// Closing one makes room.
	r.write(0, appendUint32([]byte{mysql.COM_STMT_CLOSE}, 1))
	r.prepare("SELECT ?", 1)
}

// sendLongData sends one COM_STMT_SEND_LONG_DATA chunk (no reply).
func (r *rawClient) sendLongData(id uint32, param uint16, data []byte) {
	r.t.Helper()
	b := appendUint32([]byte{mysql.COM_STMT_SEND_LONG_DATA}, id)
	b = appendUint16(b, param)
	r.write(0, append(b, data...))
}

// execute runs a one-parameter statement whose parameter came as long data.
func (r *rawClient) execute(id uint32) []byte {
	r.t.Helper()
	b := appendUint32([]byte{mysql.COM_STMT_EXECUTE}, id)
	b = append(b, 0, 1, 0, 0, 0) // flags, iteration count
	b = append(b, 0, 1)          // null bitmap, new params bound
	b = append(b, mysql.MYSQL_TYPE_BLOB, 0)
	r.write(0, b)
	return r.mustRead()
}

// A connection's long data, over all its statements, stays within the budget: past it the
// data is dropped and the statement's next execution fails with 1153; executing frees it.
func TestSessionBudget(t *testing.T) {
	h := newFakeHandler()
	l := startServer(t, Config{SessionBudget: 1 << 20}, h)
	r := dialRaw(t, l)
	r.login()
	a, b := r.prepare("SELECT ?", 1), r.prepare("SELECT ? + 0", 1)
	piece := bytes.Repeat([]byte("x"), 600<<10)
	r.sendLongData(a, 0, piece)
	r.sendLongData(b, 0, piece) // 1.2 MiB in all: b's is dropped
	if p := r.execute(a); p[0] != mysql.OK_HEADER {
		t.Fatalf("execute a: %q", p)
	}
	if got := h.lastParams(t, 1)[0]; got != string(piece) {
		t.Fatalf("a's long data: %v", got)
	}
	p := r.execute(b)
	expectErrPacket(t, p, mysql.ER_NET_PACKET_TOO_LARGE, "")
	if e, _ := ParseErr(p); !strings.Contains(e.Message, "--mysql-server-session-budget") {
		t.Errorf("message: %q", e.Message)
	}
	// a's execution gave its bytes back: b may send again.
	r.sendLongData(b, 0, piece)
	if p := r.execute(b); p[0] != mysql.OK_HEADER {
		t.Fatalf("execute b again: %q", p)
	}
}

// All connections' long data together stay within TotalBudget: a second client's data past it
// is dropped (1153 naming the flag) although its own budget has room, and what a client kept
// is given back when it leaves.
func TestTotalBudget(t *testing.T) {
	h := newFakeHandler()
	l := startServer(t, Config{SessionBudget: 1 << 20, TotalBudget: 1 << 20}, h)
	piece := bytes.Repeat([]byte("y"), 600<<10)
	first := dialRaw(t, l)
	first.login()
	a := first.prepare("SELECT ?", 1)
	first.sendLongData(a, 0, piece)
	// COM_STMT_SEND_LONG_DATA has no reply: wait until the listener counts it.
	waitKept(t, l, func(n int64) bool { return n >= int64(len(piece)) })
	second := dialRaw(t, l)
	second.login()
	b := second.prepare("SELECT ?", 1)
	second.sendLongData(b, 0, piece)
	p := second.execute(b)
	expectErrPacket(t, p, mysql.ER_NET_PACKET_TOO_LARGE, "")
	if e, _ := ParseErr(p); !strings.Contains(e.Message, "--mysql-server-total-session-budget") {
		t.Errorf("message: %q", e.Message)
	}
	// The first client leaves with its long data unexecuted: its bytes come back.
	first.c.Close()
	waitKept(t, l, func(n int64) bool { return n == 0 })
	second.sendLongData(b, 0, piece)
	if p := second.execute(b); p[0] != mysql.OK_HEADER {
		t.Fatalf("execute after the first client left: %q", p)
	}
}

// waitKept waits until the listener's count of kept bytes satisfies ok.
func waitKept(t *testing.T, l *Listener, ok func(int64) bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !ok(l.kept.Load()) {
		if time.Now().After(deadline) {
			t.Fatalf("the listener counts %d kept bytes", l.kept.Load())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// What the handler retains counts against the same budget.
func TestRetainBudget(t *testing.T) {
	retain := make(chan bool, 1)
	h := &retainHandler{fakeHandler: newFakeHandler(), retain: retain}
	l := startServer(t, Config{SessionBudget: 1 << 20}, h)
	r := dialRaw(t, l)
	r.login()
	id := r.prepare("SELECT ?", 1)
	r.write(0, append([]byte{mysql.COM_QUERY}, "retain"...)) // the handler retains 900 KiB
	r.mustRead()
	if !<-retain {
		t.Fatal("900 KiB did not fit a 1 MiB budget")
	}
	r.sendLongData(id, 0, bytes.Repeat([]byte("x"), 200<<10))
	expectErrPacket(t, r.execute(id), mysql.ER_NET_PACKET_TOO_LARGE, "")
}

type retainHandler struct {
	*fakeHandler
	retain chan bool
}

func (h *retainHandler) ComQuery(c *Conn, cmd *Command) error {
	if string(cmd.Payload()[1:]) == "retain" {
		h.retain <- c.Retain(900 << 10)
		return c.WriteOK(0, 0, mysql.SERVER_STATUS_AUTOCOMMIT, 0)
	}
	return h.fakeHandler.ComQuery(c, cmd)
}

// A packet's buffer grows with the bytes that arrive, not to the size its header announces.
func TestPacketBufferGrowsAsBytesArrive(t *testing.T) {
	src := io.MultiReader(bytes.NewReader([]byte{0xff, 0xff, 0xfe, 0}), bytes.NewReader(make([]byte, 100)))
	p := newPacketReader(src, readBufSize)
	_, _, err := p.readPacket(0, 64<<20)
	if !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("err %v", err)
	}
	dst, err := readGrowing(bytes.NewReader(make([]byte, 100)), nil, 60<<20)
	if err == nil || cap(dst) > growStep {
		t.Fatalf("60 MiB announced, 100 bytes sent: cap %d, %v", cap(dst), err)
	}
	dst, err = readGrowing(bytes.NewReader(make([]byte, 5<<20)), nil, 5<<20)
	if err != nil || len(dst) != 5<<20 {
		t.Fatalf("5 MiB: %d, %v", len(dst), err)
	}
	// A compressed packet announcing 16 MiB that inflates to 10 bytes.
	var z bytes.Buffer
	zw := zlib.NewWriter(&z)
	zw.Write([]byte("0123456789"))
	zw.Close()
	zc := &compressedConn{pools: &zlibPools{}}
	out, err := zc.inflate(z.Bytes(), nil, 16<<20-1)
	if err == nil || cap(out) > growStep {
		t.Fatalf("inflate bomb: cap %d, %v", cap(out), err)
	}
}

func TestAuthFailureLimit(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	l := startServer(t, Config{AuthFailures: AuthFailureLimit{Burst: 3, Window: time.Minute}}, newFakeHandler(),
		func(l *Listener) { l.authLimit.now = clock })
	for i := range 3 {
		if me := mysqlErr(t, second(dialConn(t, l, "u", "wrong"))); me.Number != mysql.ER_ACCESS_DENIED_ERROR {
			t.Fatalf("failure %d: %v", i, me)
		}
	}
	// Blocked now, even with the right password.
	me := mysqlErr(t, second(dialConn(t, l, "u", "p")))
	if me.Number != mysql.ER_HOST_IS_BLOCKED || !strings.Contains(me.Message, "Host '127.0.0.1' is blocked") {
		t.Fatalf("blocked: %v", me)
	}
	advance(30 * time.Second) // half a window drains half the burst
	if _, err := dialConn(t, l, "u", "p"); err != nil {
		t.Fatalf("after 30s: %v", err)
	}
	_ = second(dialConn(t, l, "u", "wrong"))
	if me := mysqlErr(t, second(dialConn(t, l, "u", "p"))); me.Number != mysql.ER_HOST_IS_BLOCKED {
		t.Fatalf("one more failure blocks again: %v", me)
	}
	st := l.Stats()
	if st.AuthFailures != 4 || st.Refused["blocked_host"] != 2 {
		t.Errorf("stats: %+v", st)
	}
}

func TestAuthLimiterMemoryBounded(t *testing.T) {
	now := time.Unix(0, 0)
	a := authLimiter{limit: AuthFailureLimit{Burst: 5, Window: time.Minute}, now: func() time.Time { return now }}
	for i := range 3 * maxBuckets {
		a.failed(string(rune(i)))
		if i%maxBuckets == 0 {
			now = now.Add(time.Hour) // everything seen so far drains
		}
	}
	if len(a.buckets) > maxBuckets {
		t.Fatalf("%d addresses remembered, bound %d", len(a.buckets), maxBuckets)
	}
}

// With a 16 MiB budget, a client sending 1 MiB pieces to many statements (64 MiB offered) is
// refused past the budget, and the server's heap stays near the budget, not the offer.
func TestSessionBudgetBoundsMemory(t *testing.T) {
	const budget, piece, stmts = 16 << 20, 1 << 20, 64
	h := newFakeHandler()
	l := startServer(t, Config{SessionBudget: budget, MaxPacketSize: 4 << 20}, h)
	r := dialRaw(t, l)
	r.login()
	ids := make([]uint32, stmts)
	for i := range ids {
		ids[i] = r.prepare("SELECT ?", 1)
	}
	heap := func() uint64 {
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		return ms.HeapAlloc
	}
	before := heap()
	data := bytes.Repeat([]byte("y"), piece)
	for _, id := range ids {
		r.sendLongData(id, 0, data)
	}
	// The pieces have no reply: a round trip makes sure the server has read them all.
	r.write(0, []byte{mysql.COM_PING})
	if p := r.mustRead(); p[0] != mysql.OK_HEADER {
		t.Fatalf("ping: %q", p)
	}
	grown := int64(heap()) - int64(before)
	t.Logf("heap grew %.1f MiB for %d MiB offered, budget %d MiB", float64(grown)/(1<<20), stmts*piece>>20, budget>>20)
	if grown > 2*budget {
		t.Fatalf("heap grew %d bytes for a %d-byte budget", grown, budget)
	}
	kept, refused := 0, 0
	for _, id := range ids {
		p := r.execute(id)
		switch {
		case p[0] == mysql.OK_HEADER:
			kept++
		case p[0] == mysql.ERR_HEADER:
			expectErrPacket(t, p, mysql.ER_NET_PACKET_TOO_LARGE, "")
			refused++
		default:
			t.Fatalf("execute: %q", p)
		}
	}
	if kept > budget/piece || kept == 0 || kept+refused != stmts {
		t.Fatalf("%d executions kept their long data, %d refused; want at most %d kept", kept, refused, budget/piece)
	}
}

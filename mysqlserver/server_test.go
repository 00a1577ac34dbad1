package mysqlserver

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/binary"
	"errors"
	"math"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/go-mysql-org/go-mysql/mysql"
	driver "github.com/go-sql-driver/mysql"
)

// Component tests: the real go-sql-driver/mysql client against a Listener with a fake
// Handler.

func queryWhoami(t *testing.T, db *sql.DB) (user, dbName, collation, tlsOn, client, plugin, id string) {
	t.Helper()
	err := db.QueryRow("whoami").Scan(&user, &dbName, &collation, &tlsOn, &client, &plugin, &id)
	if err != nil {
		t.Fatalf("whoami: %v", err)
	}
	return
}

func TestDriverAuth(t *testing.T) {
	tlsCfg, _, _ := selfSignedTLS(t)
	clientTLS := skipVerify()
	cases := []struct {
		name       string
		server     Config
		user, pass string
		tweak      func(*driver.Config)
		wantPlugin string
		wantTLS    string
		wantCode   uint16 // 0 = success
	}{
		{name: "native", user: "u", pass: "p", wantPlugin: mysql.AUTH_NATIVE_PASSWORD, wantTLS: "false"},
		{name: "native empty password", user: "empty", pass: "", wantPlugin: mysql.AUTH_NATIVE_PASSWORD, wantTLS: "false"},
		{name: "native wrong password", user: "u", pass: "bad", wantCode: mysql.ER_ACCESS_DENIED_ERROR},
		{name: "native missing password", user: "u", pass: "", wantCode: mysql.ER_ACCESS_DENIED_ERROR},
		{name: "unknown user", user: "ghost", pass: "p", wantCode: mysql.ER_ACCESS_DENIED_ERROR},
		{name: "refused by handler", user: "refused", pass: "x", wantCode: mysql.ER_DBACCESS_DENIED_ERROR},
		{name: "sha2", server: Config{DefaultAuthPlugin: mysql.AUTH_CACHING_SHA2_PASSWORD}, user: "u", pass: "p",
			tweak: func(c *driver.Config) { c.AllowNativePasswords = false }, wantPlugin: mysql.AUTH_CACHING_SHA2_PASSWORD, wantTLS: "false"},
		{name: "sha2 empty password", server: Config{DefaultAuthPlugin: mysql.AUTH_CACHING_SHA2_PASSWORD}, user: "empty", pass: "",
			wantPlugin: mysql.AUTH_CACHING_SHA2_PASSWORD, wantTLS: "false"},
		{name: "sha2 wrong password", server: Config{DefaultAuthPlugin: mysql.AUTH_CACHING_SHA2_PASSWORD}, user: "u", pass: "bad",
			wantCode: mysql.ER_ACCESS_DENIED_ERROR},
		{name: "tls native", server: Config{TLSConfig: tlsCfg}, user: "u", pass: "p",
			tweak: func(c *driver.Config) { c.TLS = clientTLS }, wantPlugin: mysql.AUTH_NATIVE_PASSWORD, wantTLS: "true"},
		{name: "tls sha2", server: Config{TLSConfig: tlsCfg, DefaultAuthPlugin: mysql.AUTH_CACHING_SHA2_PASSWORD}, user: "u", pass: "p",
			tweak: func(c *driver.Config) { c.TLS = clientTLS }, wantPlugin: mysql.AUTH_CACHING_SHA2_PASSWORD, wantTLS: "true"},
		{name: "tls offered, plaintext client", server: Config{TLSConfig: tlsCfg}, user: "u", pass: "p",
			wantPlugin: mysql.AUTH_NATIVE_PASSWORD, wantTLS: "false"},
		{name: "tls required, plaintext client", server: Config{TLSConfig: tlsCfg, RequireTLS: true}, user: "u", pass: "p",
			wantCode: erSecureTransportRequired},
		{name: "tls required", server: Config{TLSConfig: tlsCfg, RequireTLS: true}, user: "u", pass: "p",
			tweak: func(c *driver.Config) { c.TLS = clientTLS }, wantPlugin: mysql.AUTH_NATIVE_PASSWORD, wantTLS: "true"},
		{name: "no auth", server: Config{InsecureNoAuth: true}, user: "anyone", pass: "whatever",
			wantPlugin: mysql.AUTH_NATIVE_PASSWORD, wantTLS: "false"},
		{name: "no auth sha2", server: Config{InsecureNoAuth: true, DefaultAuthPlugin: mysql.AUTH_CACHING_SHA2_PASSWORD}, user: "anyone", pass: "whatever",
			wantPlugin: mysql.AUTH_CACHING_SHA2_PASSWORD, wantTLS: "false"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newFakeHandler()
			l := startServer(t, tc.server, h)
			db := openDB(t, l, tc.user, tc.pass, func(c *driver.Config) {
				c.DBName = "commerce@replica"
				if tc.tweak != nil {
					tc.tweak(c)
				}
			})
			err := db.Ping()
			if tc.wantCode != 0 {
				me := mysqlErr(t, err)
				if me.Number != tc.wantCode {
					t.Fatalf("error %d %q, want %d", me.Number, me.Message, tc.wantCode)
				}
				if tc.wantCode == mysql.ER_ACCESS_DENIED_ERROR {
					want := "Access denied for user '" + tc.user + "'@'127.0.0.1' (using password: "
					if !strings.HasPrefix(me.Message, want) || string(me.SQLState[:]) != "28000" {
						t.Fatalf("message %q state %s, want prefix %q and 28000", me.Message, me.SQLState, want)
					}
				}
				return
			}
			if err != nil {
				t.Fatalf("ping: %v", err)
			}
			user, dbName, coll, tlsOn, client, plugin, _ := queryWhoami(t, db)
			if user != tc.user || dbName != "commerce@replica" || coll != "45" || client != "Go-MySQL-Driver" ||
				plugin != tc.wantPlugin || tlsOn != tc.wantTLS {
				t.Fatalf("whoami = %q %q %q tls=%q %q %q", user, dbName, coll, tlsOn, client, plugin)
			}
		})
	}
}

func TestCachingSha2FullAuthOverTLS(t *testing.T) {
	tlsCfg, _, _ := selfSignedTLS(t)
	for _, tc := range []struct {
		pass string
		ok   bool
	}{{"p", true}, {"bad", false}} {
		h := newFakeHandler()
		l := startServer(t, Config{TLSConfig: tlsCfg, DefaultAuthPlugin: mysql.AUTH_CACHING_SHA2_PASSWORD}, h, withFullAuth(true))
		db := openDB(t, l, "u", tc.pass, func(c *driver.Config) { c.TLS = skipVerify() })
		err := db.Ping()
		if tc.ok && err != nil {
			t.Fatalf("full auth with the right password: %v", err)
		}
		if !tc.ok && mysqlErr(t, err).Number != mysql.ER_ACCESS_DENIED_ERROR {
			t.Fatalf("full auth with a wrong password: %v", err)
		}
	}
}

func TestDriverQueries(t *testing.T) {
	h := newFakeHandler()
	l := startServer(t, Config{}, h)
	db := openDB(t, l, "u", "p", nil)

	var one int
	if err := db.QueryRow("select 1").Scan(&one); err != nil || one != 1 {
		t.Fatalf("select 1 = %d, %v", one, err)
	}

	rows, err := db.Query("nulls")
	if err != nil {
		t.Fatal(err)
	}
	types, _ := rows.ColumnTypes()
	if len(types) != 3 || types[0].Name() != "a" || types[0].DatabaseTypeName() != "VARCHAR" {
		t.Fatalf("column types %v", types)
	}
	var got [][3]sql.NullString
	for rows.Next() {
		var r [3]sql.NullString
		if err := rows.Scan(&r[0], &r[1], &r[2]); err != nil {
			t.Fatal(err)
		}
		got = append(got, r)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	want := [][3]sql.NullString{
		{{String: "x", Valid: true}, {}, {String: "", Valid: true}},
		{{}, {String: "y", Valid: true}, {}},
	}
	if len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
		t.Fatalf("rows %v, want %v", got, want)
	}

	res, err := db.Exec("update something")
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		t.Fatalf("affected %d", n)
	}
	if id, _ := res.LastInsertId(); id != 2 {
		t.Fatalf("insert id %d", id)
	}

	me := mysqlErr(t, db.QueryRow("fail").Scan(&one))
	if me.Number != 1064 || string(me.SQLState[:]) != "42000" {
		t.Fatalf("fail: %v", me)
	}
	// The connection survives an error reply.
	if err := db.Ping(); err != nil {
		t.Fatal(err)
	}
}

// decodeParams decodes a normalised COM_STMT_EXECUTE frame into Go values.
// decodeParams decodes the parameters of a normalised COM_STMT_EXECUTE frame; long holds
// the long data the handler got (nil: none), which stands for the parameters left out.
func decodeParams(t *testing.T, frame []byte, n int, long [][]byte) []any {
	t.Helper()
	payload := frame[4:]
	if got := int(frame[0]) | int(frame[1])<<8 | int(frame[2])<<16; got != len(payload) || frame[3] != 0 {
		t.Fatalf("frame header says %d bytes seq %d, payload has %d", got, frame[3], len(payload))
	}
	if payload[5] != 0 || binary.LittleEndian.Uint32(payload[6:]) != 1 {
		t.Fatalf("flags %d iterations %d, want 0 and 1", payload[5], binary.LittleEndian.Uint32(payload[6:]))
	}
	r, err := parseExecute(payload, n, nil, long, nil)
	if err != nil {
		t.Fatalf("normalised payload does not parse: %v", err)
	}
	if n > 0 && !r.newBound {
		t.Fatal("normalised payload without types")
	}
	out := make([]any, n)
	for i, v := range r.values {
		b := payload[v.start:v.end]
		if long != nil && long[i] != nil {
			if r.nullBitmap[i/8]&(1<<(i%8)) != 0 || v.end != v.start {
				t.Fatalf("param %d has long data, and a null bit or a value in the execute", i)
			}
			out[i] = string(long[i])
			continue
		}
		if r.nullBitmap[i/8]&(1<<(i%8)) != 0 {
			continue
		}
		switch typ := r.types[2*i]; typ {
		case mysql.MYSQL_TYPE_LONGLONG:
			out[i] = int64(binary.LittleEndian.Uint64(b))
		case mysql.MYSQL_TYPE_DOUBLE:
			out[i] = math.Float64frombits(binary.LittleEndian.Uint64(b))
		case mysql.MYSQL_TYPE_TINY:
			out[i] = b[0]
		default:
			s, _, ok := readLenEncString(b)
			if !ok || !isLenEncType(typ) {
				t.Fatalf("param %d type %d: bad value", i, typ)
			}
			out[i] = string(s)
		}
	}
	return out
}

func TestDriverPreparedStatements(t *testing.T) {
	h := newFakeHandler()
	l := startServer(t, Config{}, h)
	// A small max_allowed_packet makes the driver send big arguments as long data.
	db := openDB(t, l, "u", "p", func(c *driver.Config) { c.MaxAllowedPacket = 4 << 20 })

	long := bytes.Repeat([]byte("0123456789abcdef"), (3<<20)/2/16) // 1.5 MiB
	args := []any{int64(-42), 3.5, "hello", nil, long, true, ""}
	if _, err := db.Exec("insert ? ? ? ? ? ? ?", args...); err != nil {
		t.Fatalf("exec: %v", err)
	}
	got := h.lastParams(t, len(args))
	want := []any{int64(-42), 3.5, "hello", nil, string(long), byte(1), ""}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("param %d = %.40v, want %.40v", i, got[i], want[i])
		}
	}

	// A prepared statement used twice: long data is per execution, types are remembered.
	st, err := db.Prepare("update ? ?")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Exec(long, int64(7)); err != nil {
		t.Fatal(err)
	}
	if got := h.lastParams(t, 2); got[0] != string(long) || got[1] != int64(7) {
		t.Fatalf("first execution: %.40v", got)
	}
	if _, err := st.Exec("short", nil); err != nil {
		t.Fatal(err)
	}
	if got := h.lastParams(t, 2); got[0] != "short" || got[1] != nil {
		t.Fatalf("second execution: %.40v", got)
	}
	frame := h.lastExecute(t)
	stmtID := binary.LittleEndian.Uint32(frame[5:])
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	if err := db.Ping(); err != nil { // COM_STMT_CLOSE has no reply: a round trip orders it
		t.Fatal(err)
	}
	h.mu.Lock()
	closed := append([]uint32(nil), h.stmtClose...)
	h.mu.Unlock()
	if len(closed) < 2 || closed[len(closed)-1] != stmtID {
		t.Fatalf("ComStmtClose calls %v, want the last to be %d", closed, stmtID)
	}

	// A failed prepare is not kept, and the connection stays usable.
	if _, err := db.Prepare("bad ?"); mysqlErr(t, err).Number != 1064 {
		t.Fatalf("prepare bad: %v", err)
	}
	if err := db.Ping(); err != nil {
		t.Fatal(err)
	}
}

func TestDriverOversizedPacket(t *testing.T) {
	h := newFakeHandler()
	l := startServer(t, Config{MaxPacketSize: 1 << 20}, h)
	db := openDB(t, l, "u", "p", nil)
	if _, err := db.Exec("big " + strings.Repeat("x", 1<<20-5)); err != nil {
		t.Fatalf("a query of exactly the limit: %v", err)
	}
	_, err := db.Exec("big " + strings.Repeat("x", 2<<20))
	if me := mysqlErr(t, err); me.Number != mysql.ER_NET_PACKET_TOO_LARGE || string(me.SQLState[:]) != "08S01" {
		t.Fatalf("oversized: %v", me)
	}
	// The connection was closed (the driver only notices on next use); the server still serves.
	if err := openDB(t, l, "u", "p", nil).Ping(); err != nil {
		t.Fatal(err)
	}
}

func TestKillViaClose(t *testing.T) {
	h := newFakeHandler()
	l := startServer(t, Config{}, h)
	db := openDB(t, l, "u", "p", nil)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	queryErr := make(chan error, 1) // the blocked query's result
	go func() {
		_, err := conn.ExecContext(ctx, "sleep")
		queryErr <- err
	}()
	c := <-h.sleeping
	c.Close() // what KILL does, from another goroutine
	if err := <-queryErr; err == nil {
		t.Fatal("query of a killed connection succeeded")
	}
	close(h.release)
	waitFor(t, "ConnectionClosed", func() bool {
		h.mu.Lock()
		defer h.mu.Unlock()
		return len(h.closed) == 1 && h.closed[0] == c.ID()
	})
}

func TestListenerCloseClosesClients(t *testing.T) {
	h := newFakeHandler()
	ln := startServer(t, Config{}, h)
	db := openDB(t, ln, "u", "p", nil)
	ctx := context.Background()
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if err := conn.PingContext(ctx); err != nil {
		t.Fatal(err)
	}
	if err := ln.Close(); err != nil {
		t.Fatal(err)
	}
	h.mu.Lock()
	open, closed := len(h.conns), len(h.closed)
	h.mu.Unlock()
	if open != 0 || closed != 1 {
		t.Fatalf("after Close: %d open, %d closed", open, closed)
	}
	if err := conn.PingContext(ctx); err == nil {
		t.Fatal("ping after Listener.Close succeeded")
	}
}

func TestConnectionIDsUnique(t *testing.T) {
	h := newFakeHandler()
	l1 := startServer(t, Config{}, h)
	l2 := startServer(t, Config{}, h)
	seen := map[string]bool{}
	for _, l := range []*Listener{l1, l2, l1} {
		db := openDB(t, l, "u", "p", nil)
		_, _, _, _, _, _, id := queryWhoami(t, db)
		if seen[id] || id == "0" {
			t.Fatalf("connection id %s reused", id)
		}
		seen[id] = true
		db.Close()
	}
}

// TestWriteTimeoutDisconnectsAStalledClient: a client that stops reading its result is
// disconnected after WriteTimeout instead of holding the session forever.
func TestWriteTimeoutDisconnectsAStalledClient(t *testing.T) {
	h := newFakeHandler()
	l := startServer(t, Config{InsecureNoAuth: true, WriteTimeout: 300 * time.Millisecond}, h)
	db, err := sql.Open("mysql", "u@tcp("+l.Addr().String()+")/")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query("flood") // reads the column definitions, then stops reading
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	select {
	case err := <-h.flooded:
		if err == nil || !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("write ended with %v, want a deadline error", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the write to a client that stopped reading never timed out")
	}
}

package mysqlserver

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/go-mysql-org/go-mysql/mysql"
)

// rawClient speaks the protocol byte by byte, to send what real clients never do.
type rawClient struct {
	t     *testing.T
	c     net.Conn
	nonce []byte
}

func dialRaw(t *testing.T, l *Listener) *rawClient {
	t.Helper()
	c, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	_ = c.SetDeadline(time.Now().Add(20 * time.Second))
	t.Cleanup(func() { _ = c.Close() })
	return &rawClient{t: t, c: c}
}

// read returns the next packet's payload and sequence id; io.EOF when the server closed.
func (r *rawClient) read() ([]byte, uint8, error) {
	var hdr [4]byte
	if _, err := io.ReadFull(r.c, hdr[:]); err != nil {
		return nil, 0, err
	}
	n := int(hdr[0]) | int(hdr[1])<<8 | int(hdr[2])<<16
	p := make([]byte, n)
	if _, err := io.ReadFull(r.c, p); err != nil {
		return nil, 0, err
	}
	return p, hdr[3], nil
}

func (r *rawClient) mustRead() []byte {
	r.t.Helper()
	p, _, err := r.read()
	if err != nil {
		r.t.Fatalf("read: %v", err)
	}
	return p
}

func (r *rawClient) write(seq uint8, payload []byte) {
	r.t.Helper()
	if err := WritePacket(r.c, seq, payload); err != nil {
		r.t.Fatalf("write: %v", err)
	}
}

// greeting reads the server's handshake and keeps the nonce.
func (r *rawClient) greeting() {
	r.t.Helper()
	p := r.mustRead()
	if p[0] != 10 {
		r.t.Fatalf("protocol version %d", p[0])
	}
	v := bytes.IndexByte(p, 0)
	part1 := p[v+5 : v+13]
	rest := p[v+13+1+2+1+2+2+1+10:]
	r.nonce = append(append([]byte(nil), part1...), rest[:12]...)
}

// buildHandshakeResponse builds a HandshakeResponse41 with a native password scramble.
func buildHandshakeResponse(caps uint32, user, pass string, nonce []byte, db string) []byte {
	b := appendUint32(nil, caps)
	b = appendUint32(b, 1<<24)
	b = append(b, 45)
	b = append(b, make([]byte, 23)...)
	b = append(append(b, user...), 0)
	b = appendLenEncString(b, mysql.CalcPassword(nonce, []byte(pass)))
	b = append(append(b, db...), 0)
	b = append(append(b, mysql.AUTH_NATIVE_PASSWORD...), 0)
	attrs := appendLenEncStr(appendLenEncStr(nil, "_client_name"), "raw")
	return appendLenEncString(b, attrs)
}

// rawCaps are the raw client's capabilities: the reply formats of old clients (EOF packets,
// no session tracking, no compression).
const rawCaps = LegacyCapabilities &^ mysql.CLIENT_COMPRESS

// login authenticates as u/p with mysql_native_password.
func (r *rawClient) login() {
	r.t.Helper()
	r.greeting()
	r.write(1, buildHandshakeResponse(rawCaps, "u", "p", r.nonce, "db"))
	if p := r.mustRead(); p[0] != mysql.OK_HEADER {
		r.t.Fatalf("login: %q", p)
	}
}

// command sends a command at sequence 0 and returns the first reply packet.
func (r *rawClient) command(payload ...byte) []byte {
	r.t.Helper()
	r.write(0, payload)
	return r.mustRead()
}

func expectErrPacket(t *testing.T, p []byte, code uint16, state string) {
	t.Helper()
	e, err := ParseErr(p)
	if err != nil {
		t.Fatalf("want ERR %d, got %q", code, p)
	}
	if e.Code != code || (state != "" && e.State != state) {
		t.Fatalf("got ERR %d %s %q, want %d %s", e.Code, e.State, e.Message, code, state)
	}
}

// expectClosed reads until the server closes, failing on anything but EOF or reset.
func (r *rawClient) expectClosed() {
	r.t.Helper()
	for {
		_, _, err := r.read()
		if err == nil {
			continue
		}
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			r.t.Fatal("server did not close the connection")
		}
		return
	}
}

func TestRawHandshakeGarbage(t *testing.T) {
	h := newFakeHandler()
	l := startServer(t, Config{}, h)
	cases := []struct {
		name string
		send func(r *rawClient)
		code uint16 // expected ERR before the close; 0 = just closed
	}{
		{"random bytes", func(r *rawClient) { _, _ = r.c.Write([]byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n")) }, 0},
		{"huge header", func(r *rawClient) { _, _ = r.c.Write([]byte{0xff, 0xff, 0xff, 1}) }, mysql.ER_HANDSHAKE_ERROR},
		{"wrong sequence", func(r *rawClient) { r.write(0, buildHandshakeResponse(rawCaps, "u", "p", r.nonce, "")) }, mysql.ER_NET_PACKETS_OUT_OF_ORDER},
		{"short response", func(r *rawClient) { r.write(1, []byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}) }, mysql.ER_HANDSHAKE_ERROR},
		{"truncated response", func(r *rawClient) {
			p := buildHandshakeResponse(rawCaps, "u", "p", r.nonce, "")
			r.write(1, p[:40])
		}, mysql.ER_HANDSHAKE_ERROR},
		{"protocol 320", func(r *rawClient) {
			r.write(1, buildHandshakeResponse(rawCaps&^mysql.CLIENT_PROTOCOL_41, "u", "p", r.nonce, ""))
		}, mysql.ER_HANDSHAKE_ERROR},
		{"ssl request without tls", func(r *rawClient) {
			r.write(1, buildHandshakeResponse(rawCaps|mysql.CLIENT_SSL, "u", "p", r.nonce, "")[:32])
		}, mysql.ER_HANDSHAKE_ERROR},
		{"half a header", func(r *rawClient) { _, _ = r.c.Write([]byte{5, 0}); _ = r.c.(*net.TCPConn).CloseWrite() }, 0},
		{"wrong password", func(r *rawClient) { r.write(1, buildHandshakeResponse(rawCaps, "u", "no", r.nonce, "")) }, mysql.ER_ACCESS_DENIED_ERROR},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := dialRaw(t, l)
			r.greeting()
			tc.send(r)
			if tc.code != 0 {
				p, _, err := r.read()
				if err != nil {
					t.Fatalf("want ERR %d, got %v", tc.code, err)
				}
				expectErrPacket(t, p, tc.code, "")
			}
			r.expectClosed()
		})
	}
	// Nothing above disturbed the server.
	r := dialRaw(t, l)
	r.login()
	if p := r.command(mysql.COM_PING); p[0] != mysql.OK_HEADER {
		t.Fatalf("ping: %q", p)
	}
}

func TestRawCommands(t *testing.T) {
	h := newFakeHandler()
	l := startServer(t, Config{}, h)
	r := dialRaw(t, l)
	r.login()
	ok := func(p []byte) {
		t.Helper()
		if _, err := ParseOK(p, rawCaps); err != nil || p[0] != mysql.OK_HEADER {
			t.Fatalf("want OK, got %q", p)
		}
	}
	expectErrPacket(t, r.command(), mysql.ER_UNKNOWN_COM_ERROR, "08S01")
	expectErrPacket(t, r.command(mysql.COM_STMT_FETCH, 1, 0, 0, 0, 1, 0, 0, 0), mysql.ER_UNKNOWN_COM_ERROR, "08S01")
	expectErrPacket(t, r.command(0xee), mysql.ER_UNKNOWN_COM_ERROR, "08S01")
	expectErrPacket(t, r.command(mysql.COM_CHANGE_USER, 'x'), erMalformedPacket, "")
	expectErrPacket(t, r.command(mysql.COM_STMT_EXECUTE, 9, 0, 0, 0, 0, 1, 0, 0, 0), mysql.ER_UNKNOWN_STMT_HANDLER, "HY000")
	expectErrPacket(t, r.command(mysql.COM_STMT_EXECUTE, 9), mysql.ER_UNKNOWN_STMT_HANDLER, "HY000")
	expectErrPacket(t, r.command(mysql.COM_STMT_RESET, 9, 0, 0, 0), mysql.ER_UNKNOWN_STMT_HANDLER, "HY000")
	r.write(0, []byte{mysql.COM_STMT_CLOSE, 9, 0, 0, 0})             // unknown: no reply
	r.write(0, []byte{mysql.COM_STMT_SEND_LONG_DATA, 9, 0, 0, 0, 0}) // unknown: no reply
	r.write(0, []byte{mysql.COM_STMT_CLOSE})                         // truncated: no reply
	ok(r.command(mysql.COM_PING))
	ok(r.command(append([]byte{mysql.COM_INIT_DB}, "commerce"...)...))
	expectErrPacket(t, r.command(append([]byte{mysql.COM_INIT_DB}, "nope"...)...), mysql.ER_BAD_DB_ERROR, "")
	if p := r.command(append([]byte{mysql.COM_FIELD_LIST}, "t\x00"...)...); p[0] != mysql.EOF_HEADER {
		t.Fatalf("field list: %q", p)
	}
	ok(r.command(mysql.COM_RESET_CONNECTION))
	h.mu.Lock()
	if h.resets != 1 || h.initDB[0] != "commerce" {
		t.Errorf("resets %d initDB %q", h.resets, h.initDB)
	}
	h.mu.Unlock()

	// A command of more than 16 MiB arrives in two packets and is reassembled.
	q := append([]byte{mysql.COM_QUERY}, "big "...)
	q = append(q, bytes.Repeat([]byte{'y'}, maxPayloadLen+10)...)
	okp, err := ParseOK(r.command(q...), rawCaps)
	if err != nil || okp.AffectedRows != uint64(len(q)-1) {
		t.Fatalf("big query: %+v %v", okp, err)
	}

	// Out-of-order: a command must start at sequence 0.
	r.write(3, []byte{mysql.COM_PING})
	p, _, err := r.read()
	if err != nil {
		t.Fatal(err)
	}
	expectErrPacket(t, p, mysql.ER_NET_PACKETS_OUT_OF_ORDER, "08S01")
	r.expectClosed()

	// COM_QUIT closes without a reply.
	r = dialRaw(t, l)
	r.login()
	r.write(0, []byte{mysql.COM_QUIT})
	r.expectClosed()
}

func TestRawOversized(t *testing.T) {
	h := newFakeHandler()
	l := startServer(t, Config{MaxPacketSize: 4096}, h)
	r := dialRaw(t, l)
	r.login()
	q := append([]byte{mysql.COM_QUERY}, strings.Repeat("z", 5000)...)
	r.write(0, q)
	p, seq, err := r.read()
	if err != nil {
		t.Fatal(err)
	}
	if seq != 1 {
		t.Errorf("ERR at sequence %d, want 1", seq)
	}
	expectErrPacket(t, p, mysql.ER_NET_PACKET_TOO_LARGE, "08S01")
	r.expectClosed()
}

// prepare prepares query on r and returns the statement id, reading the whole reply.
func (r *rawClient) prepare(query string, params int) uint32 {
	r.t.Helper()
	p := r.command(append([]byte{mysql.COM_STMT_PREPARE}, query...)...)
	if p[0] != 0 || int(binary.LittleEndian.Uint16(p[7:])) != params {
		r.t.Fatalf("prepare: %q", p)
	}
	for range params {
		r.mustRead()
	}
	if params > 0 {
		if p := r.mustRead(); p[0] != mysql.EOF_HEADER {
			r.t.Fatalf("prepare: want EOF after params, got %q", p)
		}
	}
	return binary.LittleEndian.Uint32(p[1:])
}

func TestRawPreparedStatements(t *testing.T) {
	h := newFakeHandler()
	l := startServer(t, Config{}, h)
	r := dialRaw(t, l)
	r.login()
	id := r.prepare("x ? ?", 2)
	idb := appendUint32(nil, id)
	execute := func(flags byte, iter uint32, rest ...byte) []byte {
		b := append([]byte{mysql.COM_STMT_EXECUTE}, idb...)
		b = append(b, flags)
		b = appendUint32(b, iter)
		return append(b, rest...)
	}
	longData := func(param uint16, data string) {
		b := append([]byte{mysql.COM_STMT_SEND_LONG_DATA}, idb...)
		b = appendUint16(b, param)
		r.write(0, append(b, data...))
	}
	want := func(name string, wantVals []any) {
		t.Helper()
		frame := h.lastExecute(t)
		got := h.lastParams(t, 2)
		if binary.LittleEndian.Uint32(frame[5:]) != id {
			t.Fatalf("%s: statement id %d, want %d", name, binary.LittleEndian.Uint32(frame[5:]), id)
		}
		for i := range wantVals {
			if got[i] != wantVals[i] {
				t.Fatalf("%s: params %v, want %v", name, got, wantVals)
			}
		}
	}
	seven := []byte{7, 0, 0, 0, 0, 0, 0, 0}
	types := []byte{mysql.MYSQL_TYPE_BLOB, 0, mysql.MYSQL_TYPE_LONGLONG, 0}

	// Long data for parameter 0, in two chunks; its value is not in the execute packet.
	longData(0, "ab")
	longData(0, "cd")
	p := r.command(execute(0, 1, append(append([]byte{0, 1}, types...), seven...)...)...)
	if p[0] != mysql.OK_HEADER {
		t.Fatalf("execute: %q", p)
	}
	want("long data", []any{"abcd", int64(7)})

	// Types remembered (new-params-bound = 0); a cursor flag and an iteration count are cleared.
	r.command(execute(1, 5, append(append([]byte{0, 0}, 2, 'x', 'y'), seven...)...)...)
	want("remembered types", []any{"xy", int64(7)})

	// NULL parameter 0, new types; parameter 1 (LONGLONG) has empty long data.
	longData(1, "")
	r.command(execute(0, 1, 0b01, 1, mysql.MYSQL_TYPE_NULL, 0, mysql.MYSQL_TYPE_LONGLONG, 0)...)
	want("null and empty long data", []any{nil, ""})

	// COM_STMT_RESET forgets long data.
	longData(0, "zzz")
	if p := r.command(mysql.COM_STMT_RESET, idb[0], idb[1], idb[2], idb[3]); p[0] != mysql.OK_HEADER {
		t.Fatalf("reset: %q", p)
	}
	expectErrPacket(t, r.command(execute(0, 1, 0, 0)...), mysql.ER_WRONG_ARGUMENTS, "") // parameter 1 has no value now

	// Long data for a parameter out of range fails the next execution only.
	longData(9, "x")
	expectErrPacket(t, r.command(execute(0, 1, 0, 1)...), mysql.ER_WRONG_ARGUMENTS, "")
	r.command(execute(0, 1, append(append([]byte{0, 1}, types...), 1, 'q', 1, 0, 0, 0, 0, 0, 0, 0)...)...)
	want("after an error", []any{"q", int64(1)})

	// Malformed executions get errors and the connection lives on.
	for _, bad := range [][]byte{
		execute(0, 1), // no null bitmap
		execute(0, 1, 0, 1, mysql.MYSQL_TYPE_BLOB),                                          // types truncated
		execute(0, 1, 0, 1, 0x42, 0, 0x42, 0, 1, 2),                                         // unknown types
		execute(0, 1, 0, 1, mysql.MYSQL_TYPE_BLOB, 0, mysql.MYSQL_TYPE_LONGLONG, 0, 5, 'a'), // truncated value
		execute(0, 1, 0, 1, mysql.MYSQL_TYPE_DATE, 0, mysql.MYSQL_TYPE_TIME, 0, 4, 1),       // truncated date
		{mysql.COM_STMT_EXECUTE, idb[0], idb[1], idb[2], idb[3], 0},                         // no iteration count
	} {
		expectErrPacket(t, r.command(bad...), mysql.ER_WRONG_ARGUMENTS, "")
	}

	// A failed prepare is forgotten: its id is unknown.
	p = r.command(append([]byte{mysql.COM_STMT_PREPARE}, "bad"...)...)
	expectErrPacket(t, p, 1064, "42000")
	expectErrPacket(t, r.command(mysql.COM_STMT_EXECUTE, byte(id+1), 0, 0, 0, 0, 1, 0, 0, 0), mysql.ER_UNKNOWN_STMT_HANDLER, "")

	// COM_STMT_CLOSE forgets the statement and tells the handler; COM_RESET_CONNECTION closes the rest.
	id2 := r.prepare("y", 0)
	r.write(0, []byte{mysql.COM_STMT_CLOSE, idb[0], idb[1], idb[2], idb[3]})
	expectErrPacket(t, r.command(execute(0, 1, 0, 0)...), mysql.ER_UNKNOWN_STMT_HANDLER, "")
	r.command(mysql.COM_STMT_EXECUTE, byte(id2), 0, 0, 0, 0, 1, 0, 0, 0)
	r.command(mysql.COM_RESET_CONNECTION)
	h.mu.Lock()
	closed := h.stmtClose
	h.mu.Unlock()
	if len(closed) != 2 || closed[0] != id || closed[1] != id2 {
		t.Fatalf("closed statements %v, want [%d %d]", closed, id, id2)
	}
}

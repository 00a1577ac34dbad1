package mysqlserver

import (
	"bytes"
	"crypto/sha1"
	"fmt"
	"io"
	"net"
	"testing"
	"time"

	"github.com/go-mysql-org/go-mysql/mysql"
)

// loopConn replays one packet per Read forever and discards writes: the read + reply path
// without the kernel.
type loopConn struct {
	net.Conn
	packet    []byte
	deadlines int // SetReadDeadline calls
}

func (c *loopConn) Read(p []byte) (int, error)  { return copy(p, c.packet), nil }
func (c *loopConn) Write(p []byte) (int, error) { return len(p), nil }
func (c *loopConn) SetReadDeadline(time.Time) error {
	c.deadlines++
	return nil
}

// okHandler answers every query with OK, as cheaply as a handler can.
type okHandler struct{ *fakeHandler }

func (*okHandler) ComQuery(c *Conn, cmd *Command) error {
	return c.WriteOK(1, 0, mysql.SERVER_STATUS_AUTOCOMMIT, 0)
}

func benchCommand(b *testing.B, payload []byte) {
	benchConn(b, frameOf(0, payload), &okHandler{newFakeHandler()}, nil)
}

// benchConn serves the command in input over and over; setup adjusts the Conn first.
func benchConn(b *testing.B, input []byte, h Handler, setup func(*Conn)) *loopConn {
	cfg, _ := Config{InsecureNoAuth: true}.withDefaults()
	l := &Listener{cfg: cfg, h: h, log: cfg.Logger}
	lc := &loopConn{packet: input}
	c := newConn(l, lc)
	if setup != nil {
		setup(c)
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := c.serveCommand(); err != nil {
			b.Fatal(err)
		}
	}
	return lc
}

// BenchmarkComPing: read a command, write OK. Must not allocate.
func BenchmarkComPing(b *testing.B) { benchCommand(b, []byte{mysql.COM_PING}) }

// BenchmarkComQuery: read a COM_QUERY, dispatch to the handler, which writes OK.
func BenchmarkComQuery(b *testing.B) {
	benchCommand(b, append([]byte{mysql.COM_QUERY}, "select c from sbtest1 where id = 4242"...))
}

// BenchmarkComQueryIdleTimeout: BenchmarkComQuery with an idle timeout: a clock read per
// command, no deadline update (deadlines/op reports SetReadDeadline calls).
func BenchmarkComQueryIdleTimeout(b *testing.B) {
	lc := benchConn(b, frameOf(0, append([]byte{mysql.COM_QUERY}, "select c from sbtest1 where id = 4242"...)),
		&okHandler{newFakeHandler()}, func(c *Conn) { c.SetIdleTimeout(8 * time.Hour) })
	b.ReportMetric(float64(lc.deadlines)/float64(b.N), "deadlines/op")
}

// BenchmarkComQueryCompressed: BenchmarkComQuery under CLIENT_COMPRESS (small packets go
// uncompressed: the cost of the framing).
func BenchmarkComQueryCompressed(b *testing.B) {
	in := compressedPacket(0, frameOf(0, append([]byte{mysql.COM_QUERY}, "select c from sbtest1 where id = 4242"...)), false)
	benchConn(b, in, &okHandler{newFakeHandler()}, func(c *Conn) { c.caps |= mysql.CLIENT_COMPRESS; c.startCompression() })
}

// forwardHandler writes a 16 KiB chunk of a text result through RawWriter, as the forwarder
// writes what it read from a backend.
type forwardHandler struct {
	okHandler
	chunk []byte
}

func (h *forwardHandler) ComQuery(c *Conn, cmd *Command) error {
	_, err := c.RawWriter().Write(h.chunk)
	return err
}

func benchForward(b *testing.B, compressed bool) {
	var rows []byte
	for i := 0; len(rows) < 16<<10; i++ {
		row := fmt.Sprintf("%d-%08d-%s", i, i*7919, "68487932199-96439406143-93774651418-41631865787")
		rows = append(rows, frameOf(uint8(i), appendLenEncStr(nil, row))...)
	}
	h := &forwardHandler{chunk: rows}
	q := frameOf(0, append([]byte{mysql.COM_QUERY}, "select c from sbtest1 limit 300"...))
	var setup func(*Conn)
	if compressed {
		q = compressedPacket(0, q, false)
		setup = func(c *Conn) { c.caps |= mysql.CLIENT_COMPRESS; c.startCompression() }
	}
	b.SetBytes(int64(len(rows)))
	benchConn(b, q, h, setup)
}

// BenchmarkForward16K and BenchmarkForward16KCompressed: a forwarded 16 KiB chunk of rows,
// plain and zlib-compressed.
func BenchmarkForward16K(b *testing.B)           { benchForward(b, false) }
func BenchmarkForward16KCompressed(b *testing.B) { benchForward(b, true) }

// BenchmarkPingTCP: a COM_PING round trip over loopback TCP through a Listener.
func BenchmarkPingTCP(b *testing.B) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	l, err := NewListener(Config{Auth: testUsers}, ln, newFakeHandler())
	if err != nil {
		b.Fatal(err)
	}
	go func() { _ = l.Serve() }()
	defer l.Close()
	r := &rawClient{t: &testing.T{}}
	if r.c, err = net.Dial("tcp", l.Addr().String()); err != nil {
		b.Fatal(err)
	}
	defer r.c.Close()
	r.login()
	ping := frameOf(0, []byte{mysql.COM_PING})
	reply := make([]byte, 11) // OK packet: 4 + 7
	b.ReportAllocs()
	for b.Loop() {
		if _, err := r.c.Write(ping); err != nil {
			b.Fatal(err)
		}
		if _, err := io.ReadFull(r.c, reply); err != nil {
			b.Fatal(err)
		}
	}
}

// loginConn is a client that logs in as u/p with mysql_native_password and leaves: it answers
// the greeting's nonce with a precomputed handshake response whose scramble it fills in
// (without allocating), and sends COM_QUIT after the OK. No kernel, no goroutines.
type loginConn struct {
	net.Conn
	resp     []byte   // the handshake response frame; the scramble at scrambleAt
	stage1   [20]byte // SHA1(password)
	stage2   [20]byte // SHA1(SHA1(password))
	pending  []byte   // what Read returns next
	greeted  bool
	loggedIn bool // the server answered the response with OK
}

const loginScrambleAt = 4 + 32 + len("u") + 1 + 1 // header, fixed part, user and NUL, length byte

func newLoginConn() *loginConn {
	lc := &loginConn{resp: frameOf(1, buildHandshakeResponse(rawCaps, "u", "p", make([]byte, nonceLen), "db"))}
	lc.stage1 = sha1.Sum([]byte("p"))
	lc.stage2 = sha1.Sum(lc.stage1[:])
	return lc
}

func (c *loginConn) reset() { c.pending, c.greeted, c.loggedIn = nil, false, false }

func (c *loginConn) Read(p []byte) (int, error) {
	if len(c.pending) == 0 {
		return 0, io.EOF
	}
	n := copy(p, c.pending)
	c.pending = c.pending[n:]
	return n, nil
}

func (c *loginConn) Write(p []byte) (int, error) {
	if c.greeted {
		if !c.loggedIn && len(p) > 4 && p[4] == mysql.OK_HEADER {
			c.loggedIn = true
			c.pending = loginQuit
		}
		return len(p), nil
	}
	c.greeted = true
	// Greeting payload: protocol, version NUL, id (4), nonce[:8], filler, caps (2), collation,
	// status (2), caps (2), length, reserved (10), nonce[8:] NUL, plugin NUL.
	g := p[4:]
	v := bytes.IndexByte(g[1:], 0) + 2
	var in [nonceLen + 20]byte
	copy(in[:8], g[v+4:])
	copy(in[8:nonceLen], g[v+4+8+1+2+1+2+2+1+10:])
	copy(in[nonceLen:], c.stage2[:])
	h := sha1.Sum(in[:])
	for i := range h {
		c.resp[loginScrambleAt+i] = c.stage1[i] ^ h[i]
	}
	c.pending = c.resp
	return len(p), nil
}

func (*loginConn) Close() error                     { return nil }
func (*loginConn) RemoteAddr() net.Addr             { return loginAddr }
func (*loginConn) SetDeadline(time.Time) error      { return nil }
func (*loginConn) SetReadDeadline(time.Time) error  { return nil }
func (*loginConn) SetWriteDeadline(time.Time) error { return nil }

var loginQuit = frameOf(0, []byte{mysql.COM_QUIT})

var loginAddr = &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 40000}

// quietHandler accepts every connection and keeps nothing: the listener's own cost.
type quietHandler struct{ *fakeHandler }

func (quietHandler) NewConnection(*Conn) error { return nil }
func (quietHandler) ConnectionClosed(*Conn)    {}

// BenchmarkLogin is a short-lived client's connection as the listener serves it, without the
// kernel: greeting, handshake response, mysql_native_password check, OK, COM_QUIT, and the
// connection's buffers back to the listener.
func BenchmarkLogin(b *testing.B) {
	l, err := NewListener(Config{Auth: testUsers}, nil, quietHandler{newFakeHandler()})
	if err != nil {
		b.Fatal(err)
	}
	lc := newLoginConn()
	b.ReportAllocs()
	for b.Loop() {
		lc.reset()
		if !l.admit() {
			b.Fatal("not admitted")
		}
		l.serveConn(newConn(l, lc))
		if !lc.loggedIn {
			b.Fatal("login failed")
		}
	}
}

package mysqlserver

import (
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

package mysqlserver

import (
	"io"
	"net"
	"testing"

	"github.com/go-mysql-org/go-mysql/mysql"
)

// loopConn replays one packet per Read forever and discards writes: the read + reply path
// without the kernel.
type loopConn struct {
	net.Conn
	packet []byte
}

func (c *loopConn) Read(p []byte) (int, error)  { return copy(p, c.packet), nil }
func (c *loopConn) Write(p []byte) (int, error) { return len(p), nil }

// okHandler answers every query with OK, as cheaply as a handler can.
type okHandler struct{ *fakeHandler }

func (*okHandler) ComQuery(c *Conn, cmd *Command) error {
	return c.WriteOK(1, 0, mysql.SERVER_STATUS_AUTOCOMMIT, 0)
}

func benchCommand(b *testing.B, payload []byte) {
	cfg, _ := Config{InsecureNoAuth: true}.withDefaults()
	l := &Listener{cfg: cfg, h: &okHandler{newFakeHandler()}, log: cfg.Logger}
	c := newConn(l, &loopConn{packet: frameOf(0, payload)})
	b.ReportAllocs()
	for b.Loop() {
		if err := c.serveCommand(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkComPing: read a command, write OK. Must not allocate.
func BenchmarkComPing(b *testing.B) { benchCommand(b, []byte{mysql.COM_PING}) }

// BenchmarkComQuery: read a COM_QUERY, dispatch to the handler, which writes OK.
func BenchmarkComQuery(b *testing.B) {
	benchCommand(b, append([]byte{mysql.COM_QUERY}, "select c from sbtest1 where id = 4242"...))
}

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

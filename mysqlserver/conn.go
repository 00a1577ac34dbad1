package mysqlserver

import (
	"crypto/tls"
	"io"
	"log/slog"
	"net"
	"runtime/debug"
	"sync"
	"time"

	"github.com/go-mysql-org/go-mysql/mysql"
)

// Conn is one client connection. Its goroutine owns everything but Close, which any
// goroutine may call (KILL, Listener.Close). The Handler is called from that goroutine only,
// so a Handler uses the Conn's writers without locking.
type Conn struct {
	// Session is the Handler's per-connection state (the router's session).
	Session any

	l    *Listener
	id   uint32
	raw  net.Conn // the TCP socket; closing it unblocks every read and write
	conn net.Conn // raw, or the TLS connection over it after the upgrade
	rd   *packetReader
	bufs *ioBufs // where rd and wbuf came from, handed to the next connection at the end

	// Set by the handshake (and COM_CHANGE_USER), read-only otherwise.
	user       string
	db         string
	collation  uint16
	clientCaps uint32 // what the client asked for
	caps       uint32 // negotiated: client & server
	extCaps    uint32 // negotiated MariaDB extended capabilities
	attrs      connAttrs
	plugin     string
	tls        bool
	nonce      []byte // the greeting's scramble (nonceBuf), also answered by COM_CHANGE_USER
	nonceBuf   [nonceLen]byte

	multiStatements bool // CLIENT_MULTI_STATEMENTS, as COM_SET_OPTION last set it
	failedChanges   int  // COM_CHANGE_USER attempts refused so far

	zc   *compressedConn // the compression layer over conn, once CLIENT_COMPRESS is on
	idle idleTimer       // the wait for the next command (Conn.SetIdleTimeout)
	rawB []byte          // ReadPacket's buffer for packets bigger than the read buffer

	out      timedWriter // every write to the client goes through it
	seq      uint8       // sequence id of the next packet written
	wbuf     []byte      // reply under construction, written with one Write
	cmd      Command     // the command being served (reused)
	status   uint16      // status flags for the replies the Conn makes on its own
	wroteErr bool        // WriteError was called (tells a failed prepare)

	stmts      map[uint32]*Stmt // prepared statements by gateway id
	nextStmtID uint32
	exec       execScratch // reusable COM_STMT_EXECUTE scratch space
	// kept is the bytes the connection keeps between commands against Config.SessionBudget:
	// its statements' long data and what the handler retains (retained, Conn.Retain).
	kept, retained int

	closeOnce sync.Once
}

// maxKeptBuf is the largest write or execute buffer a connection keeps between commands;
// bigger ones (a huge result or parameter) are dropped so idle connections stay small.
const maxKeptBuf = 1 << 20

func newConn(l *Listener, nc net.Conn) *Conn {
	bufs := l.bufs.get(nc)
	c := &Conn{
		l:      l,
		id:     nextConnID(),
		raw:    nc,
		conn:   nc,
		rd:     &bufs.rd,
		bufs:   bufs,
		wbuf:   bufs.wbuf,
		status: mysql.SERVER_STATUS_AUTOCOMMIT,
	}
	c.out.c = c
	return c
}

// logger is the listener's logger with the connection's id: made when something is logged
// (rarely), not for every connection, since slog's With formats the attribute at once.
func (c *Conn) logger() *slog.Logger { return c.l.log.With("conn", c.id) }

// ID is the gateway's connection id, sent to the client in the handshake (and what
// CONNECTION_ID() and KILL should use).
func (c *Conn) ID() uint32 { return c.id }

// User is the authenticated user name.
func (c *Conn) User() string { return c.user }

// Database is the database the client asked for in the handshake or its last
// COM_CHANGE_USER ("" if none).
func (c *Conn) Database() string { return c.db }

// Collation is the collation id the client asked for in the handshake (one byte) or its
// last COM_CHANGE_USER (two bytes).
func (c *Conn) Collation() uint16 { return c.collation }

// RemoteAddr is the client's address.
func (c *Conn) RemoteAddr() net.Addr { return c.raw.RemoteAddr() }

// Capabilities are the negotiated capability flags (client's & server's).
func (c *Conn) Capabilities() uint32 { return c.caps }

// ClientCapabilities are the capability flags the client sent.
func (c *Conn) ClientCapabilities() uint32 { return c.clientCaps }

// ExtCapabilities are the negotiated MariaDB extended capabilities (none are offered yet).
func (c *Conn) ExtCapabilities() uint32 { return c.extCaps }

// MultiStatements says whether the client may send several statements in one COM_QUERY: it
// negotiated CLIENT_MULTI_STATEMENTS, or turned it on with COM_SET_OPTION since.
func (c *Conn) MultiStatements() bool { return c.multiStatements }

// Compressed says whether the connection uses the compressed protocol (CLIENT_COMPRESS).
func (c *Conn) Compressed() bool { return c.zc != nil }

// Attributes are the connection attributes the client sent (nil if none).
func (c *Conn) Attributes() map[string]string { return c.attrs.Map() }

// AuthPlugin is the authentication plugin that authenticated the client.
func (c *Conn) AuthPlugin() string { return c.plugin }

// TLS says whether the connection was upgraded to TLS.
func (c *Conn) TLS() bool { return c.tls }

// RawWriter is the client socket (TLS-wrapped if upgraded). A forwarder writes whole
// chunks of a backend's reply to it; every Write goes straight to the socket (with the
// compressed protocol, as one or more compressed packets of its own).
func (c *Conn) RawWriter() io.Writer { return &c.out }

// timedWriter writes to the client under Config.WriteTimeout. The deadline is re-armed at most
// every quarter of the timeout, so a write costs a clock read, not a timer update.
type timedWriter struct {
	c     *Conn
	armed time.Time // when the write deadline was last set
}

func (w *timedWriter) Write(p []byte) (int, error) {
	if t := w.c.l.cfg.WriteTimeout; t > 0 {
		if now := time.Now(); now.Sub(w.armed) > t/4 {
			_ = w.c.raw.SetWriteDeadline(now.Add(t))
			w.armed = now
		}
	}
	return w.c.conn.Write(p)
}

// ReadPacket reads the client's next packet as it was sent: its 4-byte header and its
// payload (decompressed on a compressed connection), at most 16 MiB-1 bytes, with no
// reassembly. It is for a handler that relays what a backend asked for in the middle of a
// command: the file a client sends after the backend's LOAD DATA LOCAL INFILE request (0xfb),
// packet by packet up to the empty one, so that a file streams through and is never held
// whole. The frame is valid until the next read; the next packet the Conn writes gets the
// sequence id after the one read.
func (c *Conn) ReadPacket() ([]byte, error) {
	if c.idle.d > 0 {
		c.extendReadDeadline(time.Now())
	}
	frame, buf, err := c.rd.readPhysical(c.rawB)
	c.rawB = buf
	if err != nil {
		return nil, err
	}
	c.seq = c.nextSeq(frame[3])
	return frame, nil
}

// nextSeq is the sequence id of the packet written after reading one with seq: the next one,
// or under compression the compressed sequence's.
func (c *Conn) nextSeq(seq uint8) uint8 {
	if c.zc != nil {
		return c.zc.seq
	}
	return seq + 1
}

// SetSequence sets the sequence id of the next packet the Conn writes, after a reply was
// partly forwarded through RawWriter.
func (c *Conn) SetSequence(next uint8) { c.seq = next }

// Retain tells the connection how many bytes the handler keeps for its session (its
// remembered settings), which count against Config.SessionBudget with the long data of its
// prepared statements. It reports false when they do not fit: the handler should then end
// the session (close the connection).
func (c *Conn) Retain(n int) bool {
	c.keep(n - c.retained)
	c.retained = n
	return c.kept <= c.l.cfg.SessionBudget
}

// keep adds n (negative: gives back) to what the connection keeps, and to the listener's sum.
func (c *Conn) keep(n int) {
	c.kept += n
	c.l.kept.Add(int64(n))
}

// Close closes the client socket. Safe from any goroutine; the serving goroutine then
// notices, calls Handler.ConnectionClosed and exits.
func (c *Conn) Close() {
	c.closeOnce.Do(func() { _ = c.raw.Close() })
}

// serve runs the connection: handshake, then commands until the client leaves.
func (c *Conn) serve() {
	defer func() {
		if r := recover(); r != nil {
			c.logger().Error("panic while serving a client; connection closed", "panic", r, "stack", string(debug.Stack()))
		}
	}()
	defer c.Close()
	if wait, blocked := c.l.authLimit.blocked(c.raw.RemoteAddr()); blocked {
		c.l.refused[refusedBlocked].Add(1)
		_ = c.raw.SetWriteDeadline(time.Now().Add(time.Second))
		_ = WritePacket(c.raw, 0, appendErrPacket(nil, errHostBlocked(addrKey(c.raw.RemoteAddr()), wait)))
		return
	}
	if err := c.handshake(); err != nil {
		c.logger().Debug("handshake failed", "remote", c.raw.RemoteAddr(), "err", err)
		return
	}
	if !c.l.addUser(c.user) {
		_ = c.WriteError(errTooManyUserConnections(c.user))
		return
	}
	defer func() { c.l.removeUser(c.user) }() // c.user as COM_CHANGE_USER left it
	if err := c.l.h.NewConnection(c); err != nil {
		_ = c.WriteError(err)
		return
	}
	defer c.l.h.ConnectionClosed(c)
	if err := c.WriteOK(0, 0, c.status, 0); err != nil {
		return
	}
	if c.caps&mysql.CLIENT_COMPRESS != 0 {
		c.startCompression() // everything after the handshake's OK
	}
	c.commandLoop()
}

// upgradeTLS switches the connection to TLS after an SSL request packet. Bytes the client
// sent after the request (the start of its TLS handshake) may already sit in our buffer:
// they are replayed to the TLS layer first.
func (c *Conn) upgradeTLS() error {
	pending := append([]byte(nil), c.rd.buffered()...)
	var under net.Conn = c.raw
	if len(pending) > 0 {
		under = &replayConn{Conn: c.raw, pending: pending}
	}
	tc := tls.Server(under, c.l.cfg.TLSConfig)
	if err := tc.Handshake(); err != nil {
		return err
	}
	c.conn = tc
	c.rd.reset(tc)
	c.tls = true
	return nil
}

// replayConn returns pending bytes before reading from the socket.
type replayConn struct {
	net.Conn
	pending []byte
}

func (r *replayConn) Read(p []byte) (int, error) {
	if len(r.pending) > 0 {
		n := copy(p, r.pending)
		r.pending = r.pending[n:]
		return n, nil
	}
	return r.Conn.Read(p)
}

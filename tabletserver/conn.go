package tabletserver

// A backend connection: go-mysql's client does the handshake and authentication, then the
// connection's raw socket is taken over and the data path is ours (forward.go).
// https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_connection_phase.html

import (
	"context"
	"errors"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-mysql-org/go-mysql/client"
	"github.com/go-mysql-org/go-mysql/mysql"

	"github.com/vtdirect/vtdirect/flavor"
)

// backendCaps is what every backend connection asks for: the result-format capabilities the
// gateway also gives its clients (docs/internals.md), so that replies can be forwarded verbatim.
// go-mysql always adds CLIENT_PROTOCOL_41, CLIENT_SECURE_CONNECTION, CLIENT_LONG_PASSWORD,
// CLIENT_TRANSACTIONS and CLIENT_PLUGIN_AUTH, takes CLIENT_LONG_FLAG when the server offers it,
// and adds CLIENT_CONNECT_WITH_DB, CLIENT_CONNECT_ATTRS and CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA
// when needed (none changes a result's format).
const backendCaps = mysql.CLIENT_MULTI_RESULTS | mysql.CLIENT_PS_MULTI_RESULTS | mysql.CLIENT_LONG_FLAG

// backendNoCaps are never negotiated: each would change a reply's format or allow a request
// (LOCAL INFILE) that the forwarder does not follow. go-mysql would otherwise take
// CLIENT_QUERY_ATTRIBUTES from a MySQL 8 server.
const backendNoCaps = mysql.CLIENT_QUERY_ATTRIBUTES | mysql.CLIENT_DEPRECATE_EOF | mysql.CLIENT_COMPRESS |
	mysql.CLIENT_ZSTD_COMPRESSION_ALGORITHM | mysql.CLIENT_LOCAL_FILES | mysql.CLIENT_MULTI_STATEMENTS |
	mysql.CLIENT_FOUND_ROWS | mysql.CLIENT_SESSION_TRACK | mysql.CLIENT_OPTIONAL_RESULTSET_METADATA |
	mysql.CLIENT_SSL

// Conn states (Conn.state).
const (
	connIdle   uint32 = iota // in its pool's idle stack
	connInUse                // handed out by Get or Reserve
	connKilled               // closed by the transaction killer (or Close of the server) while handed out
	connClosed               // closed by its holder
)

// Conn is one backend connection, handed out by TabletServer.Get or Reserve. Its methods are
// for the one goroutine holding it, except Killed, which any goroutine may call.
type Conn struct {
	ts       *TabletServer
	pool     *pool
	nc       net.Conn
	rw       io.ReadWriter // nc; a fake in unit tests
	threadID uint32
	canReset bool // the server has COM_RESET_CONNECTION

	buf     []byte // read buffer (forward.go)
	bufHigh int    // largest len(buf) ever, for tests and stats
	wbuf    []byte // commands that vtdirect builds (SET, prepare, execute) are built here
	hdr     [4]byte
	parser  replyParser
	maxRows uint64

	// Owned by the holder.
	broken  bool // I/O or protocol failure: never reused
	discard bool // session state vtdirect cannot undo (COM_INIT_DB): closed on Recycle
	// lastStatus is the latest status flags any reply carried, an intermediate OK or EOF of a
	// multi-result reply included (a CALL that began a transaction and then failed), so that
	// a connection maybe inside a transaction is not pooled; statusSeen says it is set.
	lastStatus  uint16
	statusSeen  bool
	settingsKey string // Settings.Key of the SET statements applied to the session
	stmts       stmtCache
	closeFrame  [9]byte // a COM_STMT_CLOSE frame, built here so that writing it does not allocate

	// Stopping a running query: the timer, the forwarder's max-rows check and KillQuery set
	// reason and send KILL QUERY; the forwarder stops at the next packet boundary.
	timer      *time.Timer
	timerArmed bool          // owned by the holder
	timeout    time.Duration // the timeout armed for the running query, for its error message
	// timerDone receives when onTimeout returns; capacity 1: one firing per arming, and
	// end() takes it whenever Stop says the callback was started.
	timerDone chan struct{}
	killMu    sync.Mutex // guards running, killing and setting reason
	running   bool       // a command is in flight (begin to end)
	// killing: a KILL QUERY for the running command is in flight; end() waits on killDone
	// (a sync.Cond on killMu) until it is over, so that no KILL can reach a later command.
	killing  bool
	killDone sync.Cond
	reason   atomic.Uint32

	// Pool bookkeeping.
	state     atomic.Uint32
	killedErr atomic.Pointer[mysql.MyError] // set before state becomes connKilled
	idx       int                           // index in pool.inUse, guarded by pool.mu
	since     time.Time                     // when handed out (reserved pool), guarded by pool.mu
	idleTick  uint64                        // pool tick when it went idle, guarded by pool.mu
	// lease numbers the hand-outs of this connection: written under pool.mu by handOut, read
	// by the transaction killer (under pool.mu) and KillQueryOnLease (under killMu).
	lease atomic.Uint64
}

// dial opens a backend connection: handshake and auth by go-mysql, then the raw socket.
func (t *TabletServer) dial(ctx context.Context) (*Conn, error) {
	ctx, cancel := context.WithTimeout(ctx, t.cfg.ConnectTimeout)
	defer cancel()
	d := net.Dialer{Timeout: t.cfg.ConnectTimeout}
	opt := func(c *client.Conn) error {
		c.SetCapability(backendCaps)
		c.UnsetCapability(backendNoCaps)
		// Deadlines for the handshake only: cleared when the socket is taken over.
		c.ReadTimeout, c.WriteTimeout = t.cfg.ConnectTimeout, t.cfg.ConnectTimeout
		c.SetAttributes(map[string]string{"program_name": "vtdirect"})
		return c.SetCollation(t.cfg.Collation)
	}
	cc, err := client.ConnectWithDialer(ctx, "tcp", t.addr, t.cfg.User, t.cfg.Password, t.dbName, d.DialContext, opt)
	if err != nil {
		t.stats.dialErrors.Add(1)
		return nil, errDial(t.alias, t.addr, err)
	}
	// After the auth OK the server sends nothing until it gets a command: no byte is left in
	// go-mysql's read buffer, and the raw socket is ours.
	nc := cc.Conn.Conn
	if err := nc.SetDeadline(time.Time{}); err != nil {
		nc.Close()
		return nil, errDial(t.alias, t.addr, err)
	}
	t.stats.dials.Add(1)
	c := newConn(t, nc, cc.GetConnectionID())
	c.canReset = flavor.Detect(cc.GetServerVersion()).SupportsResetConnection()
	return c, nil
}

func newConn(t *TabletServer, nc net.Conn, threadID uint32) *Conn {
	c := &Conn{
		ts:        t,
		nc:        nc,
		rw:        nc,
		threadID:  threadID,
		buf:       make([]byte, defaultBufSize),
		bufHigh:   defaultBufSize,
		wbuf:      make([]byte, 0, 1024),
		maxRows:   uint64(t.cfg.MaxResultRows),
		timerDone: make(chan struct{}, 1),
	}
	c.killDone.L = &c.killMu
	c.stmts.init(t.cfg.PreparedStmtCacheSize)
	// Created once, stopped: Reset per query does not allocate.
	c.timer = time.AfterFunc(time.Hour, c.onTimeout)
	c.timer.Stop()
	return c
}

// ThreadID is the backend's connection id (CONNECTION_ID()), for KILL.
func (c *Conn) ThreadID() uint32 { return c.threadID }

// Killed returns why the connection was taken away while held (its transaction timed out, or
// its tablet went away), or nil. Safe from any goroutine.
func (c *Conn) Killed() error {
	if c.state.Load() != connKilled {
		return nil
	}
	return c.killedErr.Load()
}

// MarkSettings records that the session state of s is now applied on the connection (the holder
// ran s's last SET on it directly), so that Get and Reserve do not replay it.
func (c *Conn) MarkSettings(s *Settings) {
	c.settingsKey = s.Key
}

// Recycle returns the connection to its pool. A connection that broke, is inside a
// transaction, or holds state vtdirect cannot undo is closed instead. No-op after Close or a
// kill.
func (c *Conn) Recycle() {
	c.pool.put(c)
}

// Close closes the connection (rolling back its transaction) and frees its pool slot.
func (c *Conn) Close() {
	c.pool.closeConn(c)
}

// usable checks that the connection may run a command.
func (c *Conn) usable() error {
	switch c.state.Load() {
	case connInUse:
		if c.broken {
			return errUnusable(c.ts.alias)
		}
		return nil
	case connKilled:
		return c.killedErr.Load()
	}
	return errUnusable(c.ts.alias)
}

// Exec sends the client's command frame (4 header bytes + payload) verbatim and forwards the
// reply verbatim to w. A backend ERR is forwarded and returned in Result.Err; the error is a
// gateway-side failure, one of:
//   - a *StatementError (StatementOnly): the statement was stopped (query timeout, max rows,
//     KillQuery) or not sent; the connection and its transaction are intact. Write the error
//     (after Result.NextSeq if Result.Forwarded) and keep the connection.
//   - a *ClientWriteError: w failed, the client is gone. Close both, write nothing.
//   - a *ReplyCompleteError: the client has the whole reply, the backend connection broke
//     after it. Close the backend connection, write nothing.
//   - any other error (a *mysql.MyError: backend lost, killed by the transaction killer,
//     protocol error): the connection is broken. Close it (its transaction is gone) and write
//     the error (after Result.NextSeq if Result.Forwarded).
func (c *Conn) Exec(ctx context.Context, frame []byte, w io.Writer) (Result, error) {
	if len(frame) < 5 {
		return Result{}, stmtOnly(errMalformed("command: no command byte"))
	}
	cmd := frame[4]
	kind, ok := replyKindOf(cmd)
	if !ok {
		return Result{}, stmtOnly(errUnsupportedCommand(cmd))
	}
	c.parser.reset(kind)
	return c.exchange(ctx, cmd, frame, w)
}

// exchange runs one command whose frame is ready and whose reply grammar is set in c.parser.
func (c *Conn) exchange(ctx context.Context, cmd byte, frame []byte, w io.Writer) (Result, error) {
	if err := c.usable(); err != nil {
		return Result{}, err
	}
	if err := ctx.Err(); err != nil {
		return Result{}, stmtOnly(errCanceled(c.ts.alias, err))
	}
	c.begin(ctx)
	var res Result
	err := c.writeFrame(frame)
	if err != nil {
		err = &forwardError{backend: true, err: err}
	} else {
		res, err = c.forward(w)
	}
	reason := c.end()
	return c.finish(cmd, res, err, reason)
}

// finish updates the connection after a command and turns a forwarding failure into the error
// the client gets.
func (c *Conn) finish(cmd byte, res Result, err error, reason uint32) (Result, error) {
	c.shrinkBuf()
	st := &c.ts.stats
	st.queries.Add(1)
	st.rows.Add(res.Rows)
	if p := &c.parser; p.statusSeen {
		// Whatever the outcome: an intermediate status showing a transaction matters even when
		// the reply then ends with an ERR (which carries none) or breaks.
		c.lastStatus, c.statusSeen = p.status, true
	}
	if err == nil {
		if res.Err != nil {
			st.backendErrors.Add(1)
			return res, nil
		}
		switch cmd {
		case mysql.COM_RESET_CONNECTION:
			c.stmts.forget()
			c.settingsKey = ""
		case mysql.COM_INIT_DB:
			c.discard = true // the pool's connections must stay on the tablet's database
		}
		return res, nil
	}
	if errors.Is(err, errStopped) {
		// The reply was drained: the connection is still good.
		return res, stmtOnly(c.reasonError(reason))
	}
	c.fail()
	var fe *forwardError
	if errors.As(err, &fe) && !fe.backend {
		return res, &ClientWriteError{Err: fe.err}
	}
	var out error
	switch kerr := c.Killed(); {
	case kerr != nil:
		out = kerr
	case reason != reasonNone:
		// Stopped, but the reply did not end in time (the backstop deadline): broken.
		out = c.reasonError(reason)
	case errors.Is(err, errProtocol):
		out = errBackendProtocol(c.ts.alias, err)
	default:
		st.ioErrors.Add(1)
		// The server probably went away: its other idle connections are likely dead too.
		c.pool.flushIdle()
		out = errLost(c.ts.alias, c.ts.addr, err)
	}
	if res.Complete {
		return res, &ReplyCompleteError{Err: out}
	}
	return res, out
}

// fail marks the connection unusable and closes its socket.
func (c *Conn) fail() {
	c.broken = true
	if c.nc != nil {
		c.nc.Close()
	}
}

// writeFrame writes a command frame: its header is set here (sequence 0, payload length). A
// payload of maxPayload bytes or more is split into several packets.
func (c *Conn) writeFrame(frame []byte) error {
	n := len(frame) - 4
	if n < maxPayload {
		frame[0], frame[1], frame[2], frame[3] = byte(n), byte(n>>8), byte(n>>16), 0
		_, err := c.rw.Write(frame)
		return err
	}
	payload := frame[4:]
	for seq := 0; ; seq++ {
		k := min(len(payload), maxPayload)
		c.hdr = [4]byte{byte(k), byte(k >> 8), byte(k >> 16), byte(seq)}
		if _, err := c.rw.Write(c.hdr[:]); err != nil {
			return err
		}
		if _, err := c.rw.Write(payload[:k]); err != nil {
			return err
		}
		payload = payload[k:]
		if k < maxPayload {
			return nil // a packet shorter than the maximum (maybe empty) ends the command
		}
	}
}

// command builds a frame for cmd with argument arg in c.wbuf.
func (c *Conn) command(cmd byte, arg string) []byte {
	b := append(c.wbuf[:0], 0, 0, 0, 0, cmd)
	b = append(b, arg...)
	c.wbuf = b
	return b
}

// shrinkWbuf drops a command buffer grown for a big statement.
func (c *Conn) shrinkWbuf() {
	if cap(c.wbuf) > maxKeptBufSize {
		c.wbuf = make([]byte, 0, 1024)
	}
}

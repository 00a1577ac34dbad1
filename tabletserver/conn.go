package tabletserver

// A backend connection: dialed with the reply-format capabilities of the client it serves plus
// CLIENT_SESSION_TRACK (dial.go), then driven directly: commands are written verbatim and
// replies forwarded verbatim (forward.go).
// https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_command_phase.html

import (
	"context"
	"errors"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-mysql-org/go-mysql/mysql"
)

// Conn states (Conn.state).
const (
	connIdle   uint32 = iota // in its pool's idle list
	connInUse                // handed out by Get or Reclaim
	connKilled               // closed by the transaction killer (or Close of the server) while handed out
	connClosed               // closed by its holder
)

// Conn is one backend connection, handed out by TabletServer.Get or Reclaim. Its methods are
// for the one goroutine holding it, except Killed, Lease and KillQueryOnLease, which any
// goroutine may call.
type Conn struct {
	be *Backend
	// ts is the tablet the connection is handed out to (the last one while idle): written
	// under pool.mu by handOut, before the lease changes.
	ts       *TabletServer
	pool     *pool
	nc       net.Conn
	rw       io.ReadWriter // nc; a fake in unit tests
	threadID uint32
	canReset bool // the server has COM_RESET_CONNECTION

	// caps are the reply-format capabilities the connection negotiated (FormatCaps of its
	// client's); multi is whether CLIENT_MULTI_STATEMENTS is on now (COM_SET_OPTION).
	caps  uint32
	multi bool
	// multiUnknown: a COM_RESET_CONNECTION went by, after which servers differ on
	// CLIENT_MULTI_STATEMENTS (MariaDB keeps it): the next command that needs one mode sets it.
	multiUnknown bool

	buf []byte // read buffer (forward.go)
	// pending bytes at the start of buf belong to the next reply; more is how many replies of
	// pipelined commands are still to come after the one being read (set by the sender).
	pending, more int
	bufHigh       int         // largest len(buf) ever, for tests and stats
	wbuf          []byte      // commands that vtdirect builds (SET, prepare, execute) are built here
	pbuf          []byte      // the statements sent before a command (Request.Pre) are built here
	bufs          net.Buffers // the prelude and the command, for one writev
	hdr           [4]byte
	parser        replyParser
	// maxRows and queryTimeout are the holder tablet's limits, copied at hand-out.
	maxRows      uint64
	queryTimeout time.Duration
	// schema is the database the connection is on, as the server said (the handshake, the
	// OK of a COM_INIT_DB, session tracking of a USE); wantSchema is the one its holder
	// tablet needs: the next command switches first when they differ (schema.go).
	schema, wantSchema string

	// Owned by the holder.
	broken  bool // I/O or protocol failure: never reused
	inTx    bool // the latest status showed a transaction (the pool's txStart is set)
	discard bool // session state vtdirect cannot undo: closed on release
	// lastStatus is the latest status flags any reply carried, an intermediate OK or EOF of a
	// multi-result reply included (a CALL that began a transaction and then failed), so that
	// a connection maybe inside a transaction is not pooled; statusSeen says it is set.
	lastStatus  uint16
	statusSeen  bool
	settingsKey string        // Settings.Key of the session settings applied on top of the base state
	serverWait  time.Duration // the connection's wait_timeout on the server when its session set one
	stmts       stmtCache
	closeFrame  [9]byte     // a COM_STMT_CLOSE frame, built here so that writing it does not allocate
	longID      uint32      // the backend statement whose long data writeLongData sends
	sent        sentCommand // the command Send wrote, until Receive reads its reply (split.go)

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
	// killedMidErr, when set (before killedErr), is what a command the kill interrupted in
	// flight gets instead of killedErr: its outcome is unknown.
	killedMidErr atomic.Pointer[mysql.MyError]
	idx          int       // index in pool.inUse, guarded by pool.mu
	slot         uint8     // slotRun or slotHold while in use, written under pool.mu
	txStart      time.Time // when the session's transaction began, guarded by pool.mu
	idleTick     uint64    // pool tick when it went idle, guarded by pool.mu
	idleSince    time.Time // when it went idle, guarded by pool.mu
	tag          uint64    // the session that released it last (0: none), guarded by pool.mu
	inIdle       bool      // on its pool's idle list, guarded by pool.mu
	// started is when the running command began (unix ns), 0 when none runs: for the
	// running-queries page, read by other goroutines.
	started atomic.Int64
	// lease numbers the hand-outs of this connection: written under pool.mu by handOut, read
	// by the transaction killer (under pool.mu), Reclaim and KillQueryOnLease (under killMu).
	lease atomic.Uint64
}

func newConn(b *Backend, nc net.Conn, threadID uint32, caps uint32) *Conn {
	c := &Conn{
		be:        b,
		nc:        nc,
		rw:        nc,
		threadID:  threadID,
		caps:      caps,
		multi:     caps&mysql.CLIENT_MULTI_STATEMENTS != 0,
		buf:       make([]byte, defaultBufSize),
		bufHigh:   defaultBufSize,
		wbuf:      make([]byte, 0, 1024),
		timerDone: make(chan struct{}, 1),
	}
	c.killDone.L = &c.killMu
	c.stmts.init(b.cfg.Load().PreparedStmtCacheSize)
	// Created once, stopped: Reset per query does not allocate.
	c.timer = time.AfterFunc(time.Hour, c.onTimeout)
	c.timer.Stop()
	return c
}

// ThreadID is the backend's connection id (CONNECTION_ID()), for KILL.
func (c *Conn) ThreadID() uint32 { return c.threadID }

// Caps are the reply-format capabilities the connection negotiated.
func (c *Conn) Caps() uint32 { return c.caps }

// Killed returns why the connection was taken away while held (its transaction timed out, or
// its tablet went away), or nil. Safe from any goroutine.
func (c *Conn) Killed() error {
	if c.state.Load() != connKilled {
		return nil
	}
	return c.killedErr.Load()
}

// MarkSettings records that the session settings s are now applied on the connection (the
// session changed them with a statement on this connection), so that the pool does not replay
// them and knows which sessions it may serve.
func (c *Conn) MarkSettings(s *Settings) { c.settingsKey, c.serverWait = s.key(), s.waitTimeout() }

// Hold makes a connection handed out for one statement a held one: the session keeps it
// between statements, counted against TxPoolSize. It never blocks; false means no reserved
// slot was free and the connection keeps its statement slot (counted as an overflow).
func (c *Conn) Hold() bool { return c.pool.holdConn(c) }

// Held reports whether the connection counts as held (reserved).
func (c *Conn) Held() bool { return c.slot == slotHold }

// SetTransaction tells the pool whether a transaction is open on the connection: one open
// longer than TxTimeout is rolled back (the connection closed).
func (c *Conn) SetTransaction(open bool) { c.pool.setTx(c, open) }

// Release returns the connection to its pool, remembering tag (the session that released it,
// 0 for none): the pool hands it to other sessions last, so that session can Reclaim it with
// its per-connection results. A connection that broke, may be inside a transaction, or holds
// state vtdirect cannot undo is closed instead. No-op after Close or a kill.
func (c *Conn) Release(tag uint64) { c.pool.put(c, tag) }

// Untag forgets the connection's last session, if nobody had it since lease: that session's
// results moved elsewhere.
func (c *Conn) Untag(lease uint64) { c.pool.untag(c, lease) }

// Close closes the connection (rolling back its transaction) and frees its pool slot.
func (c *Conn) Close() { c.pool.closeConn(c) }

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

// Request is a client command to run on a backend connection, with what the gateway sends
// around it.
type Request struct {
	// Frame is the client's command frame (4 header bytes + payload).
	Frame []byte
	// Pre are statements sent before the command, in the same write; their replies are read
	// and dropped (what restores a session's per-connection results on this connection).
	Pre []string
	// Multi, when not MultiAny, is the CLIENT_MULTI_STATEMENTS the command needs: a
	// COM_SET_OPTION goes first when the connection's differs. MultiAny says the client
	// allows multi-statements (the connection may have them on for its schema switches);
	// a client that does not must send MultiOff, so that the server refuses a second
	// statement as on the client's own connection.
	Multi MultiMode
	// Filter is what session-tracking information the client gets (nil: none).
	Filter TrackFilter
	// In is the client, for a LOAD DATA LOCAL INFILE the server asks for.
	In PacketReader
	// Pipeline: the command can reach nothing but the connection's current database (or no
	// database at all), so it may go in the same write as a schema switch: after a failed
	// switch it runs harmlessly in information_schema (schema.go). Otherwise a switch is
	// sent alone and its OK awaited first: one more round trip, on a switch only.
	Pipeline bool

	// For prepares (stmt.go): write clientID over the statement id of the prepare OK, and
	// keep an ERR with code holdErr from the client when it is the reply's first packet.
	rewriteID bool
	clientID  uint32
	holdErr   uint16
}

// MultiMode is the multi-statement mode a command needs.
type MultiMode uint8

const (
	MultiAny MultiMode = iota
	MultiOn
	MultiOff
)

// Exec sends the client's command verbatim (after req.Pre) and forwards the reply verbatim to
// w. A backend ERR is forwarded and returned in Result.Err; the error is a gateway-side
// failure, one of:
//   - a *StatementError (StatementOnly): the statement was stopped (query timeout, max rows,
//     KillQuery) or not sent; the connection and its transaction are intact. Write the error
//     (after Result.NextSeq if Result.Forwarded) and keep the connection.
//   - a *ClientWriteError: w failed, the client is gone. Close both, write nothing.
//   - a *ReplyCompleteError: the client has the whole reply, the backend connection broke
//     after it. Close the backend connection, write nothing.
//   - any other error (a *mysql.MyError: backend lost, killed by the transaction killer,
//     protocol error): the connection is broken. Close it (its transaction is gone) and write
//     the error (after Result.NextSeq if Result.Forwarded), unless Result.MidPacket: then
//     the client's connection must be closed.
func (c *Conn) Exec(ctx context.Context, req *Request, w io.Writer) (Result, error) {
	frame := req.Frame
	if len(frame) < 5 {
		return Result{}, stmtOnly(errMalformed("command: no command byte"))
	}
	cmd := frame[4]
	kind, ok := replyKindOf(cmd)
	if !ok {
		return Result{}, stmtOnly(errUnsupportedCommand(cmd))
	}
	return c.exchange(ctx, cmd, kind, req, nil, w)
}

// exchange runs one command whose frame is ready: the pre-statements, the multi-statement
// switch and the long data first (in one write when they are small), then the command, whose
// reply is forwarded to w.
func (c *Conn) exchange(ctx context.Context, cmd byte, kind replyKind, req *Request, long [][]byte, w io.Writer) (Result, error) {
	if err := c.open(ctx); err != nil {
		return Result{}, err
	}
	res, err := c.send(kind, req, long, w)
	return c.complete(cmd, res, err)
}

// open begins a command on the connection: it must be usable and ctx not done; the query
// timeout is armed and the command's start noted.
func (c *Conn) open(ctx context.Context) error {
	if err := c.usable(); err != nil {
		return &NotSentError{Err: err}
	}
	if err := ctx.Err(); err != nil {
		return stmtOnly(errCanceled(c.ts.alias, err))
	}
	c.begin(ctx)
	c.started.Store(time.Now().UnixNano())
	return nil
}

// complete ends the command open began, with the outcome of sending it and reading its reply.
func (c *Conn) complete(cmd byte, res Result, err error) (Result, error) {
	c.ts.stats.queryTime.Observe(time.Since(time.Unix(0, c.started.Load())))
	c.started.Store(0)
	reason := c.end()
	return c.finish(cmd, res, err, reason)
}

// notSentWrite is a failed write of a command: the server had reset the connection before (a
// write fails only then), so it read none of the command.
func notSentWrite(err error) error {
	return &NotSentError{Err: &forwardError{backend: true, err: err}}
}

// send writes what exchange runs and reads the replies.
func (c *Conn) send(kind replyKind, req *Request, long [][]byte, w io.Writer) (Result, error) {
	sw, setOpt, err := c.write(req, long)
	if err != nil {
		return Result{}, err
	}
	return c.readReplies(kind, req, sw, setOpt, w)
}

// write writes the command of req with what goes before it (a schema switch of kind sw, the
// pre-statements, a COM_SET_OPTION when setOpt >= 0, long data).
func (c *Conn) write(req *Request, long [][]byte) (sw, setOpt int, err error) {
	setOpt = -1
	sw = c.switchKind()
	switch {
	case req.Multi == MultiOn && (!c.multi || c.multiUnknown):
		setOpt = 0
	case req.Multi == MultiOff && (c.multi || c.multiUnknown):
		setOpt = 1
	case req.Multi == MultiAny && sw == switchTwo:
		setOpt = 0 // so that the connection's next switches take one command (schema.go)
	}
	if sw != switchNone && !req.Pipeline {
		if err := c.switchFirst(sw); err != nil {
			return 0, 0, err
		}
		sw = switchNone
	}
	if len(req.Pre) > 0 || setOpt >= 0 || long != nil || sw != switchNone {
		if err := c.writePrelude(sw, req.Pre, setOpt, long, req.Frame); err != nil {
			return 0, 0, notSentWrite(err)
		}
	} else if err := c.writeFrame(req.Frame); err != nil {
		return 0, 0, notSentWrite(err)
	}
	return sw, setOpt, nil
}

// readReplies reads the replies of what write wrote: the command's own is forwarded to w.
func (c *Conn) readReplies(kind replyKind, req *Request, sw, setOpt int, w io.Writer) (Result, error) {
	deprecate, infile := c.caps&mysql.CLIENT_DEPRECATE_EOF != 0, c.caps&mysql.CLIENT_LOCAL_FILES != 0
	c.more = switchReplies(sw) + len(req.Pre) + 1
	if setOpt >= 0 {
		c.more++
	}
	defer func() { c.more = 0 }()
	if sw != switchNone {
		swErr, err := c.readSwitch(sw)
		if err != nil {
			return Result{}, c.stoppedEarly(err)
		}
		if swErr != nil {
			// The statement went on in information_schema (schema.go): drop every reply.
			for c.more > 0 {
				c.more--
				k := replyQuery
				if c.more == 0 {
					k = kind // the command's own reply comes last
				}
				c.parser.reset(k, deprecate, infile && c.more == 0, nil)
				if _, err := c.forward(nil, nil); err != nil {
					return Result{}, c.stoppedEarly(err)
				}
			}
			return Result{}, swErr
		}
	}
	for range req.Pre {
		c.more--
		c.parser.reset(replyQuery, deprecate, false, nil)
		if _, err := c.forward(nil, nil); err != nil {
			return Result{}, c.stoppedEarly(err)
		}
	}
	if setOpt >= 0 {
		c.more--
		c.parser.reset(replyQuery, deprecate, false, nil)
		r, err := c.forward(nil, nil)
		if err != nil {
			return Result{}, c.stoppedEarly(err)
		}
		if r.Err == nil {
			c.multi, c.multiUnknown = setOpt == 0, false
		}
	}
	c.more--
	c.parser.reset(kind, deprecate, infile, req.Filter)
	c.parser.rewriteID, c.parser.clientID, c.parser.holdErr = req.rewriteID, req.clientID, req.holdErr
	return c.forward(w, req.In)
}

// errStoppedEarly: forwarding stopped (a timeout, a KILL) on a reply while more replies of
// the same write were still to come. They are unread, so the connection is out of step with
// its server (and maybe on another database than it believes): it must be closed, not reused.
var errStoppedEarly = errors.New("tabletserver: stopped before the last reply of the command's write")

// stoppedEarly turns errStopped on a reply before the write's last (c.more > 0) into
// errStoppedEarly, which closes the connection.
func (c *Conn) stoppedEarly(err error) error {
	if c.more > 0 && errors.Is(err, errStopped) {
		return errStoppedEarly
	}
	return err
}

// writePrelude writes the schema switch (of kind sw), the pre-statements, a COM_SET_OPTION and
// long data, then the command frame, with as few writes as they allow (one writev when there
// is no long data and the command fits one packet).
func (c *Conn) writePrelude(sw int, pre []string, setOpt int, long [][]byte, frame []byte) error {
	b := c.appendSwitch(c.pbuf[:0], sw)
	for _, q := range pre {
		start := len(b)
		b = append(b, 0, 0, 0, 0, mysql.COM_QUERY)
		b = append(b, q...)
		setHeader(b[start:])
	}
	if setOpt >= 0 {
		b = append(b, 3, 0, 0, 0, mysql.COM_SET_OPTION, byte(setOpt), 0)
	}
	c.pbuf = b
	if cap(b) > maxKeptBufSize {
		c.pbuf = nil
	}
	if n := len(frame) - 4; long == nil && n < maxPayload && len(b) > 0 {
		frame[0], frame[1], frame[2], frame[3] = byte(n), byte(n>>8), byte(n>>16), 0
		c.bufs = append(c.bufs[:0], b, frame)
		_, err := c.bufs.WriteTo(c.rw)
		c.bufs = c.bufs[:0]
		return err
	}
	if len(b) > 0 {
		if _, err := c.rw.Write(b); err != nil {
			return err
		}
	}
	if err := c.writeLongData(long); err != nil {
		return err
	}
	return c.writeFrame(frame)
}

// setHeader sets a frame's header for a payload under 16 MiB, sequence 0.
func setHeader(frame []byte) {
	n := len(frame) - 4
	frame[0], frame[1], frame[2], frame[3] = byte(n), byte(n>>8), byte(n>>16), 0
}

// finish updates the connection after a command and turns a forwarding failure into the error
// the client gets.
func (c *Conn) finish(cmd byte, res Result, err error, reason uint32) (Result, error) {
	c.shrinkBuf()
	c.shrinkWbuf()
	st := &c.ts.stats
	st.queries.Add(1)
	var sw *schemaSwitchError
	if errors.As(err, &sw) {
		// The connection may now hold state of a statement nobody will account for.
		c.fail()
		c.be.requestProbe() // the tablet's database may be gone: its health should say so soon
		return res, sw.err
	}
	st.rows.Add(res.Rows)
	if p := &c.parser; p.statusSeen {
		// Whatever the outcome: an intermediate status showing a transaction matters even when
		// the reply then ends with an ERR (which carries none) or breaks.
		c.lastStatus, c.statusSeen = p.status, true
		// Each transaction gets the whole transaction timeout, from its first statement.
		if inTx := p.status&mysql.SERVER_STATUS_IN_TRANS != 0; inTx != c.inTx && c.pool != nil {
			c.inTx = inTx
			c.pool.setTx(c, inTx)
		}
	}
	if res.SchemaChanged && res.Schema != c.wantSchema {
		// The connection's database changed under its holder (a USE the router did not see,
		// DROP DATABASE of the current one): not pooled again. (A stored routine of another
		// database reports the switch back to this one: nothing changed.)
		c.discard = true
	}
	if err == nil {
		if res.Err != nil {
			st.backendErrors.Add(1)
			return res, nil
		}
		switch cmd {
		case mysql.COM_RESET_CONNECTION:
			c.stmts.forget()
			c.settingsKey, c.serverWait = "", 0
			c.multiUnknown = true
		case mysql.COM_INIT_DB:
			c.discard = true // a client's own COM_INIT_DB: not pooled again
		}
		if res.SchemaChanged {
			c.schema = res.Schema // a USE or COM_INIT_DB of the client's
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
	case kerr != nil && c.killedMidErr.Load() != nil && !NotSent(err):
		out = c.killedMidErr.Load() // the kill cut the command off: it may have run
	case kerr != nil:
		out = kerr
	case reason != reasonNone:
		// Stopped, but the reply did not end in time (the backstop deadline): broken.
		out = c.reasonError(reason)
	case errors.Is(err, errProtocol):
		out = errBackendProtocol(c.ts.alias, err)
	default:
		st.ioErrors.Add(1)
		c.be.stats.ioErrors.Add(1)
		// The server probably went away: its other idle connections are likely dead too.
		c.pool.flushIdle()
		out = errLost(c.ts.alias, c.be.key.Addr, err)
		if NotSent(err) {
			out = &NotSentError{Err: out}
		}
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

// Silent runs a statement the client did not send, its reply discarded: an ERR reply is
// returned as the error (a *mysql.MyError). Rows of a small result come back as strings.
func (c *Conn) Silent(ctx context.Context, q string) ([][]string, error) {
	rec, err := c.silent(ctx, q, false)
	if err != nil {
		return nil, err
	}
	return rec.rows()
}

// SilentValues is Silent with the rows' values as they are: NULL is nil, an empty value an
// empty slice.
func (c *Conn) SilentValues(ctx context.Context, q string) ([][][]byte, error) {
	rec, err := c.silent(ctx, q, false)
	if err != nil {
		return nil, err
	}
	return rec.values()
}

// silent runs q for Silent and SilentValues; pipeline is Request.Pipeline (the gateway's own
// statements are not told apart: they wait for a schema switch's OK).
func (c *Conn) silent(ctx context.Context, q string, pipeline bool) (*rowRecorder, error) {
	c.wbuf = append(c.wbuf[:0], 0, 0, 0, 0, mysql.COM_QUERY)
	c.wbuf = append(c.wbuf, q...)
	rec := &rowRecorder{deprecateEOF: c.caps&mysql.CLIENT_DEPRECATE_EOF != 0}
	req := Request{Frame: c.wbuf, Pipeline: pipeline}
	res, err := c.exchange(ctx, mysql.COM_QUERY, replyQuery, &req, nil, rec)
	if err != nil {
		return nil, err
	}
	if res.Err != nil {
		return nil, res.Err
	}
	return rec, nil
}

// Ping sends COM_PING and returns the status flags of its OK: whether a transaction is open,
// without touching the diagnostics area (MariaDB keeps the warnings of the last statement).
func (c *Conn) Ping(ctx context.Context) (uint16, error) {
	req := Request{Frame: c.command(mysql.COM_PING, ""), Pipeline: true}
	res, err := c.exchange(ctx, mysql.COM_PING, replyQuery, &req, nil, nil)
	if err != nil {
		return 0, err
	}
	if res.Err != nil {
		return 0, res.Err
	}
	return res.Status, nil
}

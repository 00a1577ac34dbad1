package mysqlserver

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-mysql-org/go-mysql/mysql"
)

// connIDs hands out connection ids unique in the process (KILL <id> must name exactly one
// client even when a process runs several listeners, as tests do). It is state, not
// configuration, hence the one package-level variable.
var connIDs atomic.Uint32

func nextConnID() uint32 {
	for {
		if id := connIDs.Add(1); id != 0 {
			return id
		}
	}
}

// Listener accepts MySQL clients and serves each one on its own goroutine.
type Listener struct {
	cfg Config
	l   net.Listener
	h   Handler
	log *slog.Logger

	// forceFullAuth makes caching_sha2_password ask for the cleartext password (over TLS)
	// instead of accepting the scramble: a test hook for the full-authentication exchange.
	forceFullAuth bool

	zlib zlibPools // zlib writers and readers shared by the compressed connections

	listenerCounters             // connections open and refused, failed logins (limits.go)
	users            userConns   // each user's connections
	authLimit        authLimiter // failed logins per client address

	mu     sync.Mutex // guards conns and closed
	conns  map[*Conn]struct{}
	closed bool

	// Connection goroutines outlive their client: one that is done waits for the next
	// (workers.go), so a short-lived connection costs no goroutine start and its stack
	// (grown by the first command) is not grown again.
	handoff     chan *Conn    // unbuffered: an accepted client goes to a waiting goroutine, if any
	idleWorkers atomic.Int32  // goroutines waiting on handoff (or about to)
	done        chan struct{} // closed by Close: the waiting goroutines exit
	bufs        connBufs      // read and write buffers of the connections gone, for the next

	// kept is what all connections keep between commands (Conn.kept summed), against
	// Config.TotalBudget.
	kept atomic.Int64

	wg sync.WaitGroup // one per connection goroutine
}

// NewListener checks cfg and returns a Listener that will serve clients accepted from l
// with h. Call Serve to start, Close to stop.
func NewListener(cfg Config, l net.Listener, h Handler) (*Listener, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	if h == nil {
		return nil, errors.New("mysqlserver: nil Handler")
	}
	return &Listener{
		cfg:       cfg,
		l:         l,
		h:         h,
		log:       cfg.Logger,
		conns:     make(map[*Conn]struct{}),
		handoff:   make(chan *Conn),
		done:      make(chan struct{}),
		authLimit: authLimiter{limit: cfg.AuthFailures, now: time.Now},
	}, nil
}

// Addr is the address the listener accepts on.
func (l *Listener) Addr() net.Addr { return l.l.Addr() }

// Serve accepts clients until Close is called, then returns nil. It returns another error
// only when the listening socket fails for good.
func (l *Listener) Serve() error {
	var backoff time.Duration
	for {
		nc, err := l.l.Accept()
		if err != nil {
			if l.isClosed() {
				return nil
			}
			if errors.Is(err, net.ErrClosed) {
				return fmt.Errorf("mysqlserver accept: %w", err)
			}
			// Out of file descriptors and the like: wait, then try again.
			backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
			l.log.Warn("accept failed, retrying", "err", err, "backoff", backoff)
			time.Sleep(backoff)
			continue
		}
		backoff = 0
		if !l.admit() {
			l.refuseConn(nc, errTooManyConnections())
			continue
		}
		if !l.dispatch(newConn(l, nc)) {
			l.release()
			_ = nc.Close()
			return nil
		}
	}
}

// Close stops accepting, closes every client connection and waits until every
// connection goroutine (and so every Handler call) has returned.
func (l *Listener) Close() error {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		l.wg.Wait()
		return nil
	}
	l.closed = true
	close(l.done)
	err := l.l.Close()
	for c := range l.conns {
		c.Close()
	}
	l.mu.Unlock()
	l.wg.Wait()
	return err
}

// refuseConn answers a client the listener does not serve with one error packet (instead of
// the greeting, as MySQL does) and closes it, on a goroutine of its own: the accept loop never
// waits for a client.
func (l *Listener) refuseConn(nc net.Conn, err *mysql.MyError) {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		_ = nc.Close()
		return
	}
	l.wg.Add(1)
	l.mu.Unlock()
	go func() {
		defer l.wg.Done()
		_ = nc.SetWriteDeadline(time.Now().Add(time.Second))
		_ = WritePacket(nc, 0, appendErrPacket(nil, err))
		_ = nc.Close()
	}()
}

func (l *Listener) isClosed() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.closed
}

// track registers c, unless the listener is closed.
func (l *Listener) track(c *Conn) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return false
	}
	l.conns[c] = struct{}{}
	return true
}

func (l *Listener) untrack(c *Conn) {
	l.mu.Lock()
	delete(l.conns, c)
	l.mu.Unlock()
}

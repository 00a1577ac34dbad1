package mysqlserver

// The idle timeout: how long the gateway waits for a client's next command (MySQL's
// wait_timeout). MariaDB 10.11 closes such a connection without a word (MySQL 8 sends
// ER_CLIENT_INTERACTION_TIMEOUT first); so does the gateway.
//
// The socket's read deadline is moved at most once per quarter of the timeout, so the
// per-command cost is a clock read: a deadline that fires early (it was set up to a quarter
// of the timeout before the wait began) is pushed to the exact end of the wait and the wait
// goes on. The same deadline bounds the rest of a command once its first byte is here (at
// least three quarters of the timeout), as net_read_timeout does in MySQL.

import (
	"errors"
	"os"
	"time"
)

// idleTimer is a connection's idle timeout and the read deadline it set on the socket.
type idleTimer struct {
	d        time.Duration
	deadline time.Time // zero: none set
}

// errIdleTimeout ends a connection that sent no command for its idle timeout.
var errIdleTimeout = errors.New("idle timeout: no command from the client")

// SetIdleTimeout sets the longest wait for the client's next command (0: no limit); when it
// passes, the connection is closed (and Handler.ConnectionClosed runs). The handler sets it
// after each command, to the session's wait_timeout.
func (c *Conn) SetIdleTimeout(d time.Duration) { c.idle.d = max(d, 0) }

// IdleTimeout is the current idle timeout.
func (c *Conn) IdleTimeout() time.Duration { return c.idle.d }

// awaitCommand returns once the client has sent the first byte of its next command, or
// errIdleTimeout when it did not within the idle timeout.
func (c *Conn) awaitCommand() error {
	t := &c.idle
	if t.d == 0 {
		if !t.deadline.IsZero() {
			t.deadline = time.Time{}
			return c.raw.SetReadDeadline(time.Time{})
		}
		return nil
	}
	start := time.Now()
	c.extendReadDeadline(start)
	if c.pendingInput() {
		return nil // the command is here already (pipelined): one clock read
	}
	for {
		err := c.awaitInput()
		if err == nil {
			c.extendReadDeadline(time.Now())
			return nil
		}
		if !errors.Is(err, os.ErrDeadlineExceeded) {
			return err
		}
		if time.Since(start) >= t.d {
			return errIdleTimeout
		}
		t.deadline = start.Add(t.d)
		if err := c.raw.SetReadDeadline(t.deadline); err != nil {
			return err
		}
	}
}

// extendReadDeadline makes sure the read deadline leaves between three quarters of the idle
// timeout and the whole of it from now, moving it (to now + timeout) only when it does not:
// a timeout that got shorter (SET wait_timeout) moves it nearer.
func (c *Conn) extendReadDeadline(now time.Time) {
	t := &c.idle
	if left := t.deadline.Sub(now); t.d > 0 && (left < t.d-t.d/4 || left > t.d) {
		t.deadline = now.Add(t.d)
		_ = c.raw.SetReadDeadline(t.deadline)
	}
}

// pendingInput says whether bytes from the client are buffered.
func (c *Conn) pendingInput() bool {
	return len(c.rd.buffered()) > 0 || (c.zc != nil && c.zc.pendingInput())
}

// awaitInput blocks until a byte from the client is buffered, consuming nothing (so it
// can be retried after a deadline).
func (c *Conn) awaitInput() error {
	if len(c.rd.buffered()) > 0 {
		return nil
	}
	if c.zc != nil {
		return c.zc.awaitInput()
	}
	return c.rd.fill(1)
}

package tabletserver

import (
	"context"
	"time"

	"github.com/go-mysql-org/go-mysql/mysql"
)

// Settings is the session state a client set, replayed on a backend connection that lacks it:
// SQL statements (the router's session gives one SET of every variable it changed, with the
// values the server reported). Key identifies them: equal keys, equal state. A nil *Settings
// or an empty Key means the base state: the server's defaults and the gateway's tracking.
type Settings struct {
	Key        string
	Statements []string
	// WaitTimeout is the wait_timeout they give the connection (0: the server's default):
	// MariaDB closes a connection idle longer, so the pool does not hand one out after that.
	WaitTimeout time.Duration
}

// partialKey marks a connection whose settings are half applied: the next apply resets it.
const partialKey = "\x00partial"

// DirtyKey marks a connection that holds state another session must not inherit: the next
// apply resets it.
const dirtyKey = "\x00dirty"

func (s *Settings) key() string {
	if s == nil {
		return ""
	}
	return s.Key
}

// RestoreTracking puts the gateway's session tracking back on a connection whose client
// changed it (a SET of session_track_*).
func (c *Conn) RestoreTracking(ctx context.Context) error {
	_, err := c.Silent(ctx, c.be.baseTracking())
	return err
}

// applySettings makes the connection's session state that of s: nothing to do when the
// connection already has it; otherwise COM_RESET_CONNECTION (and the base tracking) if it had
// other settings, then the settings' statements, all in one write; replies discarded. A
// failing SET is returned as the backend's *mysql.MyError.
func (c *Conn) applySettings(ctx context.Context, s *Settings) error {
	key := s.key()
	if key == c.settingsKey {
		return nil
	}
	var pre []string
	if c.settingsKey != "" {
		if !c.canReset {
			// Servers without COM_RESET_CONNECTION (MariaDB < 10.2.4): a fresh connection.
			c.discard = true
			return errResetUnsupported
		}
		pre = append(pre, c.be.freshState(c.caps))
	}
	var stmts []string
	if s != nil {
		stmts = s.Statements
	}
	c.settingsKey = partialKey
	if err := c.resetAnd(ctx, pre != nil, append(pre, stmts...)); err != nil {
		return err
	}
	c.settingsKey = key
	c.serverWait = s.waitTimeout()
	if key != "" {
		c.ts.stats.settingsApplied.Add(1)
	}
	return nil
}

func (s *Settings) waitTimeout() time.Duration {
	if s == nil {
		return 0
	}
	return s.WaitTimeout
}

// resetAnd sends, in one write, a COM_RESET_CONNECTION (when reset), the switch to the
// holder tablet's database if the connection is on another, and the statements, and reads
// their replies: the first ERR is returned (a refused switch as the client's error).
func (c *Conn) resetAnd(ctx context.Context, reset bool, stmts []string) error {
	sw := c.switchKind()
	if len(stmts) == 0 && !reset && sw == switchNone {
		return nil
	}
	if reset && sw == switchMulti {
		sw = switchTwo // after the reset, multi-statements may be off (conn.go)
	}
	b := c.wbuf[:0]
	if reset {
		b = append(b, 1, 0, 0, 0, mysql.COM_RESET_CONNECTION)
	}
	b = c.appendSwitch(b, sw)
	for _, q := range stmts {
		start := len(b)
		b = append(b, 0, 0, 0, 0, mysql.COM_QUERY)
		b = append(b, q...)
		setHeader(b[start:])
	}
	c.wbuf = b
	if err := c.usable(); err != nil {
		return err
	}
	c.begin(ctx)
	var firstErr error
	_, err := c.rw.Write(b)
	if err != nil {
		err = &forwardError{backend: true, err: err}
	}
	deprecate := c.caps&mysql.CLIENT_DEPRECATE_EOF != 0
	c.more = len(stmts) + switchReplies(sw)
	if reset {
		c.more++
	}
	readOne := func() {
		c.more--
		c.parser.reset(replyQuery, deprecate, false, nil)
		var r Result
		r, err = c.forward(nil, nil)
		if err == nil && r.Err != nil && firstErr == nil {
			firstErr = r.Err
		}
	}
	if reset && err == nil {
		readOne()
	}
	if sw != switchNone && err == nil {
		var swErr *schemaSwitchError
		if swErr, err = c.readSwitch(sw); swErr != nil && firstErr == nil {
			firstErr = swErr.err
		}
	}
	for range stmts {
		if err != nil {
			break
		}
		readOne()
	}
	err = c.stoppedEarly(err)
	c.more = 0
	reason := c.end()
	if _, err = c.finish(mysql.COM_QUERY, Result{}, err, reason); err != nil {
		return err
	}
	if reset {
		c.stmts.forget()
		c.multiUnknown = true // as after a client's COM_RESET_CONNECTION (conn.go)
		c.ts.stats.resets.Add(1)
	}
	if firstErr != nil {
		if reset {
			c.discard = true // the reset or the tracking failed: do not trust the connection
		}
		return firstErr
	}
	return nil
}

// Reset undoes every session state on the connection (COM_RESET_CONNECTION: the transaction
// is rolled back, user variables, temporary tables, locks and prepared statements go) and puts
// the base tracking back, so that the pool can give it to another session.
func (c *Conn) Reset(ctx context.Context) error {
	if !c.canReset {
		c.discard = true
		return errResetUnsupported
	}
	c.settingsKey = partialKey
	if err := c.resetAnd(ctx, true, []string{c.be.freshState(c.caps)}); err != nil {
		return err
	}
	c.settingsKey, c.serverWait = "", 0
	return nil
}

// MarkDirty records that the connection holds state no other session may inherit: the pool
// resets it before it serves anyone else.
func (c *Conn) MarkDirty() { c.settingsKey = dirtyKey }

package tabletserver

// Query timeouts and kills. A timed-out query is really stopped on the server: KILL QUERY goes
// through the control connection, while the forwarder stops forwarding at the next packet and
// drains the rest of the reply, so the backend connection stays usable. A deadline on the
// socket is the backstop if the kill does not land. The timer is created once per connection
// and re-armed per query: no allocation.

import (
	"context"
	"time"

	"github.com/go-mysql-org/go-mysql/mysql"
)

// killGrace is how long a killed query may take to end before the socket's deadline breaks
// it (and the connection).
const killGrace = 5 * time.Second

// begin arms the query timeout: the configured one, or ctx's deadline if sooner.
func (c *Conn) begin(ctx context.Context) {
	timeout := c.queryTimeout
	if dl, ok := ctx.Deadline(); ok {
		if d := time.Until(dl); timeout == 0 || d < timeout {
			timeout = max(d, time.Millisecond)
		}
	}
	c.killMu.Lock()
	c.running = true
	c.reason.Store(reasonNone)
	c.killMu.Unlock()
	if timeout > 0 {
		c.timeout = timeout
		c.timer.Reset(timeout)
		c.timerArmed = true
	}
}

// end disarms the timeout. When the timer already fired, it waits for the callback (and its
// KILL QUERY) to finish; it also waits for a KillQuery in flight. So no kill meant for this
// command can reach the next one. It returns why the command was stopped, if it was.
func (c *Conn) end() uint32 {
	if c.timerArmed {
		if !c.timer.Stop() {
			<-c.timerDone
		}
		c.timerArmed = false
	}
	c.killMu.Lock()
	c.running = false
	for c.killing {
		c.killDone.Wait()
	}
	reason := c.reason.Load()
	c.killMu.Unlock()
	if reason != reasonNone {
		if !c.broken && c.nc != nil {
			// Lift the backstop deadline that the kill set.
			if err := c.nc.SetReadDeadline(time.Time{}); err != nil {
				c.fail()
			}
		}
	}
	return reason
}

func (c *Conn) reasonError(reason uint32) *mysql.MyError {
	switch reason {
	case reasonTimeout:
		c.ts.stats.queryTimeouts.Add(1)
		return errQueryTimeout(c.ts.alias, c.timeout)
	case reasonMaxRows:
		c.ts.stats.maxRowsExceeded.Add(1)
		return errMaxRows(c.ts.alias, c.maxRows)
	case reasonKilled:
		return errKilled(c.ts.alias)
	}
	return errCanceled(c.ts.alias, context.Canceled)
}

// KillQuery stops the command running on this connection, if any: the server gets KILL QUERY
// (through the control connection) and the command's Exec returns a *StatementError (1317)
// once the rest of its reply is drained; the connection and its transaction stay usable. It
// does nothing when the connection is idle, or when its command is already being stopped.
// Any goroutine may call it. The KILL cannot reach a later command of the connection: the
// running command does not end before the KILL has been answered.
//
// It kills whatever command runs now, whoever holds the connection: a caller that may still
// have the connection after its holder returned it to the pool (which can hand it to another
// session) must use KillQueryOnLease.
func (c *Conn) KillQuery(ctx context.Context) error {
	return c.kill(ctx, reasonKilled, 0)
}

// Lease identifies the current hand-out of the connection (by Get or Reserve): it changes
// each time the pool hands the connection out. Read it while holding the connection.
func (c *Conn) Lease() uint64 { return c.lease.Load() }

// KillQueryOnLease is KillQuery for a connection that may have been returned to its pool and
// handed out again since the caller saw it: it kills only a command run under lease (Lease,
// read by the holder before it began the command), and does nothing otherwise.
func (c *Conn) KillQueryOnLease(ctx context.Context, lease uint64) error {
	if lease == 0 {
		return nil // never handed out
	}
	return c.kill(ctx, reasonKilled, lease)
}

// onTimeout runs on the timer's goroutine when the query timeout fires.
func (c *Conn) onTimeout() {
	_ = c.kill(c.be.ctx, reasonTimeout, 0) // a failed KILL is logged; the deadline backs it up
	c.timerDone <- struct{}{}
}

// kill stops the running command (if lease is not 0, only one run under that lease): it sets
// reason (the forwarder stops forwarding at the next packet), sets a backstop deadline on the
// socket and sends KILL QUERY through the control connection. end() waits for it.
func (c *Conn) kill(ctx context.Context, reason uint32, lease uint64) error {
	c.killMu.Lock()
	if !c.running || c.reason.Load() != reasonNone || lease != 0 && c.lease.Load() != lease {
		c.killMu.Unlock()
		return nil
	}
	c.reason.Store(reason)
	c.killing = true
	c.killMu.Unlock()
	defer func() {
		c.killMu.Lock()
		c.killing = false
		c.killDone.Broadcast()
		c.killMu.Unlock()
	}()
	if c.nc != nil {
		_ = c.nc.SetReadDeadline(time.Now().Add(killGrace))
	}
	// The command cannot end before this returns: bound the wait.
	ctx, cancel := context.WithTimeout(ctx, c.be.cfg.Load().ConnectTimeout)
	defer cancel()
	if err := c.be.killQuery(ctx, c.threadID); err != nil {
		// The deadline set above still ends the command's wait (and the connection).
		c.be.log.Warn("kill query failed", "thread", c.threadID, "err", err)
		return err
	}
	c.ts.stats.kills.Add(1)
	return nil
}

// stopQuery is kill from the holder's own goroutine (the forwarder, on too many rows).
func (c *Conn) stopQuery(reason uint32) { _ = c.kill(c.be.ctx, reason, 0) }

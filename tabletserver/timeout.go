package tabletserver

// Query timeouts and kills. A timed-out query is really stopped on the server: KILL QUERY goes
// through the control connection, while the forwarder stops forwarding at the next packet and
// drains the rest of the reply, so the backend connection stays usable. A deadline on the
// socket is the backstop if the kill does not land. The timer is created once per connection
// and re-armed per query: no allocation.

import (
	"context"
	"time"
)

// killGrace is how long a killed query may take to end before the socket's deadline breaks
// it (and the connection).
const killGrace = 5 * time.Second

// begin arms the query timeout: the configured one, or ctx's deadline if sooner.
func (c *Conn) begin(ctx context.Context) {
	timeout := c.ts.cfg.QueryTimeout
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
// KILL QUERY) to finish, so that no kill meant for this query can reach the next one. It returns
// why the query was stopped, if it was.
func (c *Conn) end() uint32 {
	if c.timerArmed {
		if !c.timer.Stop() {
			<-c.timerDone
		}
		c.timerArmed = false
	}
	c.killMu.Lock()
	c.running = false
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

func (c *Conn) reasonError(reason uint32) error {
	switch reason {
	case reasonTimeout:
		c.ts.stats.queryTimeouts.Add(1)
		return errQueryTimeout(c.ts.alias, c.timeout)
	case reasonMaxRows:
		c.ts.stats.maxRowsExceeded.Add(1)
		return errMaxRows(c.ts.alias, c.maxRows)
	}
	return errCanceled(c.ts.alias, context.Canceled)
}

// onTimeout runs on the timer's goroutine when the query timeout fires.
func (c *Conn) onTimeout() {
	c.kill(reasonTimeout)
	c.timerDone <- struct{}{}
}

// kill stops the running query: it sets reason (the forwarder stops forwarding at the next
// packet), sets a backstop deadline on the socket and sends KILL QUERY through the control
// connection.
func (c *Conn) kill(reason uint32) {
	c.killMu.Lock()
	if !c.running || c.reason.Load() != reasonNone {
		c.killMu.Unlock()
		return
	}
	c.reason.Store(reason)
	c.killMu.Unlock()
	if c.nc != nil {
		_ = c.nc.SetReadDeadline(time.Now().Add(killGrace))
	}
	if c.ts.control == nil {
		return // unit tests
	}
	ctx, cancel := context.WithTimeout(c.ts.ctx, c.ts.cfg.ConnectTimeout)
	defer cancel()
	if err := c.ts.KillQuery(ctx, c.threadID); err != nil {
		// The deadline set above still ends the query's wait.
		c.ts.log.Warn("kill query failed", "thread", c.threadID, "err", err)
		return
	}
	c.ts.stats.kills.Add(1)
}

// stopQuery is kill from the holder's own goroutine (the forwarder, on too many rows).
func (c *Conn) stopQuery(reason uint32) { c.kill(reason) }

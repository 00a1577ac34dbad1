package tabletserver

import (
	"context"

	"github.com/go-mysql-org/go-mysql/mysql"
)

// Settings is the session state a client set (SET statements, in order), replayed on a
// backend connection that lacks it. Key identifies the list: equal keys, equal statements.
// A nil *Settings or an empty Key means the server's defaults.
type Settings struct {
	Key        string
	Statements []string
}

// partialKey marks a connection whose settings are half applied: the next apply resets it.
const partialKey = "\x00partial"

func (s *Settings) key() string {
	if s == nil {
		return ""
	}
	return s.Key
}

// applySettings makes the connection's session state that of s: nothing to do when the
// connection already has it; otherwise COM_RESET_CONNECTION if it had other settings, then each
// SET statement, replies discarded. A failing SET is returned as the backend's *mysql.MyError.
func (c *Conn) applySettings(ctx context.Context, s *Settings) error {
	key := s.key()
	if key == c.settingsKey {
		return nil
	}
	if c.settingsKey != "" {
		if !c.canReset {
			// Servers without COM_RESET_CONNECTION (MariaDB < 10.2.4): a fresh connection.
			c.discard = true
			return errResetUnsupported
		}
		c.parser.reset(replyQuery)
		r, err := c.exchange(ctx, mysql.COM_RESET_CONNECTION, c.command(mysql.COM_RESET_CONNECTION, ""), nil)
		if err != nil {
			return err
		}
		if r.Err != nil {
			c.discard = true
			return r.Err
		}
		c.ts.stats.resets.Add(1)
	}
	if key == "" {
		return nil
	}
	c.settingsKey = partialKey
	for _, stmt := range s.Statements {
		c.parser.reset(replyQuery)
		r, err := c.exchange(ctx, mysql.COM_QUERY, c.command(mysql.COM_QUERY, stmt), nil)
		c.shrinkWbuf()
		if err != nil {
			return err
		}
		if r.Err != nil {
			return r.Err
		}
	}
	c.settingsKey = key
	c.ts.stats.settingsApplied.Add(1)
	return nil
}

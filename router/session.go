package router

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/go-mysql-org/go-mysql/mysql"

	"github.com/vtdirect/vtdirect/mysqlserver"
	"github.com/vtdirect/vtdirect/tabletserver"
)

// maxSettings bounds the SET statements a session may accumulate: each is replayed when the
// session moves to another backend connection.
const maxSettings = 64

// Session is the router's state for one client connection. Only the connection's own
// goroutine touches it, except the fields under killMu, which KILL reads from other sessions.
type Session struct {
	conn   *mysqlserver.Conn
	ctx    context.Context // ends when the client goes
	cancel context.CancelFunc

	target    Target
	hasTarget bool
	settings  tabletserver.Settings

	// pinned is the backend connection the session holds between statements: during a
	// transaction, or for good once the session made state that cannot be replayed.
	pinned *tabletserver.Conn
	// inTx: the backend reported a transaction open. reserved: the session made connection
	// state (temporary tables, locks, user variables) and keeps its connection.
	inTx, reserved bool
	// autocommit is the session's autocommit; backend connections always run with it on and
	// a session with it off gets an implicit BEGIN.
	autocommit bool
	// nextTx is a SET TRANSACTION waiting for the session's next transaction.
	nextTx string

	rnd uint64 // xorshift state for choosing among equal tablets

	// lost says what the session lost with a backend connection that failed after the
	// client already had its whole reply; the next statement reports it.
	lost string

	killMu      sync.Mutex         // guards active and activeLease
	active      *tabletserver.Conn // the connection running the session's statement, for KILL
	activeLease uint64             // its hand-out, so that a KILL never reaches its next user
}

func (s *Session) setActive(c *tabletserver.Conn) {
	var lease uint64
	if c != nil {
		lease = c.Lease()
	}
	s.killMu.Lock()
	s.active, s.activeLease = c, lease
	s.killMu.Unlock()
}

func (s *Session) activeConn() (*tabletserver.Conn, uint64) {
	s.killMu.Lock()
	defer s.killMu.Unlock()
	return s.active, s.activeLease
}

// unpin forgets the pinned connection (the caller recycled or closed it) and the state that
// lived on it.
func (s *Session) unpin() {
	s.pinned, s.inTx, s.reserved = nil, false, false
}

// lostState names what a session loses with its pinned connection, or "".
func (s *Session) lostState() string {
	switch {
	case s.pinned == nil:
		return ""
	case s.inTx:
		return "the open transaction (rolled back)"
	case s.reserved:
		return "the session's connection state (temporary tables, locks, user variables)"
	}
	return ""
}

// status is the server status the gateway reports in the replies it makes itself.
func (s *Session) status() uint16 {
	var st uint16
	if s.autocommit {
		st |= mysql.SERVER_STATUS_AUTOCOMMIT
	}
	if s.inTx {
		st |= mysql.SERVER_STATUS_IN_TRANS
	}
	return st
}

func withSuffix(err error, suffix string) error {
	var me *mysql.MyError
	if errors.As(err, &me) {
		return &mysql.MyError{Code: me.Code, State: me.State, Message: me.Message + suffix}
	}
	return fmt.Errorf("%w%s", err, suffix)
}

// IntN is the picker's random source: a xorshift generator owned by the session, so that
// picks need no lock and no allocation.
func (s *Session) IntN(n int) int {
	x := s.rnd
	x ^= x << 13
	x ^= x >> 7
	x ^= x << 17
	s.rnd = x
	return int(x % uint64(n))
}

// withSetting returns the session's settings with one more SET statement, to be replayed on
// the next backend connection that serves the session: a SET of the same variable replaces
// the earlier one (the last value wins, in the order the client set them). The session is
// not changed: the caller stores the result once the statement succeeded.
func (s *Session) withSetting(stmt []byte) (tabletserver.Settings, error) {
	q := strings.TrimSpace(strings.TrimRight(string(stmt), "; \t\r\n"))
	name, single := settingName([]byte(q))
	kept := make([]string, 0, len(s.settings.Statements)+1)
	for _, have := range s.settings.Statements {
		if have == q {
			continue // moves to the end
		}
		if single {
			if n, ok := settingName([]byte(have)); ok && n == name {
				continue
			}
		}
		kept = append(kept, have)
	}
	if len(kept) >= maxSettings {
		return tabletserver.Settings{}, &mysql.MyError{Code: mysql.ER_UNKNOWN_ERROR, State: "HY000", Message: "vtdirect: this session has " +
			"set too many different variables to carry between backend connections; reconnect, or set them in the server's configuration"}
	}
	kept = append(kept, q)
	return tabletserver.Settings{Statements: kept, Key: strings.Join(kept, "\x00")}, nil
}

// mustPin reports whether a backend status says the connection must stay with the session.
func mustPin(status uint16) bool {
	return status&mysql.SERVER_STATUS_IN_TRANS != 0 || status&mysql.SERVER_STATUS_AUTOCOMMIT == 0
}

package router

import (
	"context"
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
	// transaction, or while autocommit is off.
	pinned       *tabletserver.Conn
	pinnedTablet *tabletserver.TabletServer

	rnd uint64 // xorshift state for choosing among equal tablets

	killMu       sync.Mutex // guards activeServer and activeThread
	activeServer *tabletserver.TabletServer
	activeThread uint32
}

func (s *Session) setActive(ts *tabletserver.TabletServer, thread uint32) {
	s.killMu.Lock()
	s.activeServer, s.activeThread = ts, thread
	s.killMu.Unlock()
}

func (s *Session) active() (*tabletserver.TabletServer, uint32) {
	s.killMu.Lock()
	defer s.killMu.Unlock()
	return s.activeServer, s.activeThread
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
// the next backend connection that serves the session. The session is not changed: the
// caller stores the result once the statement succeeded.
func (s *Session) withSetting(stmt []byte) (tabletserver.Settings, error) {
	q := strings.TrimSpace(strings.TrimRight(string(stmt), "; \t\r\n"))
	for _, have := range s.settings.Statements {
		if have == q {
			return s.settings, nil
		}
	}
	if len(s.settings.Statements) >= maxSettings {
		return tabletserver.Settings{}, &mysql.MyError{Code: mysql.ER_UNKNOWN_ERROR, State: "HY000", Message: "vtdirect: this session has " +
			"accumulated too many SET statements to carry between backend connections; reconnect, or set these variables in the server's configuration"}
	}
	stmts := make([]string, len(s.settings.Statements), len(s.settings.Statements)+1)
	copy(stmts, s.settings.Statements)
	return tabletserver.Settings{Statements: append(stmts, q), Key: s.settings.Key + "\x00" + q}, nil
}

// mustPin reports whether a backend status says the connection must stay with the session.
func mustPin(status uint16) bool {
	return status&mysql.SERVER_STATUS_IN_TRANS != 0 || status&mysql.SERVER_STATUS_AUTOCOMMIT == 0
}

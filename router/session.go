package router

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-mysql-org/go-mysql/mysql"

	"github.com/vtdirect/vtdirect/acl"
	"github.com/vtdirect/vtdirect/classify"
	"github.com/vtdirect/vtdirect/mysqlserver"
	"github.com/vtdirect/vtdirect/session"
	"github.com/vtdirect/vtdirect/tabletserver"
)

// Session is the router's side of one client connection: the session's state (package
// session decides what statements and replies do to it) and the backend connections it uses.
// Only the connection's own goroutine touches it, except the fields under killMu, which KILL
// reads from other sessions.
type Session struct {
	conn   *mysqlserver.Conn
	ctx    context.Context // ends when the client goes
	cancel context.CancelFunc
	id     uint64 // tags the connections it releases, so that it can reclaim them

	target    Target
	hasTarget bool

	state *session.State
	// initial are the settings the handshake gave (its character set), which a reset restores.
	initial session.Settings
	// settings is state.Settings() in the tablet server's form, for Get and MarkSettings.
	settings tabletserver.Settings
	// charset is how the classifier reads the session's statements (its client character set).
	charset classify.Charset
	// baseSQLMode is its backend connections' sql_mode before it sets one, and lexCache the
	// reading of its sql_mode (sqlmode.go).
	baseSQLMode string
	baseKnown   bool      // baseSQLMode is the target's server's (targetSQLMode)
	ex          *Executor // for targetSQLMode
	lexCache    lexCache
	// sqlPrepared are the names of its SQL prepared statements (sqlprepare.go).
	sqlPrepared sqlPrepared
	// caps are the client's reply-format capabilities, which its backend connections share.
	caps uint32

	// held is the backend connection the session keeps between statements (a transaction,
	// connection state), on heldServer.
	held       *tabletserver.Conn
	heldServer *tabletserver.TabletServer
	// last is the connection the session's last statement ran on (released to the pool, under
	// lastLease, on lastServer unless it is held): it has the session's per-connection results
	// when lastExact, and the session reclaims it for the next statement when it can.
	last       *tabletserver.Conn
	lastLease  uint64
	lastServer *tabletserver.TabletServer
	// lastExact are the session's per-connection results last has exactly.
	lastExact session.Needs
	// counted are the holds the executor's metrics last counted for the session.
	counted session.Hold
	// idle is what the client connection's idle timeout was last computed from.
	idle idleKey
	// req is the request of the command being run, kept to reuse.
	req tabletserver.Request

	rnd uint64 // xorshift state for choosing among equal tablets

	// lost says what the session lost with a backend connection that failed after the
	// client already had its whole reply; the next statement reports it.
	lost string
	// retrying: the command runs a second time, its first connection lost (run.go).
	retrying bool

	// clientUser is the client's user, for KILL from other sessions' goroutines (COM_CHANGE_USER
	// changes it on this one's).
	clientUser atomic.Pointer[string]

	// shard is the session's state on sharded keyspaces (sharded_session.go).
	shard shardSession

	// xa is the XA branch the session started and has not ended, when hasXA, on the keyspace
	// and shard xaScope (xa.go).
	xa      classify.Xid
	hasXA   bool
	xaScope string

	// userName and host are the client's (its authenticated user, its address without the
	// port); user is that user's access rules under policy (Executor.rules).
	userName, host string
	user           *acl.User
	policy         *acl.Policy

	killMu      sync.Mutex         // guards active, activeLease and act
	active      *tabletserver.Conn // the connection running the session's statement, for KILL
	activeLease uint64             // its hand-out, so that a KILL never reaches its next user
	act         activity           // what the session does, for SHOW PROCESSLIST
}

// retarget changes the session's target (has false: none).
func (s *Session) retarget(t Target, has bool) {
	s.target, s.hasTarget = t, has
	s.baseKnown = false // another server's global sql_mode, maybe (lexOptions)
	name := ""
	if has {
		name = t.String()
	}
	s.killMu.Lock()
	s.act.db = name
	s.killMu.Unlock()
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

// refreshSettings converts the session's settings for the tablet servers, when they changed.
func (s *Session) refreshSettings() bool {
	set := s.state.Settings()
	if set.Key() == s.settings.Key {
		return false
	}
	s.settings = tabletserver.Settings{Key: set.Key()}
	if sql := set.SQL(); sql != "" {
		s.settings.Statements = []string{sql}
	}
	s.charset = classify.CharsetSafe
	if v, ok := set.Get("character_set_client"); ok {
		s.charset = classify.CharsetByName(v)
	}
	if v, ok := set.Get("wait_timeout"); ok {
		if n, err := strconv.ParseFloat(v, 64); err == nil {
			s.settings.WaitTimeout = time.Duration(n * float64(time.Second))
		}
	}
	return true
}

// settingsBytes is what the session's remembered settings weigh.
func (s *Session) settingsBytes() int {
	n := len(s.settings.Key)
	for _, q := range s.settings.Statements {
		n += len(q)
	}
	return n
}

// filter is what session-tracking information the client gets: nil when it did not negotiate
// CLIENT_SESSION_TRACK.
func (s *Session) filter() tabletserver.TrackFilter {
	if s.conn.Capabilities()&mysql.CLIENT_SESSION_TRACK == 0 {
		return nil
	}
	return trackFilter{s.state.ClientTracking()}
}

// trackFilter adapts the client's tracking preferences to the forwarder.
type trackFilter struct{ p session.TrackPrefs }

func (f trackFilter) WantsVar(name string) bool { return f.p.WantsVar(name) }
func (f trackFilter) WantsSchema() bool         { return f.p.Schema }
func (f trackFilter) WantsStateChange() bool    { return f.p.StateChange }

var _ tabletserver.TrackFilter = trackFilter{}

// forgetLast drops the session's claim on the connection of its last statement.
func (s *Session) forgetLast() {
	if s.last != nil && s.last != s.held {
		s.last.Untag(s.lastLease)
	}
	s.last, s.lastServer, s.lastExact = nil, nil, 0
}

// dropHeld lets the held connection go: reset when it has state another session must not
// inherit (or a transaction), closed if that fails.
func (s *Session) dropHeld() {
	c := s.held
	if c == nil {
		return
	}
	s.held, s.heldServer = nil, nil
	if s.last == c {
		s.last, s.lastServer, s.lastExact = nil, nil, 0
	}
	if c.Killed() != nil {
		c.Close()
		return
	}
	c.SetTransaction(false)
	h := s.state.Holds()
	if h&session.HoldXA != 0 {
		// A prepared XA transaction survives COM_RESET_CONNECTION and leaves the connection
		// refusing statements (1399); only closing it hands the branch to XA RECOVER.
		c.Close()
		return
	}
	// Any hold is state another session must not see: a table lock, SET TRANSACTION's next
	// transaction, a one-shot insert_id, warnings, FOUND_ROWS; not only the dirty ones.
	if h != 0 || s.state.InTransaction() {
		ctx, cancel := context.WithTimeout(context.Background(), resetTimeout)
		err := c.Reset(ctx)
		cancel()
		if err != nil {
			c.Close()
			return
		}
	}
	c.Release(0)
}

// lostState names what a session loses with its held connection, or "".
func (s *Session) lostState() string {
	if s.held == nil {
		return ""
	}
	if s.state.InTransaction() {
		return "the open transaction (rolled back)"
	}
	if h := s.state.Holds(); h != 0 {
		return "the session's connection state (" + h.String() + ")"
	}
	return ""
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

func (s *Session) setUser(u string) { s.clientUser.Store(&u) }

// clientUserName is the client's user, safe to read from another session's goroutine.
func (s *Session) clientUserName() string {
	if u := s.clientUser.Load(); u != nil {
		return *u
	}
	return ""
}

package session

import (
	"strings"

	"github.com/go-mysql-org/go-mysql/mysql"
)

// Hold is a reason for the session to keep its backend connection between statements.
type Hold uint16

const (
	HoldTx         Hold = 1 << iota // a transaction is open
	HoldXA                          // an XA transaction is open (it may outlive IN_TRANS: XA PREPARE)
	HoldTableLock                   // LOCK TABLES, a global read lock, a backup lock: until UNLOCK
	HoldOneShotTx                   // SET TRANSACTION: the next transaction's characteristics
	HoldOneShotVar                  // insert_id, rand_seed1/2, gtid_seq_no: for the next statement
	HoldUserVars                    // user variables
	HoldTempTables                  // temporary tables
	HoldLocks                       // GET_LOCK() locks
	HoldPrepared                    // SQL-level prepared statements
	HoldHandler                     // open HANDLERs
	HoldUnknown                     // state the gateway cannot see (unclassified statement, unexplained state change)
	// HoldDiagnostics: the last statement left warnings or an error, which only its own
	// connection can show (SHOW WARNINGS, GET DIAGNOSTICS): kept until a statement clears them.
	HoldDiagnostics
	// HoldFoundRows: the last statement was a SELECT SQL_CALC_FOUND_ROWS, whose FOUND_ROWS()
	// only its connection knows: kept for the next statement.
	HoldFoundRows
)

// dirty are the holds that are never provably gone: a connection that had them is reset before
// another session may use it.
const dirty = HoldUserVars | HoldTempTables | HoldLocks | HoldPrepared | HoldHandler | HoldUnknown

var holdNames = [...]string{"transaction", "xa_transaction", "table_lock", "set_transaction", "one_shot_variable",
	"user_variables", "temporary_tables", "named_locks", "prepared_statements", "handlers", "unknown_state",
	"diagnostics", "found_rows"}

// Names lists the reasons, for metrics and messages.
func (h Hold) Names() []string {
	var out []string
	for i, n := range holdNames {
		if h&(1<<i) != 0 {
			out = append(out, n)
		}
	}
	return out
}

func (h Hold) String() string { return strings.Join(h.Names(), ",") }

// Defaults is what a new session starts from: the backend's base state.
type Defaults struct {
	// Autocommit is the server's global autocommit.
	Autocommit bool
	// Track is the server's global session tracking configuration: what a client that asks
	// for CLIENT_SESSION_TRACK is told, until it changes it.
	Track TrackPrefs
	// Sequence: the server has MariaDB's Sequence engine (seq_1_to_N), used to restore
	// FOUND_ROWS() on another connection.
	Sequence bool
}

// TrackPrefs is a client's own session tracking configuration (session_track_* variables).
// The gateway's backend connections track everything; what reaches a client that negotiated
// CLIENT_SESSION_TRACK is filtered to what it asked for.
type TrackPrefs struct {
	SystemVariables string // session_track_system_variables: "*" or a comma-separated list
	Schema          bool   // session_track_schema
	StateChange     bool   // session_track_state_change
}

// WantsVar reports whether the client tracks a system variable.
func (p TrackPrefs) WantsVar(name string) bool {
	if p.SystemVariables == "*" {
		return true
	}
	for _, v := range strings.Split(p.SystemVariables, ",") {
		if strings.EqualFold(strings.TrimSpace(v), name) {
			return true
		}
	}
	return false
}

// Results are the per-connection results of the session's last statement, as its replies
// showed them.
type Results struct {
	LastInsertID   uint64 // LAST_INSERT_ID()
	FoundRows      uint64 // FOUND_ROWS(), when FoundRowsKnown
	FoundRowsKnown bool
	RowCount       int64  // ROW_COUNT()
	Warnings       uint16 // conditions of the last statement that was not a diagnostics one
	// Err is that statement's error, when it failed (its only condition, as far as the
	// gateway knows).
	Err *mysql.MyError
}

// State is one session. Not safe for concurrent use: the connection's goroutine owns it.
type State struct {
	def      Defaults
	settings Settings
	client   TrackPrefs
	inTx     bool
	hold     Hold
	results  Results
	// txSeen: a transaction was open since HoldOneShotTx was set.
	txSeen bool
}

// New returns a session in the backend's base state.
func New(def Defaults) *State {
	s := &State{def: def, client: def.Track}
	s.results.FoundRowsKnown = true
	return s
}

// Settings are the session's system variables to replay on another connection.
func (s *State) Settings() Settings { return s.settings }

// ClientTracking is the client's session tracking configuration.
func (s *State) ClientTracking() TrackPrefs { return s.client }

// Results are the per-connection results the session's next statements may read.
func (s *State) Results() Results { return s.results }

// Holds are the reasons the session keeps its backend connection (0: it holds none).
func (s *State) Holds() Hold { return s.hold }

// Dirty reports whether the held connection has state another session must not inherit: it
// must be reset (or closed) when the session lets it go.
func (s *State) Dirty() bool { return s.hold&dirty != 0 }

// InTransaction reports whether the server said a transaction is open.
func (s *State) InTransaction() bool { return s.inTx }

// Autocommit is the session's autocommit.
func (s *State) Autocommit() bool {
	if v, ok := s.settings.Get("autocommit"); ok {
		return v == "ON" || v == "1"
	}
	return s.def.Autocommit
}

// Status is the server status the gateway puts in the replies it makes itself.
func (s *State) Status() uint16 {
	var st uint16
	if s.Autocommit() {
		st |= mysql.SERVER_STATUS_AUTOCOMMIT
	}
	if s.inTx {
		st |= mysql.SERVER_STATUS_IN_TRANS
	}
	if v, ok := s.settings.Get("sql_mode"); ok {
		if hasMode(v, "NO_BACKSLASH_ESCAPES") {
			st |= mysql.SERVER_STATUS_NO_BACKSLASH_ESCAPED
		}
		if hasMode(v, "ANSI_QUOTES") {
			st |= statusANSIQuotes
		}
	}
	return st
}

// statusANSIQuotes is MariaDB's SERVER_STATUS_ANSI_QUOTES: the session's sql_mode has
// ANSI_QUOTES.
const statusANSIQuotes = 0x8000

func hasMode(modes, mode string) bool {
	for _, m := range strings.Split(modes, ",") {
		if m == mode {
			return true
		}
	}
	return false
}

// WaitTimeout is the session's wait_timeout in seconds ("" when the session did not set it:
// the server's default applies).
func (s *State) WaitTimeout() string {
	v, _ := s.settings.Get("wait_timeout")
	return v
}

// Plan is what the session says of a statement before it runs.
type Plan struct {
	// Hold: the session will keep the connection afterwards (a transaction starts, or state
	// is made): take the connection as a reserved one.
	Hold bool
	// Needs are the per-connection results the statement reads: run it on the connection that
	// has them, or Restore them first.
	Needs Needs
}

// Plan says what a statement will need.
func (s *State) Plan(st *Statement) Plan {
	p := Plan{Needs: st.Needs}
	const making = MakesUserVar | MakesTempTable | MakesLock | MakesTableLock | MakesPrepared |
		MakesHandler | MakesXA | MakesUnknown
	switch {
	case s.hold != 0, st.Begin, st.Makes&making != 0:
		p.Hold = true
	case !s.Autocommit():
		// With autocommit off a statement that touches a table opens a transaction.
		p.Hold = true
	}
	for _, a := range st.Sets {
		if a.Scope == ScopeUser || a.Scope == ScopeTxNext || (a.Scope == ScopeSession && varRole(a.Name) == roleOneShot) {
			p.Hold = true
		}
	}
	return p
}

package session

import (
	"strconv"
	"strings"

	"github.com/go-mysql-org/go-mysql/mysql"
)

// Outcome is what a reply did to the session, for the executor to act on.
type Outcome struct {
	// Hold: keep the backend connection with the session. When false, give it back: it is
	// clean (the session's settings are the only state on it).
	Hold bool
	// Ping: the reply (an ERR) did not say whether a transaction is still open; ask the
	// server (COM_PING keeps the diagnostics area) and tell ApplyStatus.
	Ping bool
	// Reassert: the statement changed the gateway's own session tracking variables on the
	// connection (the client set session_track_*): set them back, and the client's values are
	// now in ClientTracking.
	Reassert bool
	// Read are session variables the statement set that neither session tracking nor a literal
	// value told: read them (SELECT @@session.x) and give them to SetVar.
	Read []string
	// CloseClient: the statement ended the connection (COMMIT ... RELEASE): close the client's
	// too, as MariaDB does.
	CloseClient bool
}

// role is what the gateway does with a system variable the session changed.
type role uint8

const (
	roleSetting      role = iota // replayed on every connection that serves the session
	roleTracking                 // the gateway's own session tracking: the client's preference
	roleLastInsertID             // a per-connection result
	roleOneShot                  // consumed by the next statement: the session holds its connection
	roleIgnore                   // reported but not session state the gateway keeps
)

func varRole(name string) role {
	switch name {
	case "session_track_system_variables", "session_track_schema", "session_track_state_change":
		return roleTracking
	case "last_insert_id", "identity":
		return roleLastInsertID
	case "insert_id", "rand_seed1", "rand_seed2", "gtid_seq_no":
		return roleOneShot
	case "warning_count", "error_count", "in_transaction", "last_gtid", "proxy_user", "external_user":
		return roleIgnore
	}
	return roleSetting
}

// Apply updates the session with the reply to a statement and says what to do next.
func (s *State) Apply(st *Statement, r *Reply) Outcome {
	var out Outcome
	wasTx := s.inTx || r.SawInTrans
	failed := r.Err != nil

	// Transaction state: from the server's flags, never from an error code.
	switch {
	case r.StatusKnown:
		s.inTx = r.Status&mysql.SERVER_STATUS_IN_TRANS != 0
	case failed && (s.inTx || r.SawInTrans || !s.Autocommit() || st.Multi || st.Makes&MakesCall != 0):
		// A deadlock ends the transaction, a lock wait timeout does not (unless
		// innodb_rollback_on_timeout): ask.
		s.inTx = true
		out.Ping = true
	}

	// Settings, from what the server reported...
	for _, v := range r.Vars {
		if contains(st.SetStatementVars, v.Name) {
			continue // SET STATEMENT ... FOR changes them for one statement only
		}
		if s.setVar(v.Name, v.Value) {
			out.Reassert = true
		}
	}
	reported := func(name string) bool {
		for _, v := range r.Vars {
			if v.Name == name && !contains(st.SetStatementVars, name) {
				return true
			}
		}
		return false
	}
	// Setting a character set resets its collation to the set's default, which the tracker
	// does not report: the replay of the character set does the same.
	if reported("character_set_connection") && !reported("collation_connection") {
		s.settings = s.settings.Without("collation_connection")
	}
	if reported("character_set_database") && !reported("collation_database") {
		s.settings = s.settings.Without("collation_database")
	}
	// ...and, for what it did not report, from the SET statement itself.
	if !failed {
		out.Read = s.applyAssignments(st.Sets, reported)
	} else if len(st.Sets) > 0 && st.Multi {
		// Some assignments before the failing statement may have been made: ask.
		for _, a := range st.Sets {
			if a.Scope == ScopeSession && varRole(a.Name) == roleSetting && !reported(a.Name) {
				out.Read = append(out.Read, a.Name)
			}
		}
	}

	s.applyHolds(st, r, failed, wasTx)
	s.applyResults(st, r)

	out.Hold = s.hold != 0
	out.CloseClient = st.Release && !failed
	return out
}

// applyHolds adds the state a statement made and drops what it ended.
func (s *State) applyHolds(st *Statement, r *Reply, failed, wasTx bool) {
	s.hold &^= HoldOneShotVar | HoldFoundRows // consumed by this statement (set again below if it makes them)
	if replacesDiagnostics(st, r) {
		// The diagnostics area is this statement's now.
		s.hold &^= HoldDiagnostics
		if failed || r.Warnings > 0 {
			s.hold |= HoldDiagnostics
		}
	}
	if !failed && st.Makes&MakesCalcFoundRows != 0 {
		s.hold |= HoldFoundRows
	}
	made := !failed || st.Multi || st.Makes&MakesCall != 0
	if failed && st.Makes&MakesCall != 0 {
		// A CALL (or a compound statement) that failed, timed out or was killed may have
		// stopped anywhere in its body, which the server's tracker then does not report.
		s.hold |= HoldUnknown
	}
	// (PREPARE and EXECUTE IMMEDIATE evaluate their text's expression before they parse it.)
	if failed && !made && (!parseError(r.Err) || st.Makes&MakesPrepared != 0) {
		// A statement may evaluate expressions before it fails: a user variable assigned
		// (INSERT ... VALUES (@x := 5, NULL) refused for the NULL) or a GET_LOCK() taken is
		// there although the statement failed.
		if st.Makes&MakesUserVar != 0 {
			s.hold |= HoldUserVars
		}
		if st.Makes&MakesLock != 0 {
			s.hold |= HoldLocks
		}
	}
	if made {
		m := st.Makes
		add := func(bit Makes, h Hold) {
			if m&bit != 0 {
				s.hold |= h
			}
		}
		add(MakesUserVar, HoldUserVars)
		add(MakesTempTable, HoldTempTables)
		add(MakesLock, HoldLocks)
		add(MakesTableLock, HoldTableLock)
		add(MakesPrepared, HoldPrepared)
		add(MakesHandler, HoldHandler)
		add(MakesXA, HoldXA)
		add(MakesUnknown, HoldUnknown)
		for _, a := range st.Sets {
			switch {
			case a.Scope == ScopeUser:
				s.hold |= HoldUserVars
			case a.Scope == ScopeTxNext:
				s.hold |= HoldOneShotTx
				s.txSeen = false
			case a.Scope == ScopeSession && varRole(a.Name) == roleOneShot:
				s.hold |= HoldOneShotVar
			}
		}
		if r.StateChanged && !st.StateExplained {
			s.hold |= HoldUnknown
		}
		if (st.Multi || m&MakesCall != 0) && changesTracking(st, r) {
			// The statements after the change ran with the client's tracking, perhaps none:
			// what they changed may not have been reported.
			s.hold |= HoldUnknown
		}
	}
	if !failed {
		if st.Makes&ReleasesTableLock != 0 {
			s.hold &^= HoldTableLock
		}
		if st.Makes&EndsXA != 0 {
			s.hold &^= HoldXA
		}
	}
	if s.inTx {
		s.hold |= HoldTx
		s.txSeen = true
	} else {
		s.hold &^= HoldTx
		if s.hold&HoldOneShotTx != 0 && (s.txSeen || wasTx) {
			// A transaction ran and ended: SET TRANSACTION's characteristics are used up.
			s.hold &^= HoldOneShotTx
		}
	}
}

// applyResults updates the per-connection results from the reply.
func (s *State) applyResults(st *Statement, r *Reply) {
	if r.LastInsertID != 0 {
		s.results.LastInsertID = r.LastInsertID
	}
	if st.Diagnostics {
		return // SHOW WARNINGS and friends leave the diagnostics area (and the rest) alone
	}
	res := &s.results
	if replacesDiagnostics(st, r) {
		res.Err, res.Warnings = r.Err, r.Warnings
		if r.Err != nil {
			res.Warnings = 1
		}
	}
	switch {
	case r.Err != nil:
		res.RowCount = -1
	case r.ResultSet:
		res.RowCount = -1
		res.FoundRows, res.FoundRowsKnown = r.LastRows, st.Makes&MakesCalcFoundRows == 0
	default:
		res.RowCount = int64(r.Affected)
		if st.Select {
			res.FoundRowsKnown = false // SELECT ... INTO: the server counts what it found
		}
	}
}

// replacesDiagnostics reports whether a statement's conditions replace the diagnostics area, as
// MariaDB does: when it raises one, or opens a table; diagnostics statements never do.
func replacesDiagnostics(st *Statement, r *Reply) bool {
	if st.Diagnostics {
		return false
	}
	return r.Err != nil || r.Warnings > 0 || st.UsesTables
}

// setVar records a system variable the server reported; it reports whether the variable was
// one of the gateway's own tracking variables.
func (s *State) setVar(name, value string) bool {
	switch varRole(name) {
	case roleTracking:
		switch name {
		case "session_track_system_variables":
			s.client.SystemVariables = value
		case "session_track_schema":
			s.client.Schema = isOn(value)
		case "session_track_state_change":
			s.client.StateChange = isOn(value)
		}
		return true
	case roleLastInsertID:
		if n, err := strconv.ParseUint(value, 10, 64); err == nil {
			s.results.LastInsertID = n
		}
	case roleSetting:
		if name == "autocommit" && isOn(value) == s.def.Autocommit {
			s.settings = s.settings.Without(name)
		} else {
			s.settings = s.settings.With(name, value)
		}
	}
	return false
}

// parseError reports an error the server raised before it ran anything.
func parseError(e *mysql.MyError) bool {
	return e != nil && (e.Code == mysql.ER_PARSE_ERROR || e.Code == mysql.ER_SYNTAX_ERROR)
}

// changesTracking reports a statement that set the session tracking variables the gateway
// relies on.
func changesTracking(st *Statement, r *Reply) bool {
	for _, v := range r.Vars {
		if varRole(v.Name) == roleTracking {
			return true
		}
	}
	for _, a := range st.Sets {
		if a.Scope == ScopeSession && varRole(a.Name) == roleTracking {
			return true
		}
	}
	for _, name := range st.SetStatementVars { // SET STATEMENT session_track_... FOR CALL p()
		if varRole(name) == roleTracking {
			return true
		}
	}
	return false
}

// unfreezesClock reports a literal timestamp value that gives the session the current time back.
func unfreezesClock(v string) bool {
	if strings.EqualFold(v, "default") {
		return true
	}
	f, err := strconv.ParseFloat(v, 64)
	return err == nil && f == 0
}

// SetVar records the value of a variable read after a statement (Outcome.Read).
func (s *State) SetVar(name, value string) { s.setVar(name, value) }

// applyAssignments records the session variables a successful SET assigned that session
// tracking did not report, from their literal values; it returns those it could not tell.
func (s *State) applyAssignments(sets []Assignment, reported func(string) bool) []string {
	var read []string
	for _, a := range sets {
		switch a.Scope {
		case ScopeNames, ScopeCharset:
			// The character sets are reported; a character set change resets the collation to
			// its default, unless SET NAMES names one (which is not reported).
			s.settings = s.settings.Without("collation_connection")
			if a.Scope == ScopeNames && a.Collation != "" && !reported("collation_connection") {
				s.settings = s.settings.With("collation_connection", strings.ToLower(a.Collation))
			}
		case ScopeSession:
			if a.Name == "timestamp" && a.Literal && unfreezesClock(a.Value) {
				// SET timestamp = DEFAULT (or 0) lets the clock run again: the value the
				// tracker reports is the moment of the SET, which replayed would freeze it.
				s.settings = s.settings.Without(a.Name)
				continue
			}
			if varRole(a.Name) != roleSetting || reported(a.Name) {
				continue
			}
			switch {
			case a.Literal && strings.EqualFold(a.Value, "default"):
				s.settings = s.settings.Without(a.Name)
			case a.Literal:
				s.setVar(a.Name, a.Value)
			default:
				read = append(read, a.Name)
			}
		}
	}
	return read
}

// ApplyStatus takes the status of a COM_PING sent after Outcome.Ping.
func (s *State) ApplyStatus(status uint16) Outcome {
	s.inTx = status&mysql.SERVER_STATUS_IN_TRANS != 0
	if s.inTx {
		s.hold |= HoldTx
	} else {
		s.hold &^= HoldTx
	}
	return Outcome{Hold: s.hold != 0}
}

// GatewayReply records a statement the gateway answered itself (USE, SHOW DATABASES, KILL...):
// as in MySQL it is a statement, and it replaces ROW_COUNT() and FOUND_ROWS() of the previous
// one. rows < 0 means an OK, else a result set of that many rows.
func (s *State) GatewayReply(rows int64) {
	res := &s.results // such statements open no table: the diagnostics area stays
	if rows < 0 {
		res.RowCount = 0
		return
	}
	res.RowCount = -1
	res.FoundRows, res.FoundRowsKnown = uint64(rows), true
}

// Lost records that the held connection is gone (it broke, or the transaction killer closed
// it): its transaction and every state on it with it.
func (s *State) Lost() {
	s.inTx, s.hold, s.txSeen = false, 0, false
}

// Reset gives the session a fresh state (COM_RESET_CONNECTION, COM_CHANGE_USER); the caller
// has reset or closed the held connection. settings are the session's initial ones (the
// handshake's character set).
func (s *State) Reset(settings Settings) {
	*s = State{def: s.def, client: s.def.Track, settings: settings}
	s.results.FoundRowsKnown = true
}

// SetInitial sets the session's initial settings (from the handshake's collation).
func (s *State) SetInitial(settings Settings) { s.settings = settings }

func isOn(v string) bool {
	return v == "ON" || v == "1" || strings.EqualFold(v, "on") || strings.EqualFold(v, "true")
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

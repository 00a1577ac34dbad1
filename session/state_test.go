package session

import (
	"slices"
	"strings"
	"testing"

	"github.com/go-mysql-org/go-mysql/mysql"
)

const (
	ac = mysql.SERVER_STATUS_AUTOCOMMIT
	tx = mysql.SERVER_STATUS_IN_TRANS
)

func ok(status uint16) *Reply { return &Reply{Status: status, StatusKnown: true} }

func vars(status uint16, kv ...string) *Reply {
	r := ok(status)
	for i := 0; i+1 < len(kv); i += 2 {
		r.Vars = append(r.Vars, Var{kv[i], kv[i+1]})
	}
	r.StateChanged = true
	return r
}

func errReply(code uint16) *Reply {
	return &Reply{Err: mysql.NewError(code, "boom")}
}

func set(name, value string) Statement {
	return Statement{Sets: []Assignment{{Scope: ScopeSession, Name: name, Value: value, Literal: true}}, StateExplained: true}
}

// step is one statement and its reply, and what the session must be after it.
type step struct {
	name  string
	st    Statement
	r     *Reply
	hold  Hold   // expected holds after
	key   string // expected settings key after ("-" = not checked)
	read  []string
	ping  bool
	inTx  bool
	reset bool // Reset before the step
}

func run(t *testing.T, steps []step) {
	t.Helper()
	s := New(Defaults{Autocommit: true, Sequence: true, Track: TrackPrefs{SystemVariables: "autocommit", Schema: true}})
	for _, stp := range steps {
		if stp.reset {
			s.Reset(Settings{})
		}
		out := s.Apply(&stp.st, stp.r)
		if s.Holds() != stp.hold {
			t.Fatalf("%s: holds %v, want %v", stp.name, s.Holds(), stp.hold)
		}
		if out.Hold != (stp.hold != 0) {
			t.Fatalf("%s: Outcome.Hold %v with holds %v", stp.name, out.Hold, s.Holds())
		}
		if stp.key != "-" && strings.ReplaceAll(s.Settings().Key(), "\x00", ";") != stp.key {
			t.Fatalf("%s: settings %q, want %q", stp.name, strings.ReplaceAll(s.Settings().Key(), "\x00", ";"), stp.key)
		}
		if !slices.Equal(out.Read, stp.read) {
			t.Fatalf("%s: read %v, want %v", stp.name, out.Read, stp.read)
		}
		if out.Ping != stp.ping {
			t.Fatalf("%s: ping %v, want %v", stp.name, out.Ping, stp.ping)
		}
		if s.InTransaction() != stp.inTx {
			t.Fatalf("%s: in transaction %v, want %v", stp.name, s.InTransaction(), stp.inTx)
		}
	}
}

func TestSettingsFromTracking(t *testing.T) {
	run(t, []step{
		{name: "relative sql_mode", st: Statement{Sets: []Assignment{{Scope: ScopeSession, Name: "sql_mode"}}, StateExplained: true},
			r: vars(ac, "sql_mode", "ANSI_QUOTES,NO_ZERO_DATE"), key: "sql_mode=ANSI_QUOTES,NO_ZERO_DATE"},
		{name: "isolation", st: Statement{Sets: []Assignment{{Scope: ScopeTxSession}}, StateExplained: true},
			r: vars(ac, "tx_isolation", "SERIALIZABLE"), key: "sql_mode=ANSI_QUOTES,NO_ZERO_DATE;tx_isolation=SERIALIZABLE"},
		{name: "read only does not replace isolation", st: Statement{Sets: []Assignment{{Scope: ScopeTxSession}}, StateExplained: true},
			r: vars(ac, "tx_read_only", "ON"), key: "sql_mode=ANSI_QUOTES,NO_ZERO_DATE;tx_isolation=SERIALIZABLE;tx_read_only=ON"},
		{name: "same variable again moves to the end", st: set("sql_mode", "ANSI"), r: vars(ac, "sql_mode", "ANSI"),
			key: "tx_isolation=SERIALIZABLE;tx_read_only=ON;sql_mode=ANSI"},
		{name: "default removes", st: Statement{Sets: []Assignment{{Scope: ScopeSession, Name: "sql_mode", Value: "DEFAULT", Literal: true}}, StateExplained: true},
			r: vars(ac, "sql_mode", "STRICT_TRANS_TABLES"), key: "tx_isolation=SERIALIZABLE;tx_read_only=ON;sql_mode=STRICT_TRANS_TABLES"},
	})
}

func TestSetNames(t *testing.T) {
	run(t, []step{
		{name: "collation by name is not tracked",
			st: Statement{Sets: []Assignment{{Scope: ScopeSession, Name: "collation_connection", Value: "latin1_bin", Literal: true}}, StateExplained: true},
			r:  ok(ac), key: "collation_connection=latin1_bin"},
		{name: "SET NAMES drops the old collation",
			st:  Statement{Sets: []Assignment{{Scope: ScopeNames, Name: "utf8mb4"}}, StateExplained: true},
			r:   vars(ac, "character_set_client", "utf8mb4", "character_set_connection", "utf8mb4", "character_set_results", "utf8mb4"),
			key: "character_set_client=utf8mb4;character_set_results=utf8mb4;character_set_connection=utf8mb4"},
		{name: "SET NAMES COLLATE",
			st:  Statement{Sets: []Assignment{{Scope: ScopeNames, Name: "latin1", Collation: "LATIN1_BIN"}}, StateExplained: true},
			r:   vars(ac, "character_set_results", "latin1", "character_set_client", "latin1", "character_set_connection", "latin1"),
			key: "character_set_client=latin1;character_set_results=latin1;character_set_connection=latin1;collation_connection=latin1_bin"},
		{name: "a procedure changing the character set drops the collation",
			st: Statement{Makes: MakesCall}, r: vars(ac, "character_set_connection", "utf8mb3"),
			hold: HoldUnknown, key: "character_set_client=latin1;character_set_results=latin1;character_set_connection=utf8mb3"},
	})
}

func TestSettingsSQL(t *testing.T) {
	var s Settings
	s = s.With("sql_mode", "ANSI")
	s = s.With("wait_timeout", "100")
	s = s.With("collation_connection", "latin1_bin")
	s = s.With("character_set_results", "")
	s = s.With("time_zone", `it's \ odd`)
	want := `SET SESSION character_set_results = NULL, collation_connection = 'latin1_bin', sql_mode = 'ANSI', wait_timeout = 100, time_zone = X'69742773205c206f6464'`
	if s.SQL() != want {
		t.Fatalf("SQL\n got %s\nwant %s", s.SQL(), want)
	}
	if s2 := s.With("wait_timeout", "200"); s.SQL() != want || s2.Key() == s.Key() {
		t.Fatal("With changed the original, or the key did not change")
	}
	if got := s.Without("sql_mode").Without("nothing").Len(); got != 4 {
		t.Fatalf("Without: %d vars", got)
	}
}

func TestAutocommit(t *testing.T) {
	s := New(Defaults{Autocommit: true})
	st := set("autocommit", "0")
	out := s.Apply(&st, vars(0, "autocommit", "OFF"))
	if out.Hold || s.Autocommit() || s.Settings().Key() != "autocommit=OFF" {
		t.Fatalf("after SET autocommit=0: hold %v autocommit %v key %q", out.Hold, s.Autocommit(), s.Settings().Key())
	}
	if p := s.Plan(&Statement{Select: true}); !p.Hold {
		t.Fatal("with autocommit off a statement may open a transaction: plan a reserved connection")
	}
	// SELECT 1 opens no transaction (the server says so): nothing held.
	if out := s.Apply(&Statement{Select: true}, &Reply{StatusKnown: true, ResultSet: true, LastRows: 1}); out.Hold {
		t.Fatal("no transaction opened, but the connection is held")
	}
	// A deadlock rolls the transaction back: the session asks the server.
	s.Apply(&Statement{Select: true}, ok(tx))
	out = s.Apply(&Statement{}, errReply(mysql.ER_LOCK_DEADLOCK))
	if !out.Ping || !out.Hold {
		t.Fatalf("after an error in a transaction: ping %v hold %v", out.Ping, out.Hold)
	}
	if s.ApplyStatus(0); s.InTransaction() || s.Holds() != HoldDiagnostics {
		t.Fatalf("the server said no transaction: only the error's diagnostics keep the connection, holds %v", s.Holds())
	}
	st = set("autocommit", "1")
	s.Apply(&st, vars(ac, "autocommit", "ON"))
	if s.Settings().Key() != "" || !s.Autocommit() {
		t.Fatalf("autocommit back to the default: key %q", s.Settings().Key())
	}
}

func TestHolds(t *testing.T) {
	run(t, []step{
		{name: "user variable", st: Statement{Sets: []Assignment{{Scope: ScopeUser, Name: "x"}}, StateExplained: true},
			r: vars(ac), hold: HoldUserVars, key: ""},
		{name: "reset", reset: true, st: Statement{Select: true}, r: &Reply{StatusKnown: true, Status: ac, ResultSet: true}, key: ""},
		{name: "temporary table", st: Statement{Makes: MakesTempTable}, r: ok(ac), hold: HoldTempTables, key: ""},
		{name: "reset2", reset: true, st: Statement{}, r: ok(ac), key: ""},
		{name: "lock tables", st: Statement{Makes: MakesTableLock}, r: ok(ac), hold: HoldTableLock, key: ""},
		{name: "unlock tables", st: Statement{Makes: ReleasesTableLock}, r: ok(ac), key: ""},
		{name: "begin", st: Statement{Begin: true}, r: ok(ac | tx), hold: HoldTx, inTx: true, key: ""},
		{name: "commit", st: Statement{}, r: ok(ac), key: ""},
		{name: "failed user variable assignment makes nothing but diagnostics", st: Statement{Sets: []Assignment{{Scope: ScopeUser, Name: "x"}}},
			r: errReply(1064), hold: HoldDiagnostics, key: ""},
		{name: "SHOW WARNINGS keeps them", st: Statement{Diagnostics: true}, r: &Reply{StatusKnown: true, Status: ac, ResultSet: true, LastRows: 1},
			hold: HoldDiagnostics, key: ""},
		{name: "a statement with warnings", st: Statement{Select: true}, r: &Reply{StatusKnown: true, Status: ac, ResultSet: true, Warnings: 1},
			hold: HoldDiagnostics, key: ""},
		{name: "a SELECT 1 leaves the warnings", st: Statement{Select: true}, r: &Reply{StatusKnown: true, Status: ac, ResultSet: true},
			hold: HoldDiagnostics, key: ""},
		{name: "SQL_CALC_FOUND_ROWS from a table", st: Statement{Select: true, UsesTables: true, Makes: MakesCalcFoundRows}, r: &Reply{StatusKnown: true, Status: ac, ResultSet: true},
			hold: HoldFoundRows, key: ""},
		{name: "call with unexplained state change", st: Statement{Makes: MakesCall}, r: &Reply{StatusKnown: true, Status: ac, StateChanged: true},
			hold: HoldUnknown, key: ""},
		{name: "reset3", reset: true, st: Statement{}, r: ok(ac), key: ""},
		{name: "insert_id is for the next statement", st: set("insert_id", "50"), r: vars(ac, "insert_id", "50"), hold: HoldOneShotVar, key: ""},
		{name: "the next statement used it", st: Statement{}, r: ok(ac), key: ""},
		{name: "set transaction", st: Statement{Sets: []Assignment{{Scope: ScopeTxNext}}, StateExplained: true}, r: ok(ac), hold: HoldOneShotTx, key: ""},
		{name: "select without a transaction keeps it", st: Statement{Select: true}, r: &Reply{StatusKnown: true, Status: ac, ResultSet: true}, hold: HoldOneShotTx, key: ""},
		{name: "begin", st: Statement{Begin: true}, r: ok(ac | tx), hold: HoldOneShotTx | HoldTx, inTx: true, key: ""},
		{name: "commit ends both", st: Statement{}, r: ok(ac), key: ""},
		{name: "multi-statement that failed in a transaction", st: Statement{Multi: true, Begin: true}, r: &Reply{Err: mysql.NewError(1064, "x"), SawInTrans: true},
			hold: HoldTx | HoldDiagnostics, ping: true, inTx: true, key: ""},
	})
}

func TestSetStatementIgnored(t *testing.T) {
	run(t, []step{
		{name: "set statement", st: Statement{SetStatementVars: []string{"max_statement_time"}, Select: true, StateExplained: true},
			r: &Reply{StatusKnown: true, Status: ac, ResultSet: true, Vars: []Var{{"max_statement_time", "10.000000"}}, StateChanged: true}, key: ""},
		{name: "the restore arrives with the next statement", st: Statement{Select: true},
			r: &Reply{StatusKnown: true, Status: ac, ResultSet: true, Vars: []Var{{"max_statement_time", "0.000000"}}}, key: "max_statement_time=0.000000"},
	})
}

func TestTrackingPreferences(t *testing.T) {
	s := New(Defaults{Autocommit: true, Track: TrackPrefs{SystemVariables: "autocommit", Schema: true}})
	st := Statement{Sets: []Assignment{{Scope: ScopeSession, Name: "session_track_system_variables"}}, StateExplained: true}
	out := s.Apply(&st, vars(ac, "session_track_system_variables", "autocommit,tx_isolation"))
	if !out.Reassert || s.ClientTracking().SystemVariables != "autocommit,tx_isolation" || s.Settings().Key() != "" {
		t.Fatalf("reassert %v prefs %+v key %q", out.Reassert, s.ClientTracking(), s.Settings().Key())
	}
	if !s.ClientTracking().WantsVar("TX_ISOLATION") || s.ClientTracking().WantsVar("sql_mode") {
		t.Fatal("WantsVar")
	}
}

func TestNotReportedNotLiteralIsRead(t *testing.T) {
	run(t, []step{
		{name: "SET x = expression, not reported", st: Statement{Sets: []Assignment{{Scope: ScopeSession, Name: "collation_connection"}}, StateExplained: true},
			r: ok(ac), read: []string{"collation_connection"}, key: ""},
		{name: "global is not the session's", st: Statement{Sets: []Assignment{{Scope: ScopeGlobal, Name: "max_connections", Value: "10", Literal: true}}},
			r: ok(ac), key: ""},
	})
}

func TestRestore(t *testing.T) {
	s := New(Defaults{Autocommit: true, Sequence: true})
	s.Apply(&Statement{}, &Reply{StatusKnown: true, Status: ac, Affected: 1, InsertID: 42, LastInsertID: 42})
	if got := s.Restore(NeedLastInsertID, AllNeeds); got != nil {
		t.Fatalf("owner needs nothing, got %v", got)
	}
	if got := s.Restore(NeedLastInsertID|NeedRowCount, 0); !slices.Equal(got, []string{"SET last_insert_id = 42", "DO 0"}) {
		t.Fatalf("restore %v", got)
	}
	s.Apply(&Statement{Select: true}, &Reply{StatusKnown: true, Status: ac, ResultSet: true, LastRows: 7})
	if got := s.Restore(NeedFoundRows|NeedRowCount|NeedDiagnostics, 0); !slices.Equal(got,
		[]string{"SELECT SQL_CALC_FOUND_ROWS 1 FROM seq_1_to_7 LIMIT 0"}) {
		t.Fatalf("restore %v", got)
	}
	s.Apply(&Statement{Makes: MakesCalcFoundRows, Select: true}, &Reply{StatusKnown: true, Status: ac, ResultSet: true, LastRows: 7})
	if got := s.Restore(NeedFoundRows, 0); got != nil {
		t.Fatalf("FOUND_ROWS after SQL_CALC_FOUND_ROWS cannot be restored, got %v", got)
	}
	s.Apply(&Statement{}, &Reply{Err: &mysql.MyError{Code: 1146, State: "42S02", Message: "Table 'x' doesn't exist"}})
	if got := s.Restore(NeedDiagnostics, 0); !slices.Equal(got,
		[]string{`SIGNAL SQLSTATE '42S02' SET MYSQL_ERRNO = 1146, MESSAGE_TEXT = X'5461626c652027782720646f65736e2774206578697374'`}) {
		t.Fatalf("restore %v", got)
	}
	s.Apply(&Statement{Diagnostics: true}, &Reply{StatusKnown: true, Status: ac, ResultSet: true, LastRows: 1})
	if s.Results().Err == nil {
		t.Fatal("SHOW WARNINGS must not clear the diagnostics the session tracks")
	}
	s.Apply(&Statement{Select: true, UsesTables: true}, &Reply{StatusKnown: true, Status: ac, ResultSet: true, LastRows: 0})
	if got := s.Restore(NeedDiagnostics|NeedFoundRows, 0); !slices.Equal(got, []string{"SELECT SQL_CALC_FOUND_ROWS 1 FROM DUAL WHERE 0"}) {
		t.Fatalf("restore %v", got)
	}
	if got := s.Restore(NeedDiagnostics|NeedLastInsertID, 0); !slices.Equal(got, []string{"SELECT 1 FROM seq_1_to_1 LIMIT 0", "SET last_insert_id = 42"}) {
		t.Fatalf("restore %v", got)
	}
}

func TestStatus(t *testing.T) {
	s := New(Defaults{Autocommit: true})
	st := set("sql_mode", "ANSI_QUOTES,NO_BACKSLASH_ESCAPES")
	s.Apply(&st, vars(ac, "sql_mode", "ANSI_QUOTES,NO_BACKSLASH_ESCAPES"))
	if got := s.Status(); got != ac|mysql.SERVER_STATUS_NO_BACKSLASH_ESCAPED|statusANSIQuotes {
		t.Fatalf("status %#x", got)
	}
}

func TestRelease(t *testing.T) {
	s := New(Defaults{Autocommit: true})
	if out := s.Apply(&Statement{Release: true}, ok(ac)); !out.CloseClient {
		t.Fatal("COMMIT RELEASE closes the client connection")
	}
}

// A failed statement may have made state before it failed; a failed CALL may have stopped
// anywhere in its body.
func TestFailedStatementsKeepWhatTheyMade(t *testing.T) {
	run(t, []step{
		{name: "INSERT ... (@x := 5, NULL) refused for the NULL", st: Statement{Makes: MakesUserVar, UsesTables: true},
			r: errReply(mysql.ER_BAD_NULL_ERROR), hold: HoldUserVars | HoldDiagnostics, key: ""},
		{name: "reset", reset: true, st: Statement{}, r: ok(ac), key: ""},
		{name: "SELECT GET_LOCK('l', 0), no_such_column", st: Statement{Makes: MakesLock, Select: true},
			r: errReply(mysql.ER_BAD_FIELD_ERROR), hold: HoldLocks | HoldDiagnostics, key: ""},
		{name: "reset2", reset: true, st: Statement{}, r: ok(ac), key: ""},
		{name: "a syntax error ran nothing", st: Statement{Makes: MakesUserVar | MakesLock},
			r: errReply(mysql.ER_PARSE_ERROR), hold: HoldDiagnostics, key: ""},
		{name: "reset3", reset: true, st: Statement{}, r: ok(ac), key: ""},
		{name: "PREPARE s FROM CONCAT(@a := 'x', ' bogus') assigns before it parses", st: Statement{Makes: MakesUserVar | MakesPrepared},
			r: errReply(mysql.ER_PARSE_ERROR), hold: HoldUserVars | HoldDiagnostics, key: ""},
		{name: "reset4", reset: true, st: Statement{}, r: ok(ac), key: ""},
		{name: "a failed (or killed) CALL", st: Statement{Makes: MakesCall},
			r: errReply(mysql.ER_QUERY_INTERRUPTED), hold: HoldTx | HoldUnknown | HoldDiagnostics, ping: true, inTx: true, key: ""},
	})
}

// A multi-statement query or a CALL that changes the session tracking variables hides what the
// statements after the change made: the connection stays with the session.
func TestTrackingChangedInsideMulti(t *testing.T) {
	st := Statement{Multi: true, Makes: MakesCall, Sets: []Assignment{{Scope: ScopeSession, Name: "session_track_state_change", Value: "OFF", Literal: true}}}
	s := New(Defaults{Autocommit: true, Track: TrackPrefs{StateChange: true}})
	r := vars(ac, "session_track_state_change", "OFF")
	r.StateChanged = false // turned off, the tracker no longer flags the changes after it
	out := s.Apply(&st, r)
	if !out.Reassert || s.Holds()&HoldUnknown == 0 {
		t.Fatalf("reassert %v holds %v, want unknown_state held", out.Reassert, s.Holds())
	}
	// Alone, the SET is explained: nothing held.
	s = New(Defaults{Autocommit: true, Track: TrackPrefs{StateChange: true}})
	st = set("session_track_state_change", "OFF")
	if s.Apply(&st, vars(ac, "session_track_state_change", "OFF")); s.Holds() != 0 {
		t.Fatalf("a SET of its own: holds %v", s.Holds())
	}
}

// SET timestamp = DEFAULT (or 0) gives the session the running clock back: the value the
// tracker reports (the moment of the SET) is not replayed.
func TestTimestampDefaultUnfreezes(t *testing.T) {
	run(t, []step{
		{name: "SET timestamp = 1000", st: set("timestamp", "1000"), r: vars(ac, "timestamp", "1000.000000"), key: "timestamp=1000.000000"},
		{name: "SET timestamp = DEFAULT", st: set("timestamp", "DEFAULT"), r: vars(ac, "timestamp", "1764630000.123456"), key: ""},
		{name: "SET timestamp = 1000 again", st: set("timestamp", "1000"), r: vars(ac, "timestamp", "1000.000000"), key: "timestamp=1000.000000"},
		{name: "SET timestamp = 0", st: set("timestamp", "0"), r: vars(ac, "timestamp", "1764630000.123456"), key: ""},
	})
}

package session

import "github.com/go-mysql-org/go-mysql/mysql"

// Statement is what the classifier said of one client command (a COM_QUERY, which may hold
// several statements, or a prepared statement's text), reduced to what the session needs.
type Statement struct {
	// Multi: several statements in one COM_QUERY.
	Multi bool
	// Diagnostics: every statement is a diagnostics statement (SHOW WARNINGS/ERRORS, GET
	// DIAGNOSTICS), which MariaDB runs without clearing the diagnostics area.
	Diagnostics bool
	// Select: the (last) statement is a SELECT-like read, so its reply sets FOUND_ROWS().
	Select bool
	// UsesTables: the (last) statement certainly opens a table (DML, DDL, a SELECT from a
	// table). MariaDB empties the diagnostics area for such a statement, or for one that
	// raises a condition; any other (SELECT 1, SET, DO) leaves the previous warnings in place.
	UsesTables bool
	// Begin: the query starts a transaction (BEGIN, START TRANSACTION, XA START).
	Begin bool
	// Needs are the per-connection results the query reads.
	Needs Needs
	// Makes is the connection state the query creates or ends.
	Makes Makes
	// Sets are the assignments of the query's SET statements.
	Sets []Assignment
	// SetStatementVars are the variables of MariaDB's SET STATEMENT ... FOR: changed for one
	// statement only, so what session tracking reports of them is not the session's.
	SetStatementVars []string
	// StateExplained: every statement is a SET of system variables, a transaction statement or
	// a SET STATEMENT, so a state change the server reports is explained by the variables it
	// reports. Otherwise (CALL, DML with triggers, stored functions...) an unexplained state
	// change means state the gateway cannot see.
	StateExplained bool
	// Release: COMMIT/ROLLBACK ... RELEASE: the server closes the connection afterwards.
	Release bool
}

// Needs are per-connection results a statement reads.
type Needs uint8

const (
	NeedLastInsertID Needs = 1 << iota // LAST_INSERT_ID(), @@identity, @@last_insert_id
	NeedFoundRows                      // FOUND_ROWS()
	NeedRowCount                       // ROW_COUNT()
	NeedDiagnostics                    // SHOW WARNINGS/ERRORS, @@warning_count, @@error_count, GET DIAGNOSTICS
)

// Makes is connection state a statement creates (or ends).
type Makes uint32

const (
	MakesUserVar       Makes = 1 << iota // SET @x, @x :=, INTO @x, CALL with @x arguments
	MakesTempTable                       // CREATE TEMPORARY TABLE
	MakesLock                            // GET_LOCK()
	ReleasesAllLocks                     // RELEASE_ALL_LOCKS()
	MakesTableLock                       // LOCK TABLES, FLUSH TABLES ... WITH READ LOCK, BACKUP LOCK
	ReleasesTableLock                    // UNLOCK TABLES, BACKUP UNLOCK
	MakesPrepared                        // SQL PREPARE / EXECUTE IMMEDIATE
	MakesHandler                         // HANDLER ... OPEN
	MakesXA                              // XA START / BEGIN
	EndsXA                               // XA COMMIT / ROLLBACK
	MakesUnknown                         // a statement the classifier cannot understand
	MakesCalcFoundRows                   // SQL_CALC_FOUND_ROWS: FOUND_ROWS() is the server's secret
	SetsLastInsertID                     // LAST_INSERT_ID(expr)
	MakesCall                            // CALL or a compound statement: anything may change
)

// Scope is what an assignment of a SET statement assigns.
type Scope uint8

const (
	ScopeSession   Scope = iota // a session system variable (SESSION, LOCAL, @@, @@session., no keyword)
	ScopeGlobal                 // GLOBAL, @@global.: not the session's
	ScopeUser                   // @user_variable
	ScopeNames                  // SET NAMES cs [COLLATE c] / SET NAMES DEFAULT
	ScopeCharset                // SET CHARACTER SET cs
	ScopeTxSession              // SET SESSION TRANSACTION ...
	ScopeTxNext                 // SET TRANSACTION ...: the next transaction only
	ScopeOther                  // PASSWORD, ROLE, DEFAULT ROLE
)

// Assignment is one assignment of a SET statement.
type Assignment struct {
	Scope Scope
	// Name: the variable (lower case); for ScopeNames and ScopeCharset the character set
	// ("default" for DEFAULT).
	Name string
	// Value is the literal value (unquoted) when Literal; Collation the COLLATE of SET NAMES.
	Value     string
	Literal   bool
	Collation string
}

// Reply is what the backend's reply to the command said, gathered by the forwarder.
type Reply struct {
	// Err is the ERR that ended the reply, nil if it ended with OK or EOF.
	Err *mysql.MyError
	// Status is the status flags of the final OK or EOF, when StatusKnown.
	Status      uint16
	StatusKnown bool
	// SawInTrans: some OK or EOF of the reply (an intermediate one included) had IN_TRANS.
	SawInTrans bool
	// Affected, InsertID and Warnings are those of the final OK (or EOF: warnings only).
	Affected, InsertID uint64
	Warnings           uint16
	// LastInsertID is the last non-zero insert id of any OK of the reply.
	LastInsertID uint64
	// ResultSet: the reply's last result was rows (then LastRows counts them), not an OK.
	ResultSet bool
	LastRows  uint64
	// Vars are the system variables session tracking reported changed, in order.
	Vars []Var
	// StateChanged: session tracking reported that the session state changed
	// (SESSION_TRACK_STATE_CHANGE), or an EOF had SERVER_SESSION_STATE_CHANGED without details.
	StateChanged bool
}

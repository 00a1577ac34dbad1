package classify

import "strings"

// Kind is what a statement is, from its leading keywords.
type Kind uint8

const (
	KindUnknown          Kind = iota // not recognised, or malformed (MariaDB answers the syntax error)
	KindEmpty                        // only comments and white space
	KindSelect                       // SELECT, WITH ... SELECT, VALUES, TABLE, (
	KindInsert                       // INSERT
	KindUpdate                       // UPDATE
	KindDelete                       // DELETE
	KindReplace                      // REPLACE
	KindDDL                          // CREATE, ALTER, DROP, RENAME, TRUNCATE of schema objects
	KindSet                          // SET of variables, NAMES, CHARACTER SET, TRANSACTION (see Statement.Set)
	KindBegin                        // BEGIN [WORK], START TRANSACTION ...
	KindCommit                       // COMMIT
	KindRollback                     // ROLLBACK (not ROLLBACK TO SAVEPOINT)
	KindSavepoint                    // SAVEPOINT, ROLLBACK TO [SAVEPOINT], RELEASE SAVEPOINT
	KindUse                          // USE db (Statement.Name: the database)
	KindShow                         // SHOW ... (Statement.Show says which)
	KindConnectionID                 // exactly SELECT CONNECTION_ID() [[AS] alias] (Statement.Name: the column name)
	KindSelectAutocommit             // exactly SELECT @@[session.|local.]autocommit [[AS] alias] (Statement.Name: the column name)
	KindKill                         // KILL ... (Statement.Kill)
	KindExplain                      // DESCRIBE, EXPLAIN, ANALYZE <statement> (Statement.Inner)
	KindHelp                         // HELP 'topic'
	KindCall                         // CALL
	KindDo                           // DO
	KindLoad                         // LOAD DATA, LOAD XML
	KindHandler                      // HANDLER t OPEN | READ | CLOSE
	KindLock                         // LOCK TABLES, FLUSH ... WITH READ LOCK | FOR EXPORT, BACKUP LOCK, BACKUP STAGE
	KindUnlock                       // UNLOCK TABLES, BACKUP UNLOCK
	KindPrepare                      // PREPARE s FROM ...
	KindExecute                      // EXECUTE s [USING ...], EXECUTE IMMEDIATE ...
	KindDeallocate                   // DEALLOCATE PREPARE s, DROP PREPARE s
	KindXA                           // XA ...
	KindSignal                       // SIGNAL, RESIGNAL
	KindGetDiagnostics               // GET [CURRENT|STACKED] DIAGNOSTICS
	KindAdmin                        // server administration and maintenance (Statement.Reason when it acts beyond the session)
	KindCompound                     // BEGIN NOT ATOMIC ... END, and IF, CASE, LOOP, WHILE, REPEAT, FOR outside stored programs
	numKinds
)

var kindNames = [numKinds]string{"unknown", "empty", "select", "insert", "update", "delete", "replace", "ddl",
	"set", "begin", "commit", "rollback", "savepoint", "use", "show", "connection_id", "select_autocommit",
	"kill", "explain", "help", "call", "do", "load", "handler", "lock", "unlock", "prepare", "execute",
	"deallocate", "xa", "signal", "get_diagnostics", "admin", "compound"}

func (k Kind) String() string {
	if k < numKinds {
		return kindNames[k]
	}
	return "kind(" + itoa(uint64(k)) + ")"
}

// Kinds is a set of kinds: the kinds of every statement of a query.
type Kinds uint64

// Has reports whether k is in the set.
func (s Kinds) Has(k Kind) bool { return s&(1<<k) != 0 }

// Only reports whether the set holds k and nothing else.
func (s Kinds) Only(k Kind) bool { return s == 1<<k }

func (s Kinds) String() string {
	var b strings.Builder
	for k := Kind(0); k < numKinds; k++ {
		if s.Has(k) {
			if b.Len() > 0 {
				b.WriteByte('|')
			}
			b.WriteString(k.String())
		}
	}
	return b.String()
}

// Flags say what a statement reads or creates in its connection, and what it does beyond its
// session. A query's flags are the union of its statements' flags.
type Flags uint32

const (
	ReadsLastInsertID    Flags = 1 << iota // LAST_INSERT_ID(), @@identity, @@last_insert_id
	SetsLastInsertID                       // LAST_INSERT_ID(expr), SET last_insert_id / insert_id... = x
	ReadsFoundRows                         // FOUND_ROWS()
	CalcFoundRows                          // SQL_CALC_FOUND_ROWS
	ReadsRowCount                          // ROW_COUNT()
	ReadsDiagnostics                       // SHOW WARNINGS|ERRORS, SHOW COUNT(*) ..., @@warning_count, @@error_count, GET DIAGNOSTICS
	DiagnosticsStatement                   // SHOW WARNINGS|ERRORS, SHOW COUNT(*) ..., GET DIAGNOSTICS: does not clear the diagnostics area
	WritesUserVar                          // SET @x, @x :=, INTO @x, CALL p(@x), GET DIAGNOSTICS @x = ...
	ReadsUserVar                           // @x anywhere else
	TakesLock                              // GET_LOCK(), LOCK TABLES, FLUSH ... WITH READ LOCK | FOR EXPORT, BACKUP LOCK | STAGE
	ReleasesLock                           // RELEASE_LOCK(), RELEASE_ALL_LOCKS(), UNLOCK TABLES, BACKUP UNLOCK, BACKUP STAGE END
	CreatesTempTable                       // CREATE [OR REPLACE] TEMPORARY TABLE
	DropsTempTable                         // DROP TEMPORARY TABLE (a plain DROP TABLE may drop one too)
	SQLPrepare                             // PREPARE, EXECUTE, DEALLOCATE | DROP PREPARE, EXECUTE IMMEDIATE
	OpensHandler                           // HANDLER t OPEN
	ClosesHandler                          // HANDLER t CLOSE
	XA                                     // XA ...
	Call                                   // CALL
	Compound                               // a compound statement (runs a body now)
	Release                                // COMMIT | ROLLBACK ... RELEASE: the server closes the connection
	Chain                                  // COMMIT | ROLLBACK ... AND CHAIN: a new transaction starts
	LocalInfile                            // LOAD DATA | XML LOCAL INFILE: the server asks the client for a file
	Admin                                  // acts beyond the session (Statement.Reason says how)
	ServerInternals                        // reads server internals: processlist, innodb_* tables, performance_schema, sys, mysql, SHOW ENGINE
	ForUpdate                              // SELECT ... FOR UPDATE: row locks, refused by a read-only server
	WritesSequence                         // NEXTVAL(), SETVAL(), NEXT VALUE FOR: writes a sequence
	ReadsSequence                          // LASTVAL(), PREVIOUS VALUE FOR: this connection's last sequence value
	ReadsConnectionID                      // CONNECTION_ID() inside a larger query: the backend's thread id
	Kills                                  // KILL (anywhere: alone, a gateway answers it with its own ids; elsewhere it would reach the server's threads)
	NoRelease                              // COMMIT | ROLLBACK ... NO RELEASE: the connection stays, whatever completion_type says
	numFlags             = iota
)

var flagNames = [numFlags]string{"reads_last_insert_id", "sets_last_insert_id", "reads_found_rows",
	"calc_found_rows", "reads_row_count", "reads_diagnostics", "diagnostics_statement", "writes_user_var",
	"reads_user_var", "takes_lock", "releases_lock", "creates_temp_table", "drops_temp_table", "sql_prepare",
	"opens_handler", "closes_handler", "xa", "call", "compound", "release", "chain", "local_infile", "admin",
	"server_internals", "for_update", "writes_sequence", "reads_sequence", "reads_connection_id", "kills",
	"no_release"}

// Has reports whether every flag of f is set.
func (s Flags) Has(f Flags) bool { return s&f == f }

// Any reports whether some flag of f is set.
func (s Flags) Any(f Flags) bool { return s&f != 0 }

func (s Flags) String() string {
	var b strings.Builder
	for i := 0; i < numFlags; i++ {
		if s&(1<<i) != 0 {
			if b.Len() > 0 {
				b.WriteByte('|')
			}
			b.WriteString(flagNames[i])
		}
	}
	return b.String()
}

// ShowKind tells apart the SHOW statements the gateway answers itself.
type ShowKind uint8

const (
	ShowOther           ShowKind = iota // any other SHOW: forwarded
	ShowDatabases                       // SHOW DATABASES | SCHEMAS, nothing after
	ShowVitessShards                    // SHOW VITESS_SHARDS [LIKE 'p']
	ShowVitessTablets                   // SHOW VITESS_TABLETS [LIKE 'p']
	ShowProcesslist                     // SHOW [FULL] PROCESSLIST
	ShowVSchemaTables                   // SHOW VSCHEMA TABLES
	ShowVSchemaVindexes                 // SHOW VSCHEMA VINDEXES
	ShowWarnings                        // SHOW WARNINGS [LIMIT [offset,] n]
	ShowErrors                          // SHOW ERRORS [LIMIT [offset,] n]
	ShowCountWarnings                   // SHOW COUNT(*) WARNINGS
	ShowCountErrors                     // SHOW COUNT(*) ERRORS
	numShowKinds
)

var showNames = [numShowKinds]string{"other", "databases", "vitess_shards", "vitess_tablets", "processlist",
	"vschema_tables", "vschema_vindexes", "warnings", "errors", "count_warnings", "count_errors"}

func (k ShowKind) String() string {
	if k < numShowKinds {
		return showNames[k]
	}
	return "show(" + itoa(uint64(k)) + ")"
}

func itoa(n uint64) string {
	var b [20]byte
	i := len(b)
	for {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
		if n == 0 {
			return string(b[i:])
		}
	}
}

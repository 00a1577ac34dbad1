// Package classify reads a COM_QUERY the way MariaDB does, far enough for the gateway to
// decide what to do with it before sending it: where it may go (a replica takes only
// provable reads), whether the gateway answers it itself, what per-connection state it reads
// or creates (so the session keeps or restores its backend connection), and what it does
// beyond the session.
//
// It owns: the tokenizer (strings, identifiers, comments, executable comments, variables,
// literals, under the session's sql_mode and client character set), the splitting of a
// multi-statement query (with the bodies of stored programs and compound statements), and
// the classification of each statement: its Kind, its Flags, whether it is ReadOnly, its
// arguments (the database of USE, the id of KILL, the assignments of SET...). It is pure: no
// I/O, no goroutines, no state beyond its constant tables.
//
// It does not parse SQL: it reads leading keywords and scans the rest for the few
// constructs that matter (functions such as LAST_INSERT_ID(), user variables, FOR UPDATE,
// INTO OUTFILE, names of server internals). Planning sharded queries is Vitess's
// sqlparser's job; a statement MariaDB would refuse is classified as best it can be
// (KindUnknown when it cannot) and MariaDB answers the syntax error.
//
// # How MariaDB 10.11 reads a query, and what this package does
//
// The rules below were checked on MariaDB 10.11; the tests that run a real server
// (mariadb_test.go) hold the package to them.
//
//   - Executable comments /*! ... */, /*!NNNNN ... */, /*M! ... */ and /*M!NNNNNN ... */ are
//     code: their content is tokenized as such whatever the version number. MariaDB runs
//     /*!NNNNN only below its own version and never for 50700..99999 (MySQL 5.7+ features);
//     reading them all errs on the side of seeing a write that may not run. Five or six
//     digits after ! are a version, fewer are code (as MariaDB reads them). A server that
//     skips a comment skips it to its first */, even inside what would be a string: so a
//     string, quoted name or line comment holding */ inside a comment a server may skip
//     (versions from 50700, and /*M!) makes the statement KindUnknown with the Admin flag
//     (it cannot be judged), running to the end of the query. A comment inside
//     one is allowed; an executable comment inside another, or a statement that ends inside
//     one (its ';' inside), is refused by MariaDB: the statement is then KindUnknown and runs
//     to the end of the query. /*+ ... */ hints and /*vt+ ... */ directives are comments;
//     the text of the first directive is in Statement.Directive.
//   - "--" starts a comment only before white space, a control character or the end.
//   - Statements end at ';' outside strings, comments and the bodies of CREATE PROCEDURE,
//     FUNCTION, TRIGGER, EVENT (and ALTER EVENT ... DO) and of compound statements (BEGIN NOT
//     ATOMIC, IF, CASE, LOOP, WHILE, REPEAT, FOR outside stored programs). Inside a body the
//     package follows the nesting of BEGIN...END, IF...END IF, CASE...END CASE (and CASE
//     expressions, which end with END), LOOP, WHILE...DO, REPEAT...UNTIL, FOR...DO, telling
//     statements from functions (IF(, REPEAT(), FOR UPDATE, FOR SYSTEM_TIME, CURSOR FOR,
//     HANDLER FOR ...). When it cannot follow a body (an END that does not match), the rest
//     of the query is one statement.
//   - A trailing ';' with white space or comments after it is no statement. (MariaDB answers
//     a comment after the last ';' with one more OK packet when CLIENT_MULTI_STATEMENTS is
//     on, and ignores it when it is off, as the gateway's backend connections have it.) An
//     empty statement between two ';' is KindEmpty; MariaDB refuses it.
//   - A label before a compound statement at the top level (l: BEGIN NOT ATOMIC ... END l) is
//     refused by MariaDB 10.11: such a statement is split as a block and classified
//     KindUnknown.
//   - SET: a GLOBAL, SESSION or LOCAL keyword applies to the assignments after it until the
//     next keyword; an @@global. | @@session. | @@local. prefix applies to its own variable
//     only. SET TRANSACTION (alone in its statement) without a keyword sets the next
//     transaction only (ScopeNextTransaction). SET NAMES, CHARACTER SET and PASSWORD mix with
//     other assignments.
//   - A SET of sql_mode or of the client character set (NAMES, CHARACTER SET,
//     character_set_client) changes how MariaDB reads the statements after it in the same
//     query: the package follows a literal it understands (mode names, or a number decoded
//     as MariaDB's bitmask; a character set name) and reports each statement's options in
//     Statement.Options. After one it cannot know (an expression, a variable, DEFAULT, a
//     collation number, an unknown name, a SET in a versioned comment a server may skip, a
//     SET it cannot read), after an EXECUTE of a text that may set them, and after a
//     compound statement whose body sets them or runs EXECUTE (its SET NAMES stays after it;
//     a procedure's does not), every later statement of the query is KindUnknown with the
//     Admin flag. SET STATEMENT sql_mode=... FOR s does not change how s is read, but the
//     text of PREPARE | EXECUTE IMMEDIATE is read under it when it runs
//     (Statement.TextOptions), or cannot be judged (Admin) when the value is not a literal
//     the package understands, or follows a SET of those variables in a compound body.
//   - Under sql_mode ORACLE (a SET of it, or Options.Oracle) MariaDB has the tokens of
//     ANSI_QUOTES but another grammar: the package judges the plain statements that read
//     as in the default grammar, and makes KindUnknown with Admin (and so every statement
//     after it in the query) one that does not: a statement starting with BEGIN (BEGIN
//     [WORK] is an anonymous block there, not a transaction: START TRANSACTION is), a
//     compound statement, stored code, a statement it does not recognise (a label <<l>>),
//     seq.NEXTVAL | seq.CURRVAL (sequence operations in ORACLE's spelling) and ranges (..).
//     Whatever the options, CREATE PACKAGE [BODY] (stored code, Admin), BEGIN stmt ... and
//     DECLARE ... at the top level (ORACLE's anonymous blocks; MariaDB refuses them otherwise)
//     run to the end of the query with the Admin flag: the package does not split ORACLE's
//     grammar as MariaDB does, it keeps the rest of the query together.
//   - @@global, its dot and the name are separate tokens: @@global .x and @@global/* */.x are
//     global.
//   - A read-only server refuses, besides the obvious writes: SELECT ... FOR UPDATE, NEXTVAL()
//     and NEXT VALUE FOR (sequences), EXPLAIN or ANALYZE of a write, START TRANSACTION READ
//     WRITE, LOCK TABLES ... WRITE, ANALYZE TABLE. It accepts LOCK IN SHARE MODE, temporary
//     tables, XA, HANDLER, CHECK TABLE.
//   - Only statements that use tables clear the diagnostics area: SELECT @@warning_count does
//     not, any more than SHOW WARNINGS. DiagnosticsStatement marks SHOW WARNINGS | ERRORS,
//     SHOW COUNT(*) ... and GET DIAGNOSTICS only.
//
// # Read-only
//
// Statement.ReadOnly is true for: SELECT, WITH ... SELECT, VALUES, TABLE and ( without FOR
// UPDATE, INTO OUTFILE | DUMPFILE, LOAD_FILE(), NEXTVAL(), SETVAL(), NEXT VALUE FOR; SHOW;
// DESCRIBE; EXPLAIN and ANALYZE of a read; HELP; USE; SET of session or user variables,
// NAMES, CHARACTER SET, session or next-transaction TRANSACTION; SET ROLE; BEGIN, START
// TRANSACTION (not READ WRITE), COMMIT, ROLLBACK, SAVEPOINT, RELEASE SAVEPOINT; GET
// DIAGNOSTICS; PREPARE of a literal read; DEALLOCATE PREPARE; LOCK TABLES ... READ; UNLOCK
// TABLES; BACKUP UNLOCK; HANDLER; CHECK TABLE, CHECKSUM TABLE; KILL (the gateway answers it);
// SELECT CONNECTION_ID() and SELECT @@autocommit (answered by the gateway). Everything else
// is not provably a read. A stored function called from a SELECT may still write: a
// read-only replica then refuses it, as it would behind vtgate.
//
// # Limits
//
// sql_mode=ORACLE changes MariaDB's grammar (PL/SQL blocks, packages): only its plain
// statements are followed (see above); the status flags do not tell it from ANSI_QUOTES, so
// the caller must set Options.Oracle when the session's sql_mode has it (the router reads the
// session's tracked sql_mode with OptionsFromSQLMode). The body of a function whose RETURNS
// type the package does not know (TYPE OF, ROW TYPE OF) may be misread; MariaDB's own answer
// is then still right, only the classification of the rest of the query is conservative.
// Names of tables read without a schema (SELECT * FROM processlist after USE
// information_schema) are not recognised as server internals: the caller knows the current
// database. A SET of sql_mode or of the character set inside a compound statement's body
// makes the statements after it cannot-be-judged. When the gateway runs the statements of a
// query one by one, it can Analyze the rest again with the options from each statement's
// status flags.
//
// # Example
//
//	res := classify.Analyze(query, classify.OptionsFromStatus(opt, lastStatus))
//	switch {
//	case res.Count == 1 && res.First.Kind == classify.KindUse:
//		// answer USE res.First.Name
//	case res.ReadOnly && !inTransaction:
//		// any replica may serve it
//	}
//	if res.Flags.Any(classify.WritesUserVar | classify.TakesLock | classify.CreatesTempTable | classify.SQLPrepare) {
//		// the session keeps its backend connection
//	}
package classify

package classify

import "iter"

// Query is what Analyze learns of a COM_QUERY: its statements combined, and its first
// statement in full.
type Query struct {
	// Count is the number of statements. A trailing ';' with white space or comments after
	// it does not count (see the package documentation); a query of only comments is one
	// KindEmpty statement; an empty query is zero statements.
	Count int
	// First is the first statement (the zero Statement when Count is 0).
	First Statement
	// Kinds holds the kind of every statement.
	Kinds Kinds
	// Flags is the union of the statements' flags.
	Flags Flags
	// ReadOnly: every statement is provably a read that a read-only replica accepts
	// without writing data (see Statement.ReadOnly). False for an empty query.
	ReadOnly bool
	// Reason says why the first statement with the Admin flag acts beyond its session.
	Reason string
	// Directive is the text of the query's first /*vt+ ... */ comment, if any.
	Directive Span
}

// Statement is one classified statement.
type Statement struct {
	Kind Kind
	// Inner is the kind of a statement inside this one: what KindExplain explains or
	// ANALYZE runs (KindUnknown for DESCRIBE t), the literal text of KindPrepare and of
	// KindExecute IMMEDIATE. Under SET STATEMENT ... FOR s, Kind is already s's kind.
	Inner Kind
	Flags Flags
	// ReadOnly: the statement is provably a read that a read-only replica accepts without
	// writing data. See the package documentation for the list.
	ReadOnly bool
	// Start and End delimit the statement's text, q[Start:End], without its ';'. The
	// statements of a query and the ';' between them cover the query in order.
	Start, End int
	// Name is, by kind: KindUse the database; KindConnectionID and KindSelectAutocommit the
	// column name MariaDB gives the result; KindPrepare, KindExecute and KindDeallocate the
	// prepared statement's name (lower case, MariaDB ignores its case); KindSavepoint the
	// savepoint; KindHandler the table as written; KindDDL of a DATABASE | SCHEMA the
	// database it names (empty for ALTER DATABASE of the current one, and for the DDL of
	// any other object).
	Name string
	// Text is the unquoted literal of PREPARE s FROM '...' and EXECUTE IMMEDIATE '...';
	// TextOptions are the options MariaDB reads it with (those of a SET STATEMENT around
	// the statement, else the statement's).
	Text        string
	TextOptions Options
	// Options are the options MariaDB reads the statement with: the session's, as the SETs
	// of sql_mode and of the client character set before it in the query changed them. (A
	// statement after a SET the package cannot follow is KindUnknown with the Admin flag.)
	Options Options
	// Reason says why the statement acts beyond its session (with the Admin flag).
	Reason string
	// Show details KindShow: non-nil exactly for it.
	Show *Show
	// Kill details KindKill: non-nil exactly for it.
	Kill *Kill
	// Tx holds the options of KindBegin.
	Tx TxOptions
	// Set details KindSet, SET PASSWORD | ROLE | DEFAULT ROLE (KindAdmin), and any statement
	// run under SET STATEMENT ... FOR (Set.StatementVars).
	Set *Set
	// Directive is the text of the statement's first /*vt+ ... */ comment, if any.
	Directive Span
	// XA details KindXA: non-nil exactly for it.
	XA *XAStatement
	// unsure says why the statements after this one cannot be judged (it may change how
	// MariaDB reads them in ways the package cannot follow), or "".
	unsure string
}

// Span is a range of a query's bytes; the zero Span is empty.
type Span struct{ Start, End int }

// Text returns the span's bytes of q.
func (s Span) Text(q []byte) []byte { return q[s.Start:s.End] }

// Empty reports whether the span holds nothing.
func (s Span) Empty() bool { return s.End <= s.Start }

// Show details a SHOW statement.
type Show struct {
	Kind ShowKind
	// Full: SHOW FULL PROCESSLIST.
	Full bool
	// Like is the unquoted pattern of SHOW VITESS_SHARDS | VITESS_TABLETS LIKE 'p'; HasLike
	// tells LIKE '' from no LIKE.
	Like    string
	HasLike bool
	// Limit and Offset of SHOW WARNINGS | ERRORS LIMIT [offset,] n, when HasLimit.
	Limit, Offset uint64
	HasLimit      bool
	// Database is the database a SHOW names with FROM | IN db (SHOW TABLES FROM db, SHOW
	// COLUMNS FROM t IN db...) or SHOW CREATE DATABASE db; a qualified name (SHOW CREATE
	// TABLE db.t) is one of the statement's Qualifiers instead.
	Database string
}

// KillTarget is what a KILL names.
type KillTarget uint8

const (
	KillConnection KillTarget = iota // KILL [CONNECTION] n
	KillQuery                        // KILL QUERY n: the query running on connection n
	KillQueryID                      // KILL QUERY ID n: the query with query id n
	KillUser                         // KILL [CONNECTION | QUERY] USER u: every connection (or query) of user u
)

// Kill details a KILL statement.
type Kill struct {
	Target KillTarget
	// Query: QUERY (with KillUser: KILL QUERY USER).
	Query bool
	// Hard, Soft: the HARD or SOFT keyword.
	Hard, Soft bool
	// ID is the number when Plain.
	ID uint64
	// Plain: the id is a decimal number (in parentheses or not), so the gateway can map
	// it to its own connection ids.
	Plain bool
	// User is the user of KILL USER as written (quotes and host included).
	User string
}

// TxOptions are START TRANSACTION's characteristics.
type TxOptions uint8

const (
	TxReadOnly           TxOptions = 1 << iota // READ ONLY
	TxReadWrite                                // READ WRITE
	TxConsistentSnapshot                       // WITH CONSISTENT SNAPSHOT
)

// Analyze classifies every statement of q (one COM_QUERY) under the session options opt.
// It does not allocate for a single SELECT, DML, BEGIN, COMMIT or ROLLBACK statement.
func Analyze(q []byte, opt Options) (res Query) {
	sp := newSplitter(q, opt)
	if !sp.next(&res.First) {
		return
	}
	res.Count, res.ReadOnly, res.Directive = 1, true, res.First.Directive
	res.add(&res.First)
	if !sp.done {
		analyzeRest(&res, &sp)
	}
	return
}

// analyzeRest adds the statements after the first (out of line: the single statement path
// does not pay for a second Statement).
func analyzeRest(res *Query, sp *splitter) {
	var st Statement
	for sp.next(&st) {
		res.Count++
		if res.Directive.Empty() {
			res.Directive = st.Directive
		}
		res.add(&st)
	}
}

func (res *Query) add(st *Statement) {
	res.Kinds |= 1 << st.Kind
	if res.Reason == "" && st.Flags&Admin != 0 {
		res.Reason = st.Reason
	}
	res.Flags |= st.Flags
	res.ReadOnly = res.ReadOnly && st.ReadOnly
}

// Statements yields the statements of q one by one, as Analyze sees them.
func Statements(q []byte, opt Options) iter.Seq[Statement] {
	return func(yield func(Statement) bool) {
		var st Statement
		sp := newSplitter(q, opt)
		for sp.next(&st) {
			if !yield(st) {
				return
			}
		}
	}
}

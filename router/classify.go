package router

import (
	"bytes"
	"strconv"
	"strings"
)

// Kind is what the router needs to know of a statement: where it may go and whether the
// gateway answers it itself. Classification reads only the leading keywords; the backend
// parses the statement.
type Kind uint8

const (
	KindOther             Kind = iota // forwarded as is, allowed on any tablet type
	KindSelect                        // SELECT, WITH, VALUES, TABLE, (
	KindWrite                         // DML, DDL and anything else a read-only tablet refuses
	KindSet                           // SET of session variables: replayed on every backend connection of the session
	KindSetNoRecord                   // SET GLOBAL, SET PASSWORD, SET ROLE...: forwarded, not replayed
	KindBegin                         // BEGIN, START TRANSACTION
	KindCommit                        // COMMIT
	KindRollback                      // ROLLBACK (not ROLLBACK TO SAVEPOINT)
	KindUse                           // USE db: answered by the gateway
	KindShowDatabases                 // SHOW DATABASES / SCHEMAS: answered by the gateway
	KindConnectionID                  // SELECT CONNECTION_ID(): answered by the gateway
	KindKill                          // KILL [QUERY|CONNECTION] id: answered by the gateway
	KindShowVitessShards              // SHOW VITESS_SHARDS [LIKE 'pattern']: answered by the gateway
	KindShowVitessTablets             // SHOW VITESS_TABLETS [LIKE 'pattern']: answered by the gateway
	KindSetAutocommit                 // SET autocommit = 0|1 (Arg "0"/"1"; "" when mixed with other assignments)
	KindSetNextTx                     // SET TRANSACTION ...: the next transaction's characteristics
	KindSelectAutocommit              // SELECT @@[session.]autocommit: answered from the session (Arg: the expression)
	// KindStateful creates connection state that cannot be replayed elsewhere (LOCK TABLES,
	// GET_LOCK, temporary tables, user variables, SQL PREPARE): the session keeps its connection.
	KindStateful
)

var kindNames = [...]string{"other", "select", "write", "set", "set_unrecorded", "begin", "commit", "rollback",
	"use", "show_databases", "connection_id", "kill", "show_vitess_shards", "show_vitess_tablets",
	"set_autocommit", "set_transaction", "select_autocommit", "stateful"}

func (k Kind) String() string { return kindNames[k] }

// Statement is a classified statement. Arg is the database of USE, the expression of
// SELECT CONNECTION_ID() or the LIKE pattern of SHOW VITESS_*; KillID and KillQuery the
// parts of KILL.
type Statement struct {
	Kind      Kind
	Arg       string
	KillID    uint64
	KillQuery bool
}

// Classify reads the leading keywords of a query. It never allocates for the statements on
// the per-query path (SELECT and DML).
func Classify(q []byte) Statement {
	st := classify(q)
	if (st.Kind == KindSelect || st.Kind == KindOther) && makesState(q) {
		st.Kind = KindStateful
	}
	return st
}

func classify(q []byte) Statement {
	i := skipSpace(q, 0)
	if inner, ok := executableComment(q, i); ok {
		// mysqldump's /*!40101 SET ... */: the server runs the content, so classify it.
		st := classify(inner)
		if st.Kind == KindSet || st.Kind == KindWrite || st.Kind == KindStateful || st.Kind == KindSetNoRecord || st.Kind == KindSetNextTx {
			return Statement{Kind: st.Kind}
		}
		return Statement{Kind: KindOther}
	}
	w, next := word(q, i)
	switch {
	case len(w) == 0:
		if i < len(q) && q[i] == '(' {
			return Statement{Kind: KindSelect}
		}
		return Statement{Kind: KindOther}
	case eq(w, "select"):
		if end, ok := isConnectionID(q, next); ok {
			// MariaDB names the column after the expression as written.
			return Statement{Kind: KindConnectionID, Arg: string(q[skipSpace(q, next):end])}
		}
		if end, ok := isAutocommitVar(q, next); ok {
			return Statement{Kind: KindSelectAutocommit, Arg: string(q[skipSpace(q, next):end])}
		}
		return Statement{Kind: KindSelect}
	case eq(w, "with"), eq(w, "values"), eq(w, "table"):
		return Statement{Kind: KindSelect}
	case eq(w, "create"):
		w2, _ := word(q, skipSpace(q, next))
		if eq(w2, "temporary") {
			return Statement{Kind: KindStateful}
		}
		return Statement{Kind: KindWrite}
	case eq(w, "insert"), eq(w, "update"), eq(w, "delete"), eq(w, "replace"), eq(w, "load"),
		eq(w, "alter"), eq(w, "drop"), eq(w, "truncate"), eq(w, "rename"),
		eq(w, "grant"), eq(w, "revoke"), eq(w, "optimize"), eq(w, "repair"):
		return Statement{Kind: KindWrite}
	case eq(w, "lock"), eq(w, "prepare"), eq(w, "execute"), eq(w, "deallocate"), eq(w, "handler"):
		return Statement{Kind: KindStateful}
	case eq(w, "set"):
		return classifySet(q, next)
	case eq(w, "begin"):
		// BEGIN NOT ATOMIC starts a compound statement in MariaDB, not a transaction.
		w2, _ := word(q, skipSpace(q, next))
		if eq(w2, "not") {
			return Statement{Kind: KindOther}
		}
		return Statement{Kind: KindBegin}
	case eq(w, "start"):
		w2, _ := word(q, skipSpace(q, next))
		if eq(w2, "transaction") {
			return Statement{Kind: KindBegin}
		}
		return Statement{Kind: KindOther}
	case eq(w, "commit"):
		return Statement{Kind: KindCommit}
	case eq(w, "rollback"):
		// ROLLBACK [WORK] TO [SAVEPOINT] x keeps the transaction open.
		j := skipSpace(q, next)
		w2, n2 := word(q, j)
		if eq(w2, "work") {
			w2, _ = word(q, skipSpace(q, n2))
		}
		if eq(w2, "to") {
			return Statement{Kind: KindOther}
		}
		return Statement{Kind: KindRollback}
	case eq(w, "use"):
		db, ok := identifier(q, skipSpace(q, next))
		if !ok {
			return Statement{Kind: KindOther}
		}
		return Statement{Kind: KindUse, Arg: db}
	case eq(w, "show"):
		w2, n2 := word(q, skipSpace(q, next))
		if (eq(w2, "databases") || eq(w2, "schemas")) && skipSpace(q, n2) == len(q) {
			return Statement{Kind: KindShowDatabases}
		}
		if eq(w2, "vitess_shards") || eq(w2, "vitess_tablets") {
			kind := KindShowVitessShards
			if eq(w2, "vitess_tablets") {
				kind = KindShowVitessTablets
			}
			pattern, ok := likePattern(q, skipSpace(q, n2))
			if !ok {
				return Statement{Kind: KindOther}
			}
			return Statement{Kind: kind, Arg: pattern}
		}
		return Statement{Kind: KindOther}
	case eq(w, "kill"):
		return classifyKill(q, next)
	}
	return Statement{Kind: KindOther}
}

func classifySet(q []byte, i int) Statement {
	i = skipSpace(q, i)
	w, next := word(q, i)
	switch {
	case eq(w, "global"), eq(w, "password"), eq(w, "role"), eq(w, "default"), eq(w, "persist"), eq(w, "persist_only"):
		return Statement{Kind: KindSetNoRecord}
	case eq(w, "transaction"):
		return Statement{Kind: KindSetNextTx}
	case eq(w, "statement"):
		// MariaDB's SET STATEMENT var=value FOR statement: the statement decides.
		if j := indexWord(q, next, "for"); j >= 0 {
			st := classify(q[j+len("for"):])
			if st.Kind == KindWrite || st.Kind == KindStateful {
				return Statement{Kind: st.Kind}
			}
			return Statement{Kind: KindOther}
		}
		return Statement{Kind: KindOther}
	case eq(w, "session"), eq(w, "local"):
		w2, _ := word(q, skipSpace(q, next))
		if eq(w2, "transaction") {
			return Statement{Kind: KindSet} // session-wide: replayed
		}
	}
	if i < len(q) && q[i] == '@' && (i+1 >= len(q) || q[i+1] != '@') {
		return Statement{Kind: KindStateful} // a user variable: its value may depend on the connection
	}
	if v, ok := autocommitValue(q, i); ok {
		return Statement{Kind: KindSetAutocommit, Arg: v}
	}
	if i+2 < len(q) && q[i] == '@' && q[i+1] == '@' {
		if w2, _ := word(q, i+2); eq(w2, "global") {
			return Statement{Kind: KindSetNoRecord}
		}
	}
	if hasTopLevelComma(q[i:]) && bytes.Contains(bytes.ToLower(q[i:]), []byte("autocommit")) {
		// autocommit among other assignments: the gateway keeps autocommit itself and
		// cannot split the statement; the caller refuses it.
		return Statement{Kind: KindSetAutocommit}
	}
	return Statement{Kind: KindSet}
}

// autocommitValue reads `[SESSION|LOCAL|@@[session.|local.]]autocommit = value` as the whole
// statement and returns "0" or "1".
func autocommitValue(q []byte, i int) (string, bool) {
	w, next := word(q, i)
	if eq(w, "session") || eq(w, "local") {
		w, next = word(q, skipSpace(q, next))
	} else if i+2 < len(q) && q[i] == '@' && q[i+1] == '@' {
		w, next = word(q, i+2)
		if (eq(w, "session") || eq(w, "local")) && next < len(q) && q[next] == '.' {
			w, next = word(q, next+1)
		}
	}
	if !eq(w, "autocommit") {
		return "", false
	}
	j := skipSpace(q, next)
	if j < len(q) && q[j] == '=' {
		j = skipSpace(q, j+1)
	} else if j+1 < len(q) && q[j] == ':' && q[j+1] == '=' {
		j = skipSpace(q, j+2)
	} else {
		return "", false
	}
	v, end := word(q, j)
	if len(v) == 0 { // a digit
		end = j
		for end < len(q) && q[end] >= '0' && q[end] <= '9' {
			end++
		}
		v = q[j:end]
	}
	if skipSpace(q, end) != len(q) {
		return "", false
	}
	switch {
	case eq(v, "1"), eq(v, "on"), eq(v, "true"):
		return "1", true
	case eq(v, "0"), eq(v, "off"), eq(v, "false"):
		return "0", true
	}
	return "", false
}

// settingName returns the variable a single-assignment SET sets ("names" for SET NAMES and
// SET CHARACTER SET), lower-cased, so that a later SET of the same variable replaces it; ""
// for several assignments or a form it does not read.
func settingName(q []byte) (string, bool) {
	i := skipSpace(q, 0)
	w, next := word(q, i)
	if !eq(w, "set") {
		return "", false
	}
	i = skipSpace(q, next)
	w, next = word(q, i)
	switch {
	case eq(w, "names"), eq(w, "character"), eq(w, "charset"):
		return "names", !hasTopLevelComma(q[next:])
	case eq(w, "session"), eq(w, "local"):
		i = skipSpace(q, next)
		w, next = word(q, i)
	case len(w) == 0 && i+2 < len(q) && q[i] == '@' && q[i+1] == '@':
		w, next = word(q, i+2)
		if (eq(w, "session") || eq(w, "local")) && next < len(q) && q[next] == '.' {
			w, next = word(q, next+1)
		}
	}
	if len(w) == 0 || hasTopLevelComma(q[next:]) {
		return "", false
	}
	if eq(w, "transaction") { // SET SESSION TRANSACTION ISOLATION LEVEL / READ ONLY
		return "transaction", true
	}
	return strings.ToLower(string(w)), true
}

// hasTopLevelComma reports a comma outside quotes and parentheses: several assignments.
func hasTopLevelComma(q []byte) bool {
	depth := 0
	var quote byte
	for i := 0; i < len(q); i++ {
		c := q[i]
		switch {
		case quote != 0:
			if c == '\\' {
				i++
			} else if c == quote {
				quote = 0
			}
		case c == '\'' || c == '"' || c == '`':
			quote = c
		case c == '(':
			depth++
		case c == ')':
			depth--
		case c == ',' && depth == 0:
			return true
		}
	}
	return false
}

// makesState reports statements whose effect lives in the backend connection beyond the
// statement and cannot be replayed elsewhere: GET_LOCK() and user-variable assignments (:=).
// It runs on every SELECT, so it costs two vectorised byte searches, and looks at the word
// before a '(' only when the statement has one.
func makesState(q []byte) bool {
	if bytes.Contains(q, []byte(":=")) {
		return true
	}
	for i := bytes.IndexByte(q, '('); i >= 0; {
		j := i
		for j > 0 && (q[j-1] == ' ' || q[j-1] == '\t') {
			j--
		}
		start := j
		for start > 0 && isWordByte(q[start-1]) {
			start--
		}
		if eq(q[start:j], "get_lock") {
			return true
		}
		k := bytes.IndexByte(q[i+1:], '(')
		if k < 0 {
			break
		}
		i += 1 + k
	}
	return false
}

func isWordByte(c byte) bool {
	return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
}

// executableComment returns the content of a statement that is one /*!NNNNN ... */ or
// /*M!NNNNN ... */ comment.
func executableComment(q []byte, i int) ([]byte, bool) {
	if i+3 > len(q) || q[i] != '/' || q[i+1] != '*' {
		return nil, false
	}
	j := i + 2
	if j < len(q) && q[j] == 'M' {
		j++
	}
	if j >= len(q) || q[j] != '!' {
		return nil, false
	}
	j++
	for j < len(q) && q[j] >= '0' && q[j] <= '9' {
		j++
	}
	end := bytes.LastIndex(q, []byte("*/"))
	if end < j {
		return nil, false
	}
	return q[j:end], true
}

// indexWord finds a keyword as a whole word at or after i, returning its index or -1.
func indexWord(q []byte, i int, kw string) int {
	for i < len(q) {
		i = skipSpace(q, i)
		w, next := word(q, i)
		if len(w) == 0 {
			if i >= len(q) {
				return -1
			}
			i++ // a symbol, a quote... good enough for SET STATEMENT's simple values
			continue
		}
		if eq(w, kw) {
			return i
		}
		i = next
	}
	return -1
}

func classifyKill(q []byte, i int) Statement {
	s := Statement{Kind: KindKill}
	i = skipSpace(q, i)
	w, next := word(q, i)
	if eq(w, "hard") || eq(w, "soft") { // MariaDB's KILL [HARD|SOFT]
		i = skipSpace(q, next)
		w, next = word(q, i)
	}
	switch {
	case eq(w, "query"):
		s.KillQuery = true
		i = skipSpace(q, next)
	case eq(w, "connection"):
		i = skipSpace(q, next)
	}
	j := i
	for j < len(q) && q[j] >= '0' && q[j] <= '9' {
		j++
	}
	if j == i || skipSpace(q, j) != len(q) {
		// KILL QUERY ID n, KILL USER u: left to the backend, which will refuse them for
		// lack of the gateway's ids.
		return Statement{Kind: KindOther}
	}
	id, err := strconv.ParseUint(string(q[i:j]), 10, 32)
	if err != nil {
		return Statement{Kind: KindOther}
	}
	s.KillID = id
	return s
}

// likePattern reads an optional `LIKE 'pattern'` up to the end of the statement.
func likePattern(q []byte, i int) (string, bool) {
	if i == len(q) {
		return "", true
	}
	w, next := word(q, i)
	if !eq(w, "like") {
		return "", false
	}
	i = skipSpace(q, next)
	if i >= len(q) || (q[i] != '\'' && q[i] != '"') {
		return "", false
	}
	quote := q[i]
	var b []byte
	for j := i + 1; j < len(q); j++ {
		switch {
		case q[j] == '\\' && j+1 < len(q):
			b = append(b, q[j], q[j+1])
			j++
		case q[j] == quote && j+1 < len(q) && q[j+1] == quote:
			b = append(b, quote)
			j++
		case q[j] == quote:
			return string(b), skipSpace(q, j+1) == len(q)
		default:
			b = append(b, q[j])
		}
	}
	return "", false
}

// isConnectionID reports whether the rest of a SELECT is exactly `CONNECTION_ID()`, and
// where the expression ends.
func isConnectionID(q []byte, i int) (int, bool) {
	i = skipSpace(q, i)
	w, next := word(q, i)
	if !eq(w, "connection_id") {
		return 0, false
	}
	next = skipSpace(q, next)
	if next >= len(q) || q[next] != '(' {
		return 0, false
	}
	next = skipSpace(q, next+1)
	if next >= len(q) || q[next] != ')' {
		return 0, false
	}
	return next + 1, skipSpace(q, next+1) == len(q)
}

// isAutocommitVar reports whether the rest of a SELECT is exactly @@autocommit or
// @@session.autocommit, and where it ends.
func isAutocommitVar(q []byte, i int) (int, bool) {
	i = skipSpace(q, i)
	if i+2 >= len(q) || q[i] != '@' || q[i+1] != '@' {
		return 0, false
	}
	w, next := word(q, i+2)
	if (eq(w, "session") || eq(w, "local")) && next < len(q) && q[next] == '.' {
		w, next = word(q, next+1)
	}
	if !eq(w, "autocommit") {
		return 0, false
	}
	return next, skipSpace(q, next) == len(q)
}

// skipSpace skips white space, comments and a trailing ';'. Executable comments (`/*!`,
// `/*M!`) are content, not comments: classification stops there (and the statement is
// forwarded as KindOther by the caller seeing no keyword).
func skipSpace(q []byte, i int) int {
	for i < len(q) {
		switch c := q[i]; {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == ';':
			i++
		case c == '#':
			i = skipLine(q, i)
		case c == '-' && i+2 < len(q) && q[i+1] == '-' && (q[i+2] == ' ' || q[i+2] == '\t' || q[i+2] == '\n'):
			i = skipLine(q, i)
		case c == '-' && i+2 == len(q) && q[i+1] == '-':
			return len(q)
		case c == '/' && i+1 < len(q) && q[i+1] == '*':
			if i+2 < len(q) && (q[i+2] == '!' || (q[i+2] == 'M' && i+3 < len(q) && q[i+3] == '!')) {
				return i
			}
			end := indexStarSlash(q, i+2)
			if end < 0 {
				return len(q)
			}
			i = end + 2
		default:
			return i
		}
	}
	return i
}

func skipLine(q []byte, i int) int {
	for i < len(q) && q[i] != '\n' {
		i++
	}
	return i
}

func indexStarSlash(q []byte, i int) int {
	for ; i+1 < len(q); i++ {
		if q[i] == '*' && q[i+1] == '/' {
			return i
		}
	}
	return -1
}

// word returns the identifier-like word at i ([A-Za-z_][A-Za-z0-9_]*).
func word(q []byte, i int) ([]byte, int) {
	j := i
	for j < len(q) {
		c := q[j]
		if c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (j > i && c >= '0' && c <= '9') {
			j++
			continue
		}
		break
	}
	return q[i:j], j
}

// identifier reads a database name after USE: plain or back-quoted, up to the end.
func identifier(q []byte, i int) (string, bool) {
	if i < len(q) && q[i] == '`' {
		var b []byte
		j := i + 1
		for j < len(q) {
			if q[j] == '`' {
				if j+1 < len(q) && q[j+1] == '`' {
					b = append(b, '`')
					j += 2
					continue
				}
				if skipSpace(q, j+1) != len(q) {
					return "", false
				}
				return string(b), len(b) > 0
			}
			b = append(b, q[j])
			j++
		}
		return "", false
	}
	j := i
	for j < len(q) && q[j] != ' ' && q[j] != '\t' && q[j] != '\n' && q[j] != '\r' && q[j] != ';' {
		j++
	}
	if j == i || skipSpace(q, j) != len(q) {
		return "", false
	}
	return string(q[i:j]), true
}

// eq compares an ASCII word with a lower-case keyword, ignoring case.
func eq(w []byte, kw string) bool {
	if len(w) != len(kw) {
		return false
	}
	for i := 0; i < len(w); i++ {
		c := w[i]
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != kw[i] {
			return false
		}
	}
	return true
}

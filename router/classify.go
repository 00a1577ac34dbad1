package router

import (
	"strconv"
)

// Kind is what the router needs to know of a statement: where it may go and whether the
// gateway answers it itself. Classification reads only the leading keywords; the backend
// parses the statement.
type Kind uint8

const (
	KindOther             Kind = iota // forwarded as is, allowed on any tablet type
	KindSelect                        // SELECT, WITH, VALUES, TABLE, (
	KindWrite                         // DML, DDL and anything else a read-only tablet refuses
	KindSet                           // SET ...: carried to every backend connection that serves the session
	KindSetNoRecord                   // SET GLOBAL, SET TRANSACTION, SET autocommit: forwarded, not replayed
	KindBegin                         // BEGIN, START TRANSACTION
	KindCommit                        // COMMIT
	KindRollback                      // ROLLBACK (not ROLLBACK TO SAVEPOINT)
	KindUse                           // USE db: answered by the gateway
	KindShowDatabases                 // SHOW DATABASES / SCHEMAS: answered by the gateway
	KindConnectionID                  // SELECT CONNECTION_ID(): answered by the gateway
	KindKill                          // KILL [QUERY|CONNECTION] id: answered by the gateway
	KindShowVitessShards              // SHOW VITESS_SHARDS [LIKE 'pattern']: answered by the gateway
	KindShowVitessTablets             // SHOW VITESS_TABLETS [LIKE 'pattern']: answered by the gateway
)

var kindNames = [...]string{"other", "select", "write", "set", "set", "begin", "commit", "rollback",
	"use", "show_databases", "connection_id", "kill", "show_vitess_shards", "show_vitess_tablets"}

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
	i := skipSpace(q, 0)
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
		return Statement{Kind: KindSelect}
	case eq(w, "with"), eq(w, "values"), eq(w, "table"):
		return Statement{Kind: KindSelect}
	case eq(w, "insert"), eq(w, "update"), eq(w, "delete"), eq(w, "replace"), eq(w, "load"),
		eq(w, "create"), eq(w, "alter"), eq(w, "drop"), eq(w, "truncate"), eq(w, "rename"),
		eq(w, "grant"), eq(w, "revoke"), eq(w, "optimize"), eq(w, "repair"):
		return Statement{Kind: KindWrite}
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
	case eq(w, "global"), eq(w, "transaction"), eq(w, "autocommit"):
		return Statement{Kind: KindSetNoRecord}
	case eq(w, "session"), eq(w, "local"):
		w2, _ := word(q, skipSpace(q, next))
		if eq(w2, "transaction") || eq(w2, "autocommit") {
			return Statement{Kind: KindSetNoRecord}
		}
	}
	if i+2 < len(q) && q[i] == '@' && q[i+1] == '@' {
		j := i + 2
		w2, n2 := word(q, j)
		if eq(w2, "global") {
			return Statement{Kind: KindSetNoRecord}
		}
		if (eq(w2, "session") || eq(w2, "local")) && n2 < len(q) && q[n2] == '.' {
			w2, _ = word(q, n2+1)
		}
		if eq(w2, "autocommit") {
			return Statement{Kind: KindSetNoRecord}
		}
	}
	return Statement{Kind: KindSet}
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

package classify

import "strconv"

// classifyShow reads SHOW (https://mariadb.com/kb/en/show/) and tells apart the forms the
// gateway answers itself.
func classifyShow(c *cursor) Statement {
	st := Statement{Kind: KindShow, ReadOnly: true, Show: &Show{}}
	c.advance()
	switch c.kw {
	case kwDatabases, kwSchemas:
		c.advance()
		if c.done() {
			st.Show.Kind = ShowDatabases
		}
	case kwVitessShards, kwVitessTablets:
		kind := ShowVitessShards
		if c.is(kwVitessTablets) {
			kind = ShowVitessTablets
		}
		c.advance()
		if like, has, ok := likeClause(c); ok {
			*st.Show = Show{Kind: kind, Like: like, HasLike: has}
		}
	case kwFull, kwProcesslist:
		full := c.accept(kwFull)
		if c.accept(kwProcesslist) {
			st.Flags |= ServerInternals
			if c.done() {
				*st.Show = Show{Kind: ShowProcesslist, Full: full}
			}
			break
		}
		showOther(c, &st)
	case kwVschema:
		c.advance()
		kind := ShowOther
		switch c.kw {
		case kwTables:
			kind = ShowVSchemaTables
		case kwVindexes:
			kind = ShowVSchemaVindexes
		}
		c.advance()
		if c.done() {
			st.Show.Kind = kind
		}
	case kwWarnings, kwErrors:
		st.Flags |= ReadsDiagnostics | DiagnosticsStatement
		kind := ShowWarnings
		if c.is(kwErrors) {
			kind = ShowErrors
		}
		c.advance()
		if show, ok := showLimit(c); ok {
			show.Kind = kind
			*st.Show = show
		}
	case kwCount:
		showCount(c, &st)
	case kwEngine:
		st.Flags |= ServerInternals
	case kwExplain, kwAnalyze:
		st.Flags |= ServerInternals // SHOW EXPLAIN | ANALYZE FOR <another connection>
	default:
		if f, reason := showBeyond(*c); f != 0 {
			st.Flags |= f
			st.Reason = reason
		}
		showOther(c, &st)
	}
	return st
}

const reasonShowAccount = "SHOW CREATE USER and SHOW GRANTS show accounts' password hashes (the session's own account is the gateway's backend user)"

// showBeyond returns the flags of the SHOW statements that show more than the session's own:
// other accounts' credentials (Admin), and what MariaDB keeps for its PROCESS, BINLOG
// MONITOR and SLAVE MONITOR privileges (ServerInternals): every user's and client's
// statistics, the binary and relay logs (every session's changes), the replication state.
// c is at the word after SHOW.
func showBeyond(c cursor) (Flags, string) {
	if c.tok.Kind != TokWord {
		return 0, ""
	}
	w := c.text()
	switch {
	case c.is(kwCreate):
		c.advance()
		if c.is(kwUser) {
			return Admin, reasonShowAccount
		}
	case equalFold(w, "grants"):
		// Every form: the session's own account is the gateway's backend user, shared by every
		// gateway user, and its grants show its password hash.
		return Admin, reasonShowAccount
	case equalFold(w, "user_statistics"), equalFold(w, "client_statistics"), equalFold(w, "index_statistics"),
		equalFold(w, "table_statistics"), c.is(kwBinlog), equalFold(w, "relaylog"), c.is(kwMaster), c.is(kwSlave),
		c.is(kwReplica), equalFold(w, "slaves"), equalFold(w, "replicas"):
		return ServerInternals, ""
	case c.is(kwBinary), c.is(kwAll):
		return ServerInternals, "" // SHOW BINARY LOGS, SHOW ALL SLAVES | REPLICAS STATUS
	}
	return 0, ""
}

// showOther reads the SHOW statements the gateway does not answer: the database they name, if
// any, and whether it holds the server's internals.
func showOther(c *cursor, st *Statement) {
	db := showDatabase(*c)
	st.Show.Database = db
	if readsInternalSchema(c) || internalSchema(db) {
		st.Flags |= ServerInternals
	}
}

// showDatabase returns the database a SHOW names without a qualified name:
// SHOW [FULL] TABLES | TABLE STATUS | TRIGGERS | EVENTS | OPEN TABLES {FROM | IN} db,
// SHOW [FULL | EXTENDED] COLUMNS | FIELDS | INDEX | INDEXES | KEYS {FROM | IN} t {FROM | IN} db,
// SHOW CREATE DATABASE | SCHEMA [IF NOT EXISTS] db. c is at the word after SHOW.
func showDatabase(c cursor) string {
	for c.is(kwFull) || c.tok.Kind == TokWord && equalFold(c.text(), "extended") {
		c.advance()
	}
	if c.tok.Kind != TokWord {
		return ""
	}
	w := c.text()
	skip := 0 // FROM | IN clauses before the database's
	switch {
	case equalFold(w, "columns"), equalFold(w, "fields"), equalFold(w, "index"), equalFold(w, "indexes"), equalFold(w, "keys"):
		skip = 1
	case equalFold(w, "tables"), equalFold(w, "triggers"), equalFold(w, "events"):
	case equalFold(w, "table"), equalFold(w, "open"): // TABLE STATUS, OPEN TABLES
	case c.is(kwCreate):
		c.advance()
		if !c.is(kwDatabase) && !c.is(kwSchema) {
			return ""
		}
		c.advance()
		for c.is(kwIf) || c.is(kwNot) || c.tok.Kind == TokWord && equalFold(c.text(), "exists") {
			c.advance()
		}
		name, _ := identName(c.tz.q, c.tok)
		return name
	default:
		return ""
	}
	for c.advance(); !c.done(); c.advance() {
		if !c.is(kwFrom) && !c.is(kwIn) {
			continue
		}
		c.advance()
		if skip > 0 {
			skip--
			continue
		}
		if t, _ := c.peek(); t.Kind == TokDot {
			return "" // a qualified name: Qualifiers reports its database
		}
		name, _ := identName(c.tz.q, c.tok)
		return name
	}
	return ""
}

// showCount reads SHOW COUNT(*) WARNINGS | ERRORS (MariaDB wants "COUNT(" without a space).
func showCount(c *cursor, st *Statement) {
	end := c.tok.End
	c.advance()
	if c.tok.Kind != TokLParen || c.tok.Start != end {
		return
	}
	c.advance()
	if !c.acceptOp("*") || !c.acceptKind(TokRParen) {
		return
	}
	kind := ShowCountWarnings
	switch c.kw {
	case kwWarnings:
	case kwErrors:
		kind = ShowCountErrors
	default:
		return
	}
	c.advance()
	st.Flags |= ReadsDiagnostics | DiagnosticsStatement
	if c.done() {
		st.Show.Kind = kind
	}
}

// showLimit reads an optional LIMIT [offset,] n | LIMIT n OFFSET m up to the end.
func showLimit(c *cursor) (Show, bool) {
	var s Show
	if c.done() {
		return s, true
	}
	if !c.accept(kwLimit) {
		return s, false
	}
	n, ok := number(c)
	if !ok {
		return s, false
	}
	s.Limit, s.HasLimit = n, true
	switch {
	case c.acceptKind(TokComma):
		if s.Limit, ok = number(c); !ok {
			return s, false
		}
		s.Offset = n
	case c.accept(kwOffset):
		if s.Offset, ok = number(c); !ok {
			return s, false
		}
	}
	return s, c.done()
}

// number reads a decimal integer.
func number(c *cursor) (uint64, bool) {
	if c.tok.Kind != TokNumber {
		return 0, false
	}
	n, err := strconv.ParseUint(string(c.text()), 10, 64)
	if err != nil {
		return 0, false
	}
	c.advance()
	return n, true
}

// likeClause reads an optional LIKE 'pattern' up to the end of the statement.
func likeClause(c *cursor) (pattern string, has, ok bool) {
	if c.done() {
		return "", false, true
	}
	if !c.accept(kwLike) || c.tok.Kind != TokString {
		return "", false, false
	}
	pattern, _ = unquoteString(c.tz.q, c.tok, c.tz.Options())
	c.advance()
	return pattern, true, c.done()
}

// readsInternalSchema reports a SHOW ... FROM | IN mysql | sys | performance_schema.
func readsInternalSchema(c *cursor) bool {
	for ; !c.done(); c.advance() {
		if c.is(kwFrom) || c.is(kwIn) {
			c.advance()
			if name, ok := identName(c.tz.q, c.tok); ok && internalSchema(name) {
				return true
			}
		}
	}
	return false
}

// classifyKill reads KILL [HARD | SOFT] [CONNECTION | QUERY] n, KILL ... QUERY ID n and
// KILL ... USER u (https://mariadb.com/kb/en/kill/).
func classifyKill(c *cursor) Statement {
	k := &Kill{}
	st := Statement{Kind: KindKill, Flags: Kills, ReadOnly: true, Kill: k}
	c.advance()
	switch {
	case c.accept(kwHard):
		k.Hard = true
	case c.accept(kwSoft):
		k.Soft = true
	}
	switch {
	case c.accept(kwConnection):
	case c.accept(kwQuery):
		k.Query, k.Target = true, KillQuery
		if c.accept(kwId) {
			k.Target = KillQueryID
		}
	}
	if c.accept(kwUser) {
		k.Target = KillUser
		if c.done() {
			return Statement{}
		}
		start := c.tok.Start
		end := start
		for ; !c.done(); c.advance() {
			end = c.tok.End
		}
		k.User = string(c.tz.q[start:end])
		st.Flags, st.Reason = Kills|Admin, reasonKill
		return st
	}
	if c.done() {
		return Statement{}
	}
	k.ID, k.Plain = plainID(c)
	if !k.Plain || k.Target == KillQueryID {
		st.Flags, st.Reason = Kills|Admin, reasonKill
	}
	return st
}

// plainID reads the rest of a KILL: a decimal number in any number of parentheses.
func plainID(c *cursor) (uint64, bool) {
	open := 0
	for c.acceptKind(TokLParen) {
		open++
	}
	n, ok := number(c)
	if !ok {
		return 0, false
	}
	for ; open > 0; open-- {
		if !c.acceptKind(TokRParen) {
			return 0, false
		}
	}
	if !c.done() {
		return 0, false
	}
	return n, true
}

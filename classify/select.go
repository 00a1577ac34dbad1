package classify

import "strings"

// classifySelect reads a SELECT, and recognises the two the gateway answers itself:
// exactly SELECT CONNECTION_ID() and SELECT @@[session.|local.]autocommit, each with an
// optional alias.
func classifySelect(c *cursor, h *head, scan Flags) Statement {
	st := selectStatement(scan)
	if h.hasSecond && !maybeAnswered(c.tz.q, h.second) {
		return st
	}
	c.advance()
	switch {
	case c.is(kwConnectionId):
		if name, ok := connectionID(c); ok {
			return Statement{Kind: KindConnectionID, ReadOnly: true, Name: name}
		}
	case c.tok.Kind == TokSysVar:
		if name, ok := autocommitVar(c); ok {
			return Statement{Kind: KindSelectAutocommit, ReadOnly: true, Name: name}
		}
	}
	return st
}

// connectionID reads CONNECTION_ID() [[AS] alias] to the end; the column is named after the
// alias, or the expression as written (comments inside it included), as MariaDB names it.
func connectionID(c *cursor) (string, bool) {
	start := c.tok.Start
	c.advance()
	if !c.acceptKind(TokLParen) || c.tok.Kind != TokRParen {
		return "", false
	}
	end := c.tok.End
	c.advance()
	return columnAlias(c, string(c.tz.q[start:end]))
}

func autocommitVar(c *cursor) (string, bool) {
	text := c.text()
	scope, name := sysVarParts(text)
	if scope == "global" || !sysVarNameIs(name, "autocommit") {
		return "", false
	}
	c.advance()
	return columnAlias(c, string(text))
}

// columnAlias reads an optional [AS] alias up to the end of the statement.
func columnAlias(c *cursor, expr string) (string, bool) {
	if c.done() {
		return expr, true
	}
	c.accept(kwAs)
	var alias string
	switch c.tok.Kind {
	case TokWord, TokQuotedIdent:
		alias, _ = identName(c.tz.q, c.tok)
	case TokString:
		alias, _ = unquoteString(c.tz.q, c.tok, c.tz.Options())
	default:
		return "", false
	}
	c.advance()
	return alias, c.done()
}

// classifyExplain reads DESCRIBE | DESC | EXPLAIN: of a table, of a statement, or of another
// connection's statement (EXPLAIN FOR CONNECTION n). A read-only server refuses to explain
// a write, so only the explanation of a read is read-only.
func classifyExplain(c *cursor, scan Flags) Statement {
	c.advance()
	skipExplainOptions(c)
	if c.is(kwFor) {
		return Statement{Kind: KindExplain, Flags: ServerInternals, ReadOnly: true}
	}
	if !explainable(c) {
		return Statement{Kind: KindExplain, ReadOnly: true} // DESCRIBE t [column]
	}
	inner := classify(c, &head{}, scan)
	return Statement{Kind: KindExplain, Inner: inner.Kind, ReadOnly: inner.ReadOnly}
}

// classifyAnalyze reads ANALYZE: MariaDB's ANALYZE <statement> runs the statement and reports
// its plan; ANALYZE TABLE is maintenance.
func classifyAnalyze(c *cursor, scan Flags) Statement {
	c.advance()
	if c.is(kwNoWriteToBinlog) || c.is(kwLocal) || c.is(kwTable) || c.is(kwTables) {
		return Statement{Kind: KindAdmin}
	}
	skipExplainOptions(c)
	if !explainable(c) {
		return Statement{}
	}
	inner := classify(c, &head{}, scan)
	return Statement{Kind: KindExplain, Inner: inner.Kind, Flags: inner.Flags, Reason: inner.Reason, ReadOnly: inner.ReadOnly}
}

// skipExplainOptions moves past EXTENDED, PARTITIONS, FORMAT = name.
func skipExplainOptions(c *cursor) {
	for {
		switch {
		case c.accept(kwExtended), c.accept(kwPartitions):
		case c.accept(kwFormat):
			c.acceptOp("=")
			c.advance()
		default:
			return
		}
	}
}

// explainable reports whether c is at a statement EXPLAIN and ANALYZE take.
func explainable(c *cursor) bool {
	switch c.kw {
	case kwSelect, kwWith, kwValues, kwTable, kwInsert, kwUpdate, kwDelete, kwReplace:
		return true
	}
	return c.tok.Kind == TokLParen
}

// classifyPrepared reads PREPARE, EXECUTE and DEALLOCATE PREPARE
// (https://mariadb.com/kb/en/prepare-statement/, execute-immediate/).
func classifyPrepared(c *cursor) Statement {
	verb := c.kw
	c.advance()
	switch verb {
	case kwPrepare:
		st := Statement{Kind: KindPrepare, Flags: SQLPrepare, Name: lowerName(c)}
		if !c.accept(kwFrom) {
			return Statement{}
		}
		text, ok := literalText(c)
		if !ok {
			st.Flags |= Admin
			st.Reason = reasonPrepareVar
			return st
		}
		inner := Analyze([]byte(text), c.tz.Options())
		st.Text, st.Inner = text, inner.First.Kind
		st.ReadOnly = inner.Count == 1 && inner.ReadOnly
		return st
	case kwExecute:
		if !c.accept(kwImmediate) {
			return Statement{Kind: KindExecute, Flags: SQLPrepare, Name: lowerName(c)}
		}
		st := Statement{Kind: KindExecute, Flags: SQLPrepare}
		text, ok := literalText(c)
		if !ok {
			st.Flags |= Admin
			st.Reason = reasonExecImm
			return st
		}
		// The text runs now: its flags are this statement's.
		inner := Analyze([]byte(text), c.tz.Options())
		st.Text, st.Inner = text, inner.First.Kind
		st.Flags |= inner.Flags
		st.Reason = inner.Reason
		return st
	case kwDeallocate:
		if !c.accept(kwPrepare) {
			return Statement{}
		}
		return Statement{Kind: KindDeallocate, Flags: SQLPrepare, ReadOnly: true, Name: lowerName(c)}
	}
	return Statement{}
}

// literalText reads a string literal (adjacent literals are one, as MariaDB joins them)
// that is the rest of the statement, or the rest up to USING.
func literalText(c *cursor) (string, bool) {
	if c.tok.Kind != TokString {
		return "", false
	}
	var text strings.Builder
	for c.tok.Kind == TokString {
		s, _ := unquoteString(c.tz.q, c.tok, c.tz.Options())
		text.WriteString(s)
		c.advance()
	}
	if !c.done() && !c.is(kwUsing) {
		return "", false // an expression that starts with a literal
	}
	return text.String(), true
}

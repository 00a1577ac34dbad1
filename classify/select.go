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
// (https://mariadb.com/kb/en/prepare-statement/, execute-immediate/). The literal text of
// PREPARE and EXECUTE IMMEDIATE is read with the options in force when it runs: the
// statement's, or those of the SET STATEMENT around it (h).
func classifyPrepared(c *cursor, h *head) Statement {
	verb := c.kw
	c.advance()
	dyn := c.tz.Options()
	if h.dynamic {
		dyn = h.dynOpt
	}
	switch verb {
	case kwPrepare:
		st := Statement{Kind: KindPrepare, Flags: SQLPrepare, Name: lowerName(c)}
		if !c.accept(kwFrom) {
			return Statement{}
		}
		text, ok := literalText(c)
		switch {
		case !ok:
			st.Flags |= Admin
			st.Reason = reasonPrepareVar
			return st
		case h.dynUnknown:
			st.Flags |= Admin
			st.Reason = reasonDynamicOptions
			return st
		}
		inner, changes := analyzeText([]byte(text), dyn)
		st.Text, st.Inner, st.TextOptions = text, inner.First.Kind, dyn
		st.ReadOnly = inner.Count == 1 && inner.ReadOnly
		// What the text does beyond the session, EXECUTE will do: preparing it is as much.
		st.Flags |= inner.Flags & (Admin | ServerInternals | Kills)
		st.Reason = inner.Reason
		if changes {
			st.unsure = reasonExecuteBefore // for the EXECUTE of it (see splitter.prepared)
		}
		return st
	case kwExecute:
		if !c.accept(kwImmediate) {
			// The prepared text may set sql_mode or the client character set.
			return Statement{Kind: KindExecute, Flags: SQLPrepare, Name: lowerName(c), unsure: reasonExecuteBefore}
		}
		st := Statement{Kind: KindExecute, Flags: SQLPrepare}
		text, ok := literalText(c)
		switch {
		case !ok:
			st.Flags |= Admin
			st.Reason = reasonExecImm
			return st
		case h.dynUnknown:
			st.Flags |= Admin
			st.Reason = reasonDynamicOptions
			return st
		}
		// The text runs now: its flags are this statement's, and what it sets, the session's.
		inner, changes := analyzeText([]byte(text), dyn)
		st.Text, st.Inner, st.TextOptions = text, inner.First.Kind, dyn
		st.Flags |= inner.Flags
		st.Reason = inner.Reason
		if changes {
			st.unsure = reasonExecuteBefore
		}
		return st
	case kwDeallocate:
		if !c.accept(kwPrepare) {
			return Statement{}
		}
		return Statement{Kind: KindDeallocate, Flags: SQLPrepare, ReadOnly: true, Name: lowerName(c)}
	}
	return Statement{}
}

// analyzeText analyses the text of PREPARE | EXECUTE IMMEDIATE, and reports whether running
// it may change how MariaDB reads the statements after it (it sets sql_mode or the client
// character set, or runs a prepared text).
func analyzeText(q []byte, opt Options) (Query, bool) {
	var res Query
	sp := newSplitter(q, opt)
	var st Statement
	for sp.next(&st) {
		if res.Count == 0 {
			res.First = st
			res.ReadOnly = true
		}
		res.Count++
		res.add(&st)
	}
	return res, sp.unsure != "" || sp.opt != opt
}

// literalText reads a string literal (adjacent literals are one, as MariaDB joins them)
// that is the rest of the statement, or the rest up to USING. A literal in a versioned
// comment a server may skip makes the text unknown.
func literalText(c *cursor) (string, bool) {
	if c.tok.Kind != TokString {
		return "", false
	}
	var text strings.Builder
	for c.tok.Kind == TokString {
		if c.tz.inExec && c.tz.execVer {
			return "", false
		}
		s, _ := unquoteString(c.tz.q, c.tok, c.tz.Options())
		text.WriteString(s)
		c.advance()
	}
	if !c.done() && !c.is(kwUsing) {
		return "", false // an expression that starts with a literal
	}
	return text.String(), true
}

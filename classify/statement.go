package classify

// Reasons for the Admin flag: what the statement does beyond its session.
const (
	reasonKill        = "KILL of a user, a query id or an expression: other sessions"
	reasonShutdown    = "SHUTDOWN stops the server"
	reasonPassword    = "SET PASSWORD changes an account"
	reasonUser        = "CREATE | ALTER | DROP | RENAME USER changes accounts"
	reasonGrant       = "GRANT | REVOKE changes privileges"
	reasonRole        = "CREATE | DROP ROLE, SET DEFAULT ROLE change accounts"
	reasonReplication = "replication control (CHANGE MASTER, START | STOP | RESET SLAVE, RESET MASTER, PURGE, BINLOG)"
	reasonSetGlobal   = "SET GLOBAL changes the server's settings"
	reasonFlush       = "FLUSH acts on the whole server"
	reasonReset       = "RESET acts on the whole server"
	reasonPlugin      = "INSTALL | UNINSTALL changes the server's plugins"
	reasonLoadData    = "LOAD DATA | XML INFILE (not LOCAL) reads a file on the server"
	reasonPrepareVar  = "PREPARE FROM an expression: its text cannot be judged"
	reasonExecImm     = "EXECUTE IMMEDIATE of an expression: its text cannot be judged"
	reasonRoutine     = "CREATE | ALTER | DROP PROCEDURE | FUNCTION | TRIGGER | EVENT | PACKAGE [BODY]: stored code"
	// reasonOracleGrammar: see shapeRest.
	reasonOracleGrammar = "a statement of sql_mode ORACLE's grammar (CREATE PACKAGE, an anonymous block) that the gateway does not follow: " +
		"it cannot be judged, and runs to the end of the query"
	reasonServer      = "CREATE | ALTER | DROP SERVER changes the server's federated links"
	reasonBackupStage = "BACKUP STAGE blocks the whole server"
	reasonAmbiguous   = "a versioned executable comment holds a string or comment with */ in it: MariaDB reads it one way or the other depending on its version"
)

// classifyFast classifies the per-query path's statements into st (zeroed by the caller)
// from their first keyword and second token, without a cursor or a Statement copy; it
// reports false for the others, which classify reads.
func classifyFast(kw keyword, h *head, scan Flags, st *Statement) bool {
	if !h.hasSecond {
		return false
	}
	switch kw {
	case kwSelect:
		if !maybeAnswered(h.q, h.second) {
			st.Kind, st.ReadOnly = KindSelect, scan&(Admin|ForUpdate|WritesSequence) == 0
			return true
		}
	case kwInsert:
		st.Kind = KindInsert
		return true
	case kwUpdate:
		st.Kind = KindUpdate
		return true
	case kwDelete:
		st.Kind = KindDelete
		return true
	case kwReplace:
		st.Kind = KindReplace
		return true
	case kwBegin, kwCommit, kwRollback:
		if h.second.Kind == TokEOF || h.second.Kind == TokSemicolon {
			st.Kind, st.ReadOnly = KindBegin, true
			if kw == kwCommit {
				st.Kind = KindCommit
			} else if kw == kwRollback {
				st.Kind = KindRollback
			}
			return true
		}
	}
	return false
}

// maybeAnswered reports whether the token after SELECT may start one of the SELECTs the
// gateway answers itself (CONNECTION_ID(), @@autocommit).
func maybeAnswered(q []byte, second Token) bool {
	return second.Kind == TokSysVar || second.Kind == TokWord && equalFold(q[second.Start:second.End], "connection_id")
}

// classify reads the statement at c (its first token), given its head and the flags the
// scanner found in it.
func classify(c *cursor, h *head, scan Flags) Statement {
	switch c.kw {
	case kwSelect:
		return classifySelect(c, h, scan)
	case kwWith:
		return classifyWith(c, scan)
	case kwValues, kwTable:
		return selectStatement(scan)
	case kwInsert:
		return Statement{Kind: KindInsert}
	case kwUpdate:
		return Statement{Kind: KindUpdate}
	case kwDelete:
		return Statement{Kind: KindDelete}
	case kwReplace:
		return Statement{Kind: KindReplace}
	case kwCreate:
		return classifyCreate(c)
	case kwAlter:
		return classifyAlter(c)
	case kwDrop:
		return classifyDrop(c)
	case kwRename:
		c.advance()
		if c.is(kwUser) {
			return adminStatement(reasonUser)
		}
		return Statement{Kind: KindDDL}
	case kwTruncate:
		return Statement{Kind: KindDDL}
	case kwSet:
		return classifySet(c, h, scan)
	case kwBegin, kwStart, kwCommit, kwRollback, kwSavepoint, kwRelease:
		return classifyTransaction(c)
	case kwUse:
		return classifyUse(c)
	case kwShow:
		return classifyShow(c)
	case kwKill:
		return classifyKill(c)
	case kwDescribe, kwDesc, kwExplain:
		return classifyExplain(c, scan)
	case kwAnalyze:
		return classifyAnalyze(c, scan)
	case kwHelp:
		return Statement{Kind: KindHelp, ReadOnly: true}
	case kwCall:
		return Statement{Kind: KindCall, Flags: Call}
	case kwDo:
		return Statement{Kind: KindDo}
	case kwLoad:
		return classifyLoad(c)
	case kwHandler:
		return classifyHandler(c)
	case kwLock:
		return classifyLock(c)
	case kwUnlock:
		c.advance()
		if c.is(kwTable) || c.is(kwTables) {
			return Statement{Kind: KindUnlock, Flags: ReleasesLock, ReadOnly: true}
		}
		return Statement{}
	case kwBackup:
		return classifyBackup(c)
	case kwPrepare, kwExecute, kwDeallocate:
		return classifyPrepared(c, h)
	case kwXa:
		return classifyXA(c)
	case kwSignal, kwResignal:
		return Statement{Kind: KindSignal}
	case kwGet:
		c.advance()
		if c.is(kwCurrent) || c.is(kwStacked) {
			c.advance()
		}
		if c.is(kwDiagnostics) {
			return Statement{Kind: KindGetDiagnostics, Flags: ReadsDiagnostics | DiagnosticsStatement, ReadOnly: true}
		}
		return Statement{}
	case kwIf, kwCase, kwLoop, kwWhile, kwRepeat, kwFor:
		return Statement{Kind: KindCompound, Flags: Compound}
	}
	if c.tok.Kind == TokLParen {
		return selectStatement(scan)
	}
	return classifyAdmin(c)
}

func adminStatement(reason string) Statement {
	return Statement{Kind: KindAdmin, Flags: Admin, Reason: reason}
}

func selectStatement(scan Flags) Statement {
	return Statement{Kind: KindSelect, ReadOnly: scan&(Admin|ForUpdate|WritesSequence) == 0}
}

// classifyWith reads WITH [RECURSIVE] cte [(columns)] AS (...) [, ...] and classifies the
// statement the CTEs serve.
func classifyWith(c *cursor, scan Flags) Statement {
	c.advance()
	c.accept(kwRecursive)
	for !c.done() {
		c.advance() // the name
		if c.tok.Kind == TokLParen {
			c.skipParens()
		}
		if !c.accept(kwAs) || c.tok.Kind != TokLParen {
			return Statement{}
		}
		c.skipParens()
		if !c.acceptKind(TokComma) {
			break
		}
	}
	switch c.kw {
	case kwSelect, kwValues, kwTable:
		return selectStatement(scan)
	case kwUpdate:
		return Statement{Kind: KindUpdate}
	case kwDelete:
		return Statement{Kind: KindDelete}
	case kwInsert:
		return Statement{Kind: KindInsert}
	case kwReplace:
		return Statement{Kind: KindReplace}
	}
	if c.tok.Kind == TokLParen {
		return selectStatement(scan)
	}
	return Statement{}
}

func classifyCreate(c *cursor) Statement {
	c.advance()
	if c.accept(kwOr) {
		c.accept(kwReplace)
	}
	if c.is(kwTemporary) {
		return Statement{Kind: KindDDL, Flags: CreatesTempTable}
	}
	return classifyDefinition(c)
}

func classifyAlter(c *cursor) Statement {
	c.advance()
	return classifyDefinition(c)
}

// classifyDefinition reads what CREATE or ALTER defines, past their options.
func classifyDefinition(c *cursor) Statement {
	for {
		switch c.kw {
		case kwDefiner:
			skipDefiner(c)
			continue
		case kwAggregate, kwOnline, kwIgnore, kwUnique:
			c.advance()
			continue
		case kwSql:
			c.advance()
			c.accept(kwSecurity)
			c.advance()
			continue
		case kwAlgorithm:
			c.advance()
			c.acceptOp("=")
			c.advance()
			continue
		}
		break
	}
	return objectStatement(c)
}

func classifyDrop(c *cursor) Statement {
	c.advance()
	switch c.kw {
	case kwTemporary:
		return Statement{Kind: KindDDL, Flags: DropsTempTable}
	case kwPrepare:
		c.advance()
		return Statement{Kind: KindDeallocate, Flags: SQLPrepare, ReadOnly: true, Name: lowerName(c)}
	}
	return objectStatement(c)
}

// objectStatement classifies CREATE, ALTER or DROP of the kind of object at c.
func objectStatement(c *cursor) Statement {
	switch c.kw {
	case kwDatabase, kwSchema:
		c.advance()
		for c.is(kwIf) || c.is(kwNot) || c.tok.Kind == TokWord && equalFold(c.text(), "exists") {
			c.advance()
		}
		switch c.kw {
		case kwCharacter, kwCharset, kwDefault, kwCollate, kwComment:
			// ALTER DATABASE [DEFAULT] CHARACTER SET ...: the current database, no name.
			if t, _ := c.peek(); t.Kind != TokDot && t.Kind != TokEOF && t.Kind != TokSemicolon {
				return Statement{Kind: KindDDL}
			}
		}
		name, _ := identName(c.tz.q, c.tok)
		return Statement{Kind: KindDDL, Name: name}
	case kwProcedure, kwFunction, kwTrigger, kwEvent, kwPackage:
		return Statement{Kind: KindDDL, Flags: Admin, Reason: reasonRoutine}
	case kwUser:
		return adminStatement(reasonUser)
	case kwRole:
		return adminStatement(reasonRole)
	case kwServer:
		return Statement{Kind: KindDDL, Flags: Admin, Reason: reasonServer}
	}
	return Statement{Kind: KindDDL}
}

// lowerName returns the identifier at c in lower case, and moves past it.
func lowerName(c *cursor) string {
	name, _ := identName(c.tz.q, c.tok)
	c.advance()
	return lowerASCII(name)
}

func classifyUse(c *cursor) Statement {
	c.advance()
	name, ok := identName(c.tz.q, c.tok)
	if !ok {
		return Statement{}
	}
	end := c.tok.End
	c.advance()
	if c.tok.Kind == TokUserVar && c.tok.Start == end {
		// USE ks@replica, as vtgate takes it (MariaDB would not: the gateway answers USE).
		name += string(c.text())
		c.advance()
	}
	if !c.done() {
		return Statement{} // USE a b, USE a.b: MariaDB refuses them
	}
	st := Statement{Kind: KindUse, Name: name, ReadOnly: true}
	if internalSchema(name) {
		st.Flags |= ServerInternals
	}
	return st
}

// internalSchema reports the schemas that hold the server's internals.
func internalSchema(name string) bool {
	switch lowerASCII(name) {
	case "mysql", "sys", "performance_schema":
		return true
	}
	return false
}

func classifyLoad(c *cursor) Statement {
	c.advance()
	if c.is(kwIndex) {
		return Statement{Kind: KindAdmin} // LOAD INDEX INTO CACHE
	}
	if !c.is(kwData) && !c.is(kwXml) {
		return Statement{}
	}
	c.advance()
	for c.is(kwLowPriority) || c.is(kwConcurrent) {
		c.advance()
	}
	if c.is(kwLocal) {
		return Statement{Kind: KindLoad, Flags: LocalInfile}
	}
	return Statement{Kind: KindLoad, Flags: Admin, Reason: reasonLoadData}
}

func classifyHandler(c *cursor) Statement {
	c.advance()
	start := c.tok.Start
	end := start
	for !c.done() {
		switch c.kw {
		case kwOpen:
			return Statement{Kind: KindHandler, Flags: OpensHandler, ReadOnly: true, Name: string(c.tz.q[start:end])}
		case kwRead:
			return Statement{Kind: KindHandler, ReadOnly: true, Name: string(c.tz.q[start:end])}
		case kwClose:
			return Statement{Kind: KindHandler, Flags: ClosesHandler, ReadOnly: true, Name: string(c.tz.q[start:end])}
		}
		end = c.tok.End
		c.advance()
	}
	return Statement{}
}

// classifyLock reads LOCK TABLE[S] t [AS a] READ [LOCAL] | [LOW_PRIORITY] WRITE [CONCURRENT], ...
// A read-only server refuses WRITE locks only.
func classifyLock(c *cursor) Statement {
	c.advance()
	if !c.is(kwTable) && !c.is(kwTables) {
		return Statement{}
	}
	st := Statement{Kind: KindLock, Flags: TakesLock, ReadOnly: true}
	depth := 0
	for ; !c.done(); c.advance() {
		switch c.tok.Kind {
		case TokLParen:
			depth++
		case TokRParen:
			depth--
		}
		if depth == 0 && c.is(kwWrite) {
			st.ReadOnly = false
		}
	}
	return st
}

func classifyBackup(c *cursor) Statement {
	c.advance()
	switch c.kw {
	case kwLock:
		return Statement{Kind: KindLock, Flags: TakesLock}
	case kwUnlock:
		return Statement{Kind: KindUnlock, Flags: ReleasesLock, ReadOnly: true}
	case kwStage:
		c.advance()
		if c.is(kwEnd) {
			return Statement{Kind: KindUnlock, Flags: ReleasesLock | Admin, Reason: reasonBackupStage}
		}
		return Statement{Kind: KindLock, Flags: TakesLock | Admin, Reason: reasonBackupStage}
	}
	return Statement{}
}

// classifyAdmin reads the administration and maintenance statements.
func classifyAdmin(c *cursor) Statement {
	switch c.kw {
	case kwFlush:
		return classifyFlush(c)
	case kwReset:
		c.advance()
		switch c.kw {
		case kwMaster, kwSlave, kwReplica:
			return adminStatement(reasonReplication)
		}
		return adminStatement(reasonReset)
	case kwPurge, kwChange, kwBinlog:
		return adminStatement(reasonReplication)
	case kwStop:
		return adminStatement(reasonReplication)
	case kwShutdown:
		return adminStatement(reasonShutdown)
	case kwGrant, kwRevoke:
		return adminStatement(reasonGrant)
	case kwInstall, kwUninstall:
		return adminStatement(reasonPlugin)
	case kwCache, kwOptimize, kwRepair:
		return Statement{Kind: KindAdmin}
	case kwCheck, kwChecksum:
		return Statement{Kind: KindAdmin, ReadOnly: true}
	}
	return Statement{}
}

// classifyFlush reads FLUSH: the forms that take the global read lock or lock tables for
// export are locks too.
func classifyFlush(c *cursor) Statement {
	st := adminStatement(reasonFlush)
	var p1, p2 keyword
	for c.advance(); !c.done(); c.advance() {
		switch {
		case c.kw == kwLock && p1 == kwRead && p2 == kwWith, c.kw == kwExport && p1 == kwFor:
			st.Kind = KindLock
			st.Flags |= TakesLock
		}
		p2, p1 = p1, c.kw
	}
	return st
}

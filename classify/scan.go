package classify

// scanner sets the flags that any token of a statement can raise, whatever the statement:
// function calls, variables, qualified names of server internals. It sees every token once,
// with the two before it, so it costs a few comparisons per token.
type scanner struct {
	q      []byte // the query
	flags  Flags
	reason string
	mode   scanMode
	depth  int  // parentheses
	target bool // at an assignment target of SET (or GET DIAGNOSTICS)
	// pend holds what waits for the next token: one test per token when nothing does.
	pend   scanPending
	p1, p2 scanTok // the previous two tokens
}

type scanPending uint8

const (
	pendVar  scanPending = 1 << iota // @x: ":=" makes it written, anything else read
	pendLII                          // LAST_INSERT_ID(: ")" reads it, an argument sets it
	pendIS                           // information_schema.: the table decides
	pendInto                         // after INTO: a list of @x is written
)

type scanTok struct {
	kind       TokenKind
	kw         keyword
	start, end int
}

// startStatement tells the scanner a statement starts with the keyword kw (at the top of
// a query, or inside a compound statement's body).
func (s *scanner) startStatement(kw keyword) {
	s.resolve()
	s.pend &^= pendInto
	s.target = false
	s.depth = 0
	switch kw {
	case kwSet:
		s.mode, s.target = modeSet, true
	case kwCall:
		s.mode = modeCall
	case kwGet:
		s.mode = modeGetDiag
	default:
		s.mode = modeNormal
	}
}

// setMode switches the scan mode in the middle of a statement (at the statement run by
// SET STATEMENT ... FOR).
func (s *scanner) setMode(m scanMode) {
	s.mode, s.target = m, false
	s.pend &^= pendInto
}

func (s *scanner) admin(reason string) {
	if s.flags&Admin == 0 {
		s.reason = reason
	}
	s.flags |= Admin
}

// resolve settles what the last token left waiting, at the end of a statement.
func (s *scanner) resolve() {
	if s.pend&pendVar != 0 {
		s.flags |= ReadsUserVar
	}
	if s.pend&pendLII != 0 {
		s.flags |= SetsLastInsertID
	}
	s.pend = 0
}

// feed reads the next token (kw: its keyword, or noKeyword when it is not one or was not
// looked up).
func (s *scanner) feed(t Token, kw keyword) {
	if !s.quiet(t, kw) {
		s.react(t, kw)
	}
	s.shift(t, kw)
}

// quiet reports a token the scanner only has to remember as the previous one (most
// tokens): the per-query path tests it inline.
func (s *scanner) quiet(t Token, kw keyword) bool {
	return s.pend == 0 && kw == noKeyword && !s.target && t.Kind-TokUserVar > TokDot-TokUserVar
}

// shift moves the window of the last two tokens.
func (s *scanner) shift(t Token, kw keyword) {
	s.p2 = s.p1
	s.p1 = scanTok{kind: t.Kind, kw: kw, start: t.Start, end: t.End}
}

func (s *scanner) react(t Token, kw keyword) {
	if s.pend != 0 {
		s.settle(t)
	}
	switch t.Kind {
	case TokWord:
		if kw != noKeyword || s.target {
			s.word(t, kw)
		}
	case TokUserVar:
		s.userVar(t)
	case TokSysVar:
		s.sysVar(t)
	case TokLParen:
		s.depth++
		if s.p1.kind == TokWord && s.p2.kind != TokDot {
			kw := s.p1.kw
			if kw == noKeyword { // the walker may not have looked it up
				kw = lookupKeyword(s.q[s.p1.start:s.p1.end])
			}
			s.call(kw)
		}
	case TokRParen:
		s.depth--
	case TokComma:
		if s.depth == 0 && s.mode == modeSet {
			s.target = true
		}
	case TokDot:
		if s.p1.kind == TokWord || s.p1.kind == TokQuotedIdent {
			name := identBytes(s.q, Token{Kind: s.p1.kind, Start: s.p1.start, End: s.p1.end})
			switch {
			case equalFold(name, "information_schema"):
				s.pend |= pendIS
			case equalFold(name, "performance_schema"), equalFold(name, "sys"), equalFold(name, "mysql"):
				s.flags |= ServerInternals
			}
		}
	}
}

// settle resolves, with the token t, what the previous token left waiting.
func (s *scanner) settle(t Token) {
	p := s.pend
	s.pend = 0
	if p&pendVar != 0 {
		if t.Kind == TokOp && t.End-t.Start == 2 && s.q[t.Start] == ':' {
			s.flags |= WritesUserVar
		} else {
			s.flags |= ReadsUserVar
		}
	}
	if p&pendLII != 0 {
		if t.Kind == TokRParen {
			s.flags |= ReadsLastInsertID
		} else {
			s.flags |= SetsLastInsertID
		}
	}
	if p&pendIS != 0 {
		if name := identBytes(s.q, t); equalFold(name, "processlist") || hasPrefixFold(name, "innodb_") {
			s.flags |= ServerInternals
		}
	}
	if p&pendInto != 0 && (t.Kind == TokUserVar || t.Kind == TokComma) {
		s.pend |= pendInto // the list goes on
	}
}

func (s *scanner) word(t Token, kw keyword) {
	if s.target {
		switch kw {
		case kwSet, kwStatement, kwGlobal, kwSession, kwLocal:
			return // still before the variable
		}
		s.target = false
	}
	switch kw {
	case noKeyword:
	case kwSqlCalcFoundRows:
		s.flags |= CalcFoundRows
	case kwInto:
		s.pend |= pendInto
	case kwOutfile, kwDumpfile:
		if s.p1.kw == kwInto {
			s.admin("SELECT ... INTO OUTFILE | DUMPFILE writes a file on the server")
		}
	case kwUpdate:
		if s.p1.kw == kwFor {
			s.flags |= ForUpdate
		}
	case kwFor:
		if s.p1.kw == kwValue {
			switch s.p2.kw {
			case kwNext:
				s.flags |= WritesSequence
			case kwPrevious:
				s.flags |= ReadsSequence
			}
		}
	}
}

func (s *scanner) userVar(t Token) {
	p := s.p1
	if p.end == t.Start && (p.kind == TokWord || p.kind == TokString || p.kind == TokQuotedIdent) {
		return // the @host of 'user'@'host'
	}
	switch {
	case s.target:
		s.target = false
		s.flags |= WritesUserVar
	case s.pend&pendInto != 0:
		s.flags |= WritesUserVar
	case s.mode == modeCall:
		s.flags |= WritesUserVar | ReadsUserVar
	case s.mode == modeGetDiag && p.kw != kwCondition:
		s.flags |= WritesUserVar
	default:
		s.pend |= pendVar
	}
}

func (s *scanner) sysVar(t Token) {
	if s.target {
		s.target = false // the SET parser reads the assignment
		return
	}
	_, name := sysVarParts(s.q[t.Start:t.End])
	switch {
	case sysVarNameIs(name, "identity"), sysVarNameIs(name, "last_insert_id"):
		s.flags |= ReadsLastInsertID
	case sysVarNameIs(name, "warning_count"), sysVarNameIs(name, "error_count"):
		s.flags |= ReadsDiagnostics
	}
}

// call handles a function call: the function's keyword, seen at its '('.
func (s *scanner) call(kw keyword) {
	switch kw {
	case kwLastInsertId:
		s.pend |= pendLII
	case kwFoundRows:
		s.flags |= ReadsFoundRows
	case kwRowCount:
		s.flags |= ReadsRowCount
	case kwGetLock:
		s.flags |= TakesLock
	case kwReleaseLock, kwReleaseAllLocks:
		s.flags |= ReleasesLock
	case kwLoadFile:
		s.admin("LOAD_FILE() reads a file on the server")
	case kwNextval, kwSetval:
		s.flags |= WritesSequence
	case kwLastval:
		s.flags |= ReadsSequence
	case kwConnectionId:
		s.flags |= ReadsConnectionID
	}
}

// scanWord reports whether a word may be one of the keywords scanner.word looks at in
// modeNormal (by length and first letter), so the per-query path looks up only those.
// TestScanWord keeps it in step with scanner.word.
func scanWord(w []byte) bool {
	c := w[0] | 0x20
	switch len(w) {
	case 3:
		return c == 'f' // FOR
	case 4:
		return c == 'i' || c == 'n' // INTO, NEXT
	case 5:
		return c == 'v' // VALUE
	case 6:
		return c == 'u' // UPDATE
	case 7:
		return c == 'o' // OUTFILE
	case 8:
		return c == 'd' || c == 'p' // DUMPFILE, PREVIOUS
	case 19:
		return c == 's' // SQL_CALC_FOUND_ROWS
	}
	return false
}

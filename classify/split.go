package classify

import "slices"

// splitter cuts a query into statements where MariaDB does: at each ';' outside stored
// program bodies and compound statements. A statement that would end inside an executable
// comment (MariaDB refuses it) or holds an unterminated string or comment is malformed: it
// is KindUnknown and runs to the end of the query, as does a statement whose body the
// tracker lost.
type splitter struct {
	q    []byte
	opt  Options // the session options, changed by a SET of sql_mode or the client charset
	pos  int     // where the next statement starts
	done bool
	// unsure says why the statements from pos on cannot be judged (a SET the splitter could
	// not follow came before them), or "". It stays to the end of the query.
	unsure string
	// prepared: the names of the statements PREPAREd earlier in the query from a literal
	// text that does not change sql_mode or the client character set.
	prepared []string
	// more: a token other than ';' starts at or after pos (found once, so that a run of
	// ';' costs linear time).
	moreAt int
}

// prepare notes the PREPARE (safe: of a text that changes nothing) or DEALLOCATE of name.
func (s *splitter) prepare(name string, safe bool) {
	s.prepared = slices.DeleteFunc(s.prepared, func(n string) bool { return n == name })
	if safe {
		s.prepared = append(s.prepared, name)
	}
}

func newSplitter(q []byte, opt Options) splitter {
	return splitter{q: q, opt: opt}
}

// next classifies the next statement into st, and reports false when there is none.
func (s *splitter) next(st *Statement) bool {
	if s.done {
		return false
	}
	q, start := s.q, s.pos
	tz := newTokenizerAt(q, s.opt, start)
	first := tz.Next() // tz goes on after the first token
	switch first.Kind {
	case TokEOF:
		s.done = true
		if start == 0 && hasNonSpace(q) {
			*st = Statement{Kind: KindEmpty, ReadOnly: true, End: len(q)} // only comments
			return true
		}
		return false
	case TokSemicolon:
		if start > 0 && start > s.moreAt {
			at, ok := nextContent(tz)
			if !ok {
				s.done = true
				return false
			}
			s.moreAt = at
		}
		s.pos = first.End
		*st = Statement{Kind: KindEmpty, ReadOnly: true, Start: start, End: first.Start}
		return true
	}
	kw := noKeyword
	if first.Kind == TokWord {
		kw = lookupKeyword(q[first.Start:first.End])
	}
	// The cursor the parsers of leading keywords read, at the first token; built only when
	// one is needed (not for the per-query path's statements).
	cursorAt := func(end int) cursor {
		c := cursor{tz: tz, end: end, tok: first, kw: kw}
		if first.Kind == TokError {
			c.tok, c.bad = Token{Kind: TokEOF, Start: end, End: end}, true
		}
		return c
	}

	var h head
	if !plainKeyword(kw) {
		c := cursorAt(len(q))
		h = readHead(&c)
	}
	w := walker{shape: h.shape, routine: h.routine, inner: h.inner, innerMode: h.innerMode}
	if h.shape == shapePlain {
		w.tz = tz
		w.runPlain(first, kw)
		h.second, h.hasSecond, h.q = w.second, true, q
	} else {
		w.tz = newTokenizerAt(q, s.opt, start)
		w.runBody()
	}
	if w.next >= len(q) {
		s.done = true
	} else {
		s.pos = w.next
	}

	*st = Statement{}
	if !w.malformed && !w.tz.ambiguous && first.Kind != TokError && !classifyFast(kw, &h, w.sc.flags, st) {
		c := cursorAt(w.end)
		*st = classify(&c, &h, w.sc.flags)
		if c.bad {
			*st = Statement{}
		}
	}
	if w.tz.ambiguous {
		st.Flags, st.Reason = Admin, reasonAmbiguous
	}
	if h.shape == shapeRest {
		if st.Kind != KindDDL {
			*st = Statement{} // an anonymous block
		}
		st.ReadOnly = false
		st.setAdmin(reasonOracleGrammar)
	}
	st.Start, st.End = start, w.end
	if st.Reason == "" && w.bodyFlags&Admin != 0 {
		st.Reason = w.bodyReason
	}
	st.Flags |= w.sc.flags | w.bodyFlags
	if st.Kind == KindConnectionID {
		st.Flags &^= ReadsConnectionID
	}
	if st.Reason == "" && st.Flags&Admin != 0 {
		st.Reason = w.sc.reason
	}
	if ds, de, ok := w.tz.Directive(); ok {
		st.Directive = Span{ds, de}
	}
	st.Options = s.opt
	if s.unsure == "" && s.opt.Oracle {
		// Under sql_mode ORACLE only the statements that read as in the default grammar are
		// judged (oracle.go); after one that is not, where the next one starts is a guess.
		if reason := oracleDoubt(q, st, kw, h.shape, s.opt); reason != "" {
			s.unsure = reason
		}
	}
	if s.unsure != "" {
		// Read under options the splitter could not follow: the best guess of its flags
		// stays, for the session's bookkeeping of an admin.
		*st = Statement{Kind: KindUnknown, Flags: st.Flags | Admin, Reason: s.unsure, Start: st.Start, End: st.End,
			Directive: st.Directive, Options: st.Options}
		return true
	}
	switch {
	case st.Kind == KindPrepare:
		s.prepare(st.Name, st.Text != "" && st.unsure == "")
	case st.Kind == KindDeallocate:
		s.prepare(st.Name, false)
	case st.Kind == KindExecute && st.unsure != "" && st.Text == "" && slices.Contains(s.prepared, st.Name):
		// EXECUTE of a text prepared earlier in the query that changes nothing.
	case st.unsure != "":
		s.unsure = st.unsure
	case w.bodySetsReading || w.bodyExecutes:
		s.unsure = reasonBodyBefore
	case kw == kwSet:
		s.opt, s.unsure = s.nextOptions(st)
	}
	return true
}

// walker reads a statement's tokens to its end, following bodies and feeding the scanner.
type walker struct {
	tz        Tokenizer // its q is the query
	shape     shape
	routine   routineKind
	inner     int // SET STATEMENT ... FOR: where the inner statement starts (see head)
	innerMode scanMode
	sc        scanner
	second    Token // the second token (runPlain)
	// bodyFlags and bodyReason: what the statements of a compound statement's body do
	// (it runs them now), from their leading keywords.
	bodyFlags  Flags
	bodyReason string
	// bodySetsReading: a statement of the body sets sql_mode or the client character set;
	// bodyExecutes: one runs a prepared text (EXECUTE [IMMEDIATE]). Either may change how the
	// statements after the compound statement, and the text of a later PREPARE | EXECUTE
	// IMMEDIATE of the body, are read.
	bodySetsReading, bodyExecutes bool
	end                           int  // where the statement ends (its ';' or the end of the query)
	next                          int  // where the next statement starts
	malformed                     bool // an unterminated string or comment, or an end inside an executable comment
}

// runPlain reads a statement that ends at its first ';' (the per-query path: it looks up
// only the words the scanner may care about), with w.tz after its first token.
func (w *walker) runPlain(first Token, firstKw keyword) {
	q := w.tz.q
	w.sc.q = q
	w.end, w.next = len(q), len(q)
	w.sc.startStatement(firstKw)
	w.sc.feed(first, firstKw)
	w.second = Token{Kind: TokEOF, Start: len(q), End: len(q)}
	innerPending := w.inner > 0
	for n := 0; ; n++ {
		if innerPending && w.tz.pos >= w.inner {
			w.sc.setMode(w.innerMode)
			innerPending = false
		}
		t := w.tz.Next()
		if n == 0 {
			w.second = t
		}
		switch t.Kind {
		case TokEOF:
			w.sc.resolve()
			return
		case TokError:
			w.malformed = true
			w.sc.resolve()
			return
		case TokSemicolon:
			if w.tz.InExecComment() || w.tz.ambiguous {
				w.malformed = true // MariaDB refuses a statement that ends inside /*! */
			} else if !w.malformed {
				w.end, w.next = t.Start, t.End
				w.sc.resolve()
				return
			}
		}
		kw := noKeyword
		if t.Kind == TokWord && (w.sc.mode != modeNormal || scanWord(q[t.Start:t.End])) {
			kw = lookupKeyword(q[t.Start:t.End])
		}
		if !w.sc.quiet(t, kw) {
			w.sc.react(t, kw)
		}
		w.sc.shift(t, kw)
	}
}

// runBody reads a statement with a body: a stored program's definition (the scanner stops
// at its body: defining code does not run it) or a compound statement.
func (w *walker) runBody() {
	q := w.tz.q
	w.sc.q = q
	w.end, w.next = len(q), len(q)
	var bl blocks
	var hd header
	inHeader, inBody, scanOn := w.shape == shapeRoutine, w.shape == shapeCompound, true
	if inHeader {
		hd.routine = w.routine
	}
	if inBody {
		bl.open()
	}
	innerPending := w.inner > 0
	first, prevDot := true, false
	runsBody := w.shape == shapeCompound
	var before, leaf Tokenizer // the tokenizer before this token; at the start of the body's current statement
	hasLeaf := false
	for {
		if innerPending && w.tz.pos >= w.inner {
			w.sc.setMode(w.innerMode)
			innerPending = false
		}
		if runsBody {
			before = w.tz
		}
		t := w.tz.Next()
		if t.Kind == TokEOF {
			break
		}
		if t.Kind == TokError {
			w.malformed = true
			break
		}
		kw := noKeyword
		if t.Kind == TokWord && !prevDot {
			kw = lookupKeyword(q[t.Start:t.End])
		}
		prevDot = t.Kind == TokDot
		colon := t.Kind == TokOp && t.End-t.Start == 1 && q[t.Start] == ':'

		ends, atStart := false, first
		switch {
		case inHeader:
			if t.Kind == TokSemicolon {
				ends = true
				break
			}
			body := hd.feed(t, kw, colon)
			switch {
			case body:
				inHeader, inBody, scanOn = false, true, false
				bl.open()
				ends, _ = bl.feed(t, kw, colon)
			case hd.state == hsBody:
				inHeader, inBody, scanOn = false, true, false
				bl.open()
			case hd.state == hsNoBody:
				inHeader = false
			}
		case inBody:
			var start bool
			ends, start = bl.feed(t, kw, colon)
			atStart = atStart || start
		case w.shape == shapeRest:
			scanOn = false // never ends
		default:
			ends = t.Kind == TokSemicolon
		}
		first = false
		if ends {
			if w.tz.InExecComment() || w.tz.ambiguous {
				w.malformed = true
				continue
			}
			if !w.malformed {
				w.end, w.next = t.Start, t.End
				break
			}
		}
		if runsBody && inBody {
			switch {
			case atStart && t.Kind == TokWord && !blockKeyword(kw):
				leaf, hasLeaf = before, true
			case t.Kind == TokSemicolon && hasLeaf:
				w.classifyLeaf(leaf, t.Start)
				hasLeaf = false
			}
		}
		if scanOn {
			if atStart && t.Kind == TokWord {
				w.sc.startStatement(kw)
			}
			w.sc.feed(t, kw)
		}
	}
	w.sc.resolve()
}

// classifyLeaf classifies a statement of a compound statement's body (not itself a block)
// that starts at tz and ends at end, and keeps its statement-level flags: a compound
// statement that runs SET GLOBAL, GRANT, CREATE TEMPORARY TABLE... does them.
func (w *walker) classifyLeaf(tz Tokenizer, end int) {
	c := newCursor(tz, end)
	isSet := c.kw == kwSet
	h := readHead(&c)
	if w.bodySetsReading {
		h.dynUnknown = true // PREPARE | EXECUTE IMMEDIATE after a SET of sql_mode or the character set
	}
	st := classify(&c, &h, 0)
	switch {
	case st.Kind == KindExecute:
		w.bodyExecutes = true
	case st.Set != nil:
		for i := range st.Set.Assignments {
			w.bodySetsReading = w.bodySetsReading || readingVar(&st.Set.Assignments[i])
		}
	case isSet:
		w.bodySetsReading = true // a SET the classifier could not read
	}
	if w.bodyReason == "" && st.Flags&Admin != 0 {
		w.bodyReason = st.Reason
	}
	w.bodyFlags |= st.Flags
}

// blockKeyword reports the keywords that open, continue or close a block of a body.
func blockKeyword(kw keyword) bool {
	switch kw {
	case kwBegin, kwIf, kwCase, kwLoop, kwWhile, kwRepeat, kwFor, kwEnd, kwElse, kwElseif, kwWhen, kwUntil, kwDeclare:
		return true
	}
	return false
}

// nextOptions applies to the options a SET's changes of sql_mode and of the client character
// set, which MariaDB uses to read the statements after it; it returns why those statements
// cannot be judged instead when the splitter cannot follow them: a SET it could not read,
// a value it does not understand, an assignment in a comment a server may skip.
func (s *splitter) nextOptions(st *Statement) (Options, string) {
	if st.Set == nil || st.Kind == KindUnknown {
		return s.opt, reasonSetUnread
	}
	o, why := setOptions(s.opt, st.Set, s.q)
	if why == "" && o != s.opt && skippableIn(s.q, st.Start, st.End, s.opt) {
		why = reasonReadingUnknown
	}
	return o, why
}

func hasNonSpace(q []byte) bool {
	for _, c := range q {
		if !isSpace(c) {
			return true
		}
	}
	return false
}

// nextContent returns where the next token other than ';' starts after tz, and false when
// there is none (only ';', white space and comments follow).
func nextContent(tz Tokenizer) (int, bool) {
	t := tz.Next()
	for t.Kind == TokSemicolon {
		t = tz.Next()
	}
	return t.Start, t.Kind != TokEOF
}

// plainKeyword reports the first keywords of statements that end at their first ';' and
// scan in modeNormal: the per-query path skips readHead for them.
func plainKeyword(kw keyword) bool {
	switch kw {
	case kwSelect, kwInsert, kwUpdate, kwDelete, kwReplace, kwCommit, kwRollback, kwWith, kwValues,
		kwShow, kwUse, kwStart, kwSavepoint, kwRelease, kwDo, kwExplain, kwDescribe, kwDesc:
		return true
	}
	return false
}

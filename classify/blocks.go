package classify

// blocks follows the nesting of a stored program body or compound statement
// (https://mariadb.com/kb/en/programmatic-compound-statements/), so that the ';' inside it
// do not end the statement. It tells the statements of a body apart from the expressions
// in them: IF, CASE, LOOP, WHILE, REPEAT, FOR and BEGIN open a block only where a statement
// starts (after ';', BEGIN, THEN, ELSE, DO, LOOP, REPEAT, a label, a handler's conditions);
// elsewhere IF( and REPEAT( are functions, FOR belongs to FOR UPDATE, FOR SYSTEM_TIME,
// CURSOR FOR..., and CASE is an expression that ends with a plain END. An END that does not
// match its block makes the tracker lose confidence: the rest of the query is then one
// statement.
type blocks struct {
	stack [maxBlockDepth]block
	n     int
	start bool    // the next token starts a statement
	pend  pending // what the previous tokens left open
	ended block   // the block an END just closed (pend == pendEnd)
	lost  bool    // lost track: the statement runs to the end of the query
}

const maxBlockDepth = 64

type block uint8

const (
	blkBegin block = iota + 1
	blkIf
	blkCaseStmt
	blkCaseExpr
	blkLoop
	blkWhile
	blkRepeat
	blkFor
	blkAwaitDo block = 0x80 // WHILE, FOR: before their DO
)

type pending uint8

const (
	pendNone          pending = iota
	pendEnd                   // END: IF, CASE, LOOP... may follow
	pendBeginNot              // BEGIN: NOT ATOMIC may follow
	pendBeginAtomic           // BEGIN NOT: ATOMIC follows
	pendLabel                 // a word where a statement starts: a ':' makes it a label
	pendDeclare               // DECLARE: CONTINUE | EXIT | UNDO HANDLER may follow
	pendHandler               // DECLARE CONTINUE: HANDLER
	pendHandlerFor            // DECLARE CONTINUE HANDLER: FOR
	pendCondition             // a handler condition follows
	pendSQLState              // SQLSTATE: [VALUE] 'xxxxx'
	pendNotFound              // NOT: FOUND
	pendConditionNext         // after a condition: ',' or the handler's statement
)

// open starts tracking a body whose first token starts a statement.
func (b *blocks) open() { b.start = true }

func (b *blocks) top() block {
	if b.n == 0 {
		return 0
	}
	return b.stack[b.n-1] &^ blkAwaitDo
}

func (b *blocks) push(k block) {
	if b.n == len(b.stack) {
		b.lost = true
		return
	}
	b.stack[b.n] = k
	b.n++
}

// feed reads the next token of the body (kw: its keyword, noKeyword after a '.') and
// reports whether it is the ';' that ends the statement. atStart says whether the token
// starts a statement of the body.
func (b *blocks) feed(t Token, kw keyword, colon bool) (end, atStart bool) {
	if b.lost {
		return false, false
	}
	switch b.pend {
	case pendEnd:
		b.pend = pendNone
		if closer := blockCloser(kw); closer != 0 || needsCloser(b.ended) {
			if closer != b.ended {
				b.lost = true
				return false, false
			}
			return false, false
		}
	case pendBeginNot:
		b.pend = pendNone
		if kw == kwNot {
			b.pend = pendBeginAtomic
			return false, false
		}
	case pendBeginAtomic:
		b.pend = pendNone
		if kw == kwAtomic {
			return false, false // the body's first statement follows: start stays true
		}
		b.start = false
	case pendLabel:
		b.pend = pendNone
		if colon {
			b.start = true
			return false, false
		}
	case pendDeclare:
		b.pend = pendNone
		if kw == kwContinue || kw == kwExit || kw == kwUndo {
			b.pend = pendHandler
			return false, false
		}
	case pendHandler:
		b.pend = pendNone
		if kw == kwHandler {
			b.pend = pendHandlerFor
			return false, false
		}
	case pendHandlerFor:
		b.pend = pendNone
		if kw == kwFor {
			b.pend = pendCondition
			return false, false
		}
	case pendCondition:
		switch kw {
		case kwSqlstate:
			b.pend = pendSQLState
		case kwNot:
			b.pend = pendNotFound
		default:
			b.pend = pendConditionNext
		}
		return false, false
	case pendSQLState:
		if kw != kwValue {
			b.pend = pendConditionNext
		}
		return false, false
	case pendNotFound:
		b.pend = pendConditionNext
		return false, false
	case pendConditionNext:
		b.pend = pendNone
		if t.Kind == TokComma {
			b.pend = pendCondition
			return false, false
		}
		b.start = true // the handler's statement
	}

	if t.Kind == TokSemicolon {
		if b.n == 0 {
			return true, false
		}
		if b.top() == blkCaseExpr {
			b.lost = true // a CASE expression cannot hold a ';': we misread something
			return false, false
		}
		b.start = true
		return false, false
	}
	atStart = b.start
	b.start = false
	if atStart {
		switch kw {
		case kwBegin:
			b.push(blkBegin)
			b.start, b.pend = true, pendBeginNot
		case kwIf:
			b.push(blkIf)
		case kwCase:
			b.push(blkCaseStmt)
		case kwLoop:
			b.push(blkLoop)
			b.start = true
		case kwWhile:
			b.push(blkWhile | blkAwaitDo)
		case kwRepeat:
			b.push(blkRepeat)
			b.start = true
		case kwFor:
			b.push(blkFor | blkAwaitDo)
		case kwEnd:
			b.end()
		case kwDeclare:
			b.pend = pendDeclare
		case kwElse:
			b.start = b.top() == blkIf || b.top() == blkCaseStmt
		case kwElseif, kwWhen, kwUntil:
		default:
			if t.Kind == TokWord {
				b.pend = pendLabel
			}
		}
		return false, true
	}
	switch kw {
	case kwCase:
		b.push(blkCaseExpr)
	case kwThen, kwElse:
		b.start = b.top() == blkIf || b.top() == blkCaseStmt
	case kwDo:
		if b.n > 0 && b.stack[b.n-1]&blkAwaitDo != 0 {
			b.stack[b.n-1] &^= blkAwaitDo
			b.start = true
		}
	case kwEnd:
		b.end()
	}
	return false, false
}

func (b *blocks) end() {
	if b.n == 0 {
		return // END outside any block: a name
	}
	b.n--
	b.ended = b.stack[b.n] &^ blkAwaitDo
	if b.stack[b.n]&blkAwaitDo != 0 {
		b.lost = true // END before DO
	}
	b.pend = pendEnd
}

// blockCloser returns the block that END kw closes, or 0 when kw is not one.
func blockCloser(kw keyword) block {
	switch kw {
	case kwIf:
		return blkIf
	case kwCase:
		return blkCaseStmt
	case kwLoop:
		return blkLoop
	case kwWhile:
		return blkWhile
	case kwRepeat:
		return blkRepeat
	case kwFor:
		return blkFor
	}
	return 0
}

// needsCloser reports whether a block ends with END <keyword> rather than a plain END.
func needsCloser(k block) bool {
	return k != blkBegin && k != blkCaseExpr
}

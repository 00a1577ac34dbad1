package classify

// shape is how a statement's end is found.
type shape uint8

const (
	shapePlain    shape = iota // ends at the first ';'
	shapeRoutine               // CREATE PROCEDURE | FUNCTION | TRIGGER | EVENT, ALTER EVENT: a header, then a body
	shapeCompound              // a compound statement: a body from its first token
	// shapeRest: a statement of sql_mode ORACLE's grammar (CREATE PACKAGE [BODY], an
	// anonymous block BEGIN stmt; ... END or DECLARE ... BEGIN ... END), which the package
	// does not follow: it runs to the end of the query, with the Admin flag.
	shapeRest
)

type routineKind uint8

const (
	routineProcedure routineKind = iota + 1
	routineFunction
	routineTrigger
	routineEvent
)

// scanMode tells the flag scanner how to read user variables.
type scanMode uint8

const (
	modeNormal  scanMode = iota
	modeSet              // SET: an @x being assigned is written
	modeCall             // CALL: an @x argument may be an OUT parameter, read and written; LOAD DATA: a column read into @x
	modeGetDiag          // GET DIAGNOSTICS: the @x targets are written
)

// head is what the first keywords of a statement say about reading the rest of it.
type head struct {
	shape   shape
	routine routineKind
	mode    scanMode
	// SET STATEMENT ... FOR s: where s starts (0 when there is no inner statement) and s's
	// scan mode.
	inner     int
	innerMode scanMode
	// dynamic: the options the text of a PREPARE | EXECUTE IMMEDIATE is read with are dynOpt
	// (SET STATEMENT sql_mode=... FOR s), or cannot be known (dynUnknown); else the
	// statement's own.
	dynamic, dynUnknown bool
	dynOpt              Options
	// second is the statement's second token, when the walker has read it (hasSecond), in q.
	second    Token
	hasSecond bool
	q         []byte
}

// readHead reads the leading keywords of the statement at c, without moving c.
func readHead(at *cursor) head {
	switch at.kw {
	case kwSet:
		c := *at
		c.advance()
		if c.is(kwStatement) {
			return readSetStatementHead(c)
		}
		return head{mode: modeSet}
	case kwCall, kwLoad:
		return head{mode: modeCall}
	case kwGet:
		return head{mode: modeGetDiag}
	case kwCreate:
		c := *at
		c.advance()
		if c.accept(kwOr) {
			c.accept(kwReplace)
		}
		skipDefiner(&c)
		c.accept(kwAggregate)
		switch c.kw {
		case kwPackage:
			return head{shape: shapeRest}
		case kwProcedure:
			return head{shape: shapeRoutine, routine: routineProcedure}
		case kwFunction:
			return head{shape: shapeRoutine, routine: routineFunction}
		case kwTrigger:
			return head{shape: shapeRoutine, routine: routineTrigger}
		case kwEvent:
			return head{shape: shapeRoutine, routine: routineEvent}
		}
	case kwAlter:
		c := *at
		c.advance()
		skipDefiner(&c)
		if c.is(kwEvent) {
			return head{shape: shapeRoutine, routine: routineEvent}
		}
	case kwBegin:
		tz := at.tz // a tokenizer is smaller than a cursor: BEGIN is on the per-query path
		switch t := tz.Next(); {
		case t.Kind == TokWord && equalFold(tz.q[t.Start:t.End], "not"):
			return head{shape: shapeCompound}
		case t.Kind != TokEOF && t.Kind != TokSemicolon && !(t.Kind == TokWord && equalFold(tz.q[t.Start:t.End], "work")):
			return head{shape: shapeRest} // BEGIN stmt: an anonymous block of sql_mode ORACLE (else MariaDB refuses it)
		}
	case kwDeclare:
		return head{shape: shapeRest} // DECLARE ... BEGIN ... END: an anonymous block of sql_mode ORACLE
	case kwIf, kwCase, kwLoop, kwWhile, kwRepeat, kwFor:
		return head{shape: shapeCompound}
	case noKeyword:
		if at.tok.Kind == TokWord {
			if t, _ := at.peek(); t.Kind == TokOp && t.End-t.Start == 1 && at.tz.q[t.Start] == ':' {
				return head{shape: shapeCompound} // label: BEGIN ... (MariaDB 10.11 refuses a label here)
			}
		}
	}
	return head{}
}

// skipDefiner moves past DEFINER = user.
func skipDefiner(c *cursor) {
	if !c.is(kwDefiner) {
		return
	}
	c.advance()
	c.acceptOp("=")
	c.skipUser()
}

// readSetStatementHead reads SET STATEMENT var = value, ... FOR s, with c at STATEMENT: s's
// head decides how the statement ends. (MariaDB applies a sql_mode set there when it runs s,
// not when it reads it: SET STATEMENT sql_mode='NO_BACKSLASH_ESCAPES' FOR SELECT 'a\' is
// an unterminated string on MariaDB 10.11.)
func readSetStatementHead(c cursor) head {
	depth := 0
	for c.advance(); !c.done(); c.advance() {
		switch c.tok.Kind {
		case TokLParen:
			depth++
		case TokRParen:
			depth--
		case TokWord:
			if depth == 0 && c.kw == kwFor {
				innerStart := c.tok.End
				c.advance()
				if c.is(kwSet) {
					if t, kw := c.peek(); kw == kwStatement && t.Kind == TokWord {
						c.advance() // nested: SET STATEMENT a=1 FOR SET STATEMENT b=2 FOR s
						continue
					}
				}
				inner := readHead(&c) // not SET STATEMENT: no deeper than this
				return head{shape: inner.shape, routine: inner.routine, mode: modeSet,
					inner: innerStart, innerMode: inner.mode}
			}
		}
	}
	return head{mode: modeSet}
}

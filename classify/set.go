package classify

import "strings"

// Set details a SET statement (https://mariadb.com/kb/en/set/), and the variables of
// SET STATEMENT ... FOR (https://mariadb.com/kb/en/set-statement/).
type Set struct {
	Assignments []Assignment
	// StatementVars are the variables SET STATEMENT sets for its statement only (lower case).
	StatementVars []string
}

// SetForm is the form of an assignment.
type SetForm uint8

const (
	SetVariable     SetForm = iota // a system variable: [GLOBAL | SESSION | LOCAL] name = v, @@[scope.]name = v
	SetUserVariable                // @name = v (Name: the name without @, lower case)
	SetNames                       // NAMES cs [COLLATE c] | NAMES DEFAULT (Name "names", Value cs, Collate c)
	SetCharset                     // CHARACTER SET cs | CHARSET cs (Name "charset")
	SetTransaction                 // TRANSACTION ...: one assignment per characteristic, Name "tx_isolation" (Value "READ-COMMITTED"...) or "tx_read_only" ("1" | "0")
	SetPassword                    // PASSWORD [FOR user] = ... (User: as written)
	SetRole                        // SET ROLE r | NONE (Value: the role as written)
	SetDefaultRole                 // SET DEFAULT ROLE r | NONE [FOR user]
)

// Scope is where an assignment applies.
type Scope uint8

const (
	ScopeSession         Scope = iota // the default, SESSION, LOCAL, @@session., @@local., @@
	ScopeGlobal                       // GLOBAL, @@global.
	ScopeNextTransaction              // SET TRANSACTION without GLOBAL | SESSION: the next transaction only
)

func (s Scope) String() string {
	switch s {
	case ScopeSession:
		return "session"
	case ScopeGlobal:
		return "global"
	case ScopeNextTransaction:
		return "next_transaction"
	}
	return "scope(" + itoa(uint64(s)) + ")"
}

// Assignment is one assignment of a SET.
//
// A GLOBAL, SESSION or LOCAL keyword applies to the assignments after it until the next
// keyword; an @@global. | @@session. | @@local. prefix applies to its own variable only
// (MariaDB 10.11: SET GLOBAL a=1, @@session.b=2, c=3 sets c globally).
type Assignment struct {
	Form  SetForm
	Scope Scope
	Name  string
	// Value is the value when Literal: a number as written, a quoted string unquoted, a
	// bare word as written (ON, OFF, DEFAULT, NULL, utf8mb4...).
	Value   string
	Literal bool
	Collate string // SET NAMES cs COLLATE c: c
	User    string // SET PASSWORD FOR u, SET DEFAULT ROLE r FOR u: u as written
	// Span is the assignment's text, from the variable to the end of the value; ValueSpan
	// the value's.
	Span, ValueSpan Span
}

// classifySet reads a SET statement at c.
func classifySet(c *cursor, h *head, scan Flags) Statement {
	c.advance()
	switch c.kw {
	case kwStatement:
		return setStatement(c, h, scan)
	case kwRole:
		c.advance()
		a := Assignment{Form: SetRole, Name: "role"}
		a.Value, a.ValueSpan = restText(c)
		a.Literal, a.Span = true, a.ValueSpan
		return Statement{Kind: KindAdmin, ReadOnly: true, Set: &Set{Assignments: []Assignment{a}}}
	case kwDefault:
		if t, kw := c.peek(); kw == kwRole && t.Kind == TokWord {
			c.advance()
			c.advance()
			a := Assignment{Form: SetDefaultRole, Name: "default role"}
			start := c.tok.Start
			end := start
			for ; !c.done() && !c.is(kwFor); c.advance() {
				end = c.tok.End
			}
			a.Value, a.Literal, a.ValueSpan = string(c.tz.q[start:end]), true, Span{start, end}
			if c.accept(kwFor) {
				a.User, _ = restText(c)
			}
			st := adminStatement(reasonRole)
			st.Set = &Set{Assignments: []Assignment{a}}
			return st
		}
	}
	set := &Set{}
	if !setList(c, set) {
		return Statement{Set: set}
	}
	st := Statement{Kind: KindSet, ReadOnly: true, Set: set}
	for _, a := range set.Assignments {
		switch {
		case a.Form == SetPassword:
			st.Kind, st.ReadOnly = KindAdmin, false
			st.setAdmin(reasonPassword)
		case a.Scope == ScopeGlobal:
			st.ReadOnly = false
			st.setAdmin(reasonSetGlobal)
		}
		if a.Form == SetVariable && (a.Name == "last_insert_id" || a.Name == "identity") {
			st.Flags |= SetsLastInsertID
		}
	}
	return st
}

func (st *Statement) setAdmin(reason string) {
	if st.Flags&Admin == 0 {
		st.Reason = reason
	}
	st.Flags |= Admin
}

// setStatement reads SET STATEMENT var = value, ... FOR s: the statement is s, with the
// variables reported.
func setStatement(c *cursor, h *head, scan Flags) Statement {
	var vars []string
	dyn, known := c.tz.Options(), true
	for {
		c.advance() // STATEMENT
		o, k, ok := statementOptions(c, dyn, &vars)
		if !ok || !c.accept(kwFor) {
			return Statement{}
		}
		dyn, known = o, known && k
		// MariaDB takes SET STATEMENT ... FOR SET STATEMENT ... FOR s: read it in a loop, so
		// that no query nests the classifier deeply.
		if t, kw := c.peek(); c.is(kwSet) && kw == kwStatement && t.Kind == TokWord {
			c.advance()
			continue
		}
		break
	}
	// The variables are set while s runs, not while it is read: only the text of PREPARE |
	// EXECUTE IMMEDIATE, read when it runs, is read under them.
	st := classify(c, &head{mode: h.innerMode, dynamic: true, dynOpt: dyn, dynUnknown: !known}, scan)
	if st.Set == nil {
		st.Set = &Set{}
	}
	st.Set.StatementVars = vars
	return st
}

// setList reads the comma-separated assignments of SET (after the SET keyword).
func setList(c *cursor, set *Set) bool {
	scope := ScopeSession
	for first := true; ; first = false {
		explicit := true
		switch {
		case c.accept(kwGlobal):
			scope = ScopeGlobal
		case c.accept(kwSession), c.accept(kwLocal):
			scope = ScopeSession
		default:
			explicit = false
		}
		if c.is(kwTransaction) {
			if !first {
				return false // MariaDB takes SET TRANSACTION alone
			}
			return setTransaction(c, set, scope, explicit)
		}
		a, ok := assignment(c, scope)
		if !ok {
			return false
		}
		set.Assignments = append(set.Assignments, a)
		if c.done() {
			return true
		}
		if !c.acceptKind(TokComma) {
			return false
		}
	}
}

// assignment reads one assignment at c; scope is the keyword scope in force.
func assignment(c *cursor, scope Scope) (Assignment, bool) {
	a := Assignment{Scope: scope}
	start := c.tok.Start
	switch {
	case c.tok.Kind == TokUserVar:
		a.Form = SetUserVariable
		a.Scope = ScopeSession
		a.Name = userVarName(c.tz.q, c.tok, c.tz.Options())
		c.advance()
	case c.tok.Kind == TokSysVar:
		var ok bool
		if a.Scope, a.Name, ok = sysVarAssigned(c); !ok {
			return a, false
		}
	case c.is(kwNames):
		c.advance()
		return names(c, a, start)
	case c.is(kwCharset), c.is(kwCharacter):
		if c.accept(kwCharacter) && !c.is(kwSet) {
			return a, false
		}
		c.advance()
		a.Form, a.Name = SetCharset, "charset"
		a.ValueSpan = Span{c.tok.Start, c.tok.End}
		a.Value, a.Literal = literalValue(c)
		a.Span = Span{start, a.ValueSpan.End}
		return a, a.Literal
	case c.is(kwPassword):
		c.advance()
		a.Form, a.Name, a.Scope = SetPassword, "password", ScopeSession
		if c.accept(kwFor) {
			userStart := c.tok.Start
			c.skipUser()
			a.User = string(c.tz.q[userStart:c.tok.Start])
			a.User = trimRight(a.User)
		}
	default:
		name, ok := variableName(c)
		if !ok {
			return a, false
		}
		a.Name = name
	}
	if !c.acceptOp("=") && !c.acceptOp(":=") {
		return a, false
	}
	vstart := c.tok.Start
	value, literal, ok := simpleValue(c)
	end := skipValue(c)
	if end < 0 {
		return a, false
	}
	a.Value, a.Literal = value, literal && ok
	a.ValueSpan = Span{vstart, end}
	a.Span = Span{start, end}
	return a, true
}

// sysVarAssigned reads the @@ variable at c: its scope and name (lower case). MariaDB reads
// the scope prefix, its dot and the name as separate tokens: @@global .x, @@global. x and
// @@global/* c */.x set the global x (checked on MariaDB 10.11), as the parts of a structured
// variable (@@global.keycache1 .key_buffer_size) may be spaced too.
func sysVarAssigned(c *cursor) (Scope, string, bool) {
	scope, name := sysVarParts(c.text())
	c.advance()
	if scope == "" && c.tok.Kind == TokDot {
		switch {
		case equalFold(name, "global"):
			scope = "global"
		case equalFold(name, "session"), equalFold(name, "local"):
			scope = "session"
		}
		if scope != "" {
			c.advance()
			if c.tok.Kind != TokWord && c.tok.Kind != TokQuotedIdent {
				return ScopeSession, "", false
			}
			name = c.text()
			c.advance()
		}
	}
	var b strings.Builder
	b.Write(trimBackquotes(name))
	for c.tok.Kind == TokDot {
		c.advance()
		part, ok := identName(c.tz.q, c.tok)
		if !ok {
			return ScopeSession, "", false
		}
		b.WriteByte('.')
		b.WriteString(part)
		c.advance()
	}
	if scope == "global" {
		return ScopeGlobal, lowerASCII(b.String()), true
	}
	return ScopeSession, lowerASCII(b.String()), true
}

// names reads SET NAMES cs [COLLATE c] | NAMES DEFAULT.
func names(c *cursor, a Assignment, start int) (Assignment, bool) {
	a.Form, a.Name = SetNames, "names"
	a.ValueSpan = Span{c.tok.Start, c.tok.End}
	a.Value, a.Literal = literalValue(c)
	if !a.Literal {
		return a, false
	}
	end := a.ValueSpan.End
	if c.accept(kwCollate) {
		var ok bool
		end = c.tok.End
		if a.Collate, ok = literalValue(c); !ok {
			return a, false
		}
	}
	a.Span = Span{start, end}
	return a, true
}

// setTransaction reads [GLOBAL | SESSION] TRANSACTION ISOLATION LEVEL l, READ ONLY | WRITE.
// Without GLOBAL or SESSION it sets the next transaction only.
func setTransaction(c *cursor, set *Set, scope Scope, explicit bool) bool {
	if !explicit {
		scope = ScopeNextTransaction
	}
	c.advance()
	for {
		a := Assignment{Form: SetTransaction, Scope: scope, Literal: true}
		begin := c.tok.Start
		switch {
		case c.accept(kwIsolation):
			if !c.accept(kwLevel) {
				return false
			}
			vstart := c.tok.Start
			switch {
			case c.accept(kwRead):
				switch {
				case c.accept(kwCommitted):
					a.Value = "READ-COMMITTED"
				case c.accept(kwUncommitted):
					a.Value = "READ-UNCOMMITTED"
				default:
					return false
				}
			case c.accept(kwRepeatable):
				if !c.accept(kwRead) {
					return false
				}
				a.Value = "REPEATABLE-READ"
			case c.accept(kwSerializable):
				a.Value = "SERIALIZABLE"
			default:
				return false
			}
			a.Name = "tx_isolation"
			a.ValueSpan = Span{vstart, c.tok.Start}
		case c.accept(kwRead):
			vstart := c.tok.Start
			switch {
			case c.accept(kwOnly):
				a.Value = "1"
			case c.accept(kwWrite):
				a.Value = "0"
			default:
				return false
			}
			a.Name = "tx_read_only"
			a.ValueSpan = Span{vstart, c.tok.Start}
		default:
			return false
		}
		a.Span = Span{begin, a.ValueSpan.End}
		set.Assignments = append(set.Assignments, a)
		if c.done() {
			return true
		}
		if !c.acceptKind(TokComma) {
			return false
		}
	}
}

// variableName reads a system variable name without @@: name, `name`, and the parts of a
// structured variable (keycache1.key_buffer_size), in lower case.
func variableName(c *cursor) (string, bool) {
	if c.tok.Kind != TokWord && c.tok.Kind != TokQuotedIdent {
		return "", false
	}
	first, _ := identName(c.tz.q, c.tok)
	c.advance()
	if c.tok.Kind != TokDot {
		return lowerASCII(first), true
	}
	var name strings.Builder
	name.WriteString(first)
	for c.tok.Kind == TokDot {
		c.advance()
		part, ok := identName(c.tz.q, c.tok)
		if !ok {
			return "", false
		}
		name.WriteByte('.')
		name.WriteString(part)
		c.advance()
	}
	return lowerASCII(name.String()), true
}

// simpleValue reads the value at c without moving when it is a simple literal that is the
// whole value: [+|-]number, a string, a bare word.
func simpleValue(c *cursor) (string, bool, bool) {
	d := *c
	sign := ""
	if d.isOp("-") || d.isOp("+") {
		if d.isOp("-") {
			sign = "-"
		}
		d.advance()
		if d.tok.Kind != TokNumber {
			return "", false, true
		}
	}
	v, ok := literalValue(&d)
	if !ok || !(d.done() || d.tok.Kind == TokComma || d.is(kwFor)) { // FOR: of SET STATEMENT
		return "", false, true
	}
	return sign + v, true, true
}

// literalValue reads a number, a string or a bare word, and moves past it.
func literalValue(c *cursor) (string, bool) {
	switch c.tok.Kind {
	case TokNumber, TokWord:
		v := string(c.text())
		c.advance()
		return v, true
	case TokString:
		v, ok := unquoteString(c.tz.q, c.tok, c.tz.Options())
		c.advance()
		return v, ok
	case TokQuotedIdent: // SET NAMES `utf8mb4`
		v, ok := identName(c.tz.q, c.tok)
		c.advance()
		return v, ok
	}
	return "", false
}

// skipValue moves past an expression up to a ',' outside parentheses or the end of the
// statement, and returns where the expression ends (-1 when it is empty).
func skipValue(c *cursor) int {
	end := -1
	depth := 0
	for !c.done() {
		switch c.tok.Kind {
		case TokLParen:
			depth++
		case TokRParen:
			depth--
		case TokComma:
			if depth <= 0 {
				return end
			}
		case TokWord:
			if depth <= 0 && c.kw == kwFor && end >= 0 {
				return end // SET STATEMENT ... FOR
			}
		}
		end = c.tok.End
		c.advance()
	}
	return end
}

// restText returns the text from c to the end of the statement, and moves there.
func restText(c *cursor) (string, Span) {
	start := c.tok.Start
	end := start
	for ; !c.done(); c.advance() {
		end = c.tok.End
	}
	return string(c.tz.q[start:end]), Span{start, end}
}

func userVarName(q []byte, t Token, opt Options) string {
	if t.End-t.Start > 1 {
		switch q[t.Start+1] {
		case '\'', '"':
			v, _ := unquoteString(q, t, opt)
			return lowerASCII(v)
		case '`':
			v, _ := identName(q, Token{Kind: TokQuotedIdent, Start: t.Start + 1, End: t.End})
			return lowerASCII(v)
		}
	}
	return lowerASCII(string(q[t.Start+1 : t.End]))
}

func trimBackquotes(b []byte) []byte {
	if len(b) >= 2 && b[0] == '`' && b[len(b)-1] == '`' {
		return b[1 : len(b)-1]
	}
	return b
}

func trimRight(s string) string {
	for len(s) > 0 && isSpace(s[len(s)-1]) {
		s = s[:len(s)-1]
	}
	return s
}

package classify

import "slices"

// How MariaDB reads the statements of a query after one that changes sql_mode or the client
// character set. MariaDB parses each statement of a multi-statement query after running the
// one before it, so a SET of those variables changes how the rest is read. The splitter
// follows a SET it understands; after one it does not (a value it cannot know for sure), the
// rest of the query cannot be judged: each statement after it is KindUnknown with the Admin
// flag.

// Reasons the statements after one cannot be judged.
const (
	reasonReadingUnknown = "a SET before it in the query gives sql_mode or the client character set a value the gateway cannot know " +
		"(an expression, a variable, DEFAULT, a number it does not decode, or an assignment in a comment a server may skip): " +
		"how MariaDB reads this statement cannot be judged"
	reasonSetUnread     = "a SET before it in the query could not be read, and may change how MariaDB reads this statement"
	reasonExecuteBefore = "an EXECUTE before it in the query runs a prepared text that may change sql_mode or the client character set: " +
		"how MariaDB reads this statement cannot be judged"
	reasonBodyBefore = "a compound statement before it in the query sets sql_mode or the client character set in its body: " +
		"how MariaDB reads this statement cannot be judged"
	reasonOracle = "sql_mode ORACLE: MariaDB reads the statement with its Oracle grammar, which the gateway does not follow"
	// The text of PREPARE and EXECUTE IMMEDIATE read under options the gateway cannot know.
	reasonDynamicOptions = "the text of PREPARE | EXECUTE IMMEDIATE is read under a sql_mode or character set the gateway cannot know " +
		"(SET STATEMENT of a value it does not understand, or a SET of them earlier in a compound statement): its text cannot be judged"
)

// readingVar reports the assignments that change how MariaDB reads text: of sql_mode and of
// the client character set (NAMES, CHARACTER SET, character_set_client).
// character_set_connection and collation_connection do not: MariaDB reads a statement in
// the client character set, and converts the text of PREPARE | EXECUTE IMMEDIATE back to
// it before reading it.
func readingVar(a *Assignment) bool {
	switch a.Form {
	case SetNames, SetCharset:
		return true
	case SetVariable:
		return a.Name == "sql_mode" || a.Name == "character_set_client"
	}
	return false
}

// applyAssignment applies a session assignment of a reading variable to o, and reports
// false when the value is not a literal it understands. q is the query (for the value's
// token).
func applyAssignment(o Options, a *Assignment, q []byte) (Options, bool) {
	if a.Scope != ScopeSession {
		return o, true // SET GLOBAL sql_mode does not change this session
	}
	if !a.Literal {
		return o, false
	}
	number := !a.ValueSpan.Empty() && q[a.ValueSpan.Start] >= '0' && q[a.ValueSpan.Start] <= '9'
	if a.Form == SetVariable && a.Name == "sql_mode" {
		return sqlModeOptions(o, a.Value, number)
	}
	// A number is a collation id (character_set_client = 28 is gbk); DEFAULT is the
	// server's character set, which may be anything.
	name := lowerASCII(a.Value)
	if number || !slices.Contains(clientCharsets[:], name) {
		return o, false
	}
	o.Charset = CharsetByName(name)
	return o, true
}

// clientCharsets are the character sets MariaDB 10.11 takes as a client character set (SHOW
// CHARACTER SET without ucs2, utf16, utf16le and utf32, which it refuses there), and the
// alias utf8.
var clientCharsets = [...]string{"big5", "dec8", "cp850", "hp8", "koi8r", "latin1", "latin2", "swe7", "ascii", "ujis",
	"sjis", "hebrew", "tis620", "euckr", "koi8u", "gb2312", "greek", "cp1250", "gbk", "latin5", "armscii8", "utf8mb3",
	"utf8", "cp866", "keybcs2", "macce", "macroman", "cp852", "latin7", "utf8mb4", "cp1251", "cp1256", "cp1257",
	"binary", "geostd8", "cp932", "eucjpms"}

// setOptions applies the assignments of a SET to o; the reason the statements after it
// cannot be judged, or "".
func setOptions(o Options, set *Set, q []byte) (Options, string) {
	for i := range set.Assignments {
		a := &set.Assignments[i]
		if !readingVar(a) {
			continue
		}
		if len(set.StatementVars) > 0 {
			return o, reasonReadingUnknown // SET STATEMENT ... FOR SET sql_mode: which value stays is MariaDB's business
		}
		var ok bool
		if o, ok = applyAssignment(o, a, q); !ok {
			return o, reasonReadingUnknown
		}
	}
	return o, ""
}

// statementOptions reads the variables of SET STATEMENT at c (after STATEMENT) for the text
// of the PREPARE | EXECUTE IMMEDIATE it may run: the options that text is read with, and
// false when they cannot be known. It moves past the assignments.
func statementOptions(c *cursor, o Options, vars *[]string) (Options, bool, bool) {
	known := true
	for !c.done() {
		start := c.tok.Start
		name, ok := variableName(c)
		if !ok || !(c.acceptOp("=") || c.acceptOp(":=")) {
			return o, known, false
		}
		*vars = append(*vars, name)
		a := Assignment{Form: SetVariable, Name: name}
		vstart := c.tok.Start
		value, literal, _ := simpleValue(c)
		end := skipValue(c)
		if readingVar(&a) {
			a.Value, a.Literal, a.ValueSpan = value, literal, Span{vstart, end}
			if o, ok = applyAssignment(o, &a, c.tz.q); !ok || skippableIn(c.tz.q, start, end, c.tz.Options()) {
				known = false
			}
		}
		if !c.acceptKind(TokComma) {
			break
		}
	}
	return o, known, true
}

// skippableIn reports a token of q[start:end] inside a versioned executable comment that a
// server may skip (MariaDB skips /*!50700 to /*!99999): what is in it may or may not run.
func skippableIn(q []byte, start, end int, opt Options) bool {
	tz := newTokenizerAt(q, opt, start)
	for {
		t := tz.Next()
		if t.Kind == TokEOF || t.Kind == TokError || t.Start >= end {
			return false
		}
		if tz.inExec && tz.execVer {
			return true
		}
	}
}

package planner

// The normalizer: one pass over a query's bytes that replaces its literals with '?' (the key
// of the plan cache: queries that differ only by their values share a plan) and keeps each
// literal's span in the query and its value (what vindexes read and what the shards get back,
// spelt as the client wrote it). It knows MySQL's lexical rules as far as they decide where a
// literal is: strings ('..', ".." unless ANSI_QUOTES; backslash escapes unless
// NO_BACKSLASH_ESCAPES), `identifiers`, comments (/* */, /*! */, -- , #), numbers, and where
// a literal is not a value (ORDER BY 1, GROUP BY 2: column positions; _charset'..', N'..',
// DATE '..': typed literals, which stay in the key).

import (
	"strconv"

	"github.com/vtdirect/vtdirect/vindex"
)

// Literal is a literal of the query that the key replaced with '?'.
type Literal struct {
	Start, End int // its bytes in the query: q[Start:End], as the client wrote it
	Value      vindex.Value
}

// LexMode is how the session's sql_mode makes MySQL read a query.
type LexMode uint8

const (
	// NoBackslashEscapes: a backslash in a string is an ordinary character.
	NoBackslashEscapes LexMode = 1 << iota
	// ANSIQuotes: "x" is an identifier, not a string.
	ANSIQuotes
)

// normalized is the result of normalize.
type normalized struct {
	key  []byte    // the query with each literal replaced by '?'
	lits []Literal // in order
	// ok is false when the query cannot be normalized (a '?' of its own, an unterminated
	// string or comment): plan it as written.
	ok bool
	// backslash: a string literal contains a backslash escape.
	backslash bool
}

// Byte classes.
func isIdentByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '$' || c >= 0x80
}
func isDigit(c byte) bool { return c >= '0' && c <= '9' }
func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'
}

// tokKind is the kind of the previous significant token, which decides whether a '-' is a
// sign and whether a number is a column position.
type tokKind uint8

const (
	tokNone     tokKind = iota // start of query
	tokOperator                // an operator, '(' or ','
	tokValue                   // a literal, an identifier, ')'
	tokKeyword                 // a word that cannot end an operand (SELECT, WHERE, AND, =...)
	tokBy                      // BY of ORDER BY / GROUP BY
)

// keywords are the words after which an operand starts (so a '-' there is a sign); any
// other word is taken as the end of an operand (a column, a function's name before '(').
var keywords = map[string]bool{
	"select": true, "where": true, "and": true, "or": true, "not": true, "xor": true, "on": true,
	"set": true, "values": true, "value": true, "in": true, "is": true, "like": true,
	"between": true, "case": true, "when": true, "then": true, "else": true, "by": true,
	"having": true, "limit": true, "offset": true, "interval": true, "div": true, "mod": true,
	"regexp": true, "rlike": true, "distinct": true, "all": true, "any": true, "some": true,
	"exists": true, "return": true, "escape": true, "sounds": true, "binary": true,
	"distinctrow": true, "straight_join": true, "sql_calc_found_rows": true, "high_priority": true,
	"date": true, "time": true, "timestamp": true, "from": true, "join": true, "using": true,
}

// valueWords are keywords that end an operand.
var valueWords = map[string]bool{"null": true, "true": true, "false": true}

// normalize reads q. buf is reused for the key.
func normalize(q []byte, mode LexMode, buf []byte, lits []Literal) normalized {
	n := normalized{key: buf[:0], lits: lits[:0], ok: true}
	prev := tokNone
	minusAfter := tokNone // the token before the last '-', when the key ends with it
	var prevWord string   // the previous word, lower-cased (for ORDER BY, typed literals)
	var wbuf [16]byte     // lowers short words without allocating
	positional := 0       // depth+1 of an ORDER/GROUP BY list being read; 0 when none
	depth := 0
	emit := func(b []byte) { n.key = append(n.key, b...) }
	i := 0
	for i < len(q) {
		c := q[i]
		switch {
		case isSpace(c):
			j := i
			for j < len(q) && isSpace(q[j]) {
				j++
			}
			emit(q[i:j])
			i = j
			continue
		case c == '#' || (c == '-' && i+2 < len(q)+1 && i+1 < len(q) && q[i+1] == '-' && (i+2 == len(q) || isSpace(q[i+2]) || q[i+2] < 32)):
			j := i
			for j < len(q) && q[j] != '\n' {
				j++
			}
			emit(q[i:j])
			i = j
			continue
		case c == '/' && i+1 < len(q) && q[i+1] == '*':
			end := indexFrom(q, i+2, "*/")
			if end < 0 {
				n.ok = false
				return n
			}
			emit(q[i : end+2]) // comments (directives, executable comments) stay as written
			i = end + 2
			continue
		case c == '`' || (c == '"' && mode&ANSIQuotes != 0):
			j := i + 1
			for ; j < len(q); j++ {
				if q[j] == c {
					if j+1 < len(q) && q[j+1] == c {
						j++
						continue
					}
					break
				}
			}
			if j >= len(q) {
				n.ok = false
				return n
			}
			emit(q[i : j+1])
			i = j + 1
			prev, prevWord = tokValue, ""
			continue
		case c == '\'' || c == '"':
			val, end, bs, ok := scanString(q, i, mode)
			if !ok {
				n.ok = false
				return n
			}
			n.backslash = n.backslash || bs
			glued := prev == tokValue && i > 0 && isIdentByte(q[i-1]) && len(prevWord) == 1
			if prevWord == "date" || prevWord == "time" || prevWord == "timestamp" || isIntroducer(prevWord) ||
				glued && (prevWord == "n" || prevWord == "x" || prevWord == "b") {
				// A typed literal, a string with a character set, N'..', x'..' or b'..':
				// part of the key (their type depends on the context, as for 0x..).
				emit(q[i:end])
			} else {
				n.lits = append(n.lits, Literal{Start: i, End: end, Value: vindex.Value{Kind: vindex.VarChar, Raw: val}})
				emit([]byte{'?'})
			}
			i = end
			prev, prevWord = tokValue, ""
			continue
		case c == '?':
			n.ok = false // a placeholder of the client's own: not a COM_QUERY we can normalize
			return n
		case isDigit(c) || (c == '.' && i+1 < len(q) && isDigit(q[i+1]) && prev != tokValue):
			end, kind := scanNumber(q, i)
			if end < 0 { // not a number: an identifier starting with digits (1abc)
				j := i
				for j < len(q) && isIdentByte(q[j]) {
					j++
				}
				emit(q[i:j])
				i = j
				prev, prevWord = tokValue, ""
				continue
			}
			start := i
			if kind != vindex.VarBinary && minusAfter != tokValue && len(n.key) > 0 && n.key[len(n.key)-1] == '-' && signBefore(q, i) {
				// A unary minus glued to the number: fold it into the literal, as Vitess does.
				start = i - 1
				n.key = n.key[:len(n.key)-1]
			}
			isPos := positional > 0 && (prev == tokBy || prev == tokOperator && prevByteIs(q, i, ',')) && kind == vindex.Int64 && start == i && positionalEnd(q, end)
			if isPos || kind == vindex.VarBinary {
				// ORDER BY 2 names a column; 0x.. and 0b.. stay as written (their type
				// depends on the context).
				emit(q[start:end])
			} else {
				raw := q[start:end]
				if kind == vindex.Int64 {
					kind = intKind(raw)
				}
				n.lits = append(n.lits, Literal{Start: start, End: end, Value: vindex.Value{Kind: kind, Raw: raw}})
				emit([]byte{'?'})
			}
			i = end
			prev, prevWord = tokValue, ""
			continue
		case isIdentByte(c) || c == '@':
			j := i + 1
			for j < len(q) && (isIdentByte(q[j]) || q[i] == '@' && (q[j] == '@' || q[j] == '.')) {
				j++
			}
			word, operandNext := lowerWord(&wbuf, q[i:j])
			emit(q[i:j])
			i = j
			switch {
			case word == "by" && (prevWord == "order" || prevWord == "group"):
				positional = depth + 1
				prev = tokBy
			case positional == depth+1 && (word == "limit" || word == "having" || word == "window" || word == "union" || word == "for" || word == "lock" || word == "into" || word == "order"):
				positional = 0
				prev = tokKeyword
			case operandNext:
				prev = tokKeyword
			default:
				prev = tokValue
			}
			prevWord = word
			continue
		}
		// Punctuation and operators.
		switch c {
		case '(':
			depth++
			prev = tokOperator
		case ')':
			if positional == depth+1 {
				positional = 0
			}
			depth--
			prev = tokValue
		case ';':
			positional = 0
			prev = tokOperator
		case '-':
			minusAfter = prev
			prev = tokOperator
		default:
			prev = tokOperator
		}
		prevWord = ""
		n.key = append(n.key, c)
		i++
	}
	return n
}

func indexFrom(q []byte, from int, sub string) int {
	for i := from; i+len(sub) <= len(q); i++ {
		if string(q[i:i+len(sub)]) == sub {
			return i
		}
	}
	return -1
}

func prevByteIs(q []byte, i int, b byte) bool {
	for j := i - 1; j >= 0; j-- {
		if !isSpace(q[j]) {
			return q[j] == b
		}
	}
	return false
}

// signBefore reports whether the '-' before q[i] (maybe with spaces) is directly before it:
// "-5", not "- 5" (both mean the same; only the first is folded, which keeps spans simple).
func signBefore(q []byte, i int) bool { return i > 0 && q[i-1] == '-' }

// positionalEnd reports whether what follows a number ends an ORDER/GROUP BY item.
func positionalEnd(q []byte, end int) bool {
	j := end
	for j < len(q) && isSpace(q[j]) {
		j++
	}
	if j == len(q) || q[j] == ',' || q[j] == ')' || q[j] == ';' {
		return true
	}
	k := j
	for k < len(q) && isIdentByte(q[k]) {
		k++
	}
	switch lower(q[j:k]) {
	case "asc", "desc", "limit", "having", "with", "window", "union", "for", "lock", "into", "order":
		return true
	}
	return false
}

func isIntroducer(w string) bool { return w == "_" }

// lowerWord lowers a word the normalizer may need to recognise: one that fits in buf (every
// keyword does) comes back as an interned constant when it is one, else it is "" (a longer
// word: an identifier, which needs no case). operandNext: an operand starts after it (a
// keyword, not a value word), so that a '-' there is a sign. One map lookup per word: the
// normalizer runs on every statement of a sharded target, plan cache hits included.
func lowerWord(buf *[16]byte, w []byte) (word string, operandNext bool) {
	if w[0] == '_' {
		return "_", false // a character set introducer (or an identifier: only a string after it matters)
	}
	if len(w) > len(buf) {
		return "", false
	}
	for i, c := range w {
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		buf[i] = c
	}
	if c := buf[0] - 'a'; c < 26 {
		for _, k := range internedWords[len(w)][c] {
			if k.word == string(buf[:len(w)]) {
				return k.word, k.operandNext
			}
		}
	}
	if len(w) == 1 {
		return string(rune(buf[0])), false
	}
	return "", false
}

// internedWord is a word the normalizer looks at, as a constant (no allocation), and whether
// an operand starts after it.
type internedWord struct {
	word        string
	operandNext bool
}

// internedWords are the words the normalizer looks at, by length and first letter: a word is
// compared with the few of its length and letter, without hashing it (a map lookup per word
// was half of a plan cache hit).
var internedWords = func() *[17][26][]internedWord {
	var t [17][26][]internedWord
	add := func(w string, operandNext bool) {
		if len(w) >= len(t) {
			return // lowerWord gives "" for a word longer than its buffer (sql_calc_found_rows)
		}
		for _, k := range t[len(w)][w[0]-'a'] {
			if k.word == w {
				return
			}
		}
		t[len(w)][w[0]-'a'] = append(t[len(w)][w[0]-'a'], internedWord{word: w, operandNext: operandNext})
	}
	for k := range keywords {
		add(k, !valueWords[k])
	}
	for k := range valueWords {
		add(k, false)
	}
	for _, k := range []string{"order", "group", "limit", "having", "window", "union", "for", "lock", "into", "asc", "desc", "with", "n", "x", "b"} {
		add(k, false)
	}
	return &t
}()

func lower(b []byte) string {
	for _, c := range b {
		if c >= 'A' && c <= 'Z' {
			out := make([]byte, len(b))
			for i, c := range b {
				if c >= 'A' && c <= 'Z' {
					c += 'a' - 'A'
				}
				out[i] = c
			}
			return string(out)
		}
	}
	return string(b)
}

// intKind types an integer literal as Vitess's normalizer does: INT64 when it fits, else
// UINT64, else DECIMAL.
func intKind(raw []byte) vindex.Kind {
	if _, err := strconv.ParseInt(string(raw), 10, 64); err == nil {
		return vindex.Int64
	}
	if _, err := strconv.ParseUint(string(raw), 10, 64); err == nil {
		return vindex.Uint64
	}
	return vindex.Decimal
}

// scanNumber reads a number at q[i]: its end and kind (Int64, Decimal, Float64, or VarBinary
// for 0x.. and 0b..). end is -1 when the digits start an identifier.
func scanNumber(q []byte, i int) (int, vindex.Kind) {
	j := i
	if q[j] == '0' && j+1 < len(q) && (q[j+1] == 'x' || q[j+1] == 'b') {
		k := j + 2
		for k < len(q) && (q[j+1] == 'x' && isHex(q[k]) || q[j+1] == 'b' && (q[k] == '0' || q[k] == '1')) {
			k++
		}
		if k > j+2 && (k == len(q) || !isIdentByte(q[k])) {
			return k, vindex.VarBinary
		}
	}
	kind := vindex.Int64
	for j < len(q) && isDigit(q[j]) {
		j++
	}
	if j < len(q) && q[j] == '.' {
		kind = vindex.Decimal
		j++
		for j < len(q) && isDigit(q[j]) {
			j++
		}
	}
	if j < len(q) && (q[j] == 'e' || q[j] == 'E') {
		k := j + 1
		if k < len(q) && (q[k] == '+' || q[k] == '-') {
			k++
		}
		if k < len(q) && isDigit(q[k]) {
			for k < len(q) && isDigit(q[k]) {
				k++
			}
			j, kind = k, vindex.Float64
		}
	}
	if j < len(q) && isIdentByte(q[j]) {
		return -1, 0
	}
	return j, kind
}

func isHex(c byte) bool { return isDigit(c) || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F' }

// scanString reads the string literal starting at q[i] (its quote): its value, the index past
// its closing quote, and whether it had a backslash escape.
func scanString(q []byte, i int, mode LexMode) (val []byte, end int, backslash, ok bool) {
	quote := q[i]
	j := i + 1
	plain := true
	for ; j < len(q); j++ {
		c := q[j]
		if c == '\\' && mode&NoBackslashEscapes == 0 {
			plain, backslash = false, true
			j++
			continue
		}
		if c == quote {
			if j+1 < len(q) && q[j+1] == quote {
				plain = false
				j++
				continue
			}
			break
		}
	}
	if j >= len(q) {
		return nil, 0, false, false
	}
	if plain {
		return q[i+1 : j], j + 1, false, true
	}
	out := make([]byte, 0, j-i)
	for k := i + 1; k < j; k++ {
		c := q[k]
		switch {
		case c == '\\' && mode&NoBackslashEscapes == 0:
			k++
			out = append(out, unescape(q[k])...)
		case c == quote:
			k++ // a doubled quote
			out = append(out, quote)
		default:
			out = append(out, c)
		}
	}
	return out, j + 1, backslash, true
}

// unescape is what MySQL makes of a backslash escape.
func unescape(c byte) []byte {
	switch c {
	case '0':
		return []byte{0}
	case 'b':
		return []byte{'\b'}
	case 'n':
		return []byte{'\n'}
	case 'r':
		return []byte{'\r'}
	case 't':
		return []byte{'\t'}
	case 'Z':
		return []byte{26}
	case '%', '_':
		return []byte{'\\', c}
	}
	return []byte{c}
}

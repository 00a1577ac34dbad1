package classify

// The tokenizer follows MariaDB's lexer (sql/sql_lex.cc, Lex_input_stream) as far as
// statement boundaries and classification need: https://mariadb.com/kb/en/comment-syntax/,
// https://mariadb.com/kb/en/string-literals/, https://mariadb.com/kb/en/identifier-names/.

// TokenKind is the kind of a token.
type TokenKind uint8

const (
	TokEOF         TokenKind = iota // end of input
	TokError                        // an unterminated string, identifier or comment, or a misplaced executable comment: the rest of the input
	TokWord                         // an unquoted identifier or keyword
	TokQuotedIdent                  // `ident`, or "ident" with AnsiQuotes
	TokString                       // '...', "..." (without AnsiQuotes), with an optional N, _charset introducer
	TokNumber                       // 12, 1.5, .5e3
	TokHex                          // X'0F', 0x0F
	TokBit                          // B'01', 0b01
	TokUserVar                      // @name, @'name', @"name", @`name`
	TokSysVar                       // @@name, @@global.name, @@session.`name`...
	TokPlaceholder                  // ?
	TokLParen                       // (
	TokRParen                       // )
	TokComma                        // ,
	TokDot                          // . (between the parts of a qualified name)
	TokSemicolon                    // ;
	TokOp                           // any other operator: = := <=> <= >= <> != << >> && || .. and single characters
)

var tokenNames = [...]string{"EOF", "error", "word", "quoted_ident", "string", "number", "hex", "bit",
	"user_var", "sys_var", "placeholder", "(", ")", ",", ".", ";", "op"}

func (k TokenKind) String() string {
	if int(k) < len(tokenNames) {
		return tokenNames[k]
	}
	return "token(" + itoa(uint64(k)) + ")"
}

// Token is one token: q[Start:End] is its text (with quotes, introducer, @ and @@ prefixes).
type Token struct {
	Kind       TokenKind
	Start, End int
}

// Tokenizer reads the tokens of a query in one pass. Comments are skipped; the content of
// executable comments (/*! */, /*!NNNNN */, /*M! */, /*M!NNNNNN */) is read as code whatever
// its version number, so a statement hidden in one is seen (MariaDB 10.11 skips
// /*!50700../*!99999 and versions above its own; reading them anyway errs on the side of
// seeing more). The zero Tokenizer is not usable: start one with NewTokenizer.
type Tokenizer struct {
	q      []byte
	pos    int
	opt    Options
	inExec bool // inside an executable comment: its "*/" is skipped
	// execVer: the executable comment has a version a server may skip it for.
	// ambiguous: a string, quoted name or line comment inside such a comment holds "*/",
	// where MariaDB, skipping it, would end it: the two readings differ.
	execVer, ambiguous bool
	space              byte      // a byte >= 0x80 the client character set has as white space (0: none)
	prev               TokenKind // the previous token, to tell ".5" (a number) from "t.5" (a qualified name)
	prevEnd            int       // where it ended
	failed             bool      // a TokError was returned: only TokEOF follows
	dirStart           int       // the first /*vt+ ... */ directive text seen, if dirEnd > 0
	dirEnd             int
}

// NewTokenizer returns a tokenizer over q.
func NewTokenizer(q []byte, opt Options) Tokenizer {
	return newTokenizerAt(q, opt, 0)
}

func newTokenizerAt(q []byte, opt Options, pos int) Tokenizer {
	return Tokenizer{q: q, opt: opt, pos: pos, prev: TokEOF, space: opt.Charset.space()}
}

// Pos is the offset of the next byte to read.
func (t *Tokenizer) Pos() int { return t.pos }

// InExecComment reports whether the tokenizer is inside an executable comment.
func (t *Tokenizer) InExecComment() bool { return t.inExec }

// Options returns the tokenizer's options.
func (t *Tokenizer) Options() Options { return t.opt }

// Directive returns the text inside the first /*vt+ ... */ comment read so far, trimmed of
// white space, as offsets into the query; ok is false when there was none.
func (t *Tokenizer) Directive() (start, end int, ok bool) {
	return t.dirStart, t.dirEnd, t.dirEnd > 0
}

// Next returns the next token.
func (t *Tokenizer) Next() Token {
	tok := t.next()
	t.prev, t.prevEnd = tok.Kind, tok.End
	return tok
}

func (t *Tokenizer) next() Token {
	if t.failed {
		return Token{Kind: TokEOF, Start: len(t.q), End: len(t.q)}
	}
	q, i := t.q, t.pos
	// Most tokens follow one space, or nothing: skip it here, and call the general skipper
	// only when a comment (or more space) may start.
	if i < len(q) && q[i] == ' ' {
		i++
	}
	if i >= len(q) || needsSkip(q[i]) || q[i] == t.space {
		t.pos = i
		if !t.skipSpaceAndComments() {
			return t.fail(t.pos)
		}
		i = t.pos
	}
	if i >= len(q) {
		if t.inExec { // an executable comment without its "*/"
			t.inExec = false
			return t.fail(i)
		}
		return Token{Kind: TokEOF, Start: i, End: i}
	}
	c := q[i]
	switch {
	case isIdentStart(c):
		return t.word(i)
	case c >= '0' && c <= '9':
		return t.number(i)
	}
	switch c {
	case '\'':
		return t.quoted(i, i, '\'', TokString)
	case '"':
		if t.opt.AnsiQuotes {
			return t.quoted(i, i, '"', TokQuotedIdent)
		}
		return t.quoted(i, i, '"', TokString)
	case '`':
		return t.quoted(i, i, '`', TokQuotedIdent)
	case '@':
		return t.variable(i)
	case '(':
		return t.single(TokLParen, i)
	case ')':
		return t.single(TokRParen, i)
	case ',':
		return t.single(TokComma, i)
	case ';':
		return t.single(TokSemicolon, i)
	case '?':
		return t.single(TokPlaceholder, i)
	case '.':
		// A dot separates the parts of a name only right after an unquoted name (MariaDB's
		// scan_ident_middle): elsewhere (after a keyword such as SELECT and a space, after a
		// quoted name) .5 is a number, and .5INTO is .5 INTO.
		if i+1 < len(q) && q[i+1] >= '0' && q[i+1] <= '9' && !(t.prev == TokWord && t.prevEnd == i) {
			return t.number(i)
		}
		if i+1 < len(q) && q[i+1] == '.' {
			return t.emit(TokOp, i, i+2)
		}
		return t.single(TokDot, i)
	}
	return t.operator(i)
}

// needsSkip reports a byte that may start white space or a comment, or end an executable
// comment.
func needsSkip(c byte) bool {
	return c <= ' ' || c == '#' || c == '-' || c == '/' || c == '*'
}

func (t *Tokenizer) single(k TokenKind, i int) Token { return t.emit(k, i, i+1) }

func (t *Tokenizer) emit(k TokenKind, start, end int) Token {
	t.pos = end
	return Token{Kind: k, Start: start, End: end}
}

func (t *Tokenizer) fail(start int) Token {
	t.failed = true
	t.pos = len(t.q)
	return Token{Kind: TokError, Start: start, End: len(t.q)}
}

// skipSpaceAndComments moves past white space and comments, and into or out of executable
// comments. It returns false on an unterminated comment or a misplaced executable comment.
func (t *Tokenizer) skipSpaceAndComments() bool {
	q, i := t.q, t.pos
	for i < len(q) {
		c := q[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v' || (c == t.space && c != 0):
			i++
		case c == '#':
			i = t.lineComment(i)
		case c == '-' && i+1 < len(q) && q[i+1] == '-' && (i+2 == len(q) || q[i+2] <= ' ' || q[i+2] == 0x7f || (q[i+2] == t.space && t.space != 0)):
			// "-- " starts a comment only when a space or control character (or the end) follows.
			i = t.lineComment(i)
		case c == '*' && t.inExec && i+1 < len(q) && q[i+1] == '/':
			t.inExec = false
			i += 2
		case c == '/' && i+1 < len(q) && q[i+1] == '*':
			var ok bool
			if i, ok = t.comment(i); !ok {
				t.pos = i
				return false
			}
		default:
			t.pos = i
			return true
		}
	}
	t.pos = i
	return true
}

// comment handles the comment that starts at q[i:] == "/*" and returns where reading goes on.
func (t *Tokenizer) comment(i int) (int, bool) {
	q := t.q
	j := i + 2
	exec, mariadb := false, false
	switch {
	case j < len(q) && q[j] == '!':
		exec, j = true, j+1
	case j+1 < len(q) && q[j] == 'M' && q[j+1] == '!':
		exec, mariadb, j = true, true, j+2
	}
	if exec {
		if t.inExec { // MariaDB refuses an executable comment inside another
			return i, false
		}
		// An optional version: five or six digits (fewer are code, as MariaDB reads them).
		n := 0
		for j+n < len(q) && n < 6 && q[j+n] >= '0' && q[j+n] <= '9' {
			n++
		}
		// A server may skip a versioned comment: MariaDB skips /*!50700 to /*!99999 (the
		// version is MMmmpp: 50700 is 5.7.0), any server one above its version. Below 50700
		// every server runs it.
		v := 0
		for _, d := range q[j : j+n] {
			v = v*10 + int(d-'0')
		}
		skippable := n >= 5 && (mariadb || n == 6 || v >= 50700)
		if n >= 5 {
			j += n
		}
		t.inExec, t.execVer = true, skippable
		return j, true
	}
	end := indexCommentEnd(q, j)
	if end < 0 {
		return i, false
	}
	if t.dirEnd == 0 && end-j >= 3 && q[j] == 'v' && q[j+1] == 't' && q[j+2] == '+' {
		s, e := j+3, end
		for s < e && isSpace(q[s]) {
			s++
		}
		for e > s && isSpace(q[e-1]) {
			e--
		}
		if e > s {
			t.dirStart, t.dirEnd = s, e
		}
	}
	return end + 2, true
}

// lineComment skips a # or -- comment at i.
func (t *Tokenizer) lineComment(i int) int {
	end := lineEnd(t.q, i)
	t.checkAmbiguous(i, end)
	return end
}

// checkAmbiguous notes a "*/" in q[start:end] (a string, quoted name or line comment) inside
// a versioned executable comment.
func (t *Tokenizer) checkAmbiguous(start, end int) {
	if t.inExec && t.execVer && indexCommentEnd(t.q[:end], start) >= 0 {
		t.ambiguous = true
	}
}

func indexCommentEnd(q []byte, i int) int {
	for ; i+1 < len(q); i++ {
		if q[i] == '*' && q[i+1] == '/' {
			return i
		}
	}
	return -1
}

func lineEnd(q []byte, i int) int {
	for i < len(q) && q[i] != '\n' {
		i++
	}
	return i
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'
}

// Bit sets of the ASCII bytes of unquoted identifiers (bytes >= 0x80 are too: the
// characters of multi-byte character sets): identStart* for the first byte (digits can
// start one too, see number), ident* for the others.
const (
	identStartLo = 1 << '$'
	identStartHi = 0x3FFFFFF<<('A'-64) | 1<<('_'-64) | 0x3FFFFFF<<('a'-64)
	identLo      = identStartLo | 0x3FF<<'0'
)

func isIdentStart(c byte) bool {
	if c >= 64 {
		return c >= 0x80 || identStartHi&(1<<(c-64)) != 0
	}
	return identStartLo&(1<<c) != 0
}

// identByte: an identifier byte that is not the character set's white space.
func (t *Tokenizer) identByte(c byte) bool { return isIdentByte(c) && c != t.space }

// identEnd is the end of the run of identifier bytes from j. In a multi-byte character set
// (gbk, sjis, big5) a lead byte takes its trail byte along, whatever it is: MariaDB reads the
// character whole, so a trail byte 0x60 (`) or 0x5C (\) opens no quoted name there.
func (t *Tokenizer) identEnd(j int) int {
	q := t.q
	mb := t.opt.Charset.multiByte()
	for j < len(q) {
		c := q[j]
		if mb && c >= 0x80 && c != t.space {
			j += t.opt.Charset.mbLen(q, j)
			continue
		}
		if !t.identByte(c) {
			break
		}
		j++
	}
	return j
}

func isIdentByte(c byte) bool {
	if c >= 64 {
		return c >= 0x80 || identStartHi&(1<<(c-64)) != 0
	}
	return identLo&(1<<c) != 0
}

// word reads an identifier or keyword at i, or a literal introduced by one: N'..', X'..',
// B'..', _charset'..'.
func (t *Tokenizer) word(i int) Token {
	q := t.q
	j := t.identEnd(i)
	if j < len(q) && q[j] == '\'' {
		switch {
		case j == i+1 && (q[i] == 'x' || q[i] == 'X'):
			return t.quoted(i, j, '\'', TokHex)
		case j == i+1 && (q[i] == 'b' || q[i] == 'B'):
			return t.quoted(i, j, '\'', TokBit)
		case j == i+1 && (q[i] == 'n' || q[i] == 'N'), q[i] == '_':
			return t.quoted(i, j, '\'', TokString)
		}
	}
	if j < len(q) && q[j] == '"' && q[i] == '_' && !t.opt.AnsiQuotes {
		return t.quoted(i, j, '"', TokString)
	}
	return t.emit(TokWord, i, j)
}

// number reads a number at i: digits, a fraction, an exponent; 0x.. and 0b.. literals. A run
// of identifier bytes that is not a number (123abc) is an identifier, as in MariaDB.
func (t *Tokenizer) number(i int) Token {
	q := t.q
	if q[i] == '0' && i+2 < len(q) && (q[i+1] == 'x' || q[i+1] == 'b') {
		j := t.identEnd(i + 2)
		if literalDigits(q[i+2:j], q[i+1] == 'x') {
			if q[i+1] == 'x' {
				return t.emit(TokHex, i, j)
			}
			return t.emit(TokBit, i, j)
		}
		return t.emit(TokWord, i, j)
	}
	j := i
	for j < len(q) && q[j] >= '0' && q[j] <= '9' {
		j++
	}
	if j < len(q) && q[j] == '.' && q[i] != '.' && !(j+1 < len(q) && q[j+1] == '.') {
		j++
		for j < len(q) && q[j] >= '0' && q[j] <= '9' {
			j++
		}
	} else if q[i] == '.' {
		j = i + 1
		for j < len(q) && q[j] >= '0' && q[j] <= '9' {
			j++
		}
	}
	if j < len(q) && (q[j] == 'e' || q[j] == 'E') {
		k := j + 1
		if k < len(q) && (q[k] == '+' || q[k] == '-') {
			k++
		}
		if k < len(q) && q[k] >= '0' && q[k] <= '9' {
			for k < len(q) && q[k] >= '0' && q[k] <= '9' {
				k++
			}
			j = k
			if t.prev != TokDot {
				// MariaDB ends a number at its exponent's last digit, whatever follows:
				// 1e1JOIN is 1e1 and JOIN, 1e1x the column x of value 10. After a dot the
				// whole is a name (t.1e1x).
				return t.emit(TokNumber, i, j)
			}
		}
	}
	if j < len(q) && isIdentStart(q[j]) && q[j] != t.space && q[i] != '.' && !hasByte(q[i:j], '.') {
		return t.emit(TokWord, i, t.identEnd(j))
	}
	return t.emit(TokNumber, i, j)
}

func hasByte(b []byte, c byte) bool {
	for _, x := range b {
		if x == c {
			return true
		}
	}
	return false
}

func literalDigits(b []byte, hex bool) bool {
	if len(b) == 0 {
		return false
	}
	for _, c := range b {
		switch {
		case c == '0' || c == '1':
		case hex && ((c >= '2' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')):
		default:
			return false
		}
	}
	return true
}

// quoted reads a quoted string or identifier whose token starts at start and whose opening
// quote is at open. Strings know doubled quotes and (unless NoBackslashEscapes) backslash
// escapes; identifiers only doubled quotes.
func (t *Tokenizer) quoted(start, open int, quote byte, kind TokenKind) Token {
	q := t.q
	escapes := quote != '`' && kind != TokQuotedIdent && !t.opt.NoBackslashEscapes
	plain := byte(0xff) // bytes below it need no second look (unless a quote or a backslash)
	if t.opt.Charset.multiByte() {
		plain = 0x80
	}
	for j := open + 1; j < len(q); {
		c := q[j]
		if c != quote && c != '\\' && c < plain {
			j++
			continue
		}
		switch {
		case c >= 0x80 && t.opt.Charset.multiByte():
			j += t.opt.Charset.mbLen(q, j)
		case c == '\\' && escapes:
			j += 2
		case c == quote:
			if j+1 < len(q) && q[j+1] == quote {
				j += 2
				continue
			}
			t.checkAmbiguous(start, j+1)
			return t.emit(kind, start, j+1)
		default:
			j++
		}
	}
	return t.fail(start)
}

// variable reads @name, @'name', @@name, @@scope.name at i.
func (t *Tokenizer) variable(i int) Token {
	q := t.q
	j := i + 1
	if j < len(q) && q[j] == '@' {
		return t.sysVar(i)
	}
	if j < len(q) && (q[j] == '\'' || q[j] == '"' || q[j] == '`') {
		// The name is read as a string (backslash escapes, unless NO_BACKSLASH_ESCAPES), or
		// in backquotes or, under ANSI_QUOTES, double quotes as a quoted name (no escapes):
		// @"a\" ends at its second quote then.
		kind := TokString
		if q[j] == '"' && t.opt.AnsiQuotes {
			kind = TokQuotedIdent
		}
		tok := t.quoted(i, j, q[j], kind)
		if tok.Kind == TokError {
			return tok
		}
		tok.Kind = TokUserVar
		return tok
	}
	for j < len(q) && (t.identByte(q[j]) || q[j] == '.') {
		j = max(t.identEnd(j), j+1) // a '.' is not an identifier byte
	}
	if j == i+1 {
		return t.single(TokOp, i) // a lone @: MariaDB refuses it where a variable is meant
	}
	return t.emit(TokUserVar, i, j)
}

func (t *Tokenizer) sysVar(i int) Token {
	q := t.q
	j := i + 2
	// An unquoted scope prefix, then the name (unquoted, or back-quoted), then the parts of
	// a structured variable (keycache.key_buffer_size).
	for {
		if j < len(q) && q[j] == '`' {
			tok := t.quoted(i, j, '`', TokQuotedIdent)
			if tok.Kind == TokError {
				return tok
			}
			j = tok.End
		} else {
			k := t.identEnd(j)
			if k == j { // only at the start: a part after '.' starts with a name byte
				return t.emit(TokOp, i, i+2) // "@@" without a name: MariaDB refuses it
			}
			j = k
		}
		if j+1 < len(q) && q[j] == '.' && (t.identByte(q[j+1]) || q[j+1] == '`') {
			j++
			continue
		}
		break
	}
	return t.emit(TokSysVar, i, j)
}

// operator reads an operator at i.
func (t *Tokenizer) operator(i int) Token {
	q := t.q
	c := q[i]
	var d byte
	if i+1 < len(q) {
		d = q[i+1]
	}
	switch {
	case c == '<' && d == '=' && i+2 < len(q) && q[i+2] == '>':
		return t.emit(TokOp, i, i+3)
	case (c == ':' && d == '=') || (c == '<' && (d == '=' || d == '>' || d == '<')) || (c == '>' && (d == '=' || d == '>')) ||
		(c == '!' && d == '=') || (c == '&' && d == '&') || (c == '|' && d == '|'):
		return t.emit(TokOp, i, i+2)
	}
	return t.single(TokOp, i)
}

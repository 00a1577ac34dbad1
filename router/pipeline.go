package router

// Pipelining a statement with its schema switch (tabletserver/schema.go) needs a proof that
// the statement reaches nothing but the current database: if the switch fails it runs in
// information_schema, where it must not touch anything. classify.CurrentDatabaseOnly proves it
// for a statement whose only qualified names are information_schema's; a tokenizer cannot
// tell db.t (a database) from t.col (a table's column), so the statements of ORMs, which
// qualify every column (SELECT t0.id, t0.name FROM users t0 WHERE t0.id = ?), would pay one
// more round trip on every switch. Vitess's parser tells the two apart here, on a switch only.
//
// The parser reads MySQL 8's grammar from a text the tokenizer re-spells: what it reads must
// be what MariaDB runs, or the proof is about another statement. So the text given to it is
// classify's tokens (MariaDB's reading under the session's sql_mode and character set), each
// spelt in the form the two read alike: identifiers in backquotes unless plain ASCII words,
// every string literal and variable a neutral one (no name in them can reach a database), no
// comments; a statement in an executable comment that carries a version, which MariaDB may
// skip, is not judged. Every dot the tokenizer saw after a name must then be a qualifier in the
// tree (a grammar rule that drops one, as Vitess's INSERT column list does, refuses), and
// each qualifier must be a table's (t.col, t.*) or information_schema.

import (
	"bytes"
	"errors"

	"vitess.io/vitess/go/vt/sqlparser"

	"github.com/vtdirect/vtdirect/classify"
)

// currentDatabaseOnly reports whether query q, which Analyze classified as cq with opt,
// provably reaches no database but the current one (classify.CurrentDatabaseOnly), telling
// tables' qualifiers from databases' with p when the tokenizer cannot. It tokenizes q again,
// and parses it when it qualifies a name: call it only when the answer matters.
func currentDatabaseOnly(p *sqlparser.Parser, q []byte, cq *classify.Query, opt classify.Options) bool {
	if !classify.TablesOnly(cq) {
		return false
	}
	if classify.CurrentDatabaseOnly(q, cq, opt) {
		return true // no qualified name but information_schema's: no parse
	}
	if len(q) > maxParsed {
		return false
	}
	return parsedCurrentDatabaseOnly(p, q, opt)
}

// maxParsed is the longest query parsed to prove it: the parse costs some 25-90 ns a byte
// (BenchmarkCurrentDatabaseOnly on a loaded 2-core machine: 5-9 µs for an ORM's point
// select, 36-107 µs for a 1.4 KB SELECT of 30 columns), so beyond a few KB it would cost
// more than the round trip it saves even across a network (100-300 µs).
const maxParsed = 2 << 10

// parsedCurrentDatabaseOnly reports whether every statement of q parses and qualifies names
// only with tables or information_schema.
func parsedCurrentDatabaseOnly(p *sqlparser.Parser, q []byte, opt classify.Options) bool {
	tz := classify.NewTokenizer(q, opt)
	text := make([]byte, 0, len(q)+len(q)/8)
	dots := 0 // the statement's qualified names, as MariaDB reads them
	judge := func() (ok bool) {
		if len(text) == 0 {
			return true // after a trailing ';'
		}
		// The parser reads a client's text inside the exchange with a backend connection: a
		// panic of its own (a bug) refuses the proof rather than ending the session there.
		defer func() {
			if recover() != nil {
				ok = false
			}
		}()
		stmt, err := p.Parse(string(text))
		if err != nil {
			return false // MySQL's grammar does not read it: it cannot be judged
		}
		switch stmt.(type) {
		case *sqlparser.Select, *sqlparser.Union, *sqlparser.Insert, *sqlparser.Update, *sqlparser.Delete:
		default:
			return false // not the statement classify read
		}
		n, ok := qualifiers(stmt)
		return ok && n == dots
	}
	var prev classify.Token
	for {
		t := tz.Next()
		switch t.Kind {
		case classify.TokEOF:
			return judge()
		case classify.TokError:
			return false
		case classify.TokSemicolon:
			if !judge() {
				return false
			}
			text, dots, prev = text[:0], 0, t
			continue
		case classify.TokDot:
			if prev.Kind == classify.TokWord || prev.Kind == classify.TokQuotedIdent {
				dots++
			}
		}
		if tz.InExecComment() && versionedComment(q[prev.End:t.Start]) {
			return false
		}
		var ok bool
		if text, ok = appendToken(text, q, t); !ok {
			return false
		}
		prev = t
	}
}

// versionedComment reports whether the space and comments between two tokens may open an
// executable comment with a version (/*!50100, /*M!100500), whose content MariaDB skips
// when its version is above the server's (or, for /*!, from 50700 to 99999) while the
// tokenizer reads it as code. It errs on the side of yes.
func versionedComment(gap []byte) bool {
	for {
		i := bytes.Index(gap, []byte("/*"))
		if i < 0 {
			return false
		}
		gap = gap[i+2:]
		if len(gap) > 0 && gap[0] == 'M' {
			gap = gap[1:]
		}
		if len(gap) > 1 && gap[0] == '!' && gap[1] >= '0' && gap[1] <= '9' {
			return true
		}
	}
}

// appendToken appends token t of q to text, with a space before it, spelt so that Vitess's
// lexer reads the token MariaDB read; ok is false for a token it cannot spell so.
func appendToken(text, q []byte, t classify.Token) (_ []byte, ok bool) {
	if len(text) > 0 {
		text = append(text, ' ')
	}
	tok := q[t.Start:t.End]
	switch t.Kind {
	case classify.TokWord:
		if plainWord(tok) {
			return append(text, tok...), true // a keyword, or a name both read alike
		}
		return appendQuoted(text, tok, 0), true // 1col, $a, a name in another script...
	case classify.TokQuotedIdent:
		return appendQuoted(text, tok[1:len(tok)-1], tok[0]), true
	case classify.TokString:
		// The value cannot name a database here (the functions that take names as strings
		// are flagged by classify); a neutral literal spares the escapes the two read
		// differently (NO_BACKSLASH_ESCAPES, multi-byte character sets).
		return append(text, "'s'"...), true
	case classify.TokUserVar:
		return append(text, "@v"...), true // @a.b is one name in MariaDB
	case classify.TokSysVar:
		return append(text, "@@v"...), true
	case classify.TokOp:
		// Joined with spaces, an operator must not open a comment for Vitess's lexer (MariaDB
		// read 1--1 as two minus signs, 1 - -1) or a quoted token.
		if bytes.Contains(tok, []byte("--")) || bytes.ContainsAny(tok, "#/*\\'\"`") && !opChars(tok) {
			return text, false
		}
	}
	return append(text, tok...), true // numbers, hex and bit literals, ?, ( ) , . ;
}

// opChars reports an operator made only of characters that cannot start a comment or a quoted
// token (a lone / or * is division or multiplication).
func opChars(tok []byte) bool {
	return len(tok) == 1 && (tok[0] == '/' || tok[0] == '*')
}

// plainWord reports a word both lexers read as one identifier or keyword: an ASCII letter or
// _ then letters, digits and _.
func plainWord(w []byte) bool {
	for i, c := range w {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c == '_':
		case c >= '0' && c <= '9' && i > 0:
		default:
			return false
		}
	}
	return len(w) > 0
}

// appendQuoted appends name in backquotes; quote is the quote character it was written with,
// doubled inside (0: none).
func appendQuoted(text, name []byte, quote byte) []byte {
	text = append(text, '`')
	for i := 0; i < len(name); i++ {
		c := name[i]
		if quote != 0 && c == quote && i+1 < len(name) && name[i+1] == quote {
			i++
		}
		if c == '`' {
			text = append(text, '`')
		}
		text = append(text, c)
	}
	return append(text, '`')
}

// errReach stops the walk at a name that may reach another database.
var errReach = errors.New("reaches another database")

// qualifiers counts the qualifiers of stmt's names (one for t.col, t.* and db.t, two for
// db.t.col and db.t.*), and reports false for one that may reach another database than the
// current one: a database other than information_schema (db.t, db.t.col, db.t.*), a
// function's (db.f()), or a sequence's NEXTVAL or CURRVAL (s.nextval, as MariaDB reads it
// under sql_mode ORACLE).
func qualifiers(stmt sqlparser.Statement) (n int, ok bool) {
	err := sqlparser.Walk(func(node sqlparser.SQLNode) (bool, error) {
		switch node := node.(type) {
		case sqlparser.TableName: // also the qualifier of a ColName and a StarExpr, visited after them
			if !node.Qualifier.IsEmpty() {
				n++
				if !classify.IsInformationSchema(node.Qualifier.String()) {
					return false, errReach
				}
			}
		case *sqlparser.ColName:
			if !node.Qualifier.Name.IsEmpty() {
				n++
				if node.Name.EqualString("nextval") || node.Name.EqualString("currval") {
					return false, errReach
				}
			}
		case *sqlparser.StarExpr:
			if !node.TableName.Name.IsEmpty() {
				n++
			}
		case *sqlparser.FuncExpr:
			if !node.Qualifier.IsEmpty() {
				return false, errReach
			}
		}
		return true, nil
	}, stmt)
	return n, err == nil
}

package router

import (
	"bytes"

	"github.com/go-mysql-org/go-mysql/mysql"

	"github.com/vtdirect/vtdirect/classify"
)

// SHOW statements for users limited to some keyspaces. The access rules refuse (1044) a
// SHOW that names another keyspace's database (SHOW TABLE STATUS | TRIGGERS | EVENTS | OPEN
// TABLES FROM db, SHOW INDEX FROM t FROM db, SHOW CREATE PROCEDURE db.p, SHOW PROCEDURE CODE
// db.p...: classify's Show.Database and Qualifiers). The forms that list every database's
// objects name none; the gateway adds a condition on their database column, keeping the
// client's own:
//
//	SHOW PROCEDURE STATUS                ->  SHOW PROCEDURE STATUS WHERE `Db` IN ('db1')
//	SHOW FUNCTION STATUS WHERE Db = ?    ->  SHOW FUNCTION STATUS WHERE (Db = ?
//	                                         ) AND `Db` IN ('db1')
//	SHOW PROCEDURE STATUS LIKE 'p%'      ->  SHOW PROCEDURE STATUS WHERE `Name` LIKE 'p%' AND `Db` IN ('db1')
//
// for SHOW PROCEDURE | FUNCTION | PACKAGE [BODY] STATUS, SHOW OPEN TABLES without FROM (its
// `Database`, LIKE on `Table`) and SHOW DATABASES | SCHEMAS with LIKE or WHERE (the plain form
// the gateway answers itself with the user's keyspaces, unless prepared), also after SET
// STATEMENT ... FOR. The client's condition goes in
// parentheses, closed on a line of its own (after a -- comment); its parentheses must balance
// and the statement must have no executable comment (MariaDB may skip a versioned one that the
// gateway reads): otherwise, and for such SHOWs in PREPARE, EXECUTE IMMEDIATE or compound
// statements, 1142 says what to send.

// listingShow is a SHOW form that lists every database's objects: its words after SHOW, and
// its database and name columns.
type listingShow struct {
	words        []string
	dbCol, named string
	// schema: information_schema is one of the databases it lists.
	schema bool
}

var listingShows = []listingShow{
	{words: []string{"procedure", "status"}, dbCol: "Db", named: "Name"},
	{words: []string{"function", "status"}, dbCol: "Db", named: "Name"},
	{words: []string{"package", "status"}, dbCol: "Db", named: "Name"},
	{words: []string{"package", "body", "status"}, dbCol: "Db", named: "Name"},
	{words: []string{"open", "tables"}, dbCol: "Database", named: "Table"},
	{words: []string{"databases"}, dbCol: "Database", named: "Database", schema: true},
	{words: []string{"schemas"}, dbCol: "Database", named: "Database", schema: true},
}

// mentionsShow is the quick test for listing SHOWs: does q have "show" (any case)?
func mentionsShow(q []byte) bool { return containsFold(q, "show") }

// showTokens are the tokens of a statement, and whether one was in an executable comment;
// false when the statement cannot be read.
func showTokens(text []byte, opt classify.Options) ([]classify.Token, bool, bool) {
	tz := classify.NewTokenizer(text, opt)
	var toks []classify.Token
	exec := false
	for {
		t := tz.Next()
		switch t.Kind {
		case classify.TokError:
			return nil, false, false
		case classify.TokEOF:
			return toks, exec, true
		}
		exec = exec || tz.InExecComment()
		toks = append(toks, t)
	}
}

// matchListing reports the listing SHOW that toks (a statement's, SHOW first) start with,
// and how many tokens its words take (SHOW included).
func matchListing(text []byte, toks []classify.Token) (*listingShow, int) {
	if len(toks) == 0 || !isWord(text, toks[0], "show") {
		return nil, 0
	}
	for i := range listingShows {
		ls := &listingShows[i]
		n := 1 + len(ls.words)
		if len(toks) < n {
			continue
		}
		ok := true
		for j, w := range ls.words {
			ok = ok && isWord(text, toks[1+j], w)
		}
		if ok {
			return ls, n
		}
	}
	return nil, 0
}

func isWord(text []byte, t classify.Token, w string) bool {
	return t.Kind == classify.TokWord && bytes.EqualFold(text[t.Start:t.End], []byte(w))
}

// filterShow rewrites a listing SHOW (see the top of the file) of a limited user: the
// statement's new text, or nil when it is no listing SHOW (or one naming its database: the
// access rules check it).
func filterShow(text []byte, opt classify.Options, allowed []string, prepared bool) ([]byte, error) {
	if !mentionsShow(text) {
		return nil, nil
	}
	toks, exec, ok := showTokens(text, opt)
	if !ok {
		return nil, nil // MariaDB answers the syntax error
	}
	// SHOW first, or after SET STATEMENT ... FOR
	i := 0
	for i < len(toks) && !isWord(text, toks[i], "show") {
		i++
	}
	if i > 0 && (i == len(toks) || !isWord(text, toks[i-1], "for")) {
		if listsDatabases(text, opt) {
			return nil, errShowHidden()
		}
		return nil, nil
	}
	ls, n := matchListing(text, toks[i:])
	if ls == nil {
		return nil, nil
	}
	n += i
	rest := toks[n:]
	switch {
	case len(rest) > 0 && (isWord(text, rest[0], "from") || isWord(text, rest[0], "in")):
		return nil, nil // SHOW OPEN TABLES FROM db: the access rules check db
	case len(rest) == 0 && ls.schema && !prepared && i == 0:
		return nil, nil // SHOW DATABASES: the gateway answers it with the user's keyspaces (not prepared)
	}
	if exec {
		return nil, errShowHidden()
	}
	head := toks[n-1].End
	out := make([]byte, 0, len(text)+64+16*len(allowed))
	out = append(out, text[:head]...)
	out = append(out, " WHERE "...)
	switch {
	case len(rest) == 0:
	case isWord(text, rest[0], "like") && len(rest) == 2 && rest[1].Kind == classify.TokString:
		out = append(out, '`')
		out = append(out, ls.named...)
		out = append(out, "` LIKE "...)
		out = append(out, text[rest[1].Start:rest[1].End]...)
		out = append(out, " AND "...)
	case isWord(text, rest[0], "where") && len(rest) > 1 && balanced(rest[1:]):
		out = append(out, '(')
		out = append(out, text[rest[0].End:]...)
		out = append(out, "\n) AND "...)
	default:
		return nil, errShowHidden()
	}
	out = append(out, '`')
	out = append(out, ls.dbCol...)
	out = append(out, "` IN ("...)
	if ls.schema {
		out = append(out, "'information_schema'"...)
	}
	for i, db := range allowed {
		if i > 0 || ls.schema {
			out = append(out, ", "...)
		}
		out = appendNameLiteral(out, db)
	}
	if len(allowed) == 0 && !ls.schema {
		out = append(out, "NULL"...)
	}
	return append(out, ')'), nil
}

// balanced reports whether toks' parentheses balance, none closing one opened before them.
func balanced(toks []classify.Token) bool {
	depth := 0
	for _, t := range toks {
		switch t.Kind {
		case classify.TokLParen:
			depth++
		case classify.TokRParen:
			if depth--; depth < 0 {
				return false
			}
		}
	}
	return depth == 0
}

// listsDatabases reports whether a text (of PREPARE, EXECUTE IMMEDIATE, a compound
// statement) has a listing SHOW anywhere, for the refusal: the gateway does not rewrite there.
func listsDatabases(text []byte, opt classify.Options) bool {
	if !mentionsShow(text) {
		return false
	}
	toks, _, ok := showTokens(text, opt)
	if !ok {
		return true
	}
	for i := range toks {
		if ls, n := matchListing(text, toks[i:]); ls != nil {
			if n == len(toks[i:]) || !isWord(text, toks[i+n], "from") && !isWord(text, toks[i+n], "in") {
				return true
			}
		}
	}
	return false
}

func errShowHidden() error {
	return &mysql.MyError{Code: mysql.ER_TABLEACCESS_DENIED_ERROR, State: "42000", Message: "vtdirect: a SHOW that lists every " +
		"database's objects (PROCEDURE | FUNCTION | PACKAGE [BODY] STATUS, OPEN TABLES, DATABASES) by a user limited to some " +
		"keyspaces, in a form the gateway cannot limit to them (inside PREPARE, EXECUTE IMMEDIATE or a compound statement, with " +
		"an executable comment, unbalanced parentheses in WHERE); send it as a plain statement, with LIKE 'pattern' or " +
		"WHERE condition, for example SHOW PROCEDURE STATUS WHERE Db = 'mydb'"}
}

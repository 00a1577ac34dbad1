package classify

import (
	"iter"
)

// Qualifiers yields the qualifier of every qualified name in stmt (one statement's text), as
// MariaDB reads it: the db of db.t, db.t.col, db.f(...) and `db`.t, and the t of t.col and
// t.*, unquoted. The package cannot tell a database from a table or an alias there (that
// takes a parser): a caller checking access treats each one as a database name when it names
// one. Names inside executable comments count, as everywhere in this package.
func Qualifiers(stmt []byte, opt Options) iter.Seq[string] {
	return func(yield func(string) bool) {
		tz := NewTokenizer(stmt, opt)
		var prev Token
		for {
			t := tz.Next()
			switch t.Kind {
			case TokEOF, TokError:
				return
			case TokDot:
				if prev.Kind == TokWord || prev.Kind == TokQuotedIdent {
					if name, ok := identName(stmt, prev); ok && !yield(name) {
						return
					}
				}
			}
			prev = t
		}
	}
}

// Code returns stmt's tokens joined by single spaces: the statement as this package reads it,
// without its comments and with the content of every executable comment as code. A parser
// that does not know MariaDB's /*M! */ comments (Vitess's sqlparser) then sees what MariaDB
// runs. ok is false for a statement that does not tokenize (an unterminated string or
// comment).
func Code(stmt []byte, opt Options) (code []byte, ok bool) {
	tz := NewTokenizer(stmt, opt)
	out := make([]byte, 0, len(stmt))
	for {
		t := tz.Next()
		switch t.Kind {
		case TokEOF:
			return out, true
		case TokError:
			return nil, false
		}
		if len(out) > 0 {
			out = append(out, ' ')
		}
		out = append(out, stmt[t.Start:t.End]...)
	}
}

// IdentName returns the name of an identifier token (TokWord, or TokQuotedIdent without its
// quotes, doubled quotes resolved); ok is false for other tokens.
func IdentName(q []byte, t Token) (string, bool) { return identName(q, t) }

// StringValue returns the value of a TokString token as MariaDB reads it under opt (escapes
// and doubled quotes resolved); ok is false for other tokens or a literal it cannot read.
func StringValue(q []byte, t Token, opt Options) (string, bool) {
	if t.Kind != TokString {
		return "", false
	}
	return unquoteString(q, t, opt)
}

// boundKinds are the statements that, unqualified, reach nothing but tables of the current
// database: resolved in another database they read or change only that one.
const boundKinds = Kinds(1<<KindSelect | 1<<KindInsert | 1<<KindUpdate | 1<<KindDelete | 1<<KindReplace)

// unboundFlags are what a statement does beyond the tables of its database: locks held by
// name, routines run, sequences, XA, the server's files, other threads.
const unboundFlags = TakesLock | ReleasesLock | Call | Compound | Admin | XA | SQLPrepare | WritesSequence |
	ReadsSequence | Kills | LocalInfile | ServerInternals | OpensHandler | ClosesHandler | Release | Chain

// TablesOnly reports whether query cq reaches nothing but the tables its names name (and the
// stored functions it calls): every statement a SELECT, INSERT, UPDATE, DELETE or REPLACE
// with no lock, routine call, sequence or other effect beyond its tables. Which database
// those names are in is the other half of CurrentDatabaseOnly; a caller with a parser may
// answer it for qualified names this package cannot tell apart (db.t from t.col).
func TablesOnly(cq *Query) bool {
	return cq.Count > 0 && cq.Kinds&^boundKinds == 0 && !cq.Flags.Any(unboundFlags)
}

// CurrentDatabaseOnly reports whether query q, which Analyze classified as cq with opt,
// provably reaches no database but the current one, whichever that is: TablesOnly, with no
// qualified name (but information_schema's). Run in another database than meant, such a
// query fails or touches only that database; a stored function it calls unqualified is
// looked up there too. (A UDF, CREATE FUNCTION ... SONAME, is global and looks like a
// built-in function: a gateway whose servers have UDFs with side effects must not rely on
// this.) The qualifier scan tokenizes q again: call it only when the answer matters.
func CurrentDatabaseOnly(q []byte, cq *Query, opt Options) bool {
	if !TablesOnly(cq) {
		return false
	}
	for name := range Qualifiers(q, opt) {
		if !IsInformationSchema(name) {
			return false
		}
	}
	return true
}

// IsInformationSchema reports whether a database name is information_schema as MariaDB reads
// it: in any case of its ASCII letters, and no other spelling (strings.EqualFold would take
// "information_ſchema", with a long s, which MariaDB reads as another database).
func IsInformationSchema(name string) bool {
	const want = "information_schema"
	if len(name) != len(want) {
		return false
	}
	for i := 0; i < len(want); i++ {
		c := name[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != want[i] {
			return false
		}
	}
	return true
}

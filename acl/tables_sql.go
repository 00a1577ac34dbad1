package acl

import (
	"vitess.io/vitess/go/vt/sqlparser"

	"github.com/vtdirect/vtdirect/classify"
)

// tablePerm is one table a statement uses and the right it needs there.
type tablePerm struct {
	db, table string // db "" for an unqualified name
	right     Right
}

// newParser is Vitess's SQL parser as MySQL 8.0 reads statements (the dialect it knows;
// MariaDB's own syntax mostly fails to parse, which refuses the statement for a user under
// the table ACL).
func newParser() *sqlparser.Parser {
	p, err := sqlparser.New(sqlparser.Options{MySQLServerVersion: "8.0.40"})
	if err != nil {
		panic("acl: sqlparser options: " + err.Error()) // a constant version: cannot fail
	}
	return p
}

// statementTables returns the tables a statement uses with the right each needs, and false
// when it cannot tell (the statement does not parse). Statements that can hold no table
// (BEGIN, SET without a subquery...) use none.
func statementTables(p *sqlparser.Parser, st *classify.Statement, text []byte, opt classify.Options) ([]tablePerm, bool) {
	switch st.Kind {
	case classify.KindBegin, classify.KindCommit, classify.KindRollback, classify.KindSavepoint, classify.KindUse,
		classify.KindKill, classify.KindConnectionID, classify.KindSelectAutocommit, classify.KindHelp,
		classify.KindDeallocate, classify.KindUnlock, classify.KindXA, classify.KindEmpty, classify.KindShow,
		classify.KindGetDiagnostics, classify.KindPrepare, classify.KindExecute:
		return nil, true
	case classify.KindHandler:
		return handlerTable(st.Name, opt)
	case classify.KindLoad:
		return loadTable(text, opt)
	case classify.KindDDL:
		if st.Name != "" {
			return nil, true // a database: checkDatabase
		}
	case classify.KindSelect, classify.KindInsert, classify.KindUpdate, classify.KindDelete, classify.KindReplace,
		classify.KindExplain, classify.KindLock, classify.KindCall, classify.KindDo:
	default:
		if !mentionsSelect(text, opt) {
			return nil, true // SET @a = 1, SIGNAL...: no subquery, no table
		}
	}
	code, ok := classify.Code(text, opt)
	if !ok {
		return nil, false
	}
	stmt, err := p.Parse(string(code))
	if err != nil {
		return nil, false
	}
	return astTables(stmt), true
}

// mentionsSelect reports a statement with the word SELECT (or TABLE, or VALUES) in it: only
// such a statement can read a table in a subquery.
func mentionsSelect(text []byte, opt classify.Options) bool {
	tz := classify.NewTokenizer(text, opt)
	for {
		t := tz.Next()
		switch t.Kind {
		case classify.TokEOF, classify.TokError:
			return t.Kind == classify.TokError
		case classify.TokWord:
			if w := text[t.Start:t.End]; wordIs(w, "select") || wordIs(w, "table") || wordIs(w, "values") {
				return true
			}
		}
	}
}

func wordIs(w []byte, lower string) bool {
	if len(w) != len(lower) {
		return false
	}
	for i := range w {
		if w[i]|0x20 != lower[i] {
			return false
		}
	}
	return true
}

// astTables walks a parsed statement: the target tables of INSERT, UPDATE and DELETE need
// write, the tables DDL changes need ddl, every other table read. Common table expressions
// are not tables, in the scope of their WITH.
func astTables(stmt sqlparser.Statement) []tablePerm {
	var perms []tablePerm
	var ctes [][]string // the CTE names in scope, innermost last
	writes := map[*sqlparser.AliasedTableExpr]Right{}
	var mark func(te sqlparser.TableExpr, r Right)
	mark = func(te sqlparser.TableExpr, r Right) {
		switch n := te.(type) {
		case *sqlparser.AliasedTableExpr:
			writes[n] = r
		case *sqlparser.JoinTableExpr:
			mark(n.LeftExpr, r)
			mark(n.RightExpr, r)
		case *sqlparser.ParenTableExpr:
			for _, e := range n.Exprs {
				mark(e, r)
			}
		}
	}
	isCTE := func(t sqlparser.TableName) bool {
		if !t.Qualifier.IsEmpty() {
			return false
		}
		name := t.Name.String()
		for _, scope := range ctes {
			for _, c := range scope {
				if c == name {
					return true
				}
			}
		}
		return false
	}
	add := func(t sqlparser.TableName, r Right) {
		if t.Name.IsEmpty() || isCTE(t) || t.Qualifier.IsEmpty() && t.Name.String() == "dual" {
			return
		}
		perms = append(perms, tablePerm{db: t.Qualifier.String(), table: t.Name.String(), right: r})
	}
	push := func(w *sqlparser.With) {
		var names []string
		for _, c := range w.CTEs {
			names = append(names, c.ID.String())
		}
		ctes = append(ctes, names)
	}
	withOf := func(n sqlparser.SQLNode) *sqlparser.With {
		switch n := n.(type) {
		case *sqlparser.Select:
			return n.With
		case *sqlparser.Union:
			return n.With
		case *sqlparser.Update:
			return n.With
		case *sqlparser.Delete:
			return n.With
		}
		return nil
	}
	pre := func(c *sqlparser.Cursor) bool {
		if w := withOf(c.Node()); w != nil {
			push(w)
		}
		switch n := c.Node().(type) {
		case *sqlparser.Insert:
			if n.Table != nil {
				writes[n.Table] = Write
			}
		case *sqlparser.Update:
			for _, te := range n.TableExprs {
				mark(te, Write)
			}
		case *sqlparser.Delete:
			for _, te := range n.TableExprs {
				mark(te, Write)
			}
		case *sqlparser.LockTables:
			for _, t := range n.Tables {
				r := Read
				if t.Lock == sqlparser.Write || t.Lock == sqlparser.LowPriorityWrite {
					r = Write
				}
				if a, ok := t.Table.(*sqlparser.AliasedTableExpr); ok {
					if tn, ok := a.Expr.(sqlparser.TableName); ok {
						add(tn, r) // the rewriter does not visit the tables of LOCK TABLES
					}
				}
			}
		case sqlparser.DDLStatement:
			for _, t := range n.AffectedTables() {
				add(t, DDL)
			}
		case *sqlparser.ExplainTab:
			add(n.Table, Read)
		case *sqlparser.AliasedTableExpr:
			if t, ok := n.Expr.(sqlparser.TableName); ok {
				r, marked := writes[n]
				if !marked {
					r = Read
				}
				add(t, r)
			}
		}
		return true
	}
	post := func(c *sqlparser.Cursor) bool {
		if withOf(c.Node()) != nil {
			ctes = ctes[:len(ctes)-1]
		}
		return true
	}
	sqlparser.Rewrite(stmt, pre, post)
	return perms
}

// handlerTable reads HANDLER's table name ("t" or "db.t", quoted or not).
func handlerTable(name string, opt classify.Options) ([]tablePerm, bool) {
	parts, ok := nameParts([]byte(name), opt)
	switch {
	case !ok || len(parts) == 0 || len(parts) > 2:
		return nil, false
	case len(parts) == 1:
		return []tablePerm{{table: parts[0], right: Read}}, true
	}
	return []tablePerm{{db: parts[0], table: parts[1], right: Read}}, true
}

// loadTable reads the table of LOAD DATA | XML ... INTO TABLE name.
func loadTable(text []byte, opt classify.Options) ([]tablePerm, bool) {
	tz := classify.NewTokenizer(text, opt)
	var p1, p2 classify.Token
	for {
		t := tz.Next()
		switch t.Kind {
		case classify.TokEOF, classify.TokError:
			return nil, false
		}
		if p2.Kind == classify.TokWord && wordIs(text[p2.Start:p2.End], "into") &&
			p1.Kind == classify.TokWord && wordIs(text[p1.Start:p1.End], "table") {
			start, end := t.Start, t.End
			if n := tz.Next(); n.Kind == classify.TokDot {
				end = tz.Next().End
			}
			perms, ok := handlerTable(string(text[start:end]), opt)
			for i := range perms {
				perms[i].right = Write
			}
			return perms, ok
		}
		p2, p1 = p1, t
	}
}

// nameParts splits a possibly qualified, possibly quoted name into its unquoted parts.
func nameParts(name []byte, opt classify.Options) ([]string, bool) {
	var parts []string
	tz := classify.NewTokenizer(name, opt)
	for {
		t := tz.Next()
		switch t.Kind {
		case classify.TokEOF:
			return parts, true
		case classify.TokWord:
			parts = append(parts, string(name[t.Start:t.End]))
		case classify.TokQuotedIdent:
			parts = append(parts, unquote(name[t.Start:t.End]))
		case classify.TokDot:
		default:
			return nil, false
		}
	}
}

// unquote removes an identifier's quotes (a doubled quote inside is one).
func unquote(b []byte) string {
	if len(b) < 2 {
		return string(b)
	}
	q := b[0]
	out := make([]byte, 0, len(b)-2)
	for i := 1; i < len(b)-1; i++ {
		out = append(out, b[i])
		if b[i] == q && i+1 < len(b)-1 && b[i+1] == q {
			i++
		}
	}
	return string(out)
}

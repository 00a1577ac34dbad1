package planner

import (
	"strconv"
	"strings"
	"time"

	"vitess.io/vitess/go/vt/sqlparser"

	"github.com/vtdirect/vtdirect/vindex"
	"github.com/vtdirect/vtdirect/vschema"
)

// builder plans one parsed statement.
type builder struct {
	vs     *vschema.VSchema
	ks     *vschema.Keyspace // the target keyspace
	nargs  int
	query  []byte // the client's text
	key    string // the text that was parsed (normalized or as written)
	parser *sqlparser.Parser
	// normalized: literals are arguments :v1..:vN; otherwise constants of the AST.
	normalized bool
	// noBackslash: print string constants without backslash escapes.
	noBackslash bool
	// prepared: the statement's '?' are a prepared statement's parameters. A verbatim route
	// then also carries the statement as a template (Route.Query), for shards that get it as
	// text with the parameters written in (the client's text has only '?').
	prepared bool
	// aliases are the column names a rewritten statement gives back (aliasMarker(i)).
	aliases []*Template
}

// aliasMarker is the placeholder alias of the i-th name in the printed AST, which template
// replaces with the name's own template.
func aliasMarker(i int) string { return "\x01vtdalias" + strconv.Itoa(i) + "\x01" }

func (b *builder) statement(stmt sqlparser.Statement) (*Plan, error) {
	switch st := stmt.(type) {
	case *sqlparser.Select:
		return b.selectStatement(st)
	case *sqlparser.Union:
		return b.union(st)
	case *sqlparser.Insert:
		return b.insert(st)
	case *sqlparser.Update:
		return b.update(st)
	case *sqlparser.Delete:
		return b.delete(st)
	case *sqlparser.Set:
		return b.set(st)
	case *sqlparser.Begin:
		return &Plan{Kind: KindBegin, ReadOnly: true, Begin: sqlparser.String(st)}, nil
	case *sqlparser.Commit:
		return &Plan{Kind: KindCommit, ReadOnly: true}, nil
	case *sqlparser.Rollback:
		return &Plan{Kind: KindRollback, ReadOnly: true}, nil
	case *sqlparser.Savepoint, *sqlparser.SRollback, *sqlparser.Release:
		return nil, unsupported("SAVEPOINT on a sharded keyspace (a transaction there may span shards)")
	case *sqlparser.Show:
		return b.show(st)
	case *sqlparser.ExplainTab:
		return b.anyShard(true), nil
	case *sqlparser.ExplainStmt:
		return b.explain(st)
	case *sqlparser.OtherAdmin:
		return nil, unsupported("this administrative statement on a sharded keyspace; run it on each shard with an explicit target (USE `%s:-80`)", b.ks.Name)
	case *sqlparser.CallProc:
		return nil, unsupported("CALL on a sharded keyspace (a procedure's statements are not routed); call it on one shard with an explicit target")
	case *sqlparser.LockTables, *sqlparser.UnlockTables:
		return nil, unsupported("LOCK TABLES on a sharded keyspace")
	case *sqlparser.Load:
		return nil, unsupported("LOAD DATA on a sharded keyspace (its rows are not routed); load each shard with an explicit target, or use INSERT")
	case *sqlparser.PrepareStmt, *sqlparser.ExecuteStmt, *sqlparser.DeallocateStmt:
		return nil, unsupported("SQL PREPARE/EXECUTE on a sharded keyspace; use the protocol's prepared statements (COM_STMT_PREPARE)")
	case *sqlparser.AlterVschema:
		return nil, unsupported("ALTER VSCHEMA; change the vschema with vtdirect topo apply-vschema")
	case *sqlparser.Flush:
		return &Plan{Kind: KindDDL, Query: b.verbatimText()}, nil
	case sqlparser.DDLStatement:
		return b.ddl(st)
	case *sqlparser.Use:
		return b.anyShard(true), nil
	case *sqlparser.CommentOnly:
		return b.anyShard(true), nil
	}
	return nil, unsupported("%s statements on a sharded keyspace", stmtName(stmt))
}

func stmtName(stmt sqlparser.Statement) string {
	t := strings.TrimPrefix(strings.TrimPrefix(strings.TrimPrefix(typeName(stmt), "*"), "sqlparser."), "sqlparser.")
	return t
}

func typeName(v any) string {
	return strings.TrimPrefix(strings.TrimPrefix(fmtType(v), "*"), "sqlparser.")
}

// verbatimText is the client's statement unchanged.
func (b *builder) verbatimText() Template { return VerbatimTemplate() }

// anyShard runs the client's statement as it is on one shard.
func (b *builder) anyShard(readOnly bool) *Plan {
	return &Plan{Kind: KindAnyShard, ReadOnly: readOnly, Query: b.verbatimText()}
}

func (b *builder) ddl(st sqlparser.DDLStatement) (*Plan, error) {
	for _, t := range st.AffectedTables() {
		if q := t.Qualifier.String(); q != "" && q != b.ks.Name {
			return nil, unsupported("DDL naming keyspace %s on keyspace %s; run it with that keyspace as the target", q, b.ks.Name)
		}
	}
	if b.hasQualifiers(st) {
		return nil, unsupported("DDL with keyspace-qualified names on a sharded keyspace; leave the names unqualified")
	}
	return &Plan{Kind: KindDDL, Query: b.verbatimText()}, nil
}

func (b *builder) explain(st *sqlparser.ExplainStmt) (*Plan, error) {
	inner, err := b.statement(st.Statement)
	if err != nil {
		return nil, err
	}
	if inner.Kind == KindRoute && inner.Route.Opcode != Scatter && inner.Route.Opcode != In {
		// EXPLAIN what that shard would run.
		r := *inner.Route
		r.Query, r.Verbatim = b.verbatimText(), true
		r.Write, r.DML = false, nil
		return &Plan{Kind: KindRoute, ReadOnly: true, Route: &r}, nil
	}
	return b.anyShard(true), nil
}

func (b *builder) show(st *sqlparser.Show) (*Plan, error) {
	basic, ok := st.Internal.(*sqlparser.ShowBasic)
	if !ok {
		return b.anyShard(true), nil
	}
	switch basic.Command {
	case sqlparser.VschemaTables:
		return &Plan{Kind: KindShowVSchema, ReadOnly: true, Show: &ShowVSchema{Tables: true}}, nil
	case sqlparser.VschemaVindexes:
		return &Plan{Kind: KindShowVSchema, ReadOnly: true, Show: &ShowVSchema{Table: basic.Tbl.Name.String(), Keyspace: basic.Tbl.Qualifier.String()}}, nil
	}
	if q := basic.DbName.String(); q != "" && b.vs.Keyspace(q) != nil {
		return nil, unsupported("SHOW ... FROM %s on keyspace %s; make %s the target (USE %s)", q, b.ks.Name, q, q)
	}
	if q := basic.Tbl.Qualifier.String(); q != "" && b.vs.Keyspace(q) != nil {
		return nil, unsupported("SHOW of a table qualified with keyspace %s; leave it unqualified", q)
	}
	return b.anyShard(true), nil
}

// ShowVSchema is SHOW VSCHEMA TABLES (Tables) or SHOW VSCHEMA VINDEXES [ON [ks.]table].
type ShowVSchema struct {
	Tables          bool
	Keyspace, Table string
}

// directives reads the statement's /*vt+ */ comments.
func directives(stmt sqlparser.Statement) Directives {
	var d Directives
	c, ok := stmt.(sqlparser.Commented)
	if !ok {
		return d
	}
	pc := c.GetParsedComments()
	if pc == nil {
		return d
	}
	dir := pc.Directives()
	if v, ok := dir.GetString(sqlparser.DirectiveQueryTimeout, ""); ok {
		if ms, err := strconv.Atoi(v); err == nil && ms > 0 {
			d.QueryTimeout = time.Duration(ms) * time.Millisecond
		}
	}
	d.ScatterErrorsAsWarnings = dir.IsSet(sqlparser.DirectiveScatterErrorsAsWarnings)
	d.MultiShardAutocommit = dir.IsSet(sqlparser.DirectiveMultiShardAutocommit)
	return d
}

// argIndex reads the index of an argument :v<k> (k from 1).
func argIndex(name string) (int, bool) {
	if len(name) < 2 || name[0] != 'v' {
		return 0, false
	}
	n, err := strconv.Atoi(name[1:])
	if err != nil || n < 1 {
		return 0, false
	}
	return n - 1, true
}

// value reads an expression as a value a vindex can map: an argument, a literal, NULL, a
// negated integer literal. ok is false for anything else (a column, a function, 0x..: the
// route then cannot use it).
func (b *builder) value(e sqlparser.Expr) (ValueExpr, bool) {
	switch v := e.(type) {
	case *sqlparser.Argument:
		if i, ok := argIndex(v.Name); ok && i < b.nargs {
			return ValueExpr{Arg: i}, true
		}
	case *sqlparser.Literal:
		switch v.Type {
		case sqlparser.IntVal:
			return ValueExpr{Arg: -1, Const: vindex.Value{Kind: intKind([]byte(v.Val)), Raw: []byte(v.Val)}}, true
		case sqlparser.DecimalVal:
			return ValueExpr{Arg: -1, Const: vindex.Value{Kind: vindex.Decimal, Raw: []byte(v.Val)}}, true
		case sqlparser.FloatVal:
			return ValueExpr{Arg: -1, Const: vindex.Value{Kind: vindex.Float64, Raw: []byte(v.Val)}}, true
		case sqlparser.StrVal:
			return ValueExpr{Arg: -1, Const: vindex.Value{Kind: vindex.VarChar, Raw: []byte(v.Val)}}, true
		}
	case *sqlparser.NullVal:
		return ValueExpr{Arg: -1, Const: vindex.NullValue()}, true
	case sqlparser.BoolVal:
		if v {
			return ValueExpr{Arg: -1, Const: vindex.Int64Value(1)}, true
		}
		return ValueExpr{Arg: -1, Const: vindex.Int64Value(0)}, true
	case *sqlparser.UnaryExpr:
		if lit, ok := v.Expr.(*sqlparser.Literal); ok && v.Operator == sqlparser.UMinusOp && lit.Type == sqlparser.IntVal {
			raw := "-" + lit.Val
			return ValueExpr{Arg: -1, Const: vindex.Value{Kind: intKind([]byte(raw)), Raw: []byte(raw)}}, true
		}
	}
	return ValueExpr{}, false
}

// template renders a node as a statement template: the AST printed by Vitess's formatter,
// arguments becoming holes; keyspace qualifiers are dropped (the shards' databases are
// theirs), LAST_INSERT_ID() becomes the session's value.
func (b *builder) template(node sqlparser.SQLNode) Template {
	node = b.rewriteForShards(node)
	buf := sqlparser.NewTrackedBuffer(b.formatNode)
	buf.Myprintf("%v", node)
	pq := buf.ParsedQuery()
	var t Template
	last := 0
	for _, loc := range pq.BindLocations() {
		if loc.Offset > last {
			t.segs = append(t.segs, b.textSegments(pq.Query[last:loc.Offset])...)
		}
		name := strings.TrimLeft(pq.Query[loc.Offset:loc.Offset+loc.Length], ":")
		t.segs = append(t.segs, holeSegment(name))
		last = loc.Offset + loc.Length
	}
	if last < len(pq.Query) {
		t.segs = append(t.segs, b.textSegments(pq.Query[last:])...)
	}
	return t
}

// textSegments splits printed text at the alias markers.
func (b *builder) textSegments(text string) []segment {
	var out []segment
	for {
		i := strings.Index(text, "`\x01vtdalias")
		if i < 0 {
			if text != "" {
				out = append(out, segment{kind: segText, text: text})
			}
			return out
		}
		end := strings.Index(text[i+len("`\x01vtdalias"):], "\x01`")
		if end < 0 {
			return append(out, segment{kind: segText, text: text})
		}
		n, _ := strconv.Atoi(text[i+len("`\x01vtdalias") : i+len("`\x01vtdalias")+end])
		if i > 0 {
			out = append(out, segment{kind: segText, text: text[:i]})
		}
		out = append(out, segment{kind: segAlias, sub: b.aliases[n]})
		text = text[i+len("`\x01vtdalias")+end+len("\x01`"):]
	}
}

// Names of the holes the planner puts in ASTs besides the statement's arguments.
const (
	argLastInsertID = "vtd_last_insert_id"
	argSeq          = "vtd_seq"
	argLimitPrefix  = "vtd_limit_" // vtd_limit_<offset arg or x>_<count arg>
)

func holeSegment(name string) segment {
	switch {
	case name == argLastInsertID:
		return segment{kind: segLastInsertID}
	case strings.HasPrefix(name, argSeq+"_"):
		// The row's sequence value where it fills the column, else the argument's text.
		a, err := strconv.Atoi(strings.TrimPrefix(name, argSeq+"_"))
		if err != nil {
			a = -1
		}
		return segment{kind: segSeq, arg: a}
	case name == "vtd_rows":
		return segment{kind: segArg, arg: -1}
	case strings.HasPrefix(name, argLimitPrefix):
		off, count, _ := strings.Cut(strings.TrimPrefix(name, argLimitPrefix), "_")
		o, err := strconv.Atoi(off)
		if err != nil {
			o = -1
		}
		c, _ := strconv.Atoi(count)
		return segment{kind: segLimitSum, arg: o, arg2: c}
	}
	i, _ := argIndex(name)
	return segment{kind: segArg, arg: i}
}

// formatNode prints string constants so that they mean the same whatever the session's
// sql_mode (Vitess's formatter uses backslash escapes).
func (b *builder) formatNode(buf *sqlparser.TrackedBuffer, node sqlparser.SQLNode) {
	if lit, ok := node.(*sqlparser.Literal); ok && lit.Type == sqlparser.StrVal {
		buf.WriteString(quoteString(lit.Val, b.noBackslash))
		return
	}
	node.Format(buf)
}

// quoteString quotes s as a string literal: quotes doubled, backslashes doubled unless the
// session reads them as ordinary characters.
func quoteString(s string, noBackslash bool) string {
	var sb strings.Builder
	sb.WriteByte('\'')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\'':
			sb.WriteString("''")
		case c == '\\' && !noBackslash:
			sb.WriteString(`\\`)
		default:
			sb.WriteByte(c)
		}
	}
	sb.WriteByte('\'')
	return sb.String()
}

// rewriteForShards drops keyspace qualifiers and replaces LAST_INSERT_ID() (on a copy).
func (b *builder) rewriteForShards(node sqlparser.SQLNode) sqlparser.SQLNode {
	node = sqlparser.CloneSQLNode(node)
	return sqlparser.Rewrite(node, func(c *sqlparser.Cursor) bool {
		switch n := c.Node().(type) {
		case sqlparser.TableName:
			if q := n.Qualifier.String(); q != "" && b.vs.Keyspace(q) != nil {
				c.Replace(sqlparser.TableName{Name: n.Name})
			}
		case *sqlparser.FuncExpr:
			if n.Name.Lowered() == "last_insert_id" && len(n.Exprs) == 0 {
				c.Replace(sqlparser.NewArgument(argLastInsertID))
			}
		}
		return true
	}, nil)
}

// hasQualifiers reports a keyspace-qualified name or LAST_INSERT_ID() in node: the shards
// cannot get the statement as written.
func (b *builder) hasQualifiers(node sqlparser.SQLNode) bool {
	found := false
	_ = sqlparser.Walk(func(n sqlparser.SQLNode) (bool, error) {
		switch n := n.(type) {
		case sqlparser.TableName:
			if q := n.Qualifier.String(); q != "" && b.vs.Keyspace(q) != nil {
				found = true
			}
		case *sqlparser.FuncExpr:
			if n.Name.Lowered() == "last_insert_id" && len(n.Exprs) == 0 {
				found = true
			}
		}
		return !found, nil
	}, node)
	return found
}

package planner

import (
	"strconv"
	"strings"

	"vitess.io/vitess/go/vt/sqlparser"

	"github.com/vtdirect/vtdirect/vindex"
	"github.com/vtdirect/vtdirect/vschema"
)

// Insert is an INSERT (or REPLACE) into a sharded table: its rows are split by the keyspace
// id of their primary vindex column, one statement per shard.
type Insert struct {
	Table *vschema.Table
	// Prefix is "insert into t(cols) values ", Rows each row's "(...)", Suffix the ON
	// DUPLICATE KEY UPDATE clause (or empty): a shard's statement is Prefix, its rows joined
	// by ", ", Suffix.
	Prefix, Suffix Template
	Rows           []Template
	// Vindex computes the keyspace id of each row from Values (the row's primary vindex
	// column); FromSeq[i]: row i's primary vindex column is its sequence value.
	Vindex  vindex.Hashing
	Values  []ValueExpr
	FromSeq []bool
	// AutoInc fills a column from a sequence, or is nil.
	AutoInc *AutoInc
	// Lookups are the owned lookup vindexes to create rows in, one value per row.
	Lookups []InsertLookup
	// Ignore: INSERT IGNORE (lookups are created ignoring duplicates too).
	Ignore bool
	// Verbatim: when every row goes to one shard and no value is generated, the shard may
	// get the client's statement as written.
	Verbatim bool
}

// AutoInc is a column an insert fills from a sequence: in each row whose value is NULL (or
// 0, unless sql_mode has NO_AUTO_VALUE_ON_ZERO), or in every row when the statement does not
// name the column.
type AutoInc struct {
	Sequence *vschema.Table
	Column   string
	// Values are the rows' values; Missing: the statement did not name the column (the
	// gateway added it).
	Values  []ValueExpr
	Missing bool
}

// InsertLookup is an owned lookup vindex an insert creates rows in.
type InsertLookup struct {
	Column string
	Vindex *vindex.Lookup
	Values []ValueExpr
}

func (b *builder) insert(st *sqlparser.Insert) (*Plan, error) {
	tn, ok := st.Table.Expr.(sqlparser.TableName)
	if !ok {
		return nil, unsupported("INSERT into a derived table")
	}
	ref, err := b.resolveTable(tn)
	if err != nil {
		return nil, err
	}
	ref.name = tn.Name.String()
	if r, err := b.writeTarget(ref, "INSERT"); r != nil || err != nil {
		if err != nil {
			return nil, err
		}
		if containsSubquery(st) {
			return nil, unsupported("INSERT with a subquery or SELECT on a sharded keyspace")
		}
		r.Query = b.template(b.renameToSource(st, ref, r))
		return &Plan{Kind: KindRoute, Route: r}, nil
	}
	t := ref.table
	rows, ok := st.Rows.(sqlparser.Values)
	if !ok {
		return nil, unsupported("INSERT ... SELECT into sharded table %s (its rows would have to be routed one by one); insert the values", t.Name)
	}
	if containsSubquery(st) {
		return nil, unsupported("INSERT with a subquery into sharded table %s", t.Name)
	}
	cols := make([]string, len(st.Columns))
	for i, c := range st.Columns {
		cols[i] = c.String()
	}
	if len(cols) == 0 {
		if !t.ColumnListAuthoritative || len(t.Columns) == 0 {
			return nil, unsupported("INSERT without a column list into sharded table %s; name the columns (INSERT INTO %s (col, ...) VALUES ...)", t.Name, t.Name)
		}
		cols = t.Columns
	}
	for i, row := range rows {
		if len(row) != len(cols) {
			return nil, unsupported("INSERT row %d has %d values for %d columns", i+1, len(row), len(cols))
		}
	}
	st = sqlparser.CloneRefOfInsert(st)
	rows = st.Rows.(sqlparser.Values)
	ins := &Insert{Table: t, Ignore: bool(st.Ignore), Verbatim: !b.hasQualifiers(st) && len(st.Columns) > 0}
	pv := t.Primary()
	pvCol := indexFold(cols, pv.Column)
	h, ok := pv.Vindex.(vindex.Hashing)
	if !ok {
		return nil, unsupported("INSERT into %s: its primary vindex %s does not compute keyspace ids", t.Name, pv.Vindex.Name())
	}
	ins.Vindex = h

	// The sequence-filled column.
	aiCol := -1
	if ai := t.AutoIncrement; ai != nil {
		ins.AutoInc = &AutoInc{Sequence: ai.Sequence, Column: ai.Column}
		aiCol = indexFold(cols, ai.Column)
		if aiCol < 0 {
			ins.AutoInc.Missing = true
			st.Columns = append(st.Columns, sqlparser.NewIdentifierCI(ai.Column))
			aiCol = len(st.Columns) - 1
			for i := range rows {
				rows[i] = append(rows[i], sqlparser.NewArgument(argSeq+"_x"))
			}
			ins.Verbatim = false
		} else {
			for i, row := range rows {
				v, ok := b.value(row[aiCol])
				if !ok {
					return nil, unsupported("INSERT into %s: the value of column %s (filled by sequence %s) is an expression; give a number or NULL", t.Name, ai.Column, ai.Sequence.Name)
				}
				ins.AutoInc.Values = append(ins.AutoInc.Values, v)
				name := argSeq + "_x"
				if v.Arg >= 0 {
					name = argSeq + "_" + strconv.Itoa(v.Arg)
				} else if !v.Const.IsNull() && string(v.Const.Raw) != "0" {
					continue // a constant that needs no value
				}
				rows[i][aiCol] = sqlparser.NewArgument(name)
			}
		}
	}
	if pvCol < 0 && (aiCol < 0 || !equalFold(t.AutoIncrement.Column, pv.Column)) {
		return nil, unsupported("INSERT into sharded table %s without its primary vindex column %s", t.Name, pv.Column)
	}
	for i, row := range rows {
		if pvCol >= 0 && !(pvCol == aiCol && ins.AutoInc != nil) {
			v, ok := b.value(row[pvCol])
			if !ok {
				return nil, unsupported("INSERT into %s: the value of primary vindex column %s is an expression; give a value (the gateway computes its shard)", t.Name, pv.Column)
			}
			ins.Values = append(ins.Values, v)
			ins.FromSeq = append(ins.FromSeq, false)
			continue
		}
		ins.Values = append(ins.Values, ValueExpr{Arg: -1})
		ins.FromSeq = append(ins.FromSeq, true)
		_ = i
	}
	if ins.AutoInc != nil && aiCol == pvCol && !ins.AutoInc.Missing {
		// The primary vindex column is filled by the sequence where NULL (or 0): decided per
		// row when the values are known.
		for i := range ins.Values {
			ins.Values[i] = ins.AutoInc.Values[i]
		}
	}

	// Owned lookups.
	for _, cv := range t.ColumnVindexes[1:] {
		l, ok := cv.Vindex.(*vindex.Lookup)
		if !ok || !cv.Owned {
			continue
		}
		c := indexFold(cols, cv.Column)
		il := InsertLookup{Column: cv.Column, Vindex: l}
		for _, row := range rows {
			if c < 0 {
				il.Values = append(il.Values, ValueExpr{Arg: -1, Const: vindex.NullValue()})
				continue
			}
			v, ok := b.value(row[c])
			if !ok {
				return nil, unsupported("INSERT into %s: the value of lookup vindex column %s is an expression; give a value", t.Name, cv.Column)
			}
			il.Values = append(il.Values, v)
		}
		ins.Lookups = append(ins.Lookups, il)
	}
	for _, ue := range st.OnDup {
		col := ue.Name.Name.String()
		if equalFold(col, pv.Column) {
			return nil, unsupported("INSERT ... ON DUPLICATE KEY UPDATE of the primary vindex column %s", col)
		}
		for _, l := range ins.Lookups {
			if equalFold(col, l.Column) {
				return nil, unsupported("INSERT ... ON DUPLICATE KEY UPDATE of lookup vindex column %s", col)
			}
		}
	}

	// The templates: the statement with one marker row splits into prefix and suffix.
	for _, row := range rows {
		ins.Rows = append(ins.Rows, b.template(row))
	}
	marker := sqlparser.CloneRefOfInsert(st)
	marker.Rows = sqlparser.Values{sqlparser.ValTuple{sqlparser.NewArgument("vtd_rows")}}
	whole := b.template(marker)
	for i, s := range whole.segs {
		if s.kind == segArg && s.arg == -1 {
			ins.Prefix = Template{segs: whole.segs[:i]}
			ins.Suffix = Template{segs: whole.segs[i+1:]}
		}
	}
	trimTemplate(&ins.Prefix, "(", true)
	trimTemplate(&ins.Suffix, ")", false)
	return &Plan{Kind: KindInsert, Insert: ins}, nil
}

// trimTemplate drops a suffix (or prefix) text from a template's last (first) segment.
func trimTemplate(t *Template, s string, suffix bool) {
	if len(t.segs) == 0 {
		return
	}
	if suffix {
		last := &t.segs[len(t.segs)-1]
		if last.kind == segText {
			last.text = strings.TrimSuffix(last.text, s)
		}
		return
	}
	first := &t.segs[0]
	if first.kind == segText {
		first.text = strings.TrimPrefix(first.text, s)
	}
}

func indexFold(cols []string, name string) int {
	for i, c := range cols {
		if equalFold(c, name) {
			return i
		}
	}
	return -1
}

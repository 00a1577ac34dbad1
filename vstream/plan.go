package vstream

import (
	"context"
	"fmt"

	"github.com/go-mysql-org/go-mysql/replication"
	binlogdatapb "vitess.io/vitess/go/vt/proto/binlogdata"
	querypb "vitess.io/vitess/go/vt/proto/query"
	vtrpcpb "vitess.io/vitess/go/vt/proto/vtrpc"
)

// tablePlan is how one streamed table is sent: which source columns, under which names.
type tablePlan struct {
	meta       *tableMeta
	cols       []int // source column index of each output column
	fieldEvent *binlogdatapb.FieldEvent
	pkFields   []*querypb.Field // for LASTPK results
}

// plan returns the plan of table, or nil when the filter does not stream it. Plans are cached
// until the next DDL.
func (s *shardStream) plan(ctx context.Context, table string) (*tablePlan, error) {
	if p, ok := s.plans[table]; ok {
		return p, nil
	}
	r := s.filter.match(table)
	if r == nil {
		s.plans[table] = nil
		return nil, nil
	}
	meta, err := s.schema.table(ctx, table)
	if err != nil {
		return nil, err
	}
	if meta == nil {
		s.plans[table] = nil
		return nil, nil
	}
	p, err := buildPlan(meta, r, s.tableName(table), s.ks, s.shard)
	if err != nil {
		return nil, err
	}
	s.plans[table] = p
	return p, nil
}

func buildPlan(meta *tableMeta, r *rule, outName, ks, shard string) (*tablePlan, error) {
	p := &tablePlan{meta: meta}
	var fields []*querypb.Field
	if r.cols == nil {
		for i := range meta.Columns {
			p.cols = append(p.cols, i)
			fields = append(fields, meta.Columns[i].Field)
		}
	} else {
		for _, pr := range r.cols {
			idx := -1
			for i, c := range meta.Columns {
				if equalFoldASCII(c.Name, pr.name) {
					idx = i
					break
				}
			}
			if idx < 0 {
				return nil, &FilterError{Rule: fmt.Sprintf("select from %s", meta.Name), Reason: fmt.Sprintf("column %q does not exist", pr.name)}
			}
			f := meta.Columns[idx].Field.CloneVT()
			f.Name = pr.as
			p.cols = append(p.cols, idx)
			fields = append(fields, f)
		}
	}
	for _, i := range meta.PK {
		c := meta.Columns[i].Field
		p.pkFields = append(p.pkFields, &querypb.Field{Name: c.Name, Type: c.Type, Charset: c.Charset, Flags: c.Flags})
	}
	p.fieldEvent = &binlogdatapb.FieldEvent{
		TableName:           outName,
		Fields:              fields,
		Keyspace:            ks,
		Shard:               shard,
		EnumSetStringValues: true,
	}
	return p, nil
}

func equalFoldASCII(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if x|0x20 != y|0x20 || (x|0x20 < 'a' || x|0x20 > 'z') && x != y {
			return false
		}
	}
	return true
}

// binlogPlan is the plan of a table as its last TABLE_MAP event described it.
type binlogPlan struct {
	tm   *replication.TableMapEvent
	plan *tablePlan // nil: the filter does not stream the table
}

// rowPlan returns the plan that decodes the rows following TABLE_MAP event tm, or nil when the
// table is not streamed. With full row metadata the plan comes from tm itself (the shape the
// rows were written with); otherwise from the schema the stream knows for the position (see
// shapeFor), checked against tm's column types.
func (s *shardStream) rowPlan(ctx context.Context, tm *replication.TableMapEvent) (*tablePlan, error) {
	if bp, ok := s.tmPlans[string(tm.Table)]; ok && sameTableMap(bp.tm, tm) { // no string allocated
		return bp.plan, nil
	}
	name := string(tm.Table)
	r := s.filter.match(name)
	if r == nil {
		s.tmPlans[name] = binlogPlan{tm: tm}
		return nil, nil
	}
	var def *tableDef
	var err error
	if hasFullMetadata(tm) {
		def, err = defFromTableMap(tm, s.schema.maxLen(ctx))
	} else {
		def, err = s.shapeFor(ctx, tm)
	}
	if err != nil || def == nil {
		return nil, err
	}
	if bp, ok := s.tmPlans[name]; ok && bp.plan != nil && bp.plan.meta.def.equal(def) {
		s.tmPlans[name] = binlogPlan{tm: tm, plan: bp.plan}
		return bp.plan, nil
	}
	p, err := buildPlan(def.meta(s.src.DBName), r, s.tableName(name), s.ks, s.shard)
	if err != nil {
		return nil, err
	}
	s.tmPlans[name] = binlogPlan{tm: tm, plan: p}
	return p, nil
}

// shapeFor returns the shape of the table of tm (a TABLE_MAP event without column names) at
// the stream's position, from the schema history, checked against tm's column types. A
// position the history does not cover fails with FAILED_PRECONDITION, saying how to fix the
// source: the table's current definition could label values with the wrong columns.
func (s *shardStream) shapeFor(ctx context.Context, tm *replication.TableMapEvent) (*tableDef, error) {
	name := string(tm.Table)
	def, err := s.historyShape(ctx, name)
	if err != nil {
		return nil, err
	}
	if !matchesTableMap(def, tm) {
		return nil, s.shapeUnknown(name, fmt.Sprintf("its rows have %d columns of other types than the %d columns the schema history gives", tm.ColumnCount, len(def.Columns)))
	}
	return def, nil
}

// shapeUnknown is the error for a row whose table shape the stream cannot know.
func (s *shardStream) shapeUnknown(table, why string) error {
	return &Error{Code: vtrpcpb.Code_FAILED_PRECONDITION, Err: fmt.Errorf(
		"vtdirect: cannot decode rows of %s.%s at position %s on %s: %s; the source logs no column names "+
			"(binlog_row_metadata=%s) and no schema history covers the position: set binlog_row_metadata=FULL on every "+
			"server of the shard (SET GLOBAL binlog_row_metadata = FULL, and in the option file), then stream from a "+
			"position written after that, or copy the tables again (empty position)",
		s.src.DBName, table, s.pos, s.src.Alias, why, orNone(s.source.Settings.RowMetadata))}
}

func orNone(v string) string {
	if v == "" {
		return "unavailable"
	}
	return v
}

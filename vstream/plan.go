package vstream

import (
	"context"
	"fmt"

	binlogdatapb "vitess.io/vitess/go/vt/proto/binlogdata"
	querypb "vitess.io/vitess/go/vt/proto/query"
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

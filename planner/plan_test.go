package planner

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	vschemapb "vitess.io/vitess/go/vt/proto/vschema"

	"github.com/vtdirect/vtdirect/vschema"
)

var update = flag.Bool("update", false, "rewrite testdata/*.txt with the plans as they are now")

const testCustomer = `{
  "sharded": true,
  "vindexes": {
    "hash": {"type": "hash"},
    "xx": {"type": "xxhash"},
    "email_lookup": {"type": "consistent_lookup_unique", "params": {"table": "commerce.customer_email_lookup", "from": "email", "to": "keyspace_id"}, "owner": "customer"}
  },
  "tables": {
    "customer": {
      "column_vindexes": [{"column": "customer_id", "name": "hash"}, {"column": "email", "name": "email_lookup"}],
      "auto_increment": {"column": "customer_id", "sequence": "commerce.customer_seq"}
    },
    "corder": {"column_vindexes": [{"column": "customer_id", "name": "hash"}], "auto_increment": {"column": "order_id", "sequence": "commerce.corder_seq"}},
    "tag": {"column_vindexes": [{"column": "name", "name": "xx"}]},
    "product": {"type": "reference", "source": "commerce.product"},
    "zone": {"type": "reference"}
  }
}`

const testCommerce = `{"tables": {"customer_seq": {"type": "sequence"}, "corder_seq": {"type": "sequence"}, "product": {}, "customer_email_lookup": {}}}`

func testVSchema(t testing.TB) *vschema.VSchema {
	src := map[string]*vschemapb.Keyspace{}
	for ks, js := range map[string]string{"customer": testCustomer, "commerce": testCommerce} {
		pb, err := vschema.Parse([]byte(js))
		if err != nil {
			t.Fatal(err)
		}
		src[ks] = pb
	}
	vs := vschema.Build(src)
	if err := vs.Keyspace("customer").Err; err != nil {
		t.Fatal(err)
	}
	return vs
}

// describe prints a plan for the golden files.
func describe(p *Plan, lits []Literal) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s", p.Kind)
	if p.Kind == KindRefused {
		fmt.Fprintf(&b, " %v", p.Err)
		return b.String()
	}
	if !p.ReadOnly {
		b.WriteString(" write")
	}
	if r := p.Route; r != nil {
		fmt.Fprintf(&b, " %s %s", r.Opcode, r.Keyspace.Name)
		if r.Vindex != nil {
			fmt.Fprintf(&b, " vindex=%s", r.Vindex.Name())
			for _, v := range r.Values {
				fmt.Fprintf(&b, " %s", valueString(v, lits))
			}
		}
		if r.Verbatim {
			b.WriteString(" verbatim")
		} else {
			fmt.Fprintf(&b, "\n  shards: %s", r.Query.String())
		}
		if r.DML != nil {
			fmt.Fprintf(&b, "\n  lookups:")
			for _, l := range r.DML.Lookups {
				fmt.Fprintf(&b, " %s", l.Vindex.Name())
				if l.New != nil {
					fmt.Fprintf(&b, "=%s", valueString(*l.New, lits))
				}
			}
			fmt.Fprintf(&b, "\n  select: %s", r.DML.Select.String())
		}
	}
	if m := p.Merge; m != nil {
		fmt.Fprintf(&b, "\n  merge: visible=%d star=%v order=%v grouped=%v keys=%d", m.Visible, m.Star, keys(m.Order), m.Grouped, m.GroupKeys)
		if m.Grouped {
			var aggs []string
			for _, a := range m.Aggs {
				s := fmt.Sprintf("%d:%s", a.Col, a.Op)
				if a.Weight != NoColumn {
					s += fmt.Sprintf("/w%d", a.Weight)
				}
				if a.Count != NoColumn {
					s += fmt.Sprintf("/c%d", a.Count)
				}
				aggs = append(aggs, s)
			}
			fmt.Fprintf(&b, " aggs=[%s]", strings.Join(aggs, " "))
		}
		if m.Having != nil {
			fmt.Fprintf(&b, " having=%+v", m.Having)
		}
		if m.PostOrder != nil {
			fmt.Fprintf(&b, " post=%v", keys(m.PostOrder))
		}
		if m.Limit != nil {
			fmt.Fprintf(&b, " limit=%s", valueString(*m.Limit, lits))
		}
		if m.Offset != nil {
			fmt.Fprintf(&b, " offset=%s", valueString(*m.Offset, lits))
		}
	}
	if in := p.Insert; in != nil {
		fmt.Fprintf(&b, " %s vindex=%s verbatim=%v", in.Table.Name, in.Vindex.Name(), in.Verbatim)
		for i, v := range in.Values {
			if in.FromSeq[i] {
				fmt.Fprintf(&b, " seq")
				if v.Arg >= 0 || v.Const.Kind != 0 || len(v.Const.Raw) > 0 {
					fmt.Fprintf(&b, "|%s", valueString(v, lits))
				}
			} else {
				fmt.Fprintf(&b, " %s", valueString(v, lits))
			}
		}
		if in.AutoInc != nil {
			fmt.Fprintf(&b, "\n  autoinc: %s from %s missing=%v", in.AutoInc.Column, in.AutoInc.Sequence.QualifiedName(), in.AutoInc.Missing)
		}
		for _, l := range in.Lookups {
			fmt.Fprintf(&b, "\n  lookup %s:", l.Vindex.Name())
			for _, v := range l.Values {
				fmt.Fprintf(&b, " %s", valueString(v, lits))
			}
		}
		fmt.Fprintf(&b, "\n  prefix: %s|", in.Prefix.String())
		for _, r := range in.Rows {
			fmt.Fprintf(&b, "\n  row: %s", r.String())
		}
		fmt.Fprintf(&b, "\n  suffix: |%s|", in.Suffix.String())
	}
	if s := p.Set; s != nil {
		fmt.Fprintf(&b, " mode=%q forward=%v %s", s.TransactionMode, s.Forward, p.Query.String())
	}
	if p.Kind == KindAnyShard || p.Kind == KindDDL {
		fmt.Fprintf(&b, " %s", p.Query.String())
	}
	if p.Show != nil {
		fmt.Fprintf(&b, " %+v", *p.Show)
	}
	if p.Next != nil {
		fmt.Fprintf(&b, " %s count=%s", p.Next.Sequence.QualifiedName(), valueString(p.Next.Count, lits))
	}
	if p.Kind == KindLastInsertID {
		fmt.Fprintf(&b, " name=%q", p.Name)
	}
	d := p.Directives
	if d.QueryTimeout != 0 || d.ScatterErrorsAsWarnings || d.MultiShardAutocommit {
		fmt.Fprintf(&b, "\n  directives: %+v", d)
	}
	return b.String()
}

func keys(ks []SortKey) string {
	var out []string
	for _, k := range ks {
		s := fmt.Sprintf("%d", k.Col)
		if k.Weight != NoColumn {
			s += fmt.Sprintf("/w%d", k.Weight)
		}
		if k.Desc {
			s += " desc"
		}
		out = append(out, s)
	}
	return "[" + strings.Join(out, ",") + "]"
}

func valueString(v ValueExpr, lits []Literal) string {
	if v.Arg >= 0 {
		if v.Arg < len(lits) {
			return fmt.Sprintf(":v%d(%s)", v.Arg+1, lits[v.Arg].Value)
		}
		return fmt.Sprintf(":v%d", v.Arg+1)
	}
	return v.Const.String()
}

// TestPlans plans the statements of testdata/plans.txt and compares with the plans recorded
// there (go test ./planner -run TestPlans -update rewrites them).
func TestPlans(t *testing.T) {
	vs := testVSchema(t)
	p, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join("testdata", "plans.txt")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	var s Scratch
	failed := false
	for _, block := range strings.Split(strings.TrimSpace(string(data)), "\n\n") {
		lines := strings.SplitN(block, "\n", 2)
		q := strings.TrimPrefix(lines[0], "> ")
		want := ""
		if len(lines) > 1 {
			want = lines[1]
		}
		plan, lits := p.Plan(vs, &Request{Keyspace: "customer", Query: []byte(q)}, &s)
		got := describe(plan, lits)
		if got != want && !*update {
			t.Errorf("%s\n got: %s\nwant: %s", q, got, want)
			failed = true
		}
		fmt.Fprintf(&out, "> %s\n%s\n\n", q, got)
	}
	if *update {
		if err := os.WriteFile(path, []byte(strings.TrimSpace(out.String())+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	_ = failed
}

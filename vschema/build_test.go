package vschema

import (
	"strings"
	"testing"

	vschemapb "vitess.io/vitess/go/vt/proto/vschema"

	"github.com/vtdirect/vtdirect/vindex"
)

const customerJSON = `{
  "sharded": true,
  "vindexes": {
    "hash": {"type": "hash"},
    "email_lookup": {"type": "consistent_lookup_unique", "params": {"table": "commerce.customer_email_lookup", "from": "email", "to": "keyspace_id"}, "owner": "customer"}
  },
  "tables": {
    "customer": {
      "column_vindexes": [{"column": "customer_id", "name": "hash"}, {"column": "email", "name": "email_lookup"}],
      "auto_increment": {"column": "customer_id", "sequence": "commerce.customer_seq"}
    },
    "corder": {"column_vindexes": [{"column": "customer_id", "name": "hash"}], "auto_increment": {"column": "order_id", "sequence": "corder_seq"}},
    "product": {"type": "reference", "source": "commerce.product"},
    "zone": {"type": "reference"},
    "pinned_t": {"pinned": "80"}
  }
}`

const commerceJSON = `{"tables": {"customer_seq": {"type": "sequence"}, "corder_seq": {"type": "sequence"}, "product": {}, "customer_email_lookup": {}}}`

func mustParse(t *testing.T, s string) *vschemapb.Keyspace {
	t.Helper()
	pb, err := Parse([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return pb
}

func TestBuild(t *testing.T) {
	vs := Build(map[string]*vschemapb.Keyspace{"customer": mustParse(t, customerJSON), "commerce": mustParse(t, commerceJSON)})
	ks := vs.Keyspace("customer")
	if ks.Err != nil {
		t.Fatal(ks.Err)
	}
	if !vs.Sharded("customer") || vs.Sharded("commerce") || vs.Sharded("nope") {
		t.Error("sharded flags wrong")
	}
	c := ks.Table("customer")
	if c.Primary().Column != "customer_id" || c.Primary().Vindex.Type() != "hash" {
		t.Errorf("primary: %+v", c.Primary())
	}
	if cv := c.ColumnVindex("EMAIL"); cv == nil || !cv.Owned || cv.Vindex.(*vindex.Lookup).To != "keyspace_id" {
		t.Errorf("email vindex: %+v", cv)
	}
	if c.AutoIncrement.Sequence.QualifiedName() != "commerce.customer_seq" {
		t.Errorf("sequence: %v", c.AutoIncrement.Sequence.QualifiedName())
	}
	if ks.Table("corder").AutoIncrement.Sequence.QualifiedName() != "commerce.corder_seq" {
		t.Error("an unqualified sequence was not found in the only keyspace that has it")
	}
	if p := ks.Table("product"); p.Type != TypeReference || p.Source.QualifiedName() != "commerce.product" {
		t.Errorf("reference: %+v", p)
	}
	if ks.Table("zone").Source != nil || string(ks.Table("pinned_t").Pinned) != "\x80" {
		t.Error("reference without source or pinned table wrong")
	}
}

func TestBuildErrors(t *testing.T) {
	commerce := mustParse(t, commerceJSON)
	cases := []struct{ json, want string }{
		{`{"sharded": true, "tables": {"t": {}}}`, `table "t": column_vindexes: a table of a sharded keyspace needs a primary vindex`},
		{`{"sharded": true, "tables": {"t": {"column_vindexes": [{"column": "id", "name": "hsh"}]}}}`, `table "t": column_vindexes[0].name: vindex "hsh" is not defined`},
		{`{"sharded": true, "vindexes": {"v": {"type": "lookup_hash"}}}`, `vindex "v": type: vindex type "lookup_hash" is not supported`},
		{`{"sharded": true, "vindexes": {"v": {}}}`, `vindex "v": type: missing`},
		{`{"sharded": true, "vindexes": {"v": {"type": "hash", "params": {"x": "1"}}}}`, `vindex "v": params: unknown param(s) x`},
		{`{"sharded": true, "vindexes": {"v": {"type": "consistent_lookup_unique", "params": {"table": "t"}}}}`, `vindex "v": params: vindex v: consistent_lookup_unique needs the param "from"`},
		{`{"vindexes": {"v": {"type": "hash"}}}`, `vindex "v": an unsharded keyspace has no vindexes`},
		{`{"sharded": true, "vindexes": {"h": {"type": "hash"}}, "tables": {"t": {"column_vindexes": [{"columns": ["a", "b"], "name": "h"}]}}}`, `column_vindexes[0].columns: multi-column vindexes are not supported`},
		{`{"sharded": true, "vindexes": {"h": {"type": "hash"}}, "tables": {"t": {"column_vindexes": [{"name": "h"}]}}}`, `column_vindexes[0].column: missing`},
		{`{"sharded": true, "vindexes": {"h": {"type": "hash"}}, "tables": {"t": {"type": "sequence"}}}`, `table "t": type: a sequence table must be in an unsharded keyspace`},
		{`{"tables": {"t": {"type": "view"}}}`, `table "t": type: "view" is not a table type`},
		{`{"sharded": true, "vindexes": {"h": {"type": "hash"}}, "tables": {"t": {"column_vindexes": [{"column": "id", "name": "h"}], "auto_increment": {"column": "id", "sequence": "commerce.nope"}}}}`, `auto_increment.sequence: table "nope" is not in the vschema of keyspace commerce`},
		{`{"sharded": true, "vindexes": {"h": {"type": "hash"}}, "tables": {"t": {"column_vindexes": [{"column": "id", "name": "h"}], "auto_increment": {"column": "id", "sequence": "commerce.product"}}}}`, `table commerce.product is not a sequence`},
		{`{"sharded": true, "vindexes": {"h": {"type": "hash"}}, "tables": {"t": {"column_vindexes": [{"column": "id", "name": "h"}], "auto_increment": {"column": "id"}}}}`, `auto_increment.sequence: missing`},
		{`{"sharded": true, "tables": {"r": {"type": "reference", "source": "other.r"}}}`, `table "r": source: keyspace "other" of "other.r" has no vschema`},
		{`{"sharded": true, "tables": {"r": {"source": "commerce.product"}}}`, `source: only a reference table has a source`},
		{`{"sharded": true, "vindexes": {"h": {"type": "hash", "owner": "t"}}, "tables": {"t": {"column_vindexes": [{"column": "id", "name": "h"}]}, "u": {"column_vindexes": [{"column": "id", "name": "h"}]}}}`, ``},
		{`{"sharded": true, "vindexes": {"h": {"type": "hash", "owner": "x"}}, "tables": {"t": {"column_vindexes": [{"column": "id", "name": "h"}]}}}`, `vindex "h": owner: table "x" is not in the keyspace's tables`},
		{`{"sharded": true, "vindexes": {"h": {"type": "hash"}, "l": {"type": "consistent_lookup_unique", "params": {"table": "commerce.l", "from": "a", "to": "k"}}}, "tables": {"t": {"column_vindexes": [{"column": "a", "name": "l"}]}}}`, `a lookup vindex ("l") cannot be the primary vindex`},
		{`{"sharded": true, "vindexes": {"h": {"type": "hash"}, "l": {"type": "consistent_lookup_unique", "params": {"table": "nope.l", "from": "a", "to": "k"}}}, "tables": {"t": {"column_vindexes": [{"column": "id", "name": "h"}, {"column": "a", "name": "l"}]}}}`, `vindex "l": params.table: keyspace "nope" of lookup table "nope.l" has no vschema`},
		{`{"sharded": true, "tables": {"t": {"pinned": "zz"}}}`, `table "t": pinned: "zz" is not a hex keyspace id`},
	}
	for _, c := range cases {
		pb, err := Parse([]byte(c.json))
		if err != nil {
			t.Fatalf("%s: %v", c.json, err)
		}
		err = Check("ks", pb, map[string]*vschemapb.Keyspace{"commerce": commerce})
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%s: %v", c.json, err)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
			t.Errorf("%s:\n got %v\nwant ...%s...", c.json, err, c.want)
		case err != nil && !strings.HasPrefix(err.Error(), "vschema of keyspace ks: "):
			t.Errorf("error does not name the keyspace: %v", err)
		}
	}
}

func TestParse(t *testing.T) {
	for _, bad := range []string{``, `{`, `{"shardedd": true}`, `{"tables": {"t": {"colum_vindexes": []}}}`, `[]`} {
		if _, err := Parse([]byte(bad)); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	_, err := Parse([]byte(`{"tables": {"t": {"colum_vindexes": []}}}`))
	if !strings.Contains(err.Error(), `colum_vindexes`) {
		t.Errorf("error does not name the unknown field: %v", err)
	}
	pb := mustParse(t, customerJSON)
	out, err := Format(pb)
	if err != nil {
		t.Fatal(err)
	}
	if back := mustParse(t, string(out)); len(back.Tables) != len(pb.Tables) || !back.Sharded {
		t.Errorf("Format does not read back: %s", out)
	}
}

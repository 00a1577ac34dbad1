package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vtdirect/vtdirect/local"
)

func TestApplyVSchema(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	e, err := local.StartEtcd(t.TempDir(), 0, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	addr := e.Endpoint()
	dir := t.TempDir()
	file := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good := file("customer.json", `{"sharded": true, "vindexes": {"hash": {"type": "hash"}},
	  "tables": {"customer": {"column_vindexes": [{"column": "id", "name": "hash"}],
	    "auto_increment": {"column": "id", "sequence": "commerce.customer_seq"}}}}`)
	steps := []struct {
		args             []string
		wantErr, wantOut string
	}{
		{[]string{"add-keyspace", "commerce"}, "", ""},
		{[]string{"add-keyspace", "customer"}, "", ""},
		{[]string{"apply-vschema", "customer", good}, `auto_increment.sequence: table "customer_seq" is not in the vschema of keyspace commerce; nothing was written`, ""},
		{[]string{"apply-vschema", "commerce", "--vschema", `{"tables": {"customer_seq": {"type": "sequence"}}}`}, "", "applied the vschema of keyspace commerce"},
		{[]string{"apply-vschema", "customer", good, "--dry-run"}, "", "valid (dry run"},
		{[]string{"get-vschema", "customer"}, "", "{"},
		{[]string{"apply-vschema", "customer", good}, "", "applied the vschema of keyspace customer (1 vindexes, 1 tables, sharded: true)"},
		{[]string{"get-vschema", "customer"}, "", `"sequence": "commerce.customer_seq"`},
		{[]string{"apply-vschema", "customer", file("bad.json", `{"sharded": true, "tables": {"t": {"colum_vindexes": []}}}`)}, `unknown field "colum_vindexes"`, ""},
		{[]string{"apply-vschema", "customer", file("bad2.json", `{"sharded": true, "tables": {"t": {"column_vindexes": [{"column": "id", "name": "hsh"}]}}}`)}, `table "t": column_vindexes[0].name: vindex "hsh" is not defined`, ""},
		{[]string{"apply-vschema", "nope", good}, "add-keyspace nope", ""},
		{[]string{"apply-vschema", "customer"}, "give the vschema file", ""},
		{[]string{"get-vschema", "customer"}, "", `"sequence": "commerce.customer_seq"`}, // the bad ones wrote nothing
	}
	for _, s := range steps {
		out, err := runTopo(t, ctx, addr, s.args...)
		name := strings.Join(s.args, " ")
		switch {
		case s.wantErr == "" && err != nil:
			t.Fatalf("%s: %v", name, err)
		case s.wantErr != "" && (err == nil || !strings.Contains(err.Error(), s.wantErr)):
			t.Fatalf("%s: error %v, want one saying %q", name, err, s.wantErr)
		case !strings.Contains(out, s.wantOut):
			t.Fatalf("%s: output %q lacks %q", name, out, s.wantOut)
		}
	}
}

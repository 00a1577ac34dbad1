package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vtdirect/vtdirect/local"
)

// runTopo runs `vtdirect topo ARGS... --topo-addr addr` and returns its output and error.
func runTopo(t *testing.T, ctx context.Context, addr string, args ...string) (string, error) {
	t.Helper()
	cmd := newTopoCmd()
	var out bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&out)
	cmd.SetArgs(append(args, "--topo-addr", addr))
	cmd.SilenceUsage, cmd.SilenceErrors = true, true
	err := cmd.ExecuteContext(ctx)
	return out.String(), err
}

func TestTopoCommands(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	e, err := local.StartEtcd(t.TempDir(), 0, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	addr := e.Endpoint()

	steps := []struct {
		args    []string
		wantErr string // "" = success; else a substring of the error
		wantOut string // substring of the output
	}{
		{[]string{"add-cell", "zone1"}, "", "root /vitess/zone1"},
		{[]string{"add-cell", "zone2", "--root", "/vitess/z2"}, "", "root /vitess/z2"},
		{[]string{"add-cell", "zone1"}, "remove-cell zone1", ""},
		{[]string{"add-cell-alias", "region1", "--cells", "zone1,zone2"}, "", "region1"},
		{[]string{"add-cell-alias", "region2", "--cells", "zone3"}, "add-cell zone3", ""},
		{[]string{"add-keyspace", "commerce"}, "", "add-shard commerce/0"},
		{[]string{"add-shard", "commerce"}, "<keyspace>/<shard>", ""},
		{[]string{"add-shard", "commerce/0"}, "", "added shard"},
		{[]string{"add-tablet", "zone1-100", "--keyspace", "commerce", "--shard", "0", "--type", "primary", "--mysql-port", "17100"}, "", "primary"},
		{[]string{"add-tablet", "zone1-101", "--keyspace", "commerce", "--shard", "0", "--type", "primary", "--mysql-port", "17101"}, "set-primary", ""},
		{[]string{"add-tablet", "zone1-101", "--keyspace", "commerce", "--shard", "0", "--type", "replica", "--mysql-port", "17101"}, "", "replica"},
		{[]string{"add-tablet", "zone2-200", "--keyspace", "commerce", "--shard", "0", "--type", "rdonly", "--mysql-port", "17200", "--db-name", "vt_commerce"}, "", "rdonly"},
		{[]string{"add-tablet", "zone2-201", "--keyspace", "commerce", "--shard", "0", "--type", "master", "--mysql-port", "1"}, "primary, replica or rdonly", ""},
		{[]string{"add-tablet", "zone3-1", "--keyspace", "commerce", "--shard", "0", "--mysql-port", "1"}, "add-cell zone3", ""},
		{[]string{"add-tablet", "zone1-x", "--keyspace", "commerce", "--shard", "0", "--mysql-port", "1"}, "zone1-100", ""},
		{[]string{"set-primary", "commerce/0", "zone1-101"}, "", "replication was not changed"},
		{[]string{"remove-tablet", "zone1-101"}, "set-primary", ""},
		{[]string{"show"}, "", "zone1-0000000101  PRIMARY"},
		{[]string{"remove-shard", "commerce/0"}, "remove-tablet", ""},
		{[]string{"remove-tablet", "zone1-100"}, "", "removed"},
		{[]string{"remove-tablet", "zone1-101", "--allow-primary"}, "", "removed"},
		{[]string{"remove-tablet", "zone2-200"}, "", "removed"},
		{[]string{"remove-keyspace", "commerce"}, "remove-shard commerce/0", ""},
		{[]string{"remove-shard", "commerce/0"}, "", "removed"},
		{[]string{"remove-keyspace", "commerce"}, "", "removed"},
		{[]string{"remove-cell", "zone2"}, "remove-cell-alias region1", ""},
		{[]string{"remove-cell-alias", "region1"}, "", "removed"},
		{[]string{"remove-cell", "zone2"}, "", "removed"},
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

	out, err := runTopo(t, ctx, addr, "show", "--json")
	if err != nil {
		t.Fatal(err)
	}
	var dump struct {
		Cells []struct{ Name string } `json:"cells"`
	}
	if err := json.Unmarshal([]byte(out), &dump); err != nil || len(dump.Cells) != 1 || dump.Cells[0].Name != "zone1" {
		t.Fatalf("show --json = %s (%v)", out, err)
	}
}

func TestTopoCommandUnreachable(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	port, err := local.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	_, err = runTopo(t, ctx, "127.0.0.1:"+strconv.Itoa(port), "show")
	if err == nil || !strings.Contains(err.Error(), "--topo-addr") {
		t.Fatalf("show on no etcd = %v; want advice about --topo-addr", err)
	}
}

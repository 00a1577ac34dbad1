package picker

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// goldenTablets is one shard spread over the test topology, with a tablet
// for each reason.
func goldenTablets() []TabletInfo {
	return []TabletInfo{
		tab("zone1-100", primary),
		tab("zone1-101", rdonly),
		tab("zone1-102", replica, lag(time.Minute)),
		tab("zone2-201", replica),
		tab("zone2-202", replica, notServing),
		tab("zone3-301", replica),
		tab("zone3-302", rdonly, unreachable),
		tab("zone4-401", replica),
		tab("zone5-501", replica),
		tab("zone5-502", spare),
	}
}

func TestExplainGolden(t *testing.T) {
	tests := []struct {
		name string
		opts Options
		ks   string
	}{
		{"any_prefer_local_with_alias", Options{LocalCell: "zone1", Cells: []string{"west", "atlantis"}, TabletTypes: "REPLICA,RDONLY", MaxLag: 30 * time.Second}, "0"},
		{"in_order_prefer_local_with_alias", Options{LocalCell: "zone1", Cells: []string{"west"}, TabletTypes: "in_order:REPLICA,RDONLY", MaxLag: 30 * time.Second}, "0"},
		{"prefer_local", Options{LocalCell: "zone1", CellPreference: PreferLocal, Cells: []string{"zone3"}, TabletTypes: "REPLICA", Exclude: []Alias{{"zone3", 301}}}, "0"},
		{"only_specified", Options{LocalCell: "zone1", CellPreference: OnlySpecified, Cells: []string{"zone5", "zone2"}}, "0"},
		{"primary_only", Options{LocalCell: "zone3", TabletTypes: "PRIMARY"}, "0"},
		{"unknown_shard", Options{LocalCell: "zone1"}, "-80"},
		{"unfit", Options{LocalCell: "zone1", TabletTypes: "in_order:REPLICA,PRIMARY",
			Unfit: map[Alias]string{{"zone1", 102}: "binlog_format is MIXED, want ROW"}}, "0"},
	}
	snap := NewSnapshot(goldenTablets(), testTopo())
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			x := Explain(snap, "ks", tt.ks, mustCompile(t, tt.opts))
			checkGolden(t, filepath.Join("testdata", "explain_"+tt.name+".golden"), x.String())
		})
	}
}

func TestExplainJSON(t *testing.T) {
	snap := NewSnapshot(goldenTablets(), testTopo())
	x := Explain(snap, "ks", "0", mustCompile(t, Options{LocalCell: "zone1", TabletTypes: "REPLICA", MaxLag: 30 * time.Second}))
	b, err := json.MarshalIndent(x, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	checkGolden(t, filepath.Join("testdata", "explain.json.golden"), string(b)+"\n")
}

func TestExplainNilSnapshot(t *testing.T) {
	x := Explain(nil, "ks", "0", mustCompile(t, Options{LocalCell: "zone1"}))
	if !x.NoSnapshot || !strings.Contains(x.String(), "no tablet health known yet") {
		t.Errorf("Explain(nil) = %s", x)
	}
}

func checkGolden(t *testing.T, path, got string) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs (run go test -update and review the diff):\n--- got\n%s--- want\n%s", path, got, want)
	}
}

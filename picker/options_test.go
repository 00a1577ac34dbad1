package picker

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-mysql-org/go-mysql/mysql"
	topodatapb "vitess.io/vitess/go/vt/proto/topodata"
)

func TestParseCellPreference(t *testing.T) {
	tests := []struct {
		in      string
		want    CellPreference
		wantErr string
	}{
		{"", PreferLocalWithAlias, ""},
		{"PreferLocalWithAlias", PreferLocalWithAlias, ""},
		{"preferlocalwithalias", PreferLocalWithAlias, ""},
		{"PREFERLOCAL", PreferLocal, ""},
		{"onlySpecified", OnlySpecified, ""},
		{"nearest", 0, `vtdirect: invalid cell preference "nearest" (valid: PreferLocalWithAlias, PreferLocal, OnlySpecified)`},
	}
	for _, tt := range tests {
		got, err := ParseCellPreference(tt.in)
		if tt.wantErr != "" {
			checkInvalid(t, err, tt.wantErr)
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("ParseCellPreference(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
}

func TestParseTabletOrder(t *testing.T) {
	tests := []struct {
		in      string
		want    TabletOrder
		wantErr string
	}{
		{"", Any, ""},
		{"any", Any, ""},
		{"InOrder", InOrder, ""},
		{"INORDER", InOrder, ""},
		{"random", 0, `vtdirect: invalid tablet order "random" (valid: Any, InOrder)`},
	}
	for _, tt := range tests {
		got, err := ParseTabletOrder(tt.in)
		if tt.wantErr != "" {
			checkInvalid(t, err, tt.wantErr)
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("ParseTabletOrder(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
}

func TestCompile(t *testing.T) {
	tests := []struct {
		name        string
		opts        Options
		wantTypes   string
		wantInOrder bool
		wantErr     string
	}{
		{name: "empty types are the default", opts: Options{LocalCell: "z"}, wantTypes: "REPLICA,RDONLY,PRIMARY"},
		{name: "legacy names and case", opts: Options{LocalCell: "z", TabletTypes: " master , batch,Replica"}, wantTypes: "PRIMARY,RDONLY,REPLICA"},
		{name: "duplicates keep their first place", opts: Options{LocalCell: "z", TabletTypes: "rdonly,replica,rdonly"}, wantTypes: "RDONLY,REPLICA"},
		{name: "prefix", opts: Options{LocalCell: "z", TabletTypes: "in_order:replica,rdonly"}, wantTypes: "REPLICA,RDONLY", wantInOrder: true},
		{name: "option", opts: Options{LocalCell: "z", TabletTypes: "replica,rdonly", TabletOrder: InOrder}, wantTypes: "REPLICA,RDONLY", wantInOrder: true},
		{name: "types as values", opts: Options{LocalCell: "z", Types: []topodatapb.TabletType{rdonly, primary}}, wantTypes: "RDONLY,PRIMARY"},
		{name: "OnlySpecified needs no local cell", opts: Options{CellPreference: OnlySpecified, Cells: []string{"z"}}, wantTypes: "REPLICA,RDONLY,PRIMARY"},

		{name: "local preference without a local cell", opts: Options{Cells: []string{"z"}},
			wantErr: `vtdirect: invalid cell preference "PreferLocalWithAlias": a local preference needs a local cell`},
		{name: "PreferLocal without a local cell", opts: Options{CellPreference: PreferLocal, Cells: []string{"z"}},
			wantErr: `vtdirect: invalid cell preference "PreferLocal": a local preference needs a local cell`},
		{name: "OnlySpecified without any cell", opts: Options{CellPreference: OnlySpecified, Cells: []string{" ", ""}},
			wantErr: `vtdirect: invalid cells "": OnlySpecified needs at least one cell or a local cell`},
		{name: "out-of-range preference", opts: Options{LocalCell: "z", CellPreference: 7},
			wantErr: `invalid cell preference "CellPreference(7)" (valid: PreferLocalWithAlias, PreferLocal, OnlySpecified)`},
		{name: "out-of-range order", opts: Options{LocalCell: "z", TabletOrder: -1},
			wantErr: `invalid tablet order "TabletOrder(-1)" (valid: Any, InOrder)`},
		{name: "unknown type", opts: Options{LocalCell: "z", TabletTypes: "replica,replicas"},
			wantErr: `vtdirect: invalid tablet type "replicas" (valid: PRIMARY, REPLICA, RDONLY)`},
		{name: "unpickable type", opts: Options{LocalCell: "z", TabletTypes: "SPARE"},
			wantErr: `invalid tablet type "SPARE" (valid: PRIMARY, REPLICA, RDONLY)`},
		{name: "unpickable type as value", opts: Options{LocalCell: "z", Types: []topodatapb.TabletType{topodatapb.TabletType_DRAINED}},
			wantErr: `invalid tablet type "DRAINED"`},
		{name: "empty element", opts: Options{LocalCell: "z", TabletTypes: "replica,,rdonly"},
			wantErr: `invalid tablet type ""`},
		{name: "bare prefix", opts: Options{LocalCell: "z", TabletTypes: "in_order:"},
			wantErr: `invalid tablet types "in_order:": in_order: needs at least one type after it`},
		{name: "types twice", opts: Options{LocalCell: "z", TabletTypes: "replica", Types: []topodatapb.TabletType{replica}},
			wantErr: `give the types as a string or as values, not both`},
		{name: "negative lag", opts: Options{LocalCell: "z", MaxLag: -time.Second},
			wantErr: `invalid max lag "-1s"`},
		{name: "exclude without cell", opts: Options{LocalCell: "z", Exclude: []Alias{{UID: 3}}},
			wantErr: `invalid excluded tablet "-3": an alias needs a cell`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Compile(tt.opts)
			if tt.wantErr != "" {
				checkInvalid(t, err, tt.wantErr)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.TypesLabel() != tt.wantTypes || c.inOrder != tt.wantInOrder {
				t.Errorf("types %q inOrder %v, want %q %v", c.TypesLabel(), c.inOrder, tt.wantTypes, tt.wantInOrder)
			}
			o := c.Options()
			if (o.TabletOrder == InOrder) != tt.wantInOrder || len(o.Types) != len(c.types) {
				t.Errorf("Options() = %+v", o)
			}
		})
	}
}

// checkInvalid wants an *InvalidArgumentError containing want that unwraps
// to MySQL's ER_WRONG_ARGUMENTS.
func checkInvalid(t *testing.T, err error, want string) {
	t.Helper()
	var ia *InvalidArgumentError
	if !errors.As(err, &ia) {
		t.Fatalf("error %T %v, want *InvalidArgumentError", err, err)
	}
	if !strings.Contains(err.Error(), want) {
		t.Errorf("error %q\n does not contain %q", err, want)
	}
	var my *mysql.MyError
	if !errors.As(err, &my) || my.Code != mysql.ER_WRONG_ARGUMENTS {
		t.Errorf("MySQL error = %v, want code %d", my, mysql.ER_WRONG_ARGUMENTS)
	}
}

func TestParseAlias(t *testing.T) {
	tests := []struct {
		in   string
		want Alias
		ok   bool
	}{
		{"zone1-100", Alias{"zone1", 100}, true},
		{"zone1-0000000100", Alias{"zone1", 100}, true},
		{"us-east-1a-7", Alias{"us-east-1a", 7}, true},
		{"zone1", Alias{}, false},
		{"-100", Alias{}, false},
		{"zone1-", Alias{}, false},
		{"zone1-x", Alias{}, false},
		{"zone1-99999999999", Alias{}, false},
	}
	for _, tt := range tests {
		got, err := ParseAlias(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("ParseAlias(%q) = %v, %v; want %v ok=%v", tt.in, got, err, tt.want, tt.ok)
		}
	}
	if s := (Alias{"zone1", 100}).String(); s != "zone1-100" {
		t.Errorf("String = %q", s)
	}
}

func TestSplitCells(t *testing.T) {
	if got := SplitCells(" zone1, ,east,"); !slices.Equal(got, []string{"zone1", "east"}) {
		t.Errorf("SplitCells = %q", got)
	}
}

func TestTextOptions(t *testing.T) {
	o, err := TextOptions{
		Cells: "zone1, east", LocalCell: "zone1", CellPreference: "preferlocal",
		TabletTypes: "in_order:replica,rdonly", TabletOrder: "any",
		Exclude: "zone1-100,zone2-0000000200", MaxLag: "30", IncludeNonServing: true,
	}.Options()
	if err != nil {
		t.Fatal(err)
	}
	want := Options{
		Cells: []string{"zone1", "east"}, LocalCell: "zone1", CellPreference: PreferLocal,
		TabletTypes: "in_order:replica,rdonly", TabletOrder: Any,
		Exclude: []Alias{{"zone1", 100}, {"zone2", 200}}, MaxLag: 30 * time.Second, IncludeNonServing: true,
	}
	if !slices.Equal(o.Cells, want.Cells) || !slices.Equal(o.Exclude, want.Exclude) || o.LocalCell != want.LocalCell ||
		o.CellPreference != want.CellPreference || o.TabletTypes != want.TabletTypes || o.TabletOrder != want.TabletOrder ||
		o.MaxLag != want.MaxLag || o.IncludeNonServing != want.IncludeNonServing {
		t.Errorf("Options() = %+v\nwant %+v", o, want)
	}
	if o, err := (TextOptions{MaxLag: "1m30s"}).Options(); err != nil || o.MaxLag != 90*time.Second {
		t.Errorf("MaxLag 1m30s = %v, %v", o.MaxLag, err)
	}
	for _, bad := range []TextOptions{
		{CellPreference: "closest"},
		{TabletOrder: "random"},
		{Exclude: "zone1"},
		{MaxLag: "soon"},
		{MaxLag: "-3"},
	} {
		_, err := bad.Options()
		var ia *InvalidArgumentError
		if !errors.As(err, &ia) {
			t.Errorf("%+v: error %v, want *InvalidArgumentError", bad, err)
		}
	}
}

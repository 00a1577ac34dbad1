package router

import (
	"errors"
	"testing"

	"github.com/go-mysql-org/go-mysql/mysql"
	topodatapb "vitess.io/vitess/go/vt/proto/topodata"
)

func TestParseTarget(t *testing.T) {
	tests := []struct {
		in      string
		want    Target
		wantErr bool
	}{
		{in: "commerce", want: Target{Keyspace: "commerce", TabletType: topodatapb.TabletType_PRIMARY}},
		{in: "commerce@primary", want: Target{Keyspace: "commerce", TabletType: topodatapb.TabletType_PRIMARY}},
		{in: "commerce@master", want: Target{Keyspace: "commerce", TabletType: topodatapb.TabletType_PRIMARY}},
		{in: "commerce@replica", want: Target{Keyspace: "commerce", TabletType: topodatapb.TabletType_REPLICA}},
		{in: "commerce@RDONLY", want: Target{Keyspace: "commerce", TabletType: topodatapb.TabletType_RDONLY}},
		{in: "commerce:0@replica", want: Target{Keyspace: "commerce", Shard: "0", TabletType: topodatapb.TabletType_REPLICA}},
		{in: "customer:-80@rdonly", want: Target{Keyspace: "customer", Shard: "-80", TabletType: topodatapb.TabletType_RDONLY}},
		{in: "customer:80-", want: Target{Keyspace: "customer", Shard: "80-", TabletType: topodatapb.TabletType_PRIMARY}},
		{in: "commerce@", wantErr: true},
		{in: "commerce@spare", wantErr: true},
		{in: "@replica", wantErr: true},
		{in: "commerce:", wantErr: true},
		{in: ":0", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseTarget(tt.in)
			if tt.wantErr {
				var me *mysql.MyError
				if !errors.As(err, &me) || me.Code != mysql.ER_BAD_DB_ERROR {
					t.Fatalf("ParseTarget(%q) error = %v, want ER_BAD_DB_ERROR", tt.in, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseTarget(%q): %v", tt.in, err)
			}
			if got != tt.want {
				t.Fatalf("ParseTarget(%q) = %+v, want %+v", tt.in, got, tt.want)
			}
			if back, err := ParseTarget(got.String()); err != nil || back != got {
				t.Fatalf("round trip of %q via %q = %+v, %v", tt.in, got.String(), back, err)
			}
		})
	}
}

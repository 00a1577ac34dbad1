package flavor

import (
	"strings"
	"testing"
)

func TestSourceSettingsQuery(t *testing.T) {
	tests := []struct{ version, want string }{
		{"10.11.6-MariaDB", "SELECT @@GLOBAL.log_bin, @@GLOBAL.binlog_format, @@GLOBAL.binlog_row_image, @@GLOBAL.binlog_row_metadata, @@GLOBAL.log_slave_updates, @@GLOBAL.gtid_strict_mode, @@GLOBAL.server_id"},
		{"10.4.30-MariaDB", "SELECT @@GLOBAL.log_bin, @@GLOBAL.binlog_format, @@GLOBAL.binlog_row_image, '', @@GLOBAL.log_slave_updates, @@GLOBAL.gtid_strict_mode, @@GLOBAL.server_id"},
		{"8.0.40", "SELECT @@GLOBAL.log_bin, @@GLOBAL.binlog_format, @@GLOBAL.binlog_row_image, @@GLOBAL.binlog_row_metadata, @@GLOBAL.log_replica_updates, @@GLOBAL.gtid_mode, @@GLOBAL.server_id"},
		{"8.0.20", "SELECT @@GLOBAL.log_bin, @@GLOBAL.binlog_format, @@GLOBAL.binlog_row_image, @@GLOBAL.binlog_row_metadata, @@GLOBAL.log_slave_updates, @@GLOBAL.gtid_mode, @@GLOBAL.server_id"},
	}
	for _, tt := range tests {
		if got := Detect(tt.version).SourceSettingsQuery(); got != tt.want {
			t.Errorf("%s:\n got %s\nwant %s", tt.version, got, tt.want)
		}
	}
}

func TestSourceProblems(t *testing.T) {
	maria := Detect("10.11.6-MariaDB")
	mysql := Detect("8.0.40")
	good := []string{"1", "ROW", "FULL", "FULL", "1", "1", "100"}
	tests := []struct {
		name    string
		f       Flavor
		vals    []string
		replica bool
		noBlob  bool
		want    []string // settings named, in order
	}{
		{"fit primary", maria, good, false, false, nil},
		{"fit replica", maria, good, true, false, nil},
		{"no binlog", maria, []string{"0", "ROW", "FULL", "FULL", "1", "1", "100"}, false, false, []string{"log_bin"}},
		{"mixed", maria, []string{"1", "MIXED", "FULL", "NO_LOG", "1", "1", "100"}, false, false, []string{"binlog_format"}},
		{"minimal image", maria, []string{"1", "ROW", "MINIMAL", "FULL", "1", "1", "100"}, false, false, []string{"binlog_row_image"}},
		{"noblob refused", maria, []string{"1", "ROW", "NOBLOB", "FULL", "1", "1", "100"}, false, false, []string{"binlog_row_image"}},
		{"noblob allowed", maria, []string{"1", "ROW", "NOBLOB", "FULL", "1", "1", "100"}, false, true, nil},
		{"replica without log_slave_updates", maria, []string{"1", "ROW", "FULL", "FULL", "0", "1", "100"}, true, false, []string{"log_slave_updates"}},
		{"primary without log_slave_updates is fine", maria, []string{"1", "ROW", "FULL", "FULL", "0", "1", "100"}, false, false, nil},
		{"not strict", maria, []string{"1", "ROW", "FULL", "FULL", "1", "0", "100"}, false, false, []string{"gtid_strict_mode"}},
		{"several", maria, []string{"1", "STATEMENT", "MINIMAL", "", "0", "0", "0"}, true, false, []string{"binlog_format", "binlog_row_image", "log_slave_updates", "gtid_strict_mode", "server_id"}},
		{"mysql gtid_mode off", mysql, []string{"1", "ROW", "FULL", "FULL", "1", "OFF_PERMISSIVE", "7"}, false, false, []string{"gtid_mode"}},
		{"mysql replica words", mysql, []string{"1", "ROW", "FULL", "MINIMAL", "0", "ON", "7"}, true, false, []string{"log_replica_updates"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := tt.f.ParseSourceSettings(tt.vals, tt.replica)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, p := range tt.f.SourceProblems(s, tt.noBlob) {
				got = append(got, p.Setting)
				if !strings.Contains(p.String(), p.Setting) || tt.f.FixHint(p) == "" {
					t.Errorf("problem %+v: String %q, hint %q", p, p.String(), tt.f.FixHint(p))
				}
			}
			if strings.Join(got, ",") != strings.Join(tt.want, ",") {
				t.Errorf("problems %v, want %v", got, tt.want)
			}
		})
	}
	if _, err := maria.ParseSourceSettings([]string{"1"}, false); err == nil {
		t.Error("short row: want error")
	}
	if _, err := maria.ParseSourceSettings([]string{"1", "ROW", "FULL", "FULL", "1", "1", "x"}, false); err == nil {
		t.Error("bad server_id: want error")
	}
	s, _ := maria.ParseSourceSettings(good, false)
	if !s.FullRowMetadata() {
		t.Error("FULL metadata not seen")
	}
}

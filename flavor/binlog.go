package flavor

// What a change stream needs of the server it reads the binlog from, and how each flavor names
// it. Vitess's vstreamer needs the same (binlog_format=ROW, binlog_row_image=FULL, GTIDs);
// MariaDB: https://mariadb.com/kb/en/replication-and-binary-log-system-variables/,
// MySQL: https://dev.mysql.com/doc/refman/8.0/en/replication-options-binary-log.html.

import (
	"fmt"
	"strconv"
	"strings"
)

// SourceSettings are the binlog and GTID settings of a server, as read by SourceSettingsQuery.
type SourceSettings struct {
	LogBin       bool
	BinlogFormat string // ROW, STATEMENT, MIXED
	RowImage     string // FULL, NOBLOB, MINIMAL
	// RowMetadata is binlog_row_metadata: FULL writes column names, keys, charsets and
	// ENUM/SET values into every TABLE_MAP event (MariaDB 10.5+, MySQL 8.0.1+); MINIMAL or
	// NO_LOG (MariaDB's default) do not; "" when the server has no such variable.
	RowMetadata string
	// LogReplicaUpdates is log_slave_updates / log_replica_updates: a replica writes what it
	// applies into its own binlog (else its binlog lacks the primary's writes).
	LogReplicaUpdates bool
	// GTIDStrict is MariaDB's gtid_strict_mode; on MySQL, gtid_mode=ON.
	GTIDStrict bool
	ServerID   uint32
	// Replica reports that the server replicates from another (read from its replica status).
	Replica bool
}

// SourceSettingsQuery returns one row of the settings, in the order ParseSourceSettings reads.
// binlog_row_metadata is read only where the server has it (MariaDB 10.5+, MySQL 8.0.1+).
func (f Flavor) SourceSettingsQuery() string {
	meta := "''"
	if f.HasRowMetadata() {
		meta = "@@GLOBAL.binlog_row_metadata"
	}
	gtid := "@@GLOBAL.gtid_strict_mode"
	logUpdates := "@@GLOBAL.log_slave_updates"
	if f.Kind == MySQL {
		gtid = "@@GLOBAL.gtid_mode"
		if f.AtLeast(8, 0, 26) {
			logUpdates = "@@GLOBAL.log_replica_updates"
		}
	}
	return "SELECT @@GLOBAL.log_bin, @@GLOBAL.binlog_format, @@GLOBAL.binlog_row_image, " + meta + ", " +
		logUpdates + ", " + gtid + ", @@GLOBAL.server_id"
}

// HasRowMetadata reports whether the server has binlog_row_metadata.
func (f Flavor) HasRowMetadata() bool {
	if f.Kind == MariaDB {
		return f.AtLeast(10, 5, 0)
	}
	return f.AtLeast(8, 0, 1)
}

// ParseSourceSettings reads the row of SourceSettingsQuery (values as text, NULL as "").
// replica says whether the server has a replica status row.
func (f Flavor) ParseSourceSettings(vals []string, replica bool) (SourceSettings, error) {
	if len(vals) != 7 {
		return SourceSettings{}, fmt.Errorf("source settings: %d values, want 7", len(vals))
	}
	id, err := strconv.ParseUint(vals[6], 10, 32)
	if err != nil {
		return SourceSettings{}, fmt.Errorf("source settings: server_id %q: %w", vals[6], err)
	}
	s := SourceSettings{
		LogBin:            isOn(vals[0]),
		BinlogFormat:      strings.ToUpper(vals[1]),
		RowImage:          strings.ToUpper(vals[2]),
		RowMetadata:       strings.ToUpper(vals[3]),
		LogReplicaUpdates: isOn(vals[4]),
		ServerID:          uint32(id),
		Replica:           replica,
	}
	if f.Kind == MySQL {
		s.GTIDStrict = strings.EqualFold(vals[5], "ON")
	} else {
		s.GTIDStrict = isOn(vals[5])
	}
	return s, nil
}

func isOn(v string) bool {
	switch strings.ToUpper(strings.TrimSpace(v)) {
	case "1", "ON", "YES", "TRUE":
		return true
	}
	return false
}

// FullRowMetadata reports whether TABLE_MAP events carry the table's columns.
func (s SourceSettings) FullRowMetadata() bool { return s.RowMetadata == "FULL" }

// SourceProblem is one setting that keeps a server from being a change-stream source.
type SourceProblem struct {
	Setting string // the variable, e.g. "binlog_format"
	Have    string
	Want    string
	Why     string // what a consumer would get otherwise
}

func (p SourceProblem) String() string {
	return fmt.Sprintf("%s is %s, want %s (%s)", p.Setting, p.Have, p.Want, p.Why)
}

// SourceProblems lists what keeps a server with settings s from being a change-stream source,
// in the words of flavor f. NOBLOB is accepted only with allowNoBlob (unchanged BLOB/TEXT
// columns are then absent from update images, as with Vitess's experimental NOBLOB support).
func (f Flavor) SourceProblems(s SourceSettings, allowNoBlob bool) []SourceProblem {
	var out []SourceProblem
	add := func(setting, have, want, why string) {
		out = append(out, SourceProblem{Setting: setting, Have: have, Want: want, Why: why})
	}
	if !s.LogBin {
		add("log_bin", "OFF", "ON", "the server writes no binary log to stream")
		return out
	}
	if s.BinlogFormat != "ROW" {
		add("binlog_format", s.BinlogFormat, "ROW", "statements are logged as SQL text, not as row changes, so the stream would carry no rows")
	}
	switch {
	case s.RowImage == "FULL":
	case s.RowImage == "NOBLOB" && allowNoBlob:
	default:
		want := "FULL"
		if allowNoBlob {
			want = "FULL or NOBLOB"
		}
		add("binlog_row_image", s.RowImage, want, "row images lack unchanged columns, which a consumer would read as NULL")
	}
	if s.Replica && !s.LogReplicaUpdates {
		name := "log_slave_updates"
		if f.Kind == MySQL && f.AtLeast(8, 0, 26) {
			name = "log_replica_updates"
		}
		add(name, "OFF", "ON", "this replica's binlog lacks the writes it replicates from its primary")
	}
	if !s.GTIDStrict {
		if f.Kind == MySQL {
			add("gtid_mode", "OFF", "ON", "positions are GTID sets")
		} else {
			add("gtid_strict_mode", "OFF", "ON", "without it GTIDs may go out of order and a position may name two different histories")
		}
	}
	if s.ServerID == 0 {
		add("server_id", "0", "a unique non-zero id", "a server with server_id 0 refuses replicas")
	}
	return out
}

// FixHint is the statement or option that fixes p on flavor f.
func (f Flavor) FixHint(p SourceProblem) string {
	switch p.Setting {
	case "log_bin":
		return "start the server with --log-bin"
	case "log_slave_updates", "log_replica_updates":
		return "start the replica with --" + strings.ReplaceAll(p.Setting, "_", "-") + "=ON"
	case "server_id":
		return "give every server its own --server-id"
	case "gtid_mode":
		return "start MySQL with --gtid-mode=ON --enforce-gtid-consistency=ON"
	}
	want := p.Want
	if i := strings.Index(want, " or "); i > 0 {
		want = want[:i]
	}
	return fmt.Sprintf("SET GLOBAL %s = %s (and in the server's option file)", p.Setting, want)
}

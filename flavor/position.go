package flavor

import (
	"fmt"
	"strings"
)

// Vitess position prefixes: a position string is "<prefix>/<gtid set>".
const (
	MariaDBPrefix = "MariaDB"
	MySQLPrefix   = "MySQL56"
)

// PositionQuery returns the statement whose single value is the server's executed GTID set:
// MariaDB @@gtid_binlog_pos (the GTIDs in its own binlog, which on a replica with
// log_slave_updates includes the replicated ones), MySQL @@gtid_executed.
func (f Flavor) PositionQuery() string {
	if f.Kind == MariaDB {
		return "SELECT @@GLOBAL.gtid_binlog_pos"
	}
	return "SELECT @@GLOBAL.gtid_executed"
}

// Position turns a GTID set as the server prints it into a Vitess position string:
// "0-100-42" → "MariaDB/0-100-42", "uuid:1-9,\nuuid2:1-3" → "MySQL56/uuid:1-9,uuid2:1-3".
// MySQL breaks long sets over lines; the whitespace is dropped.
func (f Flavor) Position(gtidSet string) string {
	set := strings.Join(strings.Fields(gtidSet), "")
	if f.Kind == MariaDB {
		return MariaDBPrefix + "/" + set
	}
	return MySQLPrefix + "/" + set
}

// ParsePosition splits a Vitess position string into the flavor kind and the GTID set.
func ParsePosition(pos string) (Kind, string, error) {
	prefix, set, ok := strings.Cut(pos, "/")
	if !ok {
		return Unknown, "", fmt.Errorf("position %q: want <flavor>/<gtid set>, e.g. MariaDB/0-100-42", pos)
	}
	switch prefix {
	case MariaDBPrefix:
		return MariaDB, set, nil
	case MySQLPrefix:
		return MySQL, set, nil
	}
	return Unknown, "", fmt.Errorf("position %q: unknown flavor %q (want %s or %s)", pos, prefix, MariaDBPrefix, MySQLPrefix)
}

package flavor

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// ReplicaStatus is what vtdirect reads from a replica's status row, with the same meaning for
// both flavors.
type ReplicaStatus struct {
	SourceHost string
	SourcePort int
	// IOState is the IO thread's state as the server reports it: "Yes", "No" or "Connecting".
	IOState    string
	IORunning  bool // IOState == "Yes"
	SQLRunning bool
	// Lag is Seconds_Behind_Master / Seconds_Behind_Source; LagKnown is false when the server
	// reports NULL (the SQL thread is stopped or the IO thread is not connected).
	Lag      time.Duration
	LagKnown bool
	// RelayPosition is the GTID position received by the IO thread, as a Vitess position string
	// (MariaDB Gtid_IO_Pos, MySQL Retrieved_Gtid_Set); "" when the server reports none.
	RelayPosition string
	LastIOError   string
	LastSQLError  string
}

// column names of the replica status row: MariaDB and MySQL before 8.0.22 use the "master"
// and "slave" words, MySQL 8.0.22+ the "source" and "replica" ones.
type statusColumns struct {
	host, port, io, sql, lag, relayPos, ioErr, sqlErr string
}

var (
	oldColumns = statusColumns{
		host: "Master_Host", port: "Master_Port", io: "Slave_IO_Running", sql: "Slave_SQL_Running",
		lag: "Seconds_Behind_Master", ioErr: "Last_IO_Error", sqlErr: "Last_SQL_Error",
	}
	newColumns = statusColumns{
		host: "Source_Host", port: "Source_Port", io: "Replica_IO_Running", sql: "Replica_SQL_Running",
		lag: "Seconds_Behind_Source", ioErr: "Last_IO_Error", sqlErr: "Last_SQL_Error",
		relayPos: "Retrieved_Gtid_Set",
	}
)

// usesReplicaWords reports whether the server has SHOW REPLICA STATUS with the new column names.
func (f Flavor) usesReplicaWords() bool {
	return f.Kind == MySQL && f.AtLeast(8, 0, 22)
}

// ReplicaStatusQuery is the statement that returns the replica status row (no row when the
// server does not replicate).
func (f Flavor) ReplicaStatusQuery() string {
	if f.usesReplicaWords() {
		return "SHOW REPLICA STATUS"
	}
	return "SHOW SLAVE STATUS"
}

func (f Flavor) columns() statusColumns {
	if f.usesReplicaWords() {
		return newColumns
	}
	c := oldColumns
	switch f.Kind {
	case MariaDB:
		c.relayPos = "Gtid_IO_Pos"
	case MySQL:
		c.relayPos = "Retrieved_Gtid_Set"
	}
	return c
}

// ParseReplicaStatus reads the status row of ReplicaStatusQuery, given as column name → value;
// a NULL value is an absent key. It fails when a column it needs is missing, which means the
// row did not come from ReplicaStatusQuery of this flavor.
func (f Flavor) ParseReplicaStatus(row map[string]string) (ReplicaStatus, error) {
	c := f.columns()
	var st ReplicaStatus
	for _, name := range []string{c.io, c.sql} {
		if _, ok := row[name]; !ok {
			return st, fmt.Errorf("replica status of %s: no column %s", f, name)
		}
	}
	st.SourceHost = row[c.host]
	if p, ok := row[c.port]; ok {
		st.SourcePort, _ = strconv.Atoi(p)
	}
	st.IOState = row[c.io]
	st.IORunning = strings.EqualFold(st.IOState, "Yes")
	st.SQLRunning = strings.EqualFold(row[c.sql], "Yes")
	if v, ok := row[c.lag]; ok && v != "" {
		secs, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return st, fmt.Errorf("replica status of %s: %s=%q: %w", f, c.lag, v, err)
		}
		st.Lag, st.LagKnown = time.Duration(secs)*time.Second, true
	}
	if v := row[c.relayPos]; v != "" {
		st.RelayPosition = f.Position(v)
	}
	st.LastIOError = row[c.ioErr]
	st.LastSQLError = row[c.sqlErr]
	return st, nil
}

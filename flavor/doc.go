// Package flavor keeps every difference between MariaDB and MySQL that vtdirect depends on in
// one place: telling them apart from the version string, the replica status statement and its
// column names, the binlog settings a change stream needs and their names (binlog.go:
// SourceSettingsQuery, SourceProblems, FixHint), and GTID positions (the query that reads the
// current position and Vitess's position strings "MariaDB/0-100-42" and "MySQL56/<uuid>:1-9").
//
// It owns no connection: callers run the statements it names and hand it the rows they got,
// so everything here is pure and tested without a server.
//
// Example:
//
//	f := flavor.Detect(version) // from SELECT @@version
//	rows := ...                 // run f.ReplicaStatusQuery(), one row as column → value
//	st, err := f.ParseReplicaStatus(row)
//	pos := f.Position(gtidSet)  // from f.PositionQuery(): "MariaDB/0-100-42"
package flavor

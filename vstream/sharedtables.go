package vstream

import "github.com/go-mysql-org/go-mysql/replication"

// tableDBs maps table ids to their databases, from TABLE_MAP events.
type tableDBs struct{ m map[uint64]string }

// rowsDB returns the database of a TABLE_MAP or rows event, or filtered=false for any other
// event (or a table id it has not seen): those go to every subscriber. A stream skips the
// rows of other databases (but the resharding journal's) without looking at them, so they
// need not be queued for it: with many schemas per server each stream parses only its own
// rows. The map is emptied, when large, only at a GTID event, so that within a group the hub
// and a replay of it (skipReplay) decide alike.
func (t *tableDBs) rowsDB(data []byte) (db string, filtered bool) {
	const idSize = 6 // v1/v2 rows events and TABLE_MAP (MariaDB 5.1+)
	typ := replication.EventType(data[4])
	body := data[binlogHeaderSize:]
	if typ == replication.MARIADB_GTID_EVENT && len(t.m) > 100_000 {
		t.m = nil
	}
	if len(body) < idSize+2 {
		return "", false
	}
	id := uint64(body[0]) | uint64(body[1])<<8 | uint64(body[2])<<16 | uint64(body[3])<<24 | uint64(body[4])<<32 | uint64(body[5])<<40
	switch typ {
	case replication.TABLE_MAP_EVENT:
		// post-header: table id (6), flags (2); then the database name, length-prefixed
		n := idSize + 2
		if len(body) <= n || len(body) < n+1+int(body[n]) {
			return "", false
		}
		db := string(body[n+1 : n+1+int(body[n])])
		if t.m == nil {
			t.m = map[uint64]string{}
		}
		t.m[id] = db
		return db, true
	case replication.WRITE_ROWS_EVENTv1, replication.UPDATE_ROWS_EVENTv1, replication.DELETE_ROWS_EVENTv1,
		replication.WRITE_ROWS_EVENTv2, replication.UPDATE_ROWS_EVENTv2, replication.DELETE_ROWS_EVENTv2,
		replication.MARIADB_WRITE_ROWS_COMPRESSED_EVENT_V1, replication.MARIADB_UPDATE_ROWS_COMPRESSED_EVENT_V1,
		replication.MARIADB_DELETE_ROWS_COMPRESSED_EVENT_V1:
		db, ok := t.m[id]
		return db, ok
	}
	return "", false
}

package sharding

import (
	"bytes"
	"database/sql"
	"fmt"
	"testing"

	"github.com/vtdirect/vtdirect/vindex"
)

// TestConsistentLookupUnique drives a table with a consistent_lookup_unique vindex (its
// lookup table in the unsharded keyspace) as an application does, and reads the lookup table
// on MariaDB directly: every row has exactly its lookup row, pointing to its keyspace id,
// through inserts, duplicates, the takeover of an orphaned lookup row, updates, deletes and
// transactions that commit or roll back.
func TestConsistentLookupUnique(t *testing.T) {
	commerce := openDB(t, dsn(gw, "commerce"))
	mustExec(t, commerce, "DROP TABLE IF EXISTS l_email_lookup")
	mustExec(t, commerce, "CREATE TABLE l_email_lookup (email VARCHAR(64) NOT NULL PRIMARY KEY, keyspace_id VARBINARY(16) NOT NULL)")
	extendVSchema(t, `{"sharded": true,
	  "vindexes": {"l_email": {"type": "consistent_lookup_unique", "owner": "l_user",
	    "params": {"table": "commerce.l_email_lookup", "from": "email", "to": "keyspace_id"}}},
	  "tables": {"l_user": {"column_vindexes": [{"column": "id", "name": "hash"}, {"column": "email", "name": "l_email"}]}}}`)
	db := openDB(t, dsn(gw, "customer"))
	mustExec(t, db, "DROP TABLE IF EXISTS l_user")
	mustExec(t, db, "CREATE TABLE l_user (id BIGINT NOT NULL PRIMARY KEY, email VARCHAR(64), name VARCHAR(32))")

	// want checks the lookup table against the rows: email -> id.
	want := func(rows map[string]int64) {
		t.Helper()
		got := map[string][]byte{}
		rs, err := commerce.QueryContext(t.Context(), "SELECT email, keyspace_id FROM l_email_lookup")
		if err != nil {
			t.Fatal(err)
		}
		defer rs.Close()
		for rs.Next() {
			var email string
			var ksid []byte
			if err := rs.Scan(&email, &ksid); err != nil {
				t.Fatal(err)
			}
			got[email] = ksid
		}
		if len(got) != len(rows) {
			t.Errorf("lookup rows %q, want %v", keys(got), rows)
		}
		for email, id := range rows {
			if ksid, ok := got[email]; !ok || !bytes.Equal(ksid, vindex.HashUint64(uint64(id))) {
				t.Errorf("lookup row of %s = %x (present %v), want the keyspace id of row %d (%x)", email, ksid, ok, id, vindex.HashUint64(uint64(id)))
			}
		}
		for email, id := range rows {
			if n := idByEmail(t, db, email); n != id {
				t.Errorf("SELECT by email %s through the gateway: id %d, want %d", email, n, id)
			}
		}
	}

	mustExec(t, db, "INSERT INTO l_user (id, email, name) VALUES (1, 'a@x', 'a'), (2, 'b@x', 'b'), (3, 'c@x', 'c')")
	want(map[string]int64{"a@x": 1, "b@x": 2, "c@x": 3})

	// A duplicate value: refused as MariaDB refuses a duplicate unique key, nothing written.
	_, err := db.ExecContext(t.Context(), "INSERT INTO l_user (id, email) VALUES (4, 'a@x')")
	mysqlErr(t, err, 1062)
	if n := queryInt(t, db, "SELECT COUNT(*) FROM l_user WHERE id = 4"); n != 0 {
		t.Errorf("the refused row is there (%d)", n)
	}
	want(map[string]int64{"a@x": 1, "b@x": 2, "c@x": 3})

	// A lookup row whose owner row is gone (a crash between Vitess's commits) is taken over.
	mustExec(t, commerce, "INSERT INTO l_email_lookup VALUES ('d@x', ?)", vindex.HashUint64(999))
	mustExec(t, db, "INSERT INTO l_user (id, email) VALUES (5, 'd@x')")
	want(map[string]int64{"a@x": 1, "b@x": 2, "c@x": 3, "d@x": 5})

	// An update of the column moves its lookup row; a delete removes it.
	mustExec(t, db, "UPDATE l_user SET email = 'bb@x' WHERE id = 2")
	mustExec(t, db, "DELETE FROM l_user WHERE id = 3")
	want(map[string]int64{"a@x": 1, "bb@x": 2, "d@x": 5})
	if n := idByEmail(t, db, "b@x"); n != 0 {
		t.Errorf("the old email still finds row %d", n)
	}
	// An update of another column leaves the lookup alone.
	mustExec(t, db, "UPDATE l_user SET name = 'z' WHERE email = 'a@x'")
	want(map[string]int64{"a@x": 1, "bb@x": 2, "d@x": 5})

	// Transactions: a rollback leaves no lookup row; a session sees its own new value before
	// it commits.
	c := conn(t, db)
	mustExec(t, c, "BEGIN")
	mustExec(t, c, "INSERT INTO l_user (id, email) VALUES (6, 'e@x')")
	mustExec(t, c, "ROLLBACK")
	want(map[string]int64{"a@x": 1, "bb@x": 2, "d@x": 5})
	mustExec(t, c, "BEGIN")
	mustExec(t, c, "INSERT INTO l_user (id, email) VALUES (7, 'f@x')")
	if n := idByEmail(t, c, "f@x"); n != 7 {
		t.Errorf("in its transaction, the session finds its new email at id %d, want 7", n)
	}
	mustExec(t, c, "COMMIT")
	want(map[string]int64{"a@x": 1, "bb@x": 2, "d@x": 5, "f@x": 7})

	// With autocommit off, the insert starts the session's transaction: ROLLBACK undoes the
	// row and its lookup row, as on MariaDB.
	mustExec(t, c, "SET autocommit = 0")
	mustExec(t, c, "INSERT INTO l_user (id, email) VALUES (9, 'g@x')")
	mustExec(t, c, "ROLLBACK")
	mustExec(t, c, "SET autocommit = 1")
	want(map[string]int64{"a@x": 1, "bb@x": 2, "d@x": 5, "f@x": 7})
	if n := queryInt(t, db, "SELECT COUNT(*) FROM l_user WHERE id = 9"); n != 0 {
		t.Errorf("the rolled back row is there (%d)", n)
	}

	// NULL without ignore_nulls: refused with 1048, as Vitess does.
	_, err = db.ExecContext(t.Context(), "INSERT INTO l_user (id, email) VALUES (8, NULL)")
	mysqlErr(t, err, 1048)
	want(map[string]int64{"a@x": 1, "bb@x": 2, "d@x": 5, "f@x": 7})
}

func idByEmail(t *testing.T, q querier, email string) int64 {
	t.Helper()
	var id int64
	err := q.QueryRowContext(t.Context(), "SELECT id FROM l_user WHERE email = "+sqlStr(email)).Scan(&id)
	if err == sql.ErrNoRows {
		return 0
	}
	if err != nil {
		t.Fatalf("select by email %s: %v", email, err)
	}
	return id
}

func keys(m map[string][]byte) []string {
	var out []string
	for k, v := range m {
		out = append(out, fmt.Sprintf("%s=%x", k, v))
	}
	return out
}

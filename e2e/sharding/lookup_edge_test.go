package sharding

import (
	"errors"
	"slices"
	"strconv"
	"testing"

	"github.com/go-sql-driver/mysql"

	"github.com/vtdirect/vtdirect/vindex"
)

// TestConsistentLookupEdges runs one script through the gateway on a table with a
// consistent_lookup_unique vindex (ignore_nulls, a case-insensitive PAD SPACE collation, a
// primary vindex on a column several rows share) and on MariaDB directly on the same table
// with a UNIQUE KEY instead, and expects the same outcome of every statement and the same
// rows: an UPDATE that changes only the case (or trailing spaces) of a value succeeds and
// leaves the lookup row as it is, as Vitess's consistent lookup does; NULL and ” are
// different values (NULL has no lookup row, ” has one); a duplicate of a row with the same
// keyspace id is still a duplicate. The lookup table is then checked row by row.
func TestConsistentLookupEdges(t *testing.T) {
	commerce := openDB(t, dsn(gw, "commerce"))
	const ci = "VARCHAR(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci"
	mustExec(t, commerce, "DROP TABLE IF EXISTS l_acct_lookup")
	mustExec(t, commerce, "CREATE TABLE l_acct_lookup (email "+ci+" NOT NULL PRIMARY KEY, keyspace_id VARBINARY(16) NOT NULL)")
	mustExec(t, commerce, "DROP TABLE IF EXISTS l_acct")
	mustExec(t, commerce, "CREATE TABLE l_acct (id BIGINT NOT NULL PRIMARY KEY, cid BIGINT NOT NULL, email "+ci+", UNIQUE KEY (email))")
	extendVSchema(t, `{"sharded": true,
	  "vindexes": {"l_acct_email": {"type": "consistent_lookup_unique", "owner": "l_acct",
	    "params": {"table": "commerce.l_acct_lookup", "from": "email", "to": "keyspace_id", "ignore_nulls": "true"}}},
	  "tables": {"l_acct": {"column_vindexes": [{"column": "cid", "name": "hash"}, {"column": "email", "name": "l_acct_email"}]}}}`)
	db := openDB(t, dsn(gw, "customer"))
	mustExec(t, db, "DROP TABLE IF EXISTS l_acct")
	mustExec(t, db, "CREATE TABLE l_acct (id BIGINT NOT NULL PRIMARY KEY, cid BIGINT NOT NULL, email "+ci+")")

	script := []struct {
		stmt string
		code uint16 // the error both must give, 0: none
	}{
		{"INSERT INTO l_acct (id, cid, email) VALUES (1, 7, 'a@x'), (2, 7, NULL), (3, 7, ''), (4, 8, NULL), (6, 9, 'c@x')", 0},
		{"UPDATE l_acct SET email = 'A@X' WHERE id = 1", 0},                // only the case
		{"UPDATE l_acct SET email = 'A@X  ' WHERE cid = 7 AND id = 1", 0},  // only trailing spaces
		{"INSERT INTO l_acct (id, cid, email) VALUES (5, 7, 'a@X')", 1062}, // same keyspace id as row 1
		{"INSERT INTO l_acct (id, cid, email) VALUES (5, 9, 'C@x')", 1062},
		{"UPDATE l_acct SET email = '' WHERE id = 2", 1062}, // NULL -> '' that row 3 has
		{"DELETE FROM l_acct WHERE id = 2", 0},              // a NULL: row 3's '' (same keyspace id) stays
		{"UPDATE l_acct SET email = NULL WHERE id = 4", 0},  // NULL -> NULL
		{"UPDATE l_acct SET email = NULL WHERE id = 3", 0},  // '' -> NULL
		{"UPDATE l_acct SET email = '' WHERE id = 4", 0},    // NULL -> ''
		{"UPDATE l_acct SET email = 'b@x' WHERE id = 1", 0},
		{"UPDATE l_acct SET email = 'C@X' WHERE id = 6", 0},
		{"INSERT INTO l_acct (id, cid, email) VALUES (7, 7, 'A@x'), (8, 10, NULL)", 0}, // 'a@x' is free again
	}
	for _, step := range script {
		_, gerr := db.ExecContext(t.Context(), step.stmt)
		_, derr := commerce.ExecContext(t.Context(), step.stmt)
		if g, d := errCode(gerr), errCode(derr); g != step.code || d != step.code {
			t.Fatalf("%s: through the gateway %v, on MariaDB %v; want error %d from both", step.stmt, gerr, derr, step.code)
		}
	}

	const all = "SELECT id, cid, IFNULL(email, 'NULL') FROM l_acct ORDER BY id"
	got, want := rows(t, db, all), rows(t, commerce, all)
	if !equalRows(got, want) {
		t.Fatalf("rows through the gateway %q, on MariaDB %q", got, want)
	}
	// Every non-NULL value has exactly one lookup row, equal to it by the collation and
	// pointing to its row's keyspace id; NULLs have none.
	lookups := queryInt(t, commerce, "SELECT COUNT(*) FROM l_acct_lookup")
	var values int64
	for _, r := range want {
		id, cid, email := r[0], r[1], r[2]
		if email == "NULL" {
			continue
		}
		values++
		var n int64
		if err := commerce.QueryRowContext(t.Context(), "SELECT COUNT(*) FROM l_acct_lookup WHERE email = ? AND keyspace_id = ?",
			email, vindex.HashUint64(uint64(atoi(t, cid)))).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != 1 {
			t.Errorf("row %s (%q): %d lookup rows with its value and keyspace id, want 1", id, email, n)
		}
		// Found through the lookup, whatever the case.
		if ids := rows(t, db, "SELECT id FROM l_acct WHERE email = "+sqlStr(email)); len(ids) != 1 || ids[0][0] != id {
			t.Errorf("SELECT by email %q through the gateway: %q, want row %s", email, ids, id)
		}
	}
	if lookups != values {
		t.Errorf("%d lookup rows for %d non-NULL values", lookups, values)
	}
	// The case-only update kept the lookup row as it was: Vitess's consistent lookup does not
	// touch it for a value equal by the collation.
	if n := queryInt(t, commerce, "SELECT COUNT(*) FROM l_acct_lookup WHERE BINARY email = 'c@x'"); n != 1 {
		t.Errorf("the lookup row of 'c@x' was rewritten by an update to 'C@X' (%d rows as written)", n)
	}
}

// TestConsistentLookupNullRefused: without ignore_nulls, an UPDATE to NULL is refused with
// 1048 as an INSERT of NULL is, and changes nothing.
func TestConsistentLookupNullRefused(t *testing.T) {
	commerce := openDB(t, dsn(gw, "commerce"))
	mustExec(t, commerce, "DROP TABLE IF EXISTS l_strict_lookup")
	mustExec(t, commerce, "CREATE TABLE l_strict_lookup (code VARCHAR(16) NOT NULL PRIMARY KEY, keyspace_id VARBINARY(16) NOT NULL)")
	extendVSchema(t, `{"sharded": true,
	  "vindexes": {"l_strict_code": {"type": "consistent_lookup_unique", "owner": "l_strict",
	    "params": {"table": "commerce.l_strict_lookup", "from": "code", "to": "keyspace_id"}}},
	  "tables": {"l_strict": {"column_vindexes": [{"column": "id", "name": "hash"}, {"column": "code", "name": "l_strict_code"}]}}}`)
	db := openDB(t, dsn(gw, "customer"))
	mustExec(t, db, "DROP TABLE IF EXISTS l_strict")
	mustExec(t, db, "CREATE TABLE l_strict (id BIGINT NOT NULL PRIMARY KEY, code VARCHAR(16))")
	mustExec(t, db, "INSERT INTO l_strict (id, code) VALUES (1, 'k1')")
	_, err := db.ExecContext(t.Context(), "UPDATE l_strict SET code = NULL WHERE id = 1")
	mysqlErr(t, err, 1048)
	if got := rows(t, db, "SELECT id, code FROM l_strict"); !equalRows(got, [][]string{{"1", "k1"}}) {
		t.Errorf("rows %q after the refused update, want [1 k1]", got)
	}
	if n := queryInt(t, commerce, "SELECT COUNT(*) FROM l_strict_lookup WHERE code = 'k1'"); n != 1 {
		t.Errorf("%d lookup rows of k1 after the refused update, want 1", n)
	}
}

func errCode(err error) uint16 {
	if err == nil {
		return 0
	}
	var me *mysql.MySQLError
	if errors.As(err, &me) {
		return me.Number
	}
	return 1 // not a MySQL error: never expected
}

func atoi(t *testing.T, s string) int64 {
	t.Helper()
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func equalRows(a, b [][]string) bool { return slices.EqualFunc(a, b, slices.Equal) }

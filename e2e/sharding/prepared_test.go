package sharding

import (
	"fmt"
	"strings"
	"testing"
)

// TestPreparedStatements: statements with placeholders, as go-sql-driver sends them
// (COM_STMT_PREPARE and EXECUTE, binary rows), give what the same statements give as text
// (interpolateParams, which the differential oracle checks against MariaDB): point selects,
// IN lists, merged ORDER BY/LIMIT, aggregates, GROUP BY, DISTINCT, joins, and writes whose
// ids come from a sequence.
func TestPreparedStatements(t *testing.T) {
	prepared := openDB(t, dsn(gw, "customer"))
	text := openDB(t, dsn(gw, "customer", "interpolateParams=true"))
	for _, tc := range []struct {
		query string
		args  []any
	}{
		{"SELECT customer_id, email FROM customer WHERE customer_id = ?", []any{5}},
		{"SELECT customer_id, email FROM customer WHERE customer_id = ?", []any{"7"}},
		{"SELECT customer_id FROM customer WHERE customer_id IN (?, ?, ?) ORDER BY customer_id", []any{1, 12, 19}},
		{"SELECT email FROM customer ORDER BY email DESC LIMIT ?", []any{4}},
		{"SELECT customer_id FROM customer ORDER BY customer_id LIMIT ? OFFSET ?", []any{3, 5}},
		{"SELECT customer_id, COUNT(*), SUM(price) FROM corder WHERE price > ? GROUP BY customer_id ORDER BY customer_id", []any{100}},
		{"SELECT COUNT(*), AVG(price), MIN(sku), MAX(sku) FROM corder WHERE price >= ?", []any{150}},
		{"SELECT c.email, o.sku, o.price FROM customer c JOIN corder o ON c.customer_id = o.customer_id WHERE c.customer_id = ? ORDER BY o.sku", []any{3}},
		{"SELECT DISTINCT sku FROM corder WHERE customer_id IN (?, ?) ORDER BY sku", []any{2, 11}},
		{"SELECT p.sku, p.price FROM product p WHERE p.sku = ?", []any{"SKU-1003"}},
		{"SELECT customer_id FROM customer WHERE email = ?", []any{"eve5@example.com"}}, // every shard, as written
		{"SELECT COUNT(*) FROM corder WHERE sku <> ?", []any{"x"}},
	} {
		want := rows(t, text, tc.query, tc.args...)
		got := rows(t, prepared, tc.query, tc.args...)
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%s %v:\nprepared %v\n    text %v", tc.query, tc.args, got, want)
		}
		if len(want) == 0 {
			t.Errorf("%s %v: no rows (the test needs some)", tc.query, tc.args)
		}
	}

	c := conn(t, prepared)
	res := mustExec(t, c, "INSERT INTO customer (email) VALUES (?), (?)", "prep1@x", "prep2@x")
	id, _ := res.LastInsertId()
	if n, _ := res.RowsAffected(); n != 2 || id < 1000 {
		t.Fatalf("prepared insert: %d rows, id %d", n, id)
	}
	if v := queryInt(t, c, "SELECT LAST_INSERT_ID()"); v != id {
		t.Errorf("LAST_INSERT_ID() = %d, want %d", v, id)
	}
	for i, email := range []string{"prep1@x", "prep2@x"} {
		sh := shardDB(t, sharded.Primary(shardOf(id+int64(i))).Alias())
		if got := rows(t, sh, "SELECT email FROM customer WHERE customer_id = ?", id+int64(i)); len(got) != 1 || got[0][0] != email {
			t.Errorf("row %d on shard %s: %v, want %s", id+int64(i), shardOf(id+int64(i)), got, email)
		}
	}
	if n, _ := mustExec(t, c, "UPDATE customer SET email = ? WHERE customer_id = ?", "prep3@x", id).RowsAffected(); n != 1 {
		t.Errorf("prepared update changed %d rows", n)
	}
	if got := rows(t, c, "SELECT email FROM customer WHERE customer_id = ?", id); strings.Join(flat(got), ",") != "prep3@x" {
		t.Errorf("after the update: %v", got)
	}
	if n, _ := mustExec(t, c, "UPDATE customer SET email = CONCAT(email, ?) WHERE email LIKE ?", "!", "prep%").RowsAffected(); n != 2 {
		t.Errorf("prepared update on every shard changed %d rows", n)
	}
	if n, _ := mustExec(t, c, "DELETE FROM customer WHERE customer_id IN (?, ?)", id, id+1).RowsAffected(); n != 2 {
		t.Errorf("prepared delete removed %d rows", n)
	}
	// A statement the gateway refuses is refused at PREPARE, with its code.
	_, err := c.ExecContext(t.Context(), "UPDATE customer SET customer_id = ? WHERE customer_id = ?", 1, 2)
	mysqlErr(t, err, 1235)
}

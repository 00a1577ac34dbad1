package sharding

import (
	"strconv"
	"strings"
	"testing"
)

func TestSmoke(t *testing.T) {
	db := openDB(t, dsn(gw, "customer"))
	c := conn(t, db)
	if n := queryInt(t, c, "SELECT COUNT(*) FROM customer"); n != 20 {
		t.Errorf("count = %d, want 20", n)
	}
	got := rows(t, c, "SELECT customer_id, email FROM customer WHERE customer_id = 5")
	if len(got) != 1 || got[0][1] != "eve5@example.com" {
		t.Errorf("point select = %v", got)
	}
	got = rows(t, c, "SELECT customer_id FROM customer ORDER BY customer_id LIMIT 3 OFFSET 2")
	if strings.Join(flat(got), ",") != "3,4,5" {
		t.Errorf("order by limit = %v", got)
	}
	got = rows(t, c, "SELECT email FROM customer ORDER BY email DESC LIMIT 2")
	if len(got) != 2 || got[0][0] < got[1][0] {
		t.Errorf("order by desc limit 2 = %v", got)
	}
	// Co-located join, grouped: each customer's orders, as the customer's shard has them.
	got = rows(t, c, "SELECT c.customer_id, COUNT(*), SUM(o.price) FROM customer c JOIN corder o ON c.customer_id = o.customer_id GROUP BY c.customer_id ORDER BY c.customer_id LIMIT 3")
	for _, r := range got {
		id, _ := strconv.ParseInt(r[0], 10, 64)
		sh := shardDB(t, sharded.Primary(shardOf(id)).Alias())
		want := rows(t, sh, "SELECT c.customer_id, COUNT(*), SUM(o.price) FROM customer c JOIN corder o ON c.customer_id = o.customer_id WHERE c.customer_id = ? GROUP BY c.customer_id", id)
		if strings.Join(r, ",") != strings.Join(flat(want), ",") {
			t.Errorf("join group row %v, its shard says %v", r, want)
		}
	}
	if len(got) != 3 {
		t.Errorf("join group = %v, want 3 rows", got)
	}
	res := mustExec(t, c, "INSERT INTO customer (email) VALUES ('new1@x'), ('new2@x'), ('new3@x')")
	id, _ := res.LastInsertId()
	n, _ := res.RowsAffected()
	if n != 3 || id < 1000 { // the sequence starts at 1000
		t.Errorf("insert: id %d rows %d", id, n)
	}
	if v := queryInt(t, c, "SELECT LAST_INSERT_ID()"); v != id {
		t.Errorf("last_insert_id = %d, want %d", v, id)
	}
	// The new rows are on their shards.
	for i := id; i < id+3; i++ {
		sh := shardDB(t, sharded.Primary(shardOf(i)).Alias())
		if queryInt(t, sh, "SELECT COUNT(*) FROM customer WHERE customer_id = ?", i) != 1 {
			t.Errorf("customer %d is not on shard %s", i, shardOf(i))
		}
	}
	// Aggregates over both shards: as MariaDB computes them over the union of the shards'
	// rows (which the commerce sample has too).
	got = rows(t, c, "SELECT AVG(price), MIN(sku), MAX(sku), COUNT(DISTINCT sku), COUNT(*) FROM corder")
	want := rows(t, openDB(t, dsn(gw, "commerce")), "SELECT AVG(price), MIN(sku), MAX(sku), COUNT(DISTINCT sku), COUNT(*) FROM corder")
	if strings.Join(flat(got), ",") != strings.Join(flat(want), ",") {
		t.Errorf("aggregates %v, on the unsharded sample %v", got, want)
	}
	mustExec(t, c, "DELETE FROM customer WHERE email LIKE 'new%'")
	// The reference table, read on one shard.
	got = rows(t, c, "SELECT * FROM product ORDER BY sku LIMIT 2")
	want = rows(t, openDB(t, dsn(gw, "commerce")), "SELECT * FROM product ORDER BY sku LIMIT 2")
	if len(got) != 2 || strings.Join(flat(got), ",") != strings.Join(flat(want), ",") {
		t.Errorf("reference table rows %v, its source has %v", got, want)
	}
}

func flat(rows [][]string) []string {
	var out []string
	for _, r := range rows {
		out = append(out, r...)
	}
	return out
}

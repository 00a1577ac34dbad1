package sharding

import (
	"fmt"
	"math/rand/v2"
	"os"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vtdirect/vtdirect/vindex"
	"github.com/vtdirect/vtdirect/vschema"
)

// The differential oracle: the same rows in an unsharded keyspace (commerce) and a sharded
// one (customer); seeded random queries of every kind the gateway routes or merges run on
// both, and the results must be equal (in order when the query orders by a unique key, as
// multisets otherwise); DML must leave equal tables, each row on the shard of its keyspace
// id. VTDIRECT_ORACLE_SEED and VTDIRECT_ORACLE_QUERIES change the seed (1) and the number
// of queries (3000).

const oracleSchema = `
CREATE TABLE o_user (id BIGINT NOT NULL PRIMARY KEY, name VARCHAR(32), city VARCHAR(16), age INT, score DECIMAL(10,2), note VARCHAR(32))
CREATE TABLE o_order (oid BIGINT NOT NULL PRIMARY KEY, uid BIGINT, amount DECIMAL(10,2), status VARCHAR(8), qty INT, KEY (uid))
CREATE TABLE o_kind (kid INT NOT NULL PRIMARY KEY, label VARCHAR(16))`

var (
	oNames    = []string{"alice", "Alice", "bob", "BOB ", "carol", "dave", "Eve", "eve", "frank", "grace ", "héloïse", "Zoe", "zoé", "ivan", "", "mallory"}
	oCities   = []string{"Paris", "Rome", "Oslo", "Lima", "Kyiv"}
	oStatuses = []string{"new", "paid", "sent", "void"}
)

func oracleSeed() uint64 {
	if s := os.Getenv("VTDIRECT_ORACLE_SEED"); s != "" {
		n, _ := strconv.ParseUint(s, 10, 64)
		return n
	}
	return 1
}

func oracleQueries() int {
	if s := os.Getenv("VTDIRECT_ORACLE_QUERIES"); s != "" {
		n, _ := strconv.Atoi(s)
		return n
	}
	return 3000
}

func sqlStr(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// setupOracle creates the tables and rows on both sides and the vschema of the sharded one.
func setupOracle(t *testing.T, r *rand.Rand) {
	ctx := t.Context()
	unsharded := openDB(t, dsn(gw, "commerce"))
	shardedDB := openDB(t, dsn(gw, "customer"))
	// The vschema first: the sharded side's DDL and rows go through the gateway.
	vs, err := cluster.Topo.GetVSchema(ctx, "customer")
	if err != nil {
		t.Fatal(err)
	}
	add, err := vschema.Parse([]byte(`{"sharded": true, "vindexes": {"hash": {"type": "hash"}}, "tables": {
	  "o_user": {"column_vindexes": [{"column": "id", "name": "hash"}]},
	  "o_order": {"column_vindexes": [{"column": "uid", "name": "hash"}]},
	  "o_kind": {"type": "reference"}}}`))
	if err != nil {
		t.Fatal(err)
	}
	for name, tb := range add.Tables {
		vs.Tables[name] = tb
	}
	if err := cluster.Topo.SaveVSchema(ctx, "customer", vs); err != nil {
		t.Fatal(err)
	}
	waitVSchema(t, func(v *vschema.VSchema) bool { return v.Keyspace("customer").Table("o_kind") != nil })
	for _, stmt := range strings.Split(strings.TrimSpace(oracleSchema), "\n") {
		drop := "DROP TABLE IF EXISTS " + strings.Fields(stmt)[2]
		for _, db := range []querier{unsharded, shardedDB} {
			mustExec(t, db, drop)
			mustExec(t, db, stmt)
		}
	}
	var users, orders, kinds []string
	for id := 1; id <= 400; id++ {
		if r.IntN(5) == 0 {
			continue // gaps
		}
		city := "NULL"
		if r.IntN(8) != 0 {
			city = sqlStr(oCities[r.IntN(len(oCities))])
		}
		note := "NULL"
		if r.IntN(3) == 0 {
			note = sqlStr(fmt.Sprintf("n%d", r.IntN(20)))
		}
		users = append(users, fmt.Sprintf("(%d, %s, %s, %d, %d.%02d, %s)", id, sqlStr(oNames[r.IntN(len(oNames))]), city, 18+r.IntN(60), r.IntN(1000), r.IntN(100), note))
	}
	for oid := 1; oid <= 1500; oid++ {
		orders = append(orders, fmt.Sprintf("(%d, %d, %d.%02d, %s, %d)", oid, 1+r.IntN(420), r.IntN(500), r.IntN(100), sqlStr(oStatuses[r.IntN(len(oStatuses))]), r.IntN(10)))
	}
	for k := 0; k < 5; k++ {
		kinds = append(kinds, fmt.Sprintf("(%d, %s)", k, sqlStr(fmt.Sprintf("kind-%d", k))))
	}
	for _, db := range []querier{unsharded, shardedDB} {
		if n, _ := mustExec(t, db, "INSERT INTO o_user (id, name, city, age, score, note) VALUES "+strings.Join(users, ", ")).RowsAffected(); n != int64(len(users)) {
			t.Fatalf("inserted %d users of %d", n, len(users))
		}
		if n, _ := mustExec(t, db, "INSERT INTO o_order (oid, uid, amount, status, qty) VALUES "+strings.Join(orders, ", ")).RowsAffected(); n != int64(len(orders)) {
			t.Fatalf("inserted %d orders of %d", n, len(orders))
		}
	}
	// A reference table's rows are on every shard, loaded there (it has no source to write).
	mustExec(t, unsharded, "INSERT INTO o_kind VALUES "+strings.Join(kinds, ", "))
	for _, sh := range sharded.Keyspace.Shards {
		db := shardDB(t, sharded.Primary(sh.Name).Alias())
		mustExec(t, db, "INSERT INTO o_kind VALUES "+strings.Join(kinds, ", "))
	}
}

func waitVSchema(t *testing.T, ok func(*vschema.VSchema) bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !ok(gw.VSchema.VSchema()) {
		if time.Now().After(deadline) {
			t.Fatal("the gateway did not see the new vschema")
		}
		select {
		case <-gw.VSchema.Changed():
		case <-time.After(time.Second):
		}
	}
}

// oracleQuery is a generated query and how to compare its results.
type oracleQuery struct {
	sql     string
	ordered bool // the rows come in a defined order
	// ci: text values may be any member of a collation's equivalence class (a group's key,
	// MIN/MAX of text): compared without case and trailing spaces.
	ci  bool
	dml bool
}

type gen struct {
	r      *rand.Rand
	nextID int
}

func (g *gen) pick(list ...string) string { return list[g.r.IntN(len(list))] }

func (g *gen) userFilter() string {
	switch g.r.IntN(9) {
	case 0:
		return fmt.Sprintf("id = %d", 1+g.r.IntN(420))
	case 1:
		ids := make([]string, 1+g.r.IntN(6))
		for i := range ids {
			ids[i] = strconv.Itoa(1 + g.r.IntN(420))
		}
		return "id IN (" + strings.Join(ids, ", ") + ")"
	case 2:
		return fmt.Sprintf("age > %d", 18+g.r.IntN(60))
	case 3:
		return "city = " + sqlStr(g.pick(oCities...))
	case 4:
		return fmt.Sprintf("score BETWEEN %d AND %d", g.r.IntN(500), 500+g.r.IntN(500))
	case 5:
		return "name = " + sqlStr(g.pick(oNames...))
	case 6:
		return "city IS NULL"
	case 7:
		return fmt.Sprintf("id = %d AND age < %d", 1+g.r.IntN(420), 30+g.r.IntN(40))
	}
	return "1 = 1"
}

func (g *gen) limit() string {
	switch g.r.IntN(3) {
	case 0:
		return fmt.Sprintf(" LIMIT %d", 1+g.r.IntN(30))
	case 1:
		return fmt.Sprintf(" LIMIT %d OFFSET %d", 1+g.r.IntN(30), g.r.IntN(40))
	}
	return ""
}

func (g *gen) next() oracleQuery {
	switch g.r.IntN(16) {
	case 0, 1: // filters
		return oracleQuery{sql: "SELECT id, name, city, age, score, note FROM o_user WHERE " + g.userFilter()}
	case 2, 3: // ORDER BY, a unique key last
		col := g.pick("name", "city", "age", "score", "note", "id")
		dir := g.pick("", " DESC")
		return oracleQuery{sql: fmt.Sprintf("SELECT id, name, city, age, score FROM o_user WHERE %s ORDER BY %s%s, id%s%s", g.userFilter(), col, dir, g.pick("", " DESC"), g.limit()), ordered: true}
	case 4: // aggregates
		return oracleQuery{sql: "SELECT COUNT(*), COUNT(city), SUM(score), MIN(age), MAX(age), AVG(score), AVG(age), " + g.pick("COUNT(DISTINCT city)", "SUM(DISTINCT age)", "COUNT(DISTINCT age), SUM(DISTINCT age)") + " FROM o_user WHERE " + g.userFilter()}
	case 5: // text aggregates
		return oracleQuery{sql: "SELECT MIN(name), MAX(name), MIN(city), MAX(note) FROM o_user WHERE " + g.userFilter(), ci: true}
	case 6, 7: // GROUP BY
		key := g.pick("city", "age", "name", "city, age")
		having := g.pick("", " HAVING COUNT(*) > 1", " HAVING SUM(score) > 500 AND MIN(age) < 40", " HAVING AVG(age) >= 40", " HAVING COUNT(*) > 2 OR MAX(score) > 900")
		order := g.pick("", " ORDER BY "+key, " ORDER BY "+strings.ReplaceAll(key, ",", " DESC,")+" DESC")
		q := oracleQuery{sql: fmt.Sprintf("SELECT %s, COUNT(*), SUM(score), MIN(age), AVG(score) FROM o_user WHERE %s GROUP BY %s%s%s", key, g.userFilter(), key, having, order), ci: true}
		if order != "" {
			q.ordered = true
			q.sql += g.limit()
		}
		return q
	case 8: // GROUP BY, ORDER BY an aggregate
		return oracleQuery{sql: "SELECT city, COUNT(*) AS n, SUM(score) FROM o_user GROUP BY city ORDER BY n DESC, city" + g.limit(), ordered: true}
	case 9: // DISTINCT
		return oracleQuery{sql: "SELECT DISTINCT " + g.pick("city", "age", "name", "city, age") + " FROM o_user WHERE " + g.userFilter(), ci: true}
	case 10: // COUNT(DISTINCT) by group
		return oracleQuery{sql: "SELECT city, COUNT(DISTINCT age), SUM(DISTINCT age) FROM o_user GROUP BY city", ci: true}
	case 11: // joins on the vindex
		return oracleQuery{sql: fmt.Sprintf("SELECT u.id, u.name, o.oid, o.amount FROM o_user u JOIN o_order o ON u.id = o.uid WHERE %s", g.prefixed("u"))}
	case 12:
		return oracleQuery{sql: fmt.Sprintf("SELECT u.city, COUNT(*), SUM(o.amount), MAX(o.qty) FROM o_user u JOIN o_order o ON u.id = o.uid WHERE o.status = %s GROUP BY u.city ORDER BY u.city", sqlStr(g.pick(oStatuses...))), ordered: true, ci: true}
	case 13: // with the reference table
		return oracleQuery{sql: fmt.Sprintf("SELECT u.id, k.label, u.age FROM o_user u JOIN o_kind k ON k.kid = u.age %% 5 WHERE %s ORDER BY u.id%s", g.prefixed("u"), g.limit()), ordered: true}
	case 14: // LEFT JOIN on the vindex, ORDER BY with LIMIT
		return oracleQuery{sql: fmt.Sprintf("SELECT u.id, o.oid FROM o_user u LEFT JOIN o_order o ON o.uid = u.id WHERE u.age > %d ORDER BY u.id, o.oid%s", 18+g.r.IntN(60), g.limit()), ordered: true}
	}
	return g.dml()
}

// prefixed is a filter on o_user's columns qualified with its alias.
func (g *gen) prefixed(alias string) string {
	f := g.userFilter()
	for _, c := range []string{"id", "name", "city", "age", "score"} {
		f = strings.ReplaceAll(f, c+" ", alias+"."+c+" ")
	}
	return f
}

func (g *gen) dml() oracleQuery {
	switch g.r.IntN(5) {
	case 0:
		return oracleQuery{sql: fmt.Sprintf("UPDATE o_user SET score = score + %d, note = %s WHERE %s", g.r.IntN(50), sqlStr(fmt.Sprintf("u%d", g.r.IntN(9))), g.userFilter()), dml: true}
	case 1:
		return oracleQuery{sql: fmt.Sprintf("DELETE FROM o_order WHERE amount < %d AND status = %s", g.r.IntN(60), sqlStr(g.pick(oStatuses...))), dml: true}
	case 2:
		rows := make([]string, 1+g.r.IntN(5))
		for i := range rows {
			g.nextID++
			rows[i] = fmt.Sprintf("(%d, %s, %s, %d, %d.50, NULL)", g.nextID, sqlStr(g.pick(oNames...)), sqlStr(g.pick(oCities...)), 18+g.r.IntN(60), g.r.IntN(1000))
		}
		return oracleQuery{sql: "INSERT INTO o_user (id, name, city, age, score, note) VALUES " + strings.Join(rows, ", "), dml: true}
	case 3:
		return oracleQuery{sql: fmt.Sprintf("UPDATE o_order SET qty = qty + 1 WHERE uid IN (%d, %d)", 1+g.r.IntN(420), 1+g.r.IntN(420)), dml: true}
	}
	return oracleQuery{sql: fmt.Sprintf("DELETE FROM o_user WHERE id = %d", 1+g.r.IntN(420)), dml: true}
}

func TestDifferentialOracle(t *testing.T) {
	seed := oracleSeed()
	t.Logf("seed %d (VTDIRECT_ORACLE_SEED), %d queries", seed, oracleQueries())
	r := rand.New(rand.NewPCG(seed, 0x5eed))
	setupOracle(t, r)
	unsharded := conn(t, openDB(t, dsn(gw, "commerce")))
	shardedC := conn(t, openDB(t, dsn(gw, "customer")))
	g := &gen{r: r, nextID: 10_000}
	kinds := map[string]int{}
	for i := 0; i < oracleQueries(); i++ {
		q := g.next()
		kinds[strings.Fields(q.sql)[0]]++
		if q.dml {
			_, err1 := unsharded.ExecContext(t.Context(), q.sql)
			_, err2 := shardedC.ExecContext(t.Context(), q.sql)
			if (err1 == nil) != (err2 == nil) {
				t.Fatalf("query %d: %s\n unsharded error: %v\n   sharded error: %v", i, q.sql, err1, err2)
			}
			if i%oracleCompareEvery() == 0 {
				compareTablesQ(t, i, q.sql, unsharded, shardedC)
			}
			continue
		}
		want, err1 := tryColumnsRows(t, unsharded, q.sql)
		got, err2 := tryColumnsRows(t, shardedC, q.sql)
		if err1 != nil || err2 != nil {
			t.Fatalf("query %d: %s\n unsharded: %v\n   sharded: %v", i, q.sql, err1, err2)
		}
		if !sameResult(want, got, q) {
			t.Fatalf("query %d (seed %d): %s\n unsharded: %v\n   sharded: %v", i, seed, q.sql, want, got)
		}
	}
	compareTables(t, -1, unsharded, shardedC)
	checkPlacement(t)
	t.Logf("statements by kind: %v", kinds)
}

type result struct {
	cols []string
	rows [][]string
}

func tryColumnsRows(t *testing.T, q querier, query string) (result, error) {
	rs, err := q.QueryContext(t.Context(), query)
	if err != nil {
		return result{}, err
	}
	defer rs.Close()
	cols, _ := rs.Columns()
	res := result{cols: cols}
	for rs.Next() {
		vals := make([]*string, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rs.Scan(ptrs...); err != nil {
			return res, err
		}
		row := make([]string, len(cols))
		for i, v := range vals {
			row[i] = "NULL"
			if v != nil {
				row[i] = *v
			}
		}
		res.rows = append(res.rows, row)
	}
	return res, rs.Err()
}

func sameResult(a, b result, q oracleQuery) bool {
	if strings.Join(a.cols, "|") != strings.Join(b.cols, "|") || len(a.rows) != len(b.rows) {
		return false
	}
	norm := func(rows [][]string) []string {
		out := make([]string, len(rows))
		for i, r := range rows {
			vals := append([]string(nil), r...)
			if q.ci {
				for j, v := range vals {
					vals[j] = strings.TrimRight(strings.ToLower(v), " ")
					vals[j] = strings.NewReplacer("é", "e", "ï", "i").Replace(vals[j])
				}
			}
			out[i] = strings.Join(vals, "\x00")
		}
		if !q.ordered {
			sort.Strings(out)
		}
		return out
	}
	na, nb := norm(a.rows), norm(b.rows)
	for i := range na {
		if na[i] != nb[i] {
			return false
		}
	}
	return true
}

func oracleCompareEvery() int {
	if s := os.Getenv("VTDIRECT_ORACLE_COMPARE_EVERY"); s != "" {
		n, _ := strconv.Atoi(s)
		return max(n, 1)
	}
	return 10
}

// compareTables wants the same rows in both keyspaces.
func compareTables(t *testing.T, i int, unsharded, shardedC querier) {
	t.Helper()
	compareTablesQ(t, i, "", unsharded, shardedC)
}

func compareTablesQ(t *testing.T, i int, stmt string, unsharded, shardedC querier) {
	t.Helper()
	for _, q := range []string{"SELECT * FROM o_user ORDER BY id", "SELECT * FROM o_order ORDER BY oid"} {
		a, b := rows(t, unsharded, q), rows(t, shardedC, q)
		if fmt.Sprint(a) != fmt.Sprint(b) {
			t.Fatalf("after statement %d (%s) the tables differ: %s\n unsharded %d rows, sharded %d rows\n%s", i, stmt, q, len(a), len(b), firstDiff(a, b))
		}
	}
}

// checkPlacement reads each shard directly: every row is on the shard of its keyspace id.
func checkPlacement(t *testing.T) {
	hash, _, _ := vindex.New("hash", "hash", nil)
	for _, sh := range sharded.Keyspace.Shards {
		kr, _ := vindex.ParseShard(sh.Name)
		db := shardDB(t, sharded.Primary(sh.Name).Alias())
		for _, q := range []string{"SELECT id FROM o_user", "SELECT uid FROM o_order"} {
			n := 0
			for _, row := range rows(t, db, q) {
				id, _ := strconv.ParseInt(row[0], 10, 64)
				ksid, err := hash.(vindex.Hashing).Hash(vindex.Int64Value(id))
				if err != nil || !kr.Contains(ksid) {
					t.Fatalf("%s: row %d is on shard %s, not the shard of its keyspace id %x", q, id, sh.Name, ksid)
				}
				n++
			}
			if n == 0 {
				t.Errorf("%s: shard %s has no rows (the data should spread over both)", q, sh.Name)
			}
		}
	}
}

func newRand() *rand.Rand { return rand.New(rand.NewPCG(oracleSeed(), 0x5eed)) }

func firstDiff(a, b [][]string) string {
	for i := 0; i < len(a) && i < len(b); i++ {
		if fmt.Sprint(a[i]) != fmt.Sprint(b[i]) {
			return fmt.Sprintf("row %d: %v vs %v", i, a[i], b[i])
		}
	}
	return "one is a prefix of the other"
}

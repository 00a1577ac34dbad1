package sharding

import (
	"database/sql"
	"fmt"
	"strconv"
	"testing"

	"github.com/vtdirect/vtdirect/vindex"
	"github.com/vtdirect/vtdirect/vschema"
)

// addTable creates a table through the gateway (DDL goes to every shard) and adds it to
// customer's vschema.
func addTable(t *testing.T, ddl, name, vschemaJSON string) {
	t.Helper()
	extendVSchema(t, `{"sharded": true, "tables": {"`+name+`": `+vschemaJSON+`}}`)
	db := openDB(t, dsn(gw, "customer"))
	mustExec(t, db, "DROP TABLE IF EXISTS "+name)
	mustExec(t, db, ddl)
}

// extendVSchema adds the vindexes and tables of a vschema (Vitess's JSON) to customer's and
// waits until the gateway routes with them.
func extendVSchema(t *testing.T, js string) {
	t.Helper()
	ctx := t.Context()
	vs, err := cluster.Topo.GetVSchema(ctx, "customer")
	if err != nil {
		t.Fatal(err)
	}
	add, err := vschema.Parse([]byte(js))
	if err != nil {
		t.Fatal(err)
	}
	for name, v := range add.Vindexes {
		vs.Vindexes[name] = v
	}
	for name, tb := range add.Tables {
		vs.Tables[name] = tb
	}
	if vs.Vindexes["hash"] == nil {
		t.Fatal("customer's vschema has no hash vindex")
	}
	if err := cluster.Topo.SaveVSchema(ctx, "customer", vs); err != nil {
		t.Fatal(err)
	}
	waitVSchema(t, func(v *vschema.VSchema) bool {
		ks := v.Keyspace("customer")
		for name := range add.Tables {
			if ks.Table(name) == nil {
				return false
			}
		}
		for name := range add.Vindexes {
			if ks.Vindexes[name] == nil {
				return false
			}
		}
		return true
	})
}

// shardOf is the shard a hash vindex puts an id on.
func shardOf(id int64) string {
	ksid := vindex.HashUint64(uint64(id))
	for _, sh := range sharded.Keyspace.Shards {
		if kr, _ := vindex.ParseShard(sh.Name); kr.Contains(ksid) {
			return sh.Name
		}
	}
	return ""
}

// tableStats reads MariaDB's own counters of a table on each shard's primary (userstat).
type tableStats map[string][2]int64 // shard -> rows read, rows changed

func readStats(t *testing.T, dbs map[string]*sql.DB, table string) tableStats {
	t.Helper()
	out := tableStats{}
	for sh, db := range dbs {
		var read, changed int64
		err := db.QueryRowContext(t.Context(), "SELECT ROWS_READ, ROWS_CHANGED FROM information_schema.TABLE_STATISTICS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?",
			sharded.Keyspace.DBName, table).Scan(&read, &changed)
		if err != nil && err != sql.ErrNoRows {
			t.Fatal(err)
		}
		out[sh] = [2]int64{read, changed}
	}
	return out
}

// TestSingleShardRoutingCounters proves from MariaDB's counters, not the gateway's word,
// that statements with the vindex column reach only the shard of its value, and that the
// others reach every shard.
func TestSingleShardRoutingCounters(t *testing.T) {
	// No index on id: a statement scans its shard's rows, so the rows a shard read show
	// whether the statement reached it at all (a primary key lookup that misses reads none).
	addTable(t, "CREATE TABLE counted (id BIGINT NOT NULL, v INT)", "counted", `{"column_vindexes": [{"column": "id", "name": "hash"}]}`)
	db := openDB(t, dsn(gw, "customer"))
	c := conn(t, db)
	primaries := map[string]*sql.DB{}
	for _, sh := range sharded.Keyspace.Shards {
		primaries[sh.Name] = shardDB(t, sharded.Primary(sh.Name).Alias())
	}
	before := readStats(t, primaries, "counted")
	for id := 1; id <= 20; id++ {
		mustExec(t, c, fmt.Sprintf("INSERT INTO counted (id, v) VALUES (%d, %d)", id, id))
	}
	after := readStats(t, primaries, "counted")
	perShard := map[string]int64{}
	for id := int64(1); id <= 20; id++ {
		perShard[shardOf(id)]++
	}
	for sh := range primaries {
		if got := after[sh][1] - before[sh][1]; got != perShard[sh] {
			t.Errorf("inserts: shard %s changed %d rows, want %d (its ids)", sh, got, perShard[sh])
		}
	}
	delta := func(stmt string, col int) map[string]int64 {
		t.Helper()
		b := readStats(t, primaries, "counted")
		if _, err := c.ExecContext(t.Context(), stmt); err != nil {
			// a SELECT through Exec: run it as a query instead
			t.Fatalf("%s: %v", stmt, err)
		}
		a := readStats(t, primaries, "counted")
		out := map[string]int64{}
		for sh := range primaries {
			out[sh] = a[sh][col] - b[sh][col]
		}
		return out
	}
	query := func(stmt string) map[string]int64 {
		t.Helper()
		b := readStats(t, primaries, "counted")
		rows(t, c, stmt)
		a := readStats(t, primaries, "counted")
		out := map[string]int64{}
		for sh := range primaries {
			out[sh] = a[sh][0] - b[sh][0]
		}
		return out
	}
	for id := int64(1); id <= 20; id++ {
		want := shardOf(id)
		d := query("SELECT v FROM counted WHERE id = " + strconv.FormatInt(id, 10))
		for sh, n := range d {
			if (sh == want) != (n > 0) {
				t.Errorf("SELECT id = %d read %d rows on shard %s (its shard is %s)", id, n, sh, want)
			}
		}
		d = delta("UPDATE counted SET v = v + 1 WHERE id = "+strconv.FormatInt(id, 10), 0)
		for sh, n := range d {
			if (sh == want) != (n > 0) {
				t.Errorf("UPDATE id = %d read %d rows on shard %s (its shard is %s)", id, n, sh, want)
			}
		}
	}
	// Two ids on different shards: both shards, each for its own row.
	var a, b int64 = 1, 2
	for shardOf(b) == shardOf(a) {
		b++
	}
	d := query(fmt.Sprintf("SELECT v FROM counted WHERE id IN (%d, %d)", a, b))
	for sh, n := range d {
		if n == 0 {
			t.Errorf("IN over two shards read nothing on shard %s", sh)
		}
	}
	// No vindex filter: every shard.
	d = query("SELECT COUNT(*) FROM counted WHERE v > 0")
	for sh, n := range d {
		if n == 0 {
			t.Errorf("a scatter query read nothing on shard %s", sh)
		}
	}
	// A value that maps to no shard reads nothing anywhere it matters (Vitess's hash takes
	// integers only).
	if got := rows(t, c, "SELECT v FROM counted WHERE id = 'x1'"); len(got) != 0 {
		t.Errorf("id = 'x1' gave rows %v; a hash vindex maps it to no shard", got)
	}
}

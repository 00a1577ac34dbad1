package sharding

import (
	"fmt"
	"sort"
	"sync"
	"testing"

	"github.com/vtdirect/vtdirect/vschema"
)

// TestSequenceUnique: 16 sessions on each of two gateways insert at once into a table whose
// ids come from a sequence with a small cache (so that blocks are reserved often), then a
// gateway restarts and they insert again: every id is unique, the OK packets' insert ids
// and LAST_INSERT_ID() are the rows' ids, and the table has them all.
func TestSequenceUnique(t *testing.T) {
	ctx := t.Context()
	commerce := openDB(t, dsn(gw, "commerce"))
	mustExec(t, commerce, "DROP TABLE IF EXISTS seqtest_seq")
	mustExec(t, commerce, "CREATE TABLE seqtest_seq (id INT, next_id BIGINT, cache BIGINT, PRIMARY KEY (id)) COMMENT 'vitess_sequence'")
	mustExec(t, commerce, "INSERT INTO seqtest_seq (id, next_id, cache) VALUES (0, 1, 7)")
	cvs, err := cluster.Topo.GetVSchema(ctx, "commerce")
	if err != nil {
		t.Fatal(err)
	}
	seq, _ := vschema.Parse([]byte(`{"tables": {"seqtest_seq": {"type": "sequence"}}}`))
	cvs.Tables["seqtest_seq"] = seq.Tables["seqtest_seq"]
	if err := cluster.Topo.SaveVSchema(ctx, "commerce", cvs); err != nil {
		t.Fatal(err)
	}
	addTable(t, "CREATE TABLE seqtest (id BIGINT NOT NULL PRIMARY KEY, who VARCHAR(16))", "seqtest",
		`{"column_vindexes": [{"column": "id", "name": "hash"}], "auto_increment": {"column": "id", "sequence": "commerce.seqtest_seq"}}`)
	gw2 := newGateway(t, nil)
	gw3 := newGateway(t, nil)

	var mu sync.Mutex
	ids := map[int64]string{}
	record := func(id int64, who string) {
		mu.Lock()
		defer mu.Unlock()
		if prev, dup := ids[id]; dup {
			t.Errorf("id %d given twice: to %s and %s", id, prev, who)
		}
		ids[id] = who
	}
	round := func(name string, gws ...interface{ MySQLAddr() string }) {
		var wg sync.WaitGroup
		for gi, g := range gws {
			db := openDB(t, fmt.Sprintf("app:app@tcp(%s)/customer", g.MySQLAddr()))
			db.SetMaxOpenConns(16)
			for w := 0; w < 16; w++ {
				who := fmt.Sprintf("%s-g%d-w%d", name, gi, w)
				wg.Add(1)
				go func() {
					defer wg.Done()
					c, err := db.Conn(ctx)
					if err != nil {
						t.Error(err)
						return
					}
					defer c.Close()
					for i := 0; i < 20; i++ {
						n := 1 + i%3 // single and multi-row inserts
						q := "INSERT INTO seqtest (who) VALUES (?)"
						args := []any{who}
						for k := 1; k < n; k++ {
							q += ", (?)"
							args = append(args, who)
						}
						res, err := c.ExecContext(ctx, q, args...)
						if err != nil {
							t.Errorf("%s: %v", who, err)
							return
						}
						first, _ := res.LastInsertId()
						var last int64
						if err := c.QueryRowContext(ctx, "SELECT LAST_INSERT_ID()").Scan(&last); err != nil || last != first {
							t.Errorf("%s: LAST_INSERT_ID() = %d (%v), the insert's id was %d", who, last, err, first)
						}
						for k := 0; k < n; k++ {
							record(first+int64(k), who)
						}
					}
				}()
			}
		}
		wg.Wait()
	}
	round("a", gw2, gw3)
	gw3.Close() // a restart: its cached block is lost, never given again
	gw4 := newGateway(t, nil)
	round("b", gw2, gw4)
	if t.Failed() {
		return
	}
	got := rows(t, openDB(t, dsn(gw, "customer")), "SELECT id, who FROM seqtest")
	if len(got) != len(ids) {
		t.Fatalf("the table has %d rows, the inserts reported %d ids", len(got), len(ids))
	}
	for _, r := range got {
		var id int64
		fmt.Sscan(r[0], &id)
		if ids[id] != r[1] {
			t.Fatalf("row %v: the insert that reported id %d was %q", r, id, ids[id])
		}
	}
	var all []int64
	for id := range ids {
		all = append(all, id)
	}
	sort.Slice(all, func(i, j int) bool { return all[i] < all[j] })
	t.Logf("%d unique ids from %d to %d", len(all), all[0], all[len(all)-1])
}

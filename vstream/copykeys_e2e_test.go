package vstream_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	binlogdatapb "vitess.io/vitess/go/vt/proto/binlogdata"
	topodatapb "vitess.io/vitess/go/vt/proto/topodata"
	vtgatepb "vitess.io/vitess/go/vt/proto/vtgate"

	"github.com/vtdirect/vtdirect/vstream"
)

// keyTable is a table of one key type for TestCopyKeyTypes: its DDL and the SQL literal of
// the n-th key.
type keyTable struct {
	name, ddl string
	key       func(n int) string // SQL literal(s) of the key columns, for "WHERE <where(n)>"
	where     func(n int) string
	insert    func(id, n int) string // the VALUES list of a row with id and key n
}

func keyTables() []keyTable {
	letters := "aBcDeFgHiJ"
	vc := func(n int) string { return fmt.Sprintf("'%c%d'", letters[n%10], n/10) } // 'a0' < 'B0' in general_ci, not in bytes
	dec := func(n int) string { return fmt.Sprintf("%d.%02d", n%400-150, n%97) }
	dt := func(n int) string {
		return "'" + time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(n)*7919*time.Second+time.Duration(n%1000)*time.Millisecond).Format("2006-01-02 15:04:05.000") + "'"
	}
	bin := func(n int) string { return fmt.Sprintf("x'%02x00%02x'", n%256, 255-n/256) }
	ai := func(n int) string { return fmt.Sprintf("'%c%d'", "eéEÉ"[n%3], n/4) }
	return []keyTable{
		{name: "k_varchar_ci", ddl: "(id INT NOT NULL, k VARCHAR(16) COLLATE utf8mb4_general_ci PRIMARY KEY, v INT)",
			where: func(n int) string { return "k = " + vc(n) }, insert: func(id, n int) string { return fmt.Sprintf("(%d, %s, %d)", id, vc(n), n) }},
		{name: "k_char_ai", ddl: "(id INT NOT NULL, k CHAR(8) COLLATE utf8mb4_unicode_ci PRIMARY KEY, v INT)",
			where: func(n int) string { return "k = " + ai(n) }, insert: func(id, n int) string { return fmt.Sprintf("(%d, %s, %d)", id, ai(n), n) }},
		{name: "k_decimal", ddl: "(id INT NOT NULL, k DECIMAL(8,2) PRIMARY KEY, v INT)",
			where: func(n int) string { return "k = " + dec(n) }, insert: func(id, n int) string { return fmt.Sprintf("(%d, %s, %d)", id, dec(n), n) }},
		{name: "k_datetime", ddl: "(id INT NOT NULL, k DATETIME(3) PRIMARY KEY, v INT)",
			where: func(n int) string { return "k = " + dt(n) }, insert: func(id, n int) string { return fmt.Sprintf("(%d, %s, %d)", id, dt(n), n) }},
		{name: "k_binary", ddl: "(id INT NOT NULL, k VARBINARY(8) PRIMARY KEY, v INT)",
			where: func(n int) string { return "k = " + bin(n) }, insert: func(id, n int) string { return fmt.Sprintf("(%d, %s, %d)", id, bin(n), n) }},
		{name: "k_composite", ddl: "(id INT NOT NULL, a INT, b VARCHAR(8) COLLATE utf8mb4_general_ci, v INT, PRIMARY KEY (a, b))",
			where:  func(n int) string { return fmt.Sprintf("a = %d AND b = %s", n%7, vc(n)) },
			insert: func(id, n int) string { return fmt.Sprintf("(%d, %d, %s, %d)", id, n%7, vc(n), n) }},
		{name: "k_unique", ddl: "(id INT NOT NULL, k VARCHAR(16) COLLATE utf8mb4_general_ci NOT NULL, v INT, UNIQUE KEY (k))",
			where: func(n int) string { return "k = " + vc(n) }, insert: func(id, n int) string { return fmt.Sprintf("(%d, %s, %d)", id, vc(n), n) }},
		{name: "k_none", ddl: "(id INT NOT NULL, k INT, v INT)",
			where: func(n int) string { return fmt.Sprintf("k = %d", n) }, insert: func(id, n int) string { return fmt.Sprintf("(%d, %d, %d)", id, n, n) }},
	}
}

// TestCopyKeyTypes copies tables keyed by every kind of key while a writer inserts, updates
// and deletes rows in them, with chunks small enough that the copy catches up on the binlog
// many times per table. A consumer that applies every event ends with exactly each table's
// rows, having seen no duplicate insert and no change to a row it lacks.
func TestCopyKeyTypes(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	c := startCluster(t, ctx, 0)
	tables := keyTables()
	var names []*binlogdatapb.Rule
	nextID := 0
	for _, kt := range tables {
		c.exec(t, "CREATE TABLE t."+kt.name+" "+kt.ddl)
		for n := 0; n < 400; n += 2 {
			nextID++
			c.exec(t, "INSERT IGNORE INTO t."+kt.name+" VALUES "+kt.insert(nextID, n))
		}
		names = append(names, &binlogdatapb.Rule{Match: kt.name})
	}
	client := serve(t, newPicker(c), func(cfg *vstream.Config) { cfg.CopyChunkRows = 13 })
	cons := newConsumer()
	sctx, scancel := context.WithCancel(ctx)
	defer scancel()
	go func() {
		err := stream(sctx, client, &vtgatepb.VStreamRequest{TabletType: topodatapb.TabletType_PRIMARY, Vgtid: vgtid(""),
			Filter: &binlogdatapb.Filter{Rules: names}}, cons)
		if sctx.Err() == nil {
			t.Errorf("stream ended: %v", err)
			cancel()
		}
	}()
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		rnd := rand.New(rand.NewPCG(7, 9))
		id := 100000
		for {
			select {
			case <-stop:
				return
			default:
			}
			kt := tables[rnd.IntN(len(tables))]
			n := rnd.IntN(400)
			var q string
			switch rnd.IntN(3) {
			case 0:
				id++
				q = "INSERT IGNORE INTO t." + kt.name + " VALUES " + kt.insert(id, n)
			case 1:
				q = fmt.Sprintf("UPDATE t.%s SET v = v + 1 WHERE %s", kt.name, kt.where(n))
			default:
				q = fmt.Sprintf("DELETE FROM t.%s WHERE %s", kt.name, kt.where(n))
			}
			if _, err := c.pdb.ExecContext(ctx, q); err != nil && ctx.Err() == nil {
				t.Errorf("%s: %v", q, err)
				return
			}
		}
	}()
	waitFor(t, ctx, "copy completed", func() (bool, string) {
		cons.mu.Lock()
		defer cons.mu.Unlock()
		return cons.copyDone, "no COPY_COMPLETED yet"
	})
	close(stop)
	wg.Wait()
	for _, kt := range tables {
		waitFor(t, ctx, kt.name, func() (bool, string) {
			cons.mu.Lock()
			err := cons.err
			cons.mu.Unlock()
			if err != nil {
				t.Fatalf("consumer: %v", err)
			}
			return sameRows(t, cons, c.pdb, kt.name)
		})
	}
}

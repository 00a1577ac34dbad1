package sharding

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"
)

// idsOnShards returns n ids on shard -80 and n on 80-, from start.
func idsOnShards(start int64, n int) (low, high []int64) {
	for id := start; len(low) < n || len(high) < n; id++ {
		if shardOf(id) == "-80" {
			if len(low) < n {
				low = append(low, id)
			}
		} else if len(high) < n {
			high = append(high, id)
		}
	}
	return low, high
}

func count(t *testing.T, q querier, ids ...int64) int64 {
	t.Helper()
	var in []string
	for _, id := range ids {
		in = append(in, fmt.Sprint(id))
	}
	return queryInt(t, q, "SELECT COUNT(*) FROM customer WHERE customer_id IN ("+strings.Join(in, ",")+")")
}

func TestTransactionMulti(t *testing.T) {
	db := openDB(t, dsn(gw, "customer"))
	c := conn(t, db)
	low, high := idsOnShards(50_000, 2)
	mustExec(t, c, "BEGIN")
	mustExec(t, c, fmt.Sprintf("INSERT INTO customer (customer_id, email) VALUES (%d, 'tx@a')", low[0]))
	mustExec(t, c, fmt.Sprintf("INSERT INTO customer (customer_id, email) VALUES (%d, 'tx@b')", high[0]))
	if n := count(t, c, low[0], high[0]); n != 2 {
		t.Errorf("inside the transaction it sees %d of its 2 rows", n)
	}
	other := conn(t, db)
	if n := count(t, other, low[0], high[0]); n != 0 {
		t.Errorf("another session sees %d uncommitted rows", n)
	}
	mustExec(t, c, "COMMIT")
	if n := count(t, other, low[0], high[0]); n != 2 {
		t.Errorf("after COMMIT another session sees %d of 2 rows", n)
	}
	// ROLLBACK undoes both shards.
	mustExec(t, c, "BEGIN")
	mustExec(t, c, fmt.Sprintf("INSERT INTO customer (customer_id, email) VALUES (%d, 'tx@c'), (%d, 'tx@d')", low[1], high[1]))
	mustExec(t, c, "UPDATE customer SET email = 'changed' WHERE customer_id IN ("+fmt.Sprint(low[0], ",", high[0])+")")
	mustExec(t, c, "ROLLBACK")
	if n := count(t, other, low[1], high[1]); n != 0 {
		t.Errorf("after ROLLBACK %d rows remain", n)
	}
	if n := queryInt(t, other, "SELECT COUNT(*) FROM customer WHERE email = 'changed'"); n != 0 {
		t.Errorf("after ROLLBACK %d rows are changed", n)
	}
	// autocommit off: the servers open the transaction; ROLLBACK undoes it everywhere.
	mustExec(t, c, "SET autocommit = 0")
	mustExec(t, c, fmt.Sprintf("INSERT INTO customer (customer_id, email) VALUES (%d, 'ac@c')", low[1]))
	mustExec(t, c, fmt.Sprintf("INSERT INTO customer (customer_id, email) VALUES (%d, 'ac@d')", high[1]))
	if n := count(t, other, low[1], high[1]); n != 0 {
		t.Errorf("autocommit=0: another session sees %d uncommitted rows", n)
	}
	mustExec(t, c, "ROLLBACK")
	mustExec(t, c, fmt.Sprintf("INSERT INTO customer (customer_id, email) VALUES (%d, 'ac@c'), (%d, 'ac@d')", low[1], high[1]))
	mustExec(t, c, "COMMIT")
	mustExec(t, c, "SET autocommit = 1")
	if n := count(t, other, low[1], high[1]); n != 2 {
		t.Errorf("autocommit=0 then COMMIT: %d of 2 rows", n)
	}
	mustExec(t, c, "DELETE FROM customer WHERE customer_id IN ("+fmt.Sprint(low[0], ",", high[0], ",", low[1], ",", high[1])+")")
}

func TestTransactionSingle(t *testing.T) {
	db := openDB(t, dsn(gw, "customer"))
	c := conn(t, db)
	other := conn(t, db)
	low, high := idsOnShards(60_000, 1)
	mustExec(t, c, "SET transaction_mode = 'single'")
	mustExec(t, c, "BEGIN")
	mustExec(t, c, fmt.Sprintf("INSERT INTO customer (customer_id, email) VALUES (%d, 's@a')", low[0]))
	rows(t, c, "SELECT * FROM customer") // reading every shard is allowed
	_, err := c.ExecContext(t.Context(), fmt.Sprintf("INSERT INTO customer (customer_id, email) VALUES (%d, 's@b')", high[0]))
	me := mysqlErr(t, err, 1317)
	if !strings.Contains(me.Message, "multi-db transaction") || !strings.Contains(me.Message, "rolled back") {
		t.Errorf("message %q", me.Message)
	}
	if n := count(t, other, low[0], high[0]); n != 0 {
		t.Errorf("the refused transaction left %d rows", n)
	}
	if n := queryInt(t, c, "SELECT @@in_transaction"); n != 0 {
		t.Errorf("the session is still in a transaction after the refusal")
	}
	// An autocommit write to two shards is one transaction over them: refused before it runs.
	_, err = c.ExecContext(t.Context(), fmt.Sprintf("INSERT INTO customer (customer_id, email) VALUES (%d, 's@a'), (%d, 's@b')", low[0], high[0]))
	mysqlErr(t, err, 1317)
	if n := count(t, other, low[0], high[0]); n != 0 {
		t.Errorf("the refused insert left %d rows", n)
	}
	// ... unless MULTI_SHARD_AUTOCOMMIT says each shard commits on its own.
	mustExec(t, c, fmt.Sprintf("INSERT /*vt+ MULTI_SHARD_AUTOCOMMIT=1 */ INTO customer (customer_id, email) VALUES (%d, 's@a'), (%d, 's@b')", low[0], high[0]))
	if n := count(t, other, low[0], high[0]); n != 2 {
		t.Errorf("MULTI_SHARD_AUTOCOMMIT insert left %d of 2 rows", n)
	}
	mustExec(t, c, "SET transaction_mode = 'multi'")
	mustExec(t, c, "DELETE FROM customer WHERE customer_id IN ("+fmt.Sprint(low[0], ",", high[0])+")")
	if _, err := c.ExecContext(t.Context(), "SET transaction_mode = 'twopc'"); err == nil {
		t.Error("transaction_mode twopc accepted")
	}
}

// TestTransactionCommitPartialFailure kills a shard's primary between the writes and the
// COMMIT: the shard committed first keeps its row, the error names it.
func TestTransactionCommitPartialFailure(t *testing.T) {
	db := openDB(t, dsn(gw, "customer"))
	c := conn(t, db)
	low, high := idsOnShards(70_000, 1)
	mustExec(t, c, "BEGIN")
	mustExec(t, c, fmt.Sprintf("INSERT INTO customer (customer_id, email) VALUES (%d, 'p@a')", low[0]))
	mustExec(t, c, fmt.Sprintf("INSERT INTO customer (customer_id, email) VALUES (%d, 'p@b')", high[0]))
	victim := sharded.Primary("80-")
	victim.MariaDB.Kill()
	_, err := c.ExecContext(t.Context(), "COMMIT")
	restart(t, victim.Alias())
	if err == nil {
		t.Fatal("COMMIT succeeded with a shard's primary dead")
	}
	if !strings.Contains(err.Error(), "customer/80-") || !strings.Contains(err.Error(), "customer/-80 had committed") {
		t.Errorf("the error does not say which shards committed: %v", err)
	}
	other := conn(t, db)
	if n := count(t, other, low[0]); n != 1 {
		t.Errorf("the shard that committed has %d rows, want 1", n)
	}
	if n := count(t, other, high[0]); n != 0 {
		t.Errorf("the dead shard has %d rows, want 0", n)
	}
	mustExec(t, other, "DELETE FROM customer WHERE customer_id = "+fmt.Sprint(low[0]))
}

// restart starts a killed tablet again and waits until the gateway serves from it.
func restart(t *testing.T, alias string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	tab := sharded.Tablet(alias)
	if err := tab.MariaDB.Start(ctx); err != nil {
		t.Fatal(err)
	}
	// A server boots read-only (the demo's failover makes a primary writable): it is one.
	root := openDB(t, tab.MariaDB.DSN(""))
	mustExec(t, root, "SET GLOBAL read_only = OFF")
	db := openDB(t, dsn(gw, "customer"))
	var err error
	for {
		if _, err = db.ExecContext(ctx, "SELECT COUNT(*) FROM customer"); err == nil {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("the gateway does not serve from %s again: %v", alias, err)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

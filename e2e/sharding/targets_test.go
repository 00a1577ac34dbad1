package sharding

import (
	"strings"
	"testing"
	"time"

	topodatapb "vitess.io/vitess/go/vt/proto/topodata"
)

// TestExplicitTargets: a target naming a shard (customer:-80, customer:80-@replica) reaches
// that shard's tablet as before sharded keyspaces were routed; customer@replica routes reads
// to the replicas and refuses writes.
func TestExplicitTargets(t *testing.T) {
	for _, sh := range sharded.Keyspace.Shards {
		prim := sharded.Primary(sh.Name)
		direct := queryInt(t, shardDB(t, prim.Alias()), "SELECT COUNT(*) FROM customer")
		c := conn(t, openDB(t, dsn(gw, "customer:"+sh.Name)))
		if n := queryInt(t, c, "SELECT COUNT(*) FROM customer"); n != direct {
			t.Errorf("customer:%s counts %d customers, its primary %d", sh.Name, n, direct)
		}
		if port := queryInt(t, c, "SELECT @@port"); port != int64(prim.Record.MysqlPort) {
			t.Errorf("customer:%s ran on port %d, its primary is on %d", sh.Name, port, prim.Record.MysqlPort)
		}
		var replica int32
		for _, tab := range sharded.Tablets() {
			if tab.Record.Shard == sh.Name && tab.Spec.Type == topodatapb.TabletType_REPLICA {
				replica = tab.Record.MysqlPort
			}
		}
		rc := conn(t, openDB(t, dsn(gw, "customer:"+sh.Name+"@replica")))
		if port := queryInt(t, rc, "SELECT @@port"); port != int64(replica) {
			t.Errorf("customer:%s@replica ran on port %d, its replica is on %d", sh.Name, port, replica)
		}
	}
	rc := conn(t, openDB(t, dsn(gw, "customer@replica")))
	want := queryInt(t, conn(t, openDB(t, dsn(gw, "customer"))), "SELECT COUNT(*) FROM customer")
	deadline := time.Now().Add(20 * time.Second) // the replicas catch up with earlier tests' rows
	for n := queryInt(t, rc, "SELECT COUNT(*) FROM customer"); n != want; n = queryInt(t, rc, "SELECT COUNT(*) FROM customer") {
		if time.Now().After(deadline) {
			t.Fatalf("customer@replica counts %d customers, the primaries %d", n, want)
		}
		time.Sleep(100 * time.Millisecond)
	}
	_, err := rc.ExecContext(t.Context(), "UPDATE customer SET email = email WHERE customer_id = 1")
	if err == nil {
		t.Error("an UPDATE on customer@replica succeeded")
	}
}

// TestRefusals: what the gateway cannot route correctly is refused with 1235 naming the
// construct (or MariaDB's own code), and the session goes on working.
func TestRefusals(t *testing.T) {
	c := conn(t, openDB(t, dsn(gw, "customer")))
	for _, tc := range []struct {
		query string
		code  uint16
		names string
	}{
		{"SELECT c.email FROM customer c JOIN corder o ON c.email = o.sku", 1235, "join"},
		{"UPDATE customer SET customer_id = customer_id + 1 WHERE customer_id = 1", 1235, "primary vindex column"},
		{"SET @x = 1", 1235, "user variables"},
		{"SELECT email FROM customer UNION SELECT sku FROM corder", 1235, "UNION"},
		{"INSERT INTO customer SELECT * FROM customer", 1235, "INSERT ... SELECT"},
		{"UPDATE customer SET email = 'x' LIMIT 1", 1235, "LIMIT"},
		{"LOCK TABLES customer READ", 1235, "LOCK TABLES"},
		{"SELECT * FROM no_such_table", 1146, "no_such_table"},
		{"SELECT * FROM customer WHERE", 1064, ""},
	} {
		_, err := c.ExecContext(t.Context(), tc.query)
		if err == nil {
			t.Errorf("%s: no error, want %d", tc.query, tc.code)
			continue
		}
		me := mysqlErr(t, err, tc.code)
		if !strings.Contains(me.Message, tc.names) {
			t.Errorf("%s: error %q does not name %q", tc.query, me.Message, tc.names)
		}
		if n := queryInt(t, c, "SELECT COUNT(*) FROM customer WHERE customer_id = 1"); n != 1 {
			t.Fatalf("after %q the session reads %d rows of customer 1", tc.query, n)
		}
	}
	// A value the hash vindex cannot map (not an integer) is on no shard: no rows, no error.
	if got := rows(t, c, "SELECT * FROM customer WHERE customer_id = 'abc'"); len(got) != 0 {
		t.Errorf("customer_id = 'abc' found %v", got)
	}
}

// TestDirectives: vtgate's comment directives on sharded statements.
func TestDirectives(t *testing.T) {
	c := conn(t, openDB(t, dsn(gw, "customer")))
	for _, q := range []string{
		"SELECT /*vt+ QUERY_TIMEOUT_MS=200 */ SLEEP(20) FROM customer WHERE customer_id = 1", // one shard
		"SELECT /*vt+ QUERY_TIMEOUT_MS=200 */ SLEEP(2) FROM customer",                        // every shard
	} {
		start := time.Now()
		_, err := c.ExecContext(t.Context(), q)
		if err == nil {
			t.Errorf("%s: no error after %v", q, time.Since(start))
			continue
		}
		// Well before the statement's own end: the timeout stopped it.
		if d := time.Since(start); d > 10*time.Second {
			t.Errorf("%s: returned after %v (%v)", q, d, err)
		}
		if n := queryInt(t, c, "SELECT COUNT(*) FROM customer WHERE customer_id = 1"); n != 1 {
			t.Fatalf("after the timeout the session reads %d rows of customer 1", n)
		}
	}
}

// TestShowVSchema: SHOW VSCHEMA TABLES and VINDEXES, with vtgate's columns.
func TestShowVSchema(t *testing.T) {
	c := conn(t, openDB(t, dsn(gw, "customer")))
	tables := strings.Join(flat(rows(t, c, "SHOW VSCHEMA TABLES")), ",")
	for _, want := range []string{"corder", "customer", "product"} {
		if !strings.Contains(","+tables+",", ","+want+",") {
			t.Errorf("SHOW VSCHEMA TABLES = %s, lacks %s", tables, want)
		}
	}
	got := rows(t, c, "SHOW VSCHEMA VINDEXES ON customer")
	if len(got) == 0 || strings.Join(got[0][:3], "|") != "customer_id|hash|hash" {
		t.Errorf("SHOW VSCHEMA VINDEXES ON customer = %v, want customer_id|hash|hash first", got)
	}
	rs, err := c.QueryContext(t.Context(), "SHOW VSCHEMA VINDEXES")
	if err != nil {
		t.Fatal(err)
	}
	cols, _ := rs.Columns()
	rs.Close()
	if strings.Join(cols, ",") != "Keyspace,Name,Type,Params,Owner" {
		t.Errorf("SHOW VSCHEMA VINDEXES columns %v", cols)
	}
	// On an unsharded target too, as vtgate answers it.
	u := conn(t, openDB(t, dsn(gw, "commerce")))
	if tables := strings.Join(flat(rows(t, u, "SHOW VSCHEMA TABLES")), ","); !strings.Contains(tables, "customer_seq") {
		t.Errorf("SHOW VSCHEMA TABLES on commerce = %s", tables)
	}
}

// TestMergedColumnNames: a merged result's columns are named as MariaDB names them, though
// the shards ran a rewritten statement.
func TestMergedColumnNames(t *testing.T) {
	c := conn(t, openDB(t, dsn(gw, "customer")))
	direct := shardDB(t, sharded.Primary("-80").Alias())
	for _, q := range []string{
		"SELECT AVG(customer_id + 1), COUNT(*), MAX(email) FROM customer",
		"SELECT email, customer_id*2 FROM customer ORDER BY email DESC LIMIT 3",
		"SELECT LEFT(email, 3) AS p, COUNT(*) FROM customer GROUP BY p HAVING COUNT(*) > 0",
	} {
		want := columns(t, direct, q)
		if got := columns(t, c, q); strings.Join(got, "|") != strings.Join(want, "|") {
			t.Errorf("%s: columns %q, MariaDB names them %q", q, got, want)
		}
	}
}

func columns(t *testing.T, q querier, query string) []string {
	t.Helper()
	rs, err := q.QueryContext(t.Context(), query)
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	defer rs.Close()
	cols, err := rs.Columns()
	if err != nil {
		t.Fatal(err)
	}
	return cols
}

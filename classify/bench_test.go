package classify

import (
	"strings"
	"testing"
)

// Queries of the per-query path, for the benchmarks and the allocation test.
var (
	benchPointSelect = "SELECT c FROM sbtest1 WHERE id=123"
	benchJoin        = "SELECT o.id, o.total, c.name, c.email, p.title FROM orders o JOIN customers c ON c.id = o.customer_id " +
		"JOIN order_items i ON i.order_id = o.id JOIN products p ON p.id = i.product_id WHERE o.created_at >= '2024-01-01' " +
		"AND c.region IN ('eu', 'us') AND p.price > 10.5 AND o.status <> 'void' ORDER BY o.created_at DESC LIMIT 50"
	benchInsert = "INSERT INTO sbtest1 (id, k, c, pad) VALUES " + strings.TrimSuffix(strings.Repeat(
		"(1234, 5012, '68487932199-96439406143-93774651418-41631865787-96406072701', '22195207048-70116052123-74140395089'), ", 10), ", ")
	benchSet   = "SET SESSION sql_mode = 'STRICT_TRANS_TABLES,NO_ENGINE_SUBSTITUTION', autocommit = 1"
	benchMulti = "SELECT c FROM sbtest1 WHERE id=1; UPDATE sbtest1 SET k=k+1 WHERE id=2; SELECT LAST_INSERT_ID()"
)

func benchmarkAnalyze(b *testing.B, q string) {
	qb := []byte(q)
	b.SetBytes(int64(len(qb)))
	b.ReportAllocs()
	for b.Loop() {
		Analyze(qb, Options{})
	}
}

func BenchmarkAnalyzePointSelect(b *testing.B) { benchmarkAnalyze(b, benchPointSelect) }
func BenchmarkAnalyzeJoin(b *testing.B)        { benchmarkAnalyze(b, benchJoin) }
func BenchmarkAnalyzeInsert10(b *testing.B)    { benchmarkAnalyze(b, benchInsert) }
func BenchmarkAnalyzeSet(b *testing.B)         { benchmarkAnalyze(b, benchSet) }
func BenchmarkAnalyzeMulti(b *testing.B)       { benchmarkAnalyze(b, benchMulti) }
func BenchmarkAnalyzeBegin(b *testing.B)       { benchmarkAnalyze(b, "BEGIN") }

// TestZeroAllocs: the per-query path allocates nothing.
func TestZeroAllocs(t *testing.T) {
	for _, q := range []string{benchPointSelect, benchJoin, benchInsert, benchMulti,
		"UPDATE t SET a = a + 1 WHERE id = 5", "DELETE FROM t WHERE id = ?", "REPLACE INTO t VALUES (1)",
		"/*vt+ QUERY_TIMEOUT_MS=10 */ select * from t where a = 'x' for update", "select @a := 1, last_insert_id()",
		"BEGIN", "START TRANSACTION READ ONLY", "COMMIT", "ROLLBACK", "select 1; -- c"} {
		qb := []byte(q)
		if n := testing.AllocsPerRun(100, func() { Analyze(qb, Options{}) }); n != 0 {
			t.Errorf("Analyze(%q): %v allocations, want 0", q, n)
		}
	}
}

// BenchmarkCurrentDatabaseOnly is what the router adds to a statement whose connection
// switches its database (the qualifier scan; the kinds and flags are Analyze's).
func BenchmarkCurrentDatabaseOnly(b *testing.B) {
	for _, q := range []string{benchPointSelect, benchInsert} {
		qb := []byte(q)
		cq := Analyze(qb, Options{})
		b.Run(strings.Fields(q)[0], func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if !CurrentDatabaseOnly(qb, &cq, Options{}) {
					b.Fatal("not bound")
				}
			}
		})
	}
}

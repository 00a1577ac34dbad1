package classify_test

// The old classifier (router.Classify) on the same queries, for comparison in one
// benchmark run. Delete this file with router.Classify.

import (
	"testing"

	"github.com/vtdirect/vtdirect/router"
)

func benchmarkRouterClassify(b *testing.B, q string) {
	qb := []byte(q)
	b.SetBytes(int64(len(qb)))
	b.ReportAllocs()
	for b.Loop() {
		router.Classify(qb)
	}
}

func BenchmarkRouterClassifyPointSelect(b *testing.B) {
	benchmarkRouterClassify(b, "SELECT c FROM sbtest1 WHERE id=123")
}

func BenchmarkRouterClassifyJoin(b *testing.B) {
	benchmarkRouterClassify(b, "SELECT o.id, o.total, c.name, c.email, p.title FROM orders o JOIN customers c ON c.id = o.customer_id "+
		"JOIN order_items i ON i.order_id = o.id JOIN products p ON p.id = i.product_id WHERE o.created_at >= '2024-01-01' "+
		"AND c.region IN ('eu', 'us') AND p.price > 10.5 AND o.status <> 'void' ORDER BY o.created_at DESC LIMIT 50")
}

func BenchmarkRouterClassifySet(b *testing.B) {
	benchmarkRouterClassify(b, "SET SESSION sql_mode = 'STRICT_TRANS_TABLES,NO_ENGINE_SUBSTITUTION', autocommit = 1")
}

package planner

import (
	"testing"

	"github.com/vtdirect/vtdirect/vindex"
)

// BenchmarkPlanCacheHit is the planner's part of a routed point select: normalizing the
// statement and finding its plan in the cache.
func BenchmarkPlanCacheHit(b *testing.B) {
	vs := testVSchema(b)
	p, err := New(Config{})
	if err != nil {
		b.Fatal(err)
	}
	var s Scratch
	req := &Request{Keyspace: "customer", Query: []byte("SELECT c FROM customer WHERE customer_id=4213")}
	p.Plan(vs, req, &s)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		plan, lits := p.Plan(vs, req, &s)
		if plan.Kind != KindRoute || len(lits) != 1 {
			b.Fatal(plan.Kind, len(lits))
		}
	}
}

// BenchmarkPlanMiss plans a statement that is not cached (parse and plan).
func BenchmarkPlanMiss(b *testing.B) {
	vs := testVSchema(b)
	p, err := New(Config{CacheSize: 1})
	if err != nil {
		b.Fatal(err)
	}
	var s Scratch
	reqs := []*Request{
		{Keyspace: "customer", Query: []byte("SELECT c FROM customer WHERE customer_id=1")},
		{Keyspace: "customer", Query: []byte("SELECT name FROM customer ORDER BY name LIMIT 10")},
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		p.Plan(vs, reqs[i%2], &s)
		i++
	}
}

// BenchmarkRouteHash is the keyspace id and shard of a point select's value.
func BenchmarkRouteHash(b *testing.B) {
	v, _, _ := vindex.New("hash", "hash", nil)
	h := v.(vindex.Hashing)
	var shards []vindex.Shard
	for _, n := range []string{"-80", "80-"} {
		kr, _ := vindex.ParseShard(n)
		shards = append(shards, vindex.Shard{Name: n, Range: kr})
	}
	val := vindex.Value{Kind: vindex.Int64, Raw: []byte("4213")}
	b.ReportAllocs()
	for b.Loop() {
		id, err := h.Hash(val)
		if err != nil || vindex.ShardFor(shards, id) < 0 {
			b.Fatal(err)
		}
	}
}

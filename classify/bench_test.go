package classify

import "testing"

func BenchmarkAnalyzePointSelect(b *testing.B) {
	q := []byte("SELECT c FROM sbtest1 WHERE id=123")
	b.ReportAllocs()
	for b.Loop() {
		if Analyze(q, Options{}).First.Kind != KindSelect {
			b.Fatal("wrong kind")
		}
	}
}

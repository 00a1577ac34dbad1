package classify

import (
	"testing"
	"unsafe"
)

func TestSizesTmp(t *testing.T) {
	t.Logf("Statement %d Query %d cursor %d Tokenizer %d walker %d scanner %d head %d blocks %d",
		unsafe.Sizeof(Statement{}), unsafe.Sizeof(Query{}), unsafe.Sizeof(cursor{}), unsafe.Sizeof(Tokenizer{}),
		unsafe.Sizeof(walker{}), unsafe.Sizeof(scanner{}), unsafe.Sizeof(head{}), unsafe.Sizeof(blocks{}))
}

func BenchmarkTmpTokenize(b *testing.B) {
	q := []byte(benchPointSelect)
	for b.Loop() {
		tz := NewTokenizer(q, Options{})
		for tz.Next().Kind != TokEOF {
		}
	}
}

func BenchmarkTmpLookup(b *testing.B) {
	w := []byte("SELECT")
	for b.Loop() {
		lookupKeyword(w)
	}
}

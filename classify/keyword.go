package classify

//go:generate go run ./internal/kwgen keywords.txt keyword_table.go

// keywordHash hashes a lower-case word: the generator (internal/kwgen) uses the same
// function to lay out keywordSlots.
func keywordHash(h uint32, n int) uint32 {
	h ^= uint32(n) * 0x9e3779b1
	return (h ^ h>>15) & uint32(len(keywordSlots)-1)
}

// lookupKeyword returns the keyword w spells, ignoring case, or noKeyword. It lower-cases
// and hashes in one pass, then probes the table: a few nanoseconds per word.
func lookupKeyword(w []byte) keyword {
	if len(w) > maxKeywordLen || len(w) < 2 {
		return noKeyword
	}
	var buf [maxKeywordLen]byte
	var h uint32
	for i, c := range w {
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		buf[i] = c
		h = h*keywordHashMul + uint32(c)
	}
	lower := buf[:len(w)]
	for i := keywordHash(h, len(w)); ; i = (i + 1) & uint32(len(keywordSlots)-1) {
		k := keywordSlots[i]
		if k == noKeyword {
			return noKeyword
		}
		if keywordNames[k] == string(lower) {
			return k
		}
	}
}

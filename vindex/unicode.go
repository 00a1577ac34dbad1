package vindex

import (
	"bytes"
	"crypto/md5"
	"encoding/binary"
	"errors"
	"sync"
	"unicode/utf8"

	"github.com/cespare/xxhash/v2"
	"golang.org/x/text/collate"
	"golang.org/x/text/language"
)

// The unicode_loose vindexes hash a string's primary collation weights. Vitess froze a copy of
// golang.org/x/text's collation tables (Unicode 6.2.0, CLDR 23) for them; x/text still builds
// its tables from the same versions, and its English collator ignoring case, accents and width
// (collate.Loose) yields the same primary weights, encoded the same way: interop/ checks the
// ids against Vitess's on 100,000 strings.

// looseKey is a reusable collator and key buffer (a Collator is not safe for concurrent use).
type looseKey struct {
	c   *collate.Collator
	buf collate.Buffer
}

var looseKeys = sync.Pool{New: func() any {
	return &looseKey{c: collate.New(language.English, collate.Loose)}
}}

// errInvalidUTF8 is the unicode vindexes' error for bytes that are not UTF-8.
var errInvalidUTF8 = errors.New("cannot normalize string containing invalid UTF-8")

// looseWeights calls f with the primary weights of v's text, trailing spaces trimmed (MySQL
// ignores them).
func looseWeights(v Value, f func(key []byte) []byte) ([]byte, error) {
	if !utf8.Valid(v.Raw) {
		return nil, errInvalidUTF8
	}
	k := looseKeys.Get().(*looseKey)
	defer looseKeys.Put(k)
	k.buf.Reset()
	key := k.c.Key(&k.buf, bytes.TrimRight(v.Raw, " "))
	return f(key), nil
}

func unicodeMD5ID(v Value) ([]byte, error) {
	return looseWeights(v, func(key []byte) []byte {
		sum := md5.Sum(key)
		return sum[:]
	})
}

func unicodeXXHashID(v Value) ([]byte, error) {
	return looseWeights(v, func(key []byte) []byte {
		out := make([]byte, 8)
		// Vitess's XXHashBigEndian appends the sum least significant byte first.
		binary.LittleEndian.PutUint64(out, xxhash.Sum64(key))
		return out
	})
}

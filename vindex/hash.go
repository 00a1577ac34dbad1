package vindex

import (
	"crypto/des"
	"crypto/md5"
	"encoding/binary"

	"github.com/cespare/xxhash/v2"
)

// desZero is DES under an all-zero key, the hash vindex's cipher (safe for concurrent use:
// a cipher.Block keeps no state between calls).
var desZero = func() interface{ Encrypt(dst, src []byte) } {
	b, err := des.NewCipher(make([]byte, 8))
	if err != nil {
		panic(err) // an 8-byte key is always valid
	}
	return b
}()

// hashID is the hash vindex: DES of the big-endian integer.
func hashID(v Value) ([]byte, error) {
	n, ok := v.asUint64()
	if !ok {
		return nil, ErrNoKeyspaceID
	}
	return HashUint64(n), nil
}

// HashUint64 is the hash vindex's keyspace id of an integer, without a Value.
func HashUint64(n uint64) []byte {
	// One allocation: the input in the second half (a local array would escape through the
	// cipher's interface).
	buf := make([]byte, 16)
	binary.BigEndian.PutUint64(buf[8:], n)
	desZero.Encrypt(buf[:8], buf[8:])
	return buf[:8:8]
}

// numericID is the numeric vindex: the big-endian integer. Unlike hash it reads every value
// as an unsigned decimal, so a negative integer maps to no keyspace id.
func numericID(v Value) ([]byte, error) {
	n, ok := parseUint64(v.Raw)
	if !ok {
		return nil, ErrNoKeyspaceID
	}
	out := make([]byte, 8)
	binary.BigEndian.PutUint64(out, n)
	return out, nil
}

// xxhashID is the xxhash vindex: xxHash64 of the bytes, little-endian.
func xxhashID(v Value) ([]byte, error) {
	out := make([]byte, 8)
	binary.LittleEndian.PutUint64(out, xxhash.Sum64(v.Raw))
	return out, nil
}

// binaryID is the binary vindex: the bytes themselves.
func binaryID(v Value) ([]byte, error) {
	return append([]byte(nil), v.Raw...), nil
}

// md5ID is the binary_md5 vindex.
func md5ID(v Value) ([]byte, error) {
	sum := md5.Sum(v.Raw)
	return sum[:], nil
}

// Package vindex computes Vitess keyspace ids: the functions ("vindexes") that map a column
// value to the 8-or-more-byte id whose key range names the shard that holds the row. The ids
// are exactly Vitess's (interop/ compares them with Vitess's own vindex code on 100,000 values
// of each kind), so that rows Vitess placed on shards are found where Vitess put them.
//
// It owns: the value model a vindex reads (Value, with the few kinds of Vitess's sqltypes that
// change a vindex's answer), the functional vindexes (hash, xxhash, numeric, binary,
// binary_md5, unicode_loose_md5, unicode_loose_xxhash), the definition of the lookup vindex
// consistent_lookup_unique (its table, columns and the statements that read and maintain it:
// running them is the router's job), key ranges and the choice of a shard for a keyspace id.
// It is pure: no I/O, no goroutines, no state beyond constant tables.
//
// It does not parse vschemas (package vschema builds vindexes from them with New) nor plan
// queries (package planner).
//
// How each vindex reads a value, as Vitess does:
//
//   - hash: the value as an unsigned 64-bit integer (a signed integer is taken as its two's
//     complement), encrypted with DES under an all-zero key, big-endian. Only integers map:
//     a string of digits ('42') is read as the number, anything else (a decimal, a float,
//     '4x', NULL, a negative number in a string) maps to no shard (ErrNoKeyspaceID).
//   - numeric: the unsigned integer itself, big-endian; the same values map as for hash,
//     except negative integers, which map to no shard.
//   - xxhash: xxHash64 of the value's bytes (its text for numbers), little-endian.
//   - binary: the value's bytes are the keyspace id.
//   - binary_md5: MD5 of the value's bytes.
//   - unicode_loose_md5, unicode_loose_xxhash: the value's primary collation weights
//     (Unicode 6.2 / CLDR 23 root+English, ignoring case, accents and width, trailing spaces
//     trimmed), hashed with MD5 or xxHash64 (little-endian). Invalid UTF-8 is an error.
//   - consistent_lookup_unique: the keyspace id is read from a lookup table (Lookup).
//
// Example:
//
//	v, _ := vindex.New("hash", "hash", nil)
//	ksid, err := v.(vindex.Hashing).Hash(vindex.Int64Value(1)) // 166b40b44aba4bd6
//	shard := vindex.ShardFor(shards, ksid)                     // "-80"
package vindex

package vindex

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"strings"
)

// KeyRange is a shard's range of keyspace ids: Start <= id < End, an empty bound being
// unbounded (Vitess's topodata.KeyRange).
type KeyRange struct {
	Start, End []byte
}

// ParseShard returns the key range a shard name covers: "-80", "80-", "40-80", "-" or "0"
// (an unsharded keyspace's single shard covers everything).
func ParseShard(name string) (KeyRange, error) {
	if !strings.Contains(name, "-") {
		return KeyRange{}, nil
	}
	start, end, _ := strings.Cut(name, "-")
	s, err1 := hex.DecodeString(start)
	e, err2 := hex.DecodeString(end)
	if err1 != nil || err2 != nil || strings.Contains(end, "-") {
		return KeyRange{}, fmt.Errorf("shard %q is not a key range (want e.g. -80, 80-, 40-80)", name)
	}
	return KeyRange{Start: s, End: e}, nil
}

// normalize drops trailing zero bytes: 0x80 and 0x8000 are the same bound (Vitess's
// key.Normalize).
func normalize(b []byte) []byte {
	for len(b) > 0 && b[len(b)-1] == 0 {
		b = b[:len(b)-1]
	}
	return b
}

// Contains reports whether the key range holds the keyspace id.
func (kr KeyRange) Contains(ksid []byte) bool {
	id := normalize(ksid)
	start, end := normalize(kr.Start), normalize(kr.End)
	return (len(start) == 0 || bytes.Compare(id, start) >= 0) && (len(end) == 0 || bytes.Compare(id, end) < 0)
}

// String is the key range as a shard name.
func (kr KeyRange) String() string {
	return hex.EncodeToString(kr.Start) + "-" + hex.EncodeToString(kr.End)
}

// Shard is a shard name with its key range.
type Shard struct {
	Name  string
	Range KeyRange
}

// ShardFor returns the index of the shard holding a keyspace id, or -1 when none does (the
// shards do not cover the whole key space).
func ShardFor(shards []Shard, ksid []byte) int {
	for i := range shards {
		if shards[i].Range.Contains(ksid) {
			return i
		}
	}
	return -1
}

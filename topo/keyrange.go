package topo

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"strings"

	topodatapb "vitess.io/vitess/go/vt/proto/topodata"
)

// ShardKeyRange validates a shard name the way Vitess's ValidateShardName does and returns the
// canonical (lower-case) name and its key range: nil for a name without '-' ("0"), else the
// hex bounds around the one '-' ("-80", "80-", "40-80", "-").
func ShardKeyRange(shard string) (string, *topodatapb.KeyRange, error) {
	if err := ValidateName("shard", shard); err != nil {
		return "", nil, err
	}
	if !strings.Contains(shard, "-") {
		return shard, nil, nil
	}
	start, end, _ := strings.Cut(shard, "-")
	if strings.Contains(end, "-") {
		return "", nil, fmt.Errorf("topo: %w: shard %q has more than one '-'; want e.g. -80, 80- or 40-80", ErrInvalid, shard)
	}
	s, err := hex.DecodeString(start)
	if err != nil {
		return "", nil, fmt.Errorf("topo: %w: shard %q: start %q is not hex", ErrInvalid, shard, start)
	}
	e, err := hex.DecodeString(end)
	if err != nil {
		return "", nil, fmt.Errorf("topo: %w: shard %q: end %q is not hex", ErrInvalid, shard, end)
	}
	if len(e) > 0 && bytes.Compare(s, e) >= 0 {
		return "", nil, fmt.Errorf("topo: %w: shard %q: start must be below end", ErrInvalid, shard)
	}
	return strings.ToLower(shard), &topodatapb.KeyRange{Start: s, End: e}, nil
}

// keyRangeComplete reports whether kr covers every key (nil, or "-").
func keyRangeComplete(kr *topodatapb.KeyRange) bool {
	return kr == nil || len(kr.Start) == 0 && len(kr.End) == 0
}

// keyRangesIntersect reports whether two key ranges share a key.
func keyRangesIntersect(a, b *topodatapb.KeyRange) bool {
	if keyRangeComplete(a) || keyRangeComplete(b) {
		return true
	}
	return (len(a.End) == 0 || bytes.Compare(b.Start, a.End) < 0) &&
		(len(b.End) == 0 || bytes.Compare(a.Start, b.End) < 0)
}

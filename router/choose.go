package router

import (
	"strings"

	"github.com/vtdirect/vtdirect/discovery"
)

// resolveShard finds the shard a target addresses in a snapshot.
func resolveShard(snap *discovery.Snapshot, t Target) (*discovery.Shard, error) {
	if t.Shard != "" {
		if sh := snap.Shard(t.Keyspace, t.Shard); sh != nil {
			return sh, nil
		}
		if !snap.HasKeyspace(t.Keyspace) {
			return nil, errUnknownDatabase(t.String())
		}
		return nil, errUnavailable("no tablets for shard %s/%s; `vtdirect topo show` lists the shards and tablets", t.Keyspace, t.Shard)
	}
	shards := snap.Shards(t.Keyspace)
	switch len(shards) {
	case 1:
		return shards[0], nil
	case 0:
		if !snap.HasKeyspace(t.Keyspace) {
			return nil, errUnknownDatabase(t.String())
		}
		return nil, errUnavailable("keyspace %s has no tablets yet; add them with `vtdirect topo add-tablet`", t.Keyspace)
	}
	names := make([]string, len(shards))
	for i, s := range shards {
		names[i] = s.Name
	}
	return nil, errUnavailable("keyspace %s is sharded (%s); address one shard, e.g. USE `%s:%s`",
		t.Keyspace, strings.Join(names, ", "), t.Keyspace, names[0])
}

package router

import (
	"fmt"
	"strings"

	topodatapb "vitess.io/vitess/go/vt/proto/topodata"

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

// chooseTablet picks a serving tablet of the target's type in the shard: for PRIMARY the
// shard's primary wherever its cell; otherwise a random serving tablet of the type, from the
// local cell when it has one. rnd is a random number (the caller's cheap generator).
func chooseTablet(sh *discovery.Shard, tt topodatapb.TabletType, localCell string, rnd uint64) (*discovery.Tablet, error) {
	if tt == topodatapb.TabletType_PRIMARY {
		p := sh.Primary
		if p == nil {
			return nil, errUnavailable("shard %s/%s has no PRIMARY tablet; set one with `vtdirect topo set-primary`", sh.Keyspace, sh.Name)
		}
		// A primary not probed yet is tried: the first queries after a start need not wait.
		if !p.Health.LastProbe.IsZero() && !p.Health.Serving {
			return nil, errUnavailable("primary %s of %s/%s is not serving: %s", p.Alias, sh.Keyspace, sh.Name, healthReason(p))
		}
		return p, nil
	}
	var local, other int
	for _, t := range sh.Tablets {
		if t.Type == tt && t.Health.Serving {
			if t.Cell == localCell {
				local++
			} else {
				other++
			}
		}
	}
	wantLocal := local > 0
	n := other
	if wantLocal {
		n = local
	}
	if n == 0 {
		return nil, noTablet(sh, tt)
	}
	k := int(rnd % uint64(n))
	for _, t := range sh.Tablets {
		if t.Type == tt && t.Health.Serving && (t.Cell == localCell) == wantLocal {
			if k == 0 {
				return t, nil
			}
			k--
		}
	}
	panic("unreachable")
}

func noTablet(sh *discovery.Shard, tt topodatapb.TabletType) error {
	var b strings.Builder
	for _, t := range sh.Tablets {
		if b.Len() > 0 {
			b.WriteString("; ")
		}
		switch {
		case t.Type != tt:
			fmt.Fprintf(&b, "%s is %s", t.Alias, t.Type)
		default:
			fmt.Fprintf(&b, "%s: %s", t.Alias, healthReason(t))
		}
	}
	if b.Len() == 0 {
		b.WriteString("the shard has no tablets")
	}
	return errUnavailable("no serving %s tablet for %s/%s (%s)", strings.ToLower(tt.String()), sh.Keyspace, sh.Name, b.String())
}

func healthReason(t *discovery.Tablet) string {
	h := t.Health
	switch {
	case h.LastProbe.IsZero():
		return "not probed yet"
	case !h.Reachable:
		if h.Err != nil {
			return "unreachable: " + h.Err.Error()
		}
		return "unreachable"
	case !h.Serving && h.Err != nil:
		return "not serving: " + h.Err.Error()
	case !h.Serving:
		return "not serving"
	}
	return "serving"
}

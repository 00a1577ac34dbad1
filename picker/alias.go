package picker

import (
	"strconv"
	"strings"

	topodatapb "vitess.io/vitess/go/vt/proto/topodata"
)

// Alias names one tablet: its cell and its uid. It is a comparable value so
// that it can be a map key and compared without allocating, unlike
// *topodatapb.TabletAlias.
type Alias struct {
	Cell string
	UID  uint32
}

// AliasOf converts a topo alias; a nil alias gives the zero Alias.
func AliasOf(a *topodatapb.TabletAlias) Alias {
	if a == nil {
		return Alias{}
	}
	return Alias{Cell: a.Cell, UID: a.Uid}
}

// String formats the alias as "<cell>-<uid>" (zone1-100), the form the
// project's docs use. ParseAlias also reads Vitess's zero-padded form.
func (a Alias) String() string {
	return a.Cell + "-" + strconv.FormatUint(uint64(a.UID), 10)
}

// Proto returns the alias as a topo record.
func (a Alias) Proto() *topodatapb.TabletAlias {
	return &topodatapb.TabletAlias{Cell: a.Cell, Uid: a.UID}
}

// ParseAlias reads "<cell>-<uid>", with or without Vitess's zero padding
// (zone1-100, zone1-0000000100). The cell is everything before the last dash.
func ParseAlias(s string) (Alias, error) {
	i := strings.LastIndexByte(s, '-')
	if i <= 0 || i == len(s)-1 {
		return Alias{}, invalidArg("tablet alias", s, "want <cell>-<uid>, e.g. zone1-100")
	}
	uid, err := strconv.ParseUint(s[i+1:], 10, 32)
	if err != nil {
		return Alias{}, invalidArg("tablet alias", s, "the uid after the last '-' must be a number, e.g. zone1-100")
	}
	return Alias{Cell: s[:i], UID: uint32(uid)}, nil
}

// KeyspaceShard is the index of a snapshot: the tablets of one shard.
type KeyspaceShard struct {
	Keyspace string
	Shard    string
}

func (k KeyspaceShard) String() string { return k.Keyspace + "/" + k.Shard }

package router

import (
	"fmt"
	"strings"

	"github.com/go-mysql-org/go-mysql/mysql"
	topodatapb "vitess.io/vitess/go/vt/proto/topodata"
)

// Target is what a client addresses with its database name, in Vitess's syntax:
// `commerce`, `commerce@replica`, `commerce:0`, `commerce:-80@rdonly`.
type Target struct {
	Keyspace   string
	Shard      string // empty: the keyspace's only shard
	TabletType topodatapb.TabletType
}

// String gives the target back in the syntax ParseTarget reads.
func (t Target) String() string {
	var b strings.Builder
	b.WriteString(t.Keyspace)
	if t.Shard != "" {
		b.WriteByte(':')
		b.WriteString(t.Shard)
	}
	if t.TabletType != topodatapb.TabletType_PRIMARY {
		b.WriteByte('@')
		b.WriteString(strings.ToLower(t.TabletType.String()))
	}
	return b.String()
}

// ParseTarget reads a database name as a target. The default tablet type is PRIMARY.
func ParseTarget(db string) (Target, error) {
	t := Target{TabletType: topodatapb.TabletType_PRIMARY}
	rest := db
	if i := strings.LastIndexByte(rest, '@'); i >= 0 {
		tt, err := parseTabletType(rest[i+1:])
		if err != nil {
			return Target{}, err
		}
		t.TabletType = tt
		rest = rest[:i]
	}
	if i := strings.IndexByte(rest, ':'); i >= 0 {
		t.Shard = rest[i+1:]
		rest = rest[:i]
		if t.Shard == "" {
			return Target{}, badTarget(db, "the shard after ':' is empty")
		}
	}
	if rest == "" {
		return Target{}, badTarget(db, "the keyspace is empty")
	}
	if strings.IndexByte(rest, '@') >= 0 || strings.IndexByte(t.Shard, '@') >= 0 {
		return Target{}, badTarget(db, "more than one '@'")
	}
	t.Keyspace = rest
	return t, nil
}

func parseTabletType(s string) (topodatapb.TabletType, error) {
	switch strings.ToLower(s) {
	case "primary", "master":
		return topodatapb.TabletType_PRIMARY, nil
	case "replica":
		return topodatapb.TabletType_REPLICA, nil
	case "rdonly", "batch":
		return topodatapb.TabletType_RDONLY, nil
	}
	return 0, mysql.NewError(mysql.ER_BAD_DB_ERROR,
		fmt.Sprintf("vtdirect: unknown tablet type %q in the target; use @primary, @replica or @rdonly", s))
}

func badTarget(db, why string) error {
	return mysql.NewError(mysql.ER_BAD_DB_ERROR,
		fmt.Sprintf("vtdirect: invalid target %q: %s; write keyspace[:shard][@primary|@replica|@rdonly]", db, why))
}

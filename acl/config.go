package acl

import (
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"

	topodatapb "vitess.io/vitess/go/vt/proto/topodata"
)

// Right is what a statement does to a keyspace or table. Each right includes the ones
// before it.
type Right uint8

const (
	// None: nothing (a keyspace the user may not use).
	None Right = iota
	// Read: SELECT, SHOW, DESCRIBE, LOCK TABLES ... READ, HANDLER (Vitess's reader role).
	Read
	// Write: INSERT, UPDATE, DELETE, REPLACE, LOAD DATA, SELECT ... FOR UPDATE, CALL, DO,
	// LOCK TABLES ... WRITE (Vitess's writer role).
	Write
	// DDL: CREATE, ALTER, DROP, RENAME, TRUNCATE (Vitess's admin role on a table), and
	// anything the gateway cannot tell apart (compound statements, unknown statements).
	DDL
)

var rightNames = [...]string{"none", "read", "write", "ddl"}

func (r Right) String() string {
	if int(r) < len(rightNames) {
		return rightNames[r]
	}
	return fmt.Sprintf("Right(%d)", r)
}

// ParseRight reads a right by name: read, write or ddl (also Vitess's reader, writer, admin).
func ParseRight(s string) (Right, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "read", "reader":
		return Read, nil
	case "write", "writer":
		return Write, nil
	case "ddl", "admin":
		return DDL, nil
	case "none":
		return None, nil
	}
	return None, fmt.Errorf("right %q: want read, write or ddl", s)
}

// MarshalText writes the right's name.
func (r Right) MarshalText() ([]byte, error) { return []byte(r.String()), nil }

// UnmarshalText reads a right's name (ParseRight).
func (r *Right) UnmarshalText(b []byte) error {
	v, err := ParseRight(string(b))
	*r = v
	return err
}

// Config is the access rules of a gateway: per user, and Vitess's table ACL.
type Config struct {
	// Users holds each user's rules; a user not in it (but known to the authenticator)
	// gets the zero UserConfig: every keyspace, every right, every tablet type, no Admin.
	Users map[string]UserConfig
	// TableGroups is Vitess's table ACL; empty: no table-level rules.
	TableGroups []TableGroup
}

// UserConfig is one user's rules (see the package documentation).
type UserConfig struct {
	// Groups the user is in (Vitess's static auth "Groups"), for TableGroups.
	Groups []string
	// Keyspaces maps a keyspace name, or a prefix ending in % ("%" alone: every keyspace),
	// to the most the user may do there. The longest matching entry decides. Empty: every
	// keyspace, DDL.
	Keyspaces map[string]Right
	// TabletTypes are the tablet types the user's targets may name; empty: all.
	TabletTypes []topodatapb.TabletType
	// Admin lets the user run statements that act beyond its session and read the server's
	// internals.
	Admin bool
}

// TableGroup is one entry of Vitess's table ACL (tableacl.proto's TableGroupSpec).
type TableGroup struct {
	Name string `json:"name"`
	// Tables are table names or prefixes ending in %, optionally keyspace-qualified
	// ("commerce.customer", "commerce.%", "corder%").
	Tables  []string `json:"table_names_or_prefixes"`
	Readers []string `json:"readers"`
	Writers []string `json:"writers"`
	Admins  []string `json:"admins"`
}

// ParseTableACL reads Vitess's table ACL file (JSON: {"table_groups": [{"name": ...,
// "table_names_or_prefixes": [...], "readers": [...], "writers": [...], "admins": [...]}]}).
func ParseTableACL(data []byte) ([]TableGroup, error) {
	var f struct {
		TableGroups []TableGroup `json:"table_groups"`
	}
	dec := json.NewDecoder(strings.NewReader(string(data)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("table ACL: not Vitess's format {\"table_groups\": [{\"name\": ..., \"table_names_or_prefixes\": [...], \"readers\": [...], \"writers\": [...], \"admins\": [...]}]}: %w", err)
	}
	if len(f.TableGroups) == 0 {
		return nil, errors.New("table ACL: no table_groups")
	}
	return f.TableGroups, nil
}

// ParseTabletType reads a tablet type as targets and Vitess's flags write it (primary,
// replica, rdonly, case-insensitive; master for primary).
func ParseTabletType(s string) (topodatapb.TabletType, error) {
	switch strings.ToUpper(strings.TrimSpace(s)) {
	case "PRIMARY", "MASTER":
		return topodatapb.TabletType_PRIMARY, nil
	case "REPLICA":
		return topodatapb.TabletType_REPLICA, nil
	case "RDONLY", "BATCH":
		return topodatapb.TabletType_RDONLY, nil
	}
	return topodatapb.TabletType_UNKNOWN, fmt.Errorf("tablet type %q: want primary, replica or rdonly", s)
}

// validate checks the names and patterns of the rules.
func (c *Config) validate() error {
	var errs []error
	names := make([]string, 0, len(c.Users))
	for n := range c.Users {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, name := range names {
		u := c.Users[name]
		for ks, r := range u.Keyspaces {
			if err := checkPattern(ks); err != nil {
				errs = append(errs, fmt.Errorf("user %q: keyspace %w", name, err))
			}
			if r > DDL {
				errs = append(errs, fmt.Errorf("user %q: keyspace %q: right %d out of range", name, ks, r))
			}
		}
		for _, tt := range u.TabletTypes {
			switch tt {
			case topodatapb.TabletType_PRIMARY, topodatapb.TabletType_REPLICA, topodatapb.TabletType_RDONLY:
			default:
				errs = append(errs, fmt.Errorf("user %q: tablet type %s: want PRIMARY, REPLICA or RDONLY", name, tt))
			}
		}
	}
	seen := map[string]string{}
	for i, g := range c.TableGroups {
		label := g.Name
		if label == "" {
			label = fmt.Sprintf("#%d", i+1)
		}
		if len(g.Tables) == 0 {
			errs = append(errs, fmt.Errorf("table group %s: no table_names_or_prefixes", label))
		}
		for _, t := range g.Tables {
			ks, table, _ := splitTablePattern(t)
			if ks != "" {
				if err := checkName(ks); err != nil {
					errs = append(errs, fmt.Errorf("table group %s: keyspace of %q: %w", label, t, err))
				}
			}
			if err := checkPattern(table); err != nil {
				errs = append(errs, fmt.Errorf("table group %s: table %w", label, err))
			}
			if other, dup := seen[t]; dup {
				errs = append(errs, fmt.Errorf("table group %s: %q is also in table group %s", label, t, other))
			}
			seen[t] = label
		}
	}
	return errors.Join(errs...)
}

// checkPattern accepts a name, or a prefix with one % at its end.
func checkPattern(p string) error {
	if p == "" {
		return errors.New(`"" is empty`)
	}
	if i := strings.IndexByte(p, '%'); i >= 0 && i != len(p)-1 {
		return fmt.Errorf("%q: %% may only end a prefix", p)
	}
	return nil
}

func checkName(n string) error {
	if strings.ContainsRune(n, '%') {
		return fmt.Errorf("%q: a keyspace name, not a pattern", n)
	}
	return nil
}

// splitTablePattern splits "ks.table" into its parts ("" keyspace when unqualified).
func splitTablePattern(p string) (keyspace, table string, qualified bool) {
	if i := strings.IndexByte(p, '.'); i >= 0 {
		return p[:i], p[i+1:], true
	}
	return "", p, false
}

package acl

import (
	"fmt"
	"sort"
	"strings"

	topodatapb "vitess.io/vitess/go/vt/proto/topodata"
	"vitess.io/vitess/go/vt/sqlparser"
)

// Policy is a compiled Config: immutable, safe for concurrent use. Swap a new one in to
// change the rules (a reload); sessions look their user up again at their next statement.
type Policy struct {
	users  map[string]*User
	tables *tableACL // nil: no table ACL
	def    UserConfig
	parser *sqlparser.Parser
}

// New compiles cfg.
func New(cfg Config) (*Policy, error) {
	if err := cfg.validate(); err != nil {
		return nil, fmt.Errorf("access rules: %w", err)
	}
	p := &Policy{users: make(map[string]*User, len(cfg.Users)), parser: newParser()}
	if len(cfg.TableGroups) > 0 {
		p.tables = newTableACL(cfg.TableGroups)
	}
	for name, uc := range cfg.Users {
		p.users[name] = p.compile(name, uc)
	}
	return p, nil
}

// Open is the policy without rules: every user may do everything in every keyspace, and no
// user is an admin.
func Open() *Policy { return &Policy{users: map[string]*User{}, parser: newParser()} }

// User returns the rules of a user (the default rules for one the policy does not name).
// Never nil.
func (p *Policy) User(name string) *User {
	if u, ok := p.users[name]; ok {
		return u
	}
	return p.compile(name, p.def)
}

// Admin reports whether the policy makes name an admin.
func (p *Policy) Admin(name string) bool { return p.User(name).admin }

func (p *Policy) compile(name string, uc UserConfig) *User {
	u := &User{name: name, groups: uc.Groups, admin: uc.Admin, tables: p.tables, parser: p.parser}
	if len(uc.Keyspaces) > 0 {
		u.keyspaces = newPatterns(uc.Keyspaces)
	}
	for _, tt := range uc.TabletTypes {
		u.types |= 1 << uint(tt)
	}
	u.open = u.keyspaces == nil && u.tables == nil
	return u
}

// User is one user's compiled rules.
type User struct {
	name      string
	groups    []string
	keyspaces *patterns // nil: every keyspace, DDL
	types     uint32    // bit per topodatapb.TabletType; 0: all
	admin     bool
	tables    *tableACL
	parser    *sqlparser.Parser
	// open: no keyspace rules and no table ACL, so a statement that does not act beyond
	// the session needs no look at its text (the per-query fast path).
	open bool
}

// Name is the user's name.
func (u *User) Name() string { return u.name }

// Admin reports whether the user may act beyond its session.
func (u *User) Admin() bool { return u.admin }

// Open reports a user whose data statements need no check: every keyspace, every right,
// no table ACL (its tablet types may still be limited).
func (u *User) Open() bool { return u.open }

// LimitedKeyspaces reports a user whose rules name the keyspaces it may use (not all).
func (u *User) LimitedKeyspaces() bool { return u.keyspaces != nil }

// AllTabletTypes reports a user whose targets may name any tablet type.
func (u *User) AllTabletTypes() bool { return u.types == 0 }

// KeyspaceRight is the most the user may do in keyspace ks.
func (u *User) KeyspaceRight(ks string) Right {
	if u.keyspaces == nil {
		return DDL
	}
	return u.keyspaces.lookup(ks)
}

// TabletTypeAllowed reports whether the user's targets may name tt.
func (u *User) TabletTypeAllowed(tt topodatapb.TabletType) bool {
	return u.types == 0 || u.types&(1<<uint(tt)) != 0
}

// CheckTarget says whether the user may use a target (USE, the handshake's database): it
// needs some right in the keyspace and the tablet type. host is the client's, for the message.
func (u *User) CheckTarget(keyspace string, tt topodatapb.TabletType, host string) error {
	if u.KeyspaceRight(keyspace) == None {
		return dbDenied(u.name, host, keyspace, "the user's access rules give it no keyspace "+keyspace)
	}
	if !u.TabletTypeAllowed(tt) {
		return dbDenied(u.name, host, keyspace, fmt.Sprintf("the user's access rules do not allow %s tablets (allowed: %s)",
			strings.ToLower(tt.String()), u.typeNames()))
	}
	return nil
}

func (u *User) typeNames() string {
	var out []string
	for _, tt := range []topodatapb.TabletType{topodatapb.TabletType_PRIMARY, topodatapb.TabletType_REPLICA, topodatapb.TabletType_RDONLY} {
		if u.TabletTypeAllowed(tt) {
			out = append(out, strings.ToLower(tt.String()))
		}
	}
	return strings.Join(out, ", ")
}

// member reports whether the user, or one of its groups, is in the list.
func (u *User) member(list map[string]bool) bool {
	if list["%"] || list[u.name] {
		return true
	}
	for _, g := range u.groups {
		if list[g] {
			return true
		}
	}
	return false
}

// patterns maps names and prefixes (ending in %) to a right; the longest match wins.
type patterns struct {
	exact    map[string]Right
	prefixes []prefixRight // longest first
}

type prefixRight struct {
	prefix string
	right  Right
}

func newPatterns(m map[string]Right) *patterns {
	p := &patterns{exact: map[string]Right{}}
	for k, r := range m {
		if pre, ok := strings.CutSuffix(k, "%"); ok {
			p.prefixes = append(p.prefixes, prefixRight{pre, r})
		} else {
			p.exact[k] = r
		}
	}
	sort.Slice(p.prefixes, func(i, j int) bool { return len(p.prefixes[i].prefix) > len(p.prefixes[j].prefix) })
	return p
}

func (p *patterns) lookup(name string) Right {
	if r, ok := p.exact[name]; ok {
		return r
	}
	for _, pr := range p.prefixes {
		if strings.HasPrefix(name, pr.prefix) {
			return pr.right
		}
	}
	return None
}

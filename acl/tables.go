package acl

import "strings"

// tableACL is Vitess's table ACL, compiled: each table name or prefix with its group's
// members per right. The most specific entry that matches a table decides: a keyspace-
// qualified name before an unqualified one, an exact name before a prefix, a longer prefix
// before a shorter one. (Vitess refuses overlapping entries; a file it accepts reads the same
// here.) A table no entry matches is denied, as under vttablet's strict table ACL.
type tableACL struct {
	exact    map[tableKey]*groupACL // keyspace "" for unqualified entries
	prefixes []tablePrefix          // most specific first
}

type tableKey struct{ keyspace, table string }

type tablePrefix struct {
	keyspace, prefix string // keyspace "" matches every keyspace
	acl              *groupACL
}

// groupACL is one table group's members for each right.
type groupACL struct {
	name                     string
	readers, writers, admins map[string]bool
}

func (g *groupACL) members(r Right) map[string]bool {
	switch r {
	case Read:
		return g.readers
	case Write:
		return g.writers
	}
	return g.admins
}

func set(names []string) map[string]bool {
	m := make(map[string]bool, len(names))
	for _, n := range names {
		m[n] = true
	}
	return m
}

func newTableACL(groups []TableGroup) *tableACL {
	t := &tableACL{exact: map[tableKey]*groupACL{}}
	for _, g := range groups {
		acl := &groupACL{name: g.Name, readers: set(g.Readers), writers: set(g.Writers), admins: set(g.Admins)}
		for _, name := range g.Tables {
			ks, table, _ := splitTablePattern(name)
			if pre, ok := strings.CutSuffix(table, "%"); ok {
				t.prefixes = append(t.prefixes, tablePrefix{keyspace: ks, prefix: pre, acl: acl})
			} else {
				t.exact[tableKey{ks, table}] = acl
			}
		}
	}
	sortPrefixes(t.prefixes)
	return t
}

// sortPrefixes orders the prefixes most specific first: qualified before unqualified, then
// longer before shorter (a stable insertion sort: the lists are short).
func sortPrefixes(p []tablePrefix) {
	less := func(a, b tablePrefix) bool {
		if (a.keyspace != "") != (b.keyspace != "") {
			return a.keyspace != ""
		}
		return len(a.prefix) > len(b.prefix)
	}
	for i := 1; i < len(p); i++ {
		for j := i; j > 0 && less(p[j], p[j-1]); j-- {
			p[j], p[j-1] = p[j-1], p[j]
		}
	}
}

// lookup returns the group whose entry decides for a table of a keyspace, or nil.
func (t *tableACL) lookup(keyspace, table string) *groupACL {
	if g, ok := t.exact[tableKey{keyspace, table}]; ok {
		return g
	}
	for _, p := range t.prefixes {
		if p.keyspace == keyspace && strings.HasPrefix(table, p.prefix) {
			return p.acl
		}
	}
	if g, ok := t.exact[tableKey{"", table}]; ok {
		return g
	}
	for _, p := range t.prefixes {
		if p.keyspace == "" && strings.HasPrefix(table, p.prefix) {
			return p.acl
		}
	}
	return nil
}

// groupsOf returns the groups of every entry that may decide for a table of a keyspace, and
// whether one of them matches every name (the prefix "" of "%" or "keyspace.%").
func (t *tableACL) groupsOf(keyspace string) (groups []*groupACL, catchAll bool) {
	for k, g := range t.exact {
		if k.keyspace == keyspace || k.keyspace == "" {
			groups = append(groups, g)
		}
	}
	for _, p := range t.prefixes {
		if p.keyspace == keyspace || p.keyspace == "" {
			groups = append(groups, p.acl)
			catchAll = catchAll || p.prefix == ""
		}
	}
	return groups, catchAll
}

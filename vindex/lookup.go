package vindex

import (
	"fmt"
	"strconv"
	"strings"
)

// lookupParams are the params of consistent_lookup_unique, as Vitess's.
var lookupParams = []string{"table", "from", "to", "ignore_nulls", "batch_lookup", "read_lock", "write_only"}

// Lookup is a consistent_lookup_unique vindex: a table (From -> To) in some keyspace maps each
// value of the owner table's column to the keyspace id of its row. The router runs its
// statements; this type only says what they are and in which order Vitess commits them:
//
//   - reading (a query routed by the vindex): SELECT from, to FROM table WHERE from IN (...),
//     with the read lock (FOR UPDATE by default) inside a transaction that writes;
//   - an insert into the owner table first inserts the lookup rows in the "pre" session,
//     committed before the main one. On a duplicate, the lookup row is locked (SELECT to ...
//     FOR UPDATE, pre); if the row it points to still exists in the owner table (SELECT col
//     ... LOCK IN SHARE MODE on that keyspace id, main) the insert is a duplicate; otherwise
//     the lookup row is taken over (UPDATE ... SET to, pre);
//   - a delete from the owner table deletes the lookup rows in the "post" session, committed
//     after the main one;
//   - an update of the column deletes the old lookup row (post) and creates the new one (pre).
//
// So a crash between the commits leaves, at worst, a lookup row that points to no row (which
// the next insert takes over), never a row its lookup cannot find.
type Lookup struct {
	name string
	// Table is the lookup table, "keyspace.table" or "table" (then in the owner's keyspace).
	Table string
	// From is the lookup table's column holding the owner column's value; To the one holding
	// the keyspace id.
	From, To string
	// IgnoreNulls: a NULL in the owner column creates no lookup row (else an error).
	IgnoreNulls bool
	// WriteOnly: the lookup is being backfilled: it is maintained but routes to every shard.
	WriteOnly bool
	// BatchLookup: one query for several values even when they are not integers.
	BatchLookup bool
	// ReadLock is the lock clause of a lookup read inside a writing transaction: "for update"
	// (the default), "lock in share mode" or "".
	ReadLock string
}

func newConsistentLookupUnique(name string, params map[string]string) (Vindex, error) {
	l := &Lookup{name: name, Table: params["table"], From: strings.TrimSpace(params["from"]), To: params["to"], ReadLock: "for update"}
	switch {
	case l.Table == "":
		return nil, fmt.Errorf("vindex %s: consistent_lookup_unique needs the param \"table\" (the lookup table, keyspace.table)", name)
	case l.From == "":
		return nil, fmt.Errorf("vindex %s: consistent_lookup_unique needs the param \"from\" (the lookup table's column of owner values)", name)
	case strings.Contains(l.From, ","):
		return nil, fmt.Errorf("vindex %s: param \"from\" %q names several columns; vtdirect supports single-column lookups only", name, l.From)
	case l.To == "":
		return nil, fmt.Errorf("vindex %s: consistent_lookup_unique needs the param \"to\" (the lookup table's keyspace id column)", name)
	}
	var err error
	for _, b := range []struct {
		param string
		dst   *bool
	}{{"ignore_nulls", &l.IgnoreNulls}, {"write_only", &l.WriteOnly}, {"batch_lookup", &l.BatchLookup}} {
		if v, ok := params[b.param]; ok {
			if *b.dst, err = strconv.ParseBool(v); err != nil {
				return nil, fmt.Errorf("vindex %s: param %q is %q; want true or false", name, b.param, v)
			}
		}
	}
	if v, ok := params["read_lock"]; ok {
		switch v {
		case "exclusive":
			l.ReadLock = "for update"
		case "shared":
			l.ReadLock = "lock in share mode"
		case "none":
			l.ReadLock = ""
		default:
			return nil, fmt.Errorf("vindex %s: param \"read_lock\" is %q; want exclusive, shared or none", name, v)
		}
	}
	return l, nil
}

func (l *Lookup) Name() string { return l.name }
func (l *Lookup) Type() string { return "consistent_lookup_unique" }
func (l *Lookup) Unique() bool { return true }
func (l *Lookup) Cost() int    { return 10 }

// TableName splits Table into its keyspace ("" when unqualified) and table.
func (l *Lookup) TableName() (keyspace, table string) {
	if i := strings.IndexByte(l.Table, '.'); i >= 0 {
		return l.Table[:i], l.Table[i+1:]
	}
	return "", l.Table
}

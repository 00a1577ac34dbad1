package planner

import (
	"time"

	"vitess.io/vitess/go/vt/sqlparser"

	"github.com/vtdirect/vtdirect/vindex"
	"github.com/vtdirect/vtdirect/vschema"
)

// Kind is what the router does with a statement of a sharded keyspace.
type Kind uint8

const (
	// KindRoute sends Route.Query to the route's shards: one shard forwards its reply as is;
	// several have their rows concatenated, or merged as Merge says (a SELECT), or their OKs
	// added up (UPDATE, DELETE).
	KindRoute Kind = iota
	// KindInsert splits the rows of an INSERT by shard (Insert).
	KindInsert
	// KindDDL runs the statement on every shard of the keyspace.
	KindDDL
	// KindAnyShard runs the statement on one shard, the keyspace's first: statements that
	// read no table of the keyspace (SELECT 1, SHOW TABLES, DO, SELECT @@var).
	KindAnyShard
	// KindSet assigns session variables: run on one shard (the session's settings then reach
	// every connection of the session), after the gateway's own variables are taken out.
	KindSet
	KindBegin
	KindCommit
	KindRollback
	// KindShowVSchema is answered by the gateway (SHOW VSCHEMA TABLES | VINDEXES).
	KindShowVSchema
	// KindLastInsertID is SELECT LAST_INSERT_ID() [AS x], answered by the gateway.
	KindLastInsertID
	// KindNextValues is SELECT NEXT n VALUES FROM seq, served by the sequence.
	KindNextValues
	// KindRefused: Err says why.
	KindRefused
)

var kindNames = [...]string{"route", "insert", "ddl", "any_shard", "set", "begin", "commit", "rollback",
	"show_vschema", "last_insert_id", "next_values", "refused"}

func (k Kind) String() string { return kindNames[k] }

// Plan is what the router does with one statement whose target is a sharded keyspace. Plans
// are cached and shared by every session: they are never modified once built.
type Plan struct {
	Kind Kind
	// Err is the refusal of a KindRefused plan (a *mysql.MyError, 1235 naming the construct).
	Err error
	// ReadOnly: the statement only reads (a replica may run it).
	ReadOnly bool
	// Args is how many values the plan reads: the query's literals (or a prepared
	// statement's parameters), by index.
	Args int
	// Directives are the /*vt+ */ comment directives vtdirect honours.
	Directives Directives

	Route  *Route
	Merge  *Merge // a SELECT on several shards whose rows must be merged; nil: concatenated
	Insert *Insert
	Set    *Set
	Show   *ShowVSchema
	// Next is the sequence and count of KindNextValues.
	Next *NextValues
	// Name is the column name of KindLastInsertID.
	Name string
	// Begin is the statement a KindBegin sends to each shard its transaction reaches (BEGIN,
	// START TRANSACTION READ ONLY...).
	Begin string
	// Query is the text sent by KindDDL, KindAnyShard and KindSet plans.
	Query Template
}

// Directives are the comment directives (/*vt+ NAME=value */) of a statement.
type Directives struct {
	// QueryTimeout bounds the statement on every shard (QUERY_TIMEOUT_MS).
	QueryTimeout time.Duration
	// ScatterErrorsAsWarnings: a SELECT on several shards returns what the shards that
	// answered returned, their errors becoming warnings.
	ScatterErrorsAsWarnings bool
	// MultiShardAutocommit: in autocommit mode, a write to several shards commits on each
	// shard on its own, without a transaction (and even in single transaction mode).
	MultiShardAutocommit bool
}

// Opcode is how a route chooses its shards.
type Opcode uint8

const (
	// Scatter: every shard of the keyspace.
	Scatter Opcode = iota
	// EqualUnique: the shard of one vindex value.
	EqualUnique
	// In: the shards of a list of vindex values.
	In
	// None: no shard can hold a row (the value maps to no keyspace id, or = NULL): a SELECT
	// still asks one shard, for the result's columns, and drops its rows.
	None
	// AnyOne: one shard, any (reference tables).
	AnyOne
	// Unsharded: the only shard of another, unsharded, keyspace.
	Unsharded
	// Pinned: the shard of a fixed keyspace id (pinned tables).
	Pinned
)

var opcodeNames = [...]string{"Scatter", "EqualUnique", "IN", "None", "AnyOne", "Unsharded", "Pinned"}

func (o Opcode) String() string { return opcodeNames[o] }

// Route says which shards of which keyspace run a statement, and what they get.
type Route struct {
	Opcode   Opcode
	Keyspace *vschema.Keyspace
	// Vindex and Values for EqualUnique and In (Values has one element for EqualUnique).
	Vindex vindex.Vindex
	Values []ValueExpr
	// Pinned is the keyspace id of a Pinned route.
	Pinned []byte
	// Table is the table whose vindex routes (for messages).
	Table *vschema.Table
	// Query is what the shards get. Verbatim: it is the client's statement unchanged (the
	// router forwards the client's own command); for a prepared statement Query is then
	// also the statement as a template, for shards that get it as text.
	Query    Template
	Verbatim bool
	// One is what a single shard gets when the values route to one (then it computes the
	// whole result: no merge); OneVerbatim: the statement as written.
	One         Template
	OneVerbatim bool
	// Write: an UPDATE or DELETE; OwnedLookups are the lookup vindexes its rows' deletion or
	// update must maintain (nil: none).
	Write bool
	DML   *DML
}

// ValueExpr is a value a plan reads: one of the statement's arguments (by index), or a
// constant of the statement itself.
type ValueExpr struct {
	Arg   int // -1: Const
	Const vindex.Value
}

// Value returns the value given the statement's arguments.
func (v ValueExpr) Value(args []vindex.Value) vindex.Value {
	if v.Arg < 0 {
		return v.Const
	}
	return args[v.Arg]
}

// DML is what an UPDATE or DELETE must do beyond running on its shards.
type DML struct {
	Table *vschema.Table
	// Lookups are the owned lookup vindexes whose rows follow the statement's rows: for a
	// DELETE every one; for an UPDATE those whose column it sets (with the new value).
	Lookups []LookupChange
	// Select reads, before the statement, the columns the lookups need of each row it will
	// change: the primary vindex column first, then one column per lookup, then, for each
	// lookup with a New value in order, whether the column's value <=> it (1: unchanged by
	// the column's collation), FOR UPDATE.
	Select Template
}

// LookupChange is a lookup vindex an UPDATE or DELETE maintains.
type LookupChange struct {
	Column string
	Vindex *vindex.Lookup
	// New is the column's new value (UPDATE); nil for a DELETE.
	New     *ValueExpr
	newExpr sqlparser.Expr // New as the statement wrote it, for Select
}

package vindex

import (
	"fmt"
	"sort"
	"strings"
)

// Vindex is one vindex of a vschema.
type Vindex interface {
	// Name is the vindex's name in its vschema; Type its type ("hash").
	Name() string
	Type() string
	// Unique: a value maps to at most one keyspace id. A table's primary vindex must be.
	Unique() bool
	// Cost orders vindexes when several could route a query (lower is cheaper), as Vitess's.
	Cost() int
}

// Hashing is a vindex that computes the keyspace id from the value alone.
type Hashing interface {
	Vindex
	// Hash returns the keyspace id of a value; ErrNoKeyspaceID when it has none, another
	// error when the value cannot be read (invalid UTF-8 for the unicode vindexes).
	Hash(v Value) ([]byte, error)
}

// Factory makes a vindex from its vschema name and params.
type factory func(name string, params map[string]string) (Vindex, error)

// types are the vindex types vtdirect knows, with the params each accepts.
var types = map[string]struct {
	make   factory
	params []string
}{
	"hash":                     {newHashing("hash", 1, hashID), nil},
	"xxhash":                   {newHashing("xxhash", 1, xxhashID), nil},
	"numeric":                  {newHashing("numeric", 0, numericID), nil},
	"binary":                   {newHashing("binary", 0, binaryID), nil},
	"binary_md5":               {newHashing("binary_md5", 1, md5ID), nil},
	"unicode_loose_md5":        {newHashing("unicode_loose_md5", 1, unicodeMD5ID), nil},
	"unicode_loose_xxhash":     {newHashing("unicode_loose_xxhash", 1, unicodeXXHashID), nil},
	"consistent_lookup_unique": {newConsistentLookupUnique, lookupParams},
}

// Types lists the vindex types New accepts, sorted.
func Types() []string {
	out := make([]string, 0, len(types))
	for t := range types {
		out = append(out, t)
	}
	sort.Strings(out)
	return out
}

// UnknownTypeError is New's error for a type vtdirect does not implement.
type UnknownTypeError struct{ Type string }

func (e *UnknownTypeError) Error() string {
	return fmt.Sprintf("vindex type %q is not supported; use one of %s", e.Type, strings.Join(Types(), ", "))
}

// New makes a vindex of a type with its params. It returns the params the type does not
// know besides (Vitess accepts and ignores them; a vschema check reports them).
func New(name, typ string, params map[string]string) (Vindex, []string, error) {
	t, ok := types[typ]
	if !ok {
		return nil, nil, &UnknownTypeError{Type: typ}
	}
	var unknown []string
	for p := range params {
		if !contains(t.params, p) {
			unknown = append(unknown, p)
		}
	}
	sort.Strings(unknown)
	v, err := t.make(name, params)
	if err != nil {
		return nil, nil, err
	}
	return v, unknown, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// hashing is a functional vindex.
type hashing struct {
	name, typ string
	cost      int
	id        func(Value) ([]byte, error)
}

func newHashing(typ string, cost int, id func(Value) ([]byte, error)) factory {
	return func(name string, _ map[string]string) (Vindex, error) {
		return &hashing{name: name, typ: typ, cost: cost, id: id}, nil
	}
}

func (h *hashing) Name() string                 { return h.name }
func (h *hashing) Type() string                 { return h.typ }
func (h *hashing) Unique() bool                 { return true }
func (h *hashing) Cost() int                    { return h.cost }
func (h *hashing) Hash(v Value) ([]byte, error) { return h.id(v) }

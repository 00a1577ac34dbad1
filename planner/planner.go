package planner

import (
	"container/list"
	"fmt"
	"sync"

	"vitess.io/vitess/go/vt/sqlparser"

	"github.com/vtdirect/vtdirect/vschema"
)

// Config configures a Planner.
type Config struct {
	// CacheSize is how many plans the cache keeps (default 10,000), least recently used
	// dropped first.
	CacheSize int
	// MySQLVersion is the version the grammar reads versioned comments for (default
	// Vitess's).
	MySQLVersion string
}

// Planner plans statements and caches the plans. It is safe for concurrent use.
type Planner struct {
	parser *sqlparser.Parser
	max    int

	mu    sync.Mutex // guards cache, lru and gen
	cache map[string]*list.Element
	lru   *list.List // of *cacheEntry, most recently used first
	gen   uint64     // the VSchema generation the cached plans were built with
}

type cacheEntry struct {
	key  string
	plan *Plan
	// raw: the normalized text did not parse (a literal where the grammar wants a number,
	// as in CAST(x AS DECIMAL(10, 2))): plan the statement as written.
	raw bool
}

// New makes a planner.
func New(cfg Config) (*Planner, error) {
	if cfg.CacheSize <= 0 {
		cfg.CacheSize = 10_000
	}
	parser, err := sqlparser.New(sqlparser.Options{MySQLServerVersion: cfg.MySQLVersion, TruncateErrLen: 512})
	if err != nil {
		return nil, fmt.Errorf("planner: %w", err)
	}
	return &Planner{parser: parser, max: cfg.CacheSize, cache: map[string]*list.Element{}, lru: list.New()}, nil
}

// Parser returns the planner's SQL parser (safe for concurrent use), for a caller that reads
// statements with the grammar the planner does.
func (p *Planner) Parser() *sqlparser.Parser { return p.parser }

// Request is a statement to plan.
type Request struct {
	// Keyspace is the session's target keyspace (sharded).
	Keyspace string
	// Query is the statement's text.
	Query []byte
	// Mode is how the session's sql_mode reads it.
	Mode LexMode
	// Prepared: Query is a prepared statement's text, whose '?' are its parameters (the
	// plan's Args); it is not normalized.
	Prepared bool
}

// Scratch is per-session memory the planner reuses (not safe for concurrent use).
type Scratch struct {
	norm, key []byte
	lits      []Literal
}

// Plan returns the plan of a statement and, for a statement that is not prepared, its
// literals (the plan's arguments), valid until the next call with the same scratch.
func (p *Planner) Plan(vs *vschema.VSchema, req *Request, s *Scratch) (*Plan, []Literal) {
	n := normalized{ok: false}
	key := s.key[:0]
	key = append(key, req.Keyspace...)
	key = append(key, 0, byte(req.Mode))
	if req.Prepared {
		key = append(key, 'p')
	} else if isDDL(req.Query) {
		key = append(key, 'r') // DDL: as written (its numbers are lengths, not values)
	} else {
		n = normalize(req.Query, req.Mode, s.norm, s.lits)
		s.norm = n.key
		key = append(key, 'n')
	}
	prefix := len(key)
	if n.ok {
		key = append(key, n.key...)
	} else {
		key = append(key, req.Query...)
	}
	s.key = key
	s.lits = n.lits[:0:cap(n.lits)]
	if n.ok {
		s.lits = n.lits
	}

	p.mu.Lock()
	if p.gen != vs.Generation {
		p.cache = map[string]*list.Element{}
		p.lru.Init()
		p.gen = vs.Generation
	}
	e := p.lookup(key)
	if e != nil && e.raw {
		key[prefix-1] = 'r'
		e = p.lookup(append(key[:prefix], req.Query...))
		n.ok, s.lits = false, s.lits[:0]
	}
	p.mu.Unlock()
	if e != nil {
		return e.plan, s.lits
	}

	// A miss: parse and plan, outside the lock.
	var plan *Plan
	raw := false
	if n.ok {
		plan = p.build(vs, req, string(n.key), len(n.lits), n)
		if plan == nil { // the normalized text does not parse: plan it as written
			raw = true
		}
	}
	if plan == nil {
		plan = p.build(vs, req, string(req.Query), 0, normalized{})
		if plan == nil {
			plan = &Plan{Kind: KindRefused, Err: syntaxError(fmt.Errorf("unparsable"))}
		}
	}
	p.mu.Lock()
	if p.gen == vs.Generation {
		if raw {
			p.store(string(key), &cacheEntry{raw: true})
			key[prefix-1] = 'r'
			p.store(string(append(key[:prefix], req.Query...)), &cacheEntry{plan: plan})
		} else {
			p.store(string(key), &cacheEntry{plan: plan})
		}
	}
	p.mu.Unlock()
	if raw {
		s.lits = s.lits[:0]
	}
	return plan, s.lits
}

// lookup finds a cached entry (p.mu held); string(key) does not allocate in a map index.
func (p *Planner) lookup(key []byte) *cacheEntry {
	el, ok := p.cache[string(key)]
	if !ok {
		return nil
	}
	p.lru.MoveToFront(el)
	return el.Value.(*cacheEntry)
}

func (p *Planner) store(key string, e *cacheEntry) {
	e.key = key
	if el, ok := p.cache[key]; ok {
		el.Value = e
		p.lru.MoveToFront(el)
		return
	}
	p.cache[key] = p.lru.PushFront(e)
	for p.lru.Len() > p.max {
		last := p.lru.Back()
		p.lru.Remove(last)
		delete(p.cache, last.Value.(*cacheEntry).key)
	}
}

// CacheLen is how many plans are cached.
func (p *Planner) CacheLen() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.lru.Len()
}

// build parses text and plans it; nil when text does not parse and it was the normalized
// form (the caller then tries the statement as written). nargs is how many '?' arguments the
// text has (0 for a statement as written, unless prepared).
func (p *Planner) build(vs *vschema.VSchema, req *Request, text string, nargs int, n normalized) *Plan {
	if isDDL(req.Query) {
		return p.buildDDL(vs, req)
	}
	stmt, err := p.parser.Parse(text)
	if err != nil {
		if n.ok {
			return nil
		}
		return &Plan{Kind: KindRefused, Err: syntaxError(err)}
	}
	if !n.ok && !req.Prepared && req.Mode&NoBackslashEscapes != 0 && containsByte(req.Query, '\\') {
		return &Plan{Kind: KindRefused, Err: unsupported("a string with a backslash under sql_mode NO_BACKSLASH_ESCAPES in a statement the planner reads as written")}
	}
	if req.Prepared {
		nargs = countArgs(stmt)
	}
	ks := vs.Keyspace(req.Keyspace)
	b := &builder{vs: vs, ks: ks, nargs: nargs, query: req.Query, normalized: n.ok, key: text, parser: p.parser, prepared: req.Prepared}
	if ks == nil {
		return &Plan{Kind: KindRefused, Err: unsupported("keyspace %s has no vschema", req.Keyspace)}
	}
	if ks.Err != nil {
		return &Plan{Kind: KindRefused, Err: brokenVSchema(ks.Err)}
	}
	plan, err := b.statement(stmt)
	if err != nil {
		return &Plan{Kind: KindRefused, Err: err}
	}
	plan.Args = nargs
	plan.Directives = directives(stmt)
	return plan
}

func containsByte(b []byte, c byte) bool {
	for _, x := range b {
		if x == c {
			return true
		}
	}
	return false
}

// countArgs counts the '?' parameters of a prepared statement (named :v1...:vN).
func countArgs(stmt sqlparser.Statement) int {
	n := 0
	_ = sqlparser.Walk(func(node sqlparser.SQLNode) (bool, error) {
		if a, ok := node.(*sqlparser.Argument); ok {
			if i, ok := argIndex(a.Name); ok && i+1 > n {
				n = i + 1
			}
		}
		return true, nil
	}, stmt)
	return n
}

// isDDL reports a statement starting with CREATE, ALTER, DROP, TRUNCATE or RENAME (not
// CREATE TEMPORARY TABLE, which is connection state).
func isDDL(q []byte) bool {
	w, rest := firstWord(q)
	switch {
	case wordIs(w, "alter"), wordIs(w, "drop"), wordIs(w, "truncate"), wordIs(w, "rename"):
		return true
	case wordIs(w, "create"):
		w2, _ := firstWord(rest)
		return !wordIs(w2, "temporary")
	}
	return false
}

// wordIs compares a word of the statement with a lower-case keyword, ignoring case, without
// allocating (isDDL runs on every statement's plan lookup).
func wordIs(w []byte, kw string) bool {
	if len(w) != len(kw) {
		return false
	}
	for i, c := range w {
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != kw[i] {
			return false
		}
	}
	return true
}

func firstWord(q []byte) ([]byte, []byte) {
	i := 0
	for i < len(q) {
		switch {
		case isSpace(q[i]):
			i++
		case q[i] == '/' && i+1 < len(q) && q[i+1] == '*' && (i+2 >= len(q) || q[i+2] != '!'):
			end := indexFrom(q, i+2, "*/")
			if end < 0 {
				return nil, nil
			}
			i = end + 2
		default:
			j := i
			for j < len(q) && isIdentByte(q[j]) {
				j++
			}
			return q[i:j], q[j:]
		}
	}
	return nil, nil
}

// buildDDL plans DDL: every shard runs it as written. Vitess's grammar checks the names it
// can read (keyspace qualifiers); DDL it cannot read (MariaDB's own options) goes as well.
func (p *Planner) buildDDL(vs *vschema.VSchema, req *Request) *Plan {
	ks := vs.Keyspace(req.Keyspace)
	if ks == nil || ks.Err != nil {
		return &Plan{Kind: KindRefused, Err: unsupported("keyspace %s has no usable vschema", req.Keyspace)}
	}
	stmt, err := p.parser.ParseStrictDDL(string(req.Query))
	b := &builder{vs: vs, ks: ks, query: req.Query, key: string(req.Query), parser: p.parser}
	if err == nil {
		if ddl, ok := stmt.(sqlparser.DDLStatement); ok {
			plan, err := b.ddl(ddl)
			if err != nil {
				return &Plan{Kind: KindRefused, Err: err}
			}
			return plan
		}
	}
	return &Plan{Kind: KindDDL, Query: b.verbatimText()}
}

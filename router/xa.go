package router

import (
	"fmt"
	"strings"
	"sync"

	"github.com/go-mysql-org/go-mysql/mysql"

	"github.com/vtdirect/vtdirect/classify"
	"github.com/vtdirect/vtdirect/tabletserver"
)

// XA ownership. Every gateway user reaches MariaDB as the same backend user, and MariaDB lets
// any session of a user end any prepared XA branch of that user. Through the gateway, a user
// that is not an admin may end (XA COMMIT | ROLLBACK) only
//   - the branch its session started (XA START) and has not ended, or
//   - a branch the same gateway user prepared (XA PREPARE) through this gateway process, whose
//     session is gone (a reconnect: the branch outlives its connection), from a session on
//     the same keyspace and shard. An xid is unique on one MariaDB server only: the same xid
//     prepared by another user on another server is another branch, and must not make this
//     one theirs (records are kept by keyspace and shard, which follow the branch through a
//     failover, where a server address would not).
//
// Any other xid, and XA statements the gateway cannot see before they run (inside a compound
// statement, EXECUTE IMMEDIATE or a prepared statement's text), need an admin, as XA RECOVER
// does. An admin also ends the branches prepared through another gateway or before a restart.

// Bounds of the prepared branches the gateway remembers: past them, XA PREPARE is refused
// (1637) until branches are ended.
const (
	maxPreparedXA        = 4096
	maxPreparedXAPerUser = 256
)

// xaKey names a prepared branch: its xid on the keyspace and shard it was prepared on
// (Executor.xaKey).
type xaKey struct {
	scope string
	xid   classify.Xid
}

// xaOwners remembers which gateway user prepared each prepared XA branch.
type xaOwners struct {
	mu     sync.Mutex
	owner  map[xaKey]string
	byUser map[string]int
}

func (o *xaOwners) ownedBy(x xaKey, user string) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	u, ok := o.owner[x]
	return ok && u == user
}

// reserve checks that user may prepare one more branch.
func (o *xaOwners) reserve(x xaKey, user string) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if _, ok := o.owner[x]; ok {
		return nil
	}
	if len(o.owner) >= maxPreparedXA || o.byUser[user] >= maxPreparedXAPerUser {
		return &mysql.MyError{Code: mysql.ER_TOO_MANY_CONCURRENT_TRXS, State: "HY000", Message: fmt.Sprintf(
			"vtdirect: too many prepared XA transactions (%d for user %s, %d in all; at most %d and %d); "+
				"commit or roll back prepared ones first (an admin can list them with XA RECOVER)",
			o.byUser[user], user, len(o.owner), maxPreparedXAPerUser, maxPreparedXA)}
	}
	return nil
}

func (o *xaOwners) add(x xaKey, user string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.owner == nil {
		o.owner, o.byUser = map[xaKey]string{}, map[string]int{}
	}
	if prev, ok := o.owner[x]; ok {
		o.byUser[prev]--
	}
	o.owner[x] = user
	o.byUser[user]++
}

func (o *xaOwners) remove(x xaKey) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if u, ok := o.owner[x]; ok {
		delete(o.owner, x)
		if o.byUser[u]--; o.byUser[u] <= 0 {
			delete(o.byUser, u)
		}
	}
}

// xaEnded forgets the records of xid once a branch of it was ended on the session's server:
// the session's own keyspace and shard's, and those of every keyspace and shard whose primary
// is on the same MariaDB server now (an admin ends a branch from any session on its server,
// as XA RECOVER lists them there; one server has one branch of an xid at a time).
func (e *Executor) xaEnded(s *Session, xid classify.Xid) {
	k := e.xaKey(s, xid)
	e.xaOwners.remove(k)
	if k.scope != "" {
		e.xaOwners.removeIf(xid, func(scope string) bool { return e.sameServer(scope, k.scope) })
	}
}

// sameServer reports whether two keyspace/shard scopes (xaKey) are one scope, or have their
// primaries on the same MariaDB server now (where one xid names one branch).
func (e *Executor) sameServer(a, b string) bool {
	if a == "" || b == "" {
		return false
	}
	if a == b {
		return true
	}
	snap := e.reg.Snapshot()
	addr := func(scope string) string {
		ks, sh, _ := strings.Cut(scope, "/")
		if shard := snap.Shard(ks, sh); shard != nil && shard.Primary != nil {
			return shard.Primary.Server.Addr()
		}
		return ""
	}
	x := addr(a)
	return x != "" && x == addr(b)
}

// xaKey is xid's record key in the session's keyspace and shard (the shard resolved as the
// statement's routing resolves it: a keyspace's only shard by name). A session the routing
// cannot place gets an empty scope: its statement does not run.
func (e *Executor) xaKey(s *Session, xid classify.Xid) xaKey {
	snap := e.reg.Snapshot()
	t := s.target
	if !s.hasTarget {
		if len(snap.Keyspaces) == 0 {
			return xaKey{xid: xid}
		}
		t = Target{Keyspace: snap.Keyspaces[0]}
	}
	sh, err := resolveShard(snap, t)
	if err != nil {
		return xaKey{xid: xid}
	}
	return xaKey{scope: t.Keyspace + "/" + sh.Name, xid: xid}
}

// removeIf forgets the records of xid whose scope passes on.
func (o *xaOwners) removeIf(xid classify.Xid, on func(scope string) bool) {
	o.mu.Lock()
	var drop []xaKey
	for k := range o.owner {
		if k.xid == xid {
			drop = append(drop, k)
		}
	}
	o.mu.Unlock()
	for _, k := range drop {
		if on(k.scope) {
			o.remove(k)
		}
	}
}

// count is the number of branches remembered.
func (o *xaOwners) count() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return len(o.owner)
}

// errXA is the refusal of an XA statement that ends a branch the session does not own.
func errXA(what string) error {
	return &mysql.MyError{Code: mysql.ER_SPECIFIC_ACCESS_DENIED_ERROR, State: "42000", Message: "Access denied; " +
		"you need (at least one of) the Admin privilege(s) for this operation: vtdirect: " + what +
		"; only a user whose access rules say \"Admin\": true may run it"}
}

// xaRelevant reports a query checkXA must see: XA statements, and the forms that could hide one.
func xaRelevant(cq *classify.Query) bool {
	return cq.Flags.Any(classify.XA | classify.SQLPrepare | classify.Compound)
}

// checkXA refuses, for users that are not admins, a query whose XA statements end a branch the
// session does not own, or that could run an XA statement the gateway does not see as one:
// inside a compound statement, a PREPARE or EXECUTE IMMEDIATE text, a query of several
// statements (whose failure leaves unknown which ran), an xid in an executable comment (MariaDB
// may skip it), or an xid MariaDB would store with other bytes (a non-ASCII string, or a
// connection character set such as ucs2 that converts it).
func (e *Executor) checkXA(s *Session, text []byte, cq *classify.Query, opt classify.Options) error {
	if e.rules(s).Admin() {
		return nil
	}
	for st := range statementsOf(text, cq, opt) {
		switch {
		case st.Kind == classify.KindPrepare || st.Kind == classify.KindExecute:
			if st.Flags.Has(classify.XA) || mentionsXA([]byte(st.Text), st.TextOptions) {
				return errXA("an XA statement in a PREPARE or EXECUTE IMMEDIATE text (send it as a statement of its own)")
			}
		case st.Kind == classify.KindXA:
			if cq.Count > 1 {
				return errXA("an XA statement in a query of several statements (send XA statements one at a time)")
			}
			if st.Set != nil && len(st.Set.StatementVars) > 0 {
				// SET STATEMENT character_set_connection = ucs2 FOR XA START ...: the xid's bytes
				return errXA("an XA statement under SET STATEMENT ... FOR (send it alone)")
			}
			if err := e.checkXAStatement(s, text[st.Start:st.End], st.XA); err != nil {
				return err
			}
		case st.Flags.Has(classify.XA):
			return errXA("an XA statement inside " + st.Kind.String() + " (send it as a statement of its own)")
		case st.Flags.Has(classify.Compound) && st.Flags.Has(classify.SQLPrepare) && literalMentionsXA(text[st.Start:st.End], st.Options):
			// PREPARE | EXECUTE IMMEDIATE of a literal in the body (of an expression: Admin already)
			return errXA("an XA statement in a PREPARE or EXECUTE IMMEDIATE text inside " + st.Kind.String() + " (send it as a statement of its own)")
		}
	}
	return nil
}

// checkXAStatement checks one XA statement of a user that is not an admin.
func (e *Executor) checkXAStatement(s *Session, text []byte, xa *classify.XAStatement) error {
	if xa == nil || xa.Verb == classify.XAOther || xa.Verb == classify.XARecover {
		return nil // not read: MariaDB refuses it, or Admin (XA RECOVER) refused it already
	}
	if !xa.HasXid || hasExecComment(text) || !asciiXid(xa.Xid) {
		return errXA("an xid written other than as plain string, hex or bit literals of ASCII characters, " +
			"or with an executable comment in the statement")
	}
	for _, v := range [2]string{"character_set_connection", "collation_connection"} {
		if cs, ok := s.state.Settings().Get(v); ok && convertsASCII(cs) {
			return errXA("an XA statement with " + v + " " + cs + ", which stores the xid with other bytes")
		}
	}
	if xa.Verb == classify.XACommit || xa.Verb == classify.XARollback {
		k := e.xaKey(s, xa.Xid)
		if s.hasXA && s.xa == xa.Xid && e.sameServer(s.xaScope, k.scope) || e.xaOwners.ownedBy(k, s.userName) {
			return nil
		}
		return errXA("XA COMMIT | ROLLBACK of an XA transaction this session did not start and user " +
			s.userName + " did not prepare through this gateway on this keyspace and shard (end it from a session on the " +
			"keyspace and shard it was prepared on)")
	}
	if xa.Verb == classify.XAPrepare {
		return e.xaOwners.reserve(e.xaKey(s, xa.Xid), s.userName)
	}
	return nil
}

// mentionsXA reports a text with the word XA before an XA verb (executable comments read as
// code), or one that does not tokenize.
func mentionsXA(text []byte, opt classify.Options) bool {
	tz := classify.NewTokenizer(text, opt)
	prevXA := false
	for {
		t := tz.Next()
		switch t.Kind {
		case classify.TokEOF:
			return false
		case classify.TokError:
			return true
		case classify.TokWord:
			w := strings.ToLower(string(text[t.Start:t.End]))
			if prevXA {
				switch w {
				case "start", "begin", "end", "prepare", "commit", "rollback", "recover":
					return true
				}
			}
			prevXA = w == "xa"
			continue
		}
		prevXA = false
	}
}

// literalMentionsXA reports a string literal of text whose value mentionsXA, or one the
// package cannot read.
func literalMentionsXA(text []byte, opt classify.Options) bool {
	tz := classify.NewTokenizer(text, opt)
	for {
		t := tz.Next()
		switch t.Kind {
		case classify.TokEOF:
			return false
		case classify.TokError:
			return true
		case classify.TokString:
			v, ok := classify.StringValue(text, t, opt)
			if !ok || mentionsXA([]byte(v), opt) {
				return true
			}
		}
	}
}

// hasExecComment reports an executable comment (/*! or /*M!), which MariaDB may skip.
func hasExecComment(text []byte) bool {
	for i := 0; i+2 < len(text); i++ {
		if text[i] == '/' && text[i+1] == '*' && (text[i+2] == '!' || i+3 < len(text) && text[i+2]|0x20 == 'm' && text[i+3] == '!') {
			return true
		}
	}
	return false
}

func asciiXid(x classify.Xid) bool {
	for _, p := range [2]string{x.Gtrid, x.Bqual} {
		for i := 0; i < len(p); i++ {
			if p[i] >= 0x80 {
				return false
			}
		}
	}
	return true
}

// convertsASCII reports a character set that stores ASCII text with other bytes.
func convertsASCII(cs string) bool {
	cs = strings.ToLower(strings.Trim(cs, "'\"`"))
	return strings.HasPrefix(cs, "ucs2") || strings.HasPrefix(cs, "utf16") || strings.HasPrefix(cs, "utf32")
}

// checkXAPrepare refuses a binary prepared XA statement for users that are not admins: its
// executions would not be seen as XA statements.
func (e *Executor) checkXAPrepare(s *Session, text []byte, cq *classify.Query, opt classify.Options) error {
	if e.rules(s).Admin() {
		return nil
	}
	if cq.Flags.Has(classify.XA) || mentionsXA(text, opt) {
		return errXA("an XA statement as a prepared statement (send it as a query)")
	}
	return nil
}

// xaDone records what the query's XA statements did, after its reply. Only admins run XA
// statements in queries of several statements or compound statements: after such a query the
// session owns no branch (it needs none), and a failed one records nothing.
func (e *Executor) xaDone(s *Session, text []byte, cq *classify.Query, opt classify.Options, res tabletserver.Result, err error) {
	if !cq.Flags.Has(classify.XA) {
		return
	}
	var code uint16
	switch {
	case err != nil:
		code = mysql.ER_UNKNOWN_ERROR
	case res.Err != nil:
		code = res.Err.Code
	}
	if cq.Count != 1 || cq.First.Kind != classify.KindXA {
		s.hasXA = false
		if code != 0 {
			return
		}
		for st := range statementsOf(text, cq, opt) {
			if st.Kind == classify.KindXA && st.XA != nil && st.XA.HasXid &&
				(st.XA.Verb == classify.XACommit || st.XA.Verb == classify.XARollback) {
				e.xaEnded(s, st.XA.Xid)
			}
		}
		return
	}
	xa := cq.First.XA
	if xa == nil || !xa.HasXid {
		return
	}
	mine := s.hasXA && s.xa == xa.Xid
	switch {
	case code == 0 && xa.Verb == classify.XAStart:
		s.xa, s.hasXA, s.xaScope = xa.Xid, true, e.xaKey(s, xa.Xid).scope
	case code == 0 && xa.Verb == classify.XAPrepare:
		e.xaOwners.add(e.xaKey(s, xa.Xid), s.userName)
	case code == 0 && (xa.Verb == classify.XACommit || xa.Verb == classify.XARollback),
		code == mysql.ER_XA_RBROLLBACK || code == mysql.ER_XA_RBTIMEOUT || code == mysql.ER_XA_RBDEADLOCK:
		// ended, or rolled back by the server: the branch is gone
		if xa.Verb == classify.XACommit || xa.Verb == classify.XARollback {
			e.xaEnded(s, xa.Xid)
		}
		if mine {
			s.hasXA = false
		}
	case code == mysql.ER_XAER_NOTA && mine:
		// Not this session's branch (any more). A prepared one stays its user's record: its
		// connection may not have let go of it yet.
		s.hasXA = false
	}
}

// statementsOf iterates the query's statements (the first one alone without a new split).
func statementsOf(text []byte, cq *classify.Query, opt classify.Options) func(func(classify.Statement) bool) {
	if cq.Count == 1 {
		return func(yield func(classify.Statement) bool) { yield(cq.First) }
	}
	return classify.Statements(text, opt)
}

package router

import (
	"fmt"
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
//     session is gone (a reconnect: the branch outlives its connection).
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

// xaOwners remembers which gateway user prepared each prepared XA branch.
type xaOwners struct {
	mu     sync.Mutex
	owner  map[classify.Xid]string
	byUser map[string]int
}

func (o *xaOwners) ownedBy(x classify.Xid, user string) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	u, ok := o.owner[x]
	return ok && u == user
}

// reserve checks that user may prepare one more branch.
func (o *xaOwners) reserve(x classify.Xid, user string) error {
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

func (o *xaOwners) add(x classify.Xid, user string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.owner == nil {
		o.owner, o.byUser = map[classify.Xid]string{}, map[string]int{}
	}
	if prev, ok := o.owner[x]; ok {
		o.byUser[prev]--
	}
	o.owner[x] = user
	o.byUser[user]++
}

func (o *xaOwners) remove(x classify.Xid) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if u, ok := o.owner[x]; ok {
		delete(o.owner, x)
		if o.byUser[u]--; o.byUser[u] <= 0 {
			delete(o.byUser, u)
		}
	}
}

// errXA is the refusal of an XA statement that ends a branch the session does not own.
func errXA(what string) error {
	return &mysql.MyError{Code: mysql.ER_SPECIFIC_ACCESS_DENIED_ERROR, State: "42000", Message: "Access denied; " +
		"you need (at least one of) the Admin privilege(s) for this operation: vtdirect: " + what +
		"; only a user whose access rules say \"Admin\": true may run it"}
}

// checkXA refuses, for users that are not admins, a query whose XA statements end a branch the
// session does not own or that the gateway cannot see.
func (e *Executor) checkXA(s *Session, text []byte, cq *classify.Query, opt classify.Options) error {
	if e.rules(s).Admin() {
		return nil
	}
	if cq.Kinds.Has(classify.KindPrepare) && !cq.Flags.Has(classify.XA) {
		// PREPARE s FROM 'XA ...': its EXECUTE would run an XA statement unseen.
		for st := range statementsOf(text, cq, opt) {
			if st.Kind == classify.KindPrepare && st.Inner == classify.KindXA {
				return errXA("an XA statement in a prepared statement's text")
			}
		}
		return nil
	}
	if !cq.Flags.Has(classify.XA) {
		return nil
	}
	own, hasOwn := s.xa, s.hasXA // a START earlier in the query makes its xid the session's
	for st := range statementsOf(text, cq, opt) {
		if st.Kind == classify.KindPrepare && st.Inner == classify.KindXA ||
			st.Flags.Has(classify.XA) && st.Kind != classify.KindXA {
			return errXA("an XA statement inside " + st.Kind.String() + " (send it as a statement of its own)")
		}
		if st.Kind != classify.KindXA || st.XA == nil {
			continue
		}
		switch st.XA.Verb {
		case classify.XAStart:
			own, hasOwn = st.XA.Xid, st.XA.HasXid
		case classify.XACommit, classify.XARollback:
			if !st.XA.HasXid {
				return errXA("XA COMMIT | ROLLBACK with an xid written other than as string, hex or bit literals")
			}
			if hasOwn && own == st.XA.Xid || e.xaOwners.ownedBy(st.XA.Xid, s.userName) {
				continue
			}
			return errXA("XA COMMIT | ROLLBACK of an XA transaction this session did not start and user " +
				s.userName + " did not prepare through this gateway")
		case classify.XAPrepare:
			if st.XA.HasXid {
				if err := e.xaOwners.reserve(st.XA.Xid, s.userName); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// checkXAPrepare refuses a binary prepared XA statement for users that are not admins: its
// executions would not be seen as XA statements.
func (e *Executor) checkXAPrepare(s *Session, cq *classify.Query) error {
	if !cq.Flags.Has(classify.XA) && !cq.Kinds.Has(classify.KindPrepare) || e.rules(s).Admin() {
		return nil
	}
	if cq.Flags.Has(classify.XA) || cq.First.Inner == classify.KindXA {
		return errXA("an XA statement as a prepared statement (send it as a query)")
	}
	return nil
}

// xaDone records what the query's XA statements did, after its reply. A query of several
// statements that failed may have run any of them: the session no longer counts as owning the
// branch it may have started, and nothing is recorded as prepared.
func (e *Executor) xaDone(s *Session, text []byte, cq *classify.Query, opt classify.Options, res tabletserver.Result, err error) {
	if !cq.Flags.Has(classify.XA) {
		return
	}
	failed := err != nil || res.Err != nil
	if failed && res.Err != nil && res.Err.Code == mysql.ER_XAER_NOTA && cq.Count == 1 &&
		cq.First.Kind == classify.KindXA && cq.First.XA != nil && cq.First.XA.HasXid {
		// The branch does not exist (any more): forget it.
		e.xaOwners.remove(cq.First.XA.Xid)
		if s.hasXA && s.xa == cq.First.XA.Xid {
			s.hasXA = false
		}
		return
	}
	for st := range statementsOf(text, cq, opt) {
		if st.Kind != classify.KindXA || st.XA == nil {
			if st.Flags.Has(classify.XA) { // hidden in a compound statement (admins only)
				s.hasXA = false
			}
			continue
		}
		switch st.XA.Verb {
		case classify.XAStart:
			if failed {
				s.hasXA = false
			} else {
				s.xa, s.hasXA = st.XA.Xid, st.XA.HasXid
			}
		case classify.XAPrepare:
			if !failed && st.XA.HasXid {
				e.xaOwners.add(st.XA.Xid, s.userName)
			}
		case classify.XACommit, classify.XARollback:
			if !failed && st.XA.HasXid {
				e.xaOwners.remove(st.XA.Xid)
				if s.hasXA && s.xa == st.XA.Xid {
					s.hasXA = false
				}
			}
		}
	}
}

// statementsOf iterates the query's statements (the first one alone without a new split).
func statementsOf(text []byte, cq *classify.Query, opt classify.Options) func(func(classify.Statement) bool) {
	if cq.Count == 1 {
		return func(yield func(classify.Statement) bool) { yield(cq.First) }
	}
	return classify.Statements(text, opt)
}

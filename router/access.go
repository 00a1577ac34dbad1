package router

import (
	"net"
	"strings"

	"github.com/go-mysql-org/go-mysql/mysql"
	topodatapb "vitess.io/vitess/go/vt/proto/topodata"

	"github.com/vtdirect/vtdirect/acl"
	"github.com/vtdirect/vtdirect/classify"
	"github.com/vtdirect/vtdirect/discovery"
	"github.com/vtdirect/vtdirect/mysqlserver"
)

// Access control: every statement a session sends passes authorize before it leaves the
// gateway (package acl decides). A user whose rules allow every keyspace costs one look at
// the classification's flags per statement.

// SetPolicy replaces the access rules (a configuration reload); sessions use the new rules
// from their next statement on. nil: acl.Open().
func (e *Executor) SetPolicy(p *acl.Policy) {
	if p == nil {
		p = acl.Open()
	}
	e.policy.Store(p)
}

// Policy is the access rules in force.
func (e *Executor) Policy() *acl.Policy { return e.policy.Load() }

// rules returns the session user's rules under the policy in force.
func (e *Executor) rules(s *Session) *acl.User {
	if p := e.policy.Load(); p != s.policy {
		s.policy, s.user = p, p.User(s.userName)
	}
	return s.user
}

// authorize checks a query of the session (prepared: from COM_STMT_PREPARE) against its
// user's rules, in the session's target.
func (e *Executor) authorize(s *Session, q []byte, cq *classify.Query, opt classify.Options, prepared bool) error {
	u := e.rules(s)
	if u.Open() && u.AllTabletTypes() && cq.Flags&(classify.Admin|classify.ServerInternals|classify.Kills) == 0 &&
		!cq.Kinds.Has(classify.KindDDL) {
		return nil // the per-query path
	}
	req := &acl.Request{Query: q, Parsed: cq, Options: opt, Host: s.host, Prepared: prepared}
	req.Keyspace, req.Database, req.TabletType = e.where(s)
	err := u.Check(req, e.databases())
	if err != nil {
		e.countDenial(err)
	}
	return err
}

// Denial kinds, for metrics.
const (
	deniedKeyspace = iota
	deniedTable
	deniedPrivilege
	deniedKill
	deniedOther
	numDenied
)

// countDenial counts a refusal by its MySQL code.
func (e *Executor) countDenial(err error) {
	kind := deniedOther
	if me := asMyError(err); me != nil {
		switch me.Code {
		case mysql.ER_DBACCESS_DENIED_ERROR:
			kind = deniedKeyspace
		case mysql.ER_TABLEACCESS_DENIED_ERROR:
			kind = deniedTable
		case mysql.ER_SPECIFIC_ACCESS_DENIED_ERROR:
			kind = deniedPrivilege
		case mysql.ER_KILL_DENIED_ERROR:
			kind = deniedKill
		}
	}
	e.denials[kind].Add(1)
}

// Denials counts the statements the access rules refused, by kind: keyspace (1044), table
// (1142), privilege (1227), kill (1095), other.
func (e *Executor) Denials() map[string]uint64 {
	names := [numDenied]string{"keyspace", "table", "privilege", "kill", "other"}
	out := make(map[string]uint64, numDenied)
	for i, n := range names {
		out[n] = e.denials[i].Load()
	}
	return out
}

// where is the keyspace, its database and the tablet type a session's statement runs in.
func (e *Executor) where(s *Session) (keyspace, database string, tt topodatapb.TabletType) {
	snap := e.reg.Snapshot()
	t := s.target
	if !s.hasTarget {
		if len(snap.Keyspaces) == 0 {
			return "", "", topodatapb.TabletType_PRIMARY
		}
		t = Target{Keyspace: snap.Keyspaces[0], TabletType: topodatapb.TabletType_PRIMARY}
	}
	return t.Keyspace, e.databases().databaseOf(snap, t.Keyspace), t.TabletType
}

// checkTarget says whether the session's user may use a target (USE, the handshake's
// database, COM_CHANGE_USER).
func (e *Executor) checkTarget(s *Session, t Target) error {
	err := e.rules(s).CheckTarget(t.Keyspace, t.TabletType, s.host)
	if err != nil {
		e.countDenial(err)
	}
	return err
}

// clientHost is the client's address without its port, as MySQL names it in errors.
func clientHost(c *mysqlserver.Conn) string {
	if c == nil || c.RemoteAddr() == nil {
		return "%"
	}
	return HostOf(c.RemoteAddr().String())
}

// HostOf is an address without its port ("%" for none).
func HostOf(addr string) string {
	if addr == "" {
		return "%"
	}
	if host, _, err := net.SplitHostPort(addr); err == nil {
		return host
	}
	return addr
}

// databases is the index of the tablets' databases (MySQL database -> keyspace) of the
// current snapshot, rebuilt when the snapshot changes.
func (e *Executor) databases() *dbIndex {
	snap := e.reg.Snapshot()
	if ix := e.dbIndex.Load(); ix != nil && ix.gen == snap.Generation && ix.snap == snap {
		return ix
	}
	ix := newDBIndex(snap)
	e.dbIndex.Store(ix)
	return ix
}

// dbIndex maps the databases of a snapshot's tablets to their keyspaces. Immutable.
type dbIndex struct {
	snap *discovery.Snapshot
	gen  uint64
	dbs  map[string]string // database -> keyspace
	ks   map[string]string // keyspace -> database (its first tablet's)
}

var _ acl.Resolver = (*dbIndex)(nil)

func newDBIndex(snap *discovery.Snapshot) *dbIndex {
	ix := &dbIndex{snap: snap, gen: snap.Generation, dbs: map[string]string{}, ks: map[string]string{}}
	for _, t := range snap.Tablets() {
		if t.Server == nil {
			continue
		}
		db := t.Server.DBName()
		if _, ok := ix.dbs[db]; !ok {
			ix.dbs[db] = t.Keyspace
		}
		if _, ok := ix.ks[t.Keyspace]; !ok {
			ix.ks[t.Keyspace] = db
		}
	}
	return ix
}

// KeyspaceOfDatabase implements acl.Resolver. A keyspace's own name counts too (a client used
// to vtgate writes keyspace.table), unless another keyspace's database has that name.
func (ix *dbIndex) KeyspaceOfDatabase(db string) (string, bool) {
	if ks, ok := ix.dbs[db]; ok {
		return ks, true
	}
	if ix.snap.HasKeyspace(db) {
		return db, true
	}
	return "", false
}

// databaseOf is a keyspace's database ("vt_" + keyspace when no tablet says).
func (ix *dbIndex) databaseOf(_ *discovery.Snapshot, keyspace string) string {
	if db, ok := ix.ks[keyspace]; ok {
		return db
	}
	return "vt_" + keyspace
}

// keyspaceFilter says which keyspaces the session's user may see (SHOW DATABASES and SHOW
// VITESS_* list only those); nil: all.
func (e *Executor) keyspaceFilter(s *Session) func(string) bool {
	return userKeyspaces(e.rules(s))
}

func userKeyspaces(u *acl.User) func(string) bool {
	if u.Open() {
		return nil
	}
	return func(ks string) bool { return u.KeyspaceRight(ks) != acl.None }
}

// authorizeStmt checks a prepared statement's text before an execution, unless it was
// allowed under the same rules, target and lexing options already. A backend connection that
// has not prepared the text yet prepares it under the session's lexing options of now (its
// sql_mode and character set), where the text may read differently: that reading must pass
// too, and be the same kind of statement, or the execution is refused.
func (e *Executor) authorizeStmt(s *Session, st *mysqlserver.Stmt, q *query) error {
	p := e.policy.Load()
	opt := lexOptions(s)
	if q.checked.policy == p && q.checked.target == s.target && q.checked.has == s.hasTarget && q.checked.opt == opt {
		return nil
	}
	if err := e.authorize(s, []byte(st.Query), &q.parsed, q.opt, true); err != nil {
		return err
	}
	if opt != q.opt {
		now := e.analyze(s, []byte(st.Query))
		if err := e.authorize(s, []byte(st.Query), &now.parsed, now.opt, true); err != nil {
			return err
		}
		if now.readOnly != q.readOnly || now.kind != q.kind || now.answer != q.answer || now.multi != q.multi {
			return errReadsDifferently
		}
	}
	q.checked.policy, q.checked.target, q.checked.has, q.checked.opt = p, s.target, s.hasTarget, opt
	return nil
}

// errReadsDifferently refuses the execution of a statement whose text reads as another kind of
// statement under the session's sql_mode or character set of now than when it was prepared.
var errReadsDifferently = &mysql.MyError{Code: mysql.ER_UNKNOWN_STMT_HANDLER, State: "HY000",
	Message: "vtdirect: this prepared statement reads differently under the session's sql_mode or character set of now " +
		"than when it was prepared; prepare it again"}

// fieldListQuery is the statement COM_FIELD_LIST amounts to, for the access check: reading
// the table's columns.
func fieldListQuery(payload []byte) []byte {
	table := payload
	if i := strings.IndexByte(string(payload), 0); i >= 0 {
		table = payload[:i]
	}
	return []byte("DESCRIBE `" + strings.ReplaceAll(string(table), "`", "``") + "`")
}

// userSessions is a snapshot of the sessions, for KILL USER and SHOW PROCESSLIST.
func (e *Executor) userSessions(match func(*Session) bool) []*Session {
	var out []*Session
	e.sessions.Range(func(_, v any) bool {
		if s := v.(*Session); match(s) {
			out = append(out, s)
		}
		return true
	})
	return out
}

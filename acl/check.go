package acl

import (
	topodatapb "vitess.io/vitess/go/vt/proto/topodata"

	"github.com/vtdirect/vtdirect/classify"
)

// Resolver tells which keyspace a MySQL database belongs to (the tablets' databases).
type Resolver interface {
	KeyspaceOfDatabase(db string) (keyspace string, ok bool)
}

// Request is one query to check, as the router is about to send it.
type Request struct {
	Query   []byte
	Options classify.Options
	// Parsed is classify.Analyze(Query, Options), when the caller has it (nil: analysed here).
	Parsed *classify.Query
	// Keyspace is the keyspace the query runs in (its unqualified names' tables), and
	// Database that keyspace's database on the backend; TabletType the target's type.
	Keyspace, Database string
	TabletType         topodatapb.TabletType
	// Host is the client's host, for the messages.
	Host string
	// Prepared: the text comes from COM_STMT_PREPARE (a KILL cannot be prepared).
	Prepared bool
}

// Check says whether the user may run the query: nil, or the MySQL error to answer with. A
// query of several statements is refused whole if one of them is.
func (u *User) Check(req *Request, res Resolver) error {
	cq := req.Parsed
	if cq == nil {
		a := classify.Analyze(req.Query, req.Options)
		cq = &a
	}
	if err := u.checkBeyond(req, cq); err != nil || cq.Kinds.Only(classify.KindKill) {
		return err
	}
	if cq.Kinds.Has(classify.KindDDL) && !u.admin {
		if err := u.checkDatabaseDDL(req, cq, res); err != nil {
			return err
		}
	}
	if u.open && u.types == 0 {
		return nil
	}
	if req.Keyspace != "" && !u.TabletTypeAllowed(req.TabletType) {
		return u.CheckTarget(req.Keyspace, req.TabletType, req.Host)
	}
	if u.open {
		return nil
	}
	if cq.Count == 1 {
		return u.checkStatement(req, req.Query, &cq.First, res)
	}
	for st := range classify.Statements(req.Query, req.Options) {
		if err := u.checkStatement(req, req.Query, &st, res); err != nil {
			return err
		}
	}
	return nil
}

// checkDatabaseDDL refuses CREATE | ALTER | DROP DATABASE of a database no keyspace uses (for
// every user that is not an admin: it acts beyond the keyspaces).
func (u *User) checkDatabaseDDL(req *Request, cq *classify.Query, res Resolver) error {
	if cq.Count == 1 {
		if cq.First.Kind == classify.KindDDL && cq.First.Name != "" {
			return u.checkDatabase(req, cq.First.Name, DDL, res, true)
		}
		return nil
	}
	for st := range classify.Statements(req.Query, req.Options) {
		if st.Kind == classify.KindDDL && st.Name != "" {
			if err := u.checkDatabase(req, st.Name, DDL, res, true); err != nil {
				return err
			}
		}
	}
	return nil
}

// checkBeyond refuses what acts beyond the session for users that are not admins, and a KILL
// the gateway cannot answer for anyone.
func (u *User) checkBeyond(req *Request, cq *classify.Query) error {
	f := cq.Flags
	if f&classify.Kills != 0 && (req.Prepared || cq.Count != 1 || cq.First.Kind != classify.KindKill) {
		return notAlone()
	}
	if f&classify.Kills != 0 || u.admin {
		return nil // a lone KILL: the router answers it, with its own rules
	}
	if f&classify.Admin != 0 {
		return specificDenied("SUPER", cq.Reason+"; only a user whose access rules say \"Admin\": true may run it")
	}
	if f&classify.ServerInternals != 0 {
		if cq.Count == 1 && cq.First.Kind == classify.KindShow && cq.First.Show.Kind == classify.ShowProcesslist && !req.Prepared {
			return nil // the gateway answers it with the user's own sessions
		}
		return specificDenied("PROCESS", "the statement reads the server's internals (other sessions' statements, "+
			"engine status, performance_schema, sys, mysql); only a user whose access rules say \"Admin\": true may run it")
	}
	return nil
}

// checkStatement checks one statement (q[st.Start:st.End]) of a user with keyspace rules or
// under the table ACL.
func (u *User) checkStatement(req *Request, q []byte, st *classify.Statement, res Resolver) error {
	text := q[st.Start:st.End]
	// Each statement is read with the options MariaDB reads it with: the session's, as the
	// SETs of sql_mode and the client character set before it in the query changed them.
	opt := st.Options
	if (st.Kind == classify.KindPrepare || st.Kind == classify.KindExecute) && st.Text != "" {
		// The literal text of PREPARE and EXECUTE IMMEDIATE runs later, or now, under the
		// options of the SET STATEMENT around it: check it.
		inner := []byte(st.Text)
		for ist := range classify.Statements(inner, st.TextOptions) {
			if err := u.checkStatement(req, inner, &ist, res); err != nil {
				return err
			}
		}
		return nil
	}
	need := statementRight(st)
	ks := req.Keyspace
	if have := u.KeyspaceRight(ks); have < need {
		return rightDenied(u.name, req.Host, ks, need, have)
	}
	if st.Kind == classify.KindDDL && st.Name != "" {
		if err := u.checkDatabase(req, st.Name, DDL, res, true); err != nil {
			return err
		}
	}
	if st.Show != nil && st.Show.Database != "" {
		if err := u.checkDatabase(req, st.Show.Database, Read, res, false); err != nil {
			return err
		}
	}
	// Qualified names that reach other keyspaces' databases: each needs the statement's right
	// there, unless the parser can tell which right each table needs (INSERT INTO mine SELECT
	// ... FROM theirs needs only read on theirs).
	var denied error
	for name := range classify.Qualifiers(text, opt) {
		if name == req.Database {
			continue
		}
		other, ok := res.KeyspaceOfDatabase(name)
		if !ok || other == ks {
			continue
		}
		if have := u.KeyspaceRight(other); have < need {
			denied = rightDenied(u.name, req.Host, other, need, have)
			if have == None || need == Read {
				return denied
			}
		}
	}
	if denied == nil && u.tables == nil {
		return nil
	}
	perms, ok := statementTables(u.parser, st, text, opt)
	if !ok {
		if denied != nil {
			return denied
		}
		return tableDenied(command(text), u.name, req.Host, ks, "?", need,
			"the statement cannot be parsed to find its tables, which the table ACL needs; write it in MySQL's syntax")
	}
	for _, p := range perms {
		if err := u.checkTable(req, ks, text, p, res); err != nil {
			return err
		}
	}
	return nil
}

// checkDatabase checks a database a statement names outside a qualified name (DROP DATABASE
// db, SHOW TABLES FROM db). A database no keyspace uses needs Admin when ddl (creating or
// dropping it acts beyond the keyspaces) and is left to the backend's grants otherwise.
func (u *User) checkDatabase(req *Request, db string, need Right, res Resolver, ddl bool) error {
	ks, ok := req.Keyspace, db == req.Database
	if !ok {
		ks, ok = res.KeyspaceOfDatabase(db)
	}
	switch {
	case !ok && ddl && !u.admin:
		return specificDenied("CREATE", "CREATE | ALTER | DROP DATABASE of "+db+", a database no keyspace of the gateway uses, "+
			"acts beyond the keyspaces; only a user whose access rules say \"Admin\": true may run it")
	case !ok:
		return nil
	}
	if have := u.KeyspaceRight(ks); have < need {
		return rightDenied(u.name, req.Host, ks, need, have)
	}
	return nil
}

// checkTable checks one table a statement uses with the right it needs, in the keyspace
// its database belongs to, and against the table ACL.
func (u *User) checkTable(req *Request, ks string, text []byte, p tablePerm, res Resolver) error {
	if p.db != "" && p.db != req.Database {
		other, ok := res.KeyspaceOfDatabase(p.db)
		if !ok {
			if u.tables == nil {
				return nil // a database no keyspace uses: the backend's grants decide
			}
			return tableDenied(command(text), u.name, req.Host, p.db, p.table, p.right,
				"the table's database is no keyspace's, so no table ACL entry can allow it")
		}
		ks = other
	}
	if have := u.KeyspaceRight(ks); have < p.right {
		return rightDenied(u.name, req.Host, ks, p.right, have)
	}
	if u.tables == nil {
		return nil
	}
	g := u.tables.lookup(ks, p.table)
	if g == nil {
		return tableDenied(command(text), u.name, req.Host, ks, p.table, p.right, "no table group of the table ACL names the table")
	}
	if !u.member(g.members(p.right)) {
		return tableDenied(command(text), u.name, req.Host, ks, p.table, p.right,
			"the user is not among the "+roleList(p.right)+" of table group "+g.name)
	}
	return nil
}

func roleList(r Right) string {
	switch r {
	case Read:
		return "readers"
	case Write:
		return "writers"
	}
	return "admins"
}

// statementRight is the right a statement needs in the keyspaces it uses.
func statementRight(st *classify.Statement) Right {
	if st.Flags&(classify.ForUpdate|classify.WritesSequence) != 0 {
		return Write
	}
	switch st.Kind {
	case classify.KindInsert, classify.KindUpdate, classify.KindDelete, classify.KindReplace, classify.KindLoad,
		classify.KindCall, classify.KindDo:
		return Write
	case classify.KindDDL:
		if st.Flags&(classify.CreatesTempTable|classify.DropsTempTable) != 0 {
			return Write
		}
		return DDL
	case classify.KindLock, classify.KindExplain, classify.KindAdmin:
		if st.ReadOnly {
			return Read
		}
		return Write
	case classify.KindUnknown, classify.KindCompound:
		return DDL
	}
	return Read
}

// command is the statement's first word in upper case, as MySQL names the command it denies.
func command(text []byte) string {
	tz := classify.NewTokenizer(text, classify.Options{})
	t := tz.Next()
	if t.Kind != classify.TokWord {
		return "SQL"
	}
	b := make([]byte, 0, t.End-t.Start)
	for _, c := range text[t.Start:t.End] {
		if c >= 'a' && c <= 'z' {
			c -= 'a' - 'A'
		}
		b = append(b, c)
	}
	return string(b)
}

// CheckTableRead says whether the user may read a table of a keyspace ("" for every table of
// it: a change stream with a /regex filter or none), as a VStream does. Under the table ACL,
// every table needs a group entry that matches any name ("%" or "keyspace.%").
func (u *User) CheckTableRead(keyspace, table, host string) error {
	if have := u.KeyspaceRight(keyspace); have < Read {
		return rightDenied(u.name, host, keyspace, Read, have)
	}
	if u.tables == nil {
		return nil
	}
	if table == "" {
		groups, catchAll := u.tables.groupsOf(keyspace)
		if !catchAll {
			return tableDenied("SELECT", u.name, host, keyspace, "*", Read, "a stream of every table (a /regex filter, or none) needs "+
				"a table group with \"%\" or \""+keyspace+".%\", and the user among the readers of every group of the keyspace")
		}
		for _, g := range groups {
			if !u.member(g.readers) {
				return tableDenied("SELECT", u.name, host, keyspace, "*", Read, "a stream of every table: the user is not among "+
					"the readers of table group "+g.name+"; name the tables in the filter")
			}
		}
		return nil
	}
	g := u.tables.lookup(keyspace, table)
	if g == nil {
		return tableDenied("SELECT", u.name, host, keyspace, table, Read, "no table group of the table ACL names the table")
	}
	if !u.member(g.readers) {
		return tableDenied("SELECT", u.name, host, keyspace, table, Read, "the user is not among the readers of table group "+g.name)
	}
	return nil
}

// HasTableACL reports a user under the table ACL.
func (u *User) HasTableACL() bool { return u.tables != nil }

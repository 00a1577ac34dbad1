package router

import (
	"encoding/hex"
	"slices"
	"strings"

	"github.com/go-mysql-org/go-mysql/mysql"

	"github.com/vtdirect/vtdirect/acl"
	"github.com/vtdirect/vtdirect/classify"
	"github.com/vtdirect/vtdirect/mysqlserver"
)

// information_schema for users limited to some keyspaces. The backend user every gateway user
// shares may see every database, so MariaDB's information_schema shows a limited user the
// tables, columns and routines of keyspaces it may not use. The gateway rewrites each reference
// to an information_schema table that has a column naming a database into a derived table of
// the rows of the user's own keyspaces' databases (and information_schema's own), under the same
// name:
//
//	FROM information_schema.TABLES t  ->  FROM (SELECT * FROM information_schema.TABLES
//	                                      WHERE TABLE_SCHEMA IN ('db1', 'information_schema')) t
//
// The rest of the text stays byte for byte (placeholders, comments, MariaDB syntax), so the
// prepared form works too. A PREPARE or EXECUTE IMMEDIATE text that names information_schema is
// refused for such users (the gateway does not rewrite inside strings).

// schemaColumns are the information_schema tables with a column naming each row's database,
// by upper-case table name.
var schemaColumns = map[string]string{
	"CHECK_CONSTRAINTS":       "CONSTRAINT_SCHEMA",
	"COLUMNS":                 "TABLE_SCHEMA",
	"COLUMN_PRIVILEGES":       "TABLE_SCHEMA",
	"EVENTS":                  "EVENT_SCHEMA",
	"FILES":                   "TABLE_SCHEMA",
	"GEOMETRY_COLUMNS":        "F_TABLE_SCHEMA",
	"INDEX_STATISTICS":        "TABLE_SCHEMA",
	"KEY_COLUMN_USAGE":        "TABLE_SCHEMA",
	"PARAMETERS":              "SPECIFIC_SCHEMA",
	"PARTITIONS":              "TABLE_SCHEMA",
	"REFERENTIAL_CONSTRAINTS": "CONSTRAINT_SCHEMA",
	"ROUTINES":                "ROUTINE_SCHEMA",
	"SCHEMATA":                "SCHEMA_NAME",
	"SCHEMA_PRIVILEGES":       "TABLE_SCHEMA",
	"STATISTICS":              "TABLE_SCHEMA",
	"TABLES":                  "TABLE_SCHEMA",
	"TABLE_CONSTRAINTS":       "TABLE_SCHEMA",
	"TABLE_PRIVILEGES":        "TABLE_SCHEMA",
	"TABLE_STATISTICS":        "TABLE_SCHEMA",
	"TRIGGERS":                "TRIGGER_SCHEMA",
	"VIEWS":                   "TABLE_SCHEMA",
}

const infoSchema = "information_schema"

// afterTable are the reserved words that may follow a table reference: after them no alias
// was written.
var afterTable = map[string]bool{
	"where": true, "join": true, "inner": true, "cross": true, "left": true, "right": true, "natural": true,
	"straight_join": true, "on": true, "using": true, "group": true, "order": true, "limit": true, "having": true,
	"window": true, "union": true, "except": true, "intersect": true, "for": true, "lock": true, "into": true,
	"procedure": true, "use": true, "ignore": true, "force": true, "partition": true, "set": true, "values": true,
	"select": true, "returning": true, "fetch": true, "offset": true, "full": true, "outer": true, "when": true,
	"then": true, "else": true, "end": true, "and": true, "or": true, "xor": true, "not": true, "is": true, "in": true,
	"like": true, "between": true, "minus": true,
}

// mentionsInfoSchema is the quick test: does q name information_schema at all (any case)?
func mentionsInfoSchema(q []byte) bool { return containsFold(q, infoSchema) }

// containsFold reports whether q holds the lower-case ASCII word w, in any case.
func containsFold(q []byte, w string) bool {
	for i := 0; i+len(w) <= len(q); i++ {
		j := 0
		for j < len(w) && lower(q[i+j]) == w[j] {
			j++
		}
		if j == len(w) {
			return true
		}
	}
	return false
}

func lower(c byte) byte {
	if c >= 'A' && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// filterInfoSchema rewrites q for a user who may see only the databases in allowed (see the
// top of the file) and its SHOWs (infoschema_show.go); prepared: q is a COM_STMT_PREPARE's. It
// returns q itself when nothing changes, or an error to answer.
func filterInfoSchema(q []byte, opt classify.Options, allowed []string, prepared bool) ([]byte, error) {
	var out []byte
	last := 0 // q[:last] is in out already
	for st := range classify.Statements(q, opt) {
		text := q[st.Start:st.End]
		switch {
		case (st.Kind == classify.KindPrepare || st.Kind == classify.KindExecute) && mentionsInfoSchema([]byte(st.Text)):
			return nil, errInfoSchemaHidden()
		case st.Kind == classify.KindPrepare || st.Kind == classify.KindExecute:
			if listsDatabases([]byte(st.Text), st.TextOptions) {
				return nil, errShowHidden() // infoschema_show.go
			}
		case st.Kind == classify.KindShow:
			// SHOW ... FROM information_schema: its tables only; the SHOWs that list every
			// database's objects get a condition (infoschema_show.go).
			show, err := filterShow(text, st.Options, allowed, prepared)
			if err != nil {
				return nil, err
			}
			if show != nil {
				if out == nil {
					out = make([]byte, 0, len(q)+len(show))
				}
				out = append(out, q[last:st.Start]...)
				out = append(out, show...)
				last = st.End
			}
			continue
		case st.Kind == classify.KindExplain && st.Inner == classify.KindUnknown:
			continue // DESCRIBE information_schema.t: its columns only
		case listsDatabases(text, st.Options):
			return nil, errShowHidden() // a compound statement's SHOW PROCEDURE STATUS...
		}
		if !mentionsInfoSchema(text) {
			continue
		}
		tz := classify.NewTokenizer(text, st.Options)
		// a, dot, b: the last three tokens, before: the one before them
		var before, a, dot, b classify.Token
		for {
			t := tz.Next()
			if t.Kind == classify.TokError {
				return nil, errInfoSchemaHidden() // MariaDB refuses it too
			}
			if dot.Kind == classify.TokDot && before.Kind != classify.TokDot && t.Kind != classify.TokDot {
				if col, ok := schemaTable(text, a, b); ok {
					name, _ := classify.IdentName(text, b)
					if out == nil {
						out = make([]byte, 0, len(q)+256)
					}
					out = append(out, q[last:st.Start+a.Start]...)
					out = appendDerived(out, name, col, allowed)
					if !aliasFollows(text, t) {
						out = append(out, " AS `"...)
						out = append(out, strings.ReplaceAll(name, "`", "``")...)
						out = append(out, '`')
					}
					last = st.Start + b.End
				}
			}
			if t.Kind == classify.TokEOF {
				break
			}
			before, a, dot, b = a, dot, b, t
		}
	}
	if out == nil {
		return q, nil
	}
	return append(out, q[last:]...), nil
}

// schemaTable reports information_schema.<a table of schemaColumns>, with its database column.
func schemaTable(q []byte, db, table classify.Token) (string, bool) {
	d, ok := classify.IdentName(q, db)
	if !ok || !classify.IsInformationSchema(d) {
		return "", false
	}
	t, ok := classify.IdentName(q, table)
	if !ok {
		return "", false
	}
	col, ok := schemaColumns[strings.ToUpper(t)]
	return col, ok
}

// aliasFollows reports whether the token after a table name starts its alias.
func aliasFollows(q []byte, t classify.Token) bool {
	switch t.Kind {
	case classify.TokQuotedIdent:
		return true
	case classify.TokWord:
		w := strings.ToLower(string(q[t.Start:t.End]))
		return w == "as" || !afterTable[w]
	}
	return false
}

func appendDerived(b []byte, table, col string, allowed []string) []byte {
	b = append(b, "(SELECT * FROM `information_schema`.`"...)
	b = append(b, strings.ReplaceAll(table, "`", "``")...)
	b = append(b, "` WHERE `"...)
	b = append(b, col...)
	b = append(b, "` IN ('information_schema'"...)
	for _, db := range allowed {
		b = append(b, ", "...)
		b = appendNameLiteral(b, db)
	}
	return append(b, "))"...)
}

// appendNameLiteral writes a database name as a string literal every sql_mode reads alike: as
// it is when plain, else in hex.
func appendNameLiteral(b []byte, name string) []byte {
	plain := name != ""
	for i := 0; i < len(name) && plain; i++ {
		c := name[i]
		plain = c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '$' || c == '-'
	}
	if plain {
		b = append(b, '\'')
		b = append(b, name...)
		return append(b, '\'')
	}
	b = append(b, "X'"...)
	b = hex.AppendEncode(b, []byte(name))
	return append(b, '\'')
}

func errInfoSchemaHidden() error {
	return &mysql.MyError{Code: mysql.ER_TABLEACCESS_DENIED_ERROR, State: "42000", Message: "vtdirect: information_schema " +
		"named in a PREPARE or EXECUTE IMMEDIATE text, or in a statement the gateway cannot read, by a user limited to " +
		"some keyspaces; send the statement itself (the gateway shows such a user only its keyspaces' databases)"}
}

// limitInfoSchema applies filterInfoSchema to a query of the session's user, when the user is
// limited to some keyspaces and the query names information_schema or SHOW; q itself otherwise.
func (e *Executor) limitInfoSchema(s *Session, q []byte, opt func() classify.Options, prepared bool) ([]byte, error) {
	u := e.rules(s)
	if !u.LimitedKeyspaces() {
		return q, nil
	}
	if !mentionsInfoSchema(q) && !mentionsShow(q) { // SHOW PROCEDURE STATUS... (infoschema_show.go)
		return q, nil
	}
	return filterInfoSchema(q, opt(), e.visibleDatabases(u), prepared)
}

// visibleDatabases are the databases of the keyspaces u may use, sorted.
func (e *Executor) visibleDatabases(u *acl.User) []string {
	ix := e.databases()
	var out []string
	for db, ks := range ix.dbs {
		if u.KeyspaceRight(ks) != acl.None {
			out = append(out, db)
		}
	}
	slices.Sort(out)
	return out
}

// queryCommand is a COM_QUERY frame of q.
func queryCommand(q []byte) (*mysqlserver.Command, error) {
	if len(q)+1 >= 1<<24-1 {
		return nil, &mysql.MyError{Code: mysql.ER_NET_PACKET_TOO_LARGE, State: "08S01", Message: "vtdirect: the query, with " +
			"information_schema limited to the user's keyspaces, is larger than one packet; name fewer information_schema tables"}
	}
	f := make([]byte, 5, 5+len(q))
	n := len(q) + 1
	f[0], f[1], f[2], f[4] = byte(n), byte(n>>8), byte(n>>16), mysql.COM_QUERY
	return &mysqlserver.Command{Frame: append(f, q...)}, nil
}

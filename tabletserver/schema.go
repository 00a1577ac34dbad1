package tabletserver

// Schema switching. The connections of a backend serve every tablet on its MySQL server, each
// tablet its own database: a connection handed to a tablet whose database is not the one it
// is on is switched with COM_INIT_DB written in the same write as the tablet's first command,
// both replies read, so a switch costs no round trip. The connection knows which database it
// is on without asking: the handshake named it, the OK of each COM_INIT_DB confirms it, and
// session tracking (session_track_schema, on for every backend connection) reports any USE a
// client's statement makes.
//
// The command after a failed COM_INIT_DB still runs, in the database the connection was on:
// were that another tablet's, a statement meant for a dropped database would change another
// tablet's data. So a connection never goes from one tablet's database straight to another's:
// the switch passes through information_schema, which every user may use and nobody may
// write: COM_INIT_DB information_schema, then COM_INIT_DB of the tablet's database, both in
// the statement's write. A connection released to the pool stays on its database (nothing is
// sent then), so a tablet that finds an idle connection already on its database (the pool
// prefers those) does not switch at all. After a failed switch the statement ran in
// information_schema; its reply is dropped, the client gets the server's error for the switch,
// and the connection is closed. A backend of one tablet never switches.
// https://mariadb.com/kb/en/com_init_db/

import (
	"fmt"

	"github.com/go-mysql-org/go-mysql/mysql"
)

// parkSchema is where a switching connection passes on its way to its new database: harmless
// if the switch fails.
const parkSchema = "information_schema"

// schemaSwitchError reports a switch the server refused; err is what the client gets.
type schemaSwitchError struct{ err *mysql.MyError }

func (e *schemaSwitchError) Error() string { return e.err.Error() }

// switchSteps is how many commands a switch to wantSchema takes now: 0 when on it.
func (c *Conn) switchSteps() int {
	switch {
	case c.wantSchema == "" || c.schema == c.wantSchema:
		return 0
	case c.schema == parkSchema:
		return 1 // no tablet's database: a failed switch is harmless
	}
	return 2
}

// appendSwitch appends the steps' COM_INIT_DB frames.
func (c *Conn) appendSwitch(b []byte, steps int) []byte {
	if steps == 2 {
		b = appendInitDB(b, parkSchema)
	}
	if steps > 0 {
		b = appendInitDB(b, c.wantSchema)
	}
	return b
}

func appendInitDB(b []byte, db string) []byte {
	start := len(b)
	b = append(b, 0, 0, 0, 0, mysql.COM_INIT_DB)
	b = append(b, db...)
	setHeader(b[start:])
	return b
}

// readSwitch reads the replies of a switch of steps commands (c.more counts them). A refused
// switch is returned as a *schemaSwitchError, after which the connection is on parkSchema
// (or where it was, if even that failed: it must not be used again).
func (c *Conn) readSwitch(steps int) (*schemaSwitchError, error) {
	deprecate := c.caps&mysql.CLIENT_DEPRECATE_EOF != 0
	target := []string{c.wantSchema}
	if steps == 2 {
		target = []string{parkSchema, c.wantSchema}
	}
	var swErr *schemaSwitchError
	for _, db := range target {
		c.more--
		c.parser.reset(replyQuery, deprecate, false, nil)
		r, err := c.forward(nil, nil)
		if err != nil {
			return nil, err
		}
		switch {
		case r.Err == nil:
			c.schema = db
		case swErr == nil:
			swErr = &schemaSwitchError{err: errSchemaSwitch(c.ts.alias, db, r.Err)}
			if db == parkSchema {
				c.schema = "" // unknown: the connection is closed after this command
			}
		}
	}
	if swErr == nil {
		c.be.pool.stats.switches.Add(1)
	}
	return swErr, nil
}

// errSchemaSwitch is the server's refusal of a tablet's database (1049 unknown database, 1044
// access denied), as the client gets it.
func errSchemaSwitch(alias, db string, me *mysql.MyError) *mysql.MyError {
	return &mysql.MyError{Code: me.Code, State: me.State, Message: fmt.Sprintf(
		"vtdirect: tablet %s cannot use its database %s: %s; the statement did not run on it (check that the database exists and the backend user may use it)",
		alias, db, me.Message)}
}

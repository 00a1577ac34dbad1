package tabletserver

// Schema switching. The connections of a backend serve every tablet on its MySQL server, each
// tablet its own database: a connection handed to a tablet whose database is not the one it
// is on is switched with COM_INIT_DB before the tablet's first command. The connection knows
// which database it is on without asking: the handshake named it, the OK of each COM_INIT_DB
// confirms it, and session tracking (session_track_schema, on for every backend connection)
// reports any USE a client's statement makes.
//
// A connection never goes from one tablet's database straight to another's: the switch
// passes through information_schema, which every user may use and nobody may write. On a
// connection with CLIENT_MULTI_STATEMENTS on it is one COM_QUERY, "USE `information_schema`;
// USE `db`" (one command, one reply to read: a multi-statement stops at its first error);
// otherwise two COM_INIT_DB, and a COM_SET_OPTION after them turns multi-statements on for the
// connection's next switches (a command that needs them off turns them off again first).
//
// A command that provably reaches nothing but the current database (Request.Pipeline: the
// router proves it in router/pipeline.go; a prepare, a ping) goes in the switch's write, both
// replies read, so the switch costs no round trip. After a failed switch such a command ran
// in information_schema, where it can read nothing of a tablet's and write nothing: its reply
// is dropped. (A COM_STMT_EXECUTE of a statement this connection prepared for the tablet
// before runs in the database it was prepared in, the tablet's own: the statement the
// client meant, on the tables of the database it meant, whose switch failed because that
// database is gone or refused; its reply is dropped too.) Any other command (another database's name, GET_LOCK(), CALL, SET
// GLOBAL, DO, the gateway's own statements) would take effect while its client got the
// switch's error, and a retry would apply it twice: its switch is written alone (switchFirst)
// and the command sent only after the switch's OK, one more round trip on a switch only.
// Either way a failed switch gives the client the server's error (1049, 1044) naming the
// tablet, and the connection is closed. A connection released to the pool stays on its
// database (nothing is sent then), so a tablet that finds an idle connection already on its
// database (the pool prefers those) does not switch at all. A backend of one tablet never
// switches.
// https://mariadb.com/kb/en/com_init_db/ https://mariadb.com/kb/en/com_set_option/

import (
	"errors"
	"fmt"

	"github.com/go-mysql-org/go-mysql/mysql"
)

// parkSchema is where a switching connection passes on its way to its new database: harmless
// if the switch fails.
const parkSchema = "information_schema"

// schemaSwitchError reports a switch the server refused; err is what the client gets.
type schemaSwitchError struct{ err *mysql.MyError }

func (e *schemaSwitchError) Error() string { return e.err.Error() }

// Kinds of switch (Conn.switchKind).
const (
	switchNone  = iota // on the tablet's database already
	switchOne          // one COM_INIT_DB: the connection is on no tablet's database
	switchTwo          // COM_INIT_DB information_schema, then COM_INIT_DB of the database
	switchMulti        // one COM_QUERY: USE information_schema; USE the database
)

// switchKind is how the connection gets to wantSchema now.
func (c *Conn) switchKind() int {
	switch {
	case c.wantSchema == "" || c.schema == c.wantSchema:
		return switchNone
	case c.schema == parkSchema:
		return switchOne // no tablet's database: a failed switch is harmless
	case c.multi && !c.multiUnknown:
		return switchMulti
	}
	return switchTwo
}

// switchReplies is how many replies a switch of kind sw sends.
func switchReplies(sw int) int {
	switch sw {
	case switchNone:
		return 0
	case switchTwo:
		return 2
	}
	return 1
}

// appendSwitch appends the switch's commands.
func (c *Conn) appendSwitch(b []byte, sw int) []byte {
	switch sw {
	case switchOne:
		b = appendInitDB(b, c.wantSchema)
	case switchTwo:
		b = appendInitDB(b, parkSchema)
		b = appendInitDB(b, c.wantSchema)
	case switchMulti:
		start := len(b)
		b = append(b, 0, 0, 0, 0, mysql.COM_QUERY)
		b = append(b, "USE `"+parkSchema+"`; USE `"...)
		for i := 0; i < len(c.wantSchema); i++ {
			if c.wantSchema[i] == '`' {
				b = append(b, '`') // a backquote in a quoted name is doubled
			}
			b = append(b, c.wantSchema[i])
		}
		b = append(b, '`')
		setHeader(b[start:])
	}
	return b
}

// SwitchPending reports whether the connection's next command switches it to its tablet's
// database first: only then does Request.Pipeline matter.
func (c *Conn) SwitchPending() bool { return c.switchKind() != switchNone }

// switchFirst sends a switch of kind sw alone and reads its replies, for a command that may
// not follow it in the same write (Request.Pipeline): the command is sent only after the
// switch's OK. A refused switch is returned as a *schemaSwitchError, the command unsent.
func (c *Conn) switchFirst(sw int) error {
	b := c.appendSwitch(c.pbuf[:0], sw)
	c.pbuf = b
	if _, err := c.rw.Write(b); err != nil {
		return notSentWrite(err)
	}
	c.more = switchReplies(sw)
	swErr, err := c.readSwitch(sw)
	c.more = 0
	switch {
	case errors.Is(err, errStopped):
		// Stopped (a timeout, a KILL) while the switch's reply was read: where the
		// connection is now is not known, it is closed.
		return &NotSentError{Err: errStoppedEarly}
	case err != nil:
		return &NotSentError{Err: err}
	case swErr != nil:
		return swErr
	}
	c.be.pool.stats.switchesAlone.Add(1)
	return nil
}

func appendInitDB(b []byte, db string) []byte {
	start := len(b)
	b = append(b, 0, 0, 0, 0, mysql.COM_INIT_DB)
	b = append(b, db...)
	setHeader(b[start:])
	return b
}

// readSwitch reads the replies of a switch of kind sw (c.more counts them). A refused switch
// is returned as a *schemaSwitchError, after which the connection is on parkSchema (or where
// it was, if even that failed: it must not be used again).
func (c *Conn) readSwitch(sw int) (*schemaSwitchError, error) {
	deprecate := c.caps&mysql.CLIENT_DEPRECATE_EOF != 0
	var swErr *schemaSwitchError
	refused := func(db string, me *mysql.MyError) {
		if swErr == nil {
			swErr = &schemaSwitchError{err: errSchemaSwitch(c.ts.alias, db, me)}
		}
	}
	read := func() (Result, error) {
		c.more--
		c.parser.reset(replyQuery, deprecate, false, nil)
		return c.forward(nil, nil)
	}
	switch sw {
	case switchOne:
		r, err := read()
		if err != nil {
			return nil, err
		}
		if r.Err != nil {
			refused(c.wantSchema, r.Err)
		} else {
			c.schema = c.wantSchema
		}
	case switchTwo:
		for _, db := range [2]string{parkSchema, c.wantSchema} {
			r, err := read()
			if err != nil {
				return nil, err
			}
			switch {
			case r.Err == nil:
				c.schema = db
			case db == parkSchema:
				refused(db, r.Err)
				c.schema = "" // unknown: the connection is closed after this command
			default:
				refused(db, r.Err)
			}
		}
	case switchMulti:
		// One reply of two results; session tracking says how far it got.
		r, err := read()
		if err != nil {
			return nil, err
		}
		switch {
		case r.Err == nil:
			c.schema = c.wantSchema
		case r.SchemaChanged && r.Schema == parkSchema:
			c.schema = parkSchema
			refused(c.wantSchema, r.Err)
		default:
			c.schema = "" // unknown: the connection is closed after this command
			refused(parkSchema, r.Err)
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

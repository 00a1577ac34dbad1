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
// it waits in information_schema, which every user may use and nobody may write. A connection
// released to a backend that several tablets share is parked there at once (COM_INIT_DB
// written on release, its reply read with the next command's: off the next statement's path),
// so a switch is one COM_INIT_DB before the statement; a connection that was not parked takes
// two (information_schema, then the tablet's database). After a failed switch the statement
// ran in information_schema; its reply is dropped, the client gets the server's error for the
// switch, and the connection is closed. A backend of one tablet never parks nor switches.
// https://mariadb.com/kb/en/com_init_db/

import (
	"fmt"

	"github.com/go-mysql-org/go-mysql/mysql"
)

// parkSchema is where a switching connection waits for its new database: harmless if the
// switch fails.
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
		return 1
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

// park sends a connection being released to parkSchema, without waiting for the reply (read
// by readPark with the next command). It reports false when the write failed.
func (c *Conn) park() bool {
	if c.schema == parkSchema || c.parked {
		return true
	}
	c.pbuf = appendInitDB(c.pbuf[:0], parkSchema)
	if _, err := c.rw.Write(c.pbuf); err != nil {
		c.fail()
		return false
	}
	c.parked, c.home, c.schema = true, c.schema, parkSchema
	return true
}

// readPark reads the reply of the park, if one is pending: it comes before every other reply
// of the exchange (c.more counts it). A park the server refused leaves the connection on an
// unknown database: it is not used again after this command.
func (c *Conn) readPark() error {
	if !c.parked {
		return nil
	}
	c.parked = false
	// c.more already counts the replies after this one, the exchange's own.
	c.parser.reset(replyQuery, c.caps&mysql.CLIENT_DEPRECATE_EOF != 0, false, nil)
	r, err := c.forward(nil, nil)
	if err != nil {
		return err
	}
	if r.Err != nil {
		c.schema, c.discard = "", true
		c.be.log.Warn("a backend connection could not use information_schema", "err", r.Err)
	}
	return nil
}

// errSchemaSwitch is the server's refusal of a tablet's database (1049 unknown database, 1044
// access denied), as the client gets it.
func errSchemaSwitch(alias, db string, me *mysql.MyError) *mysql.MyError {
	return &mysql.MyError{Code: me.Code, State: me.State, Message: fmt.Sprintf(
		"vtdirect: tablet %s cannot use its database %s: %s; the statement did not run on it (check that the database exists and the backend user may use it)",
		alias, db, me.Message)}
}

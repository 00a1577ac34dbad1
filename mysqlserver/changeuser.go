package mysqlserver

// COM_CHANGE_USER: authenticate again on the same connection (with the greeting's scramble,
// and an auth switch when the client used another plugin, as in the handshake), then reset
// the session for the new user.
//
// On a wrong password MariaDB 10.11 answers ER_ACCESS_DENIED_ERROR and keeps the connection:
// the session is reset all the same, the previous user and database stay, and after three
// refusals further COM_CHANGE_USER get ER_UNKNOWN_COM_ERROR. The gateway does the same.
// https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_com_change_user.html
// https://mariadb.com/kb/en/com_change_user/

import (
	"errors"

	"github.com/go-mysql-org/go-mysql/mysql"
)

// maxFailedChangeUser is how many refused COM_CHANGE_USER a connection gets (MariaDB's 3).
const maxFailedChangeUser = 3

// changeUserRequest is a parsed COM_CHANGE_USER.
type changeUserRequest struct {
	user      string
	auth      []byte // aliases the packet
	db        string
	collation uint16 // 0: not sent
	plugin    string
	attrs     connAttrs
}

// parseChangeUser decodes a COM_CHANGE_USER payload (command byte included). Fields are read
// as the connection's negotiated capabilities say they were written. It never reads past p.
func parseChangeUser(p []byte, caps uint32) (*changeUserRequest, error) {
	if len(p) < 2 || p[0] != mysql.COM_CHANGE_USER {
		return nil, errors.New("COM_CHANGE_USER too short")
	}
	p = p[1:]
	user, n, ok := readNulString(p)
	if !ok {
		return nil, errors.New("COM_CHANGE_USER: user name not terminated")
	}
	r := &changeUserRequest{user: string(user)}
	p = p[n:]
	if caps&mysql.CLIENT_SECURE_CONNECTION != 0 {
		// A one-byte length, whatever CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA says.
		if len(p) == 0 || int(p[0]) > len(p)-1 {
			return nil, errors.New("COM_CHANGE_USER: truncated auth response")
		}
		n = 1 + int(p[0])
		r.auth = p[1:n:n]
	} else if r.auth, n, ok = readNulString(p); !ok {
		return nil, errors.New("COM_CHANGE_USER: auth response not terminated")
	}
	p = p[n:]
	var db []byte
	db, p = nulStringOrRest(p)
	r.db = string(db)
	if len(p) >= 2 {
		r.collation = le16(p)
		p = p[2:]
	} else if len(p) == 1 {
		return nil, errors.New("COM_CHANGE_USER: truncated character set")
	}
	if caps&mysql.CLIENT_PLUGIN_AUTH != 0 && len(p) > 0 {
		var plugin []byte
		plugin, p = nulStringOrRest(p)
		r.plugin = string(plugin)
	}
	if caps&mysql.CLIENT_CONNECT_ATTRS != 0 && len(p) > 0 {
		attrs, err := parseConnAttrs(p)
		if err != nil {
			return nil, err
		}
		r.attrs = attrs
	}
	return r, nil
}

// changeUser serves COM_CHANGE_USER.
func (c *Conn) changeUser(p []byte) error {
	if c.failedChanges >= maxFailedChangeUser {
		return c.WriteError(mysql.NewDefaultError(mysql.ER_UNKNOWN_COM_ERROR))
	}
	r, err := parseChangeUser(p, c.caps)
	if err != nil {
		return c.WriteError(mysql.NewError(erMalformedPacket, "Malformed communication packet"))
	}
	authErr := c.authenticate(c.caps, r.user, r.plugin, r.auth)
	var denied *mysql.MyError
	if authErr != nil && !errors.As(authErr, &denied) {
		return authErr // broken I/O
	}
	if denied == nil && r.user != c.user {
		// The new user's connection limit, as at a new connection; the old user's count
		// moves only when the change is allowed.
		if !c.l.addUser(r.user) {
			denied = errTooManyUserConnections(r.user)
		} else {
			c.l.removeUser(c.user)
		}
	}
	c.closeAllStmts()
	if denied != nil {
		c.failedChanges++
	} else {
		c.user, c.db, c.collation, c.attrs = r.user, r.db, r.collation, r.attrs
	}
	return c.l.h.ComChangeUser(c, denied)
}

// erMalformedPacket is ER_MALFORMED_PACKET (not in go-mysql's list).
const erMalformedPacket = 1835

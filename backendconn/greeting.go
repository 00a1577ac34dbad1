package backendconn

// The server greeting: Protocol::HandshakeV10, with MariaDB's extended capabilities in the
// last 4 of its 10 reserved bytes when CLIENT_MYSQL (bit 0) is clear.
// https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_connection_phase_packets_protocol_handshake_v10.html
// https://mariadb.com/kb/en/connection/#initial-handshake-packet

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/go-mysql-org/go-mysql/mysql"
)

// greeting is a parsed Protocol::HandshakeV10.
type greeting struct {
	version   string
	threadID  uint32
	caps      uint32
	extCaps   uint32 // MariaDB's, 0 unless mariadb
	mariadb   bool   // CLIENT_MYSQL clear: the extended capabilities are meaningful
	collation uint8
	status    uint16
	scramble  []byte // auth plugin data without its trailing NUL (20 bytes from MySQL and MariaDB)
	plugin    string // "" when the server has no CLIENT_PLUGIN_AUTH
}

// clientMySQL is bit 0 of the capabilities: CLIENT_LONG_PASSWORD to MySQL, CLIENT_MYSQL to
// MariaDB, which clears it to say that it speaks the extended capabilities.
const clientMySQL = mysql.CLIENT_LONG_PASSWORD

// parseGreeting decodes the server's first packet. An ERR packet in its place (too many
// connections, host blocked) is returned as its *mysql.MyError. It never reads past p.
func parseGreeting(p []byte) (*greeting, error) {
	if len(p) > 0 && p[0] == mysql.ERR_HEADER {
		return nil, parseErr(p)
	}
	if len(p) == 0 || p[0] != 10 {
		if len(p) == 0 {
			return nil, errors.New("empty greeting")
		}
		return nil, fmt.Errorf("greeting of protocol version %d, want 10 (is this a MySQL server?)", p[0])
	}
	g := &greeting{}
	rest := p[1:]
	end := bytes.IndexByte(rest, 0)
	if end < 0 {
		return nil, errors.New("greeting: server version not terminated")
	}
	g.version = string(rest[:end])
	rest = rest[end+1:]
	if len(rest) < 4+8+1+2 {
		return nil, errors.New("greeting truncated")
	}
	g.threadID = le32(rest)
	part1 := rest[4:12]
	g.caps = uint32(le16(rest[13:]))
	rest = rest[15:]
	g.scramble = append([]byte(nil), part1...)
	if len(rest) == 0 {
		return g, nil // a pre-4.1 server's greeting ends here; refused by the caller
	}
	if len(rest) < 1+2+2+1+10 {
		return nil, errors.New("greeting truncated after the capabilities")
	}
	g.collation = rest[0]
	g.status = le16(rest[1:])
	g.caps |= uint32(le16(rest[3:])) << 16
	dataLen := int(rest[5])
	if g.caps&clientMySQL == 0 {
		g.mariadb = true
		g.extCaps = le32(rest[12:])
	}
	rest = rest[16:]
	if g.caps&mysql.CLIENT_SECURE_CONNECTION != 0 {
		n := max(13, dataLen-8)
		if len(rest) < n {
			return nil, errors.New("greeting: auth plugin data truncated")
		}
		part2 := rest[:n]
		rest = rest[n:]
		// The part ends with a NUL that is not part of the scramble.
		if k := bytes.IndexByte(part2, 0); k >= 0 {
			part2 = part2[:k]
		}
		g.scramble = append(g.scramble, part2...)
	}
	if g.caps&mysql.CLIENT_PLUGIN_AUTH != 0 {
		// Some servers omit the final NUL: the name is then the rest of the packet.
		if k := bytes.IndexByte(rest, 0); k >= 0 {
			rest = rest[:k]
		}
		g.plugin = string(rest)
	}
	return g, nil
}

// parseErr decodes an ERR packet payload into a *mysql.MyError (never nil).
func parseErr(p []byte) *mysql.MyError {
	if len(p) < 3 || p[0] != mysql.ERR_HEADER {
		return mysql.NewError(mysql.ER_UNKNOWN_ERROR, "malformed ERR packet from the server")
	}
	e := &mysql.MyError{Code: le16(p[1:]), State: mysql.DEFAULT_MYSQL_STATE}
	msg := p[3:]
	if len(msg) >= 6 && msg[0] == '#' {
		e.State = string(msg[1:6])
		msg = msg[6:]
	}
	e.Message = string(msg)
	return e
}

func le16(b []byte) uint16 { return uint16(b[0]) | uint16(b[1])<<8 }
func le32(b []byte) uint32 {
	return uint32(b[0]) | uint32(b[1])<<8 | uint32(b[2])<<16 | uint32(b[3])<<24
}

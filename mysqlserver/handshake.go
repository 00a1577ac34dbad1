package mysqlserver

// Connection phase, first half: the server greeting (Protocol::HandshakeV10), the optional
// SSL request and TLS upgrade, and the client's Protocol::HandshakeResponse41.
// https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_connection_phase.html
// https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_connection_phase_packets_protocol_handshake_v10.html
// https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_connection_phase_packets_protocol_ssl_request.html
// https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_connection_phase_packets_protocol_handshake_response.html
// https://mariadb.com/kb/en/connection/

import (
	"crypto/rand"
	"errors"
	"fmt"
	"time"

	"github.com/go-mysql-org/go-mysql/mysql"
)

// baseCaps are the capabilities every gateway connection negotiates with clients that ask.
const baseCaps = mysql.CLIENT_PROTOCOL_41 | mysql.CLIENT_SECURE_CONNECTION | mysql.CLIENT_LONG_PASSWORD |
	mysql.CLIENT_LONG_FLAG | mysql.CLIENT_TRANSACTIONS | mysql.CLIENT_PLUGIN_AUTH |
	mysql.CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA | mysql.CLIENT_MULTI_RESULTS | mysql.CLIENT_PS_MULTI_RESULTS

// ServerCapabilities are the capability flags the gateway can offer its clients (the default
// of Config.Capabilities), without CLIENT_SSL (added when TLS is configured) and
// CLIENT_LOCAL_FILES (added with Config.LocalInfile). Replies the gateway makes itself follow
// what each client negotiated; forwarded replies need a backend connection that negotiated
// the same reply-format flags (CLIENT_DEPRECATE_EOF, CLIENT_SESSION_TRACK, CLIENT_FOUND_ROWS,
// CLIENT_MULTI_STATEMENTS, ...). CLIENT_COMPRESS, CLIENT_CONNECT_WITH_DB, CLIENT_CONNECT_ATTRS
// and CLIENT_INTERACTIVE are the gateway's own business. Never offered: CLIENT_ZSTD_COMPRESSION_ALGORITHM
// (MariaDB has no zstd), CLIENT_QUERY_ATTRIBUTES and CLIENT_OPTIONAL_RESULTSET_METADATA
// (MySQL 8 only: MariaDB could not produce those replies).
const ServerCapabilities = baseCaps | mysql.CLIENT_FOUND_ROWS | mysql.CLIENT_MULTI_STATEMENTS |
	mysql.CLIENT_SESSION_TRACK | mysql.CLIENT_DEPRECATE_EOF | mysql.CLIENT_COMPRESS |
	mysql.CLIENT_IGNORE_SPACE | mysql.CLIENT_INTERACTIVE | mysql.CLIENT_CONNECT_WITH_DB | mysql.CLIENT_CONNECT_ATTRS

// LegacyCapabilities is the fixed set the gateway offered before replies followed each
// client's capabilities, plus CLIENT_COMPRESS: a minimal set, for tests of a client that
// negotiates nothing that changes a reply's format.
const LegacyCapabilities = baseCaps | mysql.CLIENT_CONNECT_WITH_DB | mysql.CLIENT_CONNECT_ATTRS | mysql.CLIENT_COMPRESS

// serverExtCaps are the MariaDB extended capabilities offered (none yet). Offering one clears
// CLIENT_MYSQL (bit 0) in the greeting, as MariaDB does, and puts these in its last 4
// reserved bytes; a client that clears bit 0 in turn sends its own in the response filler.
// MARIADB_CLIENT_STMT_BULK_OPERATIONS (1<<2) is the candidate: COM_STMT_BULK_EXECUTE would then
// have to be served.
const serverExtCaps uint32 = 0

// clientMySQL is bit 0 of the capabilities: CLIENT_LONG_PASSWORD to MySQL, CLIENT_MYSQL to
// MariaDB.
const clientMySQL = mysql.CLIENT_LONG_PASSWORD

const (
	nonceLen = 20
	// handshakeLimit bounds the packets of the connection phase (a response with connection
	// attributes is well below this).
	handshakeLimit = 64 << 10
	// defaultCollation is utf8mb4_general_ci: known to MariaDB and MySQL alike.
	defaultCollation = 45
	// sslRequestLen is the payload size of an SSL request packet.
	sslRequestLen = 32
)

// errHandshake is returned (after an ERR was sent) when the client is refused.
var errHandshake = errors.New("client refused during handshake")

// handshakeResponse is a parsed Protocol::HandshakeResponse41.
type handshakeResponse struct {
	caps      uint32
	maxPacket uint32
	extCaps   uint32 // MariaDB's extended capabilities (bit 0 of caps clear)
	collation uint8
	user      string
	authResp  []byte // aliases the packet
	db        string
	plugin    string
	attrs     connAttrs
}

// newNonce fills b with a fresh 20-byte scramble. Like MySQL, bytes are 7-bit and never NUL
// or '$', because some clients treat the scramble as a C string.
func newNonce(b *[nonceLen]byte) error {
	if _, err := rand.Read(b[:]); err != nil {
		return fmt.Errorf("nonce: %w", err)
	}
	for i := range b {
		b[i] &= 0x7f
		if b[i] == 0 || b[i] == '$' {
			b[i]++
		}
	}
	return nil
}

// appendHandshakeV10 appends the server greeting payload.
func appendHandshakeV10(b []byte, version string, connID uint32, nonce []byte, caps, extCaps uint32, plugin string) []byte {
	if extCaps != 0 {
		caps &^= clientMySQL
	}
	b = append(b, 10) // protocol version
	b = append(b, version...)
	b = append(b, 0)
	b = appendUint32(b, connID)
	b = append(b, nonce[:8]...)
	b = append(b, 0) // filler
	b = appendUint16(b, uint16(caps))
	b = append(b, defaultCollation)
	b = appendUint16(b, mysql.SERVER_STATUS_AUTOCOMMIT)
	b = appendUint16(b, uint16(caps>>16))
	b = append(b, nonceLen+1)       // auth plugin data length, with the NUL
	b = append(b, 0, 0, 0, 0, 0, 0) // reserved
	b = appendUint32(b, extCaps)    // MariaDB's extended capabilities (reserved for MySQL)
	b = append(b, nonce[8:]...)
	b = append(b, 0)
	b = append(b, plugin...)
	return append(b, 0)
}

// isSSLRequest says whether the first client packet asks for TLS.
func isSSLRequest(payload []byte) bool {
	return len(payload) == sslRequestLen && le32(payload)&mysql.CLIENT_SSL != 0
}

// parseHandshakeResponse decodes a Protocol::HandshakeResponse41. Fields are read as the
// client's own capability flags say they were written. (A value, not a pointer: it stays on
// the caller's stack.)
func parseHandshakeResponse(p []byte) (handshakeResponse, error) {
	var r handshakeResponse
	if len(p) < sslRequestLen {
		return r, errors.New("handshake response too short")
	}
	r.caps, r.maxPacket, r.collation = le32(p), le32(p[4:]), p[8]
	if r.caps&mysql.CLIENT_PROTOCOL_41 == 0 {
		return r, errors.New("client does not speak protocol 4.1")
	}
	if r.caps&clientMySQL == 0 {
		r.extCaps = le32(p[28:]) // meaningful only if the greeting offered some
	}
	p = p[sslRequestLen:] // 4 caps + 4 max packet + 1 collation + 23 filler
	user, n, ok := readNulString(p)
	if !ok {
		return r, errors.New("user name not terminated")
	}
	r.user = string(user)
	p = p[n:]
	switch {
	case r.caps&mysql.CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA != 0:
		r.authResp, n, ok = readLenEncString(p)
	case r.caps&mysql.CLIENT_SECURE_CONNECTION != 0:
		if ok = len(p) > 0 && int(p[0]) < len(p); ok {
			n = 1 + int(p[0])
			r.authResp = p[1:n:n]
		}
	default:
		r.authResp, n, ok = readNulString(p)
	}
	if !ok {
		return r, errors.New("truncated auth response")
	}
	p = p[n:]
	if r.caps&mysql.CLIENT_CONNECT_WITH_DB != 0 && len(p) > 0 {
		var db []byte
		db, p = nulStringOrRest(p)
		r.db = string(db)
	}
	if r.caps&mysql.CLIENT_PLUGIN_AUTH != 0 && len(p) > 0 {
		var plugin []byte
		plugin, p = nulStringOrRest(p)
		r.plugin = pluginName(plugin)
	}
	if r.caps&mysql.CLIENT_CONNECT_ATTRS != 0 && len(p) > 0 {
		attrs, err := parseConnAttrs(p)
		if err != nil {
			return r, err
		}
		r.attrs = attrs
	}
	return r, nil
}

// pluginName is the name of an authentication plugin, without a copy for the plugins the
// gateway serves.
func pluginName(b []byte) string {
	switch string(b) { // compared, not converted
	case mysql.AUTH_NATIVE_PASSWORD:
		return mysql.AUTH_NATIVE_PASSWORD
	case mysql.AUTH_CACHING_SHA2_PASSWORD:
		return mysql.AUTH_CACHING_SHA2_PASSWORD
	}
	return string(b)
}

// nulStringOrRest reads a NUL-terminated string, tolerating a missing NUL at the very end
// of the packet (some clients omit it on the last field).
func nulStringOrRest(p []byte) (s, rest []byte) {
	if s, n, ok := readNulString(p); ok {
		return s, p[n:]
	}
	return p, nil
}

// connAttrs are the connection attributes a client sent: the key/value pairs of the block, as
// sent (checked well-formed). Few clients' attributes are ever looked at, so they are decoded
// when asked for (Map), not for every connection.
type connAttrs string

// parseConnAttrs checks the length-encoded block of key/value pairs and keeps it.
func parseConnAttrs(p []byte) (connAttrs, error) {
	block, _, ok := readLenEncString(p)
	if !ok {
		return "", errors.New("truncated connection attributes")
	}
	if err := connAttrsEach(block, nil); err != nil {
		return "", err
	}
	return connAttrs(block), nil
}

// connAttrsEach calls f (if not nil) with each pair of block, in order.
func connAttrsEach(block []byte, f func(k, v []byte)) error {
	for len(block) > 0 {
		k, n, ok := readLenEncString(block)
		if !ok {
			return errors.New("malformed connection attribute name")
		}
		block = block[n:]
		v, n, ok := readLenEncString(block)
		if !ok {
			return errors.New("malformed connection attribute value")
		}
		block = block[n:]
		if f != nil {
			f(k, v)
		}
	}
	return nil
}

// Map decodes the attributes; nil if there are none.
func (a connAttrs) Map() map[string]string {
	if a == "" {
		return nil
	}
	m := make(map[string]string)
	_ = connAttrsEach([]byte(a), func(k, v []byte) { m[string(k)] = string(v) }) // checked by parseConnAttrs
	return m
}

// handshake runs the connection phase up to (not including) the final OK. On failure the client has been sent an ERR packet
// when the protocol allows it.
func (c *Conn) handshake() error {
	cfg := &c.l.cfg
	if cfg.HandshakeTimeout > 0 {
		_ = c.raw.SetDeadline(time.Now().Add(cfg.HandshakeTimeout))
		// Clearing the deadline also disarms the write timeout, which must then re-arm.
		defer func() { _ = c.raw.SetDeadline(time.Time{}); c.out.armed = time.Time{} }()
	}
	if err := newNonce(&c.nonceBuf); err != nil {
		return err
	}
	caps := c.l.offeredCaps()
	c.nonce = c.nonceBuf[:]
	c.seq = 0
	start := c.begin()
	c.wbuf = appendHandshakeV10(c.wbuf, cfg.serverVersion(), c.id, c.nonce, caps, serverExtCaps, cfg.DefaultAuthPlugin)
	c.end(start)
	if err := c.flush(); err != nil {
		return fmt.Errorf("write greeting: %w", err)
	}

	payload, err := c.readHandshakePacket()
	if err != nil {
		return err
	}
	if isSSLRequest(payload) {
		if cfg.TLSConfig == nil {
			return c.refuse(mysql.NewError(mysql.ER_HANDSHAKE_ERROR, "Bad handshake: TLS was not offered"))
		}
		if err := c.upgradeTLS(); err != nil {
			return fmt.Errorf("tls handshake: %w", err)
		}
		if payload, err = c.readHandshakePacket(); err != nil {
			return err
		}
	} else if cfg.RequireTLS {
		return c.refuse(&mysql.MyError{Code: erSecureTransportRequired, State: "HY000",
			Message: "Connections using insecure transport are prohibited while --require_secure_transport=ON."})
	}
	resp, err := parseHandshakeResponse(payload)
	if err != nil {
		_ = c.refuse(mysql.NewError(mysql.ER_HANDSHAKE_ERROR, "Bad handshake"))
		return fmt.Errorf("handshake response: %w", err)
	}
	if resp.caps&mysql.CLIENT_SSL != 0 && !c.tls {
		return c.refuse(mysql.NewError(mysql.ER_HANDSHAKE_ERROR, "Bad handshake: CLIENT_SSL without an SSL request"))
	}
	c.user = resp.user
	c.db = resp.db
	c.collation = uint16(resp.collation)
	c.clientCaps = resp.caps
	c.caps = resp.caps & caps
	if serverExtCaps != 0 && resp.caps&clientMySQL == 0 {
		c.extCaps = resp.extCaps & serverExtCaps
	}
	c.multiStatements = c.caps&mysql.CLIENT_MULTI_STATEMENTS != 0
	c.attrs = resp.attrs

	// The final OK is written by serve, after the Handler accepted the client.
	if err := c.authenticate(resp.caps, resp.user, resp.plugin, resp.authResp); err != nil {
		var denied *mysql.MyError
		if errors.As(err, &denied) {
			return c.refuse(denied)
		}
		return err
	}
	return nil
}

// offeredCaps are the capability flags of the greeting.
func (l *Listener) offeredCaps() uint32 {
	caps := l.cfg.Capabilities
	if l.cfg.TLSConfig != nil {
		caps |= mysql.CLIENT_SSL
	}
	if l.cfg.LocalInfile {
		caps |= mysql.CLIENT_LOCAL_FILES
	}
	return caps
}

// erSecureTransportRequired is MySQL's ER_SECURE_TRANSPORT_REQUIRED (not in go-mysql's list).
const erSecureTransportRequired = 3159

// readHandshakePacket reads the next connection-phase packet, refusing bad framing.
func (c *Conn) readHandshakePacket() ([]byte, error) {
	frame, seq, err := c.rd.readPacket(c.seq, handshakeLimit)
	if err == nil {
		c.seq = c.nextSeq(seq)
		return frame[4:], nil
	}
	// Only now: errors.As's targets escape to the heap.
	var tooLarge *errPacketTooLarge
	var order *errOutOfOrder
	switch {
	case errors.As(err, &tooLarge):
		c.seq = tooLarge.seq + 1
		_ = c.refuse(mysql.NewError(mysql.ER_HANDSHAKE_ERROR, "Bad handshake: packet too large"))
		return nil, err
	case errors.As(err, &order):
		c.seq = order.got + 1
		_ = c.refuse(mysql.NewError(mysql.ER_NET_PACKETS_OUT_OF_ORDER, "Got packets out of order"))
	}
	return nil, err
}

// refuse writes err to the client and returns errHandshake wrapping it.
func (c *Conn) refuse(err *mysql.MyError) error {
	if werr := c.WriteError(err); werr != nil {
		return werr
	}
	return fmt.Errorf("%w: %v", errHandshake, err)
}

package mysqlserver

// Connection phase, second half: authentication with mysql_native_password or
// caching_sha2_password, including the auth switch and caching_sha2's fast and full paths.
// The gateway knows each user's plaintext password, so it checks a scramble by computing
// the expected one; the full (cleartext) path is only ever used over TLS.
// https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_connection_phase_authentication_methods_native_password_authentication.html
// https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_connection_phase_packets_protocol_auth_switch_request.html
// https://dev.mysql.com/doc/dev/mysql-server/latest/page_caching_sha2_authentication_exchanges.html
// https://mariadb.com/kb/en/connection/#authentication-switch-request

import (
	"crypto/sha1"
	"crypto/sha256"
	"crypto/subtle"
	"net"

	"github.com/go-mysql-org/go-mysql/mysql"
)

// caching_sha2_password AuthMoreData codes.
const (
	authMoreData        = 0x01
	authSwitchRequest   = 0xfe
	sha2FastAuthSuccess = 0x03
	sha2FullAuth        = 0x04
)

// authenticate checks the credentials of user, who answered the connection's nonce with
// data computed by plugin (clientCaps are the flags of its handshake). It returns a
// *mysql.MyError (ER_ACCESS_DENIED_ERROR) for a refusal, not yet written, and other errors
// for broken I/O. On success c.plugin is the plugin that authenticated.
func (c *Conn) authenticate(clientCaps uint32, user, plugin string, data []byte) error {
	cfg := &c.l.cfg
	if clientCaps&mysql.CLIENT_PLUGIN_AUTH == 0 || plugin == "" {
		plugin = mysql.AUTH_NATIVE_PASSWORD // what a client without plugin support computed
	}
	if plugin != cfg.DefaultAuthPlugin && clientCaps&mysql.CLIENT_PLUGIN_AUTH != 0 {
		var err error
		if data, err = c.authSwitch(cfg.DefaultAuthPlugin, c.nonce); err != nil {
			return err
		}
		plugin = cfg.DefaultAuthPlugin
	}

	password, known := "", true
	if !cfg.InsecureNoAuth {
		password, known = cfg.Auth.Password(user)
	}
	ok := false
	switch plugin {
	case mysql.AUTH_NATIVE_PASSWORD:
		ok = cfg.InsecureNoAuth || (known && checkNative(data, c.nonce, password))
	case mysql.AUTH_CACHING_SHA2_PASSWORD:
		var err error
		if ok, err = c.authCachingSha2(data, c.nonce, password, known); err != nil {
			return err
		}
	}
	if !ok {
		c.l.authFailures.Add(1)
		c.l.authLimit.failed(addrKey(c.raw.RemoteAddr()))
		return accessDenied(user, c.raw.RemoteAddr(), len(data) > 0 && !(len(data) == 1 && data[0] == 0))
	}
	c.plugin = plugin
	return nil
}

// authSwitch asks the client to authenticate again with plugin and returns its answer.
func (c *Conn) authSwitch(plugin string, nonce []byte) ([]byte, error) {
	start := c.begin()
	c.wbuf = append(c.wbuf, authSwitchRequest)
	c.wbuf = append(c.wbuf, plugin...)
	c.wbuf = append(c.wbuf, 0)
	c.wbuf = append(c.wbuf, nonce...)
	c.wbuf = append(c.wbuf, 0)
	c.end(start)
	if err := c.flush(); err != nil {
		return nil, err
	}
	data, err := c.readHandshakePacket()
	if err != nil {
		return nil, err
	}
	return append([]byte(nil), data...), nil // the read buffer is reused by the next read
}

// authCachingSha2 runs caching_sha2_password over the client's scramble.
func (c *Conn) authCachingSha2(data, nonce []byte, password string, known bool) (bool, error) {
	cfg := &c.l.cfg
	if len(data) == 0 || (len(data) == 1 && data[0] == 0) {
		// Empty password: the server answers OK directly.
		return cfg.InsecureNoAuth || (known && password == ""), nil
	}
	if cfg.InsecureNoAuth || (known && !c.l.forceFullAuth && checkCachingSha2(data, nonce, password)) {
		return true, c.writeAuthMoreData(sha2FastAuthSuccess)
	}
	if !c.tls || !known {
		// The scramble is wrong, and without TLS the cleartext could only come RSA-encrypted,
		// which would tell us nothing more: refuse.
		return false, nil
	}
	// Full authentication: over TLS the client sends its password in clear, NUL-terminated.
	if err := c.writeAuthMoreData(sha2FullAuth); err != nil {
		return false, err
	}
	clear, err := c.readHandshakePacket()
	if err != nil {
		return false, err
	}
	if n := len(clear); n > 0 && clear[n-1] == 0 {
		clear = clear[:n-1]
	}
	return subtle.ConstantTimeCompare(clear, []byte(password)) == 1, nil
}

func (c *Conn) writeAuthMoreData(code byte) error {
	start := c.begin()
	c.wbuf = append(c.wbuf, authMoreData, code)
	c.end(start)
	return c.flush()
}

// checkNative verifies a mysql_native_password scramble:
// SHA1(password) XOR SHA1(nonce + SHA1(SHA1(password))). The hashes are arrays on the stack
// (go-mysql's CalcPassword, which computes the same, allocates three slices per login).
func checkNative(data, nonce []byte, password string) bool {
	if password == "" {
		return len(data) == 0
	}
	stage1 := sha1.Sum([]byte(password))
	stage2 := sha1.Sum(stage1[:])
	var in [nonceLen + sha1.Size]byte
	want := sha1.Sum(append(append(in[:0], nonce...), stage2[:]...))
	for i := range want {
		want[i] ^= stage1[i]
	}
	return subtle.ConstantTimeCompare(data, want[:]) == 1
}

// checkCachingSha2 verifies a caching_sha2_password scramble:
// SHA256(password) XOR SHA256(SHA256(SHA256(password)) + nonce), as checkNative does.
func checkCachingSha2(data, nonce []byte, password string) bool {
	if password == "" {
		return false
	}
	message1 := sha256.Sum256([]byte(password))
	hash := sha256.Sum256(message1[:])
	var in [sha256.Size + nonceLen]byte
	want := sha256.Sum256(append(append(in[:0], hash[:]...), nonce...))
	for i := range want {
		want[i] ^= message1[i]
	}
	return subtle.ConstantTimeCompare(data, want[:]) == 1
}

// accessDenied is MySQL's ER_ACCESS_DENIED_ERROR, word for word (clients and tools match it).
func accessDenied(user string, addr net.Addr, usedPassword bool) *mysql.MyError {
	host := addr.String()
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	yes := "NO"
	if usedPassword {
		yes = "YES"
	}
	return mysql.NewDefaultError(mysql.ER_ACCESS_DENIED_ERROR, user, host, yes)
}

package backendconn

// Authentication: the plugins' answers to the server's scramble, the auth switch request, and
// caching_sha2_password's extra round trips (fast path; full authentication with the password
// in clear over TLS or a unix socket, else RSA-encrypted with the server's public key).
// https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_connection_phase_authentication_methods.html
// https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_connection_phase_packets_protocol_auth_switch_request.html
// https://dev.mysql.com/doc/dev/mysql-server/latest/page_caching_sha2_authentication_exchanges.html
// https://mariadb.com/kb/en/authentication-plugin-ed25519/

import (
	"bytes"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"

	"github.com/go-mysql-org/go-mysql/mysql"
)

// Packet headers of the authentication exchange.
const (
	authMoreData      = 0x01
	authSwitchRequest = 0xfe
	// caching_sha2_password's AuthMoreData codes and the client's public key request.
	sha2FastAuthSuccess    = 0x03
	sha2PerformFullAuth    = 0x04
	sha2RequestPublicKey   = 0x02
	nativeScrambleLen      = 20
	maxAuthSwitchesPerDial = 4
)

// errUnsupportedPlugin names a plugin this package cannot answer.
type errUnsupportedPlugin struct{ plugin string }

func (e *errUnsupportedPlugin) Error() string {
	return fmt.Sprintf("the server asks for authentication plugin %q, which vtdirect does not speak: "+
		"give the backend user mysql_native_password, caching_sha2_password or ed25519 "+
		"(e.g. ALTER USER ... IDENTIFIED VIA mysql_native_password USING PASSWORD('...'))", e.plugin)
}

// authenticator answers one plugin's challenges for one connection.
type authenticator struct {
	password string
	secure   bool // TLS or a unix socket: the password may travel in clear
	plugin   string
	scramble []byte
}

// supported says whether plugin can be answered.
func supported(plugin string) bool {
	switch plugin {
	case mysql.AUTH_NATIVE_PASSWORD, mysql.AUTH_CACHING_SHA2_PASSWORD, mysql.AUTH_MARIADB_ED25519, mysql.AUTH_CLEAR_PASSWORD:
		return true
	}
	return false
}

// initial is the plugin's first answer to the scramble.
func (a *authenticator) initial() ([]byte, error) {
	switch a.plugin {
	case mysql.AUTH_NATIVE_PASSWORD:
		return mysql.CalcPassword(nativeScramble(a.scramble), []byte(a.password)), nil
	case mysql.AUTH_CACHING_SHA2_PASSWORD:
		return mysql.CalcCachingSha2Password(nativeScramble(a.scramble), a.password), nil
	case mysql.AUTH_MARIADB_ED25519:
		return mysql.CalcEd25519Password(a.scramble, a.password)
	case mysql.AUTH_CLEAR_PASSWORD:
		if !a.secure {
			return nil, errors.New("the server asks for the password in clear (mysql_clear_password) on a connection " +
				"without TLS: refused; use a TLS mode (--db-ssl-mode) or another authentication plugin")
		}
		return append([]byte(a.password), 0), nil
	}
	return nil, &errUnsupportedPlugin{a.plugin}
}

// nativeScramble is the 20-byte scramble the SHA-based plugins hash.
func nativeScramble(s []byte) []byte {
	if len(s) > nativeScrambleLen {
		return s[:nativeScrambleLen]
	}
	return s
}

// parseAuthSwitch decodes an AuthSwitchRequest payload (0xfe, plugin name, data). The data
// of the SHA-based plugins carries a trailing NUL, which is dropped.
func parseAuthSwitch(p []byte) (plugin string, data []byte, err error) {
	if len(p) == 0 || p[0] != authSwitchRequest {
		return "", nil, errors.New("not an auth switch request")
	}
	if len(p) == 1 {
		return "", nil, &errUnsupportedPlugin{mysql.AUTH_MYSQL_OLD_PASSWORD}
	}
	rest := p[1:]
	end := bytes.IndexByte(rest, 0)
	if end < 0 {
		return "", nil, errors.New("auth switch request: plugin name not terminated")
	}
	plugin = string(rest[:end])
	data = append([]byte(nil), rest[end+1:]...)
	if plugin != mysql.AUTH_MARIADB_ED25519 && len(data) > 0 && data[len(data)-1] == 0 {
		data = data[:len(data)-1]
	}
	return plugin, data, nil
}

// moreData answers an AuthMoreData packet (its payload after the 0x01); the server's verdict
// (OK or ERR) comes next.
func (a *authenticator) moreData(ph *phase, data []byte) error {
	if a.plugin != mysql.AUTH_CACHING_SHA2_PASSWORD || len(data) == 0 {
		return fmt.Errorf("unexpected AuthMoreData for plugin %s", a.plugin)
	}
	switch data[0] {
	case sha2FastAuthSuccess:
		return nil // the OK follows
	case sha2PerformFullAuth:
		if a.secure {
			return ph.write(append([]byte(a.password), 0))
		}
		// No TLS: ask for the server's RSA public key and send the password encrypted with it.
		if err := ph.write([]byte{sha2RequestPublicKey}); err != nil {
			return err
		}
		p, err := ph.read()
		if err != nil {
			return err
		}
		if len(p) > 0 && p[0] == mysql.ERR_HEADER {
			return parseErr(p)
		}
		if len(p) == 0 || p[0] != authMoreData {
			return errors.New("caching_sha2_password: the server did not send its public key")
		}
		pub, err := parsePublicKey(p[1:])
		if err != nil {
			return fmt.Errorf("caching_sha2_password: %w", err)
		}
		enc, err := mysql.EncryptPassword(a.password, nativeScramble(a.scramble), pub)
		if err != nil {
			return fmt.Errorf("caching_sha2_password: encrypt the password: %w", err)
		}
		return ph.write(enc)
	}
	return fmt.Errorf("caching_sha2_password: unknown AuthMoreData code %d", data[0])
}

// parsePublicKey decodes the PEM public key a server sends for RSA password exchange.
func parsePublicKey(b []byte) (*rsa.PublicKey, error) {
	block, _ := pem.Decode(b)
	if block == nil {
		return nil, errors.New("the server's public key is not PEM")
	}
	key, err := x509.ParsePKIXPublicKey(block.Bytes)
	if err != nil {
		rk, err2 := x509.ParsePKCS1PublicKey(block.Bytes)
		if err2 != nil {
			return nil, fmt.Errorf("the server's public key: %w", err)
		}
		return rk, nil
	}
	rk, ok := key.(*rsa.PublicKey)
	if !ok {
		return nil, fmt.Errorf("the server's public key is a %T, not RSA", key)
	}
	return rk, nil
}

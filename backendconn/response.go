package backendconn

// The client's answer to the greeting: Protocol::SSLRequest and Protocol::HandshakeResponse41,
// with MariaDB's extended client capabilities in the last 4 filler bytes.
// https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_connection_phase_packets_protocol_handshake_response.html
// https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_connection_phase_packets_protocol_ssl_request.html
// https://mariadb.com/kb/en/connection/#handshake-response-packet

import (
	"maps"
	"slices"

	"github.com/go-mysql-org/go-mysql/mysql"
)

// alwaysCaps are asked for on every connection: the protocol this package speaks.
const alwaysCaps = mysql.CLIENT_PROTOCOL_41 | mysql.CLIENT_SECURE_CONNECTION | mysql.CLIENT_PLUGIN_AUTH |
	mysql.CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA

// response is what goes in the handshake response.
type response struct {
	caps      uint32
	extCaps   uint32 // written only when caps lacks CLIENT_MYSQL (a MariaDB server)
	maxPacket uint32
	collation uint8
	user      string
	auth      []byte
	db        string
	plugin    string
	attrs     map[string]string
}

// appendFixed appends the 32 bytes that start both the SSL request and the response.
func (r *response) appendFixed(b []byte) []byte {
	b = appendUint32(b, r.caps)
	b = appendUint32(b, r.maxPacket)
	b = append(b, r.collation)
	b = append(b, make([]byte, 19)...)
	if r.caps&clientMySQL == 0 {
		return appendUint32(b, r.extCaps)
	}
	return append(b, 0, 0, 0, 0)
}

// appendResponse appends the whole HandshakeResponse41 payload, each field as r.caps says.
func (r *response) appendResponse(b []byte) []byte {
	b = r.appendFixed(b)
	b = append(b, r.user...)
	b = append(b, 0)
	switch {
	case r.caps&mysql.CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA != 0:
		b = appendLenEncBytes(b, r.auth)
	default: // CLIENT_SECURE_CONNECTION: always set, and auth data is at most 255 bytes then
		b = append(b, byte(len(r.auth)))
		b = append(b, r.auth...)
	}
	if r.caps&mysql.CLIENT_CONNECT_WITH_DB != 0 {
		b = append(b, r.db...)
		b = append(b, 0)
	}
	if r.caps&mysql.CLIENT_PLUGIN_AUTH != 0 {
		b = append(b, r.plugin...)
		b = append(b, 0)
	}
	if r.caps&mysql.CLIENT_CONNECT_ATTRS != 0 {
		var kv []byte
		for _, k := range slices.Sorted(maps.Keys(r.attrs)) {
			kv = appendLenEncBytes(kv, []byte(k))
			kv = appendLenEncBytes(kv, []byte(r.attrs[k]))
		}
		b = appendLenEncBytes(b, kv)
	}
	return b
}

func appendLenEncBytes(b, s []byte) []byte {
	return append(mysql.AppendLengthEncodedInteger(b, uint64(len(s))), s...)
}

func appendUint32(b []byte, v uint32) []byte {
	return append(b, byte(v), byte(v>>8), byte(v>>16), byte(v>>24))
}

// readLenEnc decodes a length-encoded integer at the start of b; ok is false when b is
// truncated or starts with 0xfb (NULL) or 0xff.
func readLenEnc(b []byte) (v uint64, n int, ok bool) {
	if len(b) == 0 {
		return 0, 0, false
	}
	switch c := b[0]; {
	case c < 0xfb:
		return uint64(c), 1, true
	case c == 0xfc && len(b) >= 3:
		return uint64(b[1]) | uint64(b[2])<<8, 3, true
	case c == 0xfd && len(b) >= 4:
		return uint64(b[1]) | uint64(b[2])<<8 | uint64(b[3])<<16, 4, true
	case c == 0xfe && len(b) >= 9:
		return uint64(le32(b[1:])) | uint64(le32(b[5:]))<<32, 9, true
	}
	return 0, 0, false
}

// readLenEncBytes returns the length-encoded string at the start of b and the bytes used.
func readLenEncBytes(b []byte) (s []byte, n int, ok bool) {
	l, n, ok := readLenEnc(b)
	if !ok || l > uint64(len(b)-n) {
		return nil, 0, false
	}
	end := n + int(l)
	return b[n:end:end], end, true
}

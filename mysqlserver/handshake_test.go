package mysqlserver

import (
	"bytes"
	"testing"

	"github.com/go-mysql-org/go-mysql/mysql"
)

func TestAppendHandshakeV10(t *testing.T) {
	nonce := []byte("abcdefghijklmnopqrst")
	p := appendHandshakeV10(nil, "8.0.40-vtdirect", 0x01020304, nonce, ServerCapabilities|mysql.CLIENT_SSL, 0, mysql.AUTH_NATIVE_PASSWORD)
	want := []byte("\x0a8.0.40-vtdirect\x00\x04\x03\x02\x01abcdefgh\x00")
	if !bytes.HasPrefix(p, want) {
		t.Fatalf("greeting starts %q", p[:len(want)])
	}
	rest := p[len(want):]
	caps := uint32(le16(rest)) | uint32(le16(rest[5:]))<<16
	if caps != ServerCapabilities|mysql.CLIENT_SSL || caps&clientMySQL == 0 {
		t.Fatalf("capabilities %#x", caps)
	}
	// The same collation and status as MariaDB 10.11's greeting (utf8mb4_general_ci, autocommit).
	if rest[2] != defaultCollation || le16(rest[3:]) != mysql.SERVER_STATUS_AUTOCOMMIT || rest[7] != 21 {
		t.Fatalf("charset %d status %d auth data len %d", rest[2], le16(rest[3:]), rest[7])
	}
	if !bytes.Equal(rest[8:18], make([]byte, 10)) {
		t.Fatalf("reserved bytes %x", rest[8:18])
	}
	if tail := rest[18:]; !bytes.Equal(tail, []byte("ijklmnopqrst\x00mysql_native_password\x00")) {
		t.Fatalf("tail %q", tail)
	}
	for _, forbidden := range []uint32{mysql.CLIENT_ZSTD_COMPRESSION_ALGORITHM, mysql.CLIENT_QUERY_ATTRIBUTES,
		mysql.CLIENT_OPTIONAL_RESULTSET_METADATA, mysql.CLIENT_LOCAL_FILES} {
		if ServerCapabilities&forbidden != 0 {
			t.Fatalf("capability %#x must not be offered by default", forbidden)
		}
	}

	// With extended capabilities (none are offered yet), MariaDB's layout: CLIENT_MYSQL
	// clear, the extended flags in the last 4 reserved bytes.
	p = appendHandshakeV10(nil, "v", 1, nonce, ServerCapabilities, 1<<2, mysql.AUTH_NATIVE_PASSWORD)
	rest = p[len("\x0av\x00")+4+8+1:]
	if le16(rest)&uint16(clientMySQL) != 0 || le32(rest[14:]) != 1<<2 {
		t.Fatalf("greeting with extended capabilities %x", p)
	}
}

func TestNonce(t *testing.T) {
	var b [nonceLen]byte
	if err := newNonce(&b); err != nil {
		t.Fatal(err)
	}
	n := b[:]
	if len(n) != nonceLen || bytes.IndexByte(n, 0) >= 0 || bytes.IndexByte(n, '$') >= 0 {
		t.Fatalf("nonce %q", n)
	}
	for _, b := range n {
		if b > 0x7f {
			t.Fatalf("nonce %q has a high byte", n)
		}
	}
}

func TestParseHandshakeResponse(t *testing.T) {
	nonce := []byte("abcdefghijklmnopqrst")
	full := buildHandshakeResponse(rawCaps, "u", "p", nonce, "commerce")
	r, err := parseHandshakeResponse(full)
	if err != nil {
		t.Fatal(err)
	}
	if r.user != "u" || r.db != "commerce" || r.plugin != mysql.AUTH_NATIVE_PASSWORD || r.collation != 45 ||
		r.attrs.Map()["_client_name"] != "raw" || !bytes.Equal(r.authResp, mysql.CalcPassword(nonce, []byte("p"))) {
		t.Fatalf("parsed %+v", r)
	}

	// Without LENENC client data: a one-byte length; without SECURE_CONNECTION: NUL-terminated.
	secure := appendUint32(nil, mysql.CLIENT_PROTOCOL_41|mysql.CLIENT_SECURE_CONNECTION)
	secure = append(append(secure, make([]byte, 28)...), "bob\x00\x03xyz"...)
	old := appendUint32(nil, mysql.CLIENT_PROTOCOL_41)
	old = append(append(old, make([]byte, 28)...), "bob\x00xyz\x00"...)
	// The last field without its NUL is tolerated.
	noNul := appendUint32(nil, mysql.CLIENT_PROTOCOL_41|mysql.CLIENT_SECURE_CONNECTION|mysql.CLIENT_PLUGIN_AUTH)
	noNul = append(append(noNul, make([]byte, 28)...), "bob\x00\x03xyzmysql_native_password"...)
	for _, p := range [][]byte{secure, old, noNul} {
		r, err := parseHandshakeResponse(p)
		if err != nil || r.user != "bob" || string(r.authResp) != "xyz" {
			t.Fatalf("%q: %+v %v", p, r, err)
		}
	}

	bad := map[string][]byte{
		"short":            full[:31],
		"no protocol 41":   append(appendUint32(nil, 0), full[4:]...),
		"user without NUL": append(append([]byte(nil), full[:32]...), "bob"...),
		"auth truncated":   append(append([]byte(nil), full[:32]...), "bob\x00\x14ab"...),
		"attrs truncated":  full[:len(full)-3],
	}
	for name, p := range bad {
		if _, err := parseHandshakeResponse(p); err == nil {
			t.Errorf("%s: parsed", name)
		}
	}
}

func TestCheckPasswords(t *testing.T) {
	nonce := []byte("abcdefghijklmnopqrst")
	const longPassword = "a password longer than the hashes' stack buffers: 0123456789abcdef"
	cases := []struct {
		name     string
		check    func(data, nonce []byte, password string) bool
		data     []byte
		password string
		want     bool
	}{
		{"native ok", checkNative, mysql.CalcPassword(nonce, []byte("secret")), "secret", true},
		{"native wrong", checkNative, mysql.CalcPassword(nonce, []byte("secreT")), "secret", false},
		{"native empty ok", checkNative, nil, "", true},
		{"native empty but sent", checkNative, []byte{1}, "", false},
		{"native missing", checkNative, nil, "secret", false},
		{"sha2 ok", checkCachingSha2, mysql.CalcCachingSha2Password(nonce, "secret"), "secret", true},
		{"sha2 wrong", checkCachingSha2, mysql.CalcCachingSha2Password(nonce, "other"), "secret", false},
		{"sha2 native scramble", checkCachingSha2, mysql.CalcPassword(nonce, []byte("secret")), "secret", false},
		{"sha2 empty password", checkCachingSha2, []byte{1}, "", false},
		{"native long", checkNative, mysql.CalcPassword(nonce, []byte(longPassword)), longPassword, true},
		{"sha2 long", checkCachingSha2, mysql.CalcCachingSha2Password(nonce, longPassword), longPassword, true},
		{"native long wrong", checkNative, mysql.CalcPassword(nonce, []byte(longPassword+"x")), longPassword, false},
	}
	for _, tc := range cases {
		if got := tc.check(tc.data, nonce, tc.password); got != tc.want {
			t.Errorf("%s: %v", tc.name, got)
		}
	}
}

func FuzzHandshakeResponse(f *testing.F) {
	nonce := []byte("abcdefghijklmnopqrst")
	f.Add(buildHandshakeResponse(rawCaps, "u", "p", nonce, "commerce"))
	f.Add(buildHandshakeResponse(rawCaps|mysql.CLIENT_SSL, "", "", nonce, ""))
	f.Add(buildHandshakeResponse(mysql.CLIENT_PROTOCOL_41|mysql.CLIENT_SECURE_CONNECTION, "u", "p", nonce, ""))
	f.Add(buildHandshakeResponse(mysql.CLIENT_PROTOCOL_41, "u", "p", nonce, "x"))
	f.Add(make([]byte, 32))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := parseHandshakeResponse(data)
		if err != nil {
			return
		}
		if len(r.authResp) > len(data) || len(r.user) > len(data) {
			t.Fatalf("parsed fields longer than the packet: %+v", r)
		}
		_ = isSSLRequest(data)
	})
}

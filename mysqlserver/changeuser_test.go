package mysqlserver

import (
	"bytes"
	"strings"
	"testing"

	"github.com/go-mysql-org/go-mysql/mysql"
)

// buildChangeUser builds a COM_CHANGE_USER payload as MariaDB Connector/C does.
func buildChangeUser(user string, auth []byte, db string, charset uint16, plugin string, attrs map[string]string) []byte {
	b := append([]byte{mysql.COM_CHANGE_USER}, user...)
	b = append(b, 0, byte(len(auth)))
	b = append(b, auth...)
	b = append(append(b, db...), 0)
	b = appendUint16(b, charset)
	b = append(append(b, plugin...), 0)
	var kv []byte
	for k, v := range attrs {
		kv = appendLenEncStr(appendLenEncStr(kv, k), v)
	}
	return appendLenEncString(b, kv)
}

// rawRow runs a query that returns one row and returns its values.
func (r *rawClient) rawRow(query string) []string {
	r.t.Helper()
	r.write(0, append([]byte{mysql.COM_QUERY}, query...))
	ps := readReply(r.t, r.c, rawCaps, mysql.COM_QUERY)
	if len(ps) < 4 {
		r.t.Fatalf("%s: reply %q", query, ps)
	}
	cols, _, _ := readLenEnc(ps[0][4:])
	row := ps[1+int(cols)+1][4:]
	var out []string
	for len(row) > 0 {
		v, n, ok := readLenEncString(row)
		if !ok {
			r.t.Fatalf("%s: row %q", query, row)
		}
		out = append(out, string(v))
		row = row[n:]
	}
	return out
}

func TestRawChangeUser(t *testing.T) {
	h := newFakeHandler()
	l := startServer(t, Config{}, h)
	r := dialRaw(t, l)
	r.login()
	st := r.prepare("x ?", 1)

	// Same plugin: authenticated with the greeting's scramble, no switch.
	r.write(0, buildChangeUser("empty", nil, "other", 8, mysql.AUTH_NATIVE_PASSWORD, map[string]string{"_client_name": "changed"}))
	if p := r.mustRead(); p[0] != mysql.OK_HEADER {
		t.Fatalf("change user: %q", p)
	}
	if got := r.rawRow("whoami"); got[0] != "empty" || got[1] != "other" || got[2] != "8" || got[4] != "changed" {
		t.Fatalf("after change user: %q", got)
	}
	h.mu.Lock()
	if len(h.stmtClose) != 1 || h.stmtClose[0] != st || h.changes[0] != "empty other" {
		t.Errorf("statements closed %v, changes %q", h.stmtClose, h.changes)
	}
	h.mu.Unlock()
	expectErrPacket(t, r.command(mysql.COM_STMT_EXECUTE, byte(st), 0, 0, 0, 0, 1, 0, 0, 0), mysql.ER_UNKNOWN_STMT_HANDLER, "")

	// Another plugin: an auth switch to the gateway's, with the same scramble.
	r.write(0, buildChangeUser("u", mysql.CalcCachingSha2Password(r.nonce, "p"), "", 45, mysql.AUTH_CACHING_SHA2_PASSWORD, nil))
	p, seq, err := r.read()
	if err != nil || seq != 1 || !bytes.Equal(p, append(append([]byte("\xfemysql_native_password\x00"), r.nonce...), 0)) {
		t.Fatalf("want an auth switch with the greeting's scramble, got %d %q %v", seq, p, err)
	}
	r.write(2, mysql.CalcPassword(r.nonce, []byte("p")))
	if p, seq, _ := r.read(); p[0] != mysql.OK_HEADER || seq != 3 {
		t.Fatalf("after the switch: %d %q", seq, p)
	}
	if got := r.rawRow("whoami"); got[0] != "u" || got[1] != "" || got[5] != mysql.AUTH_NATIVE_PASSWORD {
		t.Fatalf("after change user: %q", got)
	}

	// A wrong password: ERR 1045, the connection stays with the previous user (as MariaDB
	// 10.11); after three refusals COM_CHANGE_USER is an unknown command.
	for i := range maxFailedChangeUser {
		r.write(0, buildChangeUser("empty", mysql.CalcPassword(r.nonce, []byte("wrong")), "db", 45, mysql.AUTH_NATIVE_PASSWORD, nil))
		p := r.mustRead()
		expectErrPacket(t, p, mysql.ER_ACCESS_DENIED_ERROR, "28000")
		if i == 0 && !strings.Contains(string(p), "Access denied for user 'empty'@'127.0.0.1' (using password: YES)") {
			t.Fatalf("message %q", p)
		}
		if got := r.rawRow("whoami"); got[0] != "u" {
			t.Fatalf("after a refused change user: %q", got)
		}
	}
	expectErrPacket(t, r.command(buildChangeUser("u", mysql.CalcPassword(r.nonce, []byte("p")), "", 45, mysql.AUTH_NATIVE_PASSWORD, nil)...),
		mysql.ER_UNKNOWN_COM_ERROR, "08S01")
	h.mu.Lock()
	if len(h.changes) != 2+maxFailedChangeUser || !strings.HasPrefix(h.changes[2], "denied: Access denied") {
		t.Errorf("changes %q", h.changes)
	}
	h.mu.Unlock()
	// Malformed packets are refused; the connection lives on.
	for _, bad := range [][]byte{{mysql.COM_CHANGE_USER, 'u'}, {mysql.COM_CHANGE_USER, 'u', 0, 30, 1}} {
		expectErrPacket(t, r.command(bad...), mysql.ER_UNKNOWN_COM_ERROR, "") // three refusals already
	}
	if p := r.command(mysql.COM_PING); p[0] != mysql.OK_HEADER {
		t.Fatalf("ping: %q", p)
	}
}

func TestRawChangeUserSha2(t *testing.T) {
	h := newFakeHandler()
	l := startServer(t, Config{DefaultAuthPlugin: mysql.AUTH_CACHING_SHA2_PASSWORD}, h)
	r := dialRaw(t, l)
	r.greeting()
	r.write(1, buildHandshakeResponse(rawCaps, "u", "p", r.nonce, "")) // native: switched
	if p := r.mustRead(); p[0] != authSwitchRequest {
		t.Fatalf("want an auth switch: %q", p)
	}
	r.write(3, mysql.CalcCachingSha2Password(r.nonce, "p"))
	if p := r.mustRead(); !bytes.Equal(p, []byte{authMoreData, sha2FastAuthSuccess}) {
		t.Fatalf("want fast auth: %q", p)
	}
	if p := r.mustRead(); p[0] != mysql.OK_HEADER {
		t.Fatalf("login: %q", p)
	}
	// COM_CHANGE_USER with a caching_sha2 scramble: fast path, then OK.
	r.write(0, buildChangeUser("empty", nil, "d", 45, mysql.AUTH_CACHING_SHA2_PASSWORD, nil))
	if p := r.mustRead(); p[0] != mysql.OK_HEADER {
		t.Fatalf("change user to a user without password: %q", p)
	}
	r.write(0, buildChangeUser("u", mysql.CalcCachingSha2Password(r.nonce, "p"), "d", 45, mysql.AUTH_CACHING_SHA2_PASSWORD, nil))
	if p := r.mustRead(); !bytes.Equal(p, []byte{authMoreData, sha2FastAuthSuccess}) {
		t.Fatalf("want fast auth: %q", p)
	}
	if p, seq, _ := r.read(); p[0] != mysql.OK_HEADER || seq != 2 {
		t.Fatalf("change user: %d %q", seq, p)
	}
}

func TestParseChangeUser(t *testing.T) {
	full := buildChangeUser("u", []byte("12345678901234567890"), "db", 224, mysql.AUTH_NATIVE_PASSWORD, map[string]string{"a": "b"})
	r, err := parseChangeUser(full, rawCaps)
	if err != nil || r.user != "u" || string(r.auth) != "12345678901234567890" || r.db != "db" || r.collation != 224 ||
		r.plugin != mysql.AUTH_NATIVE_PASSWORD || r.attrs.Map()["a"] != "b" {
		t.Fatalf("%+v %v", r, err)
	}
	// An old client: user, auth, database only.
	r, err = parseChangeUser([]byte("\x11u\x00\x00db"), rawCaps)
	if err != nil || r.db != "db" || r.collation != 0 || r.plugin != "" {
		t.Fatalf("%+v %v", r, err)
	}
	for _, bad := range [][]byte{nil, {mysql.COM_CHANGE_USER}, []byte("\x11u"), []byte("\x11u\x00\x05abc"), []byte("\x11u\x00\x00db\x00\x01")} {
		if _, err := parseChangeUser(bad, rawCaps); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
}

func FuzzChangeUser(f *testing.F) {
	f.Add(buildChangeUser("u", []byte("12345678901234567890"), "db", 224, mysql.AUTH_NATIVE_PASSWORD, map[string]string{"a": "b"}), rawCaps)
	f.Add([]byte("\x11u\x00\x00db"), uint32(mysql.CLIENT_PROTOCOL_41))
	f.Fuzz(func(t *testing.T, p []byte, caps uint32) {
		r, err := parseChangeUser(p, caps)
		if err != nil {
			return
		}
		if len(r.user)+len(r.auth)+len(r.db)+len(r.plugin) > len(p) {
			t.Fatalf("fields longer than the packet: %+v", r)
		}
	})
}

package backendconn

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-mysql-org/go-mysql/mysql"
)

// Integration tests against a real MariaDB.

// replyCaps are the reply-format capabilities the gateway asks backends for.
const replyCaps = mysql.CLIENT_LONG_FLAG | mysql.CLIENT_TRANSACTIONS | mysql.CLIENT_MULTI_RESULTS | mysql.CLIENT_PS_MULTI_RESULTS

func dialShared(t *testing.T, mod func(*Config)) (net.Conn, *Info, error) {
	t.Helper()
	m := sharedMariaDB(t)
	cfg := Config{Addr: m.Addr(), User: m.User(), Password: m.Password(), Capabilities: replyCaps, ConnectTimeout: 10 * time.Second}
	if mod != nil {
		mod(&cfg)
	}
	nc, info, err := Dial(context.Background(), cfg)
	if err == nil {
		t.Cleanup(func() { nc.Close() })
		_ = nc.SetDeadline(time.Now().Add(20 * time.Second))
	}
	return nc, info, err
}

func mustDial(t *testing.T, mod func(*Config)) (net.Conn, *Info) {
	t.Helper()
	nc, info, err := dialShared(t, mod)
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	return nc, info
}

// readPacket reads one packet from the command phase.
func readPacket(t *testing.T, r io.Reader) (payload []byte, seq uint8) {
	t.Helper()
	var hdr [4]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		t.Fatalf("read packet header: %v", err)
	}
	p := make([]byte, int(hdr[0])|int(hdr[1])<<8|int(hdr[2])<<16)
	if _, err := io.ReadFull(r, p); err != nil {
		t.Fatalf("read packet: %v", err)
	}
	return p, hdr[3]
}

func writeCommand(t *testing.T, w io.Writer, payload []byte) {
	t.Helper()
	n := len(payload)
	if _, err := w.Write(append([]byte{byte(n), byte(n >> 8), byte(n >> 16), 0}, payload...)); err != nil {
		t.Fatalf("write command: %v", err)
	}
}

// result is a text result set read packet by packet, with the packets that framed it.
type result struct {
	rows      [][]string
	afterCols []byte // the packet after the column definitions (EOF, or the first row)
	end       []byte // the packet that ended the rows (EOF, or OK with header 0xfe)
	ok        []byte // the OK packet when the query returned no result set
}

// query runs a text query on nc, which negotiated caps.
func query(t *testing.T, nc net.Conn, caps uint32, sql string) result {
	t.Helper()
	writeCommand(t, nc, append([]byte{mysql.COM_QUERY}, sql...))
	p, _ := readPacket(t, nc)
	var r result
	switch p[0] {
	case mysql.OK_HEADER:
		r.ok = p
		return r
	case mysql.ERR_HEADER:
		t.Fatalf("%s: %v", sql, parseErr(p))
	}
	cols, _, _ := readLenEnc(p)
	for range cols {
		readPacket(t, nc)
	}
	deprecateEOF := caps&mysql.CLIENT_DEPRECATE_EOF != 0
	if !deprecateEOF {
		r.afterCols, _ = readPacket(t, nc)
		if r.afterCols[0] != mysql.EOF_HEADER {
			t.Fatalf("%s: want EOF after the columns, got %x", sql, r.afterCols)
		}
	}
	for {
		p, _ := readPacket(t, nc)
		if r.afterCols == nil {
			r.afterCols = p
		}
		if p[0] == mysql.EOF_HEADER && len(p) < 9 {
			r.end = p
			return r
		}
		if p[0] == mysql.ERR_HEADER {
			t.Fatalf("%s: %v", sql, parseErr(p))
		}
		var row []string
		for rest := p; len(rest) > 0; {
			v, n, ok := readLenEncBytes(rest)
			if !ok {
				if rest[0] != 0xfb {
					t.Fatalf("%s: bad row %x", sql, p)
				}
				v, n = nil, 1
			}
			row = append(row, string(v))
			rest = rest[n:]
		}
		r.rows = append(r.rows, row)
	}
}

func queryValue(t *testing.T, nc net.Conn, caps uint32, sql string) string {
	t.Helper()
	r := query(t, nc, caps, sql)
	if len(r.rows) != 1 || len(r.rows[0]) != 1 {
		t.Fatalf("%s: rows %q", sql, r.rows)
	}
	return r.rows[0][0]
}

func TestDialNative(t *testing.T) {
	nc, info := mustDial(t, func(c *Config) {
		c.Database = testDB
		c.Attributes = map[string]string{"program_name": "vtdirect-test", "_client_name": "backendconn"}
	})
	if !strings.Contains(info.ServerVersion, "MariaDB") || !strings.HasPrefix(info.ServerVersion, "5.5.5-10.") {
		t.Errorf("server version %q", info.ServerVersion)
	}
	if !info.MariaDB || info.ServerCapabilities&clientMySQL != 0 || info.ServerExtCapabilities&ExtStmtBulkOperations == 0 {
		t.Errorf("MariaDB %v, caps %#x ext %#x", info.MariaDB, info.ServerCapabilities, info.ServerExtCapabilities)
	}
	if info.AuthPlugin != mysql.AUTH_NATIVE_PASSWORD || info.TLS || info.Status&mysql.SERVER_STATUS_AUTOCOMMIT == 0 {
		t.Errorf("info %+v", info)
	}
	// CLIENT_MYSQL (bit 0) stays clear: MariaDB does not offer it.
	want := replyCaps | alwaysCaps | mysql.CLIENT_CONNECT_WITH_DB | mysql.CLIENT_CONNECT_ATTRS
	if info.Capabilities != want {
		t.Errorf("negotiated %#x, want %#x", info.Capabilities, want)
	}
	caps := info.Capabilities
	if got := queryValue(t, nc, caps, "SELECT CONNECTION_ID()"); got != strconv.Itoa(int(info.ThreadID)) {
		t.Errorf("CONNECTION_ID() %s, thread id %d", got, info.ThreadID)
	}
	if got := queryValue(t, nc, caps, "SELECT DATABASE()"); got != testDB {
		t.Errorf("DATABASE() %q", got)
	}
	r := query(t, nc, caps, "SELECT ATTR_NAME, ATTR_VALUE FROM performance_schema.session_connect_attrs "+
		"WHERE PROCESSLIST_ID = CONNECTION_ID() ORDER BY ATTR_NAME")
	if len(r.rows) != 2 || r.rows[0][0] != "_client_name" || r.rows[0][1] != "backendconn" || r.rows[1][1] != "vtdirect-test" {
		t.Errorf("connection attributes %q", r.rows)
	}
}

func TestDialEd25519(t *testing.T) {
	nc, info := mustDial(t, func(c *Config) { c.User, c.Password = edUser, edPass })
	if info.AuthPlugin != mysql.AUTH_MARIADB_ED25519 {
		t.Fatalf("plugin %q", info.AuthPlugin)
	}
	if got := queryValue(t, nc, info.Capabilities, "SELECT CURRENT_USER()"); got != edUser+"@%" {
		t.Fatalf("CURRENT_USER() %q", got)
	}
	_, _, err := dialShared(t, func(c *Config) { c.User, c.Password = edUser, "wrong" })
	expectMyError(t, err, mysql.ER_ACCESS_DENIED_ERROR)
}

func expectMyError(t *testing.T, err error, code uint16) *mysql.MyError {
	t.Helper()
	var me *mysql.MyError
	if !errors.As(err, &me) {
		t.Fatalf("want MySQL error %d, got %v", code, err)
	}
	if me.Code != code {
		t.Fatalf("want MySQL error %d, got %d %s %q", code, me.Code, me.State, me.Message)
	}
	return me
}

func TestDialServerErrors(t *testing.T) {
	m := sharedMariaDB(t)
	_, _, err := dialShared(t, func(c *Config) { c.Password = "nope" })
	me := expectMyError(t, err, mysql.ER_ACCESS_DENIED_ERROR)
	if me.State != "28000" || !strings.Contains(err.Error(), m.Addr()) {
		t.Errorf("access denied: state %s, error %q should name %s", me.State, err, m.Addr())
	}
	_, _, err = dialShared(t, func(c *Config) { c.Database = "no_such_db" })
	if me := expectMyError(t, err, mysql.ER_BAD_DB_ERROR); me.State != "42000" {
		t.Errorf("unknown database: state %s", me.State)
	}
	// A user of an unsupported plugin (PAM asks for the "dialog" plugin).
	_, _, err = dialShared(t, func(c *Config) { c.User, c.Password = pamUser, "x" })
	var up *errUnsupportedPlugin
	if !errors.As(err, &up) || up.plugin != "dialog" || !strings.Contains(err.Error(), "mysql_native_password") {
		t.Errorf("pam user: %v", err)
	}
	// Nothing listens: a dial error naming the address.
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := l.Addr().String()
	l.Close()
	_, _, err = Dial(context.Background(), Config{Addr: addr, User: "x"})
	if err == nil || !strings.Contains(err.Error(), addr) {
		t.Errorf("dial a closed port: %v", err)
	}
}

func TestDialReplyFormats(t *testing.T) {
	for _, tc := range []struct {
		name string
		caps uint32
	}{
		{"plain", replyCaps},
		{"deprecate eof", replyCaps | mysql.CLIENT_DEPRECATE_EOF},
		{"session track", replyCaps | mysql.CLIENT_SESSION_TRACK},
		{"both", replyCaps | mysql.CLIENT_DEPRECATE_EOF | mysql.CLIENT_SESSION_TRACK},
	} {
		t.Run(tc.name, func(t *testing.T) {
			nc, info := mustDial(t, func(c *Config) { c.Capabilities = tc.caps })
			if info.Capabilities&tc.caps != tc.caps {
				t.Fatalf("negotiated %#x lacks %#x", info.Capabilities, tc.caps)
			}
			r := query(t, nc, info.Capabilities, "SELECT 1")
			deprecate := tc.caps&mysql.CLIENT_DEPRECATE_EOF != 0
			if len(r.rows) != 1 || r.rows[0][0] != "1" {
				t.Fatalf("rows %q", r.rows)
			}
			if gotEOF := r.afterCols[0] == mysql.EOF_HEADER; gotEOF == deprecate {
				t.Errorf("packet after the columns %x (DEPRECATE_EOF %v)", r.afterCols, deprecate)
			}
			// An EOF packet is 5 bytes; the OK that replaces it is 7 or more.
			if deprecate != (len(r.end) >= 7) {
				t.Errorf("end of rows %x (DEPRECATE_EOF %v)", r.end, deprecate)
			}
			// USE reports the new schema through session tracking only when negotiated.
			r = query(t, nc, info.Capabilities, "USE "+testDB)
			status := le16(r.ok[3:])
			track := tc.caps&mysql.CLIENT_SESSION_TRACK != 0
			if changed := status&mysql.SERVER_SESSION_STATE_CHANGED != 0; changed != track {
				t.Errorf("USE: OK %x, session state changed %v (SESSION_TRACK %v)", r.ok, changed, track)
			}
			if track && !strings.Contains(string(r.ok), testDB) {
				t.Errorf("USE: OK %x does not carry the schema", r.ok)
			}
		})
	}
}

func TestDialCollation(t *testing.T) {
	m := sharedMariaDB(t)
	nc, info := mustDial(t, nil)
	if info.Collation != info.ServerCollation {
		t.Fatalf("collation 0 sent %d, greeting's %d", info.Collation, info.ServerCollation)
	}
	serverDefault := queryValue(t, nc, info.Capabilities, "SELECT @@collation_connection")
	if id := queryValue(t, nc, info.Capabilities, "SELECT ID FROM information_schema.COLLATIONS WHERE COLLATION_NAME = @@collation_connection"); id != strconv.Itoa(int(info.ServerCollation)) {
		t.Errorf("connection collation %s (id %s), greeting's %d", serverDefault, id, info.ServerCollation)
	}
	nc, info = mustDial(t, func(c *Config) { c.Collation = 8 })
	if got := queryValue(t, nc, info.Capabilities, "SELECT @@collation_connection"); got != "latin1_swedish_ci" {
		t.Errorf("collation 8: %s", got)
	}
	// 255 is MySQL 8's utf8mb4_0900_ai_ci, unknown to MariaDB 10.11, which then uses its default.
	nc, info = mustDial(t, func(c *Config) { c.Collation = 255 })
	got := queryValue(t, nc, info.Capabilities, "SELECT @@collation_connection")
	global := queryValue(t, nc, info.Capabilities, "SELECT @@global.collation_connection")
	if got != global {
		t.Errorf("unknown collation 255: connection %s, server default %s", got, global)
	}
	_ = m
}

func TestDialTLS(t *testing.T) {
	sharedMariaDB(t)
	wrongCA, err := newTestCA("some other CA")
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name    string
		mode    TLSMode
		tls     *tls.Config
		user    string
		wantErr string // "" = success with TLS
	}{
		{name: "preferred", mode: TLSPreferred},
		{name: "required", mode: TLSRequired, user: tlsUser},
		{name: "verify ca", mode: TLSVerifyCA, tls: &tls.Config{RootCAs: shared.ca.pool()}},
		{name: "verify identity", mode: TLSVerifyIdentity, tls: &tls.Config{RootCAs: shared.ca.pool()}},
		{name: "verify ca, wrong CA", mode: TLSVerifyCA, tls: &tls.Config{RootCAs: wrongCA.pool()}, wantErr: "certificate signed by unknown authority"},
		{name: "verify identity, wrong name", mode: TLSVerifyIdentity, tls: &tls.Config{RootCAs: shared.ca.pool(), ServerName: "db.example"},
			wantErr: "wanted to match db.example"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			nc, info, err := dialShared(t, func(c *Config) {
				c.TLSMode, c.TLSConfig = tc.mode, tc.tls
				if tc.user == tlsUser {
					c.User, c.Password = tlsUser, tlsPass
				}
			})
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("want an error with %q, got %v", tc.wantErr, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !info.TLS || info.Capabilities&mysql.CLIENT_SSL == 0 {
				t.Fatalf("info %+v", info)
			}
			if v := queryValue(t, nc, info.Capabilities, "SELECT VARIABLE_VALUE FROM information_schema.SESSION_STATUS WHERE VARIABLE_NAME = 'Ssl_version'"); !strings.HasPrefix(v, "TLS") {
				t.Fatalf("server sees Ssl_version %q", v)
			}
		})
	}
	// Without TLS, the REQUIRE SSL user is refused by the server.
	_, _, err = dialShared(t, func(c *Config) { c.User, c.Password = tlsUser, tlsPass })
	expectMyError(t, err, mysql.ER_ACCESS_DENIED_ERROR)
}

func TestDialContext(t *testing.T) {
	// A server that accepts and never speaks: the connect timeout ends the dial.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	start := time.Now()
	_, _, err = Dial(context.Background(), Config{Addr: l.Addr().String(), User: "x", ConnectTimeout: 200 * time.Millisecond})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("want a deadline error, got %v", err)
	}
	if time.Since(start) > 5*time.Second {
		t.Fatalf("dial took %v", time.Since(start))
	}
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, cancel)
	_, _, err = Dial(ctx, Config{Addr: l.Addr().String(), User: "x"})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("want a cancellation error, got %v", err)
	}
}

func TestDialExtendedCapabilities(t *testing.T) {
	// The column definition of SELECT JSON_OBJECT(), without and with MariaDB's extended
	// metadata, which adds a field naming the JSON format.
	columnDef := func(ext uint32) ([]byte, *Info) {
		nc, info := mustDial(t, func(c *Config) { c.ExtCapabilities = ext })
		writeCommand(t, nc, append([]byte{mysql.COM_QUERY}, "SELECT JSON_OBJECT()"...))
		readPacket(t, nc) // column count
		def, _ := readPacket(t, nc)
		return def, info
	}
	plain, info := columnDef(0)
	if info.ExtCapabilities != 0 {
		t.Fatalf("ext caps %#x", info.ExtCapabilities)
	}
	ext, info := columnDef(ExtExtendedMetadata | 1<<30)
	if info.ExtCapabilities != ExtExtendedMetadata || info.Capabilities&clientMySQL != 0 {
		t.Fatalf("negotiated ext %#x caps %#x", info.ExtCapabilities, info.Capabilities)
	}
	if !bytes.Contains(ext, []byte("json")) || bytes.Contains(plain, []byte("json")) {
		t.Fatalf("column definition without extended metadata %q, with %q", plain, ext)
	}
}

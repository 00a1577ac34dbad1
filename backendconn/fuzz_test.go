package backendconn

import (
	"testing"

	"github.com/go-mysql-org/go-mysql/mysql"
)

// The decoders of what a server sends before authentication: a hostile or broken server
// must get an error, never a panic or an out-of-bounds read. Seeds: testdata/fuzz/.

func FuzzParseGreeting(f *testing.F) {
	f.Add(greetingPayload(mysql.AUTH_CACHING_SHA2_PASSWORD, mysql8Caps))
	f.Add(greetingPayload("", mysql8Caps&^mysql.CLIENT_PLUGIN_AUTH))
	f.Add(greetingPayload(mysql.AUTH_NATIVE_PASSWORD, mysql8Caps&^clientMySQL)[:40])
	f.Add([]byte{0xff, 0x10, 0x04, '#'})
	f.Fuzz(func(t *testing.T, p []byte) {
		g, err := parseGreeting(p)
		if err != nil {
			return
		}
		if len(g.version) > len(p) || len(g.scramble) > len(p) || len(g.plugin) > len(p) {
			t.Fatalf("fields longer than the packet: %+v", g)
		}
		if !g.mariadb && g.extCaps != 0 {
			t.Fatalf("extended capabilities %#x from a server with CLIENT_MYSQL", g.extCaps)
		}
	})
}

func FuzzParseAuthSwitch(f *testing.F) {
	f.Add([]byte("\xfemysql_native_password\x000123456789abcdefghij\x00"))
	f.Add([]byte("\xfeclient_ed25519\x000123456789abcdef0123456789abcdef"))
	f.Add([]byte("\xfe"))
	f.Add([]byte("\xfedialog"))
	f.Fuzz(func(t *testing.T, p []byte) {
		plugin, data, err := parseAuthSwitch(p)
		if err != nil {
			return
		}
		if len(plugin)+len(data)+2 > len(p) {
			t.Fatalf("plugin %q and data %q longer than the packet %q", plugin, data, p)
		}
		a := &authenticator{plugin: plugin, scramble: data, password: "pw"}
		_, _ = a.initial()
	})
}

func FuzzParseOK(f *testing.F) {
	f.Add([]byte{0, 0, 0, 2, 0, 0, 0}, uint32(0))
	f.Add([]byte("\x00\x00\x00\x02\x40\x00\x00\x00\x0a\x01\x08\x07bc_test"), mysql.CLIENT_SESSION_TRACK)
	f.Fuzz(func(t *testing.T, p []byte, caps uint32) {
		if len(p) == 0 {
			return
		}
		var info Info
		if err := parseOK(p, caps, &info); err == nil && len(info.SessionState) > len(p) {
			t.Fatalf("session state longer than the packet")
		}
	})
}

package mysqlserver

import (
	"crypto/tls"
	"strings"
	"testing"

	"github.com/go-mysql-org/go-mysql/mysql"
)

func TestConfig(t *testing.T) {
	cases := []struct {
		name    string
		cfg     Config
		wantErr string // "" = valid
	}{
		{name: "users", cfg: Config{Auth: StaticAuth{"u": "p"}}},
		{name: "no auth", cfg: Config{InsecureNoAuth: true}},
		{name: "nobody", cfg: Config{}, wantErr: "no Authenticator"},
		{name: "require tls without cert", cfg: Config{InsecureNoAuth: true, RequireTLS: true}, wantErr: "RequireTLS"},
		{name: "require tls", cfg: Config{InsecureNoAuth: true, RequireTLS: true, TLSConfig: &tls.Config{}}},
		{name: "tiny packets", cfg: Config{InsecureNoAuth: true, MaxPacketSize: 10}, wantErr: "MaxPacketSize"},
		{name: "sha2", cfg: Config{InsecureNoAuth: true, DefaultAuthPlugin: mysql.AUTH_CACHING_SHA2_PASSWORD}},
		{name: "unknown plugin", cfg: Config{InsecureNoAuth: true, DefaultAuthPlugin: "client_ed25519"}, wantErr: "DefaultAuthPlugin"},
		{name: "negative timeout", cfg: Config{InsecureNoAuth: true, HandshakeTimeout: -1}, wantErr: "HandshakeTimeout"},
		{name: "NUL in version", cfg: Config{InsecureNoAuth: true, ServerVersion: "8.0\x00x"}, wantErr: "NUL"},
		{name: "capabilities not served", cfg: Config{InsecureNoAuth: true, Capabilities: mysql.CLIENT_QUERY_ATTRIBUTES}, wantErr: "does not serve"},
	}
	for _, tc := range cases {
		got, err := tc.cfg.withDefaults()
		if tc.wantErr == "" {
			if err != nil {
				t.Errorf("%s: %v", tc.name, err)
			}
			if got.serverVersion() != defaultServerVersion || got.Capabilities != ServerCapabilities || got.MaxPacketSize != defaultMaxPacketSize || got.Logger == nil ||
				got.DefaultAuthPlugin == "" || got.HandshakeTimeout != defaultHandshakeTimeout {
				t.Errorf("%s: defaults not filled: %+v", tc.name, got)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
			t.Errorf("%s: error %v, want one mentioning %q", tc.name, err, tc.wantErr)
		}
	}
	for _, tc := range []struct {
		cfg  Config
		want string
	}{
		{Config{ServerVersion: "8.0.40-vtdirect", ServerVersionFunc: func() string { return "x" }}, "8.0.40-vtdirect"},
		{Config{ServerVersionFunc: func() string { return "5.5.5-10.11.19-MariaDB-vtdirect" }}, "5.5.5-10.11.19-MariaDB-vtdirect"},
		{Config{ServerVersionFunc: func() string { return "" }}, defaultServerVersion},
		{Config{ServerVersionFunc: func() string { return "1.2\x00tail" }}, "1.2"},
	} {
		if got := tc.cfg.serverVersion(); got != tc.want {
			t.Errorf("server version %q, want %q", got, tc.want)
		}
	}
	if _, err := NewListener(Config{InsecureNoAuth: true}, nil, nil); err == nil {
		t.Error("NewListener accepted a nil Handler")
	}
}

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
	}
	for _, tc := range cases {
		got, err := tc.cfg.withDefaults()
		if tc.wantErr == "" {
			if err != nil {
				t.Errorf("%s: %v", tc.name, err)
			}
			if got.ServerVersion != defaultServerVersion || got.MaxPacketSize != defaultMaxPacketSize || got.Logger == nil ||
				got.DefaultAuthPlugin == "" || got.HandshakeTimeout != defaultHandshakeTimeout {
				t.Errorf("%s: defaults not filled: %+v", tc.name, got)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
			t.Errorf("%s: error %v, want one mentioning %q", tc.name, err, tc.wantErr)
		}
	}
	if _, err := NewListener(Config{InsecureNoAuth: true}, nil, nil); err == nil {
		t.Error("NewListener accepted a nil Handler")
	}
}

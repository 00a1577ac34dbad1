package mysqlserver

import (
	"context"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/go-mysql-org/go-mysql/mysql"
)

// The handshake as the mariadb command-line client (MariaDB Connector/C) does it.

func runMariaDB(t *testing.T, l *Listener, user, pass, query string, extra ...string) (string, error) {
	t.Helper()
	bin, err := exec.LookPath("mariadb")
	if err != nil {
		t.Fatal("the mariadb client is needed (Debian package mariadb-client): ", err)
	}
	_, p, _ := strings.Cut(l.Addr().String(), ":")
	args := append([]string{"--no-defaults", "--protocol=tcp", "-h", "127.0.0.1", "-P", p, "-u", user, "--password=" + pass, "-N", "-B"}, extra...)
	args = append(args, "-e", query)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, bin, args...).CombinedOutput()
	return strings.TrimSpace(string(out)), err
}

func TestMariaDBClient(t *testing.T) {
	tlsCfg, _, _ := selfSignedTLS(t)
	sha2 := mysql.AUTH_CACHING_SHA2_PASSWORD
	native := mysql.AUTH_NATIVE_PASSWORD
	cases := []struct {
		name     string
		server   Config
		fullAuth bool
		user     string
		pass     string
		extra    []string
		wantOut  string // "" = expect a failure mentioning wantErr
		wantErr  string
	}{
		{name: "native", user: "u", pass: "p", wantOut: "u\t\t33\tfalse\t" + native},
		{name: "sha2", server: Config{DefaultAuthPlugin: sha2}, user: "u", pass: "p", wantOut: "u\t\t33\tfalse\t" + sha2},
		{name: "switch to sha2", server: Config{DefaultAuthPlugin: sha2}, user: "u", pass: "p",
			extra: []string{"--default-auth=" + native}, wantOut: "u\t\t33\tfalse\t" + sha2},
		{name: "switch to native", user: "u", pass: "p",
			extra: []string{"--default-auth=" + sha2}, wantOut: "u\t\t33\tfalse\t" + native},
		{name: "empty password", user: "empty", pass: "", wantOut: "empty\t\t33\tfalse\t" + native},
		{name: "database", user: "u", pass: "p", extra: []string{"-D", "commerce@rdonly"}, wantOut: "u\tcommerce@rdonly\t33\tfalse\t" + native},
		{name: "wrong password", user: "u", pass: "nope", wantErr: "ERROR 1045 (28000): Access denied for user 'u'@'127.0.0.1' (using password: YES)"},
		{name: "tls", server: Config{TLSConfig: tlsCfg, RequireTLS: true}, user: "u", pass: "p",
			extra: []string{"--ssl"}, wantOut: "u\t\t33\ttrue\t" + native},
		{name: "tls required", server: Config{TLSConfig: tlsCfg, RequireTLS: true}, user: "u", pass: "p",
			extra: []string{"--skip-ssl"}, wantErr: "3159"},
		{name: "tls sha2 full auth", server: Config{TLSConfig: tlsCfg, DefaultAuthPlugin: sha2}, fullAuth: true, user: "u", pass: "p",
			extra: []string{"--ssl"}, wantOut: "u\t\t33\ttrue\t" + sha2},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			l := startServer(t, tc.server, newFakeHandler(), withFullAuth(tc.fullAuth))
			out, err := runMariaDB(t, l, tc.user, tc.pass, "whoami", tc.extra...)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(out, tc.wantErr) {
					t.Fatalf("want failure with %q, got %v: %s", tc.wantErr, err, out)
				}
				return
			}
			if err != nil {
				t.Fatalf("mariadb: %v: %s", err, out)
			}
			// user, db, collation (the CLI asks for utf8mb3_general_ci), tls, client name (Connector/C sends none here), plugin, id
			fields := strings.Split(out, "\t")
			if len(fields) != 7 {
				t.Fatalf("output %q", out)
			}
			got := strings.Join(append(fields[:4:4], fields[5]), "\t")
			if got != tc.wantOut {
				t.Fatalf("got %q, want %q", got, tc.wantOut)
			}
		})
	}
}

func TestMariaDBClientSelect1(t *testing.T) {
	l := startServer(t, Config{}, newFakeHandler())
	out, err := runMariaDB(t, l, "u", "p", "select 1")
	if err != nil || out != "1" {
		t.Fatalf("select 1: %v %q", err, out)
	}
	out, err = runMariaDB(t, l, "u", "p", "fail")
	if err == nil || !strings.Contains(out, "ERROR 1064 (42000)") {
		t.Fatalf("fail: %v %q", err, out)
	}
}

package backendconn

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-mysql-org/go-mysql/mysql"

	"github.com/vtdirect/vtdirect/mysqlserver"
)

// Authentication exchanges MariaDB cannot show (it has no caching_sha2_password): against
// the gateway's own server side, and against scripted peers for the paths that need a
// server's RSA key or a refusal.

// minimalHandler is the smallest mysqlserver.Handler: it answers every command with OK.
type minimalHandler struct{}

func (minimalHandler) NewConnection(*mysqlserver.Conn) error { return nil }
func (minimalHandler) ConnectionClosed(*mysqlserver.Conn)    {}
func (minimalHandler) ComQuery(c *mysqlserver.Conn, _ *mysqlserver.Command) error {
	return c.WriteOK(0, 0, mysql.SERVER_STATUS_AUTOCOMMIT, 0)
}
func (h minimalHandler) ComInitDB(c *mysqlserver.Conn, _ string) error { return h.ComQuery(c, nil) }
func (h minimalHandler) ComFieldList(c *mysqlserver.Conn, cmd *mysqlserver.Command) error {
	return h.ComQuery(c, cmd)
}
func (h minimalHandler) ComStatistics(c *mysqlserver.Conn, cmd *mysqlserver.Command) error {
	return h.ComQuery(c, cmd)
}
func (minimalHandler) ComStmtPrepare(c *mysqlserver.Conn, st *mysqlserver.Stmt) error {
	return c.WritePrepareOK(st, nil, nil)
}
func (h minimalHandler) ComStmtExecute(c *mysqlserver.Conn, _ *mysqlserver.Stmt, cmd *mysqlserver.Command) error {
	return h.ComQuery(c, cmd)
}
func (minimalHandler) ComStmtClose(*mysqlserver.Conn, *mysqlserver.Stmt) {}
func (h minimalHandler) ComResetConnection(c *mysqlserver.Conn) error    { return h.ComQuery(c, nil) }
func (h minimalHandler) ComChangeUser(c *mysqlserver.Conn, _ *mysql.MyError) error {
	return h.ComQuery(c, nil)
}

var _ mysqlserver.Handler = minimalHandler{}

func startGateway(t *testing.T, cfg mysqlserver.Config) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cfg.Auth = mysqlserver.StaticAuth{"u": "p"}
	l, err := mysqlserver.NewListener(cfg, ln, minimalHandler{})
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = l.Serve() }()
	t.Cleanup(func() { l.Close() })
	return ln.Addr().String()
}

func TestDialCachingSha2(t *testing.T) {
	addr := startGateway(t, mysqlserver.Config{DefaultAuthPlugin: mysql.AUTH_CACHING_SHA2_PASSWORD})
	nc, info, err := Dial(context.Background(), Config{Addr: addr, User: "u", Password: "p"})
	if err != nil {
		t.Fatal(err)
	}
	nc.Close()
	if info.AuthPlugin != mysql.AUTH_CACHING_SHA2_PASSWORD || info.MariaDB {
		t.Fatalf("info %+v", info)
	}
	_, _, err = Dial(context.Background(), Config{Addr: addr, User: "u", Password: "bad"})
	expectMyError(t, err, mysql.ER_ACCESS_DENIED_ERROR)
	// A server without TLS and a client that requires it.
	_, _, err = Dial(context.Background(), Config{Addr: addr, User: "u", Password: "p", TLSMode: TLSRequired})
	if err == nil || !strings.Contains(err.Error(), "offers no TLS") {
		t.Fatalf("TLS required against a server without TLS: %v", err)
	}
	// Preferred falls back to plaintext.
	nc, info, err = Dial(context.Background(), Config{Addr: addr, User: "u", Password: "p", TLSMode: TLSPreferred})
	if err != nil || info.TLS {
		t.Fatalf("TLS preferred against a server without TLS: %v %+v", err, info)
	}
	nc.Close()
}

// scripted runs serve as the server of one connection accepted on network, and returns the
// address and a channel with serve's error.
func scripted(t *testing.T, network string, serve func(ph *phase) error) (string, <-chan error) {
	t.Helper()
	addr := "127.0.0.1:0"
	if network == "unix" {
		addr = filepath.Join(t.TempDir(), "s.sock")
	}
	l, err := net.Listen(network, addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	done := make(chan error, 1) // serve's result, read by the test
	go func() {
		c, err := l.Accept()
		if err != nil {
			done <- err
			return
		}
		defer c.Close()
		_ = c.SetDeadline(time.Now().Add(10 * time.Second))
		done <- serve(&phase{conn: c})
	}()
	return l.Addr().String(), done
}

var testScramble = []byte("0123456789abcdefghij")

// greetingPayload builds a MySQL 8-like greeting.
func greetingPayload(plugin string, caps uint32) []byte {
	b := append([]byte{10}, "8.0.40"...)
	b = append(b, 0, 7, 0, 0, 0)
	b = append(b, testScramble[:8]...)
	b = append(b, 0, byte(caps), byte(caps>>8), 255, 2, 0, byte(caps>>16), byte(caps>>24), 21)
	b = append(b, make([]byte, 10)...)
	b = append(b, testScramble[8:]...)
	b = append(b, 0)
	b = append(b, plugin...)
	return append(b, 0)
}

const mysql8Caps = 0xdfffffff &^ mysql.CLIENT_SSL

var okPayload = []byte{0, 0, 0, 2, 0, 0, 0}

// readResponse reads the handshake response and checks its plugin and auth data.
func readResponse(ph *phase, plugin string, auth []byte) error {
	p, err := ph.read()
	if err != nil {
		return err
	}
	if !bytes.Contains(p, append([]byte(plugin), 0)) {
		return errors.New("response without the plugin " + plugin)
	}
	if auth != nil && !bytes.Contains(p, auth) {
		return errors.New("response without the expected auth data")
	}
	return nil
}

func TestDialCachingSha2FullAuthRSA(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	der, _ := x509.MarshalPKIXPublicKey(&key.PublicKey)
	pubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
	addr, done := scripted(t, "tcp", func(ph *phase) error {
		if err := ph.write(greetingPayload(mysql.AUTH_CACHING_SHA2_PASSWORD, mysql8Caps)); err != nil {
			return err
		}
		if err := readResponse(ph, mysql.AUTH_CACHING_SHA2_PASSWORD, mysql.CalcCachingSha2Password(testScramble, "pw")); err != nil {
			return err
		}
		if err := ph.write([]byte{authMoreData, sha2PerformFullAuth}); err != nil {
			return err
		}
		p, err := ph.read()
		if err != nil {
			return err
		}
		if !bytes.Equal(p, []byte{sha2RequestPublicKey}) {
			return errors.New("want a public key request")
		}
		if err := ph.write(append([]byte{authMoreData}, pubPEM...)); err != nil {
			return err
		}
		enc, err := ph.read()
		if err != nil {
			return err
		}
		plain, err := rsa.DecryptOAEP(sha1.New(), nil, key, enc, nil)
		if err != nil {
			return err
		}
		for i := range plain {
			plain[i] ^= testScramble[i%len(testScramble)]
		}
		if string(plain) != "pw\x00" {
			return errors.New("decrypted password " + string(plain))
		}
		return ph.write(okPayload)
	})
	nc, info, err := Dial(context.Background(), Config{Addr: addr, User: "u", Password: "pw", ConnectTimeout: 10 * time.Second})
	if err != nil {
		t.Fatalf("Dial: %v (server: %v)", err, <-done)
	}
	nc.Close()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if info.AuthPlugin != mysql.AUTH_CACHING_SHA2_PASSWORD || info.ServerCollation != 255 || info.Collation != 255 {
		t.Fatalf("info %+v", info)
	}
}

func TestDialCachingSha2FullAuthUnixSocket(t *testing.T) {
	addr, done := scripted(t, "unix", func(ph *phase) error {
		if err := ph.write(greetingPayload(mysql.AUTH_CACHING_SHA2_PASSWORD, mysql8Caps)); err != nil {
			return err
		}
		if err := readResponse(ph, mysql.AUTH_CACHING_SHA2_PASSWORD, nil); err != nil {
			return err
		}
		if err := ph.write([]byte{authMoreData, sha2PerformFullAuth}); err != nil {
			return err
		}
		p, err := ph.read()
		if err != nil {
			return err
		}
		if string(p) != "pw\x00" {
			return errors.New("want the password in clear over the socket, got " + string(p))
		}
		return ph.write(okPayload)
	})
	nc, _, err := Dial(context.Background(), Config{Network: "unix", Addr: addr, User: "u", Password: "pw"})
	if err != nil {
		t.Fatalf("Dial: %v (server: %v)", err, <-done)
	}
	nc.Close()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func TestDialRefusals(t *testing.T) {
	cases := []struct {
		name  string
		serve func(ph *phase) error
		want  string
		code  uint16
	}{
		{"clear password without TLS", func(ph *phase) error {
			_ = ph.write(greetingPayload(mysql.AUTH_NATIVE_PASSWORD, mysql8Caps))
			_, _ = ph.read()
			_ = ph.write(append([]byte{authSwitchRequest}, mysql.AUTH_CLEAR_PASSWORD+"\x00"...))
			_, err := ph.read() // the client hangs up
			return err
		}, "without TLS: refused", 0},
		{"old password switch", func(ph *phase) error {
			_ = ph.write(greetingPayload(mysql.AUTH_NATIVE_PASSWORD, mysql8Caps))
			_, _ = ph.read()
			return ph.write([]byte{authSwitchRequest})
		}, "mysql_old_password", 0},
		{"too many connections", func(ph *phase) error {
			return ph.write(append([]byte{0xff, 0x10, 0x04}, "#08004Too many connections"...))
		}, "Too many connections", mysql.ER_CON_COUNT_ERROR},
		{"not a MySQL server", func(ph *phase) error {
			return ph.write([]byte("HTTP/1.1 400"))
		}, "protocol version", 0},
		{"pre-4.1 server", func(ph *phase) error {
			return ph.write(greetingPayload(mysql.AUTH_NATIVE_PASSWORD, mysql8Caps&^mysql.CLIENT_PROTOCOL_41))
		}, "protocol 4.1", 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			addr, done := scripted(t, "tcp", tc.serve)
			_, _, err := Dial(context.Background(), Config{Addr: addr, User: "u", Password: "pw", ConnectTimeout: 5 * time.Second})
			<-done
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("want an error with %q, got %v", tc.want, err)
			}
			if tc.code != 0 {
				expectMyError(t, err, tc.code)
			}
		})
	}
}

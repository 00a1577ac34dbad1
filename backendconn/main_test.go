package backendconn

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/vtdirect/vtdirect/local"
)

// One MariaDB, with TLS and the ed25519 plugin, serves the integration tests; it is started
// on first use and stopped by TestMain.
var shared struct {
	once sync.Once
	m    *local.MariaDB
	dir  string
	ca   *testCA // the CA that signed the server's certificate
	err  error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if shared.m != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		_ = shared.m.Stop(ctx)
		cancel()
	}
	if shared.dir != "" {
		os.RemoveAll(shared.dir)
	}
	os.Exit(code)
}

// Test users of the shared server (besides local's "app"/"app", mysql_native_password).
const (
	edUser, edPass   = "ed", "ed-secret"
	pamUser          = "pamuser"
	tlsUser, tlsPass = "tlsonly", "tls-secret"
	testDB           = "bc_test"
)

// sharedMariaDB returns the shared server. It fails the test (never skips) when MariaDB
// cannot start.
func sharedMariaDB(t testing.TB) *local.MariaDB {
	t.Helper()
	shared.once.Do(func() {
		if shared.dir, shared.err = os.MkdirTemp("", "backendconn-test-"); shared.err != nil {
			return
		}
		var certFile, keyFile, caFile string
		if shared.ca, shared.err = newTestCA("vtdirect test CA"); shared.err != nil {
			return
		}
		certFile, keyFile, shared.err = shared.ca.issueServerFiles(shared.dir, "127.0.0.1")
		if shared.err != nil {
			return
		}
		caFile = filepath.Join(shared.dir, "ca.pem")
		if shared.err = os.WriteFile(caFile, shared.ca.certPEM, 0o600); shared.err != nil {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		shared.m, shared.err = local.StartMariaDB(ctx, local.MariaDBConfig{
			Dir: filepath.Join(shared.dir, "db"), ServerID: 1, User: "app", Password: "app",
			ExtraArgs: []string{"--ssl-cert=" + certFile, "--ssl-key=" + keyFile, "--ssl-ca=" + caFile,
				"--plugin-load-add=auth_ed25519", "--plugin-load-add=auth_pam", "--performance-schema=ON"},
		})
		if shared.err != nil {
			return
		}
		shared.err = rootExec(ctx, shared.m,
			"CREATE DATABASE IF NOT EXISTS "+testDB,
			fmt.Sprintf("CREATE USER IF NOT EXISTS '%s'@'%%' IDENTIFIED VIA ed25519 USING PASSWORD('%s')", edUser, edPass),
			fmt.Sprintf("CREATE USER IF NOT EXISTS '%s'@'%%' IDENTIFIED VIA pam", pamUser),
			fmt.Sprintf("CREATE USER IF NOT EXISTS '%s'@'%%' IDENTIFIED BY '%s' REQUIRE SSL", tlsUser, tlsPass),
			fmt.Sprintf("GRANT ALL ON *.* TO '%s'@'%%', '%s'@'%%'", edUser, tlsUser),
		)
	})
	if shared.err != nil {
		t.Fatalf("start MariaDB for backendconn tests: %v", shared.err)
	}
	return shared.m
}

func rootExec(ctx context.Context, m *local.MariaDB, stmts ...string) error {
	db, err := m.RootDB(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	for _, s := range stmts {
		if _, err := db.ExecContext(ctx, s); err != nil {
			return fmt.Errorf("%s: %w", s, err)
		}
	}
	return nil
}

// testCA is a certificate authority made for one test run.
type testCA struct {
	key     *ecdsa.PrivateKey
	cert    *x509.Certificate
	certPEM []byte
}

func newTestCA(name string) (*testCA, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: name},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	return &testCA{key: key, cert: cert, certPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}, nil
}

func (ca *testCA) pool() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(ca.cert)
	return p
}

// issueServer returns the PEM certificate and key of a server certificate for ip.
func (ca *testCA) issueServer(ip string) (certPEM, keyPEM []byte, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2),
		Subject:      pkix.Name{CommonName: "vtdirect test server"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		IPAddresses:  []net.IP{net.ParseIP(ip)},
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		return nil, nil, err
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), nil
}

func (ca *testCA) issueServerFiles(dir, ip string) (certFile, keyFile string, err error) {
	certPEM, keyPEM, err := ca.issueServer(ip)
	if err != nil {
		return "", "", err
	}
	certFile, keyFile = filepath.Join(dir, "server-cert.pem"), filepath.Join(dir, "server-key.pem")
	if err := os.WriteFile(certFile, certPEM, 0o600); err != nil {
		return "", "", err
	}
	return certFile, keyFile, os.WriteFile(keyFile, keyPEM, 0o600)
}

// serverTLS is a server-side TLS config with a certificate from ca.
func (ca *testCA) serverTLS(t testing.TB) *tls.Config {
	t.Helper()
	certPEM, keyPEM, err := ca.issueServer("127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	return &tls.Config{Certificates: []tls.Certificate{pair}}
}

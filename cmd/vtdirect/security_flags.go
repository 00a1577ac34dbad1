package main

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/vtdirect/vtdirect/backendconn"
	"github.com/vtdirect/vtdirect/gateway"
	"github.com/vtdirect/vtdirect/mysqlserver"
)

// securityFlags are the flags of `vtdirect serve` for listeners, TLS, secrets, access rules
// and bounds, named after vtgate's and vttablet's.
type securityFlags struct {
	mysqlBind, grpcBind         string
	grpcCert, grpcKey, grpcCA   string
	dbSSLMode, dbSSLCA          string
	dbSSLCert, dbSSLKey, dbName string
	tableACL                    string
	debugTokenFile              string
	filteredUser, filteredPass  string // the password from --db-credentials-file or the config file

	maxConns, maxUserConns  int
	maxStmts, sessionBudget int
	totalBudget             int64
	maxAuthFailures         int
	authFailureWindow       time.Duration
}

func addSecurityFlags(fs *pflag.FlagSet, f *securityFlags) {
	fs.StringVar(&f.mysqlBind, "mysql-server-bind-address", "127.0.0.1", "address the MySQL protocol listener binds to")
	fs.StringVar(&f.grpcBind, "grpc-bind-address", "127.0.0.1", "address the gRPC listener (VStream, Execute) binds to")
	fs.StringVar(&f.grpcCert, "grpc-cert", "", "TLS certificate (PEM) of the gRPC listener; with --grpc-key, gRPC clients must use TLS")
	fs.StringVar(&f.grpcKey, "grpc-key", "", "TLS key (PEM) for --grpc-cert")
	fs.StringVar(&f.grpcCA, "grpc-ca", "", "CA (PEM) that gRPC clients' certificates must be signed by: a client without one is refused (needs --grpc-cert)")
	fs.StringVar(&f.dbSSLMode, "db-ssl-mode", "", "TLS to MariaDB: disabled, preferred, required, verify_ca or verify_identity (default: verify_ca with --db-ssl-ca, else disabled)")
	fs.StringVar(&f.dbSSLCA, "db-ssl-ca", "", "CA (PEM) that MariaDB's certificates are verified with")
	fs.StringVar(&f.dbSSLCert, "db-ssl-cert", "", "client certificate (PEM) the gateway presents to MariaDB")
	fs.StringVar(&f.dbSSLKey, "db-ssl-key", "", "key (PEM) for --db-ssl-cert")
	fs.StringVar(&f.dbName, "db-server-name", "", "host name MariaDB's certificate must name with --db-ssl-mode verify_identity (default: each tablet's host)")
	fs.StringVar(&f.tableACL, "table-acl-config", "", "Vitess's table ACL (JSON: {\"table_groups\": [...]}): readers, writers and admins per table pattern")
	fs.StringVar(&f.debugTokenFile, "debug-token-file", "", "file holding the token that opens the /debug/ pages on a non-loopback --bind-address (Authorization: Bearer <token>); without it they are off there")
	fs.StringVar(&f.filteredUser, "db-filtered-user", "", "user change streams (VStream) read the binlog and copy tables with, with REPLICATION SLAVE and SELECT (default: --db-app-user)")
	fs.IntVar(&f.maxConns, "mysql-server-max-connections", 5000, "most client connections at once; past it a client gets error 1040 Too many connections (0: no bound)")
	fs.IntVar(&f.maxUserConns, "mysql-server-max-user-connections", 0, "most connections of one user at once (error 1203); a user's MaxConnections in the static auth file overrides it (0: no bound)")
	fs.IntVar(&f.maxStmts, "mysql-server-max-prepared-stmts", 16382, "most prepared statements per client connection (error 1461)")
	fs.IntVar(&f.sessionBudget, "mysql-server-session-budget", 64<<20, "bytes a client connection may keep: the long data of its prepared statements (past it the next execution fails with 1153) and its remembered session settings")
	fs.Int64Var(&f.totalBudget, "mysql-server-total-session-budget", 1<<30, "bytes all client connections together may keep (what --mysql-server-session-budget bounds for each): past it long data is dropped and the execution fails with 1153 (0: no bound)")
	fs.IntVar(&f.maxAuthFailures, "mysql-server-max-auth-failures", 100, "failed logins per client address per --mysql-server-auth-failure-window before the address gets error 1129 (0: no bound)")
	fs.DurationVar(&f.authFailureWindow, "mysql-server-auth-failure-window", time.Minute, "the window of --mysql-server-max-auth-failures: the count drops by that many every window")
}

// apply puts the security flags into the gateway's configuration.
func (f *securityFlags) apply(cfg *gateway.Config, sf *serveFlags) error {
	var errs []error
	if f.filteredUser != "" {
		cfg.VStream.User, cfg.VStream.Password = f.filteredUser, f.filteredPass
	}

	// access rules, and each user's connection bound
	pol, userMax, err := loadAccess(sf.authFile, f.tableACL)
	if err != nil {
		return err
	}
	cfg.Access = pol
	cfg.Limits = gateway.Limits{
		MaxConnections: f.maxConns, MaxUserConnections: f.maxUserConns,
		MaxPreparedStmts: f.maxStmts, SessionBudget: f.sessionBudget, TotalBudget: f.totalBudget, UserMaxConnections: userMax,
	}
	if f.maxAuthFailures > 0 {
		cfg.Limits.AuthFailures = mysqlserver.AuthFailureLimit{Burst: f.maxAuthFailures, Window: f.authFailureWindow}
	}

	if f.debugTokenFile != "" {
		b, err := os.ReadFile(f.debugTokenFile)
		if err != nil {
			return fmt.Errorf("--debug-token-file: %w", err)
		}
		if cfg.DebugToken = strings.TrimSpace(string(b)); len(cfg.DebugToken) < 16 {
			return fmt.Errorf("--debug-token-file %s: the token has %d characters; use at least 16 random ones (e.g. `openssl rand -hex 32`)", f.debugTokenFile, len(cfg.DebugToken))
		}
	}

	if cfg.GRPCTLS, err = f.grpcTLS(); err != nil {
		errs = append(errs, err)
	}
	if err := f.dbTLS(&cfg.TabletServer.TLSMode, &cfg.TabletServer.TLSConfig); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// grpcTLS is the gRPC listener's TLS (--grpc-cert, --grpc-key, --grpc-ca); nil: cleartext.
func (f *securityFlags) grpcTLS() (*tls.Config, error) {
	if f.grpcCert == "" && f.grpcKey == "" {
		if f.grpcCA != "" {
			return nil, errors.New("--grpc-ca needs --grpc-cert and --grpc-key (client certificates are checked over TLS)")
		}
		return nil, nil
	}
	cert, err := tls.LoadX509KeyPair(f.grpcCert, f.grpcKey)
	if err != nil {
		return nil, fmt.Errorf("--grpc-cert/--grpc-key: %w", err)
	}
	c := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	if f.grpcCA != "" {
		if c.ClientCAs, err = loadPool(f.grpcCA); err != nil {
			return nil, fmt.Errorf("--grpc-ca: %w", err)
		}
		c.ClientAuth = tls.RequireAndVerifyClientCert
	}
	return c, nil
}

// dbTLS sets the TLS of the connections to MariaDB (--db-ssl-*).
func (f *securityFlags) dbTLS(mode *backendconn.TLSMode, out **tls.Config) error {
	m := backendconn.TLSDisabled
	switch {
	case f.dbSSLMode != "":
		var err error
		if m, err = backendconn.ParseTLSMode(f.dbSSLMode); err != nil {
			return fmt.Errorf("--db-ssl-mode: %w", err)
		}
	case f.dbSSLCA != "":
		m = backendconn.TLSVerifyCA
	}
	if m == backendconn.TLSDisabled {
		if f.dbSSLCA != "" || f.dbSSLCert != "" {
			return errors.New("--db-ssl-ca/--db-ssl-cert with --db-ssl-mode disabled: choose a mode (verify_ca, verify_identity...)")
		}
		return nil
	}
	c := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: f.dbName}
	if f.dbSSLCA != "" {
		pool, err := loadPool(f.dbSSLCA)
		if err != nil {
			return fmt.Errorf("--db-ssl-ca: %w", err)
		}
		c.RootCAs = pool // else the system's roots
	}
	if f.dbSSLCert != "" || f.dbSSLKey != "" {
		cert, err := tls.LoadX509KeyPair(f.dbSSLCert, f.dbSSLKey)
		if err != nil {
			return fmt.Errorf("--db-ssl-cert/--db-ssl-key: %w", err)
		}
		c.Certificates = []tls.Certificate{cert}
	}
	*mode, *out = m, c
	return nil
}

// loadPool reads a PEM file of CA certificates.
func loadPool(file string) (*x509.CertPool, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(data) {
		return nil, fmt.Errorf("%s holds no PEM certificate", file)
	}
	return pool, nil
}

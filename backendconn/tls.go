package backendconn

// TLS policy by mode, as MySQL's --ssl-mode: preferred and required encrypt without checking
// the certificate, verify_ca checks the chain only, verify_identity the chain and the name.

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
)

// tlsConfig is the client TLS configuration for cfg's mode (a copy: cfg's is never changed).
func tlsConfig(cfg *Config) *tls.Config {
	var c *tls.Config
	if cfg.TLSConfig != nil {
		c = cfg.TLSConfig.Clone()
	} else {
		c = &tls.Config{}
	}
	switch cfg.TLSMode {
	case TLSPreferred, TLSRequired:
		c.InsecureSkipVerify = true
	case TLSVerifyCA:
		c.InsecureSkipVerify = true // the name is not checked; the chain is, below
		roots, next := c.RootCAs, c.VerifyConnection
		c.VerifyConnection = func(cs tls.ConnectionState) error {
			if err := verifyChain(cs, roots); err != nil {
				return err
			}
			if next != nil {
				return next(cs)
			}
			return nil
		}
	case TLSVerifyIdentity:
		if c.ServerName == "" && cfg.Network != "unix" {
			host, _, err := net.SplitHostPort(cfg.Addr)
			if err != nil {
				host = cfg.Addr
			}
			c.ServerName = host
		}
	}
	return c
}

// verifyChain checks the server's certificate chain against roots (nil: the system's),
// without looking at the names it is for.
func verifyChain(cs tls.ConnectionState, roots *x509.CertPool) error {
	if len(cs.PeerCertificates) == 0 {
		return errors.New("the server sent no certificate")
	}
	opts := x509.VerifyOptions{Roots: roots, Intermediates: x509.NewCertPool()}
	for _, c := range cs.PeerCertificates[1:] {
		opts.Intermediates.AddCert(c)
	}
	_, err := cs.PeerCertificates[0].Verify(opts)
	return err
}

// DriverTLS is the TLS configuration for mode of a connection another client library opens
// to addr (the control and change-stream connections, which go-sql-driver and go-mysql open):
// nil for TLSDisabled; fallback says the connection may go without TLS when the server offers
// none (TLSPreferred). base gives the CA and client certificate, as Config.TLSConfig.
func DriverTLS(mode TLSMode, base *tls.Config, addr string) (c *tls.Config, fallback bool) {
	if mode == TLSDisabled {
		return nil, false
	}
	return tlsConfig(&Config{Network: "tcp", Addr: addr, TLSMode: mode, TLSConfig: base}), mode == TLSPreferred
}

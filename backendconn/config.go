package backendconn

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"time"
)

// Config says how to connect to one backend.
type Config struct {
	// Network is "tcp" (default) or "unix"; Addr is host:port or a socket path.
	Network, Addr string
	// User and Password are the backend credentials; Database is the default schema
	// ("" for none).
	User, Password, Database string
	// Capabilities are the client capability flags to ask for; the connection gets these &
	// the server's. CLIENT_PROTOCOL_41, CLIENT_SECURE_CONNECTION, CLIENT_PLUGIN_AUTH and
	// CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA are always asked for, CLIENT_CONNECT_WITH_DB when
	// Database is set, CLIENT_CONNECT_ATTRS when Attributes are, CLIENT_SSL when TLS is used.
	// Flags that change reply formats (CLIENT_DEPRECATE_EOF, CLIENT_SESSION_TRACK, ...) are
	// the caller's to follow: Info.Capabilities says which ones the server accepted.
	Capabilities uint32
	// ExtCapabilities are MariaDB's extended capabilities (Ext* constants), sent only to a
	// server that announces its own (a MariaDB server: CLIENT_MYSQL clear in its greeting).
	ExtCapabilities uint32
	// Collation is the collation id of the handshake (the connection's character set). 0
	// uses the default collation of the server's greeting, so the connection starts in the
	// server's default character set. A server that does not know the id uses its default.
	Collation uint8
	// Attributes are the connection attributes (performance_schema.session_connect_attrs).
	Attributes map[string]string
	// TLSMode says whether and how to use TLS (vttablet's --db-ssl-mode); TLSConfig gives
	// the certificates (RootCAs for the verify modes, Certificates for a client
	// certificate). A nil TLSConfig with a TLS mode means the system roots.
	TLSMode   TLSMode
	TLSConfig *tls.Config
	// ConnectTimeout bounds the whole dial (TCP, TLS and authentication) besides ctx; 0 = ctx only.
	ConnectTimeout time.Duration
	// MaxPacketSize is announced to the server; default 1 GiB.
	MaxPacketSize uint32
	// DialContext opens the socket; default a net.Dialer.
	DialContext func(ctx context.Context, network, addr string) (net.Conn, error)
}

// TLSMode is the TLS policy of a backend connection, named as MySQL's --ssl-mode.
type TLSMode int

const (
	// TLSDisabled never uses TLS.
	TLSDisabled TLSMode = iota
	// TLSPreferred uses TLS when the server offers it, without verifying its certificate.
	TLSPreferred
	// TLSRequired refuses a server without TLS; the certificate is not verified.
	TLSRequired
	// TLSVerifyCA also verifies the certificate chain against TLSConfig.RootCAs.
	TLSVerifyCA
	// TLSVerifyIdentity also checks that the certificate names the host
	// (TLSConfig.ServerName, else the host of Addr).
	TLSVerifyIdentity
)

var tlsModeNames = [...]string{"disabled", "preferred", "required", "verify_ca", "verify_identity"}

func (m TLSMode) String() string {
	if m >= 0 && int(m) < len(tlsModeNames) {
		return tlsModeNames[m]
	}
	return fmt.Sprintf("TLSMode(%d)", int(m))
}

// ParseTLSMode reads a --db-ssl-mode value: disabled, preferred, required, verify_ca or
// verify_identity (case-insensitive, '-' for '_' accepted).
func ParseTLSMode(s string) (TLSMode, error) {
	norm := make([]byte, len(s))
	for i := range len(s) {
		c := s[i]
		switch {
		case c >= 'A' && c <= 'Z':
			c += 'a' - 'A'
		case c == '-':
			c = '_'
		}
		norm[i] = c
	}
	for i, n := range tlsModeNames {
		if n == string(norm) {
			return TLSMode(i), nil
		}
	}
	return 0, fmt.Errorf("TLS mode %q: want one of disabled, preferred, required, verify_ca, verify_identity", s)
}

// MariaDB's extended capabilities (bits 32 and up of its capability set, here shifted down
// to fit the 4 bytes they travel in).
// https://mariadb.com/kb/en/connection/#capabilities
const (
	ExtProgress           uint32 = 1 << 0 // MARIADB_CLIENT_PROGRESS
	ExtComMulti           uint32 = 1 << 1 // MARIADB_CLIENT_COM_MULTI
	ExtStmtBulkOperations uint32 = 1 << 2 // MARIADB_CLIENT_STMT_BULK_OPERATIONS
	ExtExtendedMetadata   uint32 = 1 << 3 // MARIADB_CLIENT_EXTENDED_METADATA (10.5.2+)
	ExtCacheMetadata      uint32 = 1 << 4 // MARIADB_CLIENT_CACHE_METADATA (10.6+)
	ExtBulkUnitResults    uint32 = 1 << 5 // MARIADB_CLIENT_BULK_UNIT_RESULTS (11.5.1+)
)

const defaultMaxPacketSize = 1 << 30

func (cfg *Config) validate() error {
	var errs []error
	if cfg.Addr == "" {
		errs = append(errs, errors.New("no address"))
	}
	switch cfg.Network {
	case "", "tcp", "tcp4", "tcp6", "unix":
	default:
		errs = append(errs, fmt.Errorf("network %q: want tcp or unix", cfg.Network))
	}
	if cfg.TLSMode < TLSDisabled || cfg.TLSMode > TLSVerifyIdentity {
		errs = append(errs, fmt.Errorf("unknown %v", cfg.TLSMode))
	}
	if cfg.ConnectTimeout < 0 {
		errs = append(errs, errors.New("negative ConnectTimeout"))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("backendconn config: %w", err)
	}
	return nil
}

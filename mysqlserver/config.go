package mysqlserver

import (
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/go-mysql-org/go-mysql/mysql"
)

// Config configures a Listener. The zero value of each optional field means its default.
type Config struct {
	// ServerVersion is the version the greeting announces (--mysql-server-version). When
	// empty, ServerVersionFunc is asked at every greeting (the backends' version: clients
	// adapt their SQL to it); when that is nil too, a MariaDB 10.11-like default.
	ServerVersion     string
	ServerVersionFunc func() string
	// Capabilities are the capability flags offered to clients; 0 means ServerCapabilities
	// (every one the gateway serves). It must be a subset of ServerCapabilities. CLIENT_SSL
	// is added when TLSConfig is set, CLIENT_LOCAL_FILES when LocalInfile is.
	Capabilities uint32
	// LocalInfile offers CLIENT_LOCAL_FILES: the backend may then ask the client for a file
	// (LOAD DATA LOCAL INFILE), which the handler relays with Conn.ReadPacket.
	LocalInfile bool
	// Auth gives the plaintext password of each user. Nil only with InsecureNoAuth.
	Auth Authenticator
	// InsecureNoAuth accepts every user with any password.
	InsecureNoAuth bool
	// TLSConfig, when set, makes the server offer TLS (CLIENT_SSL).
	TLSConfig *tls.Config
	// RequireTLS refuses clients that do not upgrade to TLS (needs TLSConfig).
	RequireTLS bool
	// MaxPacketSize is the largest command payload accepted; bigger ones get
	// ER_NET_PACKET_TOO_LARGE and the connection is closed. Default 64 MiB.
	MaxPacketSize int
	// DefaultAuthPlugin is the plugin proposed in the handshake: mysql_native_password
	// (default) or caching_sha2_password. A client answering with another plugin is asked
	// to switch to this one.
	DefaultAuthPlugin string
	// HandshakeTimeout bounds the connection phase (TLS and authentication); default 10s.
	HandshakeTimeout time.Duration
	// WriteTimeout bounds how long one write to a client may block (MySQL's
	// net_write_timeout): a client that stops reading its result is disconnected instead of
	// holding its session and backend connection forever. 0: no bound.
	WriteTimeout time.Duration
	// Logger receives connection-level events; default discards.
	Logger *slog.Logger

	// Bounds one client cannot break (limits.go). Zero values: no bound, except
	// MaxPreparedStmts (16382) and SessionBudget (MaxPacketSize).
	//
	// MaxConnections bounds the client connections (--mysql-server-max-connections): past it
	// a new client gets 1040 (Too many connections) instead of the greeting.
	MaxConnections int
	// MaxUserConnections bounds each user's connections (1203 after authentication);
	// UserMaxConnections, when set and positive for a user, is that user's own bound.
	MaxUserConnections int
	UserMaxConnections func(user string) int
	// MaxPreparedStmts bounds the prepared statements of one connection (1461).
	MaxPreparedStmts int
	// SessionBudget bounds the bytes a connection keeps between commands: the long data of
	// its prepared statements (COM_STMT_SEND_LONG_DATA past it is dropped and the statement's
	// next execution fails with 1153) and what the handler retains for it (Conn.Retain: the
	// session's remembered settings).
	SessionBudget int
	// TotalBudget bounds the bytes all connections keep together (the sum of what
	// SessionBudget bounds for each): long data past it is dropped as past SessionBudget, so
	// that many clients cannot together exhaust the gateway's memory. 0: no bound.
	TotalBudget int64
	// AuthFailures rate-limits failed logins per client address (1129 past the limit).
	AuthFailures AuthFailureLimit
}

// serverVersion is the version for the next greeting.
func (cfg *Config) serverVersion() string {
	if cfg.ServerVersion != "" {
		return cfg.ServerVersion
	}
	if cfg.ServerVersionFunc != nil {
		v := cfg.ServerVersionFunc()
		if i := strings.IndexByte(v, 0); i >= 0 {
			v = v[:i]
		}
		if v != "" {
			return v
		}
	}
	return defaultServerVersion
}

// Authenticator gives the plaintext password of a user. ok=false means no such user.
// It is called once per connection attempt, from the connection's goroutine.
type Authenticator interface {
	Password(user string) (password string, ok bool)
}

// StaticAuth is an Authenticator over a fixed user → password map.
type StaticAuth map[string]string

// Password implements Authenticator.
func (s StaticAuth) Password(user string) (string, bool) {
	p, ok := s[user]
	return p, ok
}

var _ Authenticator = StaticAuth(nil)

const (
	// defaultServerVersion is MariaDB's form ("5.5.5-" tells clients that a MariaDB version
	// follows), for a gateway that does not know its backends' version yet.
	defaultServerVersion    = "5.5.5-10.11.0-MariaDB-vtdirect"
	defaultMaxPacketSize    = 64 << 20
	minMaxPacketSize        = 1024
	defaultHandshakeTimeout = 10 * time.Second
)

// withDefaults returns cfg with defaults filled in, or an error saying what is wrong.
func (cfg Config) withDefaults() (Config, error) {
	if cfg.Capabilities == 0 {
		cfg.Capabilities = ServerCapabilities
	}
	if cfg.MaxPacketSize == 0 {
		cfg.MaxPacketSize = defaultMaxPacketSize
	}
	if cfg.MaxPreparedStmts == 0 {
		cfg.MaxPreparedStmts = defaultMaxStmtsPerConn
	}
	if cfg.SessionBudget == 0 {
		cfg.SessionBudget = cfg.MaxPacketSize
	}
	if cfg.DefaultAuthPlugin == "" {
		cfg.DefaultAuthPlugin = mysql.AUTH_NATIVE_PASSWORD
	}
	if cfg.HandshakeTimeout == 0 {
		cfg.HandshakeTimeout = defaultHandshakeTimeout
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return cfg, cfg.validate()
}

func (cfg Config) validate() error {
	var errs []error
	if cfg.Auth == nil && !cfg.InsecureNoAuth {
		errs = append(errs, errors.New("no Authenticator: give users, or set InsecureNoAuth to accept anyone"))
	}
	if cfg.RequireTLS && cfg.TLSConfig == nil {
		errs = append(errs, errors.New("RequireTLS needs a TLSConfig (a certificate)"))
	}
	if strings.IndexByte(cfg.ServerVersion, 0) >= 0 {
		errs = append(errs, errors.New("ServerVersion contains a NUL byte"))
	}
	if extra := cfg.Capabilities &^ ServerCapabilities; extra != 0 {
		errs = append(errs, fmt.Errorf("Capabilities %#x include flags the gateway does not serve (%#x)", cfg.Capabilities, extra))
	}
	if cfg.MaxPacketSize < minMaxPacketSize {
		errs = append(errs, fmt.Errorf("MaxPacketSize %d is below the minimum %d", cfg.MaxPacketSize, minMaxPacketSize))
	}
	switch cfg.DefaultAuthPlugin {
	case mysql.AUTH_NATIVE_PASSWORD, mysql.AUTH_CACHING_SHA2_PASSWORD:
	default:
		errs = append(errs, fmt.Errorf("DefaultAuthPlugin %q: want %s or %s",
			cfg.DefaultAuthPlugin, mysql.AUTH_NATIVE_PASSWORD, mysql.AUTH_CACHING_SHA2_PASSWORD))
	}
	if cfg.WriteTimeout < 0 {
		errs = append(errs, errors.New("WriteTimeout is negative"))
	}
	if cfg.HandshakeTimeout < 0 {
		errs = append(errs, errors.New("HandshakeTimeout is negative"))
	}
	if cfg.MaxConnections < 0 || cfg.MaxUserConnections < 0 || cfg.MaxPreparedStmts < 0 || cfg.SessionBudget < 0 || cfg.TotalBudget < 0 {
		errs = append(errs, errors.New("MaxConnections, MaxUserConnections, MaxPreparedStmts, SessionBudget and TotalBudget must not be negative"))
	}
	if cfg.AuthFailures.Burst < 0 || cfg.AuthFailures.Window < 0 || (cfg.AuthFailures.Burst > 0) != (cfg.AuthFailures.Window > 0) {
		errs = append(errs, errors.New("AuthFailures needs both a positive Burst and a positive Window (or neither)"))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("mysqlserver config: %w", err)
	}
	return nil
}

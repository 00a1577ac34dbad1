package tabletserver

import (
	"crypto/tls"
	"errors"
	"fmt"
	"time"

	"github.com/vtdirect/vtdirect/backendconn"
)

// Defaults for zero Config fields (Vitess's where it has one).
const (
	DefaultPoolSize        = 16
	DefaultPoolWaitTimeout = 5 * time.Second
	DefaultIdleTimeout     = 30 * time.Minute
	DefaultTxPoolSize      = 32
	DefaultTxTimeout       = 30 * time.Second
	DefaultHealthInterval  = 2 * time.Second
	DefaultConnectTimeout  = 5 * time.Second
	// DefaultPreparedStmtCacheSize keeps the statements of all backend connections of a few
	// gateways under MariaDB's max_prepared_stmt_count (16382): 64 x (16 + 32) x 5 = 15360.
	DefaultPreparedStmtCacheSize = 64
)

// Config configures the tablet server of one tablet. Tablets on one MySQL server that connect
// as the same user share a Backend: the fields marked "backend-level" are those of the
// backend, taken from the first tablet's Config (and changed with Backends.Configure); the
// others are each tablet's own (changed with TabletServer.Configure).
type Config struct {
	// User and Password are the backend credentials (data connections, and the control
	// connection unless ControlUser is set). Backend-level; User is part of the backend's key.
	User, Password string
	// ControlUser and ControlPassword, if ControlUser is set, are the control connection's
	// credentials (health probe with the replica status, KILL QUERY of the data connections,
	// the process list), as vttablet reads replication status with its dba user: User then
	// needs no replication or process rights. The account must see User's threads (PROCESS)
	// and kill them (CONNECTION ADMIN or SUPER), and read the replica status (SLAVE MONITOR).
	// Backend-level.
	ControlUser, ControlPassword string
	// MaxConnections bounds the backend connections to the tablet's MySQL server as User,
	// shared by every tablet there, whatever their number; 0 = PoolSize + TxPoolSize.
	// Backend-level.
	MaxConnections int
	// PoolSize bounds the tablet's statements on connections no session keeps (autocommit
	// queries); a Get that finds them all busy waits up to PoolWaitTimeout. Idle connections
	// are closed after IdleTimeout (backend-level).
	PoolSize        int
	PoolWaitTimeout time.Duration
	IdleTimeout     time.Duration
	// TxPoolSize bounds the reserved connections (transactions, session state); one held
	// longer than TxTimeout is closed, which rolls its transaction back.
	TxPoolSize int
	TxTimeout  time.Duration
	// QueryTimeout kills (KILL QUERY) a query running longer; 0 = no limit.
	QueryTimeout time.Duration
	// MaxResultRows fails a reply with more rows; 0 = unlimited (results are streamed).
	MaxResultRows int
	// HealthInterval is the period of the health probe; ConnectTimeout bounds a connect and a
	// probe. Backend-level.
	HealthInterval time.Duration
	ConnectTimeout time.Duration
	// TLSMode and TLSConfig say whether backend connections use TLS and how they verify the
	// server (vttablet's --db-ssl-mode, --db-ssl-ca...). Backend-level.
	TLSMode   backendconn.TLSMode
	TLSConfig *tls.Config
	// PreparedStmtCacheSize bounds the prepared statements kept on each backend connection
	// (least recently used evicted). The server's max_prepared_stmt_count bounds the sum over
	// all connections of every gateway: keep PreparedStmtCacheSize x (PoolSize + TxPoolSize)
	// x gateways under it. A prepare refused for that limit (1461) frees the connection's
	// statements and is retried once. Backend-level.
	PreparedStmtCacheSize int
}

// maxConnections is MaxConnections with its default.
func (c *Config) maxConnections() int {
	if c.MaxConnections > 0 {
		return c.MaxConnections
	}
	return c.PoolSize + c.TxPoolSize
}

// Validate reports a Config that cannot work. Zero values are fine: they get defaults.
func (c Config) Validate() error {
	var errs []error
	for _, f := range []struct {
		name string
		v    int64
	}{
		{"PoolSize", int64(c.PoolSize)}, {"PoolWaitTimeout", int64(c.PoolWaitTimeout)},
		{"IdleTimeout", int64(c.IdleTimeout)}, {"TxPoolSize", int64(c.TxPoolSize)},
		{"TxTimeout", int64(c.TxTimeout)}, {"QueryTimeout", int64(c.QueryTimeout)},
		{"MaxResultRows", int64(c.MaxResultRows)}, {"HealthInterval", int64(c.HealthInterval)},
		{"ConnectTimeout", int64(c.ConnectTimeout)}, {"PreparedStmtCacheSize", int64(c.PreparedStmtCacheSize)},
		{"MaxConnections", int64(c.MaxConnections)},
	} {
		if f.v < 0 {
			errs = append(errs, fmt.Errorf("tabletserver: %s must not be negative", f.name))
		}
	}
	if c.User == "" {
		errs = append(errs, errors.New("tabletserver: User is empty: name the backend MySQL user"))
	}
	return errors.Join(errs...)
}

// withDefaults fills zero (and, since New cannot fail, negative) fields with defaults.
func (c Config) withDefaults() Config {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	if c.PoolSize <= 0 {
		c.PoolSize = DefaultPoolSize
	}
	if c.TxPoolSize <= 0 {
		c.TxPoolSize = DefaultTxPoolSize
	}
	if c.PreparedStmtCacheSize <= 0 {
		c.PreparedStmtCacheSize = DefaultPreparedStmtCacheSize
	}
	def(&c.PoolWaitTimeout, DefaultPoolWaitTimeout)
	def(&c.IdleTimeout, DefaultIdleTimeout)
	def(&c.TxTimeout, DefaultTxTimeout)
	def(&c.HealthInterval, DefaultHealthInterval)
	def(&c.ConnectTimeout, DefaultConnectTimeout)
	if c.QueryTimeout < 0 {
		c.QueryTimeout = 0
	}
	if c.MaxResultRows < 0 {
		c.MaxResultRows = 0
	}
	return c
}

// tick is the period of the maintenance loop (idle janitor, transaction killer): fine enough
// for both timeouts, at most a second.
func (c Config) tick() time.Duration {
	t := min(c.IdleTimeout, c.TxTimeout) / 10
	return min(max(t, 10*time.Millisecond), time.Second)
}

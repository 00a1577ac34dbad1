package failover

import (
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/vtdirect/vtdirect/backendconn"
)

// Defaults (the flags of `vtdirect serve` show them).
const (
	DefaultPollInterval = time.Second
	// DefaultBlockPeriod is orchestrator's RecoveryPeriodBlockSeconds: no second automatic
	// recovery of a shard within it, unless an operator acknowledged the first.
	DefaultBlockPeriod = time.Hour
	// DefaultLeaseTTL bounds how long a dead leader keeps the leadership (and a dead
	// recovery its shard lock); Consul refuses session TTLs under 10s by default.
	DefaultLeaseTTL = 10 * time.Second
	// DefaultWaitReplicasTimeout bounds waiting for relay logs to apply and for a candidate to
	// catch up (Vitess's --wait-replicas-timeout is 15s; a failover that waits that long is
	// already too slow for the buffer).
	DefaultWaitReplicasTimeout = 10 * time.Second
	// DefaultNetTimeout is the slave_net_timeout replicas run with; the heartbeat is half of
	// it, as VTOrc checks (a replica notices a silent primary within this).
	DefaultNetTimeout = 4 * time.Second
	// DefaultGracePeriod is how long a planned reparent lets transactions open on the old
	// primary finish before it ends them (Vitess's --shutdown_grace_period).
	DefaultGracePeriod = 3 * time.Second
	// DefaultHookTimeout bounds one hook command.
	DefaultHookTimeout = 30 * time.Second
	// ElectionName is the topo election the gateways campaign in.
	ElectionName = "vtdirect-failover"
)

// Config configures failover; cmd/vtdirect fills it from flags.
type Config struct {
	// ID names this gateway in the election and the journal; it ends with " http=<url>"
	// when the gateway serves HTTP, so that the CLI finds the leader.
	ID string
	// DBAUser and DBAPassword: the admin MySQL user that reads and changes the tablets'
	// replication (vttablet's --db-dba-user): it needs SUPER (or REPLICATION SLAVE ADMIN,
	// READ_ONLY ADMIN, BINLOG MONITOR) and CONNECTION ADMIN.
	DBAUser, DBAPassword string
	// ReplUser and ReplPassword: what replicas connect to their primary with
	// (--db-repl-user); default the DBA user.
	ReplUser, ReplPassword string
	// TLSMode and TLSConfig are the TLS of the connections to the tablets (--db-ssl-*).
	TLSMode      backendconn.TLSMode
	TLSConfig    *tls.Config
	PollInterval time.Duration
	// ProbeTimeout bounds reading one tablet; a tablet not read in time is unreachable.
	// Default: the poll interval, at most 1s.
	ProbeTimeout time.Duration
	// BlockPeriod: no second automatic recovery of a shard within it unless acknowledged
	// (0: none; the flag's default is DefaultBlockPeriod).
	BlockPeriod         time.Duration
	LeaseTTL            time.Duration
	WaitReplicasTimeout time.Duration
	NetTimeout          time.Duration
	// GracePeriod: a planned reparent waits this long for open transactions (0: none).
	GracePeriod time.Duration
	// PromotionRules override the durability policy's rule per tablet ("zone1-101" → prefer).
	PromotionRules map[string]Rule
	// PreHooks run before a recovery (a failing one stops it), PostHooks after (sh -c, with
	// the shard and the primaries in VTDIRECT_FAILOVER_* environment variables).
	PreHooks, PostHooks []string
	HookTimeout         time.Duration
	// Keyspaces limits failover to these keyspaces (empty: all).
	Keyspaces []string
	// Observer receives detections and recoveries (the gateway's metrics); may be nil.
	Observer Observer
	Logger   *slog.Logger
	// Now is the clock (tests); nil is time.Now.
	Now func() time.Time
	// StepHook, if set, is called before each step of a recovery; an error fails the step
	// (tests freeze and kill a leader there).
	StepHook func(recoveryID, step string) error
}

// Observer is told what failover does, for metrics.
type Observer interface {
	// Detected: a shard-wide problem was acted on, d after the primary was last seen fine.
	Detected(keyspace, shard string, code Code, d time.Duration)
	// RecoveryDone: a recovery of kind ended with result ("success", "failed", "aborted")
	// after d.
	RecoveryDone(keyspace, shard, kind, result string, d time.Duration)
	// Leader: this gateway became (true) or stopped being (false) the failover leader.
	Leader(bool)
}

func (c *Config) setDefaults() {
	if c.ReplUser == "" {
		c.ReplUser, c.ReplPassword = c.DBAUser, c.DBAPassword
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
	}
	def(&c.PollInterval, DefaultPollInterval)
	def(&c.ProbeTimeout, min(c.PollInterval, time.Second))
	def(&c.LeaseTTL, DefaultLeaseTTL)
	def(&c.WaitReplicasTimeout, DefaultWaitReplicasTimeout)
	def(&c.NetTimeout, DefaultNetTimeout)
	def(&c.HookTimeout, DefaultHookTimeout)
	if c.Logger == nil {
		c.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if c.Now == nil {
		c.Now = time.Now
	}
}

func (c *Config) validate() error {
	c.setDefaults()
	var errs []error
	if c.ID == "" {
		errs = append(errs, errors.New("failover: Config.ID is empty"))
	}
	if c.DBAUser == "" {
		errs = append(errs, errors.New("failover: no admin MySQL user: give --db-dba-user (its password in --db-credentials-file or the config file), a user with SUPER that can change replication"))
	}
	if c.NetTimeout < 2*time.Second || c.NetTimeout%time.Second != 0 {
		errs = append(errs, fmt.Errorf("failover: replica net timeout %v: want whole seconds, at least 2s (the heartbeat is half of it)", c.NetTimeout))
	}
	if c.LeaseTTL < time.Second {
		errs = append(errs, fmt.Errorf("failover: lease TTL %v: want at least 1s", c.LeaseTTL))
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{{"poll interval", c.PollInterval}, {"probe timeout", c.ProbeTimeout}, {"block period", c.BlockPeriod},
		{"wait-replicas timeout", c.WaitReplicasTimeout}, {"grace period", c.GracePeriod}, {"hook timeout", c.HookTimeout}} {
		if d.v < 0 {
			errs = append(errs, fmt.Errorf("failover: %s %v must not be negative", d.name, d.v))
		}
	}
	return errors.Join(errs...)
}

package main

import (
	"fmt"
	"log/slog"
	"time"

	"github.com/spf13/pflag"

	"github.com/vtdirect/vtdirect/buffer"
	"github.com/vtdirect/vtdirect/failover"
)

// failoverFlags are the failover and buffer flags of `vtdirect serve` (vtgate's --buffer-*
// and --enable-buffer, vttablet's --db-dba-* and --db-repl-*, orchestrator's anti-flapping).
type failoverFlags struct {
	enable, enableBuffer  bool
	dba, dbaPassword      string // the passwords come from credFile or the config file
	repl, replPassword    string
	credFile              string
	poll, block, leaseTTL time.Duration
	waitReplicas          time.Duration
	netTimeout, grace     time.Duration
	rules                 string
	preHooks, postHooks   []string
	hookTimeout           time.Duration
	keyspaces             string
	bufWindow, bufMax     time.Duration
	bufSize               int
}

func addFailoverFlags(fs *pflag.FlagSet, f *failoverFlags) {
	fs.BoolVar(&f.enable, "enable-failover", false, "run the failover controller in this gateway: detect a dead primary and reparent (one gateway leads, through the topo's election)")
	addDBAFlags(fs, f)
	fs.DurationVar(&f.poll, "failover-poll-interval", failover.DefaultPollInterval, "how often failover reads every tablet and analyzes the shards")
	fs.DurationVar(&f.block, "failover-block-period", failover.DefaultBlockPeriod, "no second automatic recovery of a shard within this period unless an operator acknowledged the first (`vtdirect failover ack`); 0: no blocking")
	fs.DurationVar(&f.leaseTTL, "failover-lease-ttl", failover.DefaultLeaseTTL, "how long the failover leadership and a recovery's shard lock outlive a gateway that dies (Consul: at least 10s)")
	fs.DurationVar(&f.waitReplicas, "wait-replicas-timeout", failover.DefaultWaitReplicasTimeout, "how long a reparent waits for relay logs to apply and for the new primary to catch up")
	fs.DurationVar(&f.netTimeout, "replica-net-timeout", failover.DefaultNetTimeout, "slave_net_timeout that failover sets on replicas (the heartbeat is half): a replica notices a silent primary within it")
	fs.DurationVar(&f.grace, "reparent-grace-period", failover.DefaultGracePeriod, "a planned reparent lets transactions open on the old primary finish for this long, then ends them")
	fs.StringVar(&f.rules, "failover-promotion-rules", "", "promotion rule overrides: zone1-101=prefer,zone2-200=prefer_not (prefer, neutral, prefer_not, must_not)")
	fs.StringArrayVar(&f.preHooks, "failover-pre-hook", nil, "command (sh -c) run before a recovery, with VTDIRECT_FAILOVER_* in its environment; a failure stops the recovery (repeatable)")
	fs.StringArrayVar(&f.postHooks, "failover-post-hook", nil, "command (sh -c) run after a recovery (repeatable)")
	fs.DurationVar(&f.hookTimeout, "failover-hook-timeout", failover.DefaultHookTimeout, "bound on each hook command")
	fs.StringVar(&f.keyspaces, "failover-keyspaces", "", "comma-separated keyspaces failover manages (default: all)")
	fs.BoolVar(&f.enableBuffer, "enable-buffer", false, "hold PRIMARY queries while their shard is reparented, then run them on the new primary")
	fs.DurationVar(&f.bufWindow, "buffer-window", buffer.DefaultWindow, "longest time a query waits in the buffer")
	fs.IntVar(&f.bufSize, "buffer-size", buffer.DefaultSize, "most queries waiting in the buffer at once")
	fs.DurationVar(&f.bufMax, "buffer-max-failover-duration", buffer.DefaultMaxFailoverDuration, "stop buffering a reparent that lasts longer than this")
}

// addDBAFlags defines the admin and replication users (serve and the reparent commands), and
// the file of the backend users' passwords: passwords are never flags (they would show in ps
// and /debug/pprof/cmdline).
func addDBAFlags(fs *pflag.FlagSet, f *failoverFlags) {
	fs.StringVar(&f.dba, "db-dba-user", "vt_dba", "admin MySQL user that failover reads and changes replication with (SUPER or the replication and read-only admin privileges); given its password, also the control connection's (health probe, KILL QUERY), so the app user needs no replication or process rights")
	fs.StringVar(&f.repl, "db-repl-user", "", "user replicas connect to their primary with (default: --db-dba-user)")
	fs.StringVar(&f.credFile, "db-credentials-file", "", "JSON file of the backend users' passwords, in Vitess's format: {\"vt_app\": [\"password\"], \"vt_dba\": [\"password\"]}")
}

// useCredentials reads --db-credentials-file: the passwords of the admin and replication users.
func (f *failoverFlags) useCredentials() (map[string]string, error) {
	if f.credFile == "" {
		return nil, nil
	}
	creds, err := loadCredentials(f.credFile)
	if err != nil {
		return nil, err
	}
	f.dbaPassword = creds[f.dba]
	repl := f.repl
	if repl == "" {
		repl = f.dba
	}
	f.replPassword = creds[repl]
	return creds, nil
}

// failoverConfig is the failover configuration of the flags.
func (f *failoverFlags) failoverConfig(log *slog.Logger) (failover.Config, error) {
	rules, err := failover.ParseRuleOverrides(f.rules)
	if err != nil {
		return failover.Config{}, fmt.Errorf("--failover-promotion-rules: %w", err)
	}
	cfg := failover.Config{
		DBAUser: f.dba, DBAPassword: f.dbaPassword, ReplUser: f.repl, ReplPassword: f.replPassword,
		PollInterval: f.poll, BlockPeriod: f.block, LeaseTTL: f.leaseTTL, WaitReplicasTimeout: f.waitReplicas,
		NetTimeout: f.netTimeout, GracePeriod: f.grace, PromotionRules: rules,
		PreHooks: f.preHooks, PostHooks: f.postHooks, HookTimeout: f.hookTimeout,
		Keyspaces: splitList(f.keyspaces), Logger: log,
	}
	if cfg.ReplUser == "" {
		cfg.ReplUser, cfg.ReplPassword = f.dba, f.dbaPassword
	}
	return cfg, nil
}

// configs are the gateway's buffer and failover configurations (nil when off).
func (f *failoverFlags) configs(log *slog.Logger) (*buffer.Config, *failover.Config, error) {
	var bc *buffer.Config
	if f.enableBuffer {
		bc = &buffer.Config{Window: f.bufWindow, Size: f.bufSize, MaxFailoverDuration: f.bufMax}
	}
	if !f.enable {
		return bc, nil, nil
	}
	fc, err := f.failoverConfig(log)
	if err != nil {
		return nil, nil, err
	}
	return bc, &fc, nil
}

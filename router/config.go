package router

import (
	"errors"
	"log/slog"
	"time"

	"github.com/vtdirect/vtdirect/acl"
	"github.com/vtdirect/vtdirect/picker"
)

// Config configures the router.
type Config struct {
	// Cell is the gateway's own cell: replica and rdonly reads prefer it.
	Cell string
	// Cells are the cells (or cell aliases) replica and rdonly reads may fall back to.
	Cells []string
	// CellPreference orders the cells (picker.PreferLocalWithAlias by default).
	CellPreference picker.CellPreference
	// MaxLag is the replication lag beyond which a replica gets no reads (0: no bound).
	MaxLag time.Duration
	// IdleTimeout bounds how long a session that keeps a backend connection may stay idle
	// (--mysql-server-idle-timeout); the session's own wait_timeout applies too, whichever is
	// shorter, and alone to sessions that keep none, as in MariaDB. 0: wait_timeout only.
	IdleTimeout time.Duration
	// PickerMetrics counts picks that found no tablet; nil: not counted.
	PickerMetrics *picker.Metrics
	// Buffer holds PRIMARY statements while their shard is reparented (router/buffer.go);
	// nil: no buffering.
	Buffer PrimaryBuffer
	// VSchema gives the vschemas of the keyspaces: statements of a sharded keyspace (whose
	// target names no shard) are planned with it (sharded.go). Nil: no keyspace is sharded.
	VSchema VSchemaSource
	// TransactionMode is vtgate's --transaction-mode for sharded keyspaces: "multi" (the
	// default: a transaction may write to several shards, committed one after the other) or
	// "single" (a transaction that would write to a second shard is refused). Sessions change
	// theirs with SET transaction_mode.
	TransactionMode string
	// PlanCacheSize is how many plans of sharded keyspaces' statements are cached (default
	// 10,000).
	PlanCacheSize int
	// Access is the users' access rules (package acl); nil: acl.Open() (every keyspace, no
	// admin). SetPolicy replaces them while the gateway runs.
	Access *acl.Policy
	// Logger receives the router's log lines.
	Logger *slog.Logger
}

func (c *Config) validate() error {
	if c.Logger == nil {
		return errors.New("router: Config.Logger is required")
	}
	return nil
}

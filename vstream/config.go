package vstream

import (
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/vtdirect/vtdirect/backendconn"
)

// maxPacketSize is the largest packet size accepted: Vitess's client takes messages of up to
// 16 MiB.
const maxPacketSize = 16 << 20

// Config configures a Manager.
type Config struct {
	// User and Password are the MySQL credentials used on source tablets, both to read the
	// binlog as a replica (needs REPLICATION SLAVE) and to copy tables (SELECT).
	User, Password string
	// TLSMode and TLSConfig are the TLS of the connections to source tablets (the gateway's
	// --db-ssl-*).
	TLSMode   backendconn.TLSMode
	TLSConfig *tls.Config
	// Picker chooses source tablets and lists shards.
	Picker SourcePicker
	// ServerIDBase is the first replica server_id a binlog stream registers with; each stream
	// takes the next one, so it must not collide with the server_ids of the MySQL servers.
	ServerIDBase uint32
	// CopyChunkRows and CopyChunkBytes bound one copy chunk (one snapshot read).
	CopyChunkRows  int
	CopyChunkBytes int
	// MaxResponseBytes is the packet size (vttablet's --vstream-packet-size, 250000 by
	// default): a response holds at most this many bytes of events, unless one event alone is
	// larger. Small transactions are merged up to it; a larger transaction is sent in chunks
	// (chunk.go). MaxResponseEvents bounds the events of one response likewise.
	MaxResponseEvents int
	MaxResponseBytes  int
	// RetryBackoff is the wait before re-picking a source after a failure; MaxRetries bounds
	// consecutive failed attempts of one shard that made no progress.
	RetryBackoff time.Duration
	MaxRetries   int
	// SnapshotWait bounds how long a copy waits for a (lagging) source to reach the position
	// already streamed before the snapshot can be used.
	SnapshotWait time.Duration
	// BinlogHeartbeat is the MySQL binlog heartbeat period asked of the source: a stream
	// notices a silent, dead source after a few periods.
	BinlogHeartbeat time.Duration
	// HistoryWait bounds how long a stream without full row metadata waits for the schema
	// tracker to record a DDL it passed (or the first schema, for a new stream).
	HistoryWait time.Duration
	// PrivateBinlogDumps turns off the sharing of one binlog dump per MariaDB server by the
	// streams of its schemas (sharedbinlog.go): every stream then reads a dump of its own.
	PrivateBinlogDumps bool
	// SharedBinlogBuffer bounds the events queued for one stream of a shared dump, in bytes
	// of the binlog they keep in memory (4 MiB by default, at least 128 KiB: two of the
	// 64 KiB blocks events are read into; the events are shared, not copied): a stream that
	// falls that far behind the fastest one continues on a dump of its own.
	SharedBinlogBuffer int
	// DetachedDumpIdle bounds how long the dump of its own that a detached stream starts may
	// wait unread while the stream reads the rest of its queue (20 s by default): a longer
	// wait closes it, and it is started again when the stream gets to it. Keep it below the
	// source's net_write_timeout (60 s by default), after which the source drops the dump.
	DetachedDumpIdle time.Duration
	// HealthInterval is how often a stream asks a HealthChecker picker about its source.
	HealthInterval time.Duration
	Logger         *slog.Logger
	// Now is the clock (time.Now when nil).
	Now func() time.Time
}

func (c *Config) validate() error {
	if c.Picker == nil {
		return errors.New("vstream: Config.Picker is required")
	}
	if c.User == "" {
		return errors.New("vstream: Config.User is required")
	}
	if c.ServerIDBase == 0 {
		c.ServerIDBase = 1_900_000_000
	}
	if c.CopyChunkRows <= 0 {
		c.CopyChunkRows = 10000
	}
	if c.CopyChunkBytes <= 0 {
		c.CopyChunkBytes = 2 << 20
	}
	if c.MaxResponseEvents <= 0 {
		c.MaxResponseEvents = 4000
	}
	if c.MaxResponseBytes <= 0 {
		c.MaxResponseBytes = 250_000
	}
	if c.MaxResponseBytes > maxPacketSize {
		return fmt.Errorf("vstream: packet size %d is above %d bytes, the message limit of Vitess's client (grpc-go's default is 4 MiB): choose a smaller --vstream-packet-size", c.MaxResponseBytes, maxPacketSize)
	}
	if c.RetryBackoff <= 0 {
		c.RetryBackoff = 500 * time.Millisecond
	}
	if c.MaxRetries <= 0 {
		c.MaxRetries = 20
	}
	if c.SnapshotWait <= 0 {
		c.SnapshotWait = 30 * time.Second
	}
	if c.BinlogHeartbeat <= 0 {
		c.BinlogHeartbeat = time.Second
	}
	if c.HistoryWait <= 0 {
		c.HistoryWait = 30 * time.Second
	}
	if c.SharedBinlogBuffer <= 0 {
		c.SharedBinlogBuffer = 4 << 20
	}
	if c.DetachedDumpIdle <= 0 {
		c.DetachedDumpIdle = 20 * time.Second
	}
	if c.HealthInterval <= 0 {
		c.HealthInterval = time.Second
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return nil
}

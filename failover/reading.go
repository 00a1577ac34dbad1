package failover

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	topodatapb "vitess.io/vitess/go/vt/proto/topodata"
	vttimepb "vitess.io/vitess/go/vt/proto/vttime"
)

// Reading is what one poll learned of one tablet's MySQL, through the admin (dba) user. It is
// plain data, recorded and replayed by the analysis tests: nothing in it is a connection.
type Reading struct {
	Time time.Time `json:"time"`
	// Err says why the tablet could not be read; the other fields are then zero. A reading
	// that failed is an unreachable tablet (from this gateway).
	Err string `json:"error,omitempty"`

	ServerID uint32 `json:"server_id"`
	Version  string `json:"version"`
	ReadOnly bool   `json:"read_only"`
	// GTIDStrict is @@gtid_strict_mode; failover requires it on every tablet.
	GTIDStrict bool `json:"gtid_strict_mode"`
	// Executed is @@gtid_binlog_pos: every transaction in the server's binlog, its own and,
	// with log_slave_updates, the replicated ones.
	Executed Position `json:"executed"`
	// NetTimeout is @@slave_net_timeout in seconds.
	NetTimeout int `json:"slave_net_timeout"`

	SemiSync SemiSync `json:"semi_sync"`
	// Replica is the replication status; nil when the server has no replication configured.
	Replica *ReplicaStatus `json:"replica,omitempty"`
}

// Reachable reports whether the reading succeeded.
func (r *Reading) Reachable() bool { return r != nil && r.Err == "" && !r.Time.IsZero() }

// SemiSync is the server's semi-sync configuration and state.
type SemiSync struct {
	PrimaryEnabled bool `json:"primary_enabled"` // rpl_semi_sync_master_enabled
	ReplicaEnabled bool `json:"replica_enabled"` // rpl_semi_sync_slave_enabled
	// PrimaryActive is Rpl_semi_sync_master_status: the primary waits for acks now. Enabled
	// but not active means it fell back to asynchronous replication.
	PrimaryActive bool   `json:"primary_active"`
	Clients       int    `json:"clients"`         // Rpl_semi_sync_master_clients
	TimeoutMS     uint64 `json:"timeout_ms"`      // rpl_semi_sync_master_timeout
	WaitNoReplica bool   `json:"wait_no_replica"` // rpl_semi_sync_master_wait_no_slave
	WaitPoint     string `json:"wait_point"`      // rpl_semi_sync_master_wait_point
	ReplicaActive bool   `json:"replica_active"`  // Rpl_semi_sync_slave_status
}

// ReplicaStatus is the part of SHOW ALL SLAVES STATUS (default connection) the analysis uses.
type ReplicaStatus struct {
	SourceHost string `json:"source_host"`
	SourcePort int    `json:"source_port"`
	// SourceServerID is Master_Server_Id: the server_id of the source the IO thread last
	// connected to (0 before it ever did).
	SourceServerID uint32 `json:"source_server_id,omitempty"`
	// IOState is Slave_IO_Running: "Yes", "No" or "Connecting" (the source is gone, or the
	// IO thread reconnects).
	IOState      string   `json:"io_state"`
	SQLRunning   bool     `json:"sql_running"`
	LastIOErrno  int      `json:"last_io_errno,omitempty"`
	LastIOError  string   `json:"last_io_error,omitempty"`
	LastSQLErrno int      `json:"last_sql_errno,omitempty"`
	LastSQLError string   `json:"last_sql_error,omitempty"`
	UsingGTID    string   `json:"using_gtid"` // No, Slave_Pos, Current_Pos
	Received     Position `json:"received"`   // Gtid_IO_Pos: what the IO thread wrote to the relay log
	// Lag is Seconds_Behind_Master when LagKnown.
	Lag             time.Duration `json:"lag"`
	LagKnown        bool          `json:"lag_known"`
	HeartbeatPeriod float64       `json:"heartbeat_period"` // Slave_heartbeat_period, seconds
}

// IORunning: the IO thread is connected to its source.
func (s *ReplicaStatus) IORunning() bool { return s != nil && s.IOState == "Yes" }

// Replicating: both threads run.
func (s *ReplicaStatus) Replicating() bool { return s.IORunning() && s.SQLRunning }

// Source is "host:port" of the replica's source.
func (s *ReplicaStatus) Source() string {
	if s == nil {
		return ""
	}
	return s.SourceHost + ":" + strconv.Itoa(s.SourcePort)
}

// mysqlAddr is a tablet's MySQL address as replicas name their source: mysql_hostname (else
// hostname) and mysql_port (else the "mysql" port).
func mysqlAddr(t *topodatapb.Tablet) (string, int) {
	host, port := t.GetMysqlHostname(), int(t.GetMysqlPort())
	if host == "" {
		host = t.GetHostname()
	}
	if port == 0 {
		port = int(t.GetPortMap()["mysql"])
	}
	return host, port
}

// sameHost compares host names as MariaDB and the topo may spell the loopback.
func sameHost(a, b string) bool {
	norm := func(h string) string {
		h = strings.ToLower(strings.Trim(h, "[]"))
		if h == "localhost" || h == "::1" {
			return "127.0.0.1"
		}
		return h
	}
	return norm(a) == norm(b)
}

// replicatesFrom reports whether the status names t as its source: by address, or by the
// server id the IO thread found there (id, when known, is t's server id), so that a replica
// that reaches the primary by another name or path (a proxy, a DNS alias) counts.
func (s *ReplicaStatus) replicatesFrom(t *topodatapb.Tablet, id uint32) bool {
	if s == nil || t == nil {
		return false
	}
	host, port := mysqlAddr(t)
	if s.SourcePort == port && sameHost(s.SourceHost, host) {
		return true
	}
	return id != 0 && s.SourceServerID == id
}

// shortAlias is "zone1-100" (Vitess pads the uid to ten digits in keys; people do not).
func shortAlias(a *topodatapb.TabletAlias) string {
	if a == nil {
		return ""
	}
	return a.GetCell() + "-" + strconv.FormatUint(uint64(a.GetUid()), 10)
}

// parseAlias reads "zone1-100" or "zone1-0000000100".
func parseAlias(s string) (*topodatapb.TabletAlias, error) {
	i := strings.LastIndexByte(s, '-')
	if i <= 0 || i == len(s)-1 {
		return nil, fmt.Errorf("tablet alias %q: want <cell>-<uid>, e.g. zone1-100", s)
	}
	uid, err := strconv.ParseUint(s[i+1:], 10, 32)
	if err != nil {
		return nil, fmt.Errorf("tablet alias %q: the uid after the last '-' must be a number", s)
	}
	return &topodatapb.TabletAlias{Cell: s[:i], Uid: uint32(uid)}, nil
}

// termOf is a tablet's primary_term_start_time (zero when it has none).
func termOf(t *topodatapb.Tablet) time.Time { return protoTime(t.GetPrimaryTermStartTime()) }

// protoTime converts a Vitess time; nil is the zero time.
func protoTime(t *vttimepb.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return time.Unix(t.GetSeconds(), int64(t.GetNanoseconds()))
}

// vtTime converts to a Vitess time.
func vtTime(t time.Time) *vttimepb.Time {
	return &vttimepb.Time{Seconds: t.Unix(), Nanoseconds: int32(t.Nanosecond())}
}

// sameAlias compares two aliases.
func sameAlias(a, b *topodatapb.TabletAlias) bool {
	return a != nil && b != nil && a.GetCell() == b.GetCell() && a.GetUid() == b.GetUid()
}

package local

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Files a MariaDB instance keeps in its directory. Everything lives under MariaDBConfig.Dir so
// that removing the directory removes the instance.
const (
	myCnfName     = "my.cnf"
	dataDirName   = "data"
	errorLogName  = "error.log"
	stdoutLogName = "mariadbd.out"
	installLog    = "install.log"
	pidFileName   = "mariadbd.pid"
	socketName    = "mysql.sock"
	binlogBase    = "binlog"
	relayLogBase  = "relay-bin"
	tmpDirName    = "tmp"
	// initMarker is written after mariadb-install-db succeeded, so a half-initialised data dir
	// (install interrupted) is recognised and redone rather than started.
	initMarker = "initialised"
)

// maxSocketPath is a safe length for a unix socket path: sun_path holds 108 bytes on Linux,
// 104 on BSDs.
const maxSocketPath = 100

// SlaveNetTimeout is the replicas' slave_net_timeout in seconds, and twice their
// MASTER_HEARTBEAT_PERIOD: what failover (its --replica-net-timeout) expects.
const SlaveNetTimeout = 4

// socketPath returns where the instance in dir puts its unix socket: in dir when the path is
// short enough for sun_path, otherwise in the temp dir under a name derived from dir (test
// directories can be long).
func socketPath(dir string) string {
	p := filepath.Join(dir, socketName)
	if len(p) <= maxSocketPath {
		return p
	}
	sum := sha256.Sum256([]byte(dir))
	return filepath.Join(os.TempDir(), "vtdirect-"+hex.EncodeToString(sum[:8])+".sock")
}

// myCnf renders the option file of one instance. The settings are the ones a change stream and
// GTID replication need (log_bin, ROW, FULL image, unique server_id, log_slave_updates, strict
// GTIDs), plus small memory and log sizes so that several instances start in well under a
// second each on a small machine.
func myCnf(dir string, port int, serverID uint32) string {
	var b strings.Builder
	b.WriteString("# Written by vtdirect (local package) at every start; edits are overwritten.\n")
	b.WriteString("[mariadbd]\n")
	kv := func(k string, v any) { fmt.Fprintf(&b, "%s = %v\n", k, v) }
	kv("datadir", filepath.Join(dir, dataDirName))
	kv("bind_address", "127.0.0.1")
	kv("port", port)
	kv("socket", socketPath(dir))
	kv("pid_file", filepath.Join(dir, pidFileName))
	kv("log_error", filepath.Join(dir, errorLogName))
	// Its own temporary directory: nothing another process does in /tmp can remove the files
	// of its internal temporary tables.
	kv("tmpdir", filepath.Join(dir, tmpDirName))
	kv("report_host", "127.0.0.1")
	kv("report_port", port)
	kv("relay_log", filepath.Join(dir, relayLogBase))
	for _, o := range binlogOptions(dir, serverID) {
		kv(o[0], o[1])
	}
	// Failover: every server boots read-only (only the failover controller, or the launcher
	// when it creates a cluster, makes a primary writable), and a replica notices a silent
	// primary within slave_net_timeout (the heartbeat, set by CHANGE MASTER, is half of it).
	kv("read_only", "ON")
	kv("slave_net_timeout", SlaveNetTimeout)
	b.WriteString("skip_name_resolve\n")
	kv("character_set_server", "utf8mb4")
	kv("collation_server", "utf8mb4_general_ci")
	kv("innodb_buffer_pool_size", "64M")
	kv("innodb_log_file_size", "16M")
	kv("performance_schema", "OFF")
	kv("max_connections", 500)
	// The gateway accepts commands up to 64 MiB; the backend must too.
	kv("max_allowed_packet", "64M")
	return b.String()
}

// binlogOptions are the binlog and GTID settings of every server the launcher starts: what a
// change stream checks before it reads a server (package flavor, SourceProblems) and what
// lets it decode each row with the columns of its own binlog position (binlog_row_metadata=FULL
// puts column names, keys, charsets and ENUM/SET values in every TABLE_MAP event). A test
// overrides one with MariaDBConfig.ExtraArgs (e.g. "--binlog-row-metadata=MINIMAL").
func binlogOptions(dir string, serverID uint32) [][2]string {
	return [][2]string{
		{"server_id", fmt.Sprint(serverID)},
		{"log_bin", filepath.Join(dir, binlogBase)},
		{"binlog_format", "ROW"},
		{"binlog_row_image", "FULL"},
		{"binlog_row_metadata", "FULL"},
		{"log_slave_updates", "ON"},
		{"gtid_strict_mode", "ON"},
		{"gtid_domain_id", "0"},
	}
}

package main

// The floor under the VStream latency: the same inserts, read by a binlog dump client of the
// bench's own straight from MariaDB, with no gateway. It registers nothing and asks for no
// heartbeat: it sends the dump command and reads the event packets in the goroutine that
// timestamps them, parsing each with go-mysql's parser (as the gateway does). A row counts
// as arrived when its transaction's XID event (the COMMIT) has been read: the moment the
// gateway would send it. What is left between this and the gateway's figure is the gateway's
// work and its extra hop (gRPC on both sides); what this figure holds is MariaDB's commit
// and dump thread and this client's wake-up, which no gateway can take away.

import (
	"context"
	"database/sql"
	"encoding/binary"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/go-mysql-org/go-mysql/client"
	"github.com/go-mysql-org/go-mysql/mysql"
	"github.com/go-mysql-org/go-mysql/replication"
	gomysql "github.com/go-sql-driver/mysql"
)

// floorServerID is the replica server_id of the bench's dump (the gateway's are far from it).
const floorServerID = 4_000_001

// rawDumpSetup is where the floor's dump connects.
type rawDumpSetup struct {
	addr, user, password string
}

// floorLatencyOnce measures the latency of the same steady inserts as latencyOnce, read by a
// raw binlog dump instead of the gateway.
func floorLatencyOnce(ctx context.Context, db *sql.DB, s vstreamSetup, rate int, dur time.Duration) (latencyRun, error) {
	cc, err := client.ConnectWithContext(ctx, s.raw.addr, s.raw.user, s.raw.password, "", 10*time.Second)
	if err != nil {
		return latencyRun{}, fmt.Errorf("raw binlog dump: %w", err)
	}
	raw := cc.Conn.Conn
	defer raw.Close()
	if err := startRawDump(cc); err != nil {
		return latencyRun{}, fmt.Errorf("raw binlog dump: %w", err)
	}
	stop := context.AfterFunc(ctx, func() { _ = raw.Close() })
	defer stop()
	receive := func(n int, recvAt, _ []time.Time, warm func()) error {
		p := replication.NewBinlogParser()
		p.SetFlavor(mysql.MariaDBFlavor)
		p.SetVerifyChecksum(false)
		got, warmSeen := 0, false
		id := -1 // the row of the transaction being read
		for got < n {
			data, err := cc.ReadPacket()
			if err != nil {
				return fmt.Errorf("raw binlog dump, after %d of %d rows: %w", got, n, err)
			}
			if len(data) == 0 || data[0] != mysql.OK_HEADER {
				return fmt.Errorf("raw binlog dump, after %d of %d rows: unexpected packet %x", got, n, data[:min(len(data), 16)])
			}
			ev, err := p.Parse(data[1:])
			if err != nil {
				return fmt.Errorf("raw binlog dump: %w", err)
			}
			switch e := ev.Event.(type) {
			case *replication.RowsEvent:
				if string(e.Table.Table) == vstreamTable && len(e.Rows) > 0 && len(e.Rows[0]) > 0 {
					if v, ok := e.Rows[0][0].(int32); ok {
						id = int(v)
					}
				}
			case *replication.XIDEvent:
				now := time.Now()
				switch {
				case id == 0 && !warmSeen:
					warmSeen = true
					warm()
				case id >= 1 && id <= n && recvAt[id-1].IsZero():
					recvAt[id-1] = now
					got++
				}
				id = -1
			}
		}
		return nil
	}
	meter := newCPUMeter(map[string]int{"mariadb": s.mariadbPID, "client": os.Getpid()})
	csv := ""
	if s.latencyCSV != "" {
		csv = s.latencyCSV + ".floor"
	}
	return measureLatency(ctx, db, rate, dur, meter, latencyHooks{}, csv, receive)
}

// mariadbDurability sets globals (NAME=value) and says what MariaDB does at a commit: whether
// it syncs the binlog and InnoDB's log (an fsync on the insert's path, before its OK).
func mariadbDurability(ctx context.Context, raw rawDumpSetup, globals []string) (string, error) {
	if raw.addr == "" {
		return "", nil
	}
	c := gomysql.NewConfig()
	c.User, c.Passwd, c.Net, c.Addr = raw.user, raw.password, "tcp", raw.addr
	db, err := sql.Open("mysql", c.FormatDSN())
	if err != nil {
		return "", err
	}
	defer db.Close()
	for _, g := range globals {
		name, value, ok := strings.Cut(g, "=")
		if !ok || !isIdentifier(name) {
			return "", fmt.Errorf("--vstream-mariadb-globals: %q is not NAME=value", g)
		}
		if _, err := db.ExecContext(ctx, "SET GLOBAL "+name+" = ?", value); err != nil {
			return "", fmt.Errorf("--vstream-mariadb-globals: %w", err)
		}
	}
	var syncBinlog, flushLog string
	if err := db.QueryRowContext(ctx, "SELECT @@sync_binlog, @@innodb_flush_log_at_trx_commit").Scan(&syncBinlog, &flushLog); err != nil {
		return "", err
	}
	return "sync_binlog=" + syncBinlog + " innodb_flush_log_at_trx_commit=" + flushLog, nil
}

func isIdentifier(s string) bool {
	for _, r := range s {
		if r != '_' && (r < 'a' || r > 'z') && (r < 'A' || r > 'Z') && (r < '0' || r > '9') {
			return false
		}
	}
	return s != ""
}

// startRawDump asks MariaDB for its binlog from its current position, as a GTID-aware replica
// (https://mariadb.com/kb/en/com_binlog_dump/).
func startRawDump(cc *client.Conn) error {
	r, err := cc.Execute("SELECT @@gtid_binlog_pos")
	if err != nil {
		return err
	}
	pos, err := r.GetString(0, 0)
	if err != nil {
		return err
	}
	if _, err := cc.Execute("SET @master_binlog_checksum = 'NONE', @mariadb_slave_capability = 4, " +
		"@slave_connect_state = '" + pos + "', @slave_gtid_strict_mode = 1"); err != nil {
		return err
	}
	b := make([]byte, 4, 4+11)
	b = append(b, mysql.COM_BINLOG_DUMP)
	b = binary.LittleEndian.AppendUint32(b, 4)
	b = binary.LittleEndian.AppendUint16(b, 0) // block at the end of the binlog
	b = binary.LittleEndian.AppendUint32(b, floorServerID)
	cc.ResetSequence()
	return cc.WritePacket(b)
}

package failover

// What failover reads from and does to a tablet's MariaDB, through the admin (dba) user. Every
// statement is MariaDB's (https://mariadb.com/kb/en/gtid/, .../semisynchronous-replication/,
// .../show-replica-status/): this file is where a MySQL flavor would go.

import (
	"context"
	"crypto/tls"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/go-sql-driver/mysql"
	topodatapb "vitess.io/vitess/go/vt/proto/topodata"

	"github.com/vtdirect/vtdirect/backendconn"
)

// Agent acts on tablets' MySQL. The controller and the recoveries use it through this
// interface; tests of the recovery logic may give a fake.
type Agent interface {
	// Read takes a reading; a failure is a Reading with Err set, never an error.
	Read(ctx context.Context, t *topodatapb.Tablet) *Reading
	// Executed returns @@gtid_binlog_pos.
	Executed(ctx context.Context, t *topodatapb.Tablet) (Position, error)
	// StopIOThread stops the replica's IO thread (the SQL thread applies what it received).
	StopIOThread(ctx context.Context, t *topodatapb.Tablet) error
	// StartReplication starts both replication threads.
	StartReplication(ctx context.Context, t *topodatapb.Tablet) error
	// WaitApplied waits until the replica applied pos (MASTER_GTID_WAIT).
	WaitApplied(ctx context.Context, t *topodatapb.Tablet, pos Position) error
	// Promote makes t a primary: replication reset, semi-sync as a primary per acks,
	// writable.
	Promote(ctx context.Context, t *topodatapb.Tablet, semiSync bool) error
	// Demote fences t: its client connections killed (all but the admin user's and
	// replication's), read-only, its primary semi-sync off.
	Demote(ctx context.Context, t *topodatapb.Tablet) error
	// SetReadOnly sets read_only.
	SetReadOnly(ctx context.Context, t *topodatapb.Tablet, readOnly bool) error
	// Repoint makes t a read-only replica of source (MASTER_USE_GTID=current_pos), sending
	// semi-sync acks if ack, with the net timeout and heartbeat failover needs, and starts it.
	Repoint(ctx context.Context, t, source *topodatapb.Tablet, ack bool) error
	// ResetReplication stops replication and forgets its source (RESET SLAVE ALL).
	ResetReplication(ctx context.Context, t *topodatapb.Tablet) error
	// SetPrimarySemiSync configures the primary side of semi-sync (on: AFTER_SYNC, never
	// falling back).
	SetPrimarySemiSync(ctx context.Context, t *topodatapb.Tablet, on bool) error
	// SetReplicaSemiSync configures the replica side and reconnects the IO thread so that it
	// takes effect.
	SetReplicaSemiSync(ctx context.Context, t *topodatapb.Tablet, on bool) error
	// ConfigureHeartbeat sets slave_net_timeout and the heartbeat (half of it) and restarts
	// replication.
	ConfigureHeartbeat(ctx context.Context, t *topodatapb.Tablet) error
	// Close closes every connection.
	Close()
}

// mariaAgent is the Agent over go-sql-driver/mysql, one small pool per tablet address.
type mariaAgent struct {
	user, password         string
	replUser, replPassword string
	netTimeout             time.Duration
	connectTimeout         time.Duration
	tlsMode                backendconn.TLSMode
	tlsConfig              *tls.Config

	mu  sync.Mutex // guards dbs
	dbs map[string]*sql.DB
}

var _ Agent = (*mariaAgent)(nil)

// NewAgent returns the MariaDB Agent for cfg's users and timeouts.
func NewAgent(cfg Config) Agent {
	cfg.setDefaults()
	return &mariaAgent{
		user: cfg.DBAUser, password: cfg.DBAPassword,
		replUser: cfg.ReplUser, replPassword: cfg.ReplPassword,
		netTimeout:     cfg.NetTimeout,
		connectTimeout: cfg.ProbeTimeout,
		tlsMode:        cfg.TLSMode, tlsConfig: cfg.TLSConfig,
		dbs: map[string]*sql.DB{},
	}
}

func (m *mariaAgent) db(t *topodatapb.Tablet) *sql.DB {
	host, port := mysqlAddr(t)
	addr := net.JoinHostPort(host, strconv.Itoa(port))
	m.mu.Lock()
	defer m.mu.Unlock()
	if db, ok := m.dbs[addr]; ok {
		return db
	}
	c := mysql.NewConfig()
	c.User, c.Passwd, c.Net, c.Addr = m.user, m.password, "tcp", addr
	c.TLS, c.AllowFallbackToPlaintext = backendconn.DriverTLS(m.tlsMode, m.tlsConfig, addr)
	c.Timeout = m.connectTimeout
	c.InterpolateParams = true
	// A connector, not a DSN: a DSN cannot carry the TLS configuration.
	var db *sql.DB
	if conn, err := mysql.NewConnector(c); err == nil {
		db = sql.OpenDB(conn)
	} else {
		db = sql.OpenDB(failedConnector{err}) // none that this function makes
	}
	db.SetMaxOpenConns(4)
	db.SetMaxIdleConns(2)
	db.SetConnMaxIdleTime(time.Minute)
	m.dbs[addr] = db
	return db
}

// Close is part of Agent.
func (m *mariaAgent) Close() {
	m.mu.Lock()
	defer m.mu.Unlock()
	for addr, db := range m.dbs {
		db.Close()
		delete(m.dbs, addr)
	}
}

func (m *mariaAgent) exec(ctx context.Context, t *topodatapb.Tablet, stmts ...string) error {
	db := m.db(t)
	conn, err := db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("%s: connect: %w", shortAlias(t.GetAlias()), err)
	}
	defer conn.Close()
	for _, s := range stmts {
		if _, err := conn.ExecContext(ctx, s); err != nil {
			return fmt.Errorf("%s: %s: %w", shortAlias(t.GetAlias()), redact(s), err)
		}
	}
	return nil
}

// redact hides the password of a CHANGE MASTER in an error message.
func redact(s string) string {
	if i := strings.Index(s, "MASTER_PASSWORD="); i >= 0 {
		j := strings.Index(s[i:], ",")
		if j < 0 {
			j = len(s) - i
		}
		return s[:i] + "MASTER_PASSWORD=<redacted>" + s[i+j:]
	}
	return s
}

// Read is part of Agent.
func (m *mariaAgent) Read(ctx context.Context, t *topodatapb.Tablet) *Reading {
	r := &Reading{Time: time.Now()}
	if err := m.read(ctx, t, r); err != nil {
		*r = Reading{Time: r.Time, Err: err.Error()}
	}
	return r
}

func (m *mariaAgent) read(ctx context.Context, t *topodatapb.Tablet, r *Reading) error {
	db := m.db(t)
	var executed string
	var strict, ro, ppe, pse, wns int
	var waitPoint string
	var timeout uint64
	err := db.QueryRowContext(ctx, "SELECT @@server_id, @@version, @@global.read_only, @@global.gtid_strict_mode, "+
		"@@global.gtid_binlog_pos, @@global.slave_net_timeout, @@global.rpl_semi_sync_master_enabled, "+
		"@@global.rpl_semi_sync_slave_enabled, @@global.rpl_semi_sync_master_timeout, "+
		"@@global.rpl_semi_sync_master_wait_no_slave, @@global.rpl_semi_sync_master_wait_point").
		Scan(&r.ServerID, &r.Version, &ro, &strict, &executed, &r.NetTimeout, &ppe, &pse, &timeout, &wns, &waitPoint)
	if err != nil {
		return err
	}
	if !strings.Contains(strings.ToLower(r.Version), "mariadb") {
		return nil // the analysis reports the flavor
	}
	r.ReadOnly, r.GTIDStrict = ro != 0, strict != 0
	r.SemiSync = SemiSync{PrimaryEnabled: ppe != 0, ReplicaEnabled: pse != 0, TimeoutMS: timeout, WaitNoReplica: wns != 0, WaitPoint: waitPoint}
	if r.Executed, err = ParsePosition(executed); err != nil {
		return fmt.Errorf("gtid_binlog_pos: %w", err)
	}
	status, err := queryMap(ctx, db, "SHOW GLOBAL STATUS WHERE Variable_name IN ('Rpl_semi_sync_master_status', 'Rpl_semi_sync_master_clients', 'Rpl_semi_sync_slave_status')", "Variable_name", "Value")
	if err != nil {
		return err
	}
	r.SemiSync.PrimaryActive = strings.EqualFold(status["Rpl_semi_sync_master_status"], "ON")
	r.SemiSync.ReplicaActive = strings.EqualFold(status["Rpl_semi_sync_slave_status"], "ON")
	r.SemiSync.Clients, _ = strconv.Atoi(status["Rpl_semi_sync_master_clients"])
	row, ok, err := replicaRow(ctx, db)
	if err != nil || !ok {
		return err
	}
	r.Replica, err = parseReplicaRow(row)
	return err
}

// replicaRow returns the default connection's row of SHOW ALL SLAVES STATUS (which has the
// heartbeat period that SHOW SLAVE STATUS lacks).
func replicaRow(ctx context.Context, db *sql.DB) (map[string]string, bool, error) {
	rows, err := db.QueryContext(ctx, "SHOW ALL SLAVES STATUS")
	if err != nil {
		return nil, false, err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return nil, false, err
	}
	for rows.Next() {
		vals := make([]sql.NullString, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, false, err
		}
		row := map[string]string{}
		for i, c := range cols {
			if vals[i].Valid {
				row[c] = vals[i].String
			}
		}
		if row["Connection_name"] == "" {
			return row, true, rows.Err()
		}
	}
	return nil, false, rows.Err()
}

func parseReplicaRow(row map[string]string) (*ReplicaStatus, error) {
	st := &ReplicaStatus{
		SourceHost:   row["Master_Host"],
		IOState:      row["Slave_IO_Running"],
		SQLRunning:   row["Slave_SQL_Running"] == "Yes",
		LastIOError:  row["Last_IO_Error"],
		LastSQLError: row["Last_SQL_Error"],
		UsingGTID:    row["Using_Gtid"],
	}
	st.SourcePort, _ = strconv.Atoi(row["Master_Port"])
	if id, err := strconv.ParseUint(row["Master_Server_Id"], 10, 32); err == nil {
		st.SourceServerID = uint32(id)
	}
	st.LastIOErrno, _ = strconv.Atoi(row["Last_IO_Errno"])
	st.LastSQLErrno, _ = strconv.Atoi(row["Last_SQL_Errno"])
	st.HeartbeatPeriod, _ = strconv.ParseFloat(row["Slave_heartbeat_period"], 64)
	if v, ok := row["Seconds_Behind_Master"]; ok {
		if n, err := strconv.ParseInt(v, 10, 64); err == nil {
			st.Lag, st.LagKnown = time.Duration(n)*time.Second, true
		}
	}
	var err error
	if st.Received, err = ParsePosition(row["Gtid_IO_Pos"]); err != nil {
		return nil, fmt.Errorf("Gtid_IO_Pos: %w", err)
	}
	return st, nil
}

func queryMap(ctx context.Context, db *sql.DB, q, keyCol, valCol string) (map[string]string, error) {
	rows, err := db.QueryContext(ctx, q)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var k, v string
		if err := rows.Scan(&k, &v); err != nil {
			return nil, err
		}
		out[k] = v
	}
	return out, rows.Err()
}

// Executed is part of Agent.
func (m *mariaAgent) Executed(ctx context.Context, t *topodatapb.Tablet) (Position, error) {
	var s string
	if err := m.db(t).QueryRowContext(ctx, "SELECT @@global.gtid_binlog_pos").Scan(&s); err != nil {
		return Position{}, fmt.Errorf("%s: read gtid_binlog_pos: %w", shortAlias(t.GetAlias()), err)
	}
	return ParsePosition(s)
}

// StopIOThread is part of Agent.
func (m *mariaAgent) StopIOThread(ctx context.Context, t *topodatapb.Tablet) error {
	return m.exec(ctx, t, "STOP SLAVE IO_THREAD")
}

// StartReplication is part of Agent.
func (m *mariaAgent) StartReplication(ctx context.Context, t *topodatapb.Tablet) error {
	return m.exec(ctx, t, "START SLAVE")
}

// WaitApplied is part of Agent. It polls @@gtid_current_pos, which counts what the server
// wrote itself as well as what it replicated (MASTER_GTID_WAIT looks at gtid_slave_pos only, so
// it never returns on a former primary for its own transactions).
func (m *mariaAgent) WaitApplied(ctx context.Context, t *topodatapb.Tablet, pos Position) error {
	if pos.IsZero() {
		return nil
	}
	db := m.db(t)
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	var cur Position
	for {
		var s string
		err := db.QueryRowContext(ctx, "SELECT @@global.gtid_current_pos").Scan(&s)
		if err == nil {
			if cur, err = ParsePosition(s); err == nil && cur.AtLeast(pos) {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			if err != nil {
				return fmt.Errorf("%s: wait for %s: %w", shortAlias(t.GetAlias()), pos, err)
			}
			return fmt.Errorf("%s did not reach %s (at %s): %w", shortAlias(t.GetAlias()), pos, cur, ctx.Err())
		case <-tick.C:
		}
	}
}

// semiSyncPrimaryStmts configure the primary side: AFTER_SYNC (a transaction is acked before
// it is visible), a timeout so long and wait_no_slave so that it never falls back silently.
func semiSyncPrimaryStmts(on bool) []string {
	if !on {
		return []string{"SET GLOBAL rpl_semi_sync_master_enabled = OFF"}
	}
	return []string{
		"SET GLOBAL rpl_semi_sync_master_wait_point = 'AFTER_SYNC'",
		"SET GLOBAL rpl_semi_sync_master_wait_no_slave = ON",
		"SET GLOBAL rpl_semi_sync_master_timeout = " + strconv.FormatUint(SemiSyncTimeoutMS, 10),
		"SET GLOBAL rpl_semi_sync_master_enabled = ON",
	}
}

// Promote is part of Agent.
func (m *mariaAgent) Promote(ctx context.Context, t *topodatapb.Tablet, semiSync bool) error {
	stmts := append([]string{"STOP SLAVE", "RESET SLAVE ALL", "SET GLOBAL rpl_semi_sync_slave_enabled = OFF"}, semiSyncPrimaryStmts(semiSync)...)
	return m.exec(ctx, t, append(stmts, "SET GLOBAL read_only = OFF")...)
}

// Demote is part of Agent. read_only alone does not fence a primary: a user with READ_ONLY
// ADMIN still writes, and a transaction opened before keeps its connection. So the client
// connections (every one but the admin user's, the replication threads' and the server's
// own) are killed before read_only is set (a long statement would hold it up) and again
// after (one that connected in between), as Vitess stops the query service before
// super_read_only: what the caller reads next is the final position.
func (m *mariaAgent) Demote(ctx context.Context, t *topodatapb.Tablet) error {
	if err := m.killClients(ctx, t); err != nil {
		return err
	}
	if err := m.exec(ctx, t, "SET GLOBAL read_only = ON", "SET GLOBAL rpl_semi_sync_master_enabled = OFF"); err != nil {
		return err
	}
	return m.killClients(ctx, t)
}

// killClients kills the client connections of t running a statement or holding a transaction,
// but the admin user's: binlog dumps to the replicas, replication threads, the server's own
// threads and idle connections without a transaction are left alone.
func (m *mariaAgent) killClients(ctx context.Context, t *topodatapb.Tablet) error {
	conn, err := m.db(t).Conn(ctx)
	if err != nil {
		return fmt.Errorf("%s: connect: %w", shortAlias(t.GetAlias()), err)
	}
	defer conn.Close()
	rows, err := conn.QueryContext(ctx, "SELECT ID FROM information_schema.PROCESSLIST WHERE ID <> CONNECTION_ID() AND USER NOT IN (?, ?, 'system user', 'event_scheduler', 'unauthenticated user', '') "+
		"AND COMMAND NOT IN ('Binlog Dump', 'Daemon', 'Slave_IO', 'Slave_SQL', 'Slave_worker') "+
		// An idle connection without a transaction has nothing to write past the fence
		// (and a new statement meets read_only): left alone, the gateways' pools stay warm.
		"AND (COMMAND <> 'Sleep' OR ID IN (SELECT trx_mysql_thread_id FROM information_schema.INNODB_TRX))", m.user, m.replUser)
	if err != nil {
		return fmt.Errorf("%s: list client connections: %w", shortAlias(t.GetAlias()), err)
	}
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return err
		}
		ids = append(ids, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, id := range ids {
		if _, err := conn.ExecContext(ctx, "KILL CONNECTION "+strconv.FormatInt(id, 10)); err != nil && !isUnknownThread(err) {
			return fmt.Errorf("%s: kill connection %d: %w", shortAlias(t.GetAlias()), id, err)
		}
	}
	return nil
}

// isUnknownThread: ER_NO_SUCH_THREAD (1094), the connection ended by itself meanwhile.
func isUnknownThread(err error) bool {
	var me *mysql.MySQLError
	return errors.As(err, &me) && me.Number == 1094
}

// SetReadOnly is part of Agent.
func (m *mariaAgent) SetReadOnly(ctx context.Context, t *topodatapb.Tablet, readOnly bool) error {
	if readOnly {
		return m.exec(ctx, t, "SET GLOBAL read_only = ON")
	}
	return m.exec(ctx, t, "SET GLOBAL read_only = OFF")
}

// Repoint is part of Agent.
func (m *mariaAgent) Repoint(ctx context.Context, t, source *topodatapb.Tablet, ack bool) error {
	host, port := mysqlAddr(source)
	secs := int(m.netTimeout / time.Second)
	change := fmt.Sprintf("CHANGE MASTER TO MASTER_HOST=%s, MASTER_PORT=%d, MASTER_USER=%s, MASTER_PASSWORD=%s, "+
		"MASTER_CONNECT_RETRY=1, MASTER_HEARTBEAT_PERIOD=%g, MASTER_USE_GTID=current_pos",
		quote(host), port, quote(m.replUser), quote(m.replPassword), float64(secs)/2)
	return m.exec(ctx, t,
		"SET GLOBAL read_only = ON",
		"STOP SLAVE",
		"SET GLOBAL rpl_semi_sync_master_enabled = OFF",
		"SET GLOBAL rpl_semi_sync_slave_enabled = "+onOff(ack),
		"SET GLOBAL slave_net_timeout = "+strconv.Itoa(secs),
		change,
		"START SLAVE")
}

// ResetReplication is part of Agent.
func (m *mariaAgent) ResetReplication(ctx context.Context, t *topodatapb.Tablet) error {
	return m.exec(ctx, t, "STOP SLAVE", "RESET SLAVE ALL")
}

// SetPrimarySemiSync is part of Agent.
func (m *mariaAgent) SetPrimarySemiSync(ctx context.Context, t *topodatapb.Tablet, on bool) error {
	return m.exec(ctx, t, semiSyncPrimaryStmts(on)...)
}

// SetReplicaSemiSync is part of Agent: the IO thread reads the setting when it connects.
func (m *mariaAgent) SetReplicaSemiSync(ctx context.Context, t *topodatapb.Tablet, on bool) error {
	return m.exec(ctx, t, "SET GLOBAL rpl_semi_sync_slave_enabled = "+onOff(on), "STOP SLAVE IO_THREAD", "START SLAVE IO_THREAD")
}

// ConfigureHeartbeat is part of Agent.
func (m *mariaAgent) ConfigureHeartbeat(ctx context.Context, t *topodatapb.Tablet) error {
	secs := int(m.netTimeout / time.Second)
	return m.exec(ctx, t, "STOP SLAVE", "SET GLOBAL slave_net_timeout = "+strconv.Itoa(secs),
		fmt.Sprintf("CHANGE MASTER TO MASTER_HEARTBEAT_PERIOD=%g", float64(secs)/2), "START SLAVE")
}

func onOff(b bool) string {
	if b {
		return "ON"
	}
	return "OFF"
}

// quote is a MySQL string literal.
func quote(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}

// failedConnector fails every connection with the error the driver gave its configuration.
type failedConnector struct{ err error }

func (f failedConnector) Connect(context.Context) (driver.Conn, error) { return nil, f.err }
func (f failedConnector) Driver() driver.Driver                        { return mysql.MySQLDriver{} }

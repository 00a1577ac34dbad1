package local

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"time"
)

// defaultReplicationTimeout bounds SetupReplication's wait when ctx has no deadline.
const defaultReplicationTimeout = 30 * time.Second

// SetupReplication makes every replica follow primary with MariaDB GTIDs
// (MASTER_USE_GTID=slave_pos), sets the replicas read_only (and the primary writable: every
// server boots read-only), and waits until both replication threads run on every replica. It
// is idempotent: a replica already replicating from primary is left alone. Replicas connect
// with the primary's admin account (DBAUser).
func SetupReplication(ctx context.Context, primary *MariaDB, replicas ...*MariaDB) error {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, defaultReplicationTimeout)
		defer cancel()
	}
	if err := execRoot(ctx, primary, "SET GLOBAL read_only = OFF"); err != nil {
		return fmt.Errorf("setup replication: %w", err)
	}
	for _, r := range replicas {
		if err := ChangePrimary(ctx, r.DBADSN(""), "127.0.0.1", primary.Port(), primary.DBAUser(), primary.DBAPassword()); err != nil {
			return fmt.Errorf("setup replication on %s: %w", r.Addr(), err)
		}
	}
	for _, r := range replicas {
		if err := WaitReplicating(ctx, r.DBADSN("")); err != nil {
			return fmt.Errorf("setup replication on %s: %w", r.Addr(), err)
		}
	}
	return nil
}

// ChangePrimary points the server at dsn to replicate from host:port with GTIDs and makes it
// read_only, unless it already replicates from there with both threads running. It does not
// wait for replication to run (see WaitReplicating). The DSN's user needs READ_ONLY ADMIN and
// REPLICATION SLAVE ADMIN (the admin user has them; the serving user lacks the first).
func ChangePrimary(ctx context.Context, dsn, host string, port int, user, password string) error {
	db, err := sql.Open("mysql", dsn)
	if err != nil {
		return err
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, "SET GLOBAL read_only = ON"); err != nil {
		return err
	}
	st, ok, err := QueryReplicaStatus(ctx, db)
	if err != nil {
		return err
	}
	if ok && st.MasterHost == host && st.MasterPort == port && st.Running() {
		return nil
	}
	stmts := []string{
		"STOP SLAVE",
		fmt.Sprintf("CHANGE MASTER TO MASTER_HOST=%s, MASTER_PORT=%d, MASTER_USER=%s, MASTER_PASSWORD=%s, "+
			// Reconnect quickly after the primary restarts: failure tests restart primaries.
			// The heartbeat is half of slave_net_timeout (my.cnf): a silent primary shows
			// within seconds.
			"MASTER_CONNECT_RETRY=1, MASTER_HEARTBEAT_PERIOD=%g, MASTER_USE_GTID=slave_pos",
			quoteString(host), port, quoteString(user), quoteString(password), float64(SlaveNetTimeout)/2),
		"START SLAVE",
	}
	for _, s := range stmts {
		if _, err := db.ExecContext(ctx, s); err != nil {
			return fmt.Errorf("%s: %w", s, err)
		}
	}
	return nil
}

// ReplicaStatus is the part of SHOW SLAVE STATUS that the launcher and `vtdirect local status`
// show (MariaDB column names).
type ReplicaStatus struct {
	MasterHost          string
	MasterPort          int
	IORunning           string // Slave_IO_Running: Yes, No, Connecting
	SQLRunning          string // Slave_SQL_Running: Yes, No
	SecondsBehindMaster sql.NullInt64
	GtidIOPos           string
	LastIOError         string
	LastSQLError        string
}

// Running reports whether both replication threads run.
func (s ReplicaStatus) Running() bool { return s.IORunning == "Yes" && s.SQLRunning == "Yes" }

// String is a one-line summary for status output.
func (s ReplicaStatus) String() string {
	lag := "?"
	if s.SecondsBehindMaster.Valid {
		lag = strconv.FormatInt(s.SecondsBehindMaster.Int64, 10) + "s"
	}
	out := fmt.Sprintf("from %s:%d io=%s sql=%s lag=%s gtid=%s", s.MasterHost, s.MasterPort, s.IORunning, s.SQLRunning, lag, s.GtidIOPos)
	if s.LastIOError != "" {
		out += " io_error=" + strconv.Quote(s.LastIOError)
	}
	if s.LastSQLError != "" {
		out += " sql_error=" + strconv.Quote(s.LastSQLError)
	}
	return out
}

// QueryReplicaStatus runs SHOW SLAVE STATUS; ok is false when the server is not a replica.
func QueryReplicaStatus(ctx context.Context, db *sql.DB) (st ReplicaStatus, ok bool, err error) {
	rows, err := db.QueryContext(ctx, "SHOW SLAVE STATUS")
	if err != nil {
		return st, false, fmt.Errorf("show slave status: %w", err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return st, false, fmt.Errorf("show slave status: %w", err)
	}
	if !rows.Next() {
		return st, false, rows.Err()
	}
	vals := make([]sql.NullString, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	if err := rows.Scan(ptrs...); err != nil {
		return st, false, fmt.Errorf("show slave status: %w", err)
	}
	for i, c := range cols {
		v := vals[i]
		switch c {
		case "Master_Host":
			st.MasterHost = v.String
		case "Master_Port":
			st.MasterPort, _ = strconv.Atoi(v.String)
		case "Slave_IO_Running":
			st.IORunning = v.String
		case "Slave_SQL_Running":
			st.SQLRunning = v.String
		case "Seconds_Behind_Master":
			if v.Valid {
				n, err := strconv.ParseInt(v.String, 10, 64)
				st.SecondsBehindMaster = sql.NullInt64{Int64: n, Valid: err == nil}
			}
		case "Gtid_IO_Pos":
			st.GtidIOPos = v.String
		case "Last_IO_Error":
			st.LastIOError = v.String
		case "Last_SQL_Error":
			st.LastSQLError = v.String
		}
	}
	return st, true, rows.Err()
}

// WaitReplicating polls the server at dsn until both replication threads run, or ctx ends. A
// replication error (SQL thread stopped with an error) fails at once: it does not heal itself.
func WaitReplicating(ctx context.Context, dsn string) error {
	db, err := sql.Open("mysql", dsn)
	if err != nil {
		return err
	}
	defer db.Close()
	t := time.NewTicker(pollInterval)
	defer t.Stop()
	var last ReplicaStatus
	for {
		st, ok, err := QueryReplicaStatus(ctx, db)
		switch {
		case err != nil && ctx.Err() == nil:
			// The server may be restarting: keep polling until the deadline.
		case err != nil:
		case !ok:
			return errors.New("not a replica (SHOW SLAVE STATUS is empty)")
		case st.Running():
			return nil
		case st.SQLRunning == "No" && st.LastSQLError != "":
			return fmt.Errorf("replication SQL thread stopped: %s", st.LastSQLError)
		}
		last = st
		select {
		case <-ctx.Done():
			return fmt.Errorf("replication not running (%s): %w", last, ctx.Err())
		case <-t.C:
		}
	}
}

// execRoot runs statements as root over the unix socket.
func execRoot(ctx context.Context, m *MariaDB, stmts ...string) error {
	db, err := m.RootDB(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	for _, s := range stmts {
		if _, err := db.ExecContext(ctx, s); err != nil {
			return fmt.Errorf("%s on %s: %w", s, m.Addr(), err)
		}
	}
	return nil
}

// WaitCaughtUp waits until replica has applied every transaction that primary had written when
// it was called (MariaDB's MASTER_GTID_WAIT on the primary's @@gtid_binlog_pos).
func WaitCaughtUp(ctx context.Context, primary, replica *MariaDB) error {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, defaultReplicationTimeout)
		defer cancel()
	}
	pdb, err := primary.RootDB(ctx)
	if err != nil {
		return err
	}
	defer pdb.Close()
	var pos string
	if err := pdb.QueryRowContext(ctx, "SELECT @@GLOBAL.gtid_binlog_pos").Scan(&pos); err != nil {
		return fmt.Errorf("read gtid_binlog_pos of %s: %w", primary.Addr(), err)
	}
	if pos == "" {
		return nil
	}
	rdb, err := replica.RootDB(ctx)
	if err != nil {
		return err
	}
	defer rdb.Close()
	deadline, _ := ctx.Deadline()
	timeout := time.Until(deadline).Seconds()
	var res int
	if err := rdb.QueryRowContext(ctx, "SELECT MASTER_GTID_WAIT(?, ?)", pos, timeout).Scan(&res); err != nil {
		return fmt.Errorf("wait for %s on %s: %w", pos, replica.Addr(), err)
	}
	if res != 0 {
		return fmt.Errorf("replica %s did not reach %s in time", replica.Addr(), pos)
	}
	return nil
}

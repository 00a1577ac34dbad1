package tabletserver

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/binary"
	"errors"
	"io"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-mysql-org/go-mysql/mysql"
	topodatapb "vitess.io/vitess/go/vt/proto/topodata"
)

func TestIntegrationForwardingIsVerbatim(t *testing.T) {
	m := sharedMariaDB(t)
	ts := startServer(t, m, Config{}, topodatapb.TabletType_PRIMARY, nil)
	ctx := context.Background()
	tests := []struct {
		name    string
		query   string
		rows    uint64
		errCode uint16
	}{
		{"many rows, many types", "SELECT id, v, d, ts, b, f, NULL AS n FROM t ORDER BY id", 2000, 0},
		{"error", "SELECT * FROM no_such_table", 0, 1146},
		{"two results", "CALL two_results()", 2, 0},
		{"ok", "UPDATE t SET v = v WHERE id = 1", 0, 0},
		{"empty result", "SELECT * FROM t WHERE id < 0", 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := rawReply(t, ts, queryFrame(tt.query))
			c, err := ts.Get(ctx, Want{})
			if err != nil {
				t.Fatal(err)
			}
			defer c.Release(0)
			var w bytes.Buffer
			res, err := c.Exec(ctx, &Request{Frame: queryFrame(tt.query)}, &w)
			if err != nil {
				t.Fatalf("Exec: %v", err)
			}
			if !bytes.Equal(w.Bytes(), want) {
				t.Fatalf("forwarded %d bytes differ from the %d the server sends directly", w.Len(), len(want))
			}
			if res.Rows != tt.rows {
				t.Errorf("Rows = %d, want %d", res.Rows, tt.rows)
			}
			if tt.errCode != 0 {
				if res.Err == nil || res.Err.Code != tt.errCode {
					t.Errorf("Result.Err = %v, want code %d", res.Err, tt.errCode)
				}
			} else if res.Err != nil || res.Status&mysql.SERVER_STATUS_AUTOCOMMIT == 0 {
				t.Errorf("Result = %+v", res)
			}
		})
	}
}

func TestIntegrationPreparedStatements(t *testing.T) {
	m := sharedMariaDB(t)
	ts := startServer(t, m, Config{}, topodatapb.TabletType_PRIMARY, nil)
	ctx := context.Background()
	c1, err := ts.Get(ctx, Want{})
	if err != nil {
		t.Fatal(err)
	}
	c2, err := ts.Get(ctx, Want{})
	if err != nil {
		t.Fatal(err)
	}
	defer c1.Release(0)
	defer c2.Release(0)

	const q = "SELECT id, v FROM t WHERE id = ? OR id = ?"
	var w bytes.Buffer
	params, cols, res, err := c1.Prepare(ctx, q, 77, &w)
	if err != nil || res.Err != nil {
		t.Fatalf("Prepare: %v %v", err, res.Err)
	}
	if params != 2 || cols != 2 {
		t.Fatalf("params, cols = %d, %d; want 2, 2", params, cols)
	}
	if id := binary.LittleEndian.Uint32(w.Bytes()[5:9]); id != 77 {
		t.Fatalf("client saw statement id %d, want 77", id)
	}
	// c1 executes what it prepared; c2 has to prepare it silently first.
	for i, c := range []*Conn{c1, c2} {
		w.Reset()
		res, err := c.ExecStmt(ctx, q, execPayload(5, 1999), nil, &Request{}, &w)
		if err != nil || res.Err != nil {
			t.Fatalf("conn %d ExecStmt: %v %v", i, err, res.Err)
		}
		if res.Rows != 2 || !bytes.Contains(w.Bytes(), []byte("value-1999")) {
			t.Errorf("conn %d: %d rows, reply % x", i, res.Rows, w.Bytes())
		}
	}
	// A statement the server refuses to prepare: nothing forwarded, the backend's error.
	_, err = c2.ExecStmt(ctx, "SELECT * FROM no_such_table WHERE id = ?", execPayload(1), nil, &Request{}, io.Discard)
	var me *mysql.MyError
	if !errors.As(err, &me) || me.Code != 1146 {
		t.Fatalf("ExecStmt of a bad statement: %v, want 1146", err)
	}
}

func TestIntegrationSettings(t *testing.T) {
	m := sharedMariaDB(t)
	ts := startServer(t, m, Config{PoolSize: 1}, topodatapb.TabletType_PRIMARY, nil)
	ctx := context.Background()
	query := func(s *Settings, q string) string {
		t.Helper()
		c, err := ts.Get(ctx, Want{Settings: s})
		if err != nil {
			t.Fatalf("Get: %v", err)
		}
		defer c.Release(0)
		var w bytes.Buffer
		if res, err := c.Exec(ctx, &Request{Frame: queryFrame(q)}, &w); err != nil || res.Err != nil {
			t.Fatalf("%s: %v %v", q, err, res.Err)
		}
		return textValues(t, w.Bytes())[0][0]
	}
	ansi := &Settings{Key: "ansi", Statements: []string{"SET SESSION sql_mode = 'ANSI'", "SET @x = 42"}}
	def := query(nil, "SELECT @@session.sql_mode")
	if got := query(ansi, "SELECT CONCAT(@@session.sql_mode, '/', @x)"); got != "REAL_AS_FLOAT,PIPES_AS_CONCAT,ANSI_QUOTES,IGNORE_SPACE,ANSI/42" {
		t.Errorf("with settings: %q", got)
	}
	// The same (only) connection, back to the defaults through COM_RESET_CONNECTION.
	if got := query(nil, "SELECT @@session.sql_mode"); got != def {
		t.Errorf("after reset: sql_mode %q, want %q", got, def)
	}
	if got := query(nil, "SELECT CONCAT(@@collation_connection, '/', @@character_set_results, '/', DATABASE(), '/', IFNULL(@x, 'null'))"); got != "utf8mb4_general_ci/utf8mb4/vt_test/null" {
		t.Errorf("after reset: %q", got)
	}
	st := ts.Stats()
	if st.Resets != 1 || st.Dials != 1 {
		t.Errorf("Resets = %d, Dials = %d; want 1, 1", st.Resets, st.Dials)
	}
	// A SET the server refuses reaches the caller as the server's error.
	_, err := ts.Get(ctx, Want{Settings: &Settings{Key: "bad", Statements: []string{"SET SESSION no_such_variable = 1"}}})
	var me *mysql.MyError
	if !errors.As(err, &me) || me.Code != 1193 {
		t.Fatalf("bad SET: %v, want 1193", err)
	}
	if got := query(nil, "SELECT 'still fine'"); got != "still fine" {
		t.Errorf("after a failed SET: %q", got)
	}
}

func TestIntegrationPoolExhausted(t *testing.T) {
	m := sharedMariaDB(t)
	ts := startServer(t, m, Config{PoolSize: 1, PoolWaitTimeout: 200 * time.Millisecond}, topodatapb.TabletType_PRIMARY, nil)
	ctx := context.Background()
	c, err := ts.Get(ctx, Want{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = ts.Get(ctx, Want{})
	var me *mysql.MyError
	if !errors.As(err, &me) || me.Code != mysql.ER_TOO_MANY_USER_CONNECTIONS || !strings.Contains(me.Message, flagPoolSize) {
		t.Fatalf("second Get: %v, want 1203 naming %s", err, flagPoolSize)
	}
	c.Release(0)
	c2, err := ts.Get(ctx, Want{})
	if err != nil {
		t.Fatalf("Get after Recycle: %v", err)
	}
	if c2 != c {
		t.Error("the recycled connection was not reused")
	}
	c2.Release(0)
	st := ts.Stats().Data
	if st.WaitTimeouts != 1 || st.Gets != 2 || st.InUse != 0 || st.Idle != 1 {
		t.Errorf("stats %+v", st)
	}
}

func TestIntegrationIdleTimeout(t *testing.T) {
	m := sharedMariaDB(t)
	ts := startServer(t, m, Config{IdleTimeout: 300 * time.Millisecond}, topodatapb.TabletType_PRIMARY, nil)
	db := openDB(t, m)
	ctx := context.Background()
	c, err := ts.Get(ctx, Want{})
	if err != nil {
		t.Fatal(err)
	}
	id := c.ThreadID()
	c.Release(0)
	waitFor(t, "the idle connection to be closed", 10*time.Second, func() bool {
		return ts.Stats().Data.IdleClosed == 1 && !threadExists(t, db, id)
	})
}

func threadExists(t testing.TB, db *sql.DB, id uint32) bool {
	t.Helper()
	var n int
	if err := db.QueryRow("SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE ID = ?", id).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n > 0
}

// running reports whether a statement starting with prefix runs on the server.
func running(t testing.TB, db *sql.DB, prefix string) bool {
	t.Helper()
	var n int
	if err := db.QueryRow("SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE INFO LIKE CONCAT(?, '%') AND ID <> CONNECTION_ID()", prefix).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n > 0
}

func TestIntegrationQueryTimeoutKills(t *testing.T) {
	m := sharedMariaDB(t)
	ts := startServer(t, m, Config{QueryTimeout: time.Second}, topodatapb.TabletType_PRIMARY, nil)
	db := openDB(t, m)
	ctx := context.Background()
	c, err := ts.Get(ctx, Want{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Release(0)
	var w bytes.Buffer
	res, err := c.Exec(ctx, &Request{Frame: queryFrame("SELECT SLEEP(10) AS timeout_test")}, &w)
	var me *mysql.MyError
	if !errors.As(err, &me) || me.Code != mysql.ER_QUERY_INTERRUPTED || me.State != "70100" || !strings.Contains(me.Message, flagQueryTimeout) {
		t.Fatalf("Exec: %v, want 1317 naming %s", err, flagQueryTimeout)
	}
	if res.Forwarded || w.Len() != 0 || res.NextSeq != 1 {
		t.Errorf("Result %+v with %d bytes forwarded: want nothing forwarded", res, w.Len())
	}
	// The server may answer before it clears the thread's query: poll.
	waitFor(t, "the killed query to leave the processlist", 10*time.Second, func() bool {
		return !running(t, db, "SELECT SLEEP(10) AS timeout_test")
	})
	// The connection survived the kill and serves the next query, which is not killed.
	w.Reset()
	if res, err := c.Exec(ctx, &Request{Frame: queryFrame("SELECT SLEEP(0.1), 'next'")}, &w); err != nil || res.Err != nil {
		t.Fatalf("next query: %v %v", err, res.Err)
	}
	if st := ts.Stats(); st.QueryTimeouts != 1 || st.Kills != 1 {
		t.Errorf("stats: %d timeouts, %d kills", st.QueryTimeouts, st.Kills)
	}

	// A context deadline sooner than the query timeout acts as one.
	dctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancel()
	if _, err := c.Exec(dctx, &Request{Frame: queryFrame("SELECT SLEEP(10)")}, io.Discard); !errors.As(err, &me) || me.Code != mysql.ER_QUERY_INTERRUPTED {
		t.Fatalf("Exec with a deadline: %v", err)
	}
}

func TestIntegrationKillQuery(t *testing.T) {
	m := sharedMariaDB(t)
	ts := startServer(t, m, Config{}, topodatapb.TabletType_PRIMARY, nil)
	db := openDB(t, m)
	ctx := context.Background()
	c, err := ts.Get(ctx, Want{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Release(0)
	done := make(chan error, 1) // the Exec's outcome; buffered so the goroutine never blocks
	go func() {
		_, err := c.Exec(ctx, &Request{Frame: queryFrame("SELECT SLEEP(30) AS kill_test")}, io.Discard)
		done <- err
	}()
	waitFor(t, "the query to run", 10*time.Second, func() bool { return running(t, db, "SELECT SLEEP(30) AS kill_test") })
	if err := ts.KillQuery(ctx, c.ThreadID()); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Exec: %v (a killed SLEEP returns 1, forwarded)", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("Exec did not return after KILL QUERY")
	}
	waitFor(t, "the killed query to leave the processlist", 10*time.Second, func() bool {
		return !running(t, db, "SELECT SLEEP(30) AS kill_test")
	})
}

func TestIntegrationMaxResultRows(t *testing.T) {
	m := sharedMariaDB(t)
	ts := startServer(t, m, Config{MaxResultRows: 100}, topodatapb.TabletType_PRIMARY, nil)
	ctx := context.Background()
	c, err := ts.Get(ctx, Want{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Release(0)
	var w bytes.Buffer
	res, err := c.Exec(ctx, &Request{Frame: queryFrame("SELECT seq FROM seq_1_to_1000000")}, &w)
	var me *mysql.MyError
	if !errors.As(err, &me) || me.Code != mysql.ER_TOO_BIG_SELECT {
		t.Fatalf("Exec: %v, want 1104", err)
	}
	// Column count, definition, EOF, then 100 rows: the error goes at sequence 104.
	if !res.Forwarded || res.NextSeq != 104 {
		t.Errorf("Result %+v", res)
	}
	w.Reset()
	if res, err := c.Exec(ctx, &Request{Frame: queryFrame("SELECT seq FROM seq_1_to_100")}, &w); err != nil || res.Rows != 100 {
		t.Fatalf("100 rows: %+v %v", res, err)
	}
}

func TestIntegrationTxTimeoutRollsBack(t *testing.T) {
	m := sharedMariaDB(t)
	ts := startServer(t, m, Config{TxTimeout: time.Second}, topodatapb.TabletType_PRIMARY, nil)
	db := openDB(t, m)
	ctx := context.Background()
	c, err := ts.Get(ctx, Want{Hold: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{"BEGIN", "INSERT INTO tx VALUES (1)"} {
		res, err := c.Exec(ctx, &Request{Frame: queryFrame(q)}, io.Discard)
		if err != nil || res.Err != nil {
			t.Fatalf("%s: %v %v", q, err, res.Err)
		}
		if res.Status&mysql.SERVER_STATUS_IN_TRANS == 0 {
			t.Fatalf("%s: not in a transaction (status %#x)", q, res.Status)
		}
	}
	waitFor(t, "the transaction killer", 10*time.Second, func() bool { return c.Killed() != nil })
	var me *mysql.MyError
	if !errors.As(c.Killed(), &me) || !strings.Contains(me.Message, "rolled back after timeout") {
		t.Fatalf("Killed() = %v", c.Killed())
	}
	if _, err := c.Exec(ctx, &Request{Frame: queryFrame("COMMIT")}, io.Discard); !errors.As(err, &me) || me.Code != mysql.ER_QUERY_INTERRUPTED {
		t.Fatalf("COMMIT after the kill: %v", err)
	}
	c.Release(0) // harmless
	var n int
	if err := db.QueryRow("SELECT COUNT(*) FROM " + testDB + ".tx").Scan(&n); err != nil || n != 0 {
		t.Fatalf("rows in tx: %d, %v; want 0", n, err)
	}
	if st := ts.Stats().Reserved; st.Killed != 1 || st.InUse != 0 {
		t.Errorf("reserved stats %+v", st)
	}
	// The slot came back: a new reservation works.
	c, err = ts.Get(ctx, Want{Hold: true})
	if err != nil {
		t.Fatal(err)
	}
	c.Release(0)
}

// TestIntegrationTxTimeoutMidStatement: a statement running when the transaction killer ends
// its connection may have been the COMMIT the server applied: it gets 2013 (outcome
// unknown), not the "rolled back" of a transaction killed between statements.
func TestIntegrationTxTimeoutMidStatement(t *testing.T) {
	m := sharedMariaDB(t)
	ts := startServer(t, m, Config{TxTimeout: time.Second}, topodatapb.TabletType_PRIMARY, nil)
	ctx := context.Background()
	c, err := ts.Get(ctx, Want{Hold: true})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Release(0)
	if res, err := c.Exec(ctx, &Request{Frame: queryFrame("BEGIN")}, io.Discard); err != nil || res.Err != nil {
		t.Fatalf("BEGIN: %v %v", err, res.Err)
	}
	_, err = c.Exec(ctx, &Request{Frame: queryFrame("SELECT SLEEP(30)")}, io.Discard)
	var me *mysql.MyError
	if !errors.As(err, &me) || me.Code != crServerLost || !strings.Contains(me.Message, "may have been applied") {
		t.Fatalf("a statement cut off by the transaction killer: %v, want 2013 saying its outcome is unknown", err)
	}
}

func TestIntegrationLargeResultBoundedMemory(t *testing.T) {
	m := sharedMariaDB(t)
	ts := startServer(t, m, Config{}, topodatapb.TabletType_PRIMARY, nil)
	ctx := context.Background()
	c, err := ts.Get(ctx, Want{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Release(0)
	cw := &byteCounter{}
	res, err := c.Exec(ctx, &Request{Frame: queryFrame("SELECT seq, CONCAT('row-', seq) FROM seq_1_to_1000000")}, cw)
	if err != nil || res.Err != nil {
		t.Fatalf("Exec: %v %v", err, res.Err)
	}
	if res.Rows != 1_000_000 {
		t.Errorf("Rows = %d", res.Rows)
	}
	if c.bufHigh > defaultBufSize {
		t.Errorf("read buffer grew to %d bytes", c.bufHigh)
	}
	if cw.max > defaultBufSize {
		t.Errorf("a write of %d bytes: more than the buffer", cw.max)
	}
	if cw.n < 20_000_000 {
		t.Errorf("forwarded only %d bytes", cw.n)
	}
}

type byteCounter struct{ n, max int }

func (b *byteCounter) Write(p []byte) (int, error) {
	b.n += len(p)
	b.max = max(b.max, len(p))
	return len(p), nil
}

func TestIntegrationHealth(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	primary := startMariaDB(t, ctx, 100)
	replica := startMariaDB(t, ctx, 101)
	if err := setupReplication(ctx, primary, replica); err != nil {
		t.Fatal(err)
	}
	cfg := Config{HealthInterval: 100 * time.Millisecond}
	var pChanges, rChanges atomic.Int32
	// A tablet serves only once its database exists (it replicates to the replica).
	if err := execAll(ctx, primary, "", "CREATE DATABASE "+testDB); err != nil {
		t.Fatal(err)
	}
	pts := startServer(t, primary, cfg, topodatapb.TabletType_PRIMARY, func() { pChanges.Add(1) })
	rts := startServer(t, replica, cfg, topodatapb.TabletType_REPLICA, func() { rChanges.Add(1) })

	waitFor(t, "both tablets serving", 10*time.Second, func() bool {
		return pts.Health().Serving && rts.Health().Serving
	})
	if h := rts.Health(); !h.Reachable || !h.ReadOnly || !h.ReplicationRunning || h.Err != nil {
		t.Errorf("replica health %+v", h)
	}
	if h := pts.Health(); h.ReadOnly || h.Err != nil || h.LastProbe.IsZero() {
		t.Errorf("primary health %+v", h)
	}

	// Replication stopped: the replica is reachable but not serving.
	before := rChanges.Load()
	if err := execAll(ctx, replica, "", "STOP SLAVE"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the replica to stop serving", 10*time.Second, func() bool {
		h := rts.Health()
		return h.Reachable && !h.Serving && !h.ReplicationRunning && h.Err != nil
	})
	if rChanges.Load() == before {
		t.Error("onHealth was not called")
	}

	// The primary dies: unreachable.
	primary.Kill()
	waitFor(t, "the dead primary to be unreachable", 20*time.Second, func() bool {
		h := pts.Health()
		return !h.Reachable && !h.Serving && h.Err != nil
	})
	_, err := pts.Get(ctx, Want{})
	if err == nil {
		t.Fatal("Get on a dead server succeeded")
	}
}

// A KILL QUERY that reaches the server after the query it was meant for ended (the timeout
// fired as the reply came) must not interrupt the connection's next query.
func TestIntegrationKillQueryOnIdleConnection(t *testing.T) {
	m := sharedMariaDB(t)
	ts := startServer(t, m, Config{}, topodatapb.TabletType_PRIMARY, nil)
	ctx := context.Background()
	c, err := ts.Get(ctx, Want{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Release(0)
	if err := ts.KillQuery(ctx, c.ThreadID()); err != nil {
		t.Fatal(err)
	}
	var w bytes.Buffer
	res, err := c.Exec(ctx, &Request{Frame: queryFrame("SELECT SLEEP(0.2) AS s, 'after' AS a")}, &w)
	if err != nil || res.Err != nil {
		t.Fatalf("next query: %v %v", err, res.Err)
	}
	if got := textValues(t, w.Bytes()); got[0][0] != "0" || got[0][1] != "after" {
		t.Fatalf("next query was interrupted: %v", got)
	}
}

// Rows and commands of 16 MiB and more travel in several packets (continuations).
func TestIntegrationHugePackets(t *testing.T) {
	m := sharedMariaDB(t)
	ts := startServer(t, m, Config{}, topodatapb.TabletType_PRIMARY, nil)
	ctx := context.Background()
	const big = 1<<24 + 1000 // one row of two packets
	q := "SELECT REPEAT('x', 16777215 + 1000 - 4) AS a UNION ALL SELECT 'small'"
	want := rawReply(t, ts, queryFrame(q))
	c, err := ts.Get(ctx, Want{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Release(0)
	var w bytes.Buffer
	res, err := c.Exec(ctx, &Request{Frame: queryFrame(q)}, &w)
	if err != nil || res.Err != nil {
		t.Fatalf("Exec: %v %v", err, res.Err)
	}
	if res.Rows != 2 || !bytes.Equal(w.Bytes(), want) {
		t.Fatalf("Rows %d, %d bytes forwarded, %d sent directly", res.Rows, w.Len(), len(want))
	}
	if c.bufHigh > defaultBufSize {
		t.Errorf("read buffer grew to %d for a big row", c.bufHigh)
	}

	// A command bigger than one packet.
	frame := queryFrame("SELECT LENGTH('" + strings.Repeat("y", big) + "')")
	w.Reset()
	res, err = c.Exec(ctx, &Request{Frame: frame}, &w)
	if err != nil || res.Err != nil {
		t.Fatalf("big command: %v %v", err, res.Err)
	}
	if got := textValues(t, w.Bytes())[0][0]; got != "16778216" {
		t.Errorf("LENGTH = %s", got)
	}
}

func TestIntegrationClose(t *testing.T) {
	m := sharedMariaDB(t)
	cfg := Config{User: m.User(), Password: m.Password()}
	ts := New(cfg, testTablet(m, 1, topodatapb.TabletType_PRIMARY), nil, nil)
	ts.Open()
	ctx := context.Background()
	data, err := ts.Get(ctx, Want{})
	if err != nil {
		t.Fatal(err)
	}
	tx, err := ts.Get(ctx, Want{Hold: true})
	if err != nil {
		t.Fatal(err)
	}
	ts.Close()
	var me *mysql.MyError
	if !errors.As(tx.Killed(), &me) {
		t.Fatalf("reserved connection after Close: Killed() = %v", tx.Killed())
	}
	// A data connection in use finishes its query, then closes when returned.
	if res, err := data.Exec(ctx, &Request{Frame: queryFrame("SELECT 1")}, io.Discard); err != nil || res.Err != nil {
		t.Fatalf("in-use data connection after Close: %v %v", err, res.Err)
	}
	data.Release(0)
	if st := ts.Stats().Data; st.InUse != 0 || st.Idle != 0 {
		t.Errorf("data pool after Close: %+v", st)
	}
	if _, err := ts.Get(ctx, Want{}); !errors.As(err, &me) || me.Code != mysql.ER_SERVER_SHUTDOWN {
		t.Fatalf("Get after Close: %v", err)
	}
}

package tabletserver

import (
	"bytes"
	"context"
	"errors"
	"io"
	"testing"

	"github.com/go-mysql-org/go-mysql/mysql"
)

const (
	stAuto  = mysql.SERVER_STATUS_AUTOCOMMIT
	stTrans = mysql.SERVER_STATUS_IN_TRANS
	stMore  = mysql.SERVER_MORE_RESULTS_EXISTS
)

func prepareOK(id uint32, cols, params uint16) []byte {
	return []byte{0x00, byte(id), byte(id >> 8), byte(id >> 16), byte(id >> 24),
		byte(cols), byte(cols >> 8), byte(params), byte(params >> 8), 0, 0, 0}
}

// Result.StatusKnown says whether the reply's end carried status flags: a reply without them
// must not read as "autocommit off".
func TestResultStatusKnown(t *testing.T) {
	// A prepare with parameters and no columns: the status is in the parameters' EOF.
	var paramsOnly []byte
	paramsOnly = append(paramsOnly, pkt(1, prepareOK(1, 0, 1)...)...)
	paramsOnly = append(paramsOnly, pkt(2, colDef("?")...)...)
	paramsOnly = append(paramsOnly, pkt(3, eofPayload(stAuto|stTrans)...)...)
	// With columns too, the columns' EOF has the last word.
	var both []byte
	both = append(both, pkt(1, prepareOK(1, 1, 1)...)...)
	both = append(both, pkt(2, colDef("?")...)...)
	both = append(both, pkt(3, eofPayload(stAuto)...)...)
	both = append(both, pkt(4, colDef("c")...)...)
	both = append(both, pkt(5, eofPayload(stAuto|stTrans)...)...)
	rs, seq := resultSet(1, 1, stMore|stAuto|stTrans)
	callErr := append(rs, pkt(seq, errPayload(1146, "42S02", "no table")...)...)

	tests := []struct {
		name   string
		cmd    byte
		reply  []byte
		known  bool
		status uint16
	}{
		{"ok", mysql.COM_QUERY, pkt(1, okPayload(stAuto)...), true, stAuto},
		{"ok autocommit off", mysql.COM_QUERY, pkt(1, okPayload(0)...), true, 0},
		{"result set", mysql.COM_QUERY, func() []byte { b, _ := resultSet(1, 2, stAuto); return b }(), true, stAuto},
		{"err", mysql.COM_QUERY, pkt(1, errPayload(1064, "42000", "syntax")...), false, 0},
		{"multi-result ending in ERR", mysql.COM_QUERY, callErr, false, 0},
		{"prepare without params and columns", mysql.COM_STMT_PREPARE, pkt(1, prepareOK(1, 0, 0)...), false, 0},
		{"prepare with params only", mysql.COM_STMT_PREPARE, paramsOnly, true, stAuto | stTrans},
		{"prepare with params and columns", mysql.COM_STMT_PREPARE, both, true, stAuto | stTrans},
		{"statistics", mysql.COM_STATISTICS, pkt(1, []byte("Uptime: 5")...), false, 0},
		{"field list", mysql.COM_FIELD_LIST, append(pkt(1, colDef("a")...), pkt(2, eofPayload(stAuto)...)...), true, stAuto},
		{"stmt close (no reply)", mysql.COM_STMT_CLOSE, nil, false, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, _ := testConn(t, Config{}, tt.reply, 3)
			frame := []byte{0, 0, 0, 0, tt.cmd, 1, 0, 0, 0}
			var w bytes.Buffer
			res, err := c.Exec(context.Background(), &Request{Frame: frame}, &w)
			if err != nil {
				t.Fatalf("Exec: %v", err)
			}
			if res.StatusKnown != tt.known || res.Status != tt.status {
				t.Errorf("StatusKnown, Status = %v, %#x; want %v, %#x", res.StatusKnown, res.Status, tt.known, tt.status)
			}
			if !res.Complete || !bytes.Equal(w.Bytes(), tt.reply) {
				t.Errorf("Complete = %v, %d bytes forwarded of %d", res.Complete, w.Len(), len(tt.reply))
			}
		})
	}
}

// pooledTestConn is testConn with the connection handed out by the data pool, so that
// Recycle takes the pool's decisions.
func pooledTestConn(t *testing.T, reply []byte) *Conn {
	t.Helper()
	c, _ := testConn(t, Config{}, reply, 1<<20)
	p := c.be.pool
	c.pool = p
	if !c.ts.run.tryAcquire() || !p.conns.tryAcquire() {
		t.Fatal("no free slot")
	}
	p.mu.Lock()
	p.handOut(c, c.ts, slotRun)
	p.mu.Unlock()
	return c
}

// A connection whose reply showed a transaction, even in an intermediate OK or EOF of a
// reply that then failed, or showed autocommit off, never goes back to the pool.
func TestRecycleClosesConnMaybeInTransaction(t *testing.T) {
	rs, seq := resultSet(1, 1, stMore|stAuto|stTrans)
	callErr := append(append([]byte(nil), rs...), pkt(seq, errPayload(1146, "42S02", "no table")...)...)
	rs2, seq2 := resultSet(1, 1, stMore|stAuto|stTrans)
	callCommit := append(append([]byte(nil), rs2...), pkt(seq2, okPayload(stAuto)...)...)
	tests := []struct {
		name   string
		reply  []byte
		pooled bool
	}{
		{"autocommit ok", pkt(1, okPayload(stAuto)...), true},
		{"in transaction", pkt(1, okPayload(stAuto|stTrans)...), false},
		{"autocommit off without the setting", pkt(1, okPayload(0)...), false},
		{"ERR after a status showing a transaction", callErr, false},
		{"transaction committed at the end", callCommit, true},
		{"plain ERR on a fresh connection", pkt(1, errPayload(1064, "42000", "syntax")...), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := pooledTestConn(t, tt.reply)
			if _, err := c.Exec(context.Background(), &Request{Frame: queryFrame("x")}, io.Discard); err != nil {
				t.Fatalf("Exec: %v", err)
			}
			c.Release(0)
			if _, idle := c.be.pool.sizes(); (idle == 1) != tt.pooled {
				t.Errorf("idle connections = %d; want pooled %v", idle, tt.pooled)
			}
		})
	}
}

// Bytes after a complete reply: the client has the whole reply, so the caller must write no
// error after it; the connection is broken.
func TestReplyCompleteError(t *testing.T) {
	reply := append(pkt(1, okPayload(stAuto)...), 9, 9)
	c, _ := testConn(t, Config{}, reply, 1<<20)
	var w bytes.Buffer
	res, err := c.Exec(context.Background(), &Request{Frame: queryFrame("x")}, &w)
	var rce *ReplyCompleteError
	if !errors.As(err, &rce) {
		t.Fatalf("err = %v, want *ReplyCompleteError", err)
	}
	if !res.Forwarded || !res.Complete || !bytes.Equal(w.Bytes(), reply[:len(reply)-2]) {
		t.Errorf("Result %+v, forwarded % x", res, w.Bytes())
	}
	if !c.broken || StatementOnly(err) {
		t.Errorf("broken = %v, StatementOnly = %v; want a broken connection", c.broken, StatementOnly(err))
	}
	// A reply cut short is not complete.
	rs, _ := resultSet(1, 2, stAuto)
	c, _ = testConn(t, Config{}, rs[:len(rs)-4], 1<<20)
	res, err = c.Exec(context.Background(), &Request{Frame: queryFrame("x")}, io.Discard)
	if err == nil || res.Complete || errors.As(err, &rce) {
		t.Errorf("truncated reply: Result %+v, err %v", res, err)
	}
}

// Errors that end only the statement are StatementOnly, and the connection serves again.
func TestStatementOnly(t *testing.T) {
	rs, _ := resultSet(1, 10, stAuto|stTrans)
	next := pkt(1, okPayload(stAuto|stTrans)...)
	c, fb := testConn(t, Config{MaxResultRows: 4}, rs, 7)
	res, err := c.Exec(context.Background(), &Request{Frame: queryFrame("x")}, io.Discard)
	if !StatementOnly(err) || !res.Forwarded || res.Complete {
		t.Fatalf("max rows: StatementOnly(%v) = false or Result %+v", err, res)
	}
	var me *mysql.MyError
	if !errors.As(err, &me) || me.Code != mysql.ER_TOO_BIG_SELECT {
		t.Errorf("max rows: %v, want 1104 through errors.As", err)
	}
	// The drained reply showed the transaction: still tracked.
	if c.lastStatus&stTrans == 0 {
		t.Errorf("lastStatus %#x lost the transaction", c.lastStatus)
	}
	fb.chunkReader.data = next
	if res, err := c.Exec(context.Background(), &Request{Frame: queryFrame("y")}, io.Discard); err != nil || !res.StatusKnown {
		t.Fatalf("next command on the same connection: %+v %v", res, err)
	}

	// Refused before sending: nothing happened on the connection.
	if _, err := c.Exec(context.Background(), &Request{Frame: []byte{0, 0, 0, 0}}, io.Discard); !StatementOnly(err) {
		t.Errorf("malformed frame: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := c.Exec(ctx, &Request{Frame: queryFrame("z")}, io.Discard); !StatementOnly(err) {
		t.Errorf("context done: %v", err)
	}
	// A lost backend is not.
	c, _ = testConn(t, Config{}, nil, 1)
	if _, err := c.Exec(context.Background(), &Request{Frame: queryFrame("x")}, io.Discard); err == nil || StatementOnly(err) {
		t.Errorf("lost backend: %v", err)
	}
	if StatementOnly(nil) || StatementOnly(io.EOF) {
		t.Error("StatementOnly of a non-statement error")
	}
}

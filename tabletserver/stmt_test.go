package tabletserver

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"testing"

	"github.com/go-mysql-org/go-mysql/mysql"
)

// scriptedBackend answers each command that has a reply with the next of replies, and
// records the commands it gets.
type scriptedBackend struct {
	replies [][]byte
	pending []byte
	cmds    [][]byte // payloads of the commands written, in order
}

func (b *scriptedBackend) Write(p []byte) (int, error) {
	for rest := p; len(rest) >= 4; {
		n := int(rest[0]) | int(rest[1])<<8 | int(rest[2])<<16
		payload := append([]byte(nil), rest[4:4+n]...)
		b.cmds = append(b.cmds, payload)
		if payload[0] != mysql.COM_STMT_CLOSE && len(b.replies) > 0 {
			b.pending = append(b.pending, b.replies[0]...)
			b.replies = b.replies[1:]
		}
		rest = rest[4+n:]
	}
	return len(p), nil
}

func (b *scriptedBackend) Read(p []byte) (int, error) {
	if len(b.pending) == 0 {
		return 0, io.EOF
	}
	n := copy(p, b.pending)
	b.pending = b.pending[n:]
	return n, nil
}

// closed returns the statement ids of the COM_STMT_CLOSE commands sent.
func (b *scriptedBackend) closed() []uint32 {
	var ids []uint32
	for _, c := range b.cmds {
		if c[0] == mysql.COM_STMT_CLOSE {
			ids = append(ids, binary.LittleEndian.Uint32(c[1:]))
		}
	}
	return ids
}

func scriptedConn(t *testing.T, cfg Config, replies ...[]byte) (*Conn, *scriptedBackend) {
	t.Helper()
	c, _ := testConn(t, cfg, nil, 1)
	b := &scriptedBackend{replies: replies}
	c.rw = b
	return c, b
}

var err1461 = pkt(1, errPayload(mysql.ER_MAX_PREPARED_STMT_COUNT_REACHED, "42000",
	"Can't create more than max_prepared_stmt_count statements (current value: 16382)")...)

// prepareReply is a prepare reply for one parameter and no column.
func prepareReply(id uint32) []byte {
	b := pkt(1, prepareOK(id, 0, 1)...)
	b = append(b, pkt(2, colDef("?")...)...)
	return append(b, pkt(3, eofPayload(stAuto)...)...)
}

// A prepare refused for the server-wide statement limit frees the connection's statements
// and is retried once; the client sees only the retry's reply.
func TestPrepareRetriesAfterMaxPreparedStmtCount(t *testing.T) {
	c, b := scriptedConn(t, Config{}, err1461, prepareReply(50))
	c.stmts.put(stmtKey{"vt_test", "a"}, stmtInfo{id: 10})
	c.stmts.put(stmtKey{"vt_test", "b"}, stmtInfo{id: 11})
	var w bytes.Buffer
	params, cols, res, err := c.Prepare(context.Background(), "INSERT INTO t VALUES (?)", 3, &w)
	if err != nil || res.Err != nil || params != 1 || cols != 0 {
		t.Fatalf("Prepare = %d, %d, %+v, %v", params, cols, res, err)
	}
	want := prepareReply(3) // the client's statement id
	if !bytes.Equal(w.Bytes(), want) {
		t.Fatalf("client got % x\nwant % x", w.Bytes(), want)
	}
	if got := b.closed(); len(got) != 2 || got[0]+got[1] != 21 {
		t.Errorf("closed statements %v, want 10 and 11", got)
	}
	if len(c.stmts.m) != 1 || c.stmts.m[stmtKey{"vt_test", "INSERT INTO t VALUES (?)"}].id != 50 {
		t.Errorf("cache %+v", c.stmts.m)
	}
	if !res.StatusKnown || res.Status != stAuto {
		t.Errorf("status %v %#x", res.StatusKnown, res.Status)
	}

	// With nothing to free, the client gets the server's error.
	c, b = scriptedConn(t, Config{}, err1461, prepareReply(50))
	w.Reset()
	_, _, res, err = c.Prepare(context.Background(), "SELECT ?", 3, &w)
	if err != nil || res.Err == nil || res.Err.Code != mysql.ER_MAX_PREPARED_STMT_COUNT_REACHED || !bytes.Equal(w.Bytes(), err1461) {
		t.Fatalf("empty cache: %+v, %v, client got % x", res, err, w.Bytes())
	}
	// Retried once only.
	c, _ = scriptedConn(t, Config{}, err1461, err1461)
	c.stmts.put(stmtKey{"vt_test", "a"}, stmtInfo{id: 10})
	w.Reset()
	_, _, res, err = c.Prepare(context.Background(), "SELECT ?", 3, &w)
	if err != nil || res.Err == nil || !bytes.Equal(w.Bytes(), err1461) {
		t.Fatalf("second 1461: %+v, %v, client got % x", res, err, w.Bytes())
	}
}

func TestExecStmtRetriesAfterMaxPreparedStmtCount(t *testing.T) {
	exec := pkt(1, okPayload(stAuto)...)
	c, b := scriptedConn(t, Config{}, err1461, prepareReply(50), exec)
	c.stmts.put(stmtKey{"vt_test", "a"}, stmtInfo{id: 10})
	res, err := c.ExecStmt(context.Background(), "INSERT INTO t VALUES (?)", execPayload(1), nil, &Request{}, io.Discard)
	if err != nil || res.Err != nil {
		t.Fatalf("ExecStmt = %+v, %v", res, err)
	}
	if got := b.closed(); len(got) != 1 || got[0] != 10 {
		t.Errorf("closed %v", got)
	}
	last := b.cmds[len(b.cmds)-1]
	if last[0] != mysql.COM_STMT_EXECUTE || binary.LittleEndian.Uint32(last[1:]) != 50 {
		t.Errorf("executed % x, want statement 50", last)
	}
	// A statement that cannot be prepared ends only the statement.
	c, _ = scriptedConn(t, Config{}, pkt(1, errPayload(1146, "42S02", "no table")...))
	_, err = c.ExecStmt(context.Background(), "SELECT * FROM nope WHERE id = ?", execPayload(1), nil, &Request{}, io.Discard)
	var me *mysql.MyError
	if !StatementOnly(err) || !errors.As(err, &me) || me.Code != 1146 {
		t.Fatalf("bad statement: %v", err)
	}
}

// The cache holds PreparedStmtCacheSize statements; the one a prepare evicts is closed before
// the prepare is sent, so that nothing can fail after its reply was forwarded.
func TestPrepareEvictsBeforePreparing(t *testing.T) {
	c, b := scriptedConn(t, Config{PreparedStmtCacheSize: 2}, prepareReply(3), prepareReply(4))
	c.stmts.put(stmtKey{"vt_test", "a"}, stmtInfo{id: 1})
	c.stmts.put(stmtKey{"vt_test", "b"}, stmtInfo{id: 2})
	for i, q := range []string{"c", "a"} {
		if _, _, res, err := c.Prepare(context.Background(), q, 9, io.Discard); err != nil || res.Err != nil {
			t.Fatalf("Prepare %s: %+v %v", q, res, err)
		}
		if got := b.cmds[len(b.cmds)-2]; got[0] != mysql.COM_STMT_CLOSE || binary.LittleEndian.Uint32(got[1:]) != uint32(i+1) {
			t.Errorf("prepare %s: before it % x, want closing statement %d", q, got, i+1)
		}
	}
	if len(c.stmts.m) != 2 || c.stmts.m[stmtKey{"vt_test", "c"}].id != 3 || c.stmts.m[stmtKey{"vt_test", "a"}].id != 4 {
		t.Errorf("cache %+v", c.stmts.m)
	}
}

package mysqlserver

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"testing"

	"github.com/go-mysql-org/go-mysql/mysql"
)

// captureConn is a net.Conn that records writes and serves reads from a script.
type captureConn struct {
	net.Conn // nil: only Read and Write are used
	in       bytes.Reader
	out      bytes.Buffer
	writes   int
}

func (c *captureConn) Read(p []byte) (int, error)  { return c.in.Read(p) }
func (c *captureConn) Write(p []byte) (int, error) { c.writes++; return c.out.Write(p) }
func (c *captureConn) Close() error                { return nil }

// testConn is a Conn over a captureConn, outside any Listener goroutine.
func testConn(t testing.TB, h Handler, input []byte) (*Conn, *captureConn) {
	cfg, err := Config{InsecureNoAuth: true}.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	cc := &captureConn{}
	cc.in.Reset(input)
	l := &Listener{cfg: cfg, h: h, log: cfg.Logger}
	return newConn(l, cc), cc
}

// readAll splits a byte stream into payloads, checking consecutive sequence ids from seq.
func readAll(t *testing.T, b []byte, seq uint8) [][]byte {
	t.Helper()
	var out [][]byte
	for len(b) > 0 {
		n := int(b[0]) | int(b[1])<<8 | int(b[2])<<16
		if b[3] != seq {
			t.Fatalf("packet %d has sequence %d, want %d", len(out), b[3], seq)
		}
		out = append(out, b[4:4+n])
		b = b[4+n:]
		seq++
	}
	return out
}

func TestWriteResult(t *testing.T) {
	c, cc := testConn(t, newFakeHandler(), nil)
	c.SetSequence(1)
	err := c.WriteResult(&Result{
		Fields: []*Field{{Schema: "s", Table: "t", OrgTable: "ot", Name: "n", OrgName: "on", Charset: 45, ColumnLength: 40,
			Type: mysql.MYSQL_TYPE_VAR_STRING, Flags: mysql.NOT_NULL_FLAG, Decimals: 0x1f}},
		Rows:   [][][]byte{{[]byte("v")}, {nil}},
		Status: mysql.SERVER_STATUS_AUTOCOMMIT,
	})
	if err != nil {
		t.Fatal(err)
	}
	if cc.writes != 1 {
		t.Fatalf("%d writes, want 1", cc.writes)
	}
	got := readAll(t, cc.out.Bytes(), 1)
	want := [][]byte{
		{1},
		[]byte("\x03def\x01s\x01t\x02ot\x01n\x02on\x0c\x2d\x00\x28\x00\x00\x00\xfd\x01\x00\x1f\x00\x00"),
		{0xfe, 0, 0, 2, 0},
		{1, 'v'},
		{0xfb},
		{0xfe, 0, 0, 2, 0},
	}
	if len(got) != len(want) {
		t.Fatalf("%d packets: %q", len(got), got)
	}
	for i := range want {
		if !bytes.Equal(got[i], want[i]) {
			t.Fatalf("packet %d = %q, want %q", i, got[i], want[i])
		}
	}
	if err := c.WriteResult(&Result{Fields: []*Field{{}}, Rows: [][][]byte{{}}}); err == nil {
		t.Fatal("a short row was written")
	}
}

func TestWriteOKAndError(t *testing.T) {
	c, cc := testConn(t, newFakeHandler(), nil)
	c.SetSequence(1)
	_ = c.WriteOK(300, 1<<20, mysql.SERVER_STATUS_IN_TRANS, 2)
	_ = c.WriteError(fmt.Errorf("wrapped: %w", &mysql.MyError{Code: 1062, State: "23000", Message: "dup"}))
	_ = c.WriteError(errors.New("plain"))
	_ = c.WriteError(&mysql.MyError{Code: 1, State: "bad", Message: "m"})
	got := readAll(t, cc.out.Bytes(), 1)
	ok, err := ParseOK(got[0], 0)
	if err != nil || ok.AffectedRows != 300 || ok.LastInsertID != 1<<20 || ok.Status != mysql.SERVER_STATUS_IN_TRANS || ok.Warnings != 2 || ok.Info != "" {
		t.Fatalf("OK %+v %v", ok, err)
	}
	for i, want := range []mysql.MyError{
		{Code: 1062, State: "23000", Message: "dup"},
		{Code: 1105, State: "HY000", Message: "plain"},
		{Code: 1, State: "HY000", Message: "m"},
	} {
		e, err := ParseErr(got[i+1])
		if err != nil || *e != want {
			t.Fatalf("ERR %d = %+v %v, want %+v", i, e, err, want)
		}
	}
	if _, err := ParseOK([]byte{0, 1}, 0); err == nil {
		t.Fatal("truncated OK parsed")
	}
	if _, err := ParseErr([]byte{0, 1, 2}); err == nil {
		t.Fatal("non-ERR parsed")
	}
}

func TestWriteSplitsHugePackets(t *testing.T) {
	c, cc := testConn(t, newFakeHandler(), nil)
	c.SetSequence(1)
	big := bytes.Repeat([]byte{'x'}, maxPayloadLen+5)
	if err := c.WriteResult(&Result{Fields: []*Field{{Name: "a"}}, Rows: [][][]byte{{big}}}); err != nil {
		t.Fatal(err)
	}
	got := readAll(t, cc.out.Bytes(), 1)
	// count, column, EOF, row in two packets (0xffffff + 14: 9 length bytes + 5), EOF
	if len(got) != 6 || len(got[3]) != maxPayloadLen || len(got[4]) != 9+5 {
		t.Fatalf("%d packets, sizes %d %d", len(got), len(got[3]), len(got[4]))
	}
}

func TestWritePrepareOK(t *testing.T) {
	c, cc := testConn(t, newFakeHandler(), nil)
	c.SetSequence(1)
	st := &Stmt{ID: 7}
	if err := c.WritePrepareOK(st, []*Field{{Name: "?"}, {Name: "?"}}, []*Field{{Name: "a"}}); err != nil {
		t.Fatal(err)
	}
	got := readAll(t, cc.out.Bytes(), 1)
	if len(got) != 1+2+1+1+1 || !bytes.Equal(got[0], []byte{0, 7, 0, 0, 0, 1, 0, 2, 0, 0, 0, 0}) {
		t.Fatalf("prepare OK %q", got)
	}
	if st.ParamCount != 2 || st.ColumnCount != 1 {
		t.Fatalf("counts %d %d", st.ParamCount, st.ColumnCount)
	}
}

package tabletserver

import (
	"bytes"
	"context"
	"errors"
	"io"
	"slices"
	"testing"

	"github.com/go-mysql-org/go-mysql/mysql"
)

// okState is an OK payload with SERVER_SESSION_STATE_CHANGED, an info string and the given
// session-state entries.
func okState(status uint16, info string, entries ...[]byte) []byte {
	b := []byte{0x00, 0x00, 0x00}
	b = append(b, byte(status|mysql.SERVER_SESSION_STATE_CHANGED), byte((status|mysql.SERVER_SESSION_STATE_CHANGED)>>8), 0, 0)
	b = appendLenEnc(b, uint64(len(info)))
	b = append(b, info...)
	var block []byte
	for _, e := range entries {
		block = append(block, e...)
	}
	b = appendLenEnc(b, uint64(len(block)))
	return append(b, block...)
}

func lenenc(s string) []byte { return append(appendLenEnc(nil, uint64(len(s))), s...) }

func varEntry(name, value string) []byte {
	data := append(lenenc(name), lenenc(value)...)
	return append([]byte{trackSystemVariables}, append(appendLenEnc(nil, uint64(len(data))), data...)...)
}

func schemaEntry(db string) []byte {
	data := lenenc(db)
	return append([]byte{trackSchema}, append(appendLenEnc(nil, uint64(len(data))), data...)...)
}

var stateEntry = []byte{trackStateChange, 2, 1, '1'}

// prefs is a client that tracks the listed variables and state changes.
type prefs struct {
	vars  []string
	state bool
}

func (p prefs) WantsVar(n string) bool { return slices.Contains(p.vars, n) }
func (p prefs) WantsSchema() bool      { return true }
func (p prefs) WantsStateChange() bool { return p.state }

// Every backend connection tracks everything; what reaches the client is what it would get
// from MariaDB: nothing without CLIENT_SESSION_TRACK, else what its own settings ask for.
func TestSessionStateFiltered(t *testing.T) {
	const ac = mysql.SERVER_STATUS_AUTOCOMMIT
	full := okState(ac, "", varEntry("sql_mode", "ANSI"), varEntry("autocommit", "OFF"), schemaEntry("vt_x"), stateEntry)
	tests := []struct {
		name   string
		filter TrackFilter
		reply  []byte
		want   []byte
	}{
		{"no tracking: flag cleared, state dropped", nil, pkt(1, full...), pkt(1, okPayloadW(ac, 0)...)},
		{"no tracking keeps the info string", nil, pkt(1, okState(ac, "Rows matched: 1", stateEntry)...),
			pkt(1, append(okPayloadW(ac, 0), lenenc("Rows matched: 1")...)...)},
		{"the client's variables only", prefs{vars: []string{"autocommit"}}, pkt(1, full...),
			pkt(1, okState(ac, "", varEntry("autocommit", "OFF"))...)},
		{"state change too", prefs{vars: []string{"autocommit"}, state: true}, pkt(1, full...),
			pkt(1, okState(ac, "", varEntry("autocommit", "OFF"), stateEntry)...)},
		{"nothing the client tracks", prefs{}, pkt(1, okState(ac, "", varEntry("sql_mode", "ANSI"))...), pkt(1, okPayloadW(ac, 0)...)},
		{"all of it: verbatim", prefs{vars: []string{"sql_mode"}}, pkt(1, okState(ac, "", varEntry("sql_mode", "ANSI"))...),
			pkt(1, okState(ac, "", varEntry("sql_mode", "ANSI"))...)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Followed by more of a pipelined reply, in the same reads, to check the splice.
			c, _ := testConn(t, Config{}, tt.reply, 1<<20)
			var w bytes.Buffer
			res, err := c.Exec(context.Background(), &Request{Frame: queryFrame("SET x"), Filter: tt.filter}, &w)
			if err != nil || !res.Complete {
				t.Fatalf("Exec: %v, %+v", err, res)
			}
			if !bytes.Equal(w.Bytes(), tt.want) {
				t.Errorf("client got\n% x\nwant\n% x", w.Bytes(), tt.want)
			}
			// The gateway sees everything the server reported.
			if tt.name == "the client's variables only" {
				want := []TrackedVar{{"sql_mode", "ANSI"}, {"autocommit", "OFF"}}
				if !slices.Equal(res.Vars, want) || !res.StateChanged || res.Schema != "vt_x" {
					t.Errorf("tracked %+v state %v schema %q", res.Vars, res.StateChanged, res.Schema)
				}
			}
		})
	}
}

func okPayloadW(status uint16, warnings uint16) []byte {
	return []byte{0x00, 0x00, 0x00, byte(status), byte(status >> 8), byte(warnings), byte(warnings >> 8)}
}

// With CLIENT_DEPRECATE_EOF there is no EOF after the column definitions and the rows end with
// an OK whose header is 0xFE, which may carry session state.
func TestDeprecateEOFReply(t *testing.T) {
	const ac = mysql.SERVER_STATUS_AUTOCOMMIT
	var reply []byte
	seq := byte(1)
	add := func(p []byte) { reply = append(reply, pkt(seq, p...)...); seq++ }
	add([]byte{1})
	add(colDef("c"))
	add(textRow("a"))
	add(textRow("b"))
	end := okState(ac, "", varEntry("sql_mode", "ANSI"))
	end[0] = 0xFE
	add(end)
	c, _ := testConn(t, Config{}, reply, 7)
	c.caps = mysql.CLIENT_DEPRECATE_EOF
	var w bytes.Buffer
	res, err := c.Exec(context.Background(), &Request{Frame: queryFrame("SELECT c")}, &w)
	if err != nil || res.Rows != 2 || !res.ResultSet || res.LastRows != 2 || !res.StatusKnown || res.Status&^mysql.SERVER_SESSION_STATE_CHANGED != ac {
		t.Fatalf("Exec: %v %+v", err, res)
	}
	wantEnd := okPayloadW(ac, 0)
	wantEnd[0] = 0xFE
	want := append(append([]byte(nil), reply[:len(reply)-len(pkt(0, end...))]...), pkt(5, wantEnd...)...)
	if !bytes.Equal(w.Bytes(), want) {
		t.Errorf("client got\n% x\nwant\n% x", w.Bytes(), want)
	}
	if len(res.Vars) != 1 || res.Vars[0].Name != "sql_mode" {
		t.Errorf("tracked %+v", res.Vars)
	}
}

// Pipelined statements: the replies of the statements sent before the client's arrive in the
// same reads; they are read and dropped, and the client gets only its own.
func TestPipelinedPre(t *testing.T) {
	const ac = mysql.SERVER_STATUS_AUTOCOMMIT
	own, _ := resultSet(1, 2, ac)
	reply := append(append(pkt(1, okPayload(ac)...), pkt(1, errPayload(1062, "23000", "dup")...)...), own...)
	c, fb := testConn(t, Config{}, reply, 1<<20)
	var w bytes.Buffer
	res, err := c.Exec(context.Background(), &Request{Frame: queryFrame("SELECT 1"), Pre: []string{"SET last_insert_id = 3", "SIGNAL x"}}, &w)
	if err != nil || res.Rows != 2 || res.Err != nil {
		t.Fatalf("Exec: %v %+v", err, res)
	}
	if !bytes.Equal(w.Bytes(), own) {
		t.Errorf("client got % x, want its own reply % x", w.Bytes(), own)
	}
	sent := fb.written.Bytes()
	want := append(append(append([]byte(nil), pkt(0, append([]byte{mysql.COM_QUERY}, "SET last_insert_id = 3"...)...)...),
		pkt(0, append([]byte{mysql.COM_QUERY}, "SIGNAL x"...)...)...), pkt(0, append([]byte{mysql.COM_QUERY}, "SELECT 1"...)...)...)
	if !bytes.Equal(sent, want) {
		t.Errorf("sent % x\nwant % x", sent, want)
	}
}

// LOAD DATA LOCAL INFILE: the server's request reaches the client, the client's packets reach
// the server verbatim up to the empty one, then the server's OK reaches the client.
func TestLocalInfileRelay(t *testing.T) {
	const ac = mysql.SERVER_STATUS_AUTOCOMMIT
	request := pkt(1, append([]byte{0xFB}, "/tmp/f.csv"...)...)
	reply := append(append([]byte(nil), request...), pkt(5, okPayload(ac)...)...)
	// The server sends nothing after its request until it has the file: one read, the request.
	c, fb := testConn(t, Config{}, reply, len(request))
	c.caps = mysql.CLIENT_LOCAL_FILES
	client := &packetSource{packets: [][]byte{pkt(2, []byte("1,a\n")...), pkt(3, []byte("2,b\n")...), pkt(4)}}
	var w bytes.Buffer
	res, err := c.Exec(context.Background(), &Request{Frame: queryFrame("LOAD DATA LOCAL INFILE '/tmp/f.csv' INTO TABLE t"), In: client}, &w)
	if err != nil || !res.StatusKnown || res.NextSeq != 6 {
		t.Fatalf("Exec: %v %+v", err, res)
	}
	if want := append(append([]byte(nil), request...), pkt(5, okPayload(ac)...)...); !bytes.Equal(w.Bytes(), want) {
		t.Errorf("client got % x, want % x", w.Bytes(), want)
	}
	sent := fb.written.Bytes()
	if !bytes.HasSuffix(sent, append(append(pkt(2, []byte("1,a\n")...), pkt(3, []byte("2,b\n")...)...), pkt(4)...)) {
		t.Errorf("the server got % x", sent)
	}
	// A client that never negotiated LOCAL INFILE cannot be asked: a protocol error.
	c2, _ := testConn(t, Config{}, reply, 1<<20)
	if _, err := c2.Exec(context.Background(), &Request{Frame: queryFrame("LOAD DATA LOCAL ...")}, io.Discard); err == nil {
		t.Fatal("a LOCAL INFILE request without CLIENT_LOCAL_FILES was followed")
	}
}

type packetSource struct{ packets [][]byte }

func (p *packetSource) ReadPacket() ([]byte, error) {
	if len(p.packets) == 0 {
		return nil, io.EOF
	}
	f := p.packets[0]
	p.packets = p.packets[1:]
	return f, nil
}

// A backend that dies inside a row: the client got part of a packet (MidPacket), so no error
// packet can follow; one that dies between packets allows one.
func TestBackendDiesMidPacket(t *testing.T) {
	rs, _ := resultSet(1, 3, mysql.SERVER_STATUS_AUTOCOMMIT)
	for _, tt := range []struct {
		name string
		cut  int
		mid  bool
	}{
		{"inside a row", len(rs) - 9 - 3, true},
		{"between packets", len(rs) - 9, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c, _ := testConn(t, Config{}, rs[:tt.cut], 1<<20)
			var w bytes.Buffer
			res, err := c.Exec(context.Background(), &Request{Frame: queryFrame("SELECT c")}, &w)
			var me *mysql.MyError
			if !errors.As(err, &me) || me.Code != crServerLost {
				t.Fatalf("err %v, want 2013", err)
			}
			if !res.Forwarded || res.MidPacket != tt.mid || res.Complete {
				t.Errorf("Result %+v, want MidPacket %v", res, tt.mid)
			}
		})
	}
}

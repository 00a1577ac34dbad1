package vstream

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net"
	"strconv"
	"testing"

	"github.com/go-mysql-org/go-mysql/mysql"
	querypb "vitess.io/vitess/go/vt/proto/query"
)

// packet frames payload as MySQL packets (split at 16 MiB-1, with an empty last part when the
// payload is an exact multiple).
func packet(payload []byte) []byte {
	var out []byte
	for {
		n := min(len(payload), maxPacketPayload)
		out = append(out, byte(n), byte(n>>8), byte(n>>16), 0)
		out = append(out, payload[:n]...)
		payload = payload[n:]
		if n < maxPacketPayload {
			return out
		}
	}
}

func testConn(t *testing.T, stream []byte) *binlogConn {
	t.Helper()
	server, client := net.Pipe()
	go func() {
		_, _ = server.Write(stream)
		_ = server.Close()
	}()
	t.Cleanup(func() { _ = client.Close() })
	return &binlogConn{raw: client, br: bufio.NewReaderSize(client, binlogReadBuffer)}
}

func TestBinlogConnReadEvent(t *testing.T) {
	big := bytes.Repeat([]byte("x"), maxPacketPayload+10) // two packets
	exact := bytes.Repeat([]byte("y"), maxPacketPayload)  // two packets, the second empty
	errPkt := append([]byte{0xff, 0xd4, 0x04}, "#HY000Could not find GTID state"...)
	tests := []struct {
		name    string
		payload []byte
		want    []byte
		wantErr func(error) bool
	}{
		{name: "event", payload: []byte{0, 1, 2, 3}, want: []byte{1, 2, 3}},
		{name: "large event", payload: append([]byte{0}, big...), want: big},
		{name: "exact multiple", payload: append([]byte{0}, exact[1:]...), want: exact[1:]},
		{name: "error packet", payload: errPkt, wantErr: func(err error) bool {
			var me *mysql.MyError
			return errors.As(err, &me) && me.Code == mysql.ER_MASTER_FATAL_ERROR_READING_BINLOG &&
				me.State == "HY000" && me.Message == "Could not find GTID state"
		}},
		{name: "eof packet", payload: []byte{0xfe, 0, 0, 0, 0}, wantErr: func(err error) bool { return err != nil }},
		{name: "unknown header", payload: []byte{0x42}, wantErr: func(err error) bool { return err != nil }},
		{name: "empty", payload: []byte{}, wantErr: func(err error) bool { return err != nil }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := testConn(t, packet(tt.payload))
			got, err := c.readEvent()
			if tt.wantErr != nil {
				if !tt.wantErr(err) {
					t.Fatalf("err = %v", err)
				}
				return
			}
			if err != nil || !bytes.Equal(got, tt.want) {
				t.Fatalf("readEvent = %d bytes, %v; want %d bytes", len(got), err, len(tt.want))
			}
		})
	}
}

func TestBinlogConnKeepsEvents(t *testing.T) {
	// The parser keeps slices of earlier events: reading more must never overwrite them.
	var stream []byte
	for i := range 5000 {
		stream = append(stream, packet(append([]byte{0}, bytes.Repeat([]byte{byte(i)}, 1+i%300)...))...)
	}
	c := testConn(t, stream)
	var got [][]byte
	for range 5000 {
		ev, err := c.readEvent()
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, ev)
	}
	for i, ev := range got {
		if !bytes.Equal(ev, bytes.Repeat([]byte{byte(i)}, 1+i%300)) {
			t.Fatalf("event %d changed after later reads", i)
		}
	}
	if _, err := c.readEvent(); !errors.Is(err, io.EOF) {
		t.Fatalf("after the last event: %v, want EOF", err)
	}
}

func TestRowArena(t *testing.T) {
	var a rowArena
	meta := &tableMeta{Columns: []column{{Name: "a", Type: querypb.Type_INT32}, {Name: "b", Type: querypb.Type_VARCHAR}}}
	rows := make([]querypb.Row, 3000)
	for i := range rows {
		v := bytes.Repeat([]byte("v"), i%50)
		var b any = string(v)
		if i%7 == 0 {
			b = nil
		}
		if err := a.fillRow(&rows[i], meta, []int{1, 0}, []any{int32(i), b}); err != nil {
			t.Fatal(err)
		}
	}
	for i := range rows {
		wantLen := int64(i % 50)
		if i%7 == 0 {
			wantLen = -1
		}
		r := &rows[i]
		if len(r.Lengths) != 2 || r.Lengths[0] != wantLen || cap(r.Lengths) != 2 {
			t.Fatalf("row %d lengths %v (cap %d)", i, r.Lengths, cap(r.Lengths))
		}
		want := string(bytes.Repeat([]byte("v"), max(0, int(wantLen)))) + strconv.Itoa(i)
		if string(r.Values) != want || cap(r.Values) != len(r.Values) {
			t.Fatalf("row %d values %q, want %q", i, r.Values, want)
		}
	}
}

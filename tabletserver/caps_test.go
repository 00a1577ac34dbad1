package tabletserver

import (
	"context"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"strconv"
	"testing"

	"github.com/go-mysql-org/go-mysql/mysql"
	topodatapb "vitess.io/vitess/go/vt/proto/topodata"
)

// A backend connection negotiates the base capabilities, CLIENT_SESSION_TRACK and multi-results
// always, and exactly the reply-format capabilities of its client, even when the server offers
// everything (as MySQL 8 offers CLIENT_QUERY_ATTRIBUTES); never compression or multi-statements
// at connect time.
func TestDialNegotiatesExactCapabilities(t *testing.T) {
	base := mysql.CLIENT_PROTOCOL_41 | mysql.CLIENT_SECURE_CONNECTION | mysql.CLIENT_LONG_PASSWORD |
		mysql.CLIENT_LONG_FLAG | mysql.CLIENT_TRANSACTIONS | mysql.CLIENT_PLUGIN_AUTH |
		mysql.CLIENT_MULTI_RESULTS | mysql.CLIENT_PS_MULTI_RESULTS | mysql.CLIENT_SESSION_TRACK |
		// These two do not change any reply's format.
		mysql.CLIENT_CONNECT_WITH_DB | mysql.CLIENT_CONNECT_ATTRS | mysql.CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA
	for _, tt := range []struct {
		client, want uint32
	}{
		{0, base},
		{mysql.CLIENT_FOUND_ROWS | mysql.CLIENT_DEPRECATE_EOF, base | mysql.CLIENT_FOUND_ROWS | mysql.CLIENT_DEPRECATE_EOF},
		{FormatCaps, base | FormatCaps},
		{mysql.CLIENT_COMPRESS | mysql.CLIENT_MULTI_STATEMENTS | mysql.CLIENT_SSL, base},
	} {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		got := make(chan uint32, 1) // the client's flags; buffered so the fake server never blocks
		go fakeHandshake(l, got)
		port := l.Addr().(*net.TCPAddr).Port
		ts := New(Config{User: "u", Password: "p"}, &topodatapb.Tablet{
			Alias: &topodatapb.TabletAlias{Cell: "c", Uid: 1}, Keyspace: "ks",
			MysqlHostname: "127.0.0.1", MysqlPort: int32(port),
		}, nil, nil)
		_, err = ts.be.dial(context.Background(), ts, tt.client)
		var me *mysql.MyError
		if !errors.As(err, &me) || me.Code != 1045 || me.State != "28000" {
			t.Errorf("dial error %v: want the server's 1045 kept", err)
		}
		if caps := <-got; caps != tt.want {
			t.Errorf("client %#x: capabilities %#x, want %#x (extra %#x, missing %#x)", tt.client, caps, tt.want, caps&^tt.want, tt.want&^caps)
		}
		ts.Close()
		l.Close()
	}
}

// fakeHandshake greets one client with every capability, reports the client's flags and
// refuses it.
func fakeHandshake(l net.Listener, got chan<- uint32) {
	c, err := l.Accept()
	if err != nil {
		got <- 0
		return
	}
	defer c.Close()
	caps := ^uint32(0) &^ mysql.CLIENT_SSL // everything but TLS
	p := []byte{10}
	p = append(p, "8.0.40\x00"...)
	p = binary.LittleEndian.AppendUint32(p, 1)
	p = append(p, "12345678"...)
	p = append(p, 0)
	p = binary.LittleEndian.AppendUint16(p, uint16(caps))
	p = append(p, 45)
	p = binary.LittleEndian.AppendUint16(p, mysql.SERVER_STATUS_AUTOCOMMIT)
	p = binary.LittleEndian.AppendUint16(p, uint16(caps>>16))
	p = append(p, 21)
	p = append(p, make([]byte, 10)...)
	p = append(p, "123456789012\x00"...)
	p = append(p, "mysql_native_password\x00"...)
	if _, err := c.Write(pkt(0, p...)); err != nil {
		got <- 0
		return
	}
	var hdr [4]byte
	if _, err := io.ReadFull(c, hdr[:]); err != nil {
		got <- 0
		return
	}
	body := make([]byte, int(hdr[0])|int(hdr[1])<<8|int(hdr[2])<<16)
	if _, err := io.ReadFull(c, body); err != nil || len(body) < 4 {
		got <- 0
		return
	}
	got <- binary.LittleEndian.Uint32(body)
	_, _ = c.Write(pkt(2, errPayload(1045, "28000", "Access denied for user 'u' ("+strconv.Itoa(len(body))+")")...))
}

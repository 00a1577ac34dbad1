package mysqlserver

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"testing"

	"github.com/go-mysql-org/go-mysql/mysql"
)

// The replies the gateway makes itself, byte for byte against MariaDB 10.11's for the same
// commands and client capabilities.

// readReply reads one whole reply to cmd (a command byte) from a connection with caps and
// returns its packets, headers included.
func readReply(t *testing.T, nc net.Conn, caps uint32, cmd byte) [][]byte {
	t.Helper()
	var out [][]byte
	next := func() []byte {
		var hdr [4]byte
		if _, err := io.ReadFull(nc, hdr[:]); err != nil {
			t.Fatalf("read reply: %v", err)
		}
		p := make([]byte, 4+(int(hdr[0])|int(hdr[1])<<8|int(hdr[2])<<16))
		copy(p, hdr[:])
		if _, err := io.ReadFull(nc, p[4:]); err != nil {
			t.Fatalf("read reply: %v", err)
		}
		out = append(out, p)
		return p[4:]
	}
	deprecateEOF := caps&mysql.CLIENT_DEPRECATE_EOF != 0
	isEnd := func(p []byte) bool { return (p[0] == mysql.EOF_HEADER && len(p) < 9) || p[0] == mysql.ERR_HEADER }
	first := next()
	switch {
	case first[0] == mysql.OK_HEADER && cmd == mysql.COM_STMT_PREPARE:
		cols, params := int(le16(first[5:])), int(le16(first[7:]))
		for _, n := range []int{params, cols} {
			for range n {
				next()
			}
			if n > 0 && !deprecateEOF {
				next()
			}
		}
	case first[0] == mysql.OK_HEADER, first[0] == mysql.ERR_HEADER, first[0] == mysql.EOF_HEADER:
	default: // a result set
		cols, _, _ := readLenEnc(first)
		for range cols {
			next()
		}
		if !deprecateEOF {
			next()
		}
		for !isEnd(next()) {
		}
	}
	return out
}

func TestRepliesMatchMariaDB(t *testing.T) {
	l := startServer(t, Config{}, newFakeHandler())
	script := []struct {
		name    string
		command []byte
	}{
		{"select 1", append([]byte{mysql.COM_QUERY}, "select 1"...)},
		{"use", append([]byte{mysql.COM_QUERY}, "USE "+compareDB...)},
		{"ping", []byte{mysql.COM_PING}},
		{"multi-statements off", []byte{mysql.COM_SET_OPTION, 1, 0}},
		{"multi-statements on", []byte{mysql.COM_SET_OPTION, 0, 0}},
		{"unknown option", []byte{mysql.COM_SET_OPTION, 5, 0}},
		{"prepare", append([]byte{mysql.COM_STMT_PREPARE}, "SELECT ?, 1"...)},
		{"reset connection", []byte{mysql.COM_RESET_CONNECTION}},
	}
	for _, variant := range []struct {
		name string
		caps uint32
	}{
		{"plain", compareCaps},
		{"deprecate eof", compareCaps | mysql.CLIENT_DEPRECATE_EOF},
		{"session track", compareCaps | mysql.CLIENT_SESSION_TRACK},
		{"both", compareCaps | mysql.CLIENT_DEPRECATE_EOF | mysql.CLIENT_SESSION_TRACK},
	} {
		t.Run(variant.name, func(t *testing.T) {
			maria, gw := dialBoth(t, l, variant.caps)
			for _, step := range script {
				for _, nc := range []net.Conn{maria, gw} {
					if err := WritePacket(nc, 0, step.command); err != nil {
						t.Fatal(err)
					}
				}
				want := readReply(t, maria, variant.caps, step.command[0])
				got := readReply(t, gw, variant.caps, step.command[0])
				if step.command[0] == mysql.COM_STMT_PREPARE && len(want[0]) > 8 && len(got[0]) > 8 {
					// Statement ids: MariaDB numbers them server-wide, the gateway per connection.
					copy(want[0][5:9], got[0][5:9])
				}
				if !bytes.Equal(bytes.Join(got, nil), bytes.Join(want, nil)) {
					t.Errorf("%s:\n gateway %s\n mariadb %s", step.name, quotePackets(got), quotePackets(want))
				}
			}
		})
	}
}

func quotePackets(ps [][]byte) string {
	var b bytes.Buffer
	for _, p := range ps {
		fmt.Fprintf(&b, "%q ", p)
	}
	return b.String()
}

package mysqlserver

import (
	"bytes"
	"compress/zlib"
	"crypto/rand"
	"errors"
	"io"
	"testing"

	"github.com/go-mysql-org/go-mysql/mysql"
)

// compressedFrames splits a stream of compressed packets into (header, payload) pairs.
func compressedFrames(t *testing.T, b []byte) (hdrs [][7]byte, payloads [][]byte) {
	t.Helper()
	for len(b) > 0 {
		if len(b) < 7 {
			t.Fatalf("truncated compressed header %x", b)
		}
		var h [7]byte
		copy(h[:], b)
		n := int(h[0]) | int(h[1])<<8 | int(h[2])<<16
		hdrs, payloads = append(hdrs, h), append(payloads, b[7:7+n])
		b = b[7+n:]
	}
	return hdrs, payloads
}

func TestCompressedWrite(t *testing.T) {
	cc := &captureConn{}
	z := newCompressedConn(cc, nil, &zlibPools{})
	random := make([]byte, 200)
	_, _ = rand.Read(random)
	compressible := bytes.Repeat([]byte("select 1; "), 100)
	huge := bytes.Repeat([]byte{'h'}, maxPayloadLen+10)
	for _, p := range [][]byte{[]byte("short"), compressible, random, huge} {
		if n, err := z.Write(p); err != nil || n != len(p) {
			t.Fatalf("write: %d %v", n, err)
		}
	}
	hdrs, payloads := compressedFrames(t, cc.out.Bytes())
	if len(hdrs) != 5 || cc.writes != 5 {
		t.Fatalf("%d compressed packets in %d writes, want 5", len(hdrs), cc.writes)
	}
	uncompressed := func(i int) int { return int(hdrs[i][4]) | int(hdrs[i][5])<<8 | int(hdrs[i][6])<<16 }
	for i, h := range hdrs {
		if h[3] != uint8(i) {
			t.Errorf("packet %d has compressed sequence %d", i, h[3])
		}
	}
	if uncompressed(0) != 0 || string(payloads[0]) != "short" {
		t.Errorf("a short payload is sent as is: %x", hdrs[0])
	}
	if uncompressed(1) != len(compressible) || len(payloads[1]) >= len(compressible) {
		t.Errorf("a compressible payload: %x, %d bytes", hdrs[1], len(payloads[1]))
	}
	if uncompressed(2) != 0 || !bytes.Equal(payloads[2], random) {
		t.Errorf("an incompressible payload is sent as is: %x", hdrs[2])
	}
	if uncompressed(3) != maxPayloadLen || uncompressed(4) != 0 || len(payloads[4]) != 10 {
		t.Errorf("16 MiB+10 bytes: %d + %d", uncompressed(3), uncompressed(4))
	}
	// What was written reads back, whatever the read sizes.
	r := newCompressedConn(&captureConn{}, cc.out.Bytes(), &zlibPools{})
	got, err := io.ReadAll(io.LimitReader(r, int64(5+len(compressible)+len(random)+len(huge))))
	if err != nil {
		t.Fatal(err)
	}
	if want := bytes.Join([][]byte{[]byte("short"), compressible, random, huge}, nil); !bytes.Equal(got, want) {
		t.Fatalf("read back %d bytes, want %d", len(got), len(want))
	}
}

// compressedPacket frames payload as one compressed packet, compressed if zipped.
func compressedPacket(seq uint8, payload []byte, zipped bool) []byte {
	body, plain := payload, 0
	if zipped {
		var b bytes.Buffer
		zw := zlib.NewWriter(&b)
		_, _ = zw.Write(payload)
		_ = zw.Close()
		body, plain = b.Bytes(), len(payload)
	}
	n := len(body)
	return append([]byte{byte(n), byte(n >> 8), byte(n >> 16), seq, byte(plain), byte(plain >> 8), byte(plain >> 16)}, body...)
}

func TestCompressedReadErrors(t *testing.T) {
	good := compressedPacket(0, []byte("hello, compressed world, hello, compressed world!!"), true)
	lying := append([]byte(nil), good...)
	lying[4]++ // announces one byte more than it holds
	short := append([]byte(nil), good...)
	short[4]-- // one byte less
	garbage := append(append([]byte(nil), good[:7]...), bytes.Repeat([]byte{0x55}, len(good)-7)...)
	cases := map[string][]byte{
		"out of order":     compressedPacket(1, []byte("x"), false),
		"announces more":   lying,
		"announces less":   short,
		"not zlib":         garbage,
		"truncated":        good[:len(good)-3],
		"truncated header": good[:5],
	}
	for name, in := range cases {
		z := newCompressedConn(&captureConn{}, in, &zlibPools{})
		_, err := io.ReadAll(z)
		if err == nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	var order *errCompressedOutOfOrder
	_, err := io.ReadAll(newCompressedConn(&captureConn{}, cases["out of order"], &zlibPools{}))
	if !errors.As(err, &order) || order.got != 1 || order.want != 0 {
		t.Errorf("out of order: %v", err)
	}
}

func TestRawCompressed(t *testing.T) {
	l := startServer(t, Config{}, newFakeHandler())
	r := dialRaw(t, l)
	r.greeting()
	r.write(1, buildHandshakeResponse(rawCaps|mysql.CLIENT_COMPRESS, "u", "p", r.nonce, ""))
	if p := r.mustRead(); p[0] != mysql.OK_HEADER {
		t.Fatalf("login: %q", p)
	}
	// A COM_QUERY whose MySQL packet spans two compressed packets, the second compressed.
	q := append([]byte{mysql.COM_QUERY}, "big "+string(bytes.Repeat([]byte{'q'}, 300))...)
	frame := frameOf(0, q)
	if _, err := r.c.Write(append(compressedPacket(0, frame[:100], false), compressedPacket(1, frame[100:], true)...)); err != nil {
		t.Fatal(err)
	}
	var hdr [7]byte
	if _, err := io.ReadFull(r.c, hdr[:]); err != nil {
		t.Fatal(err)
	}
	body := make([]byte, int(hdr[0])|int(hdr[1])<<8|int(hdr[2])<<16)
	if _, err := io.ReadFull(r.c, body); err != nil {
		t.Fatal(err)
	}
	// The reply continues the compressed sequence; its packet takes its sequence from it.
	if hdr[3] != 2 || hdr[4] != 0 || body[3] != 2 || body[4] != mysql.OK_HEADER {
		t.Fatalf("reply header %x body %x", hdr, body)
	}
	ok, err := ParseOK(body[4:], rawCaps)
	if err != nil || ok.AffectedRows != uint64(len(q)-1) {
		t.Fatalf("reply %+v %v", ok, err)
	}
	// The next command starts the compressed sequence again; a wrong one is refused.
	if _, err := r.c.Write(compressedPacket(5, frameOf(0, []byte{mysql.COM_PING}), false)); err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadFull(r.c, hdr[:]); err != nil {
		t.Fatal(err)
	}
	body = make([]byte, int(hdr[0])|int(hdr[1])<<8|int(hdr[2])<<16)
	_, _ = io.ReadFull(r.c, body)
	expectErrPacket(t, body[4:], mysql.ER_NET_PACKETS_OUT_OF_ORDER, "08S01")
	r.expectClosed()
}

func FuzzCompressedRead(f *testing.F) {
	ping := frameOf(0, []byte{mysql.COM_PING})
	query := frameOf(0, append([]byte{mysql.COM_QUERY}, bytes.Repeat([]byte("select 1 "), 20)...))
	f.Add(compressedPacket(0, ping, false))
	f.Add(compressedPacket(0, query, true))
	f.Add(append(compressedPacket(0, query[:50], false), compressedPacket(1, query[50:], true)...))
	f.Add([]byte{0xff, 0xff, 0xff, 0, 0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, data []byte) {
		z := newCompressedConn(&captureConn{}, data, &zlibPools{})
		p := newPacketReader(z, 64)
		p.anySeq = true
		for range 100 {
			frame, _, err := p.readPacket(0, 1<<20)
			if err != nil {
				return
			}
			if len(frame) < 4 || len(frame)-4 > 1<<20 {
				t.Fatalf("frame of %d bytes", len(frame))
			}
			z.startCommand(len(p.buffered()) > 0)
		}
	})
}

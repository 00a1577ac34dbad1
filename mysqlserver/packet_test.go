package mysqlserver

import (
	"bytes"
	"errors"
	"io"
	"testing"
)

// packets concatenates framed packets.
func packets(ps ...[]byte) []byte {
	var b bytes.Buffer
	for _, p := range ps {
		b.Write(p)
	}
	return b.Bytes()
}

func frameOf(seq uint8, payload []byte) []byte {
	n := len(payload)
	return append([]byte{byte(n), byte(n >> 8), byte(n >> 16), seq}, payload...)
}

// oneByteReader returns one byte per Read, the worst case for buffering.
type oneByteReader struct{ r io.Reader }

func (o oneByteReader) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	return o.r.Read(p[:1])
}

func TestReadPacket(t *testing.T) {
	big := bytes.Repeat([]byte{'b'}, 100)
	cases := []struct {
		name    string
		stream  []byte
		bufSize int
		limit   int
		want    [][]byte // payloads read before the error
		wantErr any      // *errPacketTooLarge, *errOutOfOrder, or an error value
	}{
		{name: "two commands", stream: packets(frameOf(0, []byte("ab")), frameOf(0, []byte("c"))), bufSize: 64, limit: 1000,
			want: [][]byte{[]byte("ab"), []byte("c")}, wantErr: io.EOF},
		{name: "empty payload", stream: frameOf(0, nil), bufSize: 64, limit: 1000, want: [][]byte{{}}, wantErr: io.EOF},
		{name: "bigger than buffer", stream: packets(frameOf(0, big), frameOf(0, []byte("x"))), bufSize: 16, limit: 1000,
			want: [][]byte{big, []byte("x")}, wantErr: io.EOF},
		{name: "exactly the buffer", stream: packets(frameOf(0, big[:12]), frameOf(0, big[:12])), bufSize: 16, limit: 1000,
			want: [][]byte{big[:12], big[:12]}, wantErr: io.EOF},
		{name: "at the limit", stream: frameOf(0, big), bufSize: 16, limit: 100, want: [][]byte{big}, wantErr: io.EOF},
		{name: "over the limit", stream: frameOf(0, big), bufSize: 16, limit: 99, wantErr: &errPacketTooLarge{}},
		{name: "wrong sequence", stream: frameOf(1, []byte("a")), bufSize: 16, limit: 99, wantErr: &errOutOfOrder{}},
		{name: "truncated header", stream: []byte{5, 0}, bufSize: 16, limit: 99, wantErr: io.ErrUnexpectedEOF},
		{name: "truncated payload", stream: []byte{5, 0, 0, 0, 'a'}, bufSize: 16, limit: 99, wantErr: io.ErrUnexpectedEOF},
		{name: "truncated big payload", stream: frameOf(0, big)[:50], bufSize: 16, limit: 1000, wantErr: io.ErrUnexpectedEOF},
	}
	for _, tc := range cases {
		for _, slow := range []bool{false, true} {
			var rd io.Reader = bytes.NewReader(tc.stream)
			if slow {
				rd = oneByteReader{rd}
			}
			p := newPacketReader(rd, tc.bufSize)
			var got [][]byte
			var err error
			for {
				var frame []byte
				if frame, _, err = p.readPacket(0, tc.limit); err != nil {
					break
				}
				if n := int(frame[0]) | int(frame[1])<<8 | int(frame[2])<<16; n != len(frame)-4 {
					t.Fatalf("%s: header says %d, payload %d", tc.name, n, len(frame)-4)
				}
				got = append(got, append([]byte{}, frame[4:]...))
			}
			if len(got) != len(tc.want) {
				t.Fatalf("%s (slow=%v): got %d packets, want %d", tc.name, slow, len(got), len(tc.want))
			}
			for i := range got {
				if !bytes.Equal(got[i], tc.want[i]) {
					t.Fatalf("%s: packet %d = %q", tc.name, i, got[i])
				}
			}
			switch want := tc.wantErr.(type) {
			case *errPacketTooLarge:
				if !errors.As(err, &want) {
					t.Fatalf("%s: err %v, want too large", tc.name, err)
				}
			case *errOutOfOrder:
				if !errors.As(err, &want) {
					t.Fatalf("%s: err %v, want out of order", tc.name, err)
				}
			case error:
				if !errors.Is(err, want) {
					t.Fatalf("%s: err %v, want %v", tc.name, err, want)
				}
			}
		}
	}
}

func TestWritePacketSplitsAndReadPacketJoins(t *testing.T) {
	for _, n := range []int{0, 1, maxPayloadLen - 1, maxPayloadLen, maxPayloadLen + 1, 2 * maxPayloadLen} {
		payload := bytes.Repeat([]byte{0xab}, n)
		var buf bytes.Buffer
		if err := WritePacket(&buf, 3, payload); err != nil {
			t.Fatal(err)
		}
		wantPackets := n/maxPayloadLen + 1
		if got := buf.Len() - n; got != 4*wantPackets {
			t.Fatalf("n=%d: %d header bytes, want %d packets", n, got, wantPackets)
		}
		p := newPacketReader(&buf, readBufSize)
		frame, last, err := p.readPacket(3, 3*maxPayloadLen)
		if err != nil {
			t.Fatalf("n=%d: %v", n, err)
		}
		if len(frame)-4 != n || last != uint8(3+wantPackets-1) {
			t.Fatalf("n=%d: read %d bytes, last seq %d", n, len(frame)-4, last)
		}
		if n > 0 && (frame[4] != 0xab || frame[len(frame)-1] != 0xab) {
			t.Fatalf("n=%d: payload corrupted", n)
		}
	}
}

func TestReadPacketMultiLimits(t *testing.T) {
	var buf bytes.Buffer
	if err := WritePacket(&buf, 0, make([]byte, maxPayloadLen+10)); err != nil {
		t.Fatal(err)
	}
	stream := buf.Bytes()
	var tooLarge *errPacketTooLarge
	if _, _, err := newPacketReader(bytes.NewReader(stream), 64).readPacket(0, maxPayloadLen+9); !errors.As(err, &tooLarge) || tooLarge.remaining != 10 {
		t.Fatalf("limit across packets: %v", err)
	}
	bad := append([]byte(nil), stream...)
	bad[4+maxPayloadLen+3] = 7 // second packet's sequence id
	var order *errOutOfOrder
	if _, _, err := newPacketReader(bytes.NewReader(bad), 64).readPacket(0, 1<<30); !errors.As(err, &order) || order.want != 1 {
		t.Fatalf("sequence across packets: %v", err)
	}
}

func TestLenEnc(t *testing.T) {
	for _, v := range []uint64{0, 250, 251, 0xffff, 0x10000, 0xffffff, 0x1000000, 1<<64 - 1} {
		b := appendLenEnc(nil, v)
		got, n, ok := readLenEnc(b)
		if !ok || got != v || n != len(b) {
			t.Fatalf("%d: got %d %d %v", v, got, n, ok)
		}
		for i := range len(b) - 1 {
			if _, _, ok := readLenEnc(b[:i]); ok {
				t.Fatalf("%d truncated to %d bytes decoded", v, i)
			}
		}
	}
	for _, b := range [][]byte{{0xfb}, {0xff}, {}} {
		if _, _, ok := readLenEnc(b); ok {
			t.Fatalf("%x decoded", b)
		}
	}
	if _, _, ok := readLenEncString([]byte{3, 'a', 'b'}); ok {
		t.Fatal("truncated string decoded")
	}
	if s, n, ok := readLenEncString([]byte{2, 'a', 'b', 'c'}); !ok || string(s) != "ab" || n != 3 {
		t.Fatalf("string: %q %d %v", s, n, ok)
	}
}

func FuzzReadPacket(f *testing.F) {
	f.Add(packets(frameOf(0, []byte("\x03select 1")), frameOf(1, []byte("x"))), uint8(16), uint32(100))
	f.Add(frameOf(0, bytes.Repeat([]byte{1}, 40)), uint8(8), uint32(1000))
	f.Add([]byte{0xff, 0xff, 0xff, 0, 1, 2, 3}, uint8(4), uint32(1<<20))
	f.Add([]byte{1, 0, 0}, uint8(4), uint32(10))
	f.Fuzz(func(t *testing.T, data []byte, bufSize uint8, limit uint32) {
		lim := int(limit % (1 << 20)) // bounds what a header may make us allocate
		p := newPacketReader(bytes.NewReader(data), int(bufSize%64)+4)
		seq := uint8(0)
		for range 1000 {
			frame, last, err := p.readPacket(seq, lim)
			if err != nil {
				return
			}
			if len(frame) < 4 || len(frame)-4 > lim {
				t.Fatalf("frame of %d bytes with limit %d", len(frame), lim)
			}
			seq = last + 1
		}
	})
}

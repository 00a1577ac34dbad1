package mysqlserver

// Packet framing: every MySQL packet is a 3-byte little-endian payload length, a 1-byte
// sequence id and the payload. Payloads of 16 MiB-1 or more are split into packets of exactly
// 0xffffff bytes followed by a shorter one (possibly empty).
// https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_basic_packets.html
// https://mariadb.com/kb/en/0-packet/

import (
	"errors"
	"fmt"
	"io"
	"net"
)

const (
	// maxPayloadLen is the largest payload one packet carries; a packet of exactly this
	// size says "more follows".
	maxPayloadLen = 1<<24 - 1
	// readBufSize is the per-connection read buffer: a command that fits is read with one
	// read system call and handed to the handler without a copy.
	readBufSize = 16 << 10
)

// errPacketTooLarge reports a packet whose declared size is over the limit. The payload
// has not been read: the stream is desynchronised and the connection must be closed.
type errPacketTooLarge struct {
	seq       uint8 // sequence id of the offending packet
	remaining int   // payload bytes of the offending packet still unread
}

func (e *errPacketTooLarge) Error() string {
	return fmt.Sprintf("packet larger than the limit (%d bytes unread)", e.remaining)
}

// errOutOfOrder reports a packet with an unexpected sequence id.
type errOutOfOrder struct{ got, want uint8 }

func (e *errOutOfOrder) Error() string {
	return fmt.Sprintf("packet sequence %d, want %d", e.got, e.want)
}

// packetReader reads packets through its own buffer. It is owned by the connection's
// goroutine.
type packetReader struct {
	rd   io.Reader
	buf  []byte // buffered bytes are buf[r:w]
	r, w int
	// anySeq accepts any sequence id: under the compressed protocol only the compressed
	// packets' sequence is checked, as MySQL and MariaDB do.
	anySeq bool
}

func newPacketReader(rd io.Reader, size int) *packetReader {
	if size < 4 {
		size = 4
	}
	return &packetReader{rd: rd, buf: make([]byte, size)}
}

// fill makes sure at least need (<= len(buf)) bytes are buffered.
func (p *packetReader) fill(need int) error {
	if p.w-p.r >= need {
		return nil
	}
	if p.r+need > len(p.buf) {
		// Slide the partial packet to the front; it is at most one buffer long.
		p.w = copy(p.buf, p.buf[p.r:p.w])
		p.r = 0
	}
	for empty := 0; p.w-p.r < need; {
		n, err := p.rd.Read(p.buf[p.w:])
		p.w += n
		if p.w-p.r >= need {
			return nil
		}
		if err != nil {
			if errors.Is(err, io.EOF) && p.w > p.r {
				return io.ErrUnexpectedEOF
			}
			return err
		}
		if n == 0 {
			if empty++; empty > 100 {
				return io.ErrNoProgress
			}
		}
	}
	return nil
}

// buffered returns the bytes read from the socket but not consumed yet.
func (p *packetReader) buffered() []byte { return p.buf[p.r:p.w] }

// reset points the reader at a new source (after a TLS upgrade) and drops the buffer.
func (p *packetReader) reset(rd io.Reader) {
	p.rd = rd
	p.r, p.w = 0, 0
}

// readInto appends n payload bytes to dst, using the buffered bytes first and then reading
// straight into dst, so a big payload is not copied twice.
func (p *packetReader) readInto(dst []byte, n int) ([]byte, error) {
	take := min(n, p.w-p.r)
	dst = append(dst, p.buf[p.r:p.r+take]...)
	p.r += take
	if p.r == p.w {
		p.r, p.w = 0, 0
	}
	if rest := n - take; rest > 0 {
		return readGrowing(p.rd, dst, rest)
	}
	return dst, nil
}

// growStep is the first step of readGrowing: a packet's buffer starts at this (or its size,
// when smaller) and doubles as its bytes arrive.
const growStep = 64 << 10

// readGrowing appends exactly n bytes read from r to dst. The buffer grows as the bytes
// arrive (doubling, from growStep), never to a size only announced: a client that declares
// a 64 MiB packet and sends 10 bytes costs 64 KiB, not 64 MiB.
func readGrowing(r io.Reader, dst []byte, n int) ([]byte, error) {
	for n > 0 {
		step := min(n, max(growStep, len(dst)))
		start := len(dst)
		dst = growLen(dst, step)
		if _, err := io.ReadFull(r, dst[start:]); err != nil {
			if errors.Is(err, io.EOF) {
				err = io.ErrUnexpectedEOF
			}
			return dst, err
		}
		n -= step
	}
	return dst, nil
}

// discard skips n bytes (the unread payload of a refused packet).
func (p *packetReader) discard(n int) error {
	take := min(n, p.w-p.r)
	p.r += take
	if rest := n - take; rest > 0 {
		_, err := io.CopyN(io.Discard, p.rd, int64(rest))
		return err
	}
	return nil
}

// header reads a packet header: payload length and sequence id.
func (p *packetReader) header() (int, uint8, error) {
	if err := p.fill(4); err != nil {
		return 0, 0, err
	}
	b := p.buf[p.r : p.r+4]
	p.r += 4
	return int(b[0]) | int(b[1])<<8 | int(b[2])<<16, b[3], nil
}

// readPacket reads one logical packet whose first part has sequence id seq and whose
// (reassembled) payload is at most limit bytes. It returns the frame (4 header bytes +
// payload) and the sequence id of the last physical packet. A frame that fits the buffer
// aliases it and is valid until the next call; bigger frames are freshly allocated. For a
// reassembled payload (>= 16 MiB-1) the header bytes say 0xffffff and seq.
func (p *packetReader) readPacket(seq uint8, limit int) ([]byte, uint8, error) {
	n, got, err := p.header()
	if err != nil {
		return nil, 0, err
	}
	if got != seq && !p.anySeq {
		return nil, got, &errOutOfOrder{got: got, want: seq}
	}
	if n > limit {
		return nil, got, &errPacketTooLarge{seq: got, remaining: n}
	}
	if n < maxPayloadLen && 4+n <= len(p.buf) {
		// Fast path: the whole packet is (or will be, after one read) in the buffer.
		p.r -= 4
		if err := p.fill(4 + n); err != nil {
			return nil, got, err
		}
		frame := p.buf[p.r : p.r+4+n : p.r+4+n]
		p.r += 4 + n
		if p.r == p.w {
			p.r, p.w = 0, 0
		}
		return frame, got, nil
	}
	frame := make([]byte, 4, min(4+n, growStep)) // grown as the payload arrives (readGrowing)
	frame[0], frame[1], frame[2], frame[3] = byte(n), byte(n>>8), byte(n>>16), got
	for {
		if frame, err = p.readInto(frame, n); err != nil {
			return nil, got, err
		}
		if n < maxPayloadLen {
			return frame, got, nil
		}
		want := got + 1
		if n, got, err = p.header(); err != nil {
			return nil, got, err
		}
		if got != want && !p.anySeq {
			return nil, got, &errOutOfOrder{got: got, want: want}
		}
		if len(frame)-4+n > limit {
			return nil, got, &errPacketTooLarge{seq: got, remaining: n}
		}
	}
}

// readPhysical reads one packet as sent (header and payload, no reassembly). The frame
// aliases the read buffer when it fits, else dst (grown as needed, returned for reuse); it is
// valid until the next read.
func (p *packetReader) readPhysical(dst []byte) (frame, newDst []byte, err error) {
	n, _, err := p.header()
	if err != nil {
		return nil, dst, err
	}
	if 4+n <= len(p.buf) {
		p.r -= 4
		if err := p.fill(4 + n); err != nil {
			return nil, dst, err
		}
		frame = p.buf[p.r : p.r+4+n : p.r+4+n]
		p.r += 4 + n
		if p.r == p.w {
			p.r, p.w = 0, 0
		}
		return frame, dst, nil
	}
	dst = append(dst[:0], p.buf[p.r-4:p.r]...)
	if dst, err = p.readInto(dst, n); err != nil {
		return nil, dst, err
	}
	return dst, dst, nil
}

// growLen extends b by n bytes (contents of the new bytes unspecified).
func growLen(b []byte, n int) []byte {
	if cap(b)-len(b) >= n {
		return b[:len(b)+n]
	}
	nb := make([]byte, len(b)+n, len(b)+n+len(b)/4)
	copy(nb, b)
	return nb
}

// WritePacket writes payload as one or more packets starting at sequence id seq, splitting
// payloads of 16 MiB-1 bytes or more as the protocol requires. Each physical packet is
// handed to w with one Write of header and payload (net.Buffers: writev on a socket).
func WritePacket(w io.Writer, seq uint8, payload []byte) error {
	for {
		n := min(len(payload), maxPayloadLen)
		hdr := [4]byte{byte(n), byte(n >> 8), byte(n >> 16), seq}
		bufs := net.Buffers{hdr[:], payload[:n]}
		if _, err := bufs.WriteTo(w); err != nil {
			return err
		}
		payload = payload[n:]
		seq++
		if n < maxPayloadLen {
			return nil
		}
	}
}

// Length-encoded integers and strings, read defensively (never past the slice).
// https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_basic_dt_integers.html

// readLenEnc decodes a length-encoded integer at the start of b. ok is false when b is
// truncated or starts with 0xfb (NULL) or 0xff (never valid).
func readLenEnc(b []byte) (v uint64, n int, ok bool) {
	if len(b) == 0 {
		return 0, 0, false
	}
	switch c := b[0]; {
	case c < 0xfb:
		return uint64(c), 1, true
	case c == 0xfc:
		if len(b) < 3 {
			return 0, 0, false
		}
		return uint64(b[1]) | uint64(b[2])<<8, 3, true
	case c == 0xfd:
		if len(b) < 4 {
			return 0, 0, false
		}
		return uint64(b[1]) | uint64(b[2])<<8 | uint64(b[3])<<16, 4, true
	case c == 0xfe:
		if len(b) < 9 {
			return 0, 0, false
		}
		return le64(b[1:9]), 9, true
	}
	return 0, 0, false
}

// readLenEncString returns the length-encoded string at the start of b and the bytes used.
func readLenEncString(b []byte) (s []byte, n int, ok bool) {
	l, n, ok := readLenEnc(b)
	if !ok || l > uint64(len(b)-n) {
		return nil, 0, false
	}
	end := n + int(l)
	return b[n:end:end], end, true
}

// readNulString returns the NUL-terminated string at the start of b and the bytes used
// (including the NUL).
func readNulString(b []byte) (s []byte, n int, ok bool) {
	for i, c := range b {
		if c == 0 {
			return b[:i:i], i + 1, true
		}
	}
	return nil, 0, false
}

func le16(b []byte) uint16 { return uint16(b[0]) | uint16(b[1])<<8 }
func le32(b []byte) uint32 {
	return uint32(b[0]) | uint32(b[1])<<8 | uint32(b[2])<<16 | uint32(b[3])<<24
}
func le64(b []byte) uint64 { return uint64(le32(b)) | uint64(le32(b[4:]))<<32 }

func appendLenEnc(b []byte, v uint64) []byte {
	switch {
	case v < 0xfb:
		return append(b, byte(v))
	case v <= 0xffff:
		return append(b, 0xfc, byte(v), byte(v>>8))
	case v <= 0xffffff:
		return append(b, 0xfd, byte(v), byte(v>>8), byte(v>>16))
	}
	return append(b, 0xfe, byte(v), byte(v>>8), byte(v>>16), byte(v>>24),
		byte(v>>32), byte(v>>40), byte(v>>48), byte(v>>56))
}

func appendLenEncString(b []byte, s []byte) []byte {
	return append(appendLenEnc(b, uint64(len(s))), s...)
}

func appendLenEncStr(b []byte, s string) []byte {
	return append(appendLenEnc(b, uint64(len(s))), s...)
}

func appendUint16(b []byte, v uint16) []byte { return append(b, byte(v), byte(v>>8)) }
func appendUint32(b []byte, v uint32) []byte {
	return append(b, byte(v), byte(v>>8), byte(v>>16), byte(v>>24))
}

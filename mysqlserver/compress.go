package mysqlserver

// The compressed protocol (CLIENT_COMPRESS, zlib): after the handshake's OK, everything in
// both directions travels in compressed packets: a 3-byte compressed length, a compressed
// sequence id, a 3-byte uncompressed length (0: the payload is not compressed), then the
// payload. The stream inside is the ordinary one (MySQL packets with their own sequence ids),
// and one MySQL packet may span compressed packets. The compressed sequence restarts at 0
// with each command and runs on through the reply, as MySQL's does. As in MySQL and MariaDB,
// only the compressed sequence is checked, and the packets the Conn writes take their
// sequence id from it (net_flush's pkt_nr = compress_pkt_nr), which is what clients expect
// after a command that spanned several compressed packets.
// https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_basic_compression.html
// https://mariadb.com/kb/en/0-packet/#compressed-packet

import (
	"bufio"
	"bytes"
	"compress/zlib"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
)

const (
	compressedHeaderLen = 7
	// minCompressLen: shorter payloads are sent uncompressed (MySQL's MIN_COMPRESS_LENGTH).
	minCompressLen = 50
	// compressionLevel favours speed: the gateway compresses every reply of every
	// compressed client.
	compressionLevel = zlib.BestSpeed
)

// errCompressedOutOfOrder reports a compressed packet with an unexpected sequence id.
type errCompressedOutOfOrder struct{ got, want uint8 }

func (e *errCompressedOutOfOrder) Error() string {
	return fmt.Sprintf("compressed packet sequence %d, want %d", e.got, e.want)
}

// zlibPools keeps zlib writers (some hundred KiB each) and readers for the connections that
// need one for the length of a packet, so an idle compressed connection holds neither.
type zlibPools struct {
	writers sync.Pool // *zlib.Writer
	readers sync.Pool // io.ReadCloser that is a zlib.Resetter
}

// compressedConn is the compression layer between the Conn's packet reader and writers and
// the client's socket (or TLS connection). Owned by the connection's goroutine.
type compressedConn struct {
	net.Conn // carries the compressed packets
	pools    *zlibPools
	in       *bufio.Reader // compressed stream from the client
	seq      uint8         // compressed sequence id of the next packet, either way

	out   []byte // decompressed bytes; out[o:] not yet read
	o     int
	spare []byte // the other buffer of a compressed packet's payload
	hdr   [compressedHeaderLen]byte

	wbuf []byte      // compressed packets under construction
	sink sliceWriter // zlib's output: appends to wbuf
}

// sliceWriter appends what is written to *b.
type sliceWriter struct{ b *[]byte }

func (w sliceWriter) Write(p []byte) (int, error) {
	*w.b = append(*w.b, p...)
	return len(p), nil
}

// newCompressedConn layers compression over nc; pending are compressed bytes already read
// from nc.
func newCompressedConn(nc net.Conn, pending []byte, pools *zlibPools) *compressedConn {
	var src io.Reader = nc
	if len(pending) > 0 {
		src = io.MultiReader(bytes.NewReader(pending), nc)
	}
	z := &compressedConn{Conn: nc, pools: pools, in: bufio.NewReaderSize(src, readBufSize)}
	z.sink = sliceWriter{&z.wbuf}
	return z
}

// startCommand restarts the compressed sequence for a command, unless bytes of the next
// command are already here (a client that put two commands in one compressed packet: its
// next packet continues the sequence).
func (z *compressedConn) startCommand(buffered bool) {
	if z.o == len(z.out) && !buffered {
		z.seq = 0
	}
}

// pendingInput says whether some input (compressed or not) is waiting to be read.
func (z *compressedConn) pendingInput() bool { return z.o < len(z.out) || z.in.Buffered() > 0 }

// awaitInput blocks until the client sends a byte. It consumes nothing, so it may be
// retried after a read deadline.
func (z *compressedConn) awaitInput() error {
	if z.pendingInput() {
		return nil
	}
	_, err := z.in.Peek(1)
	return err
}

// Read returns decompressed bytes, reading one compressed packet when none are left.
func (z *compressedConn) Read(p []byte) (int, error) {
	for z.o == len(z.out) {
		if err := z.readPacket(); err != nil {
			return 0, err
		}
	}
	n := copy(p, z.out[z.o:])
	z.o += n
	if z.o == len(z.out) && cap(z.out) > maxKeptBuf {
		z.out, z.o = nil, 0
	}
	return n, nil
}

// readPacket reads one compressed packet into out.
func (z *compressedConn) readPacket() error {
	if _, err := io.ReadFull(z.in, z.hdr[:]); err != nil {
		return err
	}
	n := int(z.hdr[0]) | int(z.hdr[1])<<8 | int(z.hdr[2])<<16
	seq := z.hdr[3]
	plain := int(z.hdr[4]) | int(z.hdr[5])<<8 | int(z.hdr[6])<<16
	if seq != z.seq {
		return &errCompressedOutOfOrder{got: seq, want: z.seq}
	}
	z.seq++
	payload, err := readGrowing(z.in, z.spare[:0], n) // grown as the bytes arrive
	if err != nil {
		return err
	}
	if plain == 0 {
		z.spare, z.out, z.o = z.out, payload, 0 // sent uncompressed: swap the buffers
		return nil
	}
	z.spare = payload
	out, err := z.inflate(payload, z.out[:0], plain)
	if err != nil {
		return err
	}
	z.out, z.o = out, 0
	if cap(z.spare) > maxKeptBuf {
		z.spare = nil
	}
	return nil
}

// inflate decompresses src, which must be exactly plain bytes, appending them to dst: the
// buffer grows as the bytes come out (readGrowing), so a packet announcing 16 MiB that
// inflates to little costs little.
func (z *compressedConn) inflate(src, dst []byte, plain int) ([]byte, error) {
	br := bytes.NewReader(src)
	var zr io.ReadCloser
	var err error
	if r, ok := z.pools.readers.Get().(io.ReadCloser); ok {
		zr = r
		err = r.(zlib.Resetter).Reset(br, nil)
	} else {
		zr, err = zlib.NewReader(br)
	}
	if err != nil {
		return nil, fmt.Errorf("compressed packet: %w", err)
	}
	defer z.pools.readers.Put(zr)
	dst, err = readGrowing(zr, dst, plain)
	if err != nil {
		return nil, fmt.Errorf("compressed packet shorter than its announced %d bytes: %w", plain, err)
	}
	var one [1]byte
	if n, err := zr.Read(one[:]); n != 0 || !errors.Is(err, io.EOF) {
		if err == nil || errors.Is(err, io.EOF) {
			err = errors.New("more data than announced")
		}
		return nil, fmt.Errorf("compressed packet: %w", err)
	}
	return dst, nil
}

// Write sends p as compressed packets (one per 16 MiB-1 bytes of p), each with one Write.
func (z *compressedConn) Write(p []byte) (int, error) {
	written := 0
	for len(p) > 0 {
		chunk := p[:min(len(p), maxPayloadLen)]
		z.appendPacket(chunk)
		_, err := z.Conn.Write(z.wbuf)
		z.wbuf = z.wbuf[:0]
		if err != nil {
			return written, err
		}
		written += len(chunk)
		p = p[len(chunk):]
	}
	if cap(z.wbuf) > maxKeptBuf {
		z.wbuf = nil
	}
	return written, nil
}

// appendPacket appends chunk as one compressed packet to wbuf: zlib-compressed when it is
// long enough and compression makes it shorter, as is otherwise.
func (z *compressedConn) appendPacket(chunk []byte) {
	z.wbuf = append(z.wbuf[:0], 0, 0, 0, 0, 0, 0, 0)
	plain := 0
	if len(chunk) >= minCompressLen && z.deflate(chunk) && len(z.wbuf)-compressedHeaderLen < len(chunk) {
		plain = len(chunk)
	} else {
		z.wbuf = append(z.wbuf[:compressedHeaderLen], chunk...)
	}
	n := len(z.wbuf) - compressedHeaderLen
	z.wbuf[0], z.wbuf[1], z.wbuf[2], z.wbuf[3] = byte(n), byte(n>>8), byte(n>>16), z.seq
	z.wbuf[4], z.wbuf[5], z.wbuf[6] = byte(plain), byte(plain>>8), byte(plain>>16)
	z.seq++
}

// deflate appends chunk, zlib-compressed, to wbuf.
func (z *compressedConn) deflate(chunk []byte) bool {
	zw, ok := z.pools.writers.Get().(*zlib.Writer)
	if ok {
		zw.Reset(z.sink)
	} else {
		var err error
		if zw, err = zlib.NewWriterLevel(z.sink, compressionLevel); err != nil {
			return false
		}
	}
	defer z.pools.writers.Put(zw)
	if _, err := zw.Write(chunk); err != nil {
		return false
	}
	return zw.Close() == nil
}

// startCompression puts the compression layer under the Conn's reader and writers.
func (c *Conn) startCompression() {
	z := newCompressedConn(c.conn, append([]byte(nil), c.rd.buffered()...), &c.l.zlib)
	c.zc, c.conn = z, z
	c.rd.reset(z)
	c.rd.anySeq = true
}

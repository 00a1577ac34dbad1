package backendconn

// Packet I/O of the connection phase. Reads are exact (header, then payload), so the socket
// is left right after the last packet read: nothing is buffered that the caller would lose.
// https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_basic_packets.html

import (
	"errors"
	"fmt"
	"io"
	"net"
)

// maxHandshakePacket bounds a connection-phase packet (an RSA public key is the biggest).
const maxHandshakePacket = 1 << 20

// phase is one connection phase in progress on one socket.
type phase struct {
	conn net.Conn // the socket, or the TLS connection over it after the upgrade
	seq  uint8    // sequence id of the next packet
	hdr  [4]byte
	wbuf []byte
}

// read returns the next packet's payload, checking its sequence id.
func (p *phase) read() ([]byte, error) {
	if _, err := io.ReadFull(p.conn, p.hdr[:]); err != nil {
		return nil, readErr(err)
	}
	n := int(p.hdr[0]) | int(p.hdr[1])<<8 | int(p.hdr[2])<<16
	if p.hdr[3] != p.seq {
		return nil, fmt.Errorf("packet sequence %d, want %d", p.hdr[3], p.seq)
	}
	if n > maxHandshakePacket {
		return nil, fmt.Errorf("connection-phase packet of %d bytes (limit %d)", n, maxHandshakePacket)
	}
	p.seq++
	payload := make([]byte, n)
	if _, err := io.ReadFull(p.conn, payload); err != nil {
		return nil, readErr(err)
	}
	return payload, nil
}

func readErr(err error) error {
	if errors.Is(err, io.EOF) {
		return fmt.Errorf("server closed the connection during the handshake: %w", io.ErrUnexpectedEOF)
	}
	return err
}

// write sends payload as one packet (connection-phase packets are small) with one Write.
func (p *phase) write(payload []byte) error {
	n := len(payload)
	if n >= 1<<24-1 {
		return fmt.Errorf("connection-phase packet of %d bytes", n)
	}
	p.wbuf = append(p.wbuf[:0], byte(n), byte(n>>8), byte(n>>16), p.seq)
	p.wbuf = append(p.wbuf, payload...)
	p.seq++
	_, err := p.conn.Write(p.wbuf)
	return err
}

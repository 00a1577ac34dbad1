package tabletserver

// LOAD DATA LOCAL INFILE: the server answers the statement with a 0xFB packet naming a file;
// the client sends the file as packets and ends it with an empty one; the server then answers
// with OK or ERR. The gateway relays the client's packets verbatim, one at a time (never the
// whole file in memory). A backend connection negotiates CLIENT_LOCAL_FILES only when its
// client did (and the gateway allows it), so a server asks only clients that agreed.
// https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_com_query_response_local_infile_request.html

import (
	"errors"
	"io"
)

// relayInfile copies the client's packets to the backend up to and including the empty packet
// that ends the file. A client that fails mid-file is gone: the backend connection, which
// still waits for the rest, is then unusable too.
// seq is the sequence id the client's first packet must have; relayInfile returns that of the
// last packet relayed.
func (c *Conn) relayInfile(in PacketReader, w io.Writer, seq uint8) (uint8, error) {
	if in == nil || w == nil {
		// Nobody to ask for the file (a statement the gateway sent itself): an empty file.
		if _, err := c.rw.Write([]byte{0, 0, 0, seq}); err != nil {
			return seq, &forwardError{backend: true, err: err}
		}
		return seq, nil
	}
	for {
		frame, err := in.ReadPacket()
		if err != nil {
			if errors.Is(err, io.EOF) {
				err = io.ErrUnexpectedEOF
			}
			return seq, &forwardError{err: err} // the client side
		}
		if len(frame) < 4 {
			return seq, &forwardError{err: errors.New("short packet from client")}
		}
		seq = frame[3]
		if _, err := c.rw.Write(frame); err != nil {
			return seq, &forwardError{backend: true, err: err}
		}
		if len(frame) == 4 {
			return seq, nil // the empty packet: end of file
		}
	}
}

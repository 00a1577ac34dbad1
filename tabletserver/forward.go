package tabletserver

// The forwarder: reads a backend reply into the connection's buffer and writes it verbatim to
// the client, one write per backend read. It walks packet headers only: rows and column
// definitions are counted and passed through unread, even when they are bigger than the buffer,
// so a result of any size streams through a fixed buffer. Only the small packets that decide
// where the reply ends (OK, ERR, EOF, column count, prepare OK, LOCAL INFILE request) must fit
// whole in the buffer, which grows for them if ever needed. An OK whose session-tracking
// information the client must not get in full is rewritten in the buffer (track.go).

import (
	"errors"
	"fmt"
	"io"

	"github.com/go-mysql-org/go-mysql/mysql"
)

// Buffer sizes of a backend connection.
const (
	defaultBufSize = 64 << 10 // one read usually holds a whole small result
	maxKeptBufSize = 1 << 20  // a buffer grown past this is dropped after the reply
)

// Why a running query is being stopped (Conn.reason).
const (
	reasonNone    uint32 = iota
	reasonTimeout        // the query timeout fired
	reasonCancel         // the caller's context was cancelled
	reasonMaxRows        // the result has more than MaxResultRows rows
	reasonKilled         // Conn.KillQuery (a client's KILL QUERY, the gateway stopping)
)

// Result describes a reply forwarded by Exec, Prepare or ExecStmt.
type Result struct {
	// Status is the status flags of the final OK or EOF (SERVER_STATUS_IN_TRANS,
	// SERVER_STATUS_AUTOCOMMIT...) when StatusKnown, else 0.
	Status uint16
	// StatusKnown reports that the reply ended with an OK or EOF carrying status flags, so
	// that Status is the session's state after the command. It is false for an ERR reply, a
	// COM_STMT_PREPARE reply without parameters and columns (its only packet, the prepare OK,
	// has no status), COM_STATISTICS, the commands without a reply, and a reply cut short by a
	// broken connection. Act on Status only when StatusKnown: a 0 there is not "autocommit off".
	StatusKnown bool
	// SawInTrans: some OK or EOF of the reply, an intermediate one included, had IN_TRANS.
	SawInTrans bool
	// Err is the backend's ERR packet, already forwarded to the client: not an error of Exec.
	Err *mysql.MyError
	// Forwarded reports whether any byte of the reply reached the client. When Exec fails with
	// Forwarded set (and not Complete), the caller writes its error packet with sequence id
	// NextSeq, unless MidPacket.
	Forwarded bool
	// MidPacket: the client got part of a packet (the reply broke inside a row): no error
	// packet can follow; the client's connection must be closed.
	MidPacket bool
	// Complete reports that the reply was read to its end and all of it written to the
	// client: there is nothing to add to it, not even an error packet. Exec can fail with
	// Complete set only with a *ReplyCompleteError.
	Complete bool
	// NextSeq is the sequence id of the first packet the client has not received.
	NextSeq uint8
	// Rows counts the rows of every result set of the reply; LastRows those of the last one,
	// when ResultSet says the reply's last result was rows (not an OK).
	Rows, LastRows uint64
	ResultSet      bool
	// Affected and InsertID are the final OK's; Warnings the final OK's or EOF's; LastInsertID
	// the last non-zero insert id of any OK of the reply.
	Affected, InsertID, LastInsertID uint64
	Warnings                         uint16
	// Vars are the system variables session tracking reported changed (valid until the
	// connection's next command), Schema the database it reported (SchemaChanged).
	Vars          []TrackedVar
	Schema        string
	SchemaChanged bool
	// StateChanged: session tracking reported a change of session state
	// (SESSION_TRACK_STATE_CHANGE), or an EOF had SERVER_SESSION_STATE_CHANGED.
	StateChanged bool
}

// PacketReader reads the client's next packet, header included, as it was sent: the
// forwarder relays the file a client sends for LOAD DATA LOCAL INFILE.
type PacketReader interface {
	ReadPacket() ([]byte, error)
}

// forwardError is what forward returns: which side failed, for Exec to turn into a MyError.
type forwardError struct {
	backend bool // reading the backend (else writing to the client)
	err     error
}

func (e *forwardError) Error() string { return e.err.Error() }
func (e *forwardError) Unwrap() error { return e.err }

// errStopped is returned by forward when it stopped forwarding on c.reason and drained the rest.
var errStopped = errors.New("forwarding stopped")

// forward reads the reply to the command just sent, driven by c.parser (reset by the caller),
// and writes it to w; w == nil discards it. It stops forwarding at a packet boundary once
// c.reason is set (the rest is drained, errStopped returned), and sets it itself when the rows
// exceed c.maxRows. in gives the client's packets when the server asks for a LOCAL INFILE.
func (c *Conn) forward(w io.Writer, in PacketReader) (Result, error) {
	var (
		res     Result
		p       = &c.parser
		buf     = c.buf
		r, pos  int   // buf[r:pos] is parsed and not yet written; buf[pos:n] is unparsed
		n       int   // end of the data in buf
		pass    int   // bytes of the current packet's payload to pass through unread
		cont    bool  // the current opaque packet is maxPayload long: a continuation follows
		stopped bool  // nothing from stopAt on is forwarded
		stopAt  int   //
		lastSeq uint8 // sequence id of the last packet parsed
	)
	// Bytes of the next reply that came with the previous one (pipelined commands).
	n, c.pending = c.pending, 0
	res.NextSeq = 1 // a reply starts at 1 after a one-packet command
	started := false
	for {
		// Parse as far as the data goes.
		for {
			if pass > 0 {
				k := min(pass, n-pos)
				pos += k
				pass -= k
				if pass > 0 {
					break
				}
			}
			if !cont && (p.done() || p.state == stInfile) {
				break
			}
			if n-pos < 4 {
				break
			}
			length := int(buf[pos]) | int(buf[pos+1])<<8 | int(buf[pos+2])<<16
			seq := buf[pos+3]
			if !started {
				started = true
				res.NextSeq = seq
			}
			if cont {
				// The tail of a big row: opaque, possibly followed by another tail.
				cont = length == maxPayload
				lastSeq = seq
				pos += 4
				pass = length
				continue
			}
			if !stopped && c.reason.Load() != reasonNone {
				stopped, stopAt, res.NextSeq = true, pos, seq
			}
			if length > 0 && n-pos < 5 {
				break
			}
			var first byte
			if length > 0 {
				first = buf[pos+4]
			}
			if p.whole(first, length) {
				if length >= maxPayload {
					return res, &forwardError{backend: true, err: fmt.Errorf("%w: %d-byte control packet", errProtocol, length)}
				}
				if n-pos < 4+length {
					if 4+length > len(buf) {
						buf = c.growBuf(r, n, 4+length)
						n -= r
						pos -= r
						stopAt -= r
						r = 0
					}
					break
				}
				if err := p.feed(buf[pos+4 : pos+4+length]); err != nil {
					return res, &forwardError{backend: true, err: err}
				}
				if p.rewrote {
					length, n = splice(buf, pos, length, n, p.out)
				}
				lastSeq = seq
				pos += 4 + length
				continue
			}
			p.skip()
			if c.maxRows > 0 && p.rows > c.maxRows && p.inRows() && !stopped {
				// This row is one too many: forward nothing from it on, stop the query.
				stopped, stopAt, res.NextSeq = true, pos, seq
				c.stopQuery(reasonMaxRows)
			}
			lastSeq = seq
			pos += 4
			pass = length
			cont = length == maxPayload
		}

		// One write of everything parsed (a big row's head and body are written as they come).
		end := pos
		if stopped && stopAt < end {
			end = max(stopAt, r)
		}
		if p.held() {
			end = r // an ERR the caller will retry on: the reply is this one packet
		}
		if end > r && w != nil {
			if _, err := w.Write(buf[r:end]); err != nil {
				c.fillResult(&res, false)
				return res, &forwardError{err: err}
			}
			res.Forwarded = true
			res.MidPacket = end == pos && (pass > 0 || cont)
		}
		if !stopped {
			res.NextSeq = lastSeq + 1
		}
		r = pos
		if p.state == stInfile && pass == 0 && !cont {
			// The server asked for a file and waits for it: relay the client's packets.
			if pos != n {
				c.fillResult(&res, false)
				return res, &forwardError{backend: true, err: fmt.Errorf("%w: data after a LOCAL INFILE request", errProtocol)}
			}
			r, pos, n = 0, 0, 0
			seq, err := c.relayInfile(in, w, lastSeq+1)
			if err != nil {
				c.fillResult(&res, false)
				return res, err
			}
			lastSeq, res.NextSeq = seq, seq+1
			p.state = stFirst
			continue
		}
		if p.done() && pass == 0 && !cont {
			if pos != n && c.more > 0 {
				// The start of the next pipelined reply: keep it for the next forward.
				c.pending = copy(buf, buf[pos:n])
			} else if pos != n {
				// The client has the whole reply; the connection is out of step.
				c.fillResult(&res, stopped)
				res.Complete = !stopped && !p.held()
				return res, &forwardError{backend: true, err: fmt.Errorf("%w: %d bytes after the end of the reply", errProtocol, n-pos)}
			}
			break
		}
		// Keep the partial packet at the start of the buffer and read more after it.
		if r > 0 {
			copy(buf, buf[r:n])
			n -= r
			pos -= r
			r = 0
		}
		stopAt = 0
		if n == len(buf) {
			buf = c.growBuf(0, n, 2*len(buf))
		}
		k, err := c.rw.Read(buf[n:])
		n += k
		if err != nil && k == 0 {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			c.fillResult(&res, false)
			return res, &forwardError{backend: true, err: err}
		}
	}
	c.fillResult(&res, stopped)
	res.Complete = !stopped && !p.held() // not stopped and not held: every byte parsed was written
	if stopped {
		return res, errStopped
	}
	return res, nil
}

// splice replaces the payload of the packet at buf[pos:pos+4+length] by out (never longer),
// moving the rest of the data (up to n) after it, and returns the new length and data end.
func splice(buf []byte, pos, length, n int, out []byte) (int, int) {
	newLen := len(out)
	copy(buf[pos+4:], out)
	copy(buf[pos+4+newLen:], buf[pos+4+length:n])
	buf[pos], buf[pos+1], buf[pos+2] = byte(newLen), byte(newLen>>8), byte(newLen>>16)
	return newLen, n - (length - newLen)
}

// fillResult fills res from the parser, once the reply has ended or broken.
func (c *Conn) fillResult(res *Result, stopped bool) {
	p := &c.parser
	res.Rows, res.LastRows, res.ResultSet = p.rows, p.lastRows, p.resultSet
	res.Affected, res.InsertID, res.LastInsertID, res.Warnings = p.affected, p.insertID, p.lastInsertID, p.warnings
	res.SawInTrans = p.sawInTrans
	t := &p.track
	res.Vars, res.Schema, res.SchemaChanged = t.vars, t.schema, t.schemaChanged
	res.StateChanged = t.changed || t.eofChanged
	if p.statusKnown() && p.done() {
		res.Status, res.StatusKnown = p.status, true
	}
	if p.err != nil && !stopped {
		res.Err = p.err
	}
}

// growBuf replaces c.buf by a buffer of at least size bytes holding buf[r:n] at its start.
func (c *Conn) growBuf(r, n, size int) []byte {
	nb := make([]byte, max(size, 2*len(c.buf)))
	copy(nb, c.buf[r:n])
	c.buf = nb
	c.bufHigh = max(c.bufHigh, len(nb))
	return nb
}

// shrinkBuf drops a buffer grown for a big packet, once the reply is over.
func (c *Conn) shrinkBuf() {
	if len(c.buf) > maxKeptBufSize {
		c.buf = make([]byte, defaultBufSize)
	}
}

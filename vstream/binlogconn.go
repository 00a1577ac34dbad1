package vstream

// The replication connection. The source sees a replica (COM_REGISTER_SLAVE,
// https://mariadb.com/kb/en/com_register_slave/) asking for its binlog from a GTID position:
// MariaDB takes the position in @slave_connect_state and a plain COM_BINLOG_DUMP
// (https://mariadb.com/kb/en/com_binlog_dump/); MySQL takes it in COM_BINLOG_DUMP_GTID
// (https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_com_binlog_dump_gtid.html).
// go-mysql's client does the handshake and the setup statements; the event packets are then
// read here, in the shard stream's own goroutine, and parsed with go-mysql's BinlogParser.
//
// Why not go-mysql's BinlogSyncer: it reads on a goroutine of its own and hands every event
// over a channel (one more goroutine wake-up on the path of a lone transaction, which on a
// busy machine is where the commit-to-client latency goes), clones its whole GTID set at
// every MariaDB GTID event to support reconnects that vtdirect does not use (7% of the CPU
// of a burst), copies each packet twice, and cannot say whether more input is already
// buffered, which is what lets a shard stream batch a burst without ever waiting on a timer.

import (
	"bufio"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"time"

	"github.com/go-mysql-org/go-mysql/client"
	"github.com/go-mysql-org/go-mysql/mysql"

	"github.com/vtdirect/vtdirect/backendconn"
)

const (
	// binlogReadBuffer is the socket read buffer: one read(2) brings in hundreds of small
	// events during a burst.
	binlogReadBuffer = 128 << 10
	// binlogChunk is the size of the blocks packets are carved from: one allocation per block
	// instead of one per event. Blocks are never overwritten, because the parser keeps slices
	// of event data (table map names, string values) after it returns.
	binlogChunk = 64 << 10
	// maxPacketPayload is the largest payload of one MySQL packet; a longer one continues in
	// the next packet.
	maxPacketPayload = 1<<24 - 1
)

// dumpRequest says where and how to start a binlog dump.
type dumpRequest struct {
	addr, user, password string
	tlsMode              backendconn.TLSMode // the gateway's --db-ssl-mode, with tlsConfig
	tlsConfig            *tls.Config
	serverID             uint32        // our replica server_id
	pos                  Position      // start after this position (MariaDB or MySQL)
	heartbeat            time.Duration // binlog heartbeat period asked of the source
	setupTimeout         time.Duration // bounds the handshake and setup round trips
}

// binlogConn is a replication connection whose event stream has started. It is read by one
// goroutine; close may be called from any goroutine and unblocks a read.
type binlogConn struct {
	raw   net.Conn
	br    *bufio.Reader
	chunk []byte // free tail of the current block (see binlogChunk)
	// blocks counts the blocks made; block is the one the last packet was carved from (0:
	// it had its own), for the shared dump's accounting of the memory events keep
	blocks, block uint64
}

// dialBinlog connects, registers as a replica and starts the dump from req.pos.
func dialBinlog(ctx context.Context, req dumpRequest) (*binlogConn, error) {
	var opts []client.Option
	tlsCfg, fallback := backendconn.DriverTLS(req.tlsMode, req.tlsConfig, req.addr)
	if tlsCfg != nil {
		opts = append(opts, func(c *client.Conn) error { c.SetTLSConfig(tlsCfg); return nil })
	}
	cc, err := client.ConnectWithContext(ctx, req.addr, req.user, req.password, "", req.setupTimeout, opts...)
	if err != nil && fallback && strings.Contains(err.Error(), "does not support TLS") {
		// --db-ssl-mode=preferred, and the server offers no TLS: go on without, as the data
		// connections do.
		cc, err = client.ConnectWithContext(ctx, req.addr, req.user, req.password, "", req.setupTimeout)
	}
	if err != nil {
		return nil, err
	}
	// Only the socket is closed from other goroutines: client.Conn.Close also writes a field
	// the reading goroutine owns.
	raw := cc.Conn.Conn
	// The setup is a few round trips: bound them, and let ctx interrupt them.
	_ = raw.SetDeadline(time.Now().Add(req.setupTimeout))
	stop := context.AfterFunc(ctx, func() { _ = raw.Close() })
	err = startDump(cc, req)
	if !stop() {
		err = errors.Join(ctx.Err(), err)
	}
	if err == nil {
		err = raw.SetDeadline(time.Time{})
	}
	if err != nil {
		_ = raw.Close()
		return nil, err
	}
	// After the dump command the server sends only binlog packets: read them from the socket
	// directly (go-mysql's packet reader has nothing buffered: every reply was read whole).
	return &binlogConn{raw: raw, br: bufio.NewReaderSize(raw, binlogReadBuffer)}, nil
}

func startDump(cc *client.Conn, req dumpRequest) error {
	mariadb := req.pos.flavor == flavorMariaDB
	// A checksum-aware replica gets events with their checksums, as written; go-mysql's parser
	// learns the algorithm from the format description event (mysqlbinlog says NONE too).
	set := []string{"@master_binlog_checksum = 'NONE'", "@source_binlog_checksum = 'NONE'"}
	if mariadb {
		set = append(set, "@mariadb_slave_capability = 4") // MARIA_SLAVE_CAPABILITY_GTID
	} else {
		uuid, err := randomUUID()
		if err != nil {
			return err
		}
		set = append(set, "@slave_uuid = '"+uuid+"'", "@replica_uuid = '"+uuid+"'")
	}
	if req.heartbeat > 0 {
		// The period is in nanoseconds.
		set = append(set, fmt.Sprintf("@master_heartbeat_period = %d, @source_heartbeat_period = %d", req.heartbeat.Nanoseconds(), req.heartbeat.Nanoseconds()))
	}
	if _, err := cc.Execute("SET " + strings.Join(set, ", ")); err != nil {
		return fmt.Errorf("set replica variables: %w", err)
	}
	if err := registerReplica(cc, req); err != nil {
		return err
	}
	if mariadb {
		// The start position goes in @slave_connect_state; strict mode makes the source refuse
		// a position it does not have instead of streaming from elsewhere.
		q := "SET @slave_connect_state = '" + req.pos.gtidString() + "', @slave_gtid_strict_mode = 1"
		if _, err := cc.Execute(q); err != nil {
			return fmt.Errorf("set start position: %w", err)
		}
		// COM_BINLOG_DUMP: position 4 and no file name (ignored with @slave_connect_state).
		b := make([]byte, 4, 4+11)
		b = append(b, mysql.COM_BINLOG_DUMP)
		b = binary.LittleEndian.AppendUint32(b, 4)
		b = binary.LittleEndian.AppendUint16(b, 0) // flags: block at the end of the binlog
		b = binary.LittleEndian.AppendUint32(b, req.serverID)
		cc.ResetSequence()
		return cc.WritePacket(b)
	}
	var sid []byte
	if req.pos.mysql != nil {
		sid = req.pos.mysql.Encode()
	}
	b := make([]byte, 4, 4+23+len(sid))
	b = append(b, mysql.COM_BINLOG_DUMP_GTID)
	b = binary.LittleEndian.AppendUint16(b, 0) // flags
	b = binary.LittleEndian.AppendUint32(b, req.serverID)
	b = binary.LittleEndian.AppendUint32(b, 0) // binlog file name length: none
	b = binary.LittleEndian.AppendUint64(b, 4) // position
	b = binary.LittleEndian.AppendUint32(b, uint32(len(sid)))
	b = append(b, sid...)
	cc.ResetSequence()
	return cc.WritePacket(b)
}

// registerReplica sends COM_REGISTER_SLAVE and reads its OK.
func registerReplica(cc *client.Conn, req dumpRequest) error {
	host, _ := os.Hostname()
	host = host[:min(len(host), 255)]
	user := req.user[:min(len(req.user), 255)]
	b := make([]byte, 4, 4+18+len(host)+len(user))
	b = append(b, mysql.COM_REGISTER_SLAVE)
	b = binary.LittleEndian.AppendUint32(b, req.serverID)
	b = append(b, byte(len(host)))
	b = append(b, host...)
	b = append(b, byte(len(user)))
	b = append(b, user...)
	b = append(b, 0)                           // password: none
	b = binary.LittleEndian.AppendUint16(b, 0) // our port: none
	b = binary.LittleEndian.AppendUint32(b, 0) // replication rank
	b = binary.LittleEndian.AppendUint32(b, 0) // source id
	cc.ResetSequence()
	if err := cc.WritePacket(b); err != nil {
		return fmt.Errorf("register as replica: %w", err)
	}
	if _, err := cc.ReadOKPacket(); err != nil {
		return fmt.Errorf("register as replica: %w", err)
	}
	return nil
}

func randomUUID() (string, error) {
	var u [16]byte
	if _, err := rand.Read(u[:]); err != nil {
		return "", err
	}
	u[6] = u[6]&0x0f | 0x40 // version 4
	u[8] = u[8]&0x3f | 0x80 // RFC 4122 variant
	h := hex.EncodeToString(u[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:], nil
}

// buffered reports whether a whole packet is already buffered: the next read will not block.
// (A packet partly read would make the reader wait while the events before it, already
// handled, are held back.)
func (c *binlogConn) buffered() bool {
	n := c.br.Buffered()
	if n < 4 {
		return false
	}
	h, _ := c.br.Peek(4)
	return n >= 4+(int(h[0])|int(h[1])<<8|int(h[2])<<16)
}

// readEvent returns the next binlog event's data (after the OK byte). The slice stays valid
// for good: it is never overwritten. A server error ends the stream as a *mysql.MyError.
func (c *binlogConn) readEvent() ([]byte, error) {
	p, err := c.readPacket()
	if err != nil {
		return nil, err
	}
	if len(p) == 0 {
		return nil, errors.New("empty packet in the binlog stream")
	}
	switch p[0] {
	case mysql.OK_HEADER:
		return p[1:], nil
	case mysql.ERR_HEADER:
		return nil, parseErrPacket(p)
	case mysql.EOF_HEADER:
		if len(p) < 9 {
			return nil, errors.New("the source ended the binlog stream")
		}
	}
	return nil, fmt.Errorf("unexpected packet (header 0x%02x) in the binlog stream", p[0])
}

// readPacket reads one logical packet (joining the parts of a payload of 16 MiB or more).
func (c *binlogConn) readPacket() ([]byte, error) {
	n, err := c.readHeader()
	if err != nil {
		return nil, err
	}
	if n < maxPacketPayload {
		p := c.carve(n)
		if _, err := io.ReadFull(c.br, p); err != nil {
			return nil, err
		}
		return p, nil
	}
	var p []byte
	c.block = 0
	for {
		start := len(p)
		p = append(p, make([]byte, n)...)
		if _, err := io.ReadFull(c.br, p[start:]); err != nil {
			return nil, err
		}
		if n < maxPacketPayload {
			return p, nil
		}
		if n, err = c.readHeader(); err != nil {
			return nil, err
		}
	}
}

// readHeader reads a packet header and returns the payload length (sequence ids are not
// checked: TCP keeps the order).
func (c *binlogConn) readHeader() (int, error) {
	h, err := c.br.Peek(4)
	if err != nil {
		return 0, err
	}
	n := int(h[0]) | int(h[1])<<8 | int(h[2])<<16
	_, _ = c.br.Discard(4)
	return n, nil
}

// carve returns n fresh bytes from the current block.
func (c *binlogConn) carve(n int) []byte {
	if n > len(c.chunk) {
		if n > binlogChunk/4 {
			c.block = 0
			return make([]byte, n) // a big event gets its own
		}
		c.chunk = make([]byte, binlogChunk)
		c.blocks++
	}
	c.block = c.blocks
	p := c.chunk[:n:n]
	c.chunk = c.chunk[n:]
	return p
}

// lastBlock is the block the last event was carved from, 0 when it has memory of its own.
func (c *binlogConn) lastBlock() uint64 { return c.block }

// parseErrPacket decodes an ERR packet: 0xff, code, ['#' sqlstate], message.
func parseErrPacket(p []byte) error {
	if len(p) < 3 {
		return errors.New("truncated error packet in the binlog stream")
	}
	e := &mysql.MyError{Code: binary.LittleEndian.Uint16(p[1:3])}
	msg := p[3:]
	if len(msg) >= 6 && msg[0] == '#' {
		e.State = string(msg[1:6])
		msg = msg[6:]
	}
	e.Message = string(msg)
	return e
}

// close closes the connection; a blocked read returns an error. Safe to call more than once
// and from any goroutine.
func (c *binlogConn) close() { _ = c.raw.Close() }

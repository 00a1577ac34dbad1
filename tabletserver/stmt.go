package tabletserver

// Prepared statements on backend connections. Clients prepare once through the gateway; each
// backend connection prepares a query the first time it has to execute it and keeps it in a
// small bounded cache. https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_com_stmt_prepare.html
//
// The server's max_prepared_stmt_count (16382 by default) bounds the statements of all its
// connections, those of every gateway included: the cache is small (Config.
// PreparedStmtCacheSize), and a prepare refused with 1461 ER_MAX_PREPARED_STMT_COUNT_REACHED
// frees this connection's statements and is retried once.

import (
	"context"
	"encoding/binary"
	"io"
	"net"

	"github.com/go-mysql-org/go-mysql/mysql"
)

type stmtInfo struct {
	id           uint32 // backend statement id
	params, cols uint16
	used         uint64 // stmtCache.tick of the last use, for eviction
}

// stmtKey names a cached statement: a prepared statement runs in the database it was
// prepared in, so the same text prepared for two tablets' databases is two statements.
type stmtKey struct{ schema, query string }

// stmtCache maps a query to its statement on this connection.
type stmtCache struct {
	m    map[stmtKey]stmtInfo
	max  int // entries kept, at least 1
	tick uint64
}

func (s *stmtCache) init(max int) {
	s.m = make(map[stmtKey]stmtInfo)
	s.max = max
	if s.max < 1 {
		s.max = 1
	}
}

// forget drops every entry: the server dropped the statements (COM_RESET_CONNECTION).
func (s *stmtCache) forget() { clear(s.m) }

func (s *stmtCache) get(k stmtKey) (stmtInfo, bool) {
	info, ok := s.m[k]
	if ok {
		s.tick++
		info.used = s.tick
		s.m[k] = info
	}
	return info, ok
}

// makeRoom drops what a new statement for query replaces: the statement query had, else the
// least recently used one if the cache is full. It returns the statement id to close on the
// server, if any.
func (s *stmtCache) makeRoom(k stmtKey) (closeID uint32, ok bool) {
	if old, found := s.m[k]; found {
		delete(s.m, k)
		return old.id, true
	}
	if len(s.m) < s.max {
		return 0, false
	}
	var lruKey stmtKey
	lru := ^uint64(0)
	for q, e := range s.m {
		if e.used < lru {
			lru, lruKey = e.used, q
		}
	}
	id := s.m[lruKey].id
	delete(s.m, lruKey)
	return id, true
}

// put remembers info for k; makeRoom made room for it.
func (s *stmtCache) put(k stmtKey, info stmtInfo) {
	s.tick++
	info.used = s.tick
	s.m[k] = info
}

// Prepare prepares query on this connection and forwards the server's reply to w with the
// statement id rewritten to clientStmtID. The statement is cached for ExecStmt. Errors are
// those of Exec; the reply ends with the prepare reply's last packet, so a Prepare that
// succeeds never fails after forwarding.
func (c *Conn) Prepare(ctx context.Context, query string, clientStmtID uint32, w io.Writer) (params, cols int, r Result, err error) {
	key := stmtKey{c.wantSchema, query}
	if err := c.makeRoom(key); err != nil {
		return 0, 0, Result{}, err
	}
	for retry := false; ; retry = true {
		req := Request{Frame: c.command(mysql.COM_STMT_PREPARE, query), rewriteID: true, clientID: clientStmtID,
			Pipeline: true} // a prepare runs nothing
		if !retry && len(c.stmts.m) > 0 {
			// A 1461 that freeing our statements may cure is kept from the client.
			req.holdErr = mysql.ER_MAX_PREPARED_STMT_COUNT_REACHED
		}
		r, err = c.exchange(ctx, mysql.COM_STMT_PREPARE, replyPrepare, &req, nil, w)
		if err != nil {
			return 0, 0, r, err
		}
		if c.parser.held() {
			if err := c.closeAllStmts(); err != nil {
				return 0, 0, Result{}, err
			}
			continue
		}
		break
	}
	if r.Err != nil {
		return 0, 0, r, nil
	}
	p := &c.parser
	c.stmts.put(key, stmtInfo{id: p.stmtID, params: p.params, cols: p.cols})
	return int(p.params), int(p.cols), r, nil
}

// ExecStmt executes the prepared statement of query with payload, a complete COM_STMT_EXECUTE
// payload (command byte first) whose statement id field is ignored: it prepares query on this
// connection first if needed (a failure to prepare is returned as a *StatementError holding
// the backend's error, nothing forwarded), sends the parameters' long data (long[i] for
// parameter i, nil for none) as COM_STMT_SEND_LONG_DATA, sets the backend statement id and
// forwards the binary result to w. req.Frame is ignored; its other fields apply. Errors are
// those of Exec.
func (c *Conn) ExecStmt(ctx context.Context, query string, payload []byte, long [][]byte, req *Request, w io.Writer) (Result, error) {
	if len(payload) < 10 || payload[0] != mysql.COM_STMT_EXECUTE {
		return Result{}, stmtOnly(errMalformed("COM_STMT_EXECUTE payload"))
	}
	info, ok := c.stmts.get(stmtKey{c.wantSchema, query})
	if !ok {
		var err error
		if info, err = c.prepareSilently(ctx, query); err != nil {
			return Result{}, err
		}
	}
	binary.LittleEndian.PutUint32(payload[1:5], info.id)
	frame := append(c.wbuf[:0], 0, 0, 0, 0)
	frame = append(frame, payload...)
	c.wbuf = frame
	r := *req
	r.Frame = frame
	if long != nil {
		c.longID = info.id
	}
	return c.exchange(ctx, mysql.COM_STMT_EXECUTE, replyQuery, &r, long, w)
}

// writeLongData sends the long data of the statement c.longID: COM_STMT_SEND_LONG_DATA has no
// reply. Each piece is one command under 16 MiB, header and data in one writev.
func (c *Conn) writeLongData(long [][]byte) error {
	const piece = 8 << 20
	for i, data := range long {
		if data == nil {
			continue
		}
		for first := true; first || len(data) > 0; first = false {
			k := min(len(data), piece)
			var hdr [11]byte
			n := 7 + k
			hdr[0], hdr[1], hdr[2], hdr[3] = byte(n), byte(n>>8), byte(n>>16), 0
			hdr[4] = mysql.COM_STMT_SEND_LONG_DATA
			binary.LittleEndian.PutUint32(hdr[5:], c.longID)
			binary.LittleEndian.PutUint16(hdr[9:], uint16(i))
			bufs := net.Buffers{hdr[:], data[:k]}
			if _, err := bufs.WriteTo(c.rw); err != nil {
				return err
			}
			data = data[k:]
		}
	}
	return nil
}

// prepareSilently prepares query on this connection without forwarding the reply.
func (c *Conn) prepareSilently(ctx context.Context, query string) (stmtInfo, error) {
	key := stmtKey{c.wantSchema, query}
	if err := c.makeRoom(key); err != nil {
		return stmtInfo{}, err
	}
	for retry := false; ; retry = true {
		req := Request{Frame: c.command(mysql.COM_STMT_PREPARE, query), Pipeline: true} // a prepare runs nothing
		r, err := c.exchange(ctx, mysql.COM_STMT_PREPARE, replyPrepare, &req, nil, nil)
		if err != nil {
			return stmtInfo{}, err
		}
		if r.Err != nil {
			if r.Err.Code == mysql.ER_MAX_PREPARED_STMT_COUNT_REACHED && !retry && len(c.stmts.m) > 0 {
				if err := c.closeAllStmts(); err != nil {
					return stmtInfo{}, err
				}
				continue
			}
			return stmtInfo{}, stmtOnly(r.Err)
		}
		p := &c.parser
		info := stmtInfo{id: p.stmtID, params: p.params, cols: p.cols}
		c.stmts.put(key, info)
		return info, nil
	}
}

// makeRoom closes on the server the cached statement that preparing k replaces, before
// the prepare: nothing can then fail after its reply was forwarded.
func (c *Conn) makeRoom(k stmtKey) error {
	if err := c.usable(); err != nil {
		return err
	}
	id, ok := c.stmts.makeRoom(k)
	if !ok {
		return nil
	}
	return c.writeStmtClose(id)
}

// closeAllStmts closes every statement of the cache on the server (1461: the server's limit
// is reached) and empties the cache.
func (c *Conn) closeAllStmts() error {
	for q, info := range c.stmts.m {
		delete(c.stmts.m, q)
		if err := c.writeStmtClose(info.id); err != nil {
			return err
		}
	}
	return nil
}

// writeStmtClose sends COM_STMT_CLOSE, which has no reply.
func (c *Conn) writeStmtClose(id uint32) error {
	f := c.closeFrame[:]
	f[4] = mysql.COM_STMT_CLOSE
	binary.LittleEndian.PutUint32(f[5:], id)
	if err := c.writeFrame(f); err != nil {
		c.fail()
		c.ts.stats.ioErrors.Add(1)
		return errLost(c.ts.alias, c.be.key.Addr, err)
	}
	return nil
}

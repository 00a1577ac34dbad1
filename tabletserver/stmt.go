package tabletserver

// Prepared statements on backend connections. Clients prepare once through the gateway; each
// backend connection prepares a query the first time it has to execute it and keeps it in a
// small bounded cache. https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_com_stmt_prepare.html

import (
	"context"
	"encoding/binary"
	"io"

	"github.com/go-mysql-org/go-mysql/mysql"
)

// maxStmtsPerConn bounds the statements prepared on one backend connection (the server's
// max_prepared_stmt_count is global, 16382 by default).
const maxStmtsPerConn = 256

type stmtInfo struct {
	id           uint32 // backend statement id
	params, cols uint16
	used         uint64 // stmtCache.tick of the last use, for eviction
}

// stmtCache maps a query to its statement on this connection.
type stmtCache struct {
	m    map[string]stmtInfo
	tick uint64
}

func (s *stmtCache) init() { s.m = make(map[string]stmtInfo) }

// forget drops every entry: the server dropped the statements (COM_RESET_CONNECTION).
func (s *stmtCache) forget() { clear(s.m) }

func (s *stmtCache) get(query string) (stmtInfo, bool) {
	info, ok := s.m[query]
	if ok {
		s.tick++
		info.used = s.tick
		s.m[query] = info
	}
	return info, ok
}

// put remembers info for query and returns statement ids the caller must close on the
// server: the one query had before, and the least recently used one if the cache was full.
func (s *stmtCache) put(query string, info stmtInfo) (closeIDs [2]uint32, n int) {
	if old, ok := s.m[query]; ok && old.id != info.id {
		closeIDs[n] = old.id
		n++
	} else if !ok && len(s.m) >= maxStmtsPerConn {
		var lruQuery string
		lru := ^uint64(0)
		for q, e := range s.m {
			if e.used < lru {
				lru, lruQuery = e.used, q
			}
		}
		closeIDs[n] = s.m[lruQuery].id
		n++
		delete(s.m, lruQuery)
	}
	s.tick++
	info.used = s.tick
	s.m[query] = info
	return closeIDs, n
}

// Prepare prepares query on this connection and forwards the server's reply to w with the
// statement id rewritten to clientStmtID. The statement is cached for ExecStmt.
func (c *Conn) Prepare(ctx context.Context, query string, clientStmtID uint32, w io.Writer) (params, cols int, r Result, err error) {
	c.parser.reset(replyPrepare)
	c.parser.rewriteID, c.parser.clientID = true, clientStmtID
	r, err = c.exchange(ctx, mysql.COM_STMT_PREPARE, c.command(mysql.COM_STMT_PREPARE, query), w)
	c.shrinkWbuf()
	if err != nil || r.Err != nil {
		return 0, 0, r, err
	}
	p := &c.parser
	if err := c.remember(query, stmtInfo{id: p.stmtID, params: p.params, cols: p.cols}); err != nil {
		return 0, 0, r, err
	}
	return int(p.params), int(p.cols), r, nil
}

// ExecStmt executes the prepared statement of query with payload, a complete COM_STMT_EXECUTE
// payload (command byte first) whose statement id field is ignored: it prepares query on this
// connection first if needed (a failure to prepare is returned as the backend's *mysql.MyError,
// nothing forwarded), sets the backend statement id and forwards the binary result to w.
func (c *Conn) ExecStmt(ctx context.Context, query string, payload []byte, w io.Writer) (Result, error) {
	if len(payload) < 10 || payload[0] != mysql.COM_STMT_EXECUTE {
		return Result{}, errMalformed("COM_STMT_EXECUTE payload")
	}
	info, ok := c.stmts.get(query)
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
	c.parser.reset(replyQuery)
	res, err := c.exchange(ctx, mysql.COM_STMT_EXECUTE, frame, w)
	c.shrinkWbuf()
	return res, err
}

// prepareSilently prepares query on this connection without forwarding the reply.
func (c *Conn) prepareSilently(ctx context.Context, query string) (stmtInfo, error) {
	c.parser.reset(replyPrepare)
	r, err := c.exchange(ctx, mysql.COM_STMT_PREPARE, c.command(mysql.COM_STMT_PREPARE, query), nil)
	if err != nil {
		return stmtInfo{}, err
	}
	if r.Err != nil {
		return stmtInfo{}, r.Err
	}
	p := &c.parser
	info := stmtInfo{id: p.stmtID, params: p.params, cols: p.cols}
	return info, c.remember(query, info)
}

// remember caches a prepared statement and closes the statements it replaces.
func (c *Conn) remember(query string, info stmtInfo) error {
	ids, n := c.stmts.put(query, info)
	for _, id := range ids[:n] {
		// COM_STMT_CLOSE has no reply.
		var f [9]byte
		f[4] = mysql.COM_STMT_CLOSE
		binary.LittleEndian.PutUint32(f[5:], id)
		if err := c.writeFrame(f[:]); err != nil {
			c.fail()
			return errLost(c.ts.alias, c.ts.addr, err)
		}
	}
	return nil
}

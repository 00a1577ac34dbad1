package mysqlserver

// Connection goroutines and buffers are kept for the next client. A PHP- or CGI-style client
// connects, runs one query and leaves: starting a goroutine for it, growing that goroutine's
// stack through the first command, and allocating and collecting its read and write buffers
// cost more CPU than the query itself. So a goroutine whose client left waits for the next one
// (up to maxIdleWorkers of them wait; the others exit), and the buffers of a connection that
// ended go to the next one.

import (
	"io"
	"sync"
)

// maxIdleWorkers bounds the connection goroutines waiting for a client: enough for a burst of
// short-lived connections, few enough that their stacks (shrunk by the garbage collector
// while they wait) cost nothing to speak of once a crowd of clients has left.
const maxIdleWorkers = 64

// maxPooledWrite is the largest write buffer handed to the next connection.
const maxPooledWrite = 64 << 10

// dispatch hands c to a connection goroutine waiting for a client, or starts one. It reports
// false when the listener is closed.
func (l *Listener) dispatch(c *Conn) bool {
	select {
	case l.handoff <- c:
		return true
	default:
	}
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return false
	}
	l.wg.Add(1)
	l.mu.Unlock()
	go l.work(c)
	return true
}

// work is a connection goroutine: it serves c, then the clients dispatch hands it, until
// enough others wait or the listener closes.
func (l *Listener) work(c *Conn) {
	defer l.wg.Done()
	for c != nil {
		l.serveConn(c)
		c = l.nextConn()
	}
}

// serveConn serves one client to its end, then keeps its buffers for the next.
func (l *Listener) serveConn(c *Conn) {
	defer l.release()
	if !l.track(c) {
		c.Close()
		return
	}
	c.serve()
	l.untrack(c)
	l.kept.Add(-int64(c.kept)) // what it kept is garbage now
	l.bufs.put(c)
}

// nextConn waits for the next client dispatch hands over; nil when maxIdleWorkers goroutines
// wait already or the listener closed.
func (l *Listener) nextConn() *Conn {
	defer l.idleWorkers.Add(-1)
	if l.idleWorkers.Add(1) > maxIdleWorkers {
		return nil
	}
	select {
	case c := <-l.handoff:
		return c
	case <-l.done:
		return nil
	}
}

// connBufs keeps the I/O buffers of connections that ended, for the next ones.
type connBufs struct{ pool sync.Pool } // of *ioBufs

// ioBufs are one connection's read buffer (in its packet reader) and write buffer.
type ioBufs struct {
	rd   packetReader
	wbuf []byte
}

// get returns buffers for a connection reading from src.
func (b *connBufs) get(src io.Reader) *ioBufs {
	bufs, _ := b.pool.Get().(*ioBufs)
	if bufs == nil {
		bufs = &ioBufs{rd: packetReader{buf: make([]byte, readBufSize)}, wbuf: make([]byte, 0, 1024)}
	}
	bufs.rd.rd = src
	return bufs
}

// put keeps c's buffers for the next connection. c's goroutine has finished with it: nothing
// reads or writes through c any more (Close only closes the socket).
func (b *connBufs) put(c *Conn) {
	bufs := c.bufs
	if bufs == nil || c.rd != &bufs.rd || len(bufs.rd.buf) != readBufSize {
		return
	}
	c.bufs, c.rd = nil, nil
	bufs.rd = packetReader{buf: bufs.rd.buf}
	bufs.wbuf = c.wbuf[:0]
	c.wbuf = nil
	if cap(bufs.wbuf) > maxPooledWrite {
		bufs.wbuf = make([]byte, 0, 1024)
	}
	b.pool.Put(bufs)
}

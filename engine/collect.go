package engine

import (
	"errors"
	"fmt"
	"sync"

	"github.com/go-mysql-org/go-mysql/mysql"

	"github.com/vtdirect/vtdirect/mysqlserver"
)

// Batch is a part of one shard's reply: its columns (in the first batch), rows, and, in the
// last batch, how the reply ended.
type Batch struct {
	Columns []Column
	Rows    [][]byte // text-protocol row payloads
	End     *End
}

// End is how a shard's reply ended.
type End struct {
	// Err: the shard's ERR packet (a *mysql.MyError) or the failure of its connection.
	Err error
	// OK: the reply was an OK packet (a write, or a statement without a result set).
	OK       bool
	Affected uint64
	InsertID uint64
	Info     string
	Status   uint16
	Warnings uint16
}

// Batch sizes: rows wait in at most batchChan+1 batches per shard.
const (
	batchRows  = 256
	batchBytes = 64 << 10
	batchChan  = 2 // the channel's capacity: the producer works ahead by this many batches
)

const maxPacket = 1<<24 - 1

// Collector reads one shard's reply as a tablet server forwards it (it is the io.Writer of
// tabletserver.Conn.Exec) and hands it to the consumer in batches. Write and Finish are
// called by the goroutine running the shard's statement; the consumer reads the batches
// and may Abandon the rest.
//
// A buffered collector (NewBufferedCollector) keeps the whole reply instead, for a caller
// that reads the reply itself before consuming it: no goroutine, no hand-off.
type Collector struct {
	caps uint32
	ch   chan *Batch // capacity batchChan; nil when buffered
	stop chan struct{}
	once sync.Once

	// Buffered: the batches wait in queue (the consumer's once Finish returned); rows past
	// maxRows are dropped and the reply then ends with an error.
	buffered bool
	maxRows  int
	rows     int
	over     bool
	queue    []*Batch

	// Parser state, the producer's.
	pending  []byte // bytes of an incomplete packet
	big      []byte // payload of a packet longer than 16 MiB-1 being assembled
	state    uint8
	ncols    int
	cur      *Batch
	curBytes int
	ended    bool
	discard  bool
}

const (
	stFirst uint8 = iota
	stColumns
	stColumnsEOF
	stRows
	stDone
)

// NewCollector makes a collector for a connection whose negotiated capabilities are caps
// (CLIENT_DEPRECATE_EOF, CLIENT_SESSION_TRACK decide how replies end).
func NewCollector(caps uint32) *Collector {
	return &Collector{caps: caps, ch: make(chan *Batch, batchChan), stop: make(chan struct{}), cur: &Batch{}}
}

// NewBufferedCollector makes a collector that keeps the whole reply, at most maxRows rows
// of it (more end the reply with an error): for a reply the plan bounds (an aggregate
// without GROUP BY gives one row per shard, a write none), read by the consumer's own
// goroutine (Write..., Finish) before it reads the batches.
func NewBufferedCollector(caps uint32, maxRows int) *Collector {
	return &Collector{caps: caps, buffered: true, maxRows: maxRows, cur: &Batch{}}
}

// next returns the reply's next batch; false after the one with End. A buffered
// collector's batches are all there once Finish returned.
func (c *Collector) next() (*Batch, bool) {
	if c.buffered {
		if len(c.queue) == 0 {
			return nil, false
		}
		b := c.queue[0]
		c.queue = c.queue[1:]
		return b, true
	}
	b, ok := <-c.ch
	return b, ok
}

// Abandon tells the producer that the rest of the reply is not wanted: it reads it to its
// end without keeping it (so the connection stays usable). A buffered collector's reply is
// already read: nothing to do.
func (c *Collector) Abandon() {
	if c.buffered {
		return
	}
	c.once.Do(func() { close(c.stop) })
}

// Write takes the next bytes of the reply.
func (c *Collector) Write(p []byte) (int, error) {
	if c.discard || c.ended {
		return len(p), nil
	}
	data := p
	if len(c.pending) > 0 {
		c.pending = append(c.pending, p...)
		data = c.pending
	}
	for len(data) >= 4 {
		n := int(data[0]) | int(data[1])<<8 | int(data[2])<<16
		if len(data) < 4+n {
			break
		}
		payload := data[4 : 4+n]
		data = data[4+n:]
		if n == maxPacket || c.big != nil {
			c.big = append(c.big, payload...)
			if n == maxPacket {
				continue
			}
			payload, c.big = c.big, nil
		}
		if err := c.packet(payload, n); err != nil {
			c.end(&End{Err: err})
			return len(p), nil
		}
		if c.discard || c.ended {
			c.pending = c.pending[:0]
			return len(p), nil
		}
	}
	c.pending = append(c.pending[:0], data...)
	return len(p), nil
}

// packet handles one whole packet; n is its first physical packet's length.
func (c *Collector) packet(p []byte, n int) error {
	if len(p) == 0 {
		return fmt.Errorf("%w: empty packet", errMalformed)
	}
	switch c.state {
	case stFirst:
		switch p[0] {
		case mysql.OK_HEADER:
			ok, err := mysqlserver.ParseOK(p, c.caps)
			if err != nil {
				return err
			}
			if ok.Status&mysql.SERVER_MORE_RESULTS_EXISTS != 0 {
				return errors.New("vtdirect: a statement on several shards returned several results")
			}
			c.end(&End{OK: true, Affected: ok.AffectedRows, InsertID: ok.LastInsertID, Info: string(ok.Info), Status: ok.Status, Warnings: ok.Warnings})
			return nil
		case mysql.ERR_HEADER:
			return c.errPacket(p)
		case 0xfb:
			return errors.New("vtdirect: LOAD DATA LOCAL INFILE is not supported on several shards")
		}
		cols, _, ok := readLenEnc(p)
		if !ok || cols == 0 {
			return fmt.Errorf("%w: column count", errMalformed)
		}
		c.ncols = int(cols)
		c.cur.Columns = make([]Column, 0, c.ncols)
		c.state = stColumns
	case stColumns:
		col, err := parseColumn(append([]byte(nil), p...))
		if err != nil {
			return err
		}
		c.cur.Columns = append(c.cur.Columns, col)
		if len(c.cur.Columns) == c.ncols {
			c.state = stRows
			if c.caps&mysql.CLIENT_DEPRECATE_EOF == 0 {
				c.state = stColumnsEOF
			}
		}
	case stColumnsEOF:
		if p[0] != mysql.EOF_HEADER {
			return fmt.Errorf("%w: no EOF after the column definitions", errMalformed)
		}
		c.state = stRows
	case stRows:
		switch {
		case p[0] == mysql.ERR_HEADER:
			return c.errPacket(p)
		case p[0] == mysql.EOF_HEADER && n < maxPacket && (c.caps&mysql.CLIENT_DEPRECATE_EOF != 0 || len(p) < 9):
			e := &End{}
			if c.caps&mysql.CLIENT_DEPRECATE_EOF != 0 {
				ok, err := mysqlserver.ParseOK(p, c.caps)
				if err != nil {
					return err
				}
				e.Status, e.Warnings = ok.Status, ok.Warnings
			} else if len(p) >= 5 {
				e.Warnings = uint16(p[1]) | uint16(p[2])<<8
				e.Status = uint16(p[3]) | uint16(p[4])<<8
			}
			if e.Status&mysql.SERVER_MORE_RESULTS_EXISTS != 0 {
				return errors.New("vtdirect: a statement on several shards returned several results")
			}
			c.end(e)
			return nil
		}
		if c.buffered {
			if c.rows >= c.maxRows {
				c.over = true
				return nil
			}
			c.rows++
		}
		c.cur.Rows = append(c.cur.Rows, append([]byte(nil), p...))
		c.curBytes += len(p)
		if len(c.cur.Rows) >= batchRows || c.curBytes >= batchBytes {
			c.send()
		}
	case stDone:
	}
	return nil
}

func (c *Collector) errPacket(p []byte) error {
	me, err := mysqlserver.ParseErr(p)
	if err != nil {
		return err
	}
	c.end(&End{Err: me})
	return nil
}

// send hands the current batch to the consumer, or drops it when the consumer abandoned.
func (c *Collector) send() {
	b := c.cur
	c.cur, c.curBytes = &Batch{}, 0
	if c.buffered {
		c.queue = append(c.queue, b)
		return
	}
	select {
	case c.ch <- b:
	case <-c.stop:
		c.discard = true
	}
}

func (c *Collector) end(e *End) {
	if c.ended {
		return
	}
	c.ended = true
	c.state = stDone
	if c.over && e.Err == nil {
		e = &End{Err: fmt.Errorf("vtdirect: the shard returned more than the %d rows its plan allows", c.maxRows)}
	}
	c.cur.End = e
	if c.discard {
		return
	}
	c.send()
}

// Finish is called once the shard's statement returned, with its error (nil when the reply
// was read to its end). It closes the batch channel.
func (c *Collector) Finish(err error) {
	if !c.ended {
		if err == nil {
			err = errors.New("vtdirect: the shard's reply ended early")
		}
		c.end(&End{Err: err})
	}
	if !c.buffered {
		close(c.ch)
	}
}

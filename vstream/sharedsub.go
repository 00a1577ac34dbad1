package vstream

// A stream's subscription to its server's shared dump (sharedbinlog.go), and its hand-over
// to a dump of its own when it falls behind.
//
// The hub counts, per subscriber, the events of the current group (transaction) it queued
// for it. When the subscriber's queue overflows, the hub stops queueing for it and the
// subscription starts a dump of its own at once, from the position before that group, and
// drops from it what the stream already has: the events before the group's GTID event,
// then as many of the group's events as were queued (counted as the hub counts them: no
// heartbeats, no rows of other databases). The rest of the backlog then waits at the
// source, as for a stream that always had its own dump. Once the stream has read its queue,
// it reads the new dump: the same events, none lost or repeated.

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"sync"

	"github.com/go-mysql-org/go-mysql/replication"
)

// subscription is one stream's queue of raw events from a hub. It is read by the stream's
// goroutine (readEvent, buffered) and filled by the hub's. The reader takes the whole queue
// at once into its own batch, so the two goroutines meet once per batch, not per event.
type subscription struct {
	hub    *dumpHub
	db     string        // the stream's database: other databases' rows are not queued
	start  Position      // where it joined
	dial   dialFunc      // the stream's own dump, after a detachment
	notify chan struct{} // signalled (capacity 1) when events or the end arrive

	batch [][]byte    // taken from queue, read by readEvent alone
	next  int         // batch[next:] are unread
	own   *binlogConn // the stream's own dump, once it has read its queue (reader alone)

	mu     sync.Mutex // guards the fields below
	queue  [][]byte
	spare  [][]byte // the reader's last batch, for the hub to reuse
	bytes  int      // in queue
	end    error
	closed bool
	// The current group, for a hand-over: the position before it, its GTID, and the events
	// of it queued (0: no group yet).
	groupStart Position
	groupGTID  mariaGTID
	groupCount int
	// The hand-over: cancel stops it, done is closed when it ended with ownConn or ownErr.
	cancel  context.CancelFunc
	done    chan struct{}
	ownConn *binlogConn
	ownErr  error
}

// pushInfo is what the hub knows of an event it queues.
type pushInfo struct {
	gtid       bool      // a MariaDB GTID event: a group starts
	g          mariaGTID // its GTID
	groupStart Position  // the hub's position before the group
	heartbeat  bool
}

// push queues ev, or detaches the subscriber when its queue is full (it holds at most limit
// bytes in the queue and as much in the batch it reads). The reader is not woken: the hub
// calls signal once it has queued what the connection had buffered (one wake-up per batch
// of events, not per event). Called with h.mu held.
func (s *subscription) push(ev []byte, limit int, info pushInfo) (ok bool) {
	s.mu.Lock()
	if s.end != nil || s.closed {
		s.mu.Unlock()
		return false
	}
	if s.bytes+len(ev) > limit && s.bytes > 0 {
		s.end = errDetached
		s.startHandover()
		s.mu.Unlock()
		s.signal()
		return false
	}
	switch {
	case info.gtid:
		s.groupStart, s.groupGTID, s.groupCount = info.groupStart, info.g, 1
	case !info.heartbeat && s.groupCount > 0:
		s.groupCount++
	}
	if s.queue == nil {
		s.queue, s.spare = s.spare[:0], nil
	}
	s.queue = append(s.queue, ev)
	s.bytes += len(ev)
	s.mu.Unlock()
	return true
}

// startHandover starts the subscriber's own dump (see the file comment). Called with s.mu held.
func (s *subscription) startHandover() {
	ctx, cancel := context.WithCancel(context.Background())
	s.cancel, s.done = cancel, make(chan struct{})
	from, g, skip := s.groupStart, s.groupGTID, s.groupCount
	if skip == 0 {
		from = s.start
	}
	go func() {
		defer close(s.done)
		c, err := s.dial(ctx, from)
		if err == nil {
			// The replay reads until it finds the group: a server without it may send only
			// heartbeats, so the subscription's close (cancel) must end the read.
			stop := context.AfterFunc(ctx, c.close)
			err = skipReplay(c, g, skip, s.db)
			if !stop() && err == nil {
				err = ctx.Err() // closed by the cancel after the replay ended
			}
			if err != nil {
				c.close()
				c = nil
				err = fmt.Errorf("continue on a dump of its own from %s: %w", from, err)
			}
		}
		s.mu.Lock()
		s.ownConn, s.ownErr = c, err
		s.mu.Unlock()
		s.signal()
	}()
}

// skipReplay reads from c, a dump that starts before the group g, what the stream already
// has: everything before g's GTID event, then the first skip events of the group as the hub
// counted them.
func skipReplay(c *binlogConn, g mariaGTID, skip int, db string) error {
	if skip == 0 {
		return nil
	}
	var tables tableDBs
	for n := 0; n < skip; {
		data, err := c.readEvent()
		if err != nil {
			return err
		}
		if len(data) < binlogHeaderSize {
			return fmt.Errorf("binlog event of %d bytes, shorter than its header", len(data))
		}
		typ := replication.EventType(data[4])
		if n == 0 {
			if typ != replication.MARIADB_GTID_EVENT {
				continue // the dump's start (rotate, format description, GTID list...)
			}
			body := data[binlogHeaderSize:]
			if len(body) < 12 || binary.LittleEndian.Uint64(body) != g.Seq || binary.LittleEndian.Uint32(body[8:]) != g.Domain {
				return fmt.Errorf("the dump did not start with the transaction %d-%d-%d", g.Domain, g.Server, g.Seq)
			}
			tables.rowsDB(data)
			n++
			continue
		}
		if typ == replication.HEARTBEAT_EVENT {
			continue
		}
		if tdb, filtered := tables.rowsDB(data); filtered && tdb != db && tdb != journalDB {
			continue
		}
		n++
	}
	return nil
}

// finish ends the subscription with err once its queue is read.
func (s *subscription) finish(err error) {
	s.mu.Lock()
	if s.end == nil {
		s.end = err
	}
	s.mu.Unlock()
	s.signal()
}

func (s *subscription) signal() {
	select {
	case s.notify <- struct{}{}:
	default:
	}
}

// full reports whether n more bytes would pass the queue's bound (see push).
func (s *subscription) full(n, limit int) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.end == nil && !s.closed && s.bytes > 0 && s.bytes+n > limit
}

// readEvent returns the next queued event, waiting for one; after a detachment, once the
// queue is read, the events of the stream's own dump.
func (s *subscription) readEvent() ([]byte, error) {
	for {
		if s.own != nil {
			return s.own.readEvent()
		}
		if s.next < len(s.batch) {
			ev := s.batch[s.next]
			s.batch[s.next] = nil
			s.next++
			return ev, nil
		}
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			return nil, errors.New("shared binlog subscription closed")
		}
		if len(s.queue) > 0 {
			s.spare = s.batch[:0] // cleared as it was read
			s.batch, s.next, s.queue, s.bytes = s.queue, 0, nil, 0
			s.mu.Unlock()
			s.hub.signalRoom()
			continue
		}
		end := s.end
		if errors.Is(end, errDetached) && (s.ownConn != nil || s.ownErr != nil) {
			s.own, end = s.ownConn, s.ownErr
			s.batch, s.spare = nil, nil
		}
		s.mu.Unlock()
		if s.own != nil {
			continue
		}
		if end != nil && !errors.Is(end, errDetached) {
			return nil, end
		}
		<-s.notify
	}
}

func (s *subscription) buffered() bool {
	if s.own != nil {
		return s.own.buffered()
	}
	if s.next < len(s.batch) {
		return true
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.queue) > 0
}

// close leaves the hub (or closes the stream's own dump) and unblocks a read. Safe to call
// more than once and from any goroutine.
func (s *subscription) close() {
	s.mu.Lock()
	was := s.closed
	s.closed = true
	cancel, done := s.cancel, s.done
	s.mu.Unlock()
	s.signal()
	if was {
		return
	}
	if cancel != nil {
		cancel()
		<-done
		s.mu.Lock()
		c := s.ownConn
		s.mu.Unlock()
		if c != nil {
			c.close() // also unblocks the reader, which may hold it as s.own
		}
	}
	s.hub.unsubscribe(s)
}

// tableDBs maps table ids to their databases, from TABLE_MAP events.
type tableDBs struct{ m map[uint64]string }

// rowsDB returns the database of a TABLE_MAP or rows event, or filtered=false for any other
// event (or a table id it has not seen): those go to every subscriber. A stream skips the
// rows of other databases (but the resharding journal's) without looking at them, so they
// need not be queued for it: with many schemas per server each stream parses only its own
// rows. The map is emptied, when large, only at a GTID event, so that within a group the hub
// and a replay of it (skipReplay) decide alike.
func (t *tableDBs) rowsDB(data []byte) (db string, filtered bool) {
	const idSize = 6 // v1/v2 rows events and TABLE_MAP (MariaDB 5.1+)
	typ := replication.EventType(data[4])
	body := data[binlogHeaderSize:]
	if typ == replication.MARIADB_GTID_EVENT && len(t.m) > 100_000 {
		t.m = nil
	}
	if len(body) < idSize+2 {
		return "", false
	}
	id := uint64(body[0]) | uint64(body[1])<<8 | uint64(body[2])<<16 | uint64(body[3])<<24 | uint64(body[4])<<32 | uint64(body[5])<<40
	switch typ {
	case replication.TABLE_MAP_EVENT:
		// post-header: table id (6), flags (2); then the database name, length-prefixed
		n := idSize + 2
		if len(body) <= n || len(body) < n+1+int(body[n]) {
			return "", false
		}
		db := string(body[n+1 : n+1+int(body[n])])
		if t.m == nil {
			t.m = map[uint64]string{}
		}
		t.m[id] = db
		return db, true
	case replication.WRITE_ROWS_EVENTv1, replication.UPDATE_ROWS_EVENTv1, replication.DELETE_ROWS_EVENTv1,
		replication.WRITE_ROWS_EVENTv2, replication.UPDATE_ROWS_EVENTv2, replication.DELETE_ROWS_EVENTv2,
		replication.MARIADB_WRITE_ROWS_COMPRESSED_EVENT_V1, replication.MARIADB_UPDATE_ROWS_COMPRESSED_EVENT_V1,
		replication.MARIADB_DELETE_ROWS_COMPRESSED_EVENT_V1:
		db, ok := t.m[id]
		return db, ok
	}
	return "", false
}

package vstream

// One binlog dump per MariaDB server, shared by the streams of its schemas (issue 11: 1,000
// schemas on one server must not mean 1,000 dumps).
//
// A dumpHub reads one server's binlog and hands every event, unparsed, to each subscribed
// stream's queue; each stream parses and filters them itself (its own parser, table maps and
// position), exactly as it would the events of a dump of its own: the raw events a stream
// gets are the ones its own dump would have sent from the same position, so its output is
// the same (FIELD events, schema history, VGTIDs, heartbeats).
//
// The rules:
//   - Only MariaDB sources, and only the streaming phase (not the copy phase, whose catch-up
//     keeps its own dump, nor the schema tracker).
//   - The first stream of a server starts the hub at its own position.
//   - A later stream joins only at a group boundary (just before a GTID event, or at a binlog
//     heartbeat, which the source sends only when it has sent everything) where the hub's
//     position is exactly the stream's (a stream from "current" takes the first boundary at or
//     after the server's position when it asked, and starts there). A stream whose position
//     the hub has passed, or does not reach within joinWait, reads a dump of its own, and keeps
//     it (it never merges into the hub).
//   - Each subscriber's queue is bounded (Config.SharedBinlogBuffer bytes). A subscriber that
//     lets its queue fill while another has room (a slow client) is detached: it gets the
//     events already queued, then continues from its own position on a dump of its own, so
//     the others do not wait for it and it loses nothing. While every subscriber's queue is
//     full (a lone stream, or all of them catching up on a backlog), the hub waits for them,
//     as a dump of one's own waits for its stream. (Detached in the middle of a transaction sent in chunks, it
//     sends that transaction again from its BEGIN, as after a source failure.)
//   - When the hub's dump fails, every subscriber gets the error after its queued events and
//     handles it as a failure of its own dump (re-pick, resume from its position).
//   - The hub ends with its last subscriber.

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/go-mysql-org/go-mysql/replication"
)

// errDetached ends a subscription whose queue overflowed: the stream continues on its own dump.
var errDetached = errors.New("detached from the shared binlog reader (its queue was full)")

// hubSet is the Manager's hubs, by server address.
type hubSet struct {
	mu   sync.Mutex
	hubs map[string]*dumpHub
}

// dumpHub is one server's shared binlog dump. Its goroutine (run) is owned by the hub: it ends
// when the last subscriber leaves (unsubscribe closes the connection and waits for it).
type dumpHub struct {
	set    *hubSet
	addr   string
	reader *binlogReader // raw events only (nextRaw); read by run alone
	done   chan struct{} // closed when run has returned
	room   chan struct{} // signalled (capacity 1) when a subscriber made room (see waitRoom)
	quit   chan struct{} // closed by stop

	mu      sync.Mutex // guards the fields below
	subs    map[*subscription]struct{}
	waiting []*joinRequest
	pos     Position          // after every group whose GTID event was handed out
	fde     []byte            // the last FORMAT_DESCRIPTION event, for joiners' parsers
	tableDB map[uint64]string // database of each table id, from TABLE_MAP events (read by run alone)
	err     error             // the dump failed (no new subscriber)
	stopped bool              // stop was called
	// idle: the last event handed out ended a group (or was a heartbeat), so the next one
	// starts a new group: a stream may join now. standalone: the group being read is one
	// statement (its QUERY event ends it).
	idle, standalone bool
	limit            int // queue bound per subscriber, in bytes
}

// joinRequest is a stream waiting for a boundary to join at.
type joinRequest struct {
	pos     Position // exact position to join at, or the least one (atLeast)
	atLeast bool
	sub     *subscription
	result  chan error // nil: joined at sub.start; else why not
}

// subscription is one stream's queue of raw events from a hub. It is read by the stream's
// goroutine (readEvent, buffered) and filled by the hub's. The reader takes the whole queue
// at once into its own batch, so the two goroutines meet once per batch, not per event, and
// the hub wakes the reader only when the queue was empty.
type subscription struct {
	hub    *dumpHub
	db     string        // the stream's database: other databases' rows are not queued
	start  Position      // where it joined
	notify chan struct{} // signalled (capacity 1) when events or the end arrive

	batch [][]byte // taken from queue, read by readEvent alone
	next  int      // batch[next:] are unread

	mu     sync.Mutex // guards the fields below
	queue  [][]byte
	spare  [][]byte // the reader's last batch, for the hub to reuse
	bytes  int      // in queue
	end    error
	closed bool
}

// push queues ev, or detaches the subscriber when its queue is full (it holds at most
// limit bytes in the queue and as much in the batch it reads). Called with h.mu held.
func (s *subscription) push(ev []byte, limit int) (ok bool) {
	s.mu.Lock()
	if s.end != nil || s.closed {
		s.mu.Unlock()
		return false
	}
	if s.bytes+len(ev) > limit && s.bytes > 0 {
		s.end = errDetached
		s.mu.Unlock()
		s.signal()
		return false
	}
	wake := len(s.queue) == 0
	if s.queue == nil {
		s.queue, s.spare = s.spare[:0], nil
	}
	s.queue = append(s.queue, ev)
	s.bytes += len(ev)
	s.mu.Unlock()
	if wake {
		s.signal()
	}
	return true
}

// full reports whether n more bytes would pass the queue's bound (see push).
func (s *subscription) full(n, limit int) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.end == nil && !s.closed && s.bytes > 0 && s.bytes+n > limit
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

// readEvent returns the next queued event, waiting for one.
func (s *subscription) readEvent() ([]byte, error) {
	for {
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
		s.mu.Unlock()
		if end != nil {
			return nil, end
		}
		<-s.notify
	}
}

func (s *subscription) buffered() bool {
	if s.next < len(s.batch) {
		return true
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.queue) > 0
}

// close leaves the hub and unblocks a read. Safe to call more than once and from any goroutine.
func (s *subscription) close() {
	s.mu.Lock()
	was := s.closed
	s.closed = true
	s.mu.Unlock()
	s.signal()
	if !was {
		s.hub.unsubscribe(s)
	}
}

// subscribe returns a subscription to the shared dump of the stream's source, starting at
// pos (atLeast: at the first boundary at or after pos, see the rules above), or nil when the
// stream must read a dump of its own. It starts the hub when the server has none.
func (s *shardStream) subscribe(ctx context.Context, pos Position, atLeast bool) (*subscription, error) {
	m := s.m
	set := m.hubs
	set.mu.Lock()
	h := set.hubs[s.src.Addr]
	if h == nil {
		// The first stream of this server: start the hub at its position.
		r, err := s.dialReader(ctx, context.Background(), pos)
		if err != nil {
			set.mu.Unlock()
			return nil, err
		}
		h = &dumpHub{set: set, addr: s.src.Addr, reader: r, done: make(chan struct{}), room: make(chan struct{}, 1), quit: make(chan struct{}),
			subs: map[*subscription]struct{}{}, pos: pos, limit: m.cfg.SharedBinlogBuffer}
		sub := h.newSub(pos, s.src.DBName)
		h.subs[sub] = struct{}{}
		set.hubs[s.src.Addr] = h
		set.mu.Unlock()
		go h.run()
		return sub, nil
	}
	h.mu.Lock()
	set.mu.Unlock()
	if h.err != nil {
		h.mu.Unlock()
		return nil, nil
	}
	req := &joinRequest{pos: pos, atLeast: atLeast, sub: h.newSub(Position{}, s.src.DBName), result: make(chan error, 1)}
	h.waiting = append(h.waiting, req)
	if h.idle {
		h.admit() // between groups now: no need to wait for the next one
	}
	h.mu.Unlock()
	wait := time.NewTimer(m.cfg.BinlogHeartbeat*2 + time.Second)
	defer wait.Stop()
	var err error
	select {
	case err = <-req.result:
	case <-wait.C:
		err = errors.New("the shared reader did not reach the position in time")
	case <-ctx.Done():
		err = ctx.Err()
	}
	if err != nil {
		h.mu.Lock()
		for i, w := range h.waiting {
			if w == req {
				h.waiting = append(h.waiting[:i], h.waiting[i+1:]...)
				break
			}
		}
		h.mu.Unlock()
		select {
		case jerr := <-req.result: // answered while we gave up
			if jerr == nil {
				req.sub.close() // joined: leave
			} else {
				h.release()
			}
		default:
			h.release() // it may have been the hub's last stream
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		s.log.Info("vstream reads a binlog dump of its own", "keyspace", s.ks, "shard", s.shard, "tablet", s.src.Alias,
			"position", pos.String(), "why", err.Error())
		return nil, nil
	}
	return req.sub, nil
}

func (h *dumpHub) newSub(start Position, db string) *subscription {
	return &subscription{hub: h, start: start, db: db, notify: make(chan struct{}, 1)}
}

// rowsDB returns the database of a TABLE_MAP or rows event, or ok=false for any other event
// (or a table id it has not seen): those go to every subscriber. A stream skips the rows of
// other databases (but the resharding journal's) without looking at them, so they need not
// be queued for it: with many schemas per server each stream parses only its own rows.
func (h *dumpHub) rowsDB(typ replication.EventType, body []byte) (string, bool) {
	const idSize = 6 // v1/v2 rows events and TABLE_MAP (MariaDB 5.1+)
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
		if h.tableDB == nil || len(h.tableDB) > 100_000 {
			h.tableDB = map[uint64]string{}
		}
		h.tableDB[id] = db
		return db, true
	case replication.WRITE_ROWS_EVENTv1, replication.UPDATE_ROWS_EVENTv1, replication.DELETE_ROWS_EVENTv1,
		replication.WRITE_ROWS_EVENTv2, replication.UPDATE_ROWS_EVENTv2, replication.DELETE_ROWS_EVENTv2,
		replication.MARIADB_WRITE_ROWS_COMPRESSED_EVENT_V1, replication.MARIADB_UPDATE_ROWS_COMPRESSED_EVENT_V1,
		replication.MARIADB_DELETE_ROWS_COMPRESSED_EVENT_V1:
		db, ok := h.tableDB[id]
		return db, ok
	}
	return "", false
}

// run reads the dump and hands every event to the subscribers until the dump fails or is
// closed.
func (h *dumpHub) run() {
	defer close(h.done)
	for {
		data, err := h.reader.nextRaw()
		if err != nil {
			h.fail(fmt.Errorf("shared binlog dump of %s: %w", h.addr, err))
			return
		}
		if len(data) < binlogHeaderSize {
			h.fail(fmt.Errorf("shared binlog dump of %s: event of %d bytes, shorter than its header", h.addr, len(data)))
			return
		}
		h.mu.Lock()
		idle := h.idle // after this event is handed out
		switch replication.EventType(data[4]) {
		case replication.FORMAT_DESCRIPTION_EVENT:
			h.fde = data
		case replication.HEARTBEAT_EVENT:
			h.admit() // the source has sent everything: a boundary
			idle = true
		case replication.XID_EVENT, replication.XA_PREPARE_LOG_EVENT:
			idle = true // the end of a transaction's group
		case replication.QUERY_EVENT:
			idle = h.standalone // a DDL's group is its one QUERY event
			h.standalone = false
		case replication.MARIADB_GTID_EVENT:
			body := data[binlogHeaderSize:]
			if len(body) < 13 {
				h.mu.Unlock()
				h.fail(fmt.Errorf("shared binlog dump of %s: MariaDB GTID event of %d bytes", h.addr, len(data)))
				return
			}
			h.admit() // before a group: a boundary
			h.idle, idle, h.standalone = false, false, body[12]&replication.BINLOG_MARIADB_FL_STANDALONE != 0
			h.pos = h.pos.withMariaGTID(mariaGTID{Seq: binary.LittleEndian.Uint64(body), Domain: binary.LittleEndian.Uint32(body[8:]),
				Server: binary.LittleEndian.Uint32(data[5:])})
		}
		db, filtered := h.rowsDB(replication.EventType(data[4]), data[binlogHeaderSize:])
		if !h.waitRoom(len(data)) {
			h.mu.Unlock()
			return
		}
		for sub := range h.subs {
			if filtered && db != sub.db && db != journalDB {
				continue
			}
			if !sub.push(data, h.limit) {
				delete(h.subs, sub) // detached (or closed): it goes on with a dump of its own
			}
		}
		h.idle = idle
		h.mu.Unlock()
	}
}

// waitRoom returns once some subscriber has room for n more bytes, so that only the ones
// behind the fastest are detached: while every one is full (a lone stream, or all of them
// catching up), the hub waits for them, and the source for the hub, as a dump of one's own
// waits for its stream. Called with h.mu held, which it releases while it waits; false when
// the hub was stopped meanwhile.
func (h *dumpHub) waitRoom(n int) bool {
	for {
		all := len(h.subs) > 0
		for sub := range h.subs {
			if !sub.full(n, h.limit) {
				all = false
				break
			}
		}
		if !all {
			return true
		}
		h.mu.Unlock()
		select {
		case <-h.room:
			h.mu.Lock()
		case <-h.quit:
			h.mu.Lock()
			return false
		}
	}
}

// signalRoom tells a waiting hub that a subscriber took its queue or left.
func (h *dumpHub) signalRoom() {
	select {
	case h.room <- struct{}{}:
	default:
	}
}

// admit lets in the waiting streams whose position is the hub's; those the hub has passed
// are turned away. Called with h.mu held, at a group boundary.
func (h *dumpHub) admit() {
	keep := h.waiting[:0]
	for _, w := range h.waiting {
		switch {
		case h.pos.Equal(w.pos) || (w.atLeast && h.pos.AtLeast(w.pos)):
			w.sub.start = h.pos
			// The joiner's parser needs the format description first (the stream's reader
			// skips a repeated one as its own dump would send one at its start too).
			if h.fde != nil {
				w.sub.push(h.fde, h.limit)
			}
			h.subs[w.sub] = struct{}{}
			w.result <- nil
		case !w.atLeast && h.pos.AtLeast(w.pos):
			w.result <- errors.New("the shared reader is past the position")
		default:
			keep = append(keep, w)
		}
	}
	clear(h.waiting[len(keep):])
	h.waiting = keep
}

// fail ends every subscription with err and stops admitting.
func (h *dumpHub) fail(err error) {
	h.set.mu.Lock()
	if h.set.hubs[h.addr] == h {
		delete(h.set.hubs, h.addr)
	}
	h.set.mu.Unlock()
	h.mu.Lock()
	defer h.mu.Unlock()
	h.err = err
	for sub := range h.subs {
		sub.finish(err)
	}
	for _, w := range h.waiting {
		w.result <- err
	}
	h.waiting = nil
}

// unsubscribe removes s; the last subscriber stops the hub.
func (h *dumpHub) unsubscribe(s *subscription) {
	h.mu.Lock()
	delete(h.subs, s)
	h.mu.Unlock()
	h.signalRoom()
	h.release()
}

// release stops the hub when no stream reads it or waits to.
func (h *dumpHub) release() {
	h.set.mu.Lock()
	h.mu.Lock()
	last := len(h.subs) == 0 && len(h.waiting) == 0
	if last && h.set.hubs[h.addr] == h {
		delete(h.set.hubs, h.addr)
	}
	h.mu.Unlock()
	h.set.mu.Unlock()
	if last {
		h.stop()
	}
}

// stop closes the dump and waits for run to return. Safe to call more than once.
func (h *dumpHub) stop() {
	h.mu.Lock()
	first := !h.stopped
	h.stopped = true
	h.mu.Unlock()
	if first {
		close(h.quit)
		h.reader.close()
	}
	<-h.done
}

// subscribers is how many streams read the hub of addr (0 without one), for tests and pages.
func (set *hubSet) subscribers(addr string) int {
	set.mu.Lock()
	h := set.hubs[addr]
	set.mu.Unlock()
	if h == nil {
		return 0
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.subs)
}

// close stops every hub (the Manager's Close; streams have ended by then).
func (set *hubSet) close() {
	set.mu.Lock()
	hubs := make([]*dumpHub, 0, len(set.hubs))
	for _, h := range set.hubs {
		hubs = append(hubs, h)
	}
	set.hubs = map[string]*dumpHub{}
	set.mu.Unlock()
	for _, h := range hubs {
		h.stop()
	}
}

// startReader opens the stream's binlog reader at s.pos: on the server's shared dump where the
// rules allow (atLeast for a stream from "current": s.pos becomes where it joined), else on a
// dump of its own.
func (s *shardStream) startReader(ctx context.Context, atLeast bool) error {
	if !s.m.cfg.PrivateBinlogDumps && s.flavor == flavorMariaDB {
		sub, err := s.subscribe(ctx, s.pos, atLeast)
		if err != nil {
			return err
		}
		if sub != nil {
			s.pos = sub.start
			s.reader = s.newReader(ctx, sub, flavorMariaDB)
			return nil
		}
	}
	var err error
	s.reader, err = s.openBinlog(ctx, s.pos)
	return err
}

// follow replicates from s.reader until an error; a stream detached from the shared dump
// for being slow goes on from its position on a dump of its own.
func (s *shardStream) follow(ctx context.Context) error {
	for {
		err := s.replicate(ctx, s.reader, Position{})
		if !errors.Is(err, errDetached) {
			return err
		}
		s.log.Warn("vstream fell behind the shared binlog reader; continuing on a dump of its own", "keyspace", s.ks, "shard", s.shard,
			"tablet", s.src.Alias, "position", s.pos.String())
		s.reader.close()
		if s.reader, err = s.openBinlog(ctx, s.pos); err != nil {
			return err
		}
	}
}

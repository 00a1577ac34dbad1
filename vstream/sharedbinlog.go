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
//     lets its queue fill while another has room (a slow client) is detached: the hub stops
//     queueing for it, and it starts a dump of its own at once, at the position before the
//     transaction it was queued last, dropping from it what it already has (sharedsub.go).
//     It reads its queue, then that dump: the same events, none lost or repeated, and the
//     others do not wait for it. While every subscriber's queue is full (a lone stream, or
//     all of them catching up on a backlog), the hub waits for them, as a dump of one's own
//     waits for its stream.
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

// errDetached marks a subscription whose queue overflowed: once it is read, the stream goes
// on with a dump of its own (sharedsub.go).
var errDetached = errors.New("detached from the shared binlog reader (its queue was full)")

// dialFunc starts a stream's own dump from a position (for a detached subscriber).
type dialFunc func(ctx context.Context, pos Position) (*binlogConn, error)

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
	reader *binlogReader // raw events only (nextRaw), read by run; set (under mu) once the dump started
	done   chan struct{} // closed when run has returned
	room   chan struct{} // signalled (capacity 1) when a subscriber made room (see waitRoom)
	quit   chan struct{} // closed by stop

	mu    sync.Mutex // guards the fields below
	subs  map[*subscription]struct{}
	woken map[*subscription]struct{} // got events since the last wake-up (run alone)
	// unsignaled counts the events queued since the last wake-up (run alone)
	unsignaled int
	waiting    []*joinRequest
	pos        Position // after every group whose GTID event was handed out
	// the group being read: its GTID and the position before it
	group      mariaGTID
	groupStart Position
	fde        []byte   // the last FORMAT_DESCRIPTION event, for joiners' parsers
	tables     tableDBs // read by run alone
	err        error    // the dump failed (no new subscriber)
	stopped    bool     // stop was called
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

// subscribe returns a subscription to the shared dump of the stream's source, starting at
// pos (atLeast: at the first boundary at or after pos, see the rules above), or nil when the
// stream must read a dump of its own. It starts the hub when the server has none.
func (s *shardStream) subscribe(ctx context.Context, pos Position, atLeast bool) (*subscription, error) {
	m := s.m
	src := s.src
	dial := func(ctx context.Context, pos Position) (*binlogConn, error) { return m.dialConn(ctx, src, pos) }
	set := m.hubs
	set.mu.Lock()
	h := set.hubs[s.src.Addr]
	if h == nil {
		// The first stream of this server: start the hub at its position. Streams that come
		// meanwhile wait to join it; other servers' streams do not wait for the dial.
		h = &dumpHub{set: set, addr: s.src.Addr, done: make(chan struct{}), room: make(chan struct{}, 1), quit: make(chan struct{}),
			subs: map[*subscription]struct{}{}, woken: map[*subscription]struct{}{}, pos: pos, limit: m.cfg.SharedBinlogBuffer}
		sub := h.newSub(pos, s.src.DBName, dial)
		h.subs[sub] = struct{}{}
		set.hubs[s.src.Addr] = h
		set.mu.Unlock()
		r, err := s.dialReader(ctx, context.Background(), pos)
		h.mu.Lock()
		if err == nil && h.stopped {
			err = errors.New("vstream: the Manager is closed")
		}
		if err != nil {
			h.mu.Unlock()
			r.close()
			h.fail(err) // the waiting streams read dumps of their own
			close(h.done)
			return nil, err
		}
		h.reader = r
		h.mu.Unlock()
		go h.run()
		return sub, nil
	}
	h.mu.Lock()
	set.mu.Unlock()
	if h.err != nil {
		h.mu.Unlock()
		return nil, nil
	}
	req := &joinRequest{pos: pos, atLeast: atLeast, sub: h.newSub(Position{}, s.src.DBName, dial), result: make(chan error, 1)}
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

func (h *dumpHub) newSub(start Position, db string, dial dialFunc) *subscription {
	return &subscription{hub: h, start: start, db: db, dial: dial, notify: make(chan struct{}, 1)}
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
			h.group = mariaGTID{Seq: binary.LittleEndian.Uint64(body), Domain: binary.LittleEndian.Uint32(body[8:]),
				Server: binary.LittleEndian.Uint32(data[5:])}
			h.groupStart = h.pos
			h.pos = h.pos.withMariaGTID(h.group)
		}
		db, filtered := h.tables.rowsDB(data)
		info := pushInfo{heartbeat: replication.EventType(data[4]) == replication.HEARTBEAT_EVENT}
		if replication.EventType(data[4]) == replication.MARIADB_GTID_EVENT {
			info.gtid, info.g, info.groupStart = true, h.group, h.groupStart
		}
		if !h.waitRoom(len(data)) {
			h.mu.Unlock()
			return
		}
		for sub := range h.subs {
			if filtered && db != sub.db && db != journalDB {
				continue
			}
			if !sub.push(data, h.limit, info) {
				delete(h.subs, sub) // detached (or closed): it goes on with a dump of its own
				continue
			}
			h.woken[sub] = struct{}{}
		}
		h.idle = idle
		h.unsignaled++
		if !h.reader.buffered() || h.unsignaled >= 256 {
			h.wake() // nothing more to read at once (or many events queued)
		}
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
		h.wake() // they must read to make room
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

// wake signals the streams that got events since the last wake-up. Called with h.mu held.
func (h *dumpHub) wake() {
	for sub := range h.woken {
		sub.signal()
	}
	clear(h.woken)
	h.unsignaled = 0
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
		case h.pos.Same(w.pos) || (w.atLeast && h.pos.AtLeast(w.pos)):
			w.sub.start = h.pos
			// The joiner's parser needs the format description first (the stream's reader
			// skips a repeated one as its own dump would send one at its start too).
			if h.fde != nil {
				w.sub.push(h.fde, h.limit, pushInfo{})
				w.sub.signal()
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
	r := h.reader // nil while the dump is being started (which then sees stopped)
	h.mu.Unlock()
	if first {
		close(h.quit)
		r.close()
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

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
//     position is exactly the stream's, domain by domain (a stream from "current" takes the
//     first boundary at or after the server's position when it asked, and starts there).
//     The hub knows the server's last GTID of every domain, so a position level with it in
//     an idle domain joins at once, and one the hub has passed, or ahead of the server,
//     reads a dump of its own at once (joindecide.go); one the hub does not reach within
//     the join wait reads a dump of its own too.
//   - Each subscriber's queue is bounded (Config.SharedBinlogBuffer bytes of the binlog it
//     keeps, sharedsub.go). A subscriber that lets its queue fill while another has room (a
//     slow client) is detached: the hub stops queueing for it, and it goes on with a dump of
//     its own from where its queue ends, with nothing lost or repeated (sharedown.go); the
//     others do not wait for it. While every subscriber's queue is full (a lone stream, or
//     all of them catching up on a backlog), the hub waits for them, as a dump of one's own
//     waits for its stream.
//   - A stream on a dump of its own (detached, or one that could not join) rejoins the hub
//     once that dump has caught up: exactly at one of the hub's group boundaries, after
//     which its own dump is closed (sharedown.go). So a burst that detaches streams leaves
//     one dump per server again once they have caught up.
//   - When the hub's dump fails, the hub starts it again once, where it was (in the middle
//     of a transaction too, dropping what it had read of it): its streams see nothing. If
//     that fails too, every subscriber gets the error after its queued events and handles
//     it as a failure of its own dump (re-pick, resume from its position); the first to
//     come back starts a new hub, the others join it or rejoin it later.
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

// dialFunc starts a stream's own dump from a position (for a detached subscriber).
type dialFunc func(ctx context.Context, pos Position) (*binlogConn, error)

// hubSet is the Manager's hubs, by server address, and every stream's subscription (for the
// metrics).
type hubSet struct {
	mu   sync.Mutex // guards hubs and subs; taken before a hub's
	hubs map[string]*dumpHub
	subs map[*subscription]struct{}
	idle time.Duration // Config.DetachedDumpIdle

	statsMu sync.Mutex              // guards stats; taken last (by hubs and subscriptions holding theirs)
	stats   map[string]*hubCounters // by server address, kept across hubs
}

func newHubSet(cfg Config) *hubSet {
	return &hubSet{hubs: map[string]*dumpHub{}, subs: map[*subscription]struct{}{}, stats: map[string]*hubCounters{}, idle: cfg.DetachedDumpIdle}
}

// dumpHub is one server's shared binlog dump. Its goroutine (run) is owned by the hub: it ends
// when the last subscriber leaves (unsubscribe closes the connection and waits for it).
type dumpHub struct {
	set    *hubSet
	addr   string
	open   func(ctx context.Context, pos Position) (*binlogReader, error) // starts the dump
	ctx    context.Context                                                // cancelled by stop
	cancel context.CancelFunc
	done   chan struct{} // closed when run has returned
	room   chan struct{} // signalled (capacity 1) when a subscriber made room (see waitRoom)

	mu sync.Mutex // guards the fields below
	// reader: raw events only (nextRaw), read by run; set once the dump started, and again
	// when run starts it again (reconnect)
	reader *binlogReader
	subs   map[*subscription]struct{}
	woken  map[*subscription]struct{} // got events since the last wake-up (run alone)
	// unsignaled counts the events queued since the last wake-up (run alone)
	unsignaled int
	waiting    []*joinRequest
	pos        Position // after every group whose GTID event was handed out
	// known: the last GTID the server has of each of its domains, as far as the hub knows
	// (@@gtid_binlog_pos at its start, raised by the GTID lists and GTIDs read), for the
	// join decisions (joindecide.go)
	known Position
	// caughtUp: the last event handed out was a heartbeat (the hub has read everything)
	caughtUp bool
	// the group being read: its GTID, the position before it, and its events handed out
	group       mariaGTID
	groupStart  Position
	groupEvents int
	read        int      // events read since the dump was (re)started
	fde         []byte   // the last FORMAT_DESCRIPTION event, for joiners' parsers
	tables      tableDBs // read by run alone
	err         error    // the dump failed (no new subscriber)
	stopped     bool     // stop was called
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
	// rejoin: a subscription on its own dump, admitted at any boundary (sharedown.go); it
	// gets no result
	rejoin bool
	sub    *subscription
	result chan error // nil: joined at sub.start; else why not
}

// run reads the dump and hands every event to the subscribers until the dump fails (twice
// in a row, see reconnect) or is closed.
func (h *dumpHub) run() {
	defer close(h.done)
	for {
		data, err := h.reader.nextRaw()
		if err != nil {
			if h.reconnect(err) {
				continue
			}
			h.fail(fmt.Errorf("shared binlog dump of %s: %w", h.addr, err))
			return
		}
		if len(data) < binlogHeaderSize {
			h.fail(fmt.Errorf("shared binlog dump of %s: event of %d bytes, shorter than its header", h.addr, len(data)))
			return
		}
		h.mu.Lock()
		h.read++
		idle := h.idle // after this event is handed out
		h.caughtUp = false
		typ := replication.EventType(data[4])
		switch typ {
		case replication.FORMAT_DESCRIPTION_EVENT:
			h.fde = data
		case replication.HEARTBEAT_EVENT:
			h.caughtUp = true
			h.admit() // the source has sent everything: a boundary
			idle = true
		case replication.MARIADB_GTID_LIST_EVENT:
			h.known = raiseToGTIDList(h.known, data[binlogHeaderSize:])
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
			if _, had := h.known.mariaDomain(h.group.Domain); !had {
				h.endCarriers(h.group.Domain, h.groupStart)
			}
			h.known = h.known.raisedTo(h.group)
			h.groupEvents = 0
		}
		if typ != replication.HEARTBEAT_EVENT && (typ == replication.MARIADB_GTID_EVENT || h.groupEvents > 0) {
			h.groupEvents++ // counted as the subscribers count theirs (sharedsub.go)
		}
		db, filtered := h.tables.rowsDB(data)
		info := pushInfo{heartbeat: typ == replication.HEARTBEAT_EVENT}
		if c, ok := h.reader.conn.(*binlogConn); ok {
			info.block = c.lastBlock()
		}
		if typ == replication.MARIADB_GTID_EVENT {
			info.gtid, info.g, info.groupStart = true, h.group, h.groupStart
		}
		if !h.waitRoom(data, info.block) {
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

// reconnect starts the dump again where the hub is, after it failed with cause: at its
// position, or before the group it is in, dropping the events of the group it handed out
// already. It tries once per failure, and not again before the new dump sent an event.
func (h *dumpHub) reconnect(cause error) bool {
	h.mu.Lock()
	if h.stopped || h.read == 0 {
		h.mu.Unlock()
		return false
	}
	from, g, skip := h.pos, h.group, 0
	if !h.idle && h.groupEvents > 0 {
		from, skip = h.groupStart, h.groupEvents
	}
	old := h.reader
	h.reader = nil // closed here, not by stop
	h.mu.Unlock()
	old.close()
	r, err := h.open(h.ctx, from)
	if err == nil && skip > 0 {
		c := r.conn.(*binlogConn)
		stop := context.AfterFunc(h.ctx, c.close)
		err = skipReplay(c, g, skip, "", nil)
		if !stop() && err == nil {
			err = h.ctx.Err()
		}
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if err == nil && h.stopped {
		err = h.ctx.Err()
	}
	if err != nil {
		if r != nil {
			r.close()
		}
		h.reader = nil
		return false
	}
	h.reader, h.read = r, 0
	if skip == 0 {
		// Between two groups: every queue ends at h.pos, which is where a hand-over starts
		// now (the new dump's first events, a rotate and a format description, are not
		// counted as a group's).
		h.groupEvents = 0
		for sub := range h.subs {
			sub.restartAt(h.pos)
		}
	}
	h.set.counters(h.addr).reconnects.Add(1)
	_ = cause // the metric counts it; the streams see nothing
	return true
}

// waitRoom returns once some subscriber that reads its queue has room for ev (from read
// block block), so that only the ones behind the fastest are detached: while every one is
// full (a lone stream, or all of them catching up), the hub waits for them, and the source
// for the hub, as a dump of one's own waits for its stream. Subscribers on their way back
// (subJoining) read their own dumps: they neither wait nor make the others wait. Called
// with h.mu held, which it releases while it waits; false when the hub was stopped meanwhile.
func (h *dumpHub) waitRoom(ev []byte, block uint64) bool {
	for {
		reading, room := 0, false
		for sub := range h.subs {
			full, r := sub.full(ev, block, h.limit)
			if !r {
				continue
			}
			reading++
			if !full {
				room = true
				break
			}
		}
		if room || reading == 0 {
			return true
		}
		h.wake() // they must read to make room
		h.mu.Unlock()
		select {
		case <-h.room:
			h.mu.Lock()
		case <-h.ctx.Done():
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

// admit lets in the waiting streams whose position is the hub's, and the rejoining ones;
// those that must read a dump of their own are turned away (decideJoin). Called with h.mu
// held, at a group boundary.
func (h *dumpHub) admit() {
	keep := h.waiting[:0]
	for _, w := range h.waiting {
		v, start := joinWait, Position{}
		switch {
		case w.rejoin:
		case w.atLeast:
			if h.pos.AtLeast(w.pos) {
				v, start = joinNow, h.pos
			}
		default:
			v, start = decideJoin(h.pos, h.known, w.pos, h.caughtUp)
		}
		switch {
		case w.rejoin:
			if w.sub.admitRejoin(h, h.pos, h.known, h.fde) {
				h.subs[w.sub] = struct{}{}
			}
		case v == joinNow:
			w.sub.admitted(start, h.known)
			// The joiner's parser needs the format description first (the stream's reader
			// skips a repeated one as its own dump would send one at its start too).
			if h.fde != nil {
				w.sub.push(h.fde, h.limit, pushInfo{})
				w.sub.signal()
			}
			h.subs[w.sub] = struct{}{}
			w.result <- nil
		case v == joinOwn:
			w.result <- fmt.Errorf("the shared reader at %s cannot serve the position (the server has %s)", h.pos, h.known)
		default:
			keep = append(keep, w)
		}
	}
	clear(h.waiting[len(keep):])
	h.waiting = keep
}

// endCarriers ends the subscriptions whose stream's position differs from the hub's, from
// (before this event), in domain d, of which the hub now reads the server's first event:
// a dump skips that domain's events up to the GTID its start position names (or fails if
// the server has no such GTID), so the hub's events in the domain are not the ones the
// stream's own dump would send. They resume from their positions as after a failure of
// their own dump. Called with h.mu held.
func (h *dumpHub) endCarriers(d uint32, from Position) {
	hg, hok := from.mariaDomain(d)
	for sub := range h.subs {
		if g, ok := sub.carries(d); ok != hok || g != hg {
			sub.finish(fmt.Errorf("shared binlog dump of %s: the server now has GTID domain %d, which the stream's position and the shared dump's name differently", h.addr, d))
		}
	}
}

// dropWaiter removes s's join request, if any. Called with h.mu held.
func (h *dumpHub) dropWaiter(s *subscription) {
	for i, w := range h.waiting {
		if w.sub == s {
			h.waiting = append(h.waiting[:i], h.waiting[i+1:]...)
			return
		}
	}
}

// fail ends every subscription with err and stops admitting; rejoining streams go on with
// their own dumps.
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
		if w.rejoin {
			w.sub.finish(err)
		} else {
			w.result <- err
		}
	}
	h.waiting = nil
}

// unsubscribe removes s; the last subscriber stops the hub.
func (h *dumpHub) unsubscribe(s *subscription) {
	h.mu.Lock()
	delete(h.subs, s)
	h.dropWaiter(s)
	h.mu.Unlock()
	h.signalRoom()
	h.release()
}

// release stops the hub when no stream reads it or waits to join it (a stream waiting to
// rejoin keeps its own dump instead).
func (h *dumpHub) release() {
	h.set.mu.Lock()
	h.mu.Lock()
	last := len(h.subs) == 0
	for _, w := range h.waiting {
		last = last && w.rejoin
	}
	if last {
		if h.set.hubs[h.addr] == h {
			delete(h.set.hubs, h.addr)
		}
		for _, w := range h.waiting {
			w.sub.finish(errors.New("the shared binlog dump ended"))
		}
		h.waiting = nil
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
		h.cancel()
		r.close()
	}
	<-h.done
}

// lookup returns the hub of addr, nil without one.
func (set *hubSet) lookup(addr string) *dumpHub {
	set.mu.Lock()
	defer set.mu.Unlock()
	return set.hubs[addr]
}

// subscribers is how many streams read the hub of addr (0 without one), for tests and pages.
func (set *hubSet) subscribers(addr string) int {
	n := 0
	for _, st := range set.states(addr) {
		if st == subShared {
			n++
		}
	}
	return n
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

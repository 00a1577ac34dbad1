package vstream

// A subscription's dump of its own (sharedsub.go): the hand-over to it when the stream falls
// behind the hub, and the rejoin once it has caught up.
//
// Hand-over: the hub counts, per subscriber, the events of the current group (transaction)
// it queued for it. When the queue overflows, the hub stops queueing for it and the
// subscription starts a dump of its own at once, from the position before that group, and
// drops from it what the stream already has: the events before the group's GTID event,
// then as many of the group's events as were queued (counted as the hub counts them: no
// heartbeats, no rows of other databases). The rest of the backlog then waits at the
// source. Once the stream has read its queue, it reads the new dump: the same events, none
// lost or repeated. The new dump must not wait unread for longer than the source's
// net_write_timeout (60 s by default), or the source drops it: when the stream has not got
// to it within Config.DetachedDumpIdle, it is closed, and started again (the same way) when
// the stream gets there.
//
// Rejoin: once the own dump has caught up with the binlog (it sent a heartbeat, or a read of
// it waited for the source) and a second has passed since the hand-over (more after a failed
// try), the subscription asks the hub to queue for it again from the hub's next group
// boundary (joinAt), and reads on its own dump meanwhile. Both dumps read the same binlog in
// the same order, so when the own dump comes to exactly joinAt (a boundary where its
// position is joinAt, server ids included) the queue holds what the own dump would send
// next: the stream closes the own dump and reads the queue. If the own dump passes joinAt
// instead (the hub was behind), or the queue overflows first (the own dump was far behind),
// the try is given up and made again later.

import (
	"context"
	"encoding/binary"
	"fmt"
	"sync"
	"time"

	"github.com/go-mysql-org/go-mysql/replication"
)

const (
	// rejoinWait is the least time on a dump of its own before a rejoin, and the first wait
	// after a failed try; it doubles up to rejoinMaxWait.
	rejoinWait    = time.Second
	rejoinMaxWait = 30 * time.Second
)

// handover is a detached subscription's dump of its own, started when it was detached and
// taken by the reader once it has read its queue.
type handover struct {
	sub  *subscription
	from Position  // the dump starts here
	g    mariaGTID // the group it replays the start of (skip events), when skip > 0
	skip int
	pos  Position      // the stream's position after the replay: its own dump's position
	done chan struct{} // closed when the first start ended

	mu      sync.Mutex // guards the fields below
	conn    *binlogConn
	err     error
	timer   *time.Timer
	expired bool // conn was closed unread (DetachedDumpIdle): start it again when taken
	taken   bool
	stopped bool
}

// startHandover starts the subscriber's own dump at the hand-over point (see the file
// comment). Called with s.mu held.
func (s *subscription) startHandover() *handover {
	ho := &handover{sub: s, from: s.groupStart, g: s.groupGTID, skip: s.groupCount, done: make(chan struct{})}
	if ho.skip == 0 {
		ho.from = s.start
	}
	// The hub's positions name the domains the server has never had as its own start did;
	// the stream's own dump starts with the stream's (s.hub's mu is held: see push).
	if s.hub != nil && !s.hub.known.IsZero() {
		ho.from = ho.from.onServer(s.hub.known)
	}
	for _, g := range s.foreign {
		ho.from = ho.from.withMariaGTID(g)
	}
	ho.pos = ho.from
	if ho.skip > 0 {
		ho.pos = ho.from.withMariaGTID(ho.g)
	}
	go func() {
		c, err := ho.open()
		ho.mu.Lock()
		if ho.stopped {
			ho.mu.Unlock()
			if c != nil {
				c.close()
			}
			close(ho.done)
			return
		}
		ho.conn, ho.err = c, err
		if c != nil {
			ho.timer = time.AfterFunc(s.idle, ho.expire)
		}
		ho.mu.Unlock()
		// done before the signal: a reader woken by it must find the dump taken-ready (take),
		// or it waits for a signal that was already spent, until its watchdog gives up.
		close(ho.done)
		s.signal()
	}()
	return ho
}

// open starts the dump and replays the start of the group the stream is in.
func (ho *handover) open() (*binlogConn, error) {
	ctx := ho.sub.ctx
	c, err := ho.sub.dial(ctx, ho.from)
	if err == nil {
		// The replay reads until it finds the group: a server without it may send only
		// heartbeats, so the subscription's close (cancel) must end the read.
		stop := context.AfterFunc(ctx, c.close)
		err = skipReplay(c, ho.g, ho.skip, ho.sub.db, ho.sub.tick)
		if !stop() && err == nil {
			err = ctx.Err() // closed by the cancel after the replay ended
		}
		if err != nil {
			c.close()
			c = nil
		}
	}
	if err != nil {
		return nil, fmt.Errorf("continue on a dump of its own from %s: %w", ho.from, err)
	}
	return c, nil
}

// expire closes the dump if the stream has not taken it yet (see the file comment).
func (ho *handover) expire() {
	ho.mu.Lock()
	defer ho.mu.Unlock()
	if !ho.taken && ho.conn != nil {
		ho.conn.close()
		ho.conn, ho.expired = nil, true
	}
}

// take hands the dump to the reader: nil, nil while it is being started; one started again
// (the same way, in the reader's goroutine) if it expired.
func (ho *handover) take(s *subscription) (*binlogConn, error) {
	select {
	case <-ho.done:
	default:
		return nil, nil
	}
	ho.mu.Lock()
	c, err, expired := ho.conn, ho.err, ho.expired
	ho.taken = true
	if ho.timer != nil {
		ho.timer.Stop()
	}
	ho.mu.Unlock()
	if expired {
		s.set.counters(s.addr).restarts.Add(1)
		return ho.open()
	}
	return c, err
}

// stop ends the start (the subscription's ctx is cancelled) and closes a dump not taken.
func (ho *handover) stop() {
	ho.mu.Lock()
	ho.stopped = true
	c := ho.conn
	if ho.taken {
		c = nil
	}
	if ho.timer != nil {
		ho.timer.Stop()
	}
	ho.mu.Unlock()
	if c != nil {
		c.close()
	}
	<-ho.done
}

// useOwn makes c, a dump at pos, what the reader reads.
func (s *subscription) useOwn(c *binlogConn, pos Position) error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		c.close()
		return fmt.Errorf("shared binlog subscription closed")
	}
	s.state, s.handover, s.ownConn = subOwn, nil, c
	s.retryAt = time.Now().Add(rejoinWait)
	s.mu.Unlock()
	s.own, s.ownPos, s.caughtUp, s.batch, s.spare = c, pos, false, nil, nil
	return nil
}

// readOwn reads the next event of the stream's own dump; switched reports that the stream
// rejoined the hub (the event is dropped: the queue starts with it).
func (s *subscription) readOwn() (ev []byte, switched bool, err error) {
	wait := !s.own.buffered()
	var t0 time.Time
	if wait {
		t0 = time.Now()
	}
	data, err := s.own.readEvent()
	if err != nil {
		return nil, false, err
	}
	if wait && time.Since(t0) >= time.Millisecond {
		s.caughtUp = true // the source had sent everything
	}
	if len(data) < binlogHeaderSize {
		return data, false, nil // the parser reports it
	}
	switch replication.EventType(data[4]) {
	case replication.HEARTBEAT_EVENT:
		s.caughtUp = true
		if s.atBoundary(nil) {
			return nil, true, nil
		}
	case replication.MARIADB_GTID_EVENT:
		body := data[binlogHeaderSize:]
		if len(body) < 12 {
			return data, false, nil
		}
		if s.atBoundary(data) {
			return nil, true, nil
		}
		s.ownPos = s.ownPos.withMariaGTID(mariaGTID{Seq: binary.LittleEndian.Uint64(body),
			Domain: binary.LittleEndian.Uint32(body[8:]), Server: binary.LittleEndian.Uint32(data[5:])})
	}
	return data, false, nil
}

// atBoundary is called at each group boundary of the own dump (before a GTID event, ev, or
// at a heartbeat, ev nil): it starts a rejoin when it is time, and completes or gives up the
// one under way. true: the stream is on the hub again.
func (s *subscription) atBoundary(ev []byte) bool {
	s.mu.Lock()
	switch s.state {
	case subJoining:
		if s.joinAt.IsZero() && ev != nil {
			s.awaitAdmission()
			if s.state != subJoining {
				s.mu.Unlock()
				return false
			}
		}
		// Domains the server has never had (in the stream's start position) are ignored
		// by both dumps: not compared.
		at, own := s.joinAt, s.ownPos
		if !s.joinKnown.IsZero() && !at.IsZero() {
			at, own = at.onServer(s.joinKnown), own.onServer(s.joinKnown)
		}
		switch {
		case s.joinAt.IsZero(), at.AtLeast(own) && !at.Equal(own):
			s.mu.Unlock()
			return false // not admitted yet, or the hub is ahead: read on
		case at.Same(own):
			s.state, s.ownConn, s.backoff = subShared, nil, 0 // s.start: set by admitRejoin (or a restart since)
			s.foreign = foreignGTIDs(s.ownPos, s.joinKnown)
			s.mu.Unlock()
			s.own.close()
			s.own, s.expect = nil, ev
			s.set.counters(s.addr).rejoins.Add(1)
			return true
		}
		s.mu.Unlock()
		s.abandonJoin() // the own dump passed the hub's boundary, or another history
		return false
	case subOwn:
		due := s.caughtUp && !time.Now().Before(s.retryAt) && !s.closed
		s.mu.Unlock()
		if due {
			s.caughtUp = false
			s.requestJoin()
			// The hub admits it at its next boundary, which is most often this one (the
			// hub, at the end of the binlog too, is here or just behind): compare now,
			// before the own dump reads past it.
			return s.atBoundary(ev)
		}
		return false
	}
	s.mu.Unlock()
	return false
}

// awaitAdmission waits, up to s.admitWait, for the hub to admit the joining subscription
// before the own dump goes past this boundary: the hub is often just behind the own dump
// (both at the end of the binlog), and admits it at its next boundary; were the own dump to
// read on, it would be past that boundary when it comes to compare, and give the try up.
// Called with s.mu held, which it releases while it waits.
func (s *subscription) awaitAdmission() {
	deadline := time.Now().Add(s.admitWait)
	for s.joinAt.IsZero() && s.state == subJoining && !s.closed {
		left := time.Until(deadline)
		if left <= 0 {
			return
		}
		t := time.NewTimer(left)
		s.mu.Unlock()
		select {
		case <-s.notify: // admitted, closed, or events queued (read after the switch anyway)
		case <-t.C:
		}
		t.Stop()
		s.mu.Lock()
	}
}

// requestJoin asks the server's hub to queue for the subscription from its next boundary.
func (s *subscription) requestJoin() {
	h := s.set.lookup(s.addr)
	if h == nil {
		s.mu.Lock()
		s.retryAt = time.Now().Add(rejoinWait)
		s.mu.Unlock()
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	s.mu.Lock()
	if h.err != nil || h.stopped || s.closed || s.state != subOwn {
		s.retryAt = time.Now().Add(rejoinWait)
		s.mu.Unlock()
		return
	}
	s.state, s.hub, s.joinAt = subJoining, h, Position{}
	s.mu.Unlock()
	h.waiting = append(h.waiting, &joinRequest{rejoin: true, sub: s})
	if h.idle {
		h.admit()
	}
}

// admitRejoin starts the joining subscriber's queue at the hub's boundary pos, with the
// format description fde first (as for a new joiner); known is the server's domains as the
// hub knows them (the own dump's position is compared with pos in those alone). Called with h.mu held.
func (s *subscription) admitRejoin(h *dumpHub, pos, known Position, fde []byte) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed || s.state != subJoining || s.hub != h {
		return false
	}
	s.joinAt, s.joinKnown, s.start, s.groupCount, s.groupStart = pos, known, pos, 0, Position{}
	if fde != nil {
		s.pushLocked(fde, h.limit, pushInfo{})
	}
	s.signal() // for awaitAdmission
	return true
}

// abandonJoin gives up a rejoin under way: the hub stops queueing for the subscription.
func (s *subscription) abandonJoin() {
	s.mu.Lock()
	h, st := s.hub, s.state
	s.mu.Unlock()
	if st != subJoining || h == nil {
		return
	}
	h.mu.Lock()
	delete(h.subs, s)
	h.dropWaiter(s)
	s.mu.Lock()
	if s.state == subJoining {
		s.leaveJoin()
	}
	s.mu.Unlock()
	h.mu.Unlock()
	h.signalRoom()
	h.release()
}

// leaveJoin ends a rejoin under way: the queue is dropped, the stream reads on its own dump
// and tries again later. Called with s.mu held (and the hub's, or the hub no longer queues).
func (s *subscription) leaveJoin() {
	clear(s.queue)
	s.queue, s.bytes, s.block, s.joinAt, s.state = nil, 0, 0, Position{}, subOwn
	s.backoff = min(max(2*s.backoff, rejoinWait), rejoinMaxWait)
	s.retryAt = time.Now().Add(s.backoff)
	s.set.counters(s.addr).rejoinFailures.Add(1)
}

// skipReplay reads from c, a dump that starts before the group g, what the stream already
// has: everything before g's GTID event, then the first skip events of the group as the hub
// counted them (db "": every event, as the hub itself counts them).
// tick, if not nil, is called for every event read.
func skipReplay(c *binlogConn, g mariaGTID, skip int, db string, tick func()) error {
	if skip == 0 {
		return nil
	}
	var tables tableDBs
	for n := 0; n < skip; {
		data, err := c.readEvent()
		if err != nil {
			return err
		}
		if tick != nil {
			tick()
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
		if tdb, filtered := tables.rowsDB(data); db != "" && filtered && tdb != db && tdb != journalDB {
			continue
		}
		n++
	}
	return nil
}

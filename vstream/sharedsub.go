package vstream

// A stream's subscription to its server's shared dump (sharedbinlog.go): the queue of raw
// events the hub fills for it. When it falls behind it goes on with a dump of its own, and
// once that dump has caught up it rejoins the hub (sharedown.go).
//
// A subscription is in one of four states:
//   - subShared: a member of the hub; the stream reads its queue.
//   - subDetached: its queue overflowed, the hub stopped queueing for it; the stream reads
//     the rest of its queue, then a dump of its own started at the hand-over point.
//   - subOwn: the stream reads a dump of its own (after a detachment, or from the start when
//     it could not join).
//   - subJoining: the stream still reads its own dump, and the hub queues for it from one of
//     its group boundaries (joinAt); when the own dump reaches exactly that boundary the
//     stream closes it and reads the queue (subShared again).
//
// (subWaiting is a new stream's, until the hub admits it.)
//
// Queues are bounded by the binlog they keep alive: the hub's connection carves small events
// from 64 KiB blocks (binlogconn.go), and an event keeps its whole block. A queue is charged
// a block's size for the first event of each block it holds, and a large event (which has a
// block of its own) its length: a stream that gets only a few small events of each block
// (the GTID and XID events of other schemas' transactions) is charged the binlog they span,
// which is the memory it keeps.

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-mysql-org/go-mysql/replication"
)

// subState is what a subscription reads; see the file comment.
type subState uint8

const (
	subShared subState = iota
	subDetached
	subOwn
	subJoining
	subWaiting // a new stream waiting to join (subscribe), not yet a member
)

// subscription is one stream's source of raw events: a hub's queue or a dump of its own. It
// is read by the stream's goroutine (readEvent, buffered) and filled by the hub's. The reader
// takes the whole queue at once into its own batch, so the two goroutines meet once per
// batch, not per event.
type subscription struct {
	set    *hubSet
	addr   string
	db     string        // the stream's database: other databases' rows are not queued
	dial   dialFunc      // the stream's own dump
	notify chan struct{} // signalled (capacity 1) when events, the end or the own dump arrive
	ctx    context.Context
	cancel context.CancelFunc // ends a dial or replay of the own dump (close)
	idle   time.Duration      // how long an own dump may wait unread (Config.DetachedDumpIdle)
	// admitWait: how long a rejoining own dump waits at a boundary for the hub to admit it
	// (awaitAdmission): Config.BinlogHeartbeat, well within the stream's watchdog (4 of them)
	admitWait time.Duration
	// seen is the stream reader's count of events read, which its watchdog watches (binlog.go):
	// a replay of the own dump's start counts as events read, so that a long replay (the
	// start of a large transaction) is not taken for a silent source
	seen atomic.Pointer[atomic.Int64]

	// The reader's alone:
	batch    [][]byte // taken from queue
	next     int      // batch[next:] are unread
	own      *binlogConn
	ownPos   Position // the own dump's position after every group whose GTID event it read
	caughtUp bool     // the own dump sent a heartbeat, or a read of it waited: it is at the end
	expect   []byte   // after a rejoin: the GTID event the queue must start with

	mu     sync.Mutex // guards the fields below
	hub    *dumpHub   // the hub it is a member of (or waits to join, or last left)
	state  subState
	queue  [][]byte
	spare  [][]byte // the reader's last batch, for the hub to reuse
	bytes  int      // charged to queue (see the file comment)
	block  uint64   // the read block of the last event charged, 0 for none
	end    error    // the hub failed: the stream gets it after its queue
	closed bool
	start  Position // where it joined
	// The current group, for a hand-over: the position before it, its GTID, and the events
	// of it queued (0: no group yet).
	groupStart Position
	groupGTID  mariaGTID
	groupCount int
	joinAt     Position // subJoining: the hub's boundary its queue starts at (zero: not yet)
	joinKnown  Position // subJoining: the server's domains as the hub knew them at joinAt
	// foreign: the GTIDs of the stream's position in domains the server had never had when
	// it joined, which the hub's position lacks (joindecide.go): a dump of its own starts
	// with them, and the first event of such a domain on the hub ends the subscription
	foreign  []mariaGTID
	retryAt  time.Time // subOwn: no rejoin before
	backoff  time.Duration
	handover *handover   // subDetached: the dump of its own being started
	ownConn  *binlogConn // the own dump, for close
}

// pushInfo is what the hub knows of an event it queues.
type pushInfo struct {
	gtid       bool      // a MariaDB GTID event: a group starts
	g          mariaGTID // its GTID
	groupStart Position  // the hub's position before the group
	heartbeat  bool
	block      uint64 // the hub connection's read block the event was carved from, 0 for its own
}

// cost is what ev adds to the queue's charge (see the file comment). Called with s.mu held.
func (s *subscription) cost(ev []byte, block uint64) int {
	switch {
	case block == 0:
		return len(ev)
	case block == s.block:
		return 0
	}
	return binlogChunk
}

// push queues ev, or detaches the subscriber when its queue is full (it holds at most limit
// in the queue and as much in the batch it reads). A joining subscriber whose queue fills
// before its own dump reached it gives up joining instead. The reader is not woken: the hub
// calls signal once it has queued what the connection had buffered (one wake-up per batch
// of events, not per event). Called with h.mu held; false: the hub no longer queues for it.
func (s *subscription) push(ev []byte, limit int, info pushInfo) (ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.pushLocked(ev, limit, info)
}

// pushLocked is push, with s.mu held.
func (s *subscription) pushLocked(ev []byte, limit int, info pushInfo) bool {
	if s.end != nil || s.closed || (s.state != subShared && s.state != subJoining) {
		return false
	}
	c := s.cost(ev, info.block)
	if s.bytes+c > limit && s.bytes > 0 {
		if s.state == subJoining {
			s.leaveJoin()
			return false
		}
		s.state = subDetached
		s.handover = s.startHandover()
		s.signal()
		s.set.counters(s.addr).detaches.Add(1)
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
	s.bytes += c
	if info.block != 0 {
		s.block = info.block
	}
	return true
}

// admitted makes a waiting stream a member from pos, known the server's domains as the hub
// knows them. Called with h.mu held.
func (s *subscription) admitted(pos, known Position) {
	s.mu.Lock()
	s.start, s.state, s.foreign = pos, subShared, foreignGTIDs(pos, known)
	s.mu.Unlock()
}

// carries returns the stream's GTID of domain d if d is one the server had never had when
// the stream joined.
func (s *subscription) carries(d uint32) (mariaGTID, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, g := range s.foreign {
		if g.Domain == d {
			return g, true
		}
	}
	return mariaGTID{}, false
}

// restartAt makes pos, where the queue ends, the hand-over point (the hub's dump was started
// again there, between two groups). Called with h.mu held.
func (s *subscription) restartAt(pos Position) {
	s.mu.Lock()
	s.start, s.groupCount = pos, 0
	s.mu.Unlock()
}

// full reports whether an event would pass the queue's bound (see push), and whether the
// subscriber counts for the hub's wait: only one whose stream reads the queue (subShared).
func (s *subscription) full(ev []byte, block uint64, limit int) (full, reading bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.end != nil || s.closed || s.state != subShared {
		return false, false
	}
	return s.bytes > 0 && s.bytes+s.cost(ev, block) > limit, true
}

// readEvent returns the next event: queued, or from the stream's own dump; it waits for one.
func (s *subscription) readEvent() ([]byte, error) {
	for {
		if s.own != nil {
			ev, switched, err := s.readOwn()
			if switched {
				continue // back on the hub: read the queue
			}
			return ev, err
		}
		if s.next < len(s.batch) {
			ev := s.batch[s.next]
			s.batch[s.next] = nil
			s.next++
			if s.expect != nil && len(ev) > binlogHeaderSize && replication.EventType(ev[4]) == replication.MARIADB_GTID_EVENT {
				if err := s.checkRejoin(ev); err != nil {
					return nil, err
				}
			}
			return ev, nil
		}
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			return nil, errors.New("shared binlog subscription closed")
		}
		if len(s.queue) > 0 {
			s.spare = s.batch[:0] // cleared as it was read
			s.batch, s.next, s.queue, s.bytes, s.block = s.queue, 0, nil, 0, 0
			h := s.hub
			s.mu.Unlock()
			if h != nil {
				h.signalRoom()
			}
			continue
		}
		state, end, ho := s.state, s.end, s.handover
		s.mu.Unlock()
		switch {
		case state == subDetached:
			// The queue is read: go on with the own dump.
			c, err := ho.take(s)
			if err != nil {
				return nil, err
			}
			if c == nil {
				<-s.notify // still starting
				continue
			}
			if err := s.useOwn(c, ho.pos); err != nil {
				return nil, err
			}
			continue
		case end != nil:
			return nil, end
		}
		<-s.notify
	}
}

// checkRejoin checks the first GTID event read from the queue after a rejoin: the one the
// own dump was about to send (both dumps read the same binlog in the same order).
func (s *subscription) checkRejoin(ev []byte) error {
	want := s.expect
	s.expect = nil
	if !gtidEventsSame(ev, want) {
		return fmt.Errorf("rejoining the shared binlog dump of %s: it went on with another transaction than the stream's own dump", s.addr)
	}
	return nil
}

// gtidEventsSame reports whether two MariaDB GTID events name the same transaction.
func gtidEventsSame(a, b []byte) bool {
	if len(a) < binlogHeaderSize+12 || len(b) < binlogHeaderSize+12 {
		return false
	}
	return binary.LittleEndian.Uint32(a[5:]) == binary.LittleEndian.Uint32(b[5:]) &&
		string(a[binlogHeaderSize:binlogHeaderSize+12]) == string(b[binlogHeaderSize:binlogHeaderSize+12])
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

// finish ends the subscription with err once its queue is read (the hub failed). A joining
// subscriber only gives up joining: its own dump goes on.
func (s *subscription) finish(err error) {
	s.mu.Lock()
	if s.state == subJoining {
		s.leaveJoin()
	} else if s.end == nil && s.state == subShared {
		s.end = err
	}
	s.mu.Unlock()
	s.signal()
}

// tick counts one event replayed (see seen).
func (s *subscription) tick() {
	if n := s.seen.Load(); n != nil {
		n.Add(1)
	}
}

// readBy makes r the reader of the subscription (for the replay's progress, see seen).
func (s *subscription) readBy(r *binlogReader) *binlogReader {
	s.seen.Store(&r.seen)
	return r
}

func (s *subscription) signal() {
	select {
	case s.notify <- struct{}{}:
	default:
	}
}

// close leaves the hub (and closes the stream's own dump) and unblocks a read. Safe to call
// more than once and from any goroutine.
func (s *subscription) close() {
	s.mu.Lock()
	was := s.closed
	s.closed = true
	h, ho := s.hub, s.handover
	s.mu.Unlock()
	s.signal()
	if was {
		return
	}
	s.cancel()
	if ho != nil {
		ho.stop()
	}
	s.mu.Lock()
	c := s.ownConn
	s.mu.Unlock()
	if c != nil {
		c.close() // also unblocks the reader, which may hold it as s.own
	}
	if h != nil {
		h.unsubscribe(s)
	}
	s.forget()
}

package vstream

// How a stream gets on its server's shared dump (sharedbinlog.go): the first starts the hub,
// later ones join at its position, and one that cannot reads a dump of its own that rejoins
// once it has caught up (sharedown.go).

import (
	"context"
	"errors"
	"time"
)

// subscribe returns a subscription to the shared dump of the stream's source, starting at
// pos (atLeast: at the first boundary at or after pos, see the rules above), or nil when the
// stream must read a dump of its own. It starts the hub when the server has none.
func (s *shardStream) subscribe(ctx context.Context, pos Position, atLeast bool) (*subscription, error) {
	m, set := s.m, s.m.hubs
	set.mu.Lock()
	h := set.hubs[s.src.Addr]
	if h == nil {
		// The first stream of this server: start the hub at its position. Streams that come
		// meanwhile wait to join it; other servers' streams do not wait for the dial.
		src := s.src
		hubStream := &shardStream{m: m} // the hub's readers are made as a stream's are
		h = &dumpHub{set: set, addr: src.Addr, done: make(chan struct{}), room: make(chan struct{}, 1),
			subs: map[*subscription]struct{}{}, woken: map[*subscription]struct{}{}, pos: pos, limit: max(m.cfg.SharedBinlogBuffer, 2*binlogChunk), // a queue keeps whole read blocks
			open: func(ctx context.Context, pos Position) (*binlogReader, error) {
				conn, err := m.dialConn(ctx, src, pos)
				if err != nil {
					return nil, err
				}
				return hubStream.newReader(context.Background(), conn, flavorMariaDB), nil
			}}
		h.ctx, h.cancel = context.WithCancel(context.Background())
		sub := s.newSub(h, pos)
		set.subs[sub] = struct{}{}
		h.subs[sub] = struct{}{}
		set.hubs[src.Addr] = h
		set.mu.Unlock()
		known, err := s.currentPosition(ctx) // every domain the server has
		var r *binlogReader
		if err == nil {
			r, err = h.open(ctx, pos)
		}
		h.mu.Lock()
		h.known = known
		sub.mu.Lock()
		sub.foreign = foreignGTIDs(pos, known) // the hub's own view of them
		sub.mu.Unlock()
		if err == nil && h.stopped {
			err = errors.New("vstream: the Manager is closed")
		}
		if err != nil {
			h.mu.Unlock()
			r.close()
			h.fail(err) // the waiting streams read dumps of their own
			h.cancel()
			sub.forget()
			close(h.done)
			return nil, err
		}
		h.reader = r
		h.mu.Unlock()
		go h.run()
		return sub, nil
	}
	sub := s.newSub(h, Position{})
	sub.state = subWaiting
	set.subs[sub] = struct{}{}
	h.mu.Lock()
	set.mu.Unlock()
	if h.err != nil {
		h.mu.Unlock()
		sub.forget()
		return nil, nil
	}
	req := &joinRequest{pos: pos, atLeast: atLeast, sub: sub, result: make(chan error, 1)}
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
		set.counters(s.src.Addr).joinTimeouts.Add(1)
	case <-ctx.Done():
		err = ctx.Err()
	}
	if err != nil {
		h.mu.Lock()
		h.dropWaiter(req.sub)
		h.mu.Unlock()
		select {
		case jerr := <-req.result: // answered while we gave up
			if jerr == nil {
				req.sub.close() // joined: leave
			} else {
				req.sub.forget()
				h.release()
			}
		default:
			req.sub.forget()
			h.release() // it may have been the hub's last stream
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		s.log.Info("vstream reads a binlog dump of its own", "keyspace", s.ks, "shard", s.shard, "tablet", s.src.Alias,
			"position", pos.String(), "why", err.Error())
		return nil, nil
	}
	set.counters(s.src.Addr).joins.Add(1)
	return req.sub, nil
}

// newSub makes the stream's subscription to h (nil: on a dump of its own). The caller adds
// it to the set's subs (for the metrics) until it is closed (forget).
func (s *shardStream) newSub(h *dumpHub, start Position) *subscription {
	m, src := s.m, s.src
	sub := &subscription{set: m.hubs, addr: src.Addr, hub: h, start: start, db: src.DBName, notify: make(chan struct{}, 1), idle: m.hubs.idle, admitWait: m.cfg.BinlogHeartbeat,
		dial: func(ctx context.Context, pos Position) (*binlogConn, error) { return m.dialConn(ctx, src, pos) }}
	sub.ctx, sub.cancel = context.WithCancel(context.Background())
	return sub
}

// forget removes a subscription that never joined from the set.
func (s *subscription) forget() {
	s.cancel()
	s.set.mu.Lock()
	delete(s.set.subs, s)
	s.set.mu.Unlock()
}

// startReader opens the stream's binlog reader at s.pos: on the server's shared dump where the
// rules allow (atLeast for a stream from "current": s.pos becomes where it joined), else on a
// dump of its own, which rejoins the shared dump once it has caught up.
func (s *shardStream) startReader(ctx context.Context, atLeast bool) error {
	if s.m.cfg.PrivateBinlogDumps || s.flavor != flavorMariaDB {
		var err error
		s.reader, err = s.openBinlog(ctx, s.pos)
		return err
	}
	sub, err := s.subscribe(ctx, s.pos, atLeast)
	if err != nil {
		return err
	}
	if sub != nil {
		sub.mu.Lock()
		s.pos = sub.start
		sub.mu.Unlock()
		s.reader = sub.readBy(s.newReader(ctx, sub, flavorMariaDB))
		return nil
	}
	sub = s.newSub(nil, s.pos)
	s.m.hubs.mu.Lock()
	s.m.hubs.subs[sub] = struct{}{}
	s.m.hubs.mu.Unlock()
	c, err := sub.dial(ctx, s.pos)
	if err == nil {
		err = sub.useOwn(c, s.pos)
	}
	if err != nil {
		sub.forget()
		return err
	}
	s.reader = sub.readBy(s.newReader(ctx, sub, flavorMariaDB))
	return nil
}

package vstream

// Bounded responses. A response holds at most Config.MaxResponseBytes of events (vttablet's
// --vstream-packet-size), never a whole large transaction: once the events of an open
// transaction pass the chunk threshold (the request's flags.transaction_chunk_size, else the
// packet size), they are sent as they are read, in responses of at most a packet each, so
// the gateway's memory does not grow with the transaction and no response exceeds the
// client's message limit. While a shard sends a transaction in chunks it holds the stream's
// send lock from the first chunk to the COMMIT: no other shard's events and no heartbeat
// come between the chunks (Vitess's transaction_chunk_size contract). If the source fails
// mid-transaction, the stream resumes before the transaction and sends it again from its
// BEGIN: a consumer drops the rows of a transaction that a new BEGIN follows without COMMIT.

import (
	binlogdatapb "vitess.io/vitess/go/vt/proto/binlogdata"
)

// eventSize estimates the bytes an event takes in a response.
func eventSize(ev *binlogdatapb.VEvent) int {
	n := 24
	if re := ev.RowEvent; re != nil {
		n += len(re.TableName)
		for _, rc := range re.RowChanges {
			n += rowSize(rc.GetBefore()) + rowSize(rc.GetAfter()) + 8
		}
	}
	if fe := ev.FieldEvent; fe != nil {
		n += len(fe.TableName)
		for _, f := range fe.Fields {
			n += 48 + 2*len(f.Name) + len(f.Table)*2 + len(f.Database) + len(f.ColumnType)
		}
	}
	return n + len(ev.Statement)
}

func rowSize(r interface {
	GetValues() []byte
	GetLengths() []int64
}) int {
	return len(r.GetValues()) + 2*len(r.GetLengths())
}

// addTxEvent appends ev to the open transaction and, once the transaction passed the chunk
// threshold, sends what it holds so far.
func (s *shardStream) addTxEvent(ev *binlogdatapb.VEvent) error {
	s.tx.events = append(s.tx.events, ev)
	s.tx.bytes += eventSize(ev)
	limit := s.chunkThreshold()
	if s.holding {
		limit = s.m.cfg.MaxResponseBytes
	}
	if s.tx.bytes < limit && len(s.tx.events) < s.m.cfg.MaxResponseEvents {
		return nil
	}
	return s.sendTxChunk()
}

// chunkThreshold is the size past which an open transaction is sent in chunks.
func (s *shardStream) chunkThreshold() int {
	if n := s.st.chunkSize; n > 0 && n < s.m.cfg.MaxResponseBytes {
		return n
	}
	return s.m.cfg.MaxResponseBytes
}

// sendTxChunk sends the completed transactions pending and the open transaction's events so
// far, taking the send lock for the rest of the transaction.
func (s *shardStream) sendTxChunk() error {
	if !s.holding {
		if err := s.flush(); err != nil { // whole transactions first, as responses of their own
			return err
		}
		s.st.mu.Lock()
		s.holding = true
		s.chunked++
	}
	s.pending = append(s.pending, s.tx.events...)
	clear(s.tx.events)
	s.tx.events = s.tx.events[:0]
	s.tx.bytes = 0
	return s.flush()
}

// release gives the send lock back after a chunked transaction's last response (or when the
// stream ends mid-transaction).
func (s *shardStream) release() {
	if s.holding {
		s.holding = false
		s.st.mu.Unlock()
	}
}

// discardOpenTx drops the open transaction of a stream that ends inside it while sending it
// in chunks, and releases the send lock. Completed transactions still pending are kept.
func (s *shardStream) discardOpenTx() {
	clear(s.tx.events)
	s.tx.reset(0)
	if err := s.flush(); err != nil {
		s.log.Warn("vstream: send before leaving a chunked transaction", "err", err)
	}
	s.release()
}

// emitSplit sends a batch larger than a packet (a copy chunk) in responses of at most a
// packet each, holding the send lock across them so that nothing comes between.
func (s *shardStream) emitSplit(evs []*binlogdatapb.VEvent) error {
	if err := s.flush(); err != nil {
		return err
	}
	s.st.mu.Lock()
	s.holding = true
	defer s.release()
	return s.sendPackets(evs)
}

// sendPackets sends evs in responses of at most a packet each; the caller holds the lock.
func (s *shardStream) sendPackets(evs []*binlogdatapb.VEvent) error {
	size, start := 0, 0
	for i, ev := range evs {
		n := eventSize(ev)
		if i > start && (size+n > s.m.cfg.MaxResponseBytes || i-start >= s.m.cfg.MaxResponseEvents) {
			if err := s.queue(evs[start:i]); err != nil {
				return err
			}
			if err := s.flush(); err != nil {
				return err
			}
			start, size = i, 0
		}
		size += n
	}
	if err := s.queue(evs[start:]); err != nil {
		return err
	}
	return s.flush()
}

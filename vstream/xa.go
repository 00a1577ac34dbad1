package vstream

// XA transactions. MariaDB 10.5+ (and MySQL) write a prepared XA transaction as two binlog
// event groups with GTIDs of their own (https://mariadb.com/kb/en/xa-transactions/):
//
//	GTID (prepared XA), XA START xid, rows..., XA END xid, XA_PREPARE_LOG_EVENT
//	... other transactions ...
//	GTID, XA COMMIT xid          (or XA ROLLBACK xid)
//
// Vitess's vstreamer has no handling for them. vtdirect holds a prepared transaction's rows
// until its XA COMMIT and sends them then, as one transaction (BEGIN, FIELD, ROW..., VGTID,
// COMMIT) at the COMMIT's position; the PREPARE's group goes out as VGTID, OTHER; a rolled
// back one sends no rows. XA COMMIT ... ONE PHASE is an ordinary transaction in the binlog.
// A prepared transaction is held in memory whole (it is not sent in chunks before its
// COMMIT). A stream that starts after the PREPARE (a resume from a VGTID between the two)
// has not read its rows: its XA COMMIT arrives as OTHER, and the stream logs a warning.

import (
	"strings"

	binlogdatapb "vitess.io/vitess/go/vt/proto/binlogdata"
)

// xaPrepared is a prepared XA transaction waiting for its XA COMMIT or XA ROLLBACK.
type xaPrepared struct {
	events []*binlogdatapb.VEvent // BEGIN, FIELD, ROW... as read
	fields map[string]*binlogdatapb.FieldEvent
}

// xaID returns the xid of "XA END X'78',X”,1" style statements, as written.
func xaID(q string) string {
	f := strings.Fields(q)
	if len(f) < 3 {
		return ""
	}
	id := strings.Join(f[2:], " ")
	// "XA COMMIT xid ONE PHASE" does not reach here (it is an ordinary transaction).
	return id
}

// onXA handles an XA statement; done reports a completed event group.
func (s *shardStream) onXA(q string, ts int64) (bool, error) {
	f := strings.Fields(q)
	if len(f) < 2 {
		return false, nil
	}
	switch strings.ToUpper(f[1]) {
	case "START":
		s.tx.xa = true // inside the prepared transaction's group: hold its rows
		return false, nil
	case "END":
		s.tx.xa, s.tx.xid = true, xaID(q)
		return false, nil
	case "COMMIT", "ROLLBACK":
		s.pos = s.next
		s.tx.reset(0)
		xid := xaID(q)
		p := s.xa[xid]
		delete(s.xa, xid)
		if strings.EqualFold(f[1], "COMMIT") && p != nil {
			return true, s.commitXA(p, ts)
		}
		if p == nil && strings.EqualFold(f[1], "COMMIT") {
			s.log.Warn("vstream: XA COMMIT of a transaction prepared before the stream's start; its rows are not streamed",
				"keyspace", s.ks, "shard", s.shard, "xid", xid, "position", s.pos.String())
		}
		return true, s.queue(s.otherBatch(ts))
	}
	return false, nil
}

// prepareXA ends a prepared XA transaction's group: its events wait for the XA COMMIT.
func (s *shardStream) prepareXA(ts int64) error {
	s.pos = s.next
	if s.tx.open && s.tx.xid != "" {
		if s.xa == nil {
			s.xa = map[string]*xaPrepared{}
		}
		s.xa[s.tx.xid] = &xaPrepared{events: append([]*binlogdatapb.VEvent(nil), s.tx.events...), fields: s.tx.fields}
	}
	s.tx.reset(0)
	return s.queue(s.otherBatch(ts))
}

// commitXA sends a prepared transaction's rows at its XA COMMIT's position.
func (s *shardStream) commitXA(p *xaPrepared, ts int64) error {
	var evs []*binlogdatapb.VEvent
	for _, ev := range p.events {
		switch ev.Type {
		case binlogdatapb.VEventType_FIELD:
			continue // sent below when the consumer's last FIELD of the table differs
		case binlogdatapb.VEventType_ROW:
			if fe := p.fields[ev.RowEvent.TableName]; fe != nil && s.fieldSent[fe.TableName] != fe {
				evs = append(evs, &binlogdatapb.VEvent{Type: binlogdatapb.VEventType_FIELD, FieldEvent: fe, Timestamp: ts, Keyspace: s.ks, Shard: s.shard})
				s.fieldSent[fe.TableName] = fe
			}
		case binlogdatapb.VEventType_BEGIN:
			ev.Timestamp = ts
		}
		evs = append(evs, ev)
	}
	evs = append(evs,
		&binlogdatapb.VEvent{Type: binlogdatapb.VEventType_GTID, Gtid: s.positionString(), Keyspace: s.ks, Shard: s.shard},
		&binlogdatapb.VEvent{Type: binlogdatapb.VEventType_COMMIT, Timestamp: ts, CurrentTime: s.m.cfg.Now().UnixNano(), Keyspace: s.ks, Shard: s.shard})
	if batchSize(evs) > s.m.cfg.MaxResponseBytes {
		return s.emitSplit(evs)
	}
	return s.queue(evs)
}

// otherBatch is GTID, OTHER for an event group that carries no rows for the consumer.
func (s *shardStream) otherBatch(ts int64) []*binlogdatapb.VEvent {
	return []*binlogdatapb.VEvent{
		{Type: binlogdatapb.VEventType_GTID, Gtid: s.positionString(), Keyspace: s.ks, Shard: s.shard},
		{Type: binlogdatapb.VEventType_OTHER, Timestamp: ts, Keyspace: s.ks, Shard: s.shard},
	}
}

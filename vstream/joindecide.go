package vstream

// Whether a stream joins the shared dump at one of its boundaries (sharedbinlog.go), domain
// by domain: a pure function of the hub's position, what the hub knows of the server's
// domains, and the stream's position.
//
// MariaDB positions hold one GTID per replication domain. At a boundary the hub's position
// (hub) is where a dump of the stream's own would be if the stream's position (joiner) were
// the same in every domain. The hub also knows the last GTID the server has of each of its
// domains (known: @@gtid_binlog_pos when the hub started, raised by the GTID list and GTID
// events it read since), which tells, for a domain with no new events, whether the stream
// is behind, level or ahead there, without waiting for an event that may never come:
//   - level in every domain (idle ones included): join now;
//   - behind the hub in some domain, or on another history (the same sequence number from
//     another server), or without a domain the hub has (its own dump would read that domain
//     from the first binlog): a dump of its own now, which rejoins later;
//   - ahead of everything the server has in a domain: a dump of its own now, which gets the
//     server's own error (1236: not in the master's binlog) at once;
//   - a domain the server has never had (not in known): MariaDB ignores it in a dump's start
//     position, so does the join (the stream keeps its GTID in its position), but only when
//     the hub has read everything (at a heartbeat): until then the domain may be a new one
//     the hub has not read yet. Such GTIDs may differ between the stream and the hub (whose
//     start position may name some): when the domain first shows up, a dump skips its
//     events up to the GTID it started with, so the hub then ends the subscriptions that
//     differ from it there (endCarriers, sharedbinlog.go);
//   - else (the hub is behind the stream in some domain): wait for a later boundary.

import "encoding/binary"

// joinVerdict is what a waiting stream does at a boundary.
type joinVerdict uint8

const (
	joinWait joinVerdict = iota // not yet: a later boundary may do
	joinNow                     // join at this boundary
	joinOwn                     // read a dump of its own, now
)

func (v joinVerdict) String() string {
	return [...]string{"wait", "join", "own"}[v]
}

// decideJoin is the verdict for a stream at joiner (exact) at a boundary where the hub is at
// hub and knows the server's domains as known; caughtUp: the boundary is a heartbeat (the
// hub has read everything). start is where the stream joins (joinNow): the hub's position
// with the stream's GTIDs of domains the server has never had.
func decideJoin(hub, known, joiner Position, caughtUp bool) (v joinVerdict, start Position) {
	if hub.flavor != flavorMariaDB || joiner.flavor != flavorMariaDB {
		if hub.Same(joiner) {
			return joinNow, hub
		}
		return joinWait, Position{}
	}
	start = hub
	v = joinNow
	for _, h := range hub.maria {
		if _, ok := joiner.mariaDomain(h.Domain); !ok {
			if _, real := known.mariaDomain(h.Domain); real || !caughtUp {
				return joinOwn, Position{} // its own dump reads the domain from the start
			}
			// A domain of the hub's start position that the server has never had: the
			// hub's dump ignored it, so does the stream's. The stream does not name it.
			start = start.withoutDomain(h.Domain)
		}
	}
	for _, j := range joiner.maria {
		k, real := known.mariaDomain(j.Domain)
		if real && j.Seq > k.Seq {
			return joinOwn, Position{} // ahead of the server: its own dump gets the server's error
		}
		h, inHub := hub.mariaDomain(j.Domain)
		switch {
		case !real:
			if !caughtUp {
				v = joinWait
				continue
			}
			start = start.withMariaGTID(j) // never on the server: carried along
		case !inHub:
			v = joinWait // the hub reads this domain from its start
		case j.Seq < h.Seq, j.Seq == h.Seq && j.Server != h.Server:
			return joinOwn, Position{} // passed, or another history
		case j.Seq > h.Seq:
			v = joinWait
		}
	}
	if v != joinNow {
		return v, Position{}
	}
	return joinNow, start
}

// onServer is p without the domains known does not name (domains the server has never had,
// which a dump ignores: the rejoin compares positions without them).
func (p Position) onServer(known Position) Position {
	q := Position{flavor: p.flavor}
	for _, g := range p.maria {
		if _, ok := known.mariaDomain(g.Domain); ok {
			q.maria = append(q.maria, g)
		}
	}
	return q
}

// foreignGTIDs returns p's GTIDs of the domains known does not name.
func foreignGTIDs(p, known Position) []mariaGTID {
	if known.IsZero() {
		return nil
	}
	var out []mariaGTID
	for _, g := range p.maria {
		if _, ok := known.mariaDomain(g.Domain); !ok {
			out = append(out, g)
		}
	}
	return out
}

// mariaDomain returns p's GTID of domain d.
func (p Position) mariaDomain(d uint32) (mariaGTID, bool) {
	for _, g := range p.maria {
		if g.Domain == d {
			return g, true
		}
	}
	return mariaGTID{}, false
}

// withoutDomain returns p without domain d.
func (p Position) withoutDomain(d uint32) Position {
	q := Position{flavor: p.flavor}
	for _, g := range p.maria {
		if g.Domain != d {
			q.maria = append(q.maria, g)
		}
	}
	return q
}

// raisedTo returns p with g as its GTID of g's domain unless p's is later (what the server
// is known to have: GTID lists may be older than what the hub read).
func (p Position) raisedTo(g mariaGTID) Position {
	if have, ok := p.mariaDomain(g.Domain); ok && have.Seq >= g.Seq {
		return p
	}
	q := p
	if q.flavor == "" {
		q.flavor = flavorMariaDB
	}
	q.addMaria(g)
	return q
}

// raiseToGTIDList returns known raised to the GTIDs of a MariaDB GTID_LIST event's body
// (a count, whose low 28 bits are the number of GTIDs, then domain, server and sequence
// number of each, 16 bytes). A short body leaves known as it is.
func raiseToGTIDList(known Position, body []byte) Position {
	if len(body) < 4 {
		return known
	}
	n := int(binary.LittleEndian.Uint32(body) & (1<<28 - 1))
	body = body[4:]
	for i := 0; i < n && len(body) >= 16; i++ {
		known = known.raisedTo(mariaGTID{Domain: binary.LittleEndian.Uint32(body), Server: binary.LittleEndian.Uint32(body[4:]),
			Seq: binary.LittleEndian.Uint64(body[8:])})
		body = body[16:]
	}
	return known
}

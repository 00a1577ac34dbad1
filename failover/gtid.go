package failover

// MariaDB GTID positions: https://mariadb.com/kb/en/gtid/
//
// A MariaDB position is not a set of intervals (MySQL's) but the last GTID applied in each
// replication domain: "0-100-42,1-200-7" says domain 0 is at sequence 42, last written by
// server 100. With gtid_strict_mode=1 the sequence numbers of a domain grow strictly in every
// binlog, so within one domain "a is at least b" is "a's sequence >= b's", and two servers at
// the same sequence of a domain hold the same transaction only if its server id is the same.

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// GTID is one MariaDB GTID: domain-server-sequence.
type GTID struct {
	Domain   uint32
	Server   uint32
	Sequence uint64
}

func (g GTID) String() string {
	return strconv.FormatUint(uint64(g.Domain), 10) + "-" + strconv.FormatUint(uint64(g.Server), 10) + "-" +
		strconv.FormatUint(g.Sequence, 10)
}

// Position is a MariaDB GTID position (@@gtid_binlog_pos, @@gtid_slave_pos, Gtid_IO_Pos): the
// last GTID of each domain, sorted by domain. The zero Position is empty (nothing written).
type Position struct {
	gtids []GTID // sorted by Domain, one per domain
}

// ParsePosition parses a MariaDB position as the server prints it: GTIDs separated by commas
// (whitespace and newlines allowed), "" for an empty position.
func ParsePosition(s string) (Position, error) {
	var p Position
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		f := strings.Split(part, "-")
		if len(f) != 3 {
			return Position{}, fmt.Errorf("GTID %q: want domain-server-sequence, e.g. 0-100-42", part)
		}
		d, err1 := strconv.ParseUint(f[0], 10, 32)
		sv, err2 := strconv.ParseUint(f[1], 10, 32)
		sq, err3 := strconv.ParseUint(f[2], 10, 64)
		if err1 != nil || err2 != nil || err3 != nil {
			return Position{}, fmt.Errorf("GTID %q: want three unsigned numbers domain-server-sequence", part)
		}
		g := GTID{Domain: uint32(d), Server: uint32(sv), Sequence: sq}
		if _, ok := p.Get(g.Domain); ok {
			return Position{}, fmt.Errorf("position %q names domain %d twice", s, g.Domain)
		}
		p.gtids = append(p.gtids, g)
		slices.SortFunc(p.gtids, func(a, b GTID) int { return cmp.Compare(a.Domain, b.Domain) })
	}
	return p, nil
}

// MustParsePosition is ParsePosition for constants in tests and examples; it panics on error.
func MustParsePosition(s string) Position {
	p, err := ParsePosition(s)
	if err != nil {
		panic(err)
	}
	return p
}

// String prints the position as MariaDB does: "0-100-42,1-200-7".
func (p Position) String() string {
	parts := make([]string, len(p.gtids))
	for i, g := range p.gtids {
		parts[i] = g.String()
	}
	return strings.Join(parts, ",")
}

// MarshalText writes the position as MariaDB prints it (JSON: a string).
func (p Position) MarshalText() ([]byte, error) { return []byte(p.String()), nil }

// UnmarshalText parses what MarshalText wrote.
func (p *Position) UnmarshalText(b []byte) error {
	q, err := ParsePosition(string(b))
	if err != nil {
		return err
	}
	*p = q
	return nil
}

// FromServer is the part of p written by the server id: its GTIDs of that server.
func (p Position) FromServer(id uint32) Position {
	var out Position
	for _, g := range p.gtids {
		if g.Server == id {
			out.gtids = append(out.gtids, g)
		}
	}
	return out
}

// IsZero reports an empty position.
func (p Position) IsZero() bool { return len(p.gtids) == 0 }

// GTIDs returns the last GTID of each domain, sorted by domain. The caller must not change it.
func (p Position) GTIDs() []GTID { return p.gtids }

// Get returns the last GTID of a domain.
func (p Position) Get(domain uint32) (GTID, bool) {
	for _, g := range p.gtids {
		if g.Domain == domain {
			return g, true
		}
	}
	return GTID{}, false
}

// Equal reports whether both positions name the same GTIDs.
func (p Position) Equal(o Position) bool { return slices.Equal(p.gtids, o.gtids) }

// AtLeast reports whether p has everything o has, by sequence: every domain of o is in p
// with a sequence at least o's. It does not check that the transactions are the same ones
// (see Diverged).
func (p Position) AtLeast(o Position) bool {
	for _, g := range o.gtids {
		mine, ok := p.Get(g.Domain)
		if !ok || mine.Sequence < g.Sequence {
			return false
		}
	}
	return true
}

// Diverged reports a domain where p and o are at the same sequence with different servers:
// two different transactions under one sequence number, so neither server holds the other's.
func (p Position) Diverged(o Position) (GTID, GTID, bool) {
	for _, g := range o.gtids {
		if mine, ok := p.Get(g.Domain); ok && mine.Sequence == g.Sequence && mine.Server != g.Server {
			return mine, g, true
		}
	}
	return GTID{}, GTID{}, false
}

// Compare orders two positions by how far they got: -1 if p is behind o, 1 if ahead, 0 if
// equal; ok is false when neither has all of the other (each is ahead in some domain).
func (p Position) Compare(o Position) (int, bool) {
	pa, oa := p.AtLeast(o), o.AtLeast(p)
	switch {
	case pa && oa:
		return 0, true
	case pa:
		return 1, true
	case oa:
		return -1, true
	}
	return 0, false
}

// Writer is a server known to have written to a shard's replication stream as its primary:
// its GTIDs in a replica's position are legitimate. TermEnd, when known, is the position at
// which the server stopped being the primary (the new primary's position when it was
// promoted): a replica with more of that server's transactions holds some the shard lost.
type Writer struct {
	ServerID uint32   `json:"server_id"`
	Alias    string   `json:"alias,omitempty"`
	TermEnd  Position `json:"term_end,omitzero"`
}

// Errant is a transaction a tablet holds that its shard's history does not explain.
type Errant struct {
	GTID   GTID
	Reason string
}

func (e Errant) String() string { return e.GTID.String() + " (" + e.Reason + ")" }

// FindErrant returns the errant transactions of a replica's position pos (its
// @@gtid_binlog_pos: what it executed) against the shard's history: ref is the position of
// the primary (or, with no live primary, of the most advanced other tablet), primaryID that
// primary's server id (0 when unknown), self the replica's own server id, writers the
// servers that have been primaries of the shard.
//
// MariaDB keeps one GTID per domain, so "errant" is defined per domain d of pos, with g the
// replica's last GTID in d:
//   - d is a domain ref never had: written outside the shard's replication stream;
//   - g is ahead of ref in d (a live primary's position is the newest there is), or at the
//     same sequence as ref from another server (a different transaction);
//   - g was written by the replica itself while it was never the shard's primary (a write on
//     a replica, with read_only bypassed);
//   - g was written by a former primary past the end of its term (recorded in writers): the
//     old primary kept a transaction no other tablet got before the failover.
//
// With no live primary (live false), being ahead of ref is being more advanced, not errant.
func FindErrant(pos, ref Position, live bool, primaryID, self uint32, writers []Writer) []Errant {
	var out []Errant
	isWriter := func(id uint32) (Writer, bool) {
		for _, w := range writers {
			if w.ServerID == id {
				return w, true
			}
		}
		return Writer{}, false
	}
	for _, g := range pos.gtids {
		r, ok := ref.Get(g.Domain)
		switch {
		case !ok && live:
			out = append(out, Errant{g, fmt.Sprintf("domain %d was never written by the primary", g.Domain)})
			continue
		case ok && live && g.Sequence > r.Sequence:
			out = append(out, Errant{g, fmt.Sprintf("ahead of the primary's %s", r)})
			continue
		case ok && g.Sequence == r.Sequence && g.Server != r.Server:
			out = append(out, Errant{g, fmt.Sprintf("the primary's transaction at this sequence is %s", r)})
			continue
		}
		w, known := isWriter(g.Server)
		switch {
		case g.Server == primaryID:
		case g.Server == self && !known:
			out = append(out, Errant{g, fmt.Sprintf("written on this tablet (server %d) while it was not the primary", self)})
		case known && !w.TermEnd.IsZero():
			if end, ok := w.TermEnd.Get(g.Domain); ok && end.Server == g.Server && g.Sequence > end.Sequence {
				out = append(out, Errant{g, fmt.Sprintf("server %d (%s) wrote it after its term ended at %s", g.Server, w.Alias, end)})
			}
		case !ok && !known:
			// A domain only this tablet has, from a server that was never a primary.
			out = append(out, Errant{g, fmt.Sprintf("domain %d exists only here, from server %d which was never a primary", g.Domain, g.Server)})
		}
	}
	return out
}

package vstream

// Positions in Vitess's string form: "<flavor>/<gtid set>".
//   MariaDB: "MariaDB/0-100-42,1-200-7" (one domain-server-seq per replication domain)
//   MySQL:   "MySQL56/3e11fa47-71ca-11e1-9e33-c80aa9429562:1-9"
// The flavor/ package owns replica-status differences; position parsing stays here because the
// binlog streamer needs both the string form and go-mysql's GTIDSet for the dump command.
// See https://mariadb.com/kb/en/gtid/ and Vitess's go/mysql/replication.

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/go-mysql-org/go-mysql/mysql"
)

const (
	flavorMariaDB = "MariaDB"
	flavorMySQL   = "MySQL56"
)

// mariaGTID is one MariaDB GTID: the last transaction applied in a replication domain.
type mariaGTID struct {
	Domain, Server uint32
	Seq            uint64
}

// Position is a replication position. The zero value is "no position".
// MariaDB positions hold one GTID per domain (sorted by domain); MySQL positions hold a set.
type Position struct {
	flavor string
	maria  []mariaGTID
	mysql  *mysql.MysqlGTIDSet
}

// ParsePosition parses a Vitess position string such as "MariaDB/0-100-42".
func ParsePosition(s string) (Position, error) {
	flavor, set, ok := strings.Cut(s, "/")
	if !ok {
		return Position{}, fmt.Errorf("position %q: want <flavor>/<gtid set>, e.g. MariaDB/0-100-42", s)
	}
	switch flavor {
	case flavorMariaDB:
		return parseMariaDBSet(set)
	case flavorMySQL:
		gs, err := mysql.ParseMysqlGTIDSet(set)
		if err != nil {
			return Position{}, fmt.Errorf("position %q: %w", s, err)
		}
		return Position{flavor: flavorMySQL, mysql: gs.(*mysql.MysqlGTIDSet)}, nil
	default:
		return Position{}, fmt.Errorf("position %q: unknown flavor %q (want MariaDB or MySQL56)", s, flavor)
	}
}

// parseMariaDBSet parses "0-100-42,1-200-7" (the form of @@gtid_binlog_pos).
func parseMariaDBSet(set string) (Position, error) {
	p := Position{flavor: flavorMariaDB}
	set = strings.TrimSpace(set)
	if set == "" {
		return p, nil
	}
	for part := range strings.SplitSeq(set, ",") {
		f := strings.Split(strings.TrimSpace(part), "-")
		if len(f) != 3 {
			return Position{}, fmt.Errorf("MariaDB GTID %q: want domain-server-seq", part)
		}
		d, err1 := strconv.ParseUint(f[0], 10, 32)
		sv, err2 := strconv.ParseUint(f[1], 10, 32)
		sq, err3 := strconv.ParseUint(f[2], 10, 64)
		if err1 != nil || err2 != nil || err3 != nil {
			return Position{}, fmt.Errorf("MariaDB GTID %q: want numbers domain-server-seq", part)
		}
		p.addMaria(mariaGTID{Domain: uint32(d), Server: uint32(sv), Seq: sq})
	}
	return p, nil
}

// IsZero reports whether p is "no position".
func (p Position) IsZero() bool { return p.flavor == "" }

// Flavor is "MariaDB" or "MySQL56".
func (p Position) Flavor() string { return p.flavor }

// String formats p in Vitess's form.
func (p Position) String() string {
	switch p.flavor {
	case flavorMariaDB:
		return flavorMariaDB + "/" + p.gtidString()
	case flavorMySQL:
		return flavorMySQL + "/" + p.gtidString()
	}
	return ""
}

// appendTo appends p.String() to b.
func (p Position) appendTo(b []byte) []byte {
	switch p.flavor {
	case flavorMariaDB:
		return p.appendMaria(append(b, flavorMariaDB+"/"...))
	case flavorMySQL:
		return append(append(b, flavorMySQL+"/"...), p.mysql.String()...)
	}
	return b
}

// gtidString is the GTID set alone, in the server's own syntax.
func (p Position) gtidString() string {
	if p.flavor == flavorMySQL {
		return p.mysql.String()
	}
	return string(p.appendMaria(make([]byte, 0, 24*len(p.maria))))
}

// appendMaria appends a MariaDB GTID list ("0-100-42,1-200-7") to b.
func (p Position) appendMaria(b []byte) []byte {
	for i, g := range p.maria {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendUint(b, uint64(g.Domain), 10)
		b = append(b, '-')
		b = strconv.AppendUint(b, uint64(g.Server), 10)
		b = append(b, '-')
		b = strconv.AppendUint(b, g.Seq, 10)
	}
	return b
}

// addMaria records g as the last GTID of its domain (copy-on-write: positions are shared).
func (p *Position) addMaria(g mariaGTID) {
	i, found := slices.BinarySearchFunc(p.maria, g.Domain, func(e mariaGTID, d uint32) int {
		return int(int64(e.Domain) - int64(d))
	})
	n := slices.Clone(p.maria)
	if found {
		n[i] = g
	} else {
		n = slices.Insert(n, i, g)
	}
	p.maria = n
}

// withMariaGTID returns p advanced by one MariaDB transaction.
func (p Position) withMariaGTID(g mariaGTID) Position {
	q := Position{flavor: flavorMariaDB, maria: p.maria}
	q.addMaria(g)
	return q
}

// withMySQLGTID returns p advanced by one MySQL transaction ("uuid:n").
func (p Position) withMySQLGTID(gtid string) (Position, error) {
	var set *mysql.MysqlGTIDSet
	if p.mysql != nil {
		set = p.mysql.Clone().(*mysql.MysqlGTIDSet)
	} else {
		s, _ := mysql.ParseMysqlGTIDSet("")
		set = s.(*mysql.MysqlGTIDSet)
	}
	if err := set.Update(gtid); err != nil {
		return p, err
	}
	return Position{flavor: flavorMySQL, mysql: set}, nil
}

// AtLeast reports whether p includes every transaction of o. Positions of different flavors
// never include each other.
func (p Position) AtLeast(o Position) bool {
	if o.IsZero() {
		return true
	}
	if p.flavor != o.flavor {
		return false
	}
	if p.flavor == flavorMySQL {
		return p.mysql.Contain(o.mysql)
	}
	for _, g := range o.maria {
		i, found := slices.BinarySearchFunc(p.maria, g.Domain, func(e mariaGTID, d uint32) int {
			return int(int64(e.Domain) - int64(d))
		})
		if !found || p.maria[i].Seq < g.Seq {
			return false
		}
	}
	return true
}

// Equal reports whether p and o name the same position.
func (p Position) Equal(o Position) bool { return p.AtLeast(o) && o.AtLeast(p) }

// Same reports whether p and o are the same position down to the server id of each MariaDB
// GTID: after a failover, 0-1-100 (the old primary's) and 0-2-100 (the new one's) are Equal
// but name different histories, which a dump of one's own would refuse.
func (p Position) Same(o Position) bool {
	if p.flavor == flavorMariaDB && o.flavor == flavorMariaDB {
		return slices.Equal(p.maria, o.maria)
	}
	return p.Equal(o)
}

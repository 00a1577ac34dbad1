package engine

import (
	"errors"
	"strings"
	"testing"

	"github.com/go-mysql-org/go-mysql/mysql"
)

// TestCollectorReplies reads replies in pieces of every size, with and without
// CLIENT_DEPRECATE_EOF: the columns, the rows and how the reply ended.
func TestCollectorReplies(t *testing.T) {
	reply := shardReply{cols: []colDef{intCol("id"), textCol("name")},
		rows: [][]string{{"1", "a"}, {"2", null}, {"3", ""}}, warnings: 2, status: mysql.SERVER_STATUS_IN_TRANS}
	for _, caps := range []uint32{0, mysql.CLIENT_DEPRECATE_EOF} {
		data := reply.packets(caps)
		for step := 1; step <= len(data); step++ {
			c := NewBufferedCollector(caps, 10)
			feed(c, data, step)
			s := &source{c: c, name: "x"}
			if err := s.first(); err != nil {
				t.Fatal(err)
			}
			var rows [][]string
			for {
				ok, err := s.next()
				if err != nil {
					t.Fatal(err)
				}
				if !ok {
					break
				}
				row := []string{}
				for _, v := range s.vals {
					if v == nil {
						row = append(row, null)
					} else {
						row = append(row, string(v))
					}
				}
				rows = append(rows, row)
			}
			if len(s.cols) != 2 || s.cols[1].Name != "name" || s.cols[1].Charset != 45 {
				t.Fatalf("caps %x step %d: columns %+v", caps, step, s.cols)
			}
			if !equalRows(rows, reply.rows) {
				t.Fatalf("caps %x step %d: rows %q", caps, step, rows)
			}
			if e := s.end; e == nil || e.Err != nil || e.Warnings != 2 || e.Status != mysql.SERVER_STATUS_IN_TRANS {
				t.Fatalf("caps %x step %d: end %+v", caps, step, e)
			}
		}
	}
}

// TestCollectorEnds: an ERR reply, an OK, a reply cut short, more rows than a buffered
// collector allows, and several results (which a statement on several shards must not
// give) each end the reply as they should.
func TestCollectorEnds(t *testing.T) {
	ok := []byte{7, 0, 0, 1, mysql.OK_HEADER, 3, 9, 0, 0, 1, 0} // 3 rows affected, insert id 9, 1 warning
	more := []byte{7, 0, 0, 1, mysql.OK_HEADER, 0, 0, byte(mysql.SERVER_MORE_RESULTS_EXISTS), 0, 0, 0}
	full := shardReply{cols: []colDef{intCol("id")}, rows: [][]string{{"1"}, {"2"}}}.packets(0)
	cases := []struct {
		name    string
		data    []byte
		maxRows int
		finish  error
		check   func(e *End) bool
	}{
		{name: "ERR", data: shardReply{code: 1062, msg: "Duplicate entry"}.packets(0), maxRows: 1,
			check: func(e *End) bool { var me *mysql.MyError; return errors.As(e.Err, &me) && me.Code == 1062 }},
		{name: "OK", data: ok, maxRows: 0,
			check: func(e *End) bool { return e.Err == nil && e.OK && e.Affected == 3 && e.InsertID == 9 }},
		{name: "several results", data: more, maxRows: 0,
			check: func(e *End) bool { return e.Err != nil && strings.Contains(e.Err.Error(), "several results") }},
		{name: "cut short", data: full[:len(full)-5], maxRows: 5,
			check: func(e *End) bool { return e.Err != nil && strings.Contains(e.Err.Error(), "ended early") }},
		{name: "connection failed", data: full[:len(full)-5], maxRows: 5, finish: errors.New("connection reset"),
			check: func(e *End) bool { return e.Err != nil && e.Err.Error() == "connection reset" }},
		{name: "more rows than the plan allows", data: full, maxRows: 1,
			check: func(e *End) bool { return e.Err != nil && strings.Contains(e.Err.Error(), "more than the 1 rows") }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := NewBufferedCollector(0, tc.maxRows)
			c.Write(tc.data)
			c.Finish(tc.finish)
			var end *End
			for b, ok := c.next(); ok; b, ok = c.next() {
				if b.End != nil {
					end = b.End
				}
			}
			if end == nil || !tc.check(end) {
				t.Errorf("end %+v", end)
			}
		})
	}
}

// TestCollectorOneRowNeverBlocks: a one-row reply, even one whose row is larger than a batch,
// fits in the channel of a streaming collector, so its producer finishes with no consumer
// reading yet.
func TestCollectorOneRowNeverBlocks(t *testing.T) {
	big := strings.Repeat("x", 3*batchBytes)
	data := shardReply{cols: []colDef{textCol("t")}, rows: [][]string{{big}}}.packets(0)
	c := NewCollector(0)
	feed(c, data, len(data)) // blocks forever if a batch does not fit
	var got string
	for b, ok := c.next(); ok; b, ok = c.next() {
		for _, r := range b.Rows {
			vals, _ := splitRow(r, nil)
			got = string(vals[0])
		}
	}
	if got != big {
		t.Errorf("row of %d bytes, want %d", len(got), len(big))
	}
}

// TestWrites adds up the shards' OKs of a write: affected rows, the first insert id, the
// warnings; a shard's failure names it and the others stay listed as done.
func TestWrites(t *testing.T) {
	okPacket := func(affected, insertID byte, warnings byte) []byte {
		return []byte{7, 0, 0, 1, mysql.OK_HEADER, affected, insertID, 0, 0, warnings, 0}
	}
	run := func(replies ...[]byte) WriteResult {
		var srcs []*Collector
		var names []string
		for i, r := range replies {
			c := NewBufferedCollector(0, 0)
			feed(c, r, 3)
			srcs = append(srcs, c)
			names = append(names, "ks/"+itoa(i))
		}
		return Writes(srcs, names)
	}
	res := run(okPacket(2, 0, 0), okPacket(3, 7, 1), okPacket(1, 5, 0))
	if res.Err != nil || res.Affected != 6 || res.InsertID != 7 || res.Warnings != 1 || len(res.OK) != 3 {
		t.Errorf("all OK: %+v", res)
	}
	res = run(okPacket(2, 0, 0), shardReply{code: 1062, msg: "Duplicate entry '1' for key 'PRIMARY'"}.packets(0))
	var me *mysql.MyError
	if !errors.As(res.Err, &me) || me.Code != 1062 || !strings.Contains(me.Message, "shard ks/1") ||
		len(res.OK) != 1 || res.OK[0] != "ks/0" || len(res.Failed) != 1 || res.Affected != 2 {
		t.Errorf("one failed: %+v (err %v)", res, res.Err)
	}
}

// TestCompareValues compares values of each kind as MariaDB orders them.
func TestCompareValues(t *testing.T) {
	pad := []byte{0, 0x20}
	cases := []struct {
		a, b string
		kind cmpKind
		pad  []byte
		want int
	}{
		{"9", "10", cmpInt, nil, -1},
		{"-9", "-10", cmpInt, nil, 1},
		{"18446744073709551615", "1", cmpUint, nil, 1},
		{"99999999999999999999", "1", cmpInt, nil, 1}, // beyond int64: compared exactly
		{"1.50", "1.5", cmpDecimal, nil, 0},
		{"-0.01", "0", cmpDecimal, nil, -1},
		{"123456789012345678901234567890.1", "123456789012345678901234567890.01", cmpDecimal, nil, 1},
		{"1e2", "99.5", cmpFloat, nil, 1},
		{"-838:59:59", "838:59:59", cmpTime, nil, -1},
		{"10:00:00", "9:59:59.999999", cmpTime, nil, 1},
		{"2024-01-02 00:00:00", "2024-01-10 00:00:00", cmpBytes, nil, -1},
		{weight("a"), weight("A"), cmpWeight, pad, 0},
		{weight("a "), weight("a"), cmpWeight, pad, 0},     // PAD SPACE
		{weight("a "), weight("a"), cmpWeight, nil, 1},     // NO PAD
		{"\x00A\x00\x09", weight("a"), cmpWeight, pad, -1}, // 'a\t' sorts below 'a' (tab < space)
		{weight("ab"), weight("a  "), cmpWeight, pad, 1},
	}
	for _, tc := range cases {
		if got := compareValues([]byte(tc.a), []byte(tc.b), tc.kind, tc.pad); sign(got) != tc.want {
			t.Errorf("compare %q %q (kind %d, pad %v) = %d, want %d", tc.a, tc.b, tc.kind, tc.pad != nil, got, tc.want)
		}
		if got := compareValues([]byte(tc.b), []byte(tc.a), tc.kind, tc.pad); sign(got) != -tc.want {
			t.Errorf("compare %q %q reversed = %d, want %d", tc.b, tc.a, got, -tc.want)
		}
	}
}

func sign(n int) int {
	switch {
	case n < 0:
		return -1
	case n > 0:
		return 1
	}
	return 0
}

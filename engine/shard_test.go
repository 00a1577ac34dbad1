package engine

import (
	"bytes"
	"fmt"
	"strconv"
	"testing"

	"github.com/go-mysql-org/go-mysql/mysql"

	"github.com/vtdirect/vtdirect/planner"
	"github.com/vtdirect/vtdirect/vindex"
)

// Test helpers: shards' replies built packet by packet as MariaDB sends them, fed to
// collectors, and the client's result read back from the ResultWriter's bytes.

// null is a NULL value in the rows of these tests.
const null = "\x00NULL"

// colDef is a column of a test reply.
type colDef struct {
	name    string
	typ     byte
	flags   uint16
	charset uint16 // 63: binary
	dec     byte
}

func intCol(name string) colDef {
	return colDef{name: name, typ: mysql.MYSQL_TYPE_LONGLONG, charset: 63}
}
func uintCol(name string) colDef {
	return colDef{name: name, typ: mysql.MYSQL_TYPE_LONGLONG, flags: mysql.UNSIGNED_FLAG, charset: 63}
}
func decCol(name string, dec byte) colDef {
	return colDef{name: name, typ: mysql.MYSQL_TYPE_NEWDECIMAL, charset: 63, dec: dec}
}
func doubleCol(name string) colDef {
	return colDef{name: name, typ: mysql.MYSQL_TYPE_DOUBLE, charset: 63, dec: 31}
}

// textCol is a utf8mb4_general_ci column (collation 45); its weight column is binary.
func textCol(name string) colDef {
	return colDef{name: name, typ: mysql.MYSQL_TYPE_VAR_STRING, charset: 45}
}
func weightCol(name string) colDef {
	return colDef{name: name, typ: mysql.MYSQL_TYPE_VAR_STRING, charset: 63}
}
func timeCol(name string) colDef { return colDef{name: name, typ: mysql.MYSQL_TYPE_TIME, charset: 63} }

// payload is the column's Protocol::ColumnDefinition41.
func (c colDef) payload() []byte {
	var b []byte
	for _, s := range []string{"def", "db", "t", "t", c.name, c.name} {
		b = appendValue(b, []byte(s))
	}
	b = append(b, 0x0c, byte(c.charset), byte(c.charset>>8), 20, 0, 0, 0, c.typ, byte(c.flags), byte(c.flags>>8), c.dec, 0, 0)
	return b
}

// shardReply is one shard's reply to a SELECT: a result set, or an ERR (code != 0).
type shardReply struct {
	cols     []colDef
	rows     [][]string
	code     uint16 // an ERR instead of the result
	msg      string
	warnings uint16
	status   uint16
}

// packets encodes the reply for a connection with caps (CLIENT_DEPRECATE_EOF decides how the
// column definitions and the rows end).
func (r shardReply) packets(caps uint32) []byte {
	var out []byte
	seq := byte(1)
	pkt := func(p []byte) {
		out = append(out, byte(len(p)), byte(len(p)>>8), byte(len(p)>>16), seq)
		out = append(out, p...)
		seq++
	}
	if r.code != 0 {
		e := []byte{mysql.ERR_HEADER, byte(r.code), byte(r.code >> 8), '#'}
		e = append(e, "HY000"...)
		pkt(append(e, r.msg...))
		return out
	}
	pkt(appendLenEnc(nil, uint64(len(r.cols))))
	for _, c := range r.cols {
		pkt(c.payload())
	}
	deprecate := caps&mysql.CLIENT_DEPRECATE_EOF != 0
	if !deprecate {
		pkt([]byte{mysql.EOF_HEADER, 0, 0, byte(r.status), byte(r.status >> 8)})
	}
	for _, row := range r.rows {
		var b []byte
		for _, v := range row {
			if v == null {
				b = appendValue(b, nil)
			} else {
				b = appendValue(b, []byte(v))
			}
		}
		pkt(b)
	}
	if deprecate {
		pkt([]byte{mysql.EOF_HEADER, 0, 0, byte(r.status), byte(r.status >> 8), byte(r.warnings), byte(r.warnings >> 8)})
	} else {
		pkt([]byte{mysql.EOF_HEADER, byte(r.warnings), byte(r.warnings >> 8), byte(r.status), byte(r.status >> 8)})
	}
	return out
}

// feed writes data into c in pieces of step bytes (a reply arrives in arbitrary reads), then
// finishes it.
func feed(c *Collector, data []byte, step int) {
	for len(data) > 0 {
		n := min(step, len(data))
		c.Write(data[:n])
		data = data[n:]
	}
	c.Finish(nil)
}

// collectors makes a buffered collector per reply, filled.
func collectors(t *testing.T, caps uint32, replies []shardReply) ([]*Collector, []string) {
	t.Helper()
	cols := make([]*Collector, len(replies))
	names := make([]string, len(replies))
	for i, r := range replies {
		cols[i] = NewBufferedCollector(caps, 1<<20)
		feed(cols[i], r.packets(caps), 7+i)
		names[i] = fmt.Sprintf("ks/%d", i)
	}
	return cols, names
}

// clientResult is a result set as the client reads it.
type clientResult struct {
	cols     []Column
	rows     [][]string
	warnings uint16
	status   uint16
}

// readResult parses a text result set the ResultWriter wrote (caps as given to it).
func readResult(t *testing.T, data []byte, caps uint32) clientResult {
	t.Helper()
	var pkts [][]byte
	want := byte(1)
	for len(data) > 0 {
		if len(data) < 4 {
			t.Fatalf("truncated packet header")
		}
		n := int(data[0]) | int(data[1])<<8 | int(data[2])<<16
		if data[3] != want {
			t.Fatalf("packet %d has sequence id %d", want, data[3])
		}
		want++
		pkts = append(pkts, data[4:4+n])
		data = data[4+n:]
	}
	var res clientResult
	ncols, _, ok := readLenEnc(pkts[0])
	if !ok {
		t.Fatalf("no column count in %x", pkts[0])
	}
	i := 1
	for ; i <= int(ncols); i++ {
		c, err := parseColumn(pkts[i])
		if err != nil {
			t.Fatal(err)
		}
		res.cols = append(res.cols, c)
	}
	if caps&mysql.CLIENT_DEPRECATE_EOF == 0 {
		if pkts[i][0] != mysql.EOF_HEADER {
			t.Fatalf("no EOF after the column definitions")
		}
		i++
	}
	for ; i < len(pkts)-1; i++ {
		vals, err := splitRow(pkts[i], nil)
		if err != nil {
			t.Fatal(err)
		}
		row := make([]string, len(vals))
		for j, v := range vals {
			if v == nil {
				row[j] = null
			} else {
				row[j] = string(v)
			}
		}
		res.rows = append(res.rows, row)
	}
	end := pkts[len(pkts)-1]
	if end[0] != mysql.EOF_HEADER {
		t.Fatalf("the result ends with %x, not an EOF", end)
	}
	if caps&mysql.CLIENT_DEPRECATE_EOF != 0 {
		res.status, res.warnings = uint16(end[3])|uint16(end[4])<<8, uint16(end[5])|uint16(end[6])<<8
	} else {
		res.warnings, res.status = uint16(end[1])|uint16(end[2])<<8, uint16(end[3])|uint16(end[4])<<8
	}
	return res
}

// runSelect merges replies with m (args are the statement's values) and returns what the
// client got.
func runSelect(t *testing.T, m *planner.Merge, args []string, replies []shardReply) (clientResult, SelectResult, error) {
	t.Helper()
	const caps = 0
	srcs, names := collectors(t, caps, replies)
	var out bytes.Buffer
	w := NewResultWriter(&out, caps, false)
	res, err := Select(&SelectInput{Merge: m, Vals: vals(args...), Sources: srcs, Names: names, PadFor: padSpace}, w)
	if err != nil {
		return clientResult{}, res, err
	}
	return readResult(t, out.Bytes(), caps), res, nil
}

// padSpace is the weight of a space in utf8mb4_general_ci's WEIGHT_STRING() (two bytes).
func padSpace(uint16) ([]byte, error) { return []byte{0x00, 0x20}, nil }

// weight is a stand-in WEIGHT_STRING() of utf8mb4_general_ci for ASCII: upper-cased, two
// bytes a character.
func weight(s string) string {
	var b []byte
	for _, c := range []byte(s) {
		if c >= 'a' && c <= 'z' {
			c -= 'a' - 'A'
		}
		b = append(b, 0, c)
	}
	return string(b)
}

func arg(i int) *planner.ValueExpr { return &planner.ValueExpr{Arg: i} }

// vals are a statement's arguments, as integers.
func vals(args ...string) []vindex.Value {
	var out []vindex.Value
	for _, a := range args {
		out = append(out, vindex.Value{Kind: vindex.Int64, Raw: []byte(a)})
	}
	return out
}

func itoa(i int) string { return strconv.Itoa(i) }

func equalRows(a, b [][]string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if len(a[i]) != len(b[i]) {
			return false
		}
		for j := range a[i] {
			if a[i][j] != b[i][j] {
				return false
			}
		}
	}
	return true
}

// TestResultWriterReusedBuffer writes two results, the second in the first's buffer (as the
// router reuses it from one statement to the next): each is what a fresh writer writes.
func TestResultWriterReusedBuffer(t *testing.T) {
	cols := []Column{{Raw: []byte("column definition"), Name: "a"}}
	write := func(w *ResultWriter, rows [][][]byte) {
		w.Header(cols, 2)
		for _, r := range rows {
			w.Row(r)
		}
		if err := w.End(2, 0); err != nil {
			t.Fatal(err)
		}
	}
	first := [][][]byte{{[]byte("1234567890")}, {nil}, {[]byte("x")}}
	second := [][][]byte{{[]byte("y")}}
	var out1, out2, fresh1, fresh2 bytes.Buffer
	w1 := NewResultWriter(&out1, 0, false)
	write(w1, first)
	w2 := NewResultWriter(&out2, 0, false)
	w2.UseBuffer(w1.Buffer())
	write(w2, second)
	write(NewResultWriter(&fresh1, 0, false), first)
	write(NewResultWriter(&fresh2, 0, false), second)
	if !bytes.Equal(out1.Bytes(), fresh1.Bytes()) || !bytes.Equal(out2.Bytes(), fresh2.Bytes()) {
		t.Fatalf("reused buffer wrote\n%x\n%x\nwant\n%x\n%x", out1.Bytes(), out2.Bytes(), fresh1.Bytes(), fresh2.Bytes())
	}
	if b := w2.Buffer(); len(b) != 0 || cap(b) == 0 {
		t.Fatalf("Buffer() = len %d cap %d, want an empty kept buffer", len(b), cap(b))
	}
}

package mysqlserver

import (
	"bytes"
	"testing"

	"github.com/go-mysql-org/go-mysql/mysql"
)

// execPayload builds a COM_STMT_EXECUTE payload for statement 1.
func execPayload(flags byte, rest ...byte) []byte {
	return append([]byte{mysql.COM_STMT_EXECUTE, 1, 0, 0, 0, flags, 1, 0, 0, 0}, rest...)
}

func TestBinaryValueLen(t *testing.T) {
	cases := []struct {
		typ  byte
		val  []byte
		want int // -1 = invalid
	}{
		{mysql.MYSQL_TYPE_NULL, nil, 0},
		{mysql.MYSQL_TYPE_TINY, []byte{1}, 1},
		{mysql.MYSQL_TYPE_TINY, nil, -1},
		{mysql.MYSQL_TYPE_SHORT, []byte{1, 2}, 2},
		{mysql.MYSQL_TYPE_YEAR, []byte{1, 2}, 2},
		{mysql.MYSQL_TYPE_LONG, []byte{1, 2, 3, 4}, 4},
		{mysql.MYSQL_TYPE_INT24, []byte{1, 2, 3}, -1},
		{mysql.MYSQL_TYPE_FLOAT, []byte{1, 2, 3, 4, 5}, 4},
		{mysql.MYSQL_TYPE_LONGLONG, make([]byte, 8), 8},
		{mysql.MYSQL_TYPE_DOUBLE, make([]byte, 7), -1},
		{mysql.MYSQL_TYPE_DATE, []byte{4, 0xe8, 7, 1, 2}, 5},
		{mysql.MYSQL_TYPE_DATETIME, []byte{0}, 1},
		{mysql.MYSQL_TYPE_TIMESTAMP, []byte{11, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}, 12},
		{mysql.MYSQL_TYPE_TIME, []byte{8, 1, 2, 3}, -1},
		{mysql.MYSQL_TYPE_TIME, []byte{13, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13}, -1},
		{mysql.MYSQL_TYPE_VAR_STRING, []byte{2, 'a', 'b', 'c'}, 3},
		{mysql.MYSQL_TYPE_BLOB, []byte{0xfc, 1, 0, 'a'}, 4},
		{mysql.MYSQL_TYPE_NEWDECIMAL, []byte{3, '1', '.'}, -1},
		{mysql.MYSQL_TYPE_JSON, []byte{0}, 1},
		{mysql.MYSQL_TYPE_STRING, []byte{0xfb}, -1},
		{mysql.MYSQL_TYPE_TIMESTAMP2, []byte{0}, -1},
		{0x42, []byte{0}, -1},
	}
	for _, tc := range cases {
		n, ok := binaryValueLen(tc.typ, tc.val)
		if (tc.want < 0 && ok) || (tc.want >= 0 && (!ok || n != tc.want)) {
			t.Errorf("type %d value %x: %d %v, want %d", tc.typ, tc.val, n, ok, tc.want)
		}
	}
}

func TestNormalizeExecute(t *testing.T) {
	types := []byte{mysql.MYSQL_TYPE_LONG, 0, mysql.MYSQL_TYPE_VAR_STRING, 0, mysql.MYSQL_TYPE_TINY, 0x80}
	normal := execPayload(0, append(append([]byte{0b010, 1}, types...), 5, 0, 0, 0, 9)...)
	cases := []struct {
		name    string
		payload []byte
		stored  []byte
		long    [][]byte
		want    []byte // normalised payload
		inPlace bool
	}{
		{name: "already normal", payload: normal, want: normal, inPlace: true},
		{name: "trailing bytes dropped", payload: append(append([]byte(nil), normal...), 1, 2, 3), want: normal, inPlace: true},
		{name: "cursor flag and iterations cleared", inPlace: true,
			payload: append([]byte{mysql.COM_STMT_EXECUTE, 1, 0, 0, 0, 1, 7, 0, 0, 0}, normal[10:]...), want: normal},
		{name: "remembered types", stored: types,
			payload: execPayload(0, 0b010, 0, 5, 0, 0, 0, 9), want: normal},
		{name: "long data left out, its null bit cleared", long: [][]byte{nil, []byte("xyz"), nil}, inPlace: true,
			payload: execPayload(0, append(append([]byte{0b010, 1}, types...), 5, 0, 0, 0, 9)...),
			want:    execPayload(0, append(append([]byte{0b000, 1}, types...), 5, 0, 0, 0, 9)...)},
		{name: "long data of a numeric param keeps its type", long: [][]byte{[]byte("77"), nil, nil}, stored: types,
			payload: execPayload(0, 0b010, 0, 9),
			want:    execPayload(0, append(append([]byte{0b010, 1}, types...), 9)...)},
	}
	for _, tc := range cases {
		frame := append([]byte{0, 0, 0, 0}, tc.payload...)
		r, err := parseExecute(frame[4:], 3, tc.stored, tc.long, nil)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		out, _ := normalizeExecute(frame, 3, &r, tc.long, nil)
		if !bytes.Equal(out[4:], tc.want) {
			t.Fatalf("%s:\n got %v\nwant %v", tc.name, out[4:], tc.want)
		}
		if n := int(out[0]) | int(out[1])<<8 | int(out[2])<<16; n != len(out)-4 || out[3] != 0 {
			t.Fatalf("%s: header %v", tc.name, out[:4])
		}
		if inPlace := &out[0] == &frame[0]; inPlace != tc.inPlace {
			t.Fatalf("%s: in place = %v", tc.name, inPlace)
		}
	}
}

func TestParseExecuteErrors(t *testing.T) {
	cases := map[string]struct {
		payload []byte
		n       int
		stored  []byte
	}{
		"short":               {payload: []byte{mysql.COM_STMT_EXECUTE, 1, 0, 0, 0, 0, 1, 0, 0}, n: 0},
		"no null bitmap":      {payload: execPayload(0), n: 1},
		"no bound flag":       {payload: execPayload(0, 0), n: 1},
		"types never sent":    {payload: execPayload(0, 0, 0, 1), n: 1},
		"stored types wrong":  {payload: execPayload(0, 0, 0, 1), n: 1, stored: []byte{1}},
		"types truncated":     {payload: execPayload(0, 0, 1, mysql.MYSQL_TYPE_TINY), n: 1},
		"value truncated":     {payload: execPayload(0, 0, 1, mysql.MYSQL_TYPE_LONG, 0, 1, 2), n: 1},
		"unknown type":        {payload: execPayload(0, 0, 1, 0x30, 0, 1), n: 1},
		"second value absent": {payload: execPayload(0, 0, 1, mysql.MYSQL_TYPE_TINY, 0, mysql.MYSQL_TYPE_TINY, 0, 1), n: 2},
	}
	for name, tc := range cases {
		_, err := parseExecute(tc.payload, tc.n, tc.stored, nil, nil)
		if me := toMyError(err); err == nil || me.Code != mysql.ER_WRONG_ARGUMENTS {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func FuzzStmtExecute(f *testing.F) {
	types := []byte{mysql.MYSQL_TYPE_LONG, 0, mysql.MYSQL_TYPE_VAR_STRING, 0, mysql.MYSQL_TYPE_DATETIME, 0}
	f.Add(execPayload(0, append(append([]byte{0b010, 1}, types...), 5, 0, 0, 0, 4, 1, 2, 3, 4)...), uint8(3), []byte(nil), uint8(0))
	f.Add(execPayload(1, 0b010, 0, 5, 0, 0, 0, 0), uint8(3), types, uint8(0b100))
	f.Add(execPayload(0, 0, 1, mysql.MYSQL_TYPE_BLOB, 0), uint8(1), []byte(nil), uint8(1))
	f.Add(execPayload(0), uint8(0), []byte(nil), uint8(0))
	f.Fuzz(func(t *testing.T, payload []byte, nParams uint8, stored []byte, longMask uint8) {
		n := int(nParams)
		var long [][]byte
		if longMask != 0 && n > 0 {
			long = make([][]byte, n)
			for i := 0; i < n && i < 8; i++ {
				if longMask&(1<<i) != 0 {
					long[i] = bytes.Repeat([]byte{'L'}, i)
				}
			}
		}
		frame := append([]byte{0, 0, 0, 0}, payload...)
		r, err := parseExecute(frame[4:], n, stored, long, nil)
		if err != nil {
			return
		}
		out, _ := normalizeExecute(frame, n, &r, long, nil)
		// The normalised payload stands alone: it parses with no remembered types.
		r2, err := parseExecute(out[4:], n, nil, long, nil)
		if err != nil {
			t.Fatalf("normalised payload does not parse: %v\n%v", err, out)
		}
		if p := out[4:]; p[5] != 0 || le32(p[6:]) != 1 || (n > 0 && !r2.newBound) || r2.end != len(p) {
			t.Fatalf("not normalised: %v", out)
		}
		for i, l := range long {
			if l != nil && r2.nullBitmap[i/8]&(1<<(i%8)) != 0 {
				t.Fatalf("parameter %d has long data and its null bit set: %v", i, out)
			}
		}
	})
}

package vstream

// The MySQL 8 flavor path, over events built byte by byte from the documented binlog format
// (https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_replication_binlog_event.html):
// no MySQL server is available here. A GTID_EVENT, a QUERY_EVENT BEGIN, a TABLE_MAP_EVENT with the optional
// metadata of binlog_row_metadata=FULL, a WRITE_ROWS_EVENT v2 and an XID_EVENT must become
// BEGIN, FIELD (names, types, key and signedness from the metadata), ROW, VGTID (a MySQL56 GTID
// set advanced by the transaction) and COMMIT.

import (
	"context"
	"encoding/binary"
	"strings"
	"testing"

	"github.com/go-mysql-org/go-mysql/mysql"
	"github.com/go-mysql-org/go-mysql/replication"
	binlogdatapb "vitess.io/vitess/go/vt/proto/binlogdata"
	querypb "vitess.io/vitess/go/vt/proto/query"
	vtgatepb "vitess.io/vitess/go/vt/proto/vtgate"
)

// binlogEventBytes frames one event: the v4 header, then body, as a dump packet ("OK" byte).
func binlogEventBytes(typ replication.EventType, body []byte) []byte {
	h := make([]byte, 19, 19+len(body))
	binary.LittleEndian.PutUint32(h[0:], 1700000000)
	h[4] = byte(typ)
	binary.LittleEndian.PutUint32(h[5:], 1)
	binary.LittleEndian.PutUint32(h[9:], uint32(19+len(body)))
	return packet(append([]byte{0}, append(h, body...)...))
}

func lenenc(b []byte, s string) []byte { return append(append(b, byte(len(s))), s...) }

// tlv appends one optional-metadata field: type, length, value.
func tlv(b []byte, typ byte, v []byte) []byte {
	return append(append(append(b, typ), byte(len(v))), v...)
}

func mysqlStream() []byte {
	const uuid = "\x3e\x11\xfa\x47\x71\xca\x11\xe1\x9e\x33\xc8\x0a\xa9\x42\x95\x62"
	var out []byte
	// FORMAT_DESCRIPTION_EVENT: binlog version 4, server version, create time, header length,
	// post-header lengths (TABLE_MAP 8, WRITE_ROWS v2 10), checksum algorithm OFF.
	fde := binary.LittleEndian.AppendUint16(nil, 4)
	ver := make([]byte, 50)
	copy(ver, "8.0.40")
	fde = append(fde, ver...)
	fde = binary.LittleEndian.AppendUint32(fde, 0)
	fde = append(fde, 19)
	post := make([]byte, 41)
	post[replication.TABLE_MAP_EVENT-1] = 8
	post[replication.WRITE_ROWS_EVENTv2-1] = 10
	post[replication.GTID_EVENT-1] = 42
	post[replication.QUERY_EVENT-1] = 13
	fde = append(fde, post...)
	fde = append(fde, 0, 0, 0, 0, 0)
	out = append(out, binlogEventBytes(replication.FORMAT_DESCRIPTION_EVENT, fde)...)
	// GTID_EVENT: commit flag, SID, GNO 6, logical timestamps.
	g := append([]byte{1}, uuid...)
	g = binary.LittleEndian.AppendUint64(g, 6)
	g = append(g, 2)
	g = binary.LittleEndian.AppendUint64(g, 5)
	g = binary.LittleEndian.AppendUint64(g, 6)
	out = append(out, binlogEventBytes(replication.GTID_EVENT, g)...)
	// QUERY_EVENT "BEGIN": thread id, exec time, schema length, error code, no status vars.
	q := []byte{1, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0}
	q = append(append(q, "t"...), 0)
	q = append(q, "BEGIN"...)
	out = append(out, binlogEventBytes(replication.QUERY_EVENT, q)...)
	// TABLE_MAP_EVENT of t.t1 (id INT PRIMARY KEY, v VARCHAR(32) utf8mb4, n INT UNSIGNED,
	// e ENUM('a','b')), with full metadata.
	tm := []byte{42, 0, 0, 0, 0, 0, 1, 0}
	tm = append(lenenc(tm, "t"), 0)
	tm = append(lenenc(tm, "t1"), 0)
	tm = append(tm, 4, mysql.MYSQL_TYPE_LONG, mysql.MYSQL_TYPE_VARCHAR, mysql.MYSQL_TYPE_LONG, mysql.MYSQL_TYPE_STRING)
	tm = append(tm, 4, 128, 0, mysql.MYSQL_TYPE_ENUM, 1) // VARCHAR max 128 bytes; ENUM, 1 byte
	tm = append(tm, 0b1110)                              // nullable: all but id
	tm = tlv(tm, 1, []byte{0b01000000})                  // signedness of the numeric columns: n unsigned
	tm = tlv(tm, 2, []byte{45})                          // default charset: utf8mb4_general_ci
	tm = tlv(tm, 4, lenenc(lenenc(lenenc(lenenc(nil, "id"), "v"), "n"), "e"))
	tm = tlv(tm, 6, lenenc(lenenc([]byte{2}, "a"), "b")) // ENUM members
	tm = tlv(tm, 8, []byte{0})                           // simple primary key: column 0
	tm = tlv(tm, 10, []byte{45})                         // ENUM/SET default charset
	out = append(out, binlogEventBytes(replication.TABLE_MAP_EVENT, tm)...)
	// WRITE_ROWS_EVENT v2: (7, 'hi', 4294967295, 'b').
	w := []byte{42, 0, 0, 0, 0, 0, 1, 0, 2, 0, 4, 0x0f, 0}
	w = binary.LittleEndian.AppendUint32(w, 7)
	w = lenenc(w, "hi")
	w = append(w, 0xff, 0xff, 0xff, 0xff, 2)
	out = append(out, binlogEventBytes(replication.WRITE_ROWS_EVENTv2, w)...)
	out = append(out, binlogEventBytes(replication.XID_EVENT, binary.LittleEndian.AppendUint64(nil, 99))...)
	return out
}

type nopPicker struct{}

func (nopPicker) PickSource(context.Context, SourceRequest) (Source, error) { return Source{}, nil }
func (nopPicker) Shards(context.Context, string) ([]string, error)          { return nil, nil }

func TestMySQLFlavorEvents(t *testing.T) {
	m, err := NewManager(Config{User: "u", Picker: nopPicker{}})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	const start = "MySQL56/3e11fa47-71ca-11e1-9e33-c80aa9429562:1-5"
	var got []*binlogdatapb.VEvent
	st := newSendState([]*binlogdatapb.ShardGtid{{Keyspace: "ks", Shard: "0", Gtid: start}}, &vtgatepb.VStreamFlags{}, m.cfg,
		func(r *vtgatepb.VStreamResponse) error { got = append(got, r.Events...); return nil })
	f, err := parseFilter(nil, "0")
	if err != nil {
		t.Fatal(err)
	}
	s := &shardStream{m: m, log: m.cfg.Logger, ks: "ks", shard: "0", filter: f, st: st, refused: map[string]string{},
		src: Source{Alias: "zone1-1", DBName: "t"}, flavor: flavorMySQL,
		plans: map[string]*tablePlan{}, tmPlans: map[string]binlogPlan{}, fieldSent: map[string]*binlogdatapb.FieldEvent{},
		schema: &schemaCache{dbName: "t", tables: map[string]*tableMeta{},
			collations: map[uint32]collationInfo{45: {name: "utf8mb4_general_ci", charset: "utf8mb4", maxLen: 4}}}}
	s.source.Settings.RowMetadata = "FULL"
	if s.pos, err = ParsePosition(start); err != nil {
		t.Fatal(err)
	}
	p := replication.NewBinlogParser()
	p.SetFlavor(mysql.MySQLFlavor)
	p.SetVerifyChecksum(false)
	r := &binlogReader{conn: testConn(t, mysqlStream()), parser: p}
	if err := s.replicate(context.Background(), r, Position{}); err == nil || !strings.Contains(err.Error(), "EOF") {
		t.Fatalf("replicate: %v, want the end of the test stream", err)
	}
	var types []string
	for _, ev := range got {
		types = append(types, ev.Type.String())
	}
	if strings.Join(types, ",") != "BEGIN,FIELD,ROW,VGTID,COMMIT" {
		t.Fatalf("events %v", types)
	}
	fe := got[1].FieldEvent
	var names, ftypes []string
	for _, fl := range fe.Fields {
		names, ftypes = append(names, fl.Name), append(ftypes, fl.Type.String())
	}
	if strings.Join(names, ",") != "id,v,n,e" || strings.Join(ftypes, ",") != "INT32,VARCHAR,UINT32,ENUM" {
		t.Errorf("FIELD %v %v", names, ftypes)
	}
	if fe.Fields[0].Flags&uint32(querypb.MySqlFlag_PRI_KEY_FLAG|querypb.MySqlFlag_NOT_NULL_FLAG) != uint32(querypb.MySqlFlag_PRI_KEY_FLAG|querypb.MySqlFlag_NOT_NULL_FLAG) ||
		fe.Fields[1].ColumnType != "varchar(32)" || fe.Fields[1].Charset != 45 || fe.Fields[3].ColumnType != "enum('a','b')" {
		t.Errorf("FIELD details %+v", fe.Fields)
	}
	row := got[2].RowEvent.RowChanges[0].After
	if v := string(row.Values); v != "7hi4294967295b" || len(row.Lengths) != 4 || row.Lengths[1] != 2 {
		t.Errorf("row %q %v", v, row.Lengths)
	}
	if g := got[3].Vgtid.ShardGtids[0].Gtid; g != "MySQL56/3e11fa47-71ca-11e1-9e33-c80aa9429562:1-6" {
		t.Errorf("VGTID %s", g)
	}
}

package vstream_test

import (
	"context"
	"strings"
	"testing"
	"time"

	binlogdatapb "vitess.io/vitess/go/vt/proto/binlogdata"
	topodatapb "vitess.io/vitess/go/vt/proto/topodata"
	vtgatepb "vitess.io/vitess/go/vt/proto/vtgate"
)

// TestColumnTypes streams rows of every common MariaDB column type from the binlog (with a NULL
// row and a row bigger than one read buffer) and checks the text Vitess clients get.
func TestColumnTypes(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c := startCluster(t, ctx, 0)
	c.exec(t, `CREATE TABLE t.ty (id INT PRIMARY KEY, ti TINYINT, tiu TINYINT UNSIGNED, si SMALLINT, siu SMALLINT UNSIGNED,
		mi MEDIUMINT, miu MEDIUMINT UNSIGNED, i INT, iu INT UNSIGNED, bi BIGINT, biu BIGINT UNSIGNED,
		f FLOAT, d DOUBLE, de DECIMAL(12,3), dn DECIMAL(5,0),
		dt DATE, dtm DATETIME, dtm3 DATETIME(3), ts TIMESTAMP(6) NULL, tm TIME, tm2 TIME(2), yr YEAR,
		ch CHAR(5), vc VARCHAR(20), bn BINARY(4), vb VARBINARY(10), tx TEXT, bl BLOB, lb LONGBLOB,
		e ENUM('red','green'), st SET('a','b','c'), b BIT(12), j JSON)`)
	client := serve(t, newPicker(c), nil)
	cons := newConsumer()
	sctx, scancel := context.WithCancel(ctx)
	defer scancel()
	go func() {
		_ = stream(sctx, client, &vtgatepb.VStreamRequest{TabletType: topodatapb.TabletType_PRIMARY, Vgtid: vgtid("current"),
			Filter: &binlogdatapb.Filter{Rules: []*binlogdatapb.Rule{{Match: "ty"}}}}, cons)
	}()
	waitFor(t, ctx, "stream start", func() (bool, string) {
		cons.mu.Lock()
		defer cons.mu.Unlock()
		return cons.vgtid != nil, "no VGTID yet"
	})
	c.exec(t, `INSERT INTO t.ty VALUES (1, -128, 255, -32768, 65535, -8388608, 16777215, -2147483648, 4294967295,
		-9223372036854775808, 18446744073709551615, 1.5, -2.25e100, -123456789.125, 42,
		'2024-02-29', '2024-02-29 23:59:58', '2024-02-29 23:59:58.123', '2024-02-29 23:59:58.123456', '-838:59:59', '12:34:56.78', 2155,
		'ab', 'héllo wörld', x'00ff', x'0102', 'text', x'deadbeef', x'00', 'green', 'a,c', b'101010101010', '{"k": [1, 2]}')`)
	c.exec(t, `INSERT INTO t.ty (id) VALUES (2)`)
	big := strings.Repeat("0123456789abcdef", 300<<10/16) // 300 KiB: more than a read buffer
	c.exec(t, `INSERT INTO t.ty (id, lb) VALUES (3, ?)`, big)
	c.exec(t, `UPDATE t.ty SET vc = 'changed', de = 0.5 WHERE id = 1`)

	want := map[string]string{
		"1": "1|-128|255|-32768|65535|-8388608|16777215|-2147483648|4294967295|-9223372036854775808|18446744073709551615|" +
			"1.5E+00|-2.25E+100|-123456789.125|42|2024-02-29|2024-02-29 23:59:58|2024-02-29 23:59:58.123|2024-02-29 23:59:58.123456|" +
			"-838:59:59|12:34:56.78|2155|ab|héllo wörld|\x00\xff\x00\x00|\x01\x02|text|\xde\xad\xbe\xef|\x00|green|a,c|\x0a\xaa|" +
			`{"k": [1, 2]}`,
		"2": "2" + strings.Repeat("|NULL", 32),
		"3": "3" + strings.Repeat("|NULL", 27) + "|" + big + strings.Repeat("|NULL", 4),
	}
	want["1"] = strings.Replace(strings.Replace(want["1"], "héllo wörld", "changed", 1), "-123456789.125", "0.500", 1)
	waitFor(t, ctx, "rows", func() (bool, string) {
		got := cons.snapshot("ks.ty")
		cons.mu.Lock()
		err := cons.err
		cons.mu.Unlock()
		if err != nil {
			t.Fatal(err)
		}
		for id, w := range want {
			if got[id] != w {
				return false, "row " + id + ": got\n" + quoteLong(got[id]) + "\nwant\n" + quoteLong(w)
			}
		}
		return len(got) == len(want), ""
	})
}

func quoteLong(s string) string {
	if len(s) > 400 {
		s = s[:200] + "..." + s[len(s)-200:]
	}
	return strings.ReplaceAll(strings.ToValidUTF8(s, "?"), "\x00", `\0`)
}

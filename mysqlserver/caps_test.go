package mysqlserver

import (
	"bytes"
	"database/sql"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/go-mysql-org/go-mysql/mysql"
	driver "github.com/go-sql-driver/mysql"
)

// The capabilities real drivers ask for, through go-sql-driver/mysql and the mariadb CLI.

func queryOptions(t *testing.T, db *sql.DB) (multi, compressed bool, caps uint32) {
	t.Helper()
	var m, z, c string
	if err := db.QueryRow("options").Scan(&m, &z, &c); err != nil {
		t.Fatalf("options: %v", err)
	}
	n, _ := strconv.ParseUint(c, 10, 32)
	return m == "true", z == "true", uint32(n)
}

func TestDriverCapabilities(t *testing.T) {
	h := newFakeHandler()
	l := startServer(t, Config{}, h)
	cases := []struct {
		name      string
		tweak     func(*driver.Config)
		multi     bool
		compress  bool
		foundRows bool
	}{
		{name: "defaults"},
		{name: "multiStatements", tweak: func(c *driver.Config) { c.MultiStatements = true }, multi: true},
		{name: "clientFoundRows", tweak: func(c *driver.Config) { c.ClientFoundRows = true }, foundRows: true},
		{name: "compress", tweak: func(c *driver.Config) { _ = c.Apply(driver.EnableCompression(true)) }, compress: true},
		{name: "all", tweak: func(c *driver.Config) {
			c.MultiStatements, c.ClientFoundRows = true, true
			_ = c.Apply(driver.EnableCompression(true))
		}, multi: true, compress: true, foundRows: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			db := openDB(t, l, "u", "p", tc.tweak)
			multi, compressed, caps := queryOptions(t, db)
			if multi != tc.multi || compressed != tc.compress || (caps&mysql.CLIENT_FOUND_ROWS != 0) != tc.foundRows {
				t.Fatalf("multi %v compressed %v caps %#x", multi, compressed, caps)
			}
			// The usual traffic works in every mode: results, NULLs, errors, prepared statements.
			var one int
			if err := db.QueryRow("select 1").Scan(&one); err != nil || one != 1 {
				t.Fatalf("select 1: %d %v", one, err)
			}
			if _, err := db.Exec("fail"); mysqlErr(t, err).Number != 1064 {
				t.Fatalf("fail: %v", err)
			}
			if _, err := db.Exec("insert ? ?", int64(1), "x"); err != nil {
				t.Fatal(err)
			}
			rows, err := db.Query("nulls")
			if err != nil {
				t.Fatal(err)
			}
			n := 0
			for rows.Next() {
				n++
			}
			if rows.Close(); n != 2 {
				t.Fatalf("%d rows", n)
			}
		})
	}
}

func TestDriverCompressedBigPackets(t *testing.T) {
	h := newFakeHandler()
	l := startServer(t, Config{}, h)
	db := openDB(t, l, "u", "p", func(c *driver.Config) { _ = c.Apply(driver.EnableCompression(true)) })
	// A command of more than 16 MiB: two MySQL packets, each in compressed packets of its own.
	q := "big " + strings.Repeat("y", maxPayloadLen+10)
	res, err := db.Exec(q)
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := res.RowsAffected(); n != int64(len(q)) {
		t.Fatalf("affected %d, want %d", n, len(q))
	}
	// A big gateway-made result: a value of 20 MiB in a row that spans packets.
	big := bytes.Repeat([]byte("abcdefghij"), 2<<20)
	h.mu.Lock()
	h.bigValue = big
	h.mu.Unlock()
	var got []byte
	if err := db.QueryRow("bigvalue").Scan(&got); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, big) {
		t.Fatalf("got %d bytes, want %d", len(got), len(big))
	}
}

func TestDriverLoadDataLocal(t *testing.T) {
	for _, compress := range []bool{false, true} {
		t.Run("compress="+strconv.FormatBool(compress), func(t *testing.T) {
			h := newFakeHandler()
			l := startServer(t, Config{LocalInfile: true}, h)
			db := openDB(t, l, "u", "p", func(c *driver.Config) { _ = c.Apply(driver.EnableCompression(compress)) })
			const size = 20<<20 + 17
			name := "vtdirect-test-" + strconv.FormatBool(compress)
			driver.RegisterReaderHandler(name, func() io.Reader { return io.LimitReader(zeroReader{}, size) })
			defer driver.DeregisterReaderHandler(name)
			res, err := db.Exec("load Reader::" + name)
			if err != nil {
				t.Fatal(err)
			}
			if n, _ := res.RowsAffected(); n != size {
				t.Fatalf("the handler relayed %d bytes, want %d", n, size)
			}
			h.mu.Lock()
			in := h.infiles[0]
			h.mu.Unlock()
			// The file came packet by packet (go-sql-driver sends 16 KiB), with consecutive
			// sequence ids after the request's 1, up to the empty packet.
			if in.packets < size/(1<<20) || in.biggest > 1<<20 {
				t.Fatalf("%d packets, the biggest %d bytes", in.packets, in.biggest)
			}
			for i, s := range in.seqs {
				if s != uint8(i+2) {
					t.Fatalf("packet %d has sequence %d", i, s)
				}
			}
			// The connection goes on.
			if err := db.Ping(); err != nil {
				t.Fatal(err)
			}
		})
	}
}

type zeroReader struct{}

func (zeroReader) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

func TestDriverLongData(t *testing.T) {
	h := newFakeHandler()
	l := startServer(t, Config{}, h)
	// With max_allowed_packet at 4 MiB the driver sends a 20 MiB argument as long data.
	db := openDB(t, l, "u", "p", func(c *driver.Config) { c.MaxAllowedPacket = 4 << 20 })
	long := bytes.Repeat([]byte("0123456789abcdef"), (20<<20)/16)
	if _, err := db.Exec("insert ? ?", long, int64(9)); err != nil {
		t.Fatal(err)
	}
	frame := h.lastExecute(t)
	if len(frame) > 1024 {
		t.Fatalf("the execute carries %d bytes: long data was inlined", len(frame))
	}
	got := h.lastParams(t, 2)
	if got[0] != string(long) || got[1] != int64(9) {
		t.Fatalf("params %.40v", got)
	}
}

func TestMariaDBClientCompress(t *testing.T) {
	l := startServer(t, Config{}, newFakeHandler())
	out, err := runMariaDB(t, l, "u", "p", "options", "--compress")
	if err != nil {
		t.Fatalf("mariadb --compress: %v: %s", err, out)
	}
	// The CLI asks for multi-statements; compression is on.
	if f := strings.Split(out, "\t"); len(f) != 3 || f[0] != "true" || f[1] != "true" {
		t.Fatalf("options %q", out)
	}
	out, err = runMariaDB(t, l, "u", "p", "select 1", "--compress")
	if err != nil || out != "1" {
		t.Fatalf("select 1 compressed: %v %q", err, out)
	}
	out, err = runMariaDB(t, l, "u", "p", "fail", "--compress")
	if err == nil || !strings.Contains(out, "ERROR 1064 (42000)") {
		t.Fatalf("error compressed: %v %q", err, out)
	}
}

func TestMariaDBClientLoadDataLocal(t *testing.T) {
	h := newFakeHandler()
	l := startServer(t, Config{LocalInfile: true}, h)
	file := filepath.Join(t.TempDir(), "rows.csv")
	data := bytes.Repeat([]byte("1,alpha\n2,beta\n"), 200_000) // 3 MiB
	if err := os.WriteFile(file, data, 0o600); err != nil {
		t.Fatal(err)
	}
	for i, extra := range [][]string{{"--local-infile=1"}, {"--local-infile=1", "--compress"}} {
		out, err := runMariaDB(t, l, "u", "p", "load "+file, extra...)
		if err != nil {
			t.Fatalf("mariadb %v: %v: %s", extra, err, out)
		}
		h.mu.Lock()
		in := h.infiles[i]
		h.mu.Unlock()
		if in.bytes != len(data) || in.packets < 2 {
			t.Fatalf("%v: relayed %d bytes in %d packets, want %d", extra, in.bytes, in.packets, len(data))
		}
	}
}

package mysqlserver

import (
	"bytes"
	"runtime"
	"testing"

	"github.com/go-mysql-org/go-mysql/mysql"
)

// TestNextClientStartsClean: a connection goroutine and buffers that served a client which
// left in the middle of a packet serve the next client as a fresh connection would: nothing
// of the first client's bytes, user, database or attributes shows.
func TestNextClientStartsClean(t *testing.T) {
	h := newFakeHandler()
	l := startServer(t, Config{}, h)
	for i := range 3 {
		a := dialRaw(t, l)
		a.login()
		// Half a COM_QUERY: the header promises 50 bytes, 20 come, then the client leaves.
		_, _ = a.c.Write(append([]byte{50, 0, 0, 0, mysql.COM_QUERY}, bytes.Repeat([]byte{'x'}, 19)...))
		_ = a.c.Close()
		waitFor(t, "the connection goroutine to wait for the next client", func() bool { return l.idleWorkers.Load() == 1 })

		b := dialRaw(t, l)
		b.greeting()
		resp := buildHandshakeResponse(rawCaps, "empty", "", b.nonce, "other")
		b.write(1, resp)
		if p := b.mustRead(); p[0] != mysql.OK_HEADER {
			t.Fatalf("round %d: login after a client left mid-packet: %q", i, p)
		}
		if l.idleWorkers.Load() != 0 {
			t.Fatalf("round %d: the waiting goroutine did not take the next client", i)
		}
		b.write(0, append([]byte{mysql.COM_QUERY}, "whoami"...))
		row := readTextRow(t, b, 7)
		if got := [3]string{row[0], row[1], row[4]}; got != [3]string{"empty", "other", "raw"} {
			t.Fatalf("round %d: whoami (user, db, client) = %q", i, got)
		}
		if p := b.command(mysql.COM_PING); p[0] != mysql.OK_HEADER {
			t.Fatalf("round %d: ping: %q", i, p)
		}
		_ = b.c.Close()
		waitFor(t, "the connection goroutine to wait again", func() bool { return l.idleWorkers.Load() == 1 })
	}
}

// readTextRow reads a text result set of one row (old-style, with EOF packets) and returns
// the row's n values.
func readTextRow(t *testing.T, r *rawClient, n int) []string {
	t.Helper()
	if p := r.mustRead(); len(p) != 1 || int(p[0]) != n {
		t.Fatalf("column count: %q", p)
	}
	for range n {
		r.mustRead() // column definitions
	}
	if p := r.mustRead(); p[0] != mysql.EOF_HEADER {
		t.Fatalf("want EOF after the columns, got %q", p)
	}
	p := r.mustRead()
	var row []string
	for len(p) > 0 {
		v, k, ok := readLenEncString(p)
		if !ok {
			t.Fatalf("bad row %q", p)
		}
		row, p = append(row, string(v)), p[k:]
	}
	if len(row) != n {
		t.Fatalf("row %q: want %d values", row, n)
	}
	if p := r.mustRead(); p[0] != mysql.EOF_HEADER {
		t.Fatalf("want EOF after the row, got %q", p)
	}
	return row
}

// TestIdleConnectionGoroutinesBounded: after a crowd of clients leaves, at most
// maxIdleWorkers goroutines wait for the next one, and Close ends them.
func TestIdleConnectionGoroutinesBounded(t *testing.T) {
	base := runtime.NumGoroutine()
	h := newFakeHandler()
	l := startServer(t, Config{}, h)
	crowd := make([]*rawClient, maxIdleWorkers+36)
	for i := range crowd {
		crowd[i] = dialRaw(t, l)
		crowd[i].login()
	}
	for _, r := range crowd {
		if p := r.command(mysql.COM_PING); p[0] != mysql.OK_HEADER {
			t.Fatalf("ping: %q", p)
		}
	}
	for _, r := range crowd {
		_ = r.c.Close()
	}
	waitFor(t, "the crowd's connections to end", func() bool {
		h.mu.Lock()
		defer h.mu.Unlock()
		return len(h.conns) == 0 && len(h.closed) == len(crowd)
	})
	waitFor(t, "the goroutines beyond the idle bound to exit", func() bool {
		return l.idleWorkers.Load() == maxIdleWorkers && runtime.NumGoroutine() <= base+1+maxIdleWorkers
	})
	// They still serve.
	r := dialRaw(t, l)
	r.login()
	if p := r.command(mysql.COM_PING); p[0] != mysql.OK_HEADER {
		t.Fatalf("ping: %q", p)
	}
	_ = r.c.Close()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "Close to end every connection goroutine", func() bool { return runtime.NumGoroutine() <= base+1 })
}

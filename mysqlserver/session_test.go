package mysqlserver

import (
	"bytes"
	"errors"
	"io"
	"net"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/go-mysql-org/go-mysql/mysql"
	driver "github.com/go-sql-driver/mysql"
)

func TestRawSetOption(t *testing.T) {
	l := startServer(t, Config{}, newFakeHandler())
	r := dialRaw(t, l)
	r.greeting()
	r.write(1, buildHandshakeResponse(rawCaps|mysql.CLIENT_MULTI_STATEMENTS, "u", "p", r.nonce, ""))
	r.mustRead()
	multi := func() string { return r.rawRow("options")[0] }
	if multi() != "true" {
		t.Fatal("CLIENT_MULTI_STATEMENTS negotiated, MultiStatements false")
	}
	if p := r.command(mysql.COM_SET_OPTION, 1, 0); !bytes.Equal(p, []byte{mysql.EOF_HEADER, 0, 0, 2, 0}) {
		t.Fatalf("multi-statements off: %q", p)
	}
	if multi() != "false" {
		t.Fatal("MULTI_STATEMENTS_OFF did not turn it off")
	}
	r.command(mysql.COM_SET_OPTION, 0, 0)
	if multi() != "true" {
		t.Fatal("MULTI_STATEMENTS_ON did not turn it on")
	}
	expectErrPacket(t, r.command(mysql.COM_SET_OPTION, 2, 0), mysql.ER_UNKNOWN_COM_ERROR, "08S01")
	expectErrPacket(t, r.command(mysql.COM_SET_OPTION, 0), erMalformedPacket, "")
	if multi() != "true" {
		t.Fatal("a refused COM_SET_OPTION changed the setting")
	}

	// A gateway that does not offer multi-statements refuses to turn them on.
	l = startServer(t, Config{Capabilities: LegacyCapabilities}, newFakeHandler())
	r = dialRaw(t, l)
	r.login()
	expectErrPacket(t, r.command(mysql.COM_SET_OPTION, 0, 0), mysql.ER_NOT_SUPPORTED_YET, "")
	if p := r.command(mysql.COM_SET_OPTION, 1, 0); p[0] != mysql.EOF_HEADER {
		t.Fatalf("multi-statements off: %q", p)
	}
}

func TestServerVersion(t *testing.T) {
	greeting := func(cfg Config) string {
		r := dialRaw(t, startServer(t, cfg, newFakeHandler()))
		p := r.mustRead()
		return string(p[1:bytes.IndexByte(p, 0)])
	}
	if v := greeting(Config{}); v != defaultServerVersion {
		t.Errorf("default %q", v)
	}
	backend := "5.5.5-10.11.19-MariaDB-vtdirect"
	if v := greeting(Config{ServerVersionFunc: func() string { return backend }}); v != backend {
		t.Errorf("from the backend %q", v)
	}
	if v := greeting(Config{ServerVersion: "8.0.40-vtdirect", ServerVersionFunc: func() string { return backend }}); v != "8.0.40-vtdirect" {
		t.Errorf("configured %q", v)
	}
}

// expectSilentClose reads from nc until it is closed, failing if any byte arrives first.
func expectSilentClose(t *testing.T, nc net.Conn, within time.Duration) {
	t.Helper()
	_ = nc.SetReadDeadline(time.Now().Add(within))
	b, err := io.ReadAll(nc)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Fatalf("connection still open after %v", within)
	}
	if len(b) > 0 {
		t.Fatalf("got %q before the close", b)
	}
}

func TestIdleTimeout(t *testing.T) {
	// MariaDB closes an idle connection without a word; so must the gateway.
	maria, _ := dialBoth(t, startServer(t, Config{}, newFakeHandler()), compareCaps)
	_ = WritePacket(maria, 0, append([]byte{mysql.COM_QUERY}, "SET SESSION wait_timeout = 1"...))
	readReply(t, maria, compareCaps, mysql.COM_QUERY)
	expectSilentClose(t, maria, 10*time.Second)

	h := newFakeHandler()
	l := startServer(t, Config{}, h)
	r := dialRaw(t, l)
	r.login()
	id := r.rawRow("whoami")[6]
	if p := r.command(append([]byte{mysql.COM_QUERY}, "idle 300"...)...); p[0] != mysql.OK_HEADER {
		t.Fatalf("idle: %q", p)
	}
	// Commands more often than the timeout keep the connection.
	for range 8 {
		time.Sleep(100 * time.Millisecond)
		if p := r.command(mysql.COM_PING); p[0] != mysql.OK_HEADER {
			t.Fatalf("ping: %q", p)
		}
	}
	expectSilentClose(t, r.c, 10*time.Second)
	waitFor(t, "ConnectionClosed", func() bool {
		h.mu.Lock()
		defer h.mu.Unlock()
		return slices.ContainsFunc(h.closed, func(c uint32) bool { return itoa(c) == id })
	})

	// 0 turns it off again.
	r = dialRaw(t, l)
	r.login()
	r.command(append([]byte{mysql.COM_QUERY}, "idle 100"...)...)
	r.command(append([]byte{mysql.COM_QUERY}, "idle 0"...)...)
	time.Sleep(300 * time.Millisecond)
	if p := r.command(mysql.COM_PING); p[0] != mysql.OK_HEADER {
		t.Fatalf("ping after the timeout was turned off: %q", p)
	}
}

func itoa(v uint32) string { return strconv.FormatUint(uint64(v), 10) }

func TestIdleTimeoutCompressedTLS(t *testing.T) {
	tlsCfg, _, _ := selfSignedTLS(t)
	h := newFakeHandler()
	l := startServer(t, Config{TLSConfig: tlsCfg}, h)
	db := openDB(t, l, "u", "p", func(c *driver.Config) {
		_ = c.Apply(driver.EnableCompression(true))
		c.TLS = skipVerify()
	})
	conn, err := db.Conn(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var id string
	if err := conn.QueryRowContext(t.Context(), "whoami").Scan(new(string), new(string), new(string), new(string), new(string), new(string), &id); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.ExecContext(t.Context(), "idle 200"); err != nil {
		t.Fatal(err)
	}
	for range 5 {
		time.Sleep(80 * time.Millisecond)
		if err := conn.PingContext(t.Context()); err != nil {
			t.Fatalf("ping within the timeout: %v", err)
		}
	}
	waitFor(t, "the idle connection to close", func() bool {
		h.mu.Lock()
		defer h.mu.Unlock()
		return slices.ContainsFunc(h.closed, func(c uint32) bool { return itoa(c) == id })
	})
	if err := conn.PingContext(t.Context()); err == nil {
		t.Fatal("ping on a connection closed for idleness")
	}
}

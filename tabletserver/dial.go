package tabletserver

// Opening a backend connection: the handshake (go-mysql's client for now), with the reply-format
// capabilities of the client the connection will serve plus CLIENT_SESSION_TRACK, then the
// gateway's session tracking, then the raw socket is ours.

import (
	"context"
	"net"
	"time"

	"github.com/go-mysql-org/go-mysql/client"
	"github.com/go-mysql-org/go-mysql/mysql"

	"github.com/vtdirect/vtdirect/flavor"
)

// FormatCaps are the client capability flags that change what a reply looks like or means:
// a backend connection negotiates exactly the ones of the client it serves, so that its
// replies can be forwarded verbatim. (CLIENT_MULTI_STATEMENTS is switched per command with
// COM_SET_OPTION instead; compression is between the client and the gateway only.)
const FormatCaps = mysql.CLIENT_FOUND_ROWS | mysql.CLIENT_DEPRECATE_EOF | mysql.CLIENT_LOCAL_FILES |
	mysql.CLIENT_IGNORE_SPACE | mysql.CLIENT_INTERACTIVE

// alwaysCaps are asked for by every backend connection: multi-result replies (CALL) for
// queries and prepared statements, long column flags, and session tracking, which tells the
// gateway what each statement changed.
const alwaysCaps = mysql.CLIENT_MULTI_RESULTS | mysql.CLIENT_PS_MULTI_RESULTS | mysql.CLIENT_LONG_FLAG |
	mysql.CLIENT_SESSION_TRACK

// neverCaps are never negotiated with a backend: each would change a reply's format in a way
// the forwarder does not follow. go-mysql would otherwise take CLIENT_QUERY_ATTRIBUTES from a
// MySQL 8 server.
const neverCaps = mysql.CLIENT_QUERY_ATTRIBUTES | mysql.CLIENT_COMPRESS | mysql.CLIENT_ZSTD_COMPRESSION_ALGORITHM |
	mysql.CLIENT_OPTIONAL_RESULTSET_METADATA | mysql.CLIENT_SSL | mysql.CLIENT_MULTI_STATEMENTS

// dial opens a backend connection for a client with reply-format capabilities caps.
func (t *TabletServer) dial(ctx context.Context, caps uint32) (*Conn, error) {
	caps &= FormatCaps
	ctx, cancel := context.WithTimeout(ctx, t.cfg.ConnectTimeout)
	defer cancel()

	d := net.Dialer{Timeout: t.cfg.ConnectTimeout}
	want := alwaysCaps | caps
	dialer := func(ctx context.Context, network, addr string) (net.Conn, error) {
		nc, err := d.DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		return &capsConn{Conn: nc, add: want}, nil
	}
	opt := func(c *client.Conn) error {
		c.SetCapability(want & (mysql.CLIENT_FOUND_ROWS | mysql.CLIENT_LOCAL_FILES | mysql.CLIENT_MULTI_RESULTS | mysql.CLIENT_PS_MULTI_RESULTS))
		c.UnsetCapability(neverCaps)
		// Deadlines for the handshake only: cleared when the socket is taken over.
		c.ReadTimeout, c.WriteTimeout = t.cfg.ConnectTimeout, t.cfg.ConnectTimeout
		c.SetAttributes(map[string]string{"program_name": "vtdirect"})
		return c.SetCollation(t.cfg.Collation)
	}
	cc, err := client.ConnectWithDialer(ctx, "tcp", t.addr, t.cfg.User, t.cfg.Password, t.dbName, dialer, opt)
	if err != nil {
		t.stats.dialErrors.Add(1)
		return nil, errDial(t.alias, t.addr, err)
	}
	// After the auth OK the server sends nothing until it gets a command: no byte is left in
	// go-mysql's read buffer, and the raw socket is ours.
	nc := cc.Conn.Conn.(*capsConn).Conn
	if err := nc.SetDeadline(time.Time{}); err != nil {
		nc.Close()
		return nil, errDial(t.alias, t.addr, err)
	}
	t.stats.dials.Add(1)
	version := cc.GetServerVersion()
	t.noteVersion(version)
	c := newConn(t, nc, cc.GetConnectionID(), caps)
	c.canReset = flavor.Detect(version).SupportsResetConnection()
	c.state.Store(connInUse) // for the base tracking statement, before the pool hands it out
	if err := t.ensureInfo(ctx); err != nil {
		// Tracking then asks for every variable ('*'): correct, only more talkative.
		t.log.Warn("cannot read the server's session variables", "err", err)
	}
	if err := c.resetAnd(ctx, false, []string{t.baseTracking()}); err != nil {
		nc.Close()
		return nil, errDial(t.alias, t.addr, err)
	}
	return c, nil
}

// capsConn adds capability flags to the handshake response go-mysql writes (its first write):
// go-mysql sends only the flags it knows. A bridge until the gateway has its own handshake.
type capsConn struct {
	net.Conn
	add     uint32
	patched bool
}

func (c *capsConn) Write(b []byte) (int, error) {
	if !c.patched && len(b) >= 8 {
		c.patched = true
		caps := uint32(b[4]) | uint32(b[5])<<8 | uint32(b[6])<<16 | uint32(b[7])<<24
		caps |= c.add
		b[4], b[5], b[6], b[7] = byte(caps), byte(caps>>8), byte(caps>>16), byte(caps>>24)
	}
	return c.Conn.Write(b)
}

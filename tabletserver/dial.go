package tabletserver

// Opening a backend connection: the connection phase (package backendconn), with the
// reply-format capabilities of the client the connection will serve plus CLIENT_SESSION_TRACK,
// in the server's default character set; then the gateway's session tracking; then the raw
// socket is driven directly.

import (
	"context"

	"github.com/go-mysql-org/go-mysql/mysql"

	"github.com/vtdirect/vtdirect/backendconn"
	"github.com/vtdirect/vtdirect/flavor"
)

// FormatCaps are the client capability flags that change what a reply looks like or means:
// a backend connection negotiates exactly the ones of the client it serves, so that its
// replies can be forwarded verbatim. (CLIENT_MULTI_STATEMENTS is switched per command with
// COM_SET_OPTION instead; compression is between the client and the gateway only.)
const FormatCaps = mysql.CLIENT_FOUND_ROWS | mysql.CLIENT_DEPRECATE_EOF | mysql.CLIENT_LOCAL_FILES |
	mysql.CLIENT_IGNORE_SPACE | mysql.CLIENT_INTERACTIVE

// alwaysCaps are asked for by every backend connection: the protocol's basics, multi-result
// replies (CALL) for queries and prepared statements, long column flags, and session tracking,
// which tells the gateway what each statement changed.
const alwaysCaps = mysql.CLIENT_LONG_PASSWORD | mysql.CLIENT_LONG_FLAG | mysql.CLIENT_TRANSACTIONS |
	mysql.CLIENT_MULTI_RESULTS | mysql.CLIENT_PS_MULTI_RESULTS | mysql.CLIENT_SESSION_TRACK

// dial opens a backend connection for tablet t's client with reply-format capabilities caps,
// on t's database.
func (b *Backend) dial(ctx context.Context, t *TabletServer, caps uint32) (*Conn, error) {
	caps &= FormatCaps
	cfg := b.cfg.Load()
	nc, info, err := backendconn.Dial(ctx, backendconn.Config{
		Addr: b.key.Addr, User: b.key.User, Password: cfg.Password, Database: t.dbName,
		Capabilities:   alwaysCaps | caps,
		Attributes:     map[string]string{"program_name": "vtdirect"},
		ConnectTimeout: cfg.ConnectTimeout,
		TLSMode:        cfg.TLSMode,
		TLSConfig:      cfg.TLSConfig,
	})
	if err != nil {
		b.stats.dialErrors.Add(1)
		t.stats.dialErrors.Add(1)
		return nil, errDial(t.alias, b.key.Addr, err)
	}
	if missing := (alwaysCaps | caps) &^ info.Capabilities &^ mysql.CLIENT_LONG_PASSWORD; missing != 0 {
		nc.Close()
		return nil, errDial(t.alias, b.key.Addr, errMissingCaps(missing))
	}
	b.stats.dials.Add(1)
	t.stats.dials.Add(1)
	b.noteVersion(info.ServerVersion)
	c := newConn(b, nc, info.ThreadID, caps)
	c.ts, c.schema, c.wantSchema = t, t.dbName, t.dbName
	c.canReset = flavor.Detect(info.ServerVersion).SupportsResetConnection()
	c.state.Store(connInUse) // for the base tracking statement, before the pool hands it out
	if err := b.ensureInfo(ctx); err != nil {
		// Tracking then asks for every variable ('*'): correct, only more talkative.
		b.log.Warn("cannot read the server's session variables", "err", err)
	}
	if err := c.resetAnd(ctx, false, []string{b.freshState(caps)}); err != nil {
		nc.Close()
		return nil, errDial(t.alias, b.key.Addr, err)
	}
	return c, nil
}

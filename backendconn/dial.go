package backendconn

// Dial: the connection phase as a script of named steps (greeting, TLS, response,
// authentication, final OK).
// https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_connection_phase.html

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"os"
	"time"

	"github.com/go-mysql-org/go-mysql/mysql"
)

// Info is what the server said during the connection phase.
type Info struct {
	// ServerVersion is the greeting's version string, e.g. "5.5.5-10.11.19-MariaDB-0+deb12u1-log".
	ServerVersion string
	// ThreadID is the server's connection id (what KILL takes).
	ThreadID uint32
	// ServerCapabilities and ServerExtCapabilities are what the greeting offered; MariaDB
	// says whether the server announced extended capabilities (CLIENT_MYSQL clear).
	ServerCapabilities, ServerExtCapabilities uint32
	MariaDB                                   bool
	// Capabilities and ExtCapabilities are what the connection negotiated (the flags sent
	// in the handshake response, all of which the server offered).
	Capabilities, ExtCapabilities uint32
	// ServerCollation is the greeting's default collation id; Collation is the one sent.
	ServerCollation, Collation uint8
	// AuthPlugin is the plugin that authenticated the connection; TLS says it is encrypted.
	AuthPlugin string
	TLS        bool
	// Status and Warnings come from the final OK packet; SessionState is its session-state
	// information (with CLIENT_SESSION_TRACK, when SERVER_SESSION_STATE_CHANGED is set).
	Status, Warnings uint16
	SessionState     []byte
}

// Dial connects to cfg.Addr and runs the connection phase. It returns the connection (the
// TLS connection when TLS is used) with no deadline set, positioned just after the final OK.
// A server's ERR packet is returned as a *mysql.MyError in the chain (1045 access denied,
// 1049 unknown database, 1040 too many connections, ...). Errors name the address.
func Dial(ctx context.Context, cfg Config) (net.Conn, *Info, error) {
	if err := cfg.validate(); err != nil {
		return nil, nil, err
	}
	if cfg.Network == "" {
		cfg.Network = "tcp"
	}
	if cfg.ConnectTimeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, cfg.ConnectTimeout)
		defer cancel()
	}
	dial := cfg.DialContext
	if dial == nil {
		dial = (&net.Dialer{}).DialContext
	}
	nc, err := dial(ctx, cfg.Network, cfg.Addr)
	if err != nil {
		return nil, nil, fmt.Errorf("connect to backend %s: %w", cfg.Addr, err)
	}
	if dl, ok := ctx.Deadline(); ok {
		_ = nc.SetDeadline(dl)
	}
	// A cancelled ctx unblocks the handshake's reads and writes.
	stop := context.AfterFunc(ctx, func() { _ = nc.SetDeadline(time.Unix(1, 0)) })
	conn, info, err := handshake(ctx, nc, &cfg)
	if !stop() && err == nil {
		err = ctx.Err() // cancelled as the handshake ended: the deadline may be set now
	}
	if err == nil {
		err = conn.SetDeadline(time.Time{})
	}
	if err != nil {
		_ = nc.Close()
		ctxErr := ctx.Err()
		if ctxErr == nil && errors.Is(err, os.ErrDeadlineExceeded) {
			ctxErr = context.DeadlineExceeded // the socket's deadline is ctx's; its timer may not have fired yet
		}
		if ctxErr != nil && !isServerError(err) {
			err = fmt.Errorf("%w (%w)", ctxErr, err)
		}
		return nil, nil, fmt.Errorf("connect to backend %s as %q: %w", cfg.Addr, cfg.User, err)
	}
	return conn, info, nil
}

func isServerError(err error) bool {
	var me *mysql.MyError
	return errors.As(err, &me)
}

// handshake runs the connection phase on nc.
func handshake(ctx context.Context, nc net.Conn, cfg *Config) (net.Conn, *Info, error) {
	ph := &phase{conn: nc}
	p, err := ph.read()
	if err != nil {
		return nil, nil, fmt.Errorf("read greeting: %w", err)
	}
	g, err := parseGreeting(p)
	if err != nil {
		return nil, nil, err
	}
	info := &Info{
		ServerVersion: g.version, ThreadID: g.threadID,
		ServerCapabilities: g.caps, ServerExtCapabilities: g.extCaps, MariaDB: g.mariadb,
		ServerCollation: g.collation,
	}
	resp, err := negotiate(cfg, g)
	if err != nil {
		return nil, nil, err
	}
	if resp.caps&mysql.CLIENT_SSL != 0 {
		if err := ph.write(resp.appendFixed(nil)); err != nil {
			return nil, nil, fmt.Errorf("send SSL request: %w", err)
		}
		tc := tls.Client(nc, tlsConfig(cfg))
		if err := tc.HandshakeContext(ctx); err != nil {
			return nil, nil, fmt.Errorf("TLS handshake (--db-ssl-mode=%s): %w", cfg.TLSMode, err)
		}
		ph.conn = tc
		info.TLS = true
	}
	a := &authenticator{password: cfg.Password, secure: info.TLS || cfg.Network == "unix", plugin: resp.plugin, scramble: g.scramble}
	if resp.auth, err = a.initial(); err != nil {
		return nil, nil, err
	}
	if err := ph.write(resp.appendResponse(nil)); err != nil {
		return nil, nil, fmt.Errorf("send handshake response: %w", err)
	}
	ok, err := authenticate(ph, a)
	if err != nil {
		return nil, nil, err
	}
	if err := parseOK(ok, resp.caps, info); err != nil {
		return nil, nil, err
	}
	info.Capabilities, info.ExtCapabilities = resp.caps, resp.extCaps
	info.Collation, info.AuthPlugin = resp.collation, a.plugin
	return ph.conn, info, nil
}

// negotiate chooses the handshake response's capabilities, collation and first plugin.
func negotiate(cfg *Config, g *greeting) (*response, error) {
	const needed = mysql.CLIENT_PROTOCOL_41 | mysql.CLIENT_SECURE_CONNECTION
	if g.caps&needed != needed {
		return nil, fmt.Errorf("server %q does not speak protocol 4.1 with secure authentication", g.version)
	}
	want := cfg.Capabilities | alwaysCaps | clientMySQL
	want &^= mysql.CLIENT_SSL | mysql.CLIENT_CONNECT_WITH_DB | mysql.CLIENT_CONNECT_ATTRS
	if cfg.Database != "" {
		want |= mysql.CLIENT_CONNECT_WITH_DB
	}
	if len(cfg.Attributes) > 0 {
		want |= mysql.CLIENT_CONNECT_ATTRS
	}
	r := &response{
		caps: want & g.caps, maxPacket: cfg.MaxPacketSize, collation: cfg.Collation,
		user: cfg.User, db: cfg.Database, attrs: cfg.Attributes,
	}
	if cfg.Database != "" && r.caps&mysql.CLIENT_CONNECT_WITH_DB == 0 {
		return nil, fmt.Errorf("server %q cannot take a database at connect time (no CLIENT_CONNECT_WITH_DB)", g.version)
	}
	if r.maxPacket == 0 {
		r.maxPacket = defaultMaxPacketSize
	}
	if r.collation == 0 {
		r.collation = g.collation
	}
	if g.mariadb && cfg.ExtCapabilities != 0 {
		// A MariaDB client clears CLIENT_MYSQL to say that the filler carries its extended capabilities.
		r.caps &^= clientMySQL
		r.extCaps = cfg.ExtCapabilities & g.extCaps
	}
	switch offered := g.caps&mysql.CLIENT_SSL != 0; cfg.TLSMode {
	case TLSDisabled:
	case TLSPreferred:
		if offered {
			r.caps |= mysql.CLIENT_SSL
		}
	default:
		if !offered {
			return nil, fmt.Errorf("the server offers no TLS but the TLS mode is %s: configure ssl_cert and ssl_key on the "+
				"server, or use --db-ssl-mode=preferred or disabled", cfg.TLSMode)
		}
		r.caps |= mysql.CLIENT_SSL
	}
	// Answer with the server's plugin when we speak it; otherwise start with
	// mysql_native_password and let the server switch us to the user's plugin.
	r.plugin = g.plugin
	if !supported(r.plugin) || r.plugin == mysql.AUTH_CLEAR_PASSWORD {
		r.plugin = mysql.AUTH_NATIVE_PASSWORD
	}
	if r.caps&mysql.CLIENT_PLUGIN_AUTH == 0 {
		r.plugin = mysql.AUTH_NATIVE_PASSWORD
	}
	return r, nil
}

// authenticate follows the server's answers until its final OK (returned) or ERR.
func authenticate(ph *phase, a *authenticator) ([]byte, error) {
	for switches := 0; ; {
		p, err := ph.read()
		if err != nil {
			return nil, fmt.Errorf("authenticate: %w", err)
		}
		if len(p) == 0 {
			return nil, errors.New("authenticate: empty packet from the server")
		}
		switch p[0] {
		case mysql.OK_HEADER:
			return p, nil
		case mysql.ERR_HEADER:
			return nil, parseErr(p)
		case authSwitchRequest:
			if switches++; switches > maxAuthSwitchesPerDial {
				return nil, errors.New("authenticate: too many auth switch requests")
			}
			plugin, data, err := parseAuthSwitch(p)
			if err != nil {
				return nil, err
			}
			a.plugin, a.scramble = plugin, data
			answer, err := a.initial()
			if err != nil {
				return nil, err
			}
			if err := ph.write(answer); err != nil {
				return nil, err
			}
		case authMoreData:
			if err := a.moreData(ph, p[1:]); err != nil {
				return nil, err
			}
		default:
			return nil, fmt.Errorf("authenticate: unexpected packet 0x%02x from the server", p[0])
		}
	}
}

// parseOK reads the final OK's status, warnings and session state into info.
func parseOK(p []byte, caps uint32, info *Info) error {
	rest := p[1:]
	for range 2 { // affected rows, last insert id
		_, n, ok := readLenEnc(rest)
		if !ok {
			return errors.New("malformed OK packet after authentication")
		}
		rest = rest[n:]
	}
	if len(rest) < 4 {
		return errors.New("OK packet after authentication: truncated status")
	}
	info.Status, info.Warnings = le16(rest), le16(rest[2:])
	rest = rest[4:]
	if caps&mysql.CLIENT_SESSION_TRACK == 0 || len(rest) == 0 {
		return nil
	}
	_, n, ok := readLenEncBytes(rest) // info
	if !ok {
		return errors.New("OK packet after authentication: malformed info")
	}
	rest = rest[n:]
	if info.Status&mysql.SERVER_SESSION_STATE_CHANGED != 0 && len(rest) > 0 {
		state, _, ok := readLenEncBytes(rest)
		if !ok {
			return errors.New("OK packet after authentication: malformed session state")
		}
		info.SessionState = append([]byte(nil), state...)
	}
	return nil
}

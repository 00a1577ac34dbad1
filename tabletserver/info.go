package tabletserver

import (
	"context"

	"database/sql"
	"github.com/go-mysql-org/go-mysql/mysql"
	"strings"
	"time"

	"github.com/vtdirect/vtdirect/flavor"
)

// ServerInfo is what a session starts from on this tablet's server: its global defaults.
type ServerInfo struct {
	Flavor flavor.Flavor
	// Autocommit is @@global.autocommit.
	Autocommit bool
	// TrackSystemVariables, TrackSchema and TrackStateChange are the server's global
	// session_track_* settings: what a client that asks for session tracking gets by default.
	TrackSystemVariables          string
	TrackSchema, TrackStateChange bool
	// Sequence: the server has MariaDB's Sequence engine (seq_1_to_N tables).
	Sequence bool
	// DefaultCollation is the id of the server's default collation (collation_server), which
	// backend connections start with: a client that asks for it in its handshake needs no SET.
	DefaultCollation uint16
	// WaitTimeout and InteractiveTimeout are the global wait_timeout and interactive_timeout
	// (seconds): how long MariaDB lets an idle session be.
	WaitTimeout, InteractiveTimeout int64
	// SQLMode is the global sql_mode.
	SQLMode string
	// Collations are the collations the server knows, by id (a client may send any in its
	// handshake; MariaDB uses its default for one it does not know).
	Collations map[uint16]Collation
	// TrackVars are the session variables a session can set, comma-separated: what the
	// gateway's tracking asks the server to report. Not '*': that would also report the
	// read-only ones that change by themselves (MariaDB's last_gtid, after every commit).
	TrackVars string
}

// Collation is one of the server's collations and its character set.
type Collation struct{ Name, Charset string }

// Info returns the server's defaults, once a probe has read them.
func (t *TabletServer) Info() (ServerInfo, bool) { return t.be.Info() }

// Info returns the server's defaults, once a probe has read them.
func (b *Backend) Info() (ServerInfo, bool) {
	if i := b.info.Load(); i != nil {
		return *i, true
	}
	return ServerInfo{}, false
}

// readInfo reads the server's defaults through the control connection.
func (b *Backend) readInfo(ctx context.Context, version string) error {
	db := b.control.Load()
	i := ServerInfo{Flavor: flavor.Detect(version)}
	var ac int
	var schema, state string
	if err := db.QueryRowContext(ctx, "SELECT @@global.autocommit, @@global.session_track_system_variables, "+
		"@@global.session_track_schema, @@global.session_track_state_change, @@global.wait_timeout, @@global.interactive_timeout, @@global.sql_mode, "+
		"(SELECT ID FROM information_schema.COLLATIONS WHERE COLLATION_NAME = @@global.collation_server)").
		Scan(&ac, &i.TrackSystemVariables, &schema, &state, &i.WaitTimeout, &i.InteractiveTimeout, &i.SQLMode, &i.DefaultCollation); err != nil {
		return err
	}
	i.Autocommit = ac != 0
	i.TrackSchema, i.TrackStateChange = isOn(schema), isOn(state)
	i.Sequence = i.Flavor.Kind == flavor.MariaDB
	rows, err := db.QueryContext(ctx, "SELECT ID, COLLATION_NAME, CHARACTER_SET_NAME FROM information_schema.COLLATIONS WHERE ID IS NOT NULL")
	if err != nil {
		return err
	}
	defer rows.Close()
	i.Collations = make(map[uint16]Collation)
	for rows.Next() {
		var id sql.NullInt64
		var c Collation
		if err := rows.Scan(&id, &c.Name, &c.Charset); err != nil {
			return err
		}
		if id.Valid && id.Int64 >= 0 && id.Int64 < 1<<16 {
			i.Collations[uint16(id.Int64)] = c
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	vars, err := db.QueryContext(ctx, "SELECT LOWER(VARIABLE_NAME) FROM information_schema.SYSTEM_VARIABLES "+
		"WHERE VARIABLE_SCOPE IN ('SESSION', 'SESSION ONLY') AND READ_ONLY = 'NO' ORDER BY 1")
	if err != nil {
		return err
	}
	defer vars.Close()
	var names []string
	for vars.Next() {
		var n string
		if err := vars.Scan(&n); err != nil {
			return err
		}
		names = append(names, n)
	}
	if err := vars.Err(); err != nil {
		return err
	}
	i.TrackVars = strings.Join(names, ",")
	b.info.Store(&i)
	return nil
}

// ensureInfo reads the server's defaults if no probe has yet (a connection is dialed before
// the first probe ends).
func (b *Backend) ensureInfo(ctx context.Context) error {
	if b.info.Load() != nil {
		return nil
	}
	b.infoMu.Lock()
	defer b.infoMu.Unlock()
	if b.info.Load() != nil {
		return nil
	}
	var version string
	if err := b.control.Load().QueryRowContext(ctx, "SELECT @@version").Scan(&version); err != nil {
		return err
	}
	return b.readInfo(ctx, version)
}

// baseTracking is what every backend connection runs after its handshake and after each
// COM_RESET_CONNECTION: report every session variable the session changes, the schema, and
// any other state change, in every OK (clients get only what they asked for: track.go).
func (b *Backend) baseTracking() string {
	vars := "*"
	if i := b.info.Load(); i != nil && i.TrackVars != "" {
		vars = i.TrackVars
	}
	return "SET SESSION session_track_system_variables = '" + vars + "', session_track_schema = ON, session_track_state_change = ON"
}

// freshState is what makes a new connection, or one that was reset (COM_RESET_CONNECTION,
// which gives the global defaults), what a fresh connection of a client with caps is: the
// gateway's tracking, and what the handshake's flags gave (CLIENT_IGNORE_SPACE adds
// IGNORE_SPACE to sql_mode, CLIENT_INTERACTIVE makes wait_timeout interactive_timeout).
//
// Its sql_mode is the global value the probe read (ServerInfo.SQLMode), not the server's of
// the moment: the router reads a session's statements with that value until the session sets
// one (router/sqlmode.go), and a SET GLOBAL sql_mode made on the server since would have
// new connections read "db"."t" (ANSI_QUOTES) where the router reads strings. A new global
// sql_mode reaches the gateway's connections when the gateway restarts.
func (b *Backend) freshState(caps uint32) string {
	q := b.baseTracking()
	mode := "@@global.sql_mode"
	i := b.info.Load()
	if i != nil {
		mode = "'" + strings.ReplaceAll(i.SQLMode, "'", "''") + "'" // names and commas only
	}
	switch {
	case caps&mysql.CLIENT_IGNORE_SPACE != 0:
		q += ", sql_mode = CONCAT_WS(',', NULLIF(" + mode + ", ''), 'IGNORE_SPACE')"
	case i != nil:
		q += ", sql_mode = " + mode
	}
	if caps&mysql.CLIENT_INTERACTIVE != 0 {
		q += ", wait_timeout = @@global.interactive_timeout"
	}
	return q
}

func isOn(v string) bool { return v == "1" || strings.EqualFold(v, "ON") }

// defaultWait is the wait_timeout the server gives a connection of a client with caps (its
// interactive_timeout for CLIENT_INTERACTIVE); 0 before the defaults are known.
func (b *Backend) defaultWait(caps uint32) time.Duration {
	i := b.info.Load()
	if i == nil {
		return 0
	}
	secs := i.WaitTimeout
	if caps&mysql.CLIENT_INTERACTIVE != 0 {
		secs = i.InteractiveTimeout
	}
	return time.Duration(secs) * time.Second
}

package sharding

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/vtdirect/vtdirect/acl"
	"github.com/vtdirect/vtdirect/gateway"
)

// secretOnMinus80 makes, on shard -80's server, a table commerce.<table> holding 'secret'
// (keyspaces share servers: keyspace commerce's database there), and restores the server's
// global sql_mode and drops what it made when the test ends. It returns a connection to the
// server.
func secretOnMinus80(t *testing.T, table string) *sql.DB {
	t.Helper()
	ctx := t.Context()
	direct := shardDB(t, sharded.Primary("-80").Alias())
	var old string
	var had int
	if err := direct.QueryRowContext(ctx, "SELECT @@global.sql_mode, (SELECT COUNT(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = 'commerce')").
		Scan(&old, &had); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		direct.ExecContext(ctx, "SET GLOBAL sql_mode = ?", old)
		direct.ExecContext(ctx, "DROP TABLE IF EXISTS commerce."+table)
		if had == 0 {
			direct.ExecContext(ctx, "DROP DATABASE IF EXISTS commerce")
		}
	})
	for _, q := range []string{"CREATE DATABASE IF NOT EXISTS commerce", "CREATE TABLE commerce." + table + " (v VARCHAR(20))",
		"INSERT INTO commerce." + table + " VALUES ('secret')"} {
		if _, err := direct.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	return direct
}

// setANSIQuotes adds ANSI_QUOTES to the server's global sql_mode (secretOnMinus80 restores it).
func setANSIQuotes(t *testing.T, direct *sql.DB) {
	t.Helper()
	if _, err := direct.ExecContext(t.Context(), "SET GLOBAL sql_mode = CONCAT_WS(',', NULLIF(@@global.sql_mode, ''), 'ANSI_QUOTES')"); err != nil {
		t.Fatal(err)
	}
}

// customerOnlyGateway is a new gateway (its probes read the servers' defaults now) with user
// cust limited to keyspace customer, and cust's connection to customer:-80.
func customerOnlyGateway(t *testing.T) *sql.Conn {
	t.Helper()
	policy, err := acl.New(acl.Config{Users: map[string]acl.UserConfig{"cust": {Keyspaces: map[string]acl.Right{"customer": acl.Write}}}})
	if err != nil {
		t.Fatal(err)
	}
	g := newGateway(t, func(c *gateway.Config) {
		c.Users = map[string]string{"cust": "cust-pw"}
		c.Access = policy
	})
	return conn(t, openDB(t, fmt.Sprintf("cust:cust-pw@tcp(%s)/customer:-80", g.MySQLAddr())))
}

// TestGlobalSQLModeOfTheTargetsServer: the servers of a gateway may have different global
// sql_modes, and a session that sets none reads its statements as its target's server does.
// Shard -80's server runs with ANSI_QUOTES (commerce's does not): there "db"."t" names a table,
// and a user limited to keyspace customer must not read keyspace commerce's database through
// it. (The gateway took the first tablet's sql_mode for every session: it read two strings,
// and the user read commerce.e2e_secret.)
func TestGlobalSQLModeOfTheTargetsServer(t *testing.T) {
	ctx := t.Context()
	setANSIQuotes(t, secretOnMinus80(t, "e2e_secret"))
	c := customerOnlyGateway(t)
	var mode string
	if err := c.QueryRowContext(ctx, "SELECT @@session.sql_mode").Scan(&mode); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(mode, "ANSI_QUOTES") {
		t.Fatalf("the session's sql_mode on -80 is %s, without the server's ANSI_QUOTES", mode)
	}
	_, err := c.ExecContext(ctx, `SELECT v FROM "commerce"."e2e_secret"`)
	mysqlErr(t, err, 1044)
	// its own tables, with a quoted name, as MariaDB reads it there
	queryInt(t, c, `SELECT COUNT(*) FROM "customer"`)
}

// TestGlobalSQLModeChangedUnderTheGateway: a SET GLOBAL sql_mode on a server after the gateway
// read its defaults does not reach the gateway's backend connections: they keep the mode the
// gateway reads their sessions' statements with (until it restarts). Were a new connection to
// take the new global ANSI_QUOTES, "commerce"."e2e_secret2" would name a table there while the
// gateway reads two strings, and a user limited to customer would read commerce's table.
func TestGlobalSQLModeChangedUnderTheGateway(t *testing.T) {
	ctx := t.Context()
	direct := secretOnMinus80(t, "e2e_secret2")
	c := customerOnlyGateway(t)
	setANSIQuotes(t, direct)
	var mode string
	if err := c.QueryRowContext(ctx, "SELECT @@session.sql_mode").Scan(&mode); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(mode, "ANSI_QUOTES") {
		t.Errorf("a backend connection took the server's new global sql_mode: %s", mode)
	}
	var v string
	if err := c.QueryRowContext(ctx, `SELECT v FROM "commerce"."e2e_secret2"`).Scan(&v); err == nil {
		t.Errorf("a user limited to customer read commerce's table: %q", v)
	}
}

package sharding

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/vtdirect/vtdirect/acl"
	"github.com/vtdirect/vtdirect/gateway"
)

// TestGlobalSQLModeOfTheTargetsServer: the servers of a gateway may have different global
// sql_modes, and a session that sets none reads its statements as its target's server does.
// Shard -80's server runs with ANSI_QUOTES (commerce's does not): there "db"."t" names a table,
// and a user limited to keyspace customer must not read keyspace commerce's database through
// it (one is made on -80's server for the test: keyspaces share servers). (The gateway took
// the first tablet's sql_mode for every session: it read two strings, and the user read
// commerce.e2e_secret.)
func TestGlobalSQLModeOfTheTargetsServer(t *testing.T) {
	ctx := t.Context()
	direct := shardDB(t, sharded.Primary("-80").Alias())
	var old string
	if err := direct.QueryRowContext(ctx, "SELECT @@global.sql_mode").Scan(&old); err != nil {
		t.Fatal(err)
	}
	var had int
	if err := direct.QueryRowContext(ctx, "SELECT COUNT(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = 'commerce'").Scan(&had); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{"CREATE DATABASE IF NOT EXISTS commerce", "CREATE TABLE commerce.e2e_secret (v VARCHAR(20))",
		"INSERT INTO commerce.e2e_secret VALUES ('secret')", "SET GLOBAL sql_mode = CONCAT_WS(',', NULLIF(@@global.sql_mode, ''), 'ANSI_QUOTES')"} {
		if _, err := direct.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		direct.ExecContext(ctx, "SET GLOBAL sql_mode = ?", old)
		direct.ExecContext(ctx, "DROP TABLE IF EXISTS commerce.e2e_secret")
		if had == 0 {
			direct.ExecContext(ctx, "DROP DATABASE IF EXISTS commerce")
		}
	})
	policy, err := acl.New(acl.Config{Users: map[string]acl.UserConfig{"cust": {Keyspaces: map[string]acl.Right{"customer": acl.Write}}}})
	if err != nil {
		t.Fatal(err)
	}
	g := newGateway(t, func(c *gateway.Config) { // a new gateway: its probes read the server's defaults
		c.Users = map[string]string{"cust": "cust-pw"}
		c.Access = policy
	})
	c := conn(t, openDB(t, fmt.Sprintf("cust:cust-pw@tcp(%s)/customer:-80", g.MySQLAddr())))
	var mode string
	if err := c.QueryRowContext(ctx, "SELECT @@session.sql_mode").Scan(&mode); err != nil {
		t.Fatal(err)
	}
	t.Logf("the session's sql_mode on -80: %s", mode)
	_, err = c.ExecContext(ctx, `SELECT v FROM "commerce"."e2e_secret"`)
	mysqlErr(t, err, 1044)
	// its own tables, with a quoted name, as MariaDB reads it there
	if n := queryInt(t, c, `SELECT COUNT(*) FROM "customer"`); n < 0 {
		t.Fatal("count")
	}
}

// TestGlobalSQLModeChangedUnderTheGateway: a SET GLOBAL sql_mode on a server after the gateway
// read its defaults does not reach the gateway's backend connections: they keep the mode the
// gateway reads their sessions' statements with (until it restarts). Were a new connection to
// take the new global ANSI_QUOTES, "commerce"."e2e_secret" would name a table there while the
// gateway reads two strings, and a user limited to customer would read commerce's table.
func TestGlobalSQLModeChangedUnderTheGateway(t *testing.T) {
	ctx := t.Context()
	direct := shardDB(t, sharded.Primary("-80").Alias())
	var old string
	if err := direct.QueryRowContext(ctx, "SELECT @@global.sql_mode").Scan(&old); err != nil {
		t.Fatal(err)
	}
	var had int
	if err := direct.QueryRowContext(ctx, "SELECT COUNT(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = 'commerce'").Scan(&had); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		direct.ExecContext(ctx, "SET GLOBAL sql_mode = ?", old)
		direct.ExecContext(ctx, "DROP TABLE IF EXISTS commerce.e2e_secret2")
		if had == 0 {
			direct.ExecContext(ctx, "DROP DATABASE IF EXISTS commerce")
		}
	})
	for _, q := range []string{"CREATE DATABASE IF NOT EXISTS commerce", "CREATE TABLE commerce.e2e_secret2 (v VARCHAR(20))",
		"INSERT INTO commerce.e2e_secret2 VALUES ('secret')"} {
		if _, err := direct.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	policy, err := acl.New(acl.Config{Users: map[string]acl.UserConfig{"cust": {Keyspaces: map[string]acl.Right{"customer": acl.Write}}}})
	if err != nil {
		t.Fatal(err)
	}
	g := newGateway(t, func(c *gateway.Config) {
		c.Users = map[string]string{"cust": "cust-pw"}
		c.Access = policy
	})
	if _, err := direct.ExecContext(ctx, "SET GLOBAL sql_mode = CONCAT_WS(',', NULLIF(@@global.sql_mode, ''), 'ANSI_QUOTES')"); err != nil {
		t.Fatal(err)
	}
	c := conn(t, openDB(t, fmt.Sprintf("cust:cust-pw@tcp(%s)/customer:-80", g.MySQLAddr())))
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

package e2e

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	binlogdatapb "vitess.io/vitess/go/vt/proto/binlogdata"
	querypb "vitess.io/vitess/go/vt/proto/query"
	topodatapb "vitess.io/vitess/go/vt/proto/topodata"
	vtgatepb "vitess.io/vitess/go/vt/proto/vtgate"
	"vitess.io/vitess/go/vt/proto/vtgateservice"

	"github.com/vtdirect/vtdirect/acl"
	"github.com/vtdirect/vtdirect/local"
)

// The gateway's access rules, as users meet them: statements acting beyond the session are
// refused before they leave the gateway (MariaDB's general log shows they never arrived), an
// admin runs them, KILL and SHOW PROCESSLIST see only the user's own sessions, and a user
// limited to one keyspace reads no other through any path.

// securePolicy: app and other are ordinary users (every keyspace, no admin), ops is an admin,
// cust may use the keyspace customer only.
func securePolicy(t *testing.T) *acl.Policy {
	t.Helper()
	p, err := acl.New(acl.Config{Users: map[string]acl.UserConfig{
		"ops":  {Admin: true},
		"cust": {Keyspaces: map[string]acl.Right{"customer": acl.Write}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func secureGateway(t *testing.T, change func(*gatewayConfigT)) *gatewayT {
	return newGateway(t, func(c *gatewayConfigT) {
		c.Users = map[string]string{"app": "app", "other": "secret", "ops": "ops-pw", "cust": "cust-pw"}
		c.Access = securePolicy(t)
		if change != nil {
			change(c)
		}
	})
}

func userDSN(g *gatewayT, user, pass, target string, params ...string) string {
	d := fmt.Sprintf("%s:%s@tcp(%s)/%s", user, pass, g.MySQLAddr(), target)
	if len(params) > 0 {
		d += "?" + strings.Join(params, "&")
	}
	return d
}

// generalLog turns MariaDB's general log on (into mysql.general_log) on every tablet for the
// test; arrived counts the statements holding token that reached any of them.
type generalLog struct{ dbs []*sql.DB }

func startGeneralLog(t *testing.T) *generalLog {
	t.Helper()
	gl := &generalLog{}
	for _, tab := range cluster.Tablets() {
		db := directDB(t, tab.Alias())
		db.SetMaxOpenConns(1)
		for _, q := range []string{"SET GLOBAL log_output = 'TABLE'", "SET GLOBAL general_log = ON"} {
			if _, err := db.ExecContext(t.Context(), q); err != nil {
				t.Fatalf("%s on %s: %v", q, tab.Alias(), err)
			}
		}
		gl.dbs = append(gl.dbs, db)
	}
	t.Cleanup(func() {
		// The log stays (tokens are unique): TRUNCATE is binlogged, and on a replica it
		// would write a GTID of its own that breaks its replication.
		for _, db := range gl.dbs {
			db.Exec("SET GLOBAL general_log = OFF")
		}
	})
	return gl
}

// arrived counts the logged statements that contain token (written here in two halves, so
// this query does not count itself).
func (gl *generalLog) arrived(t *testing.T, token string) int64 {
	t.Helper()
	half := len(token) / 2
	var n int64
	for _, db := range gl.dbs {
		n += queryInt(t, db, "SELECT COUNT(*) FROM mysql.general_log WHERE CONVERT(argument USING utf8mb4) LIKE CONCAT('%', ?, ?, '%')",
			token[:half], token[half:])
	}
	return n
}

// statements lists the logged statements that contain token, with the tablet they reached.
func (gl *generalLog) statements(t *testing.T, token string) []string {
	t.Helper()
	half := len(token) / 2
	var out []string
	for i, db := range gl.dbs {
		rows, err := db.QueryContext(t.Context(), "SELECT CONVERT(argument USING utf8mb4) FROM mysql.general_log WHERE CONVERT(argument USING utf8mb4) LIKE CONCAT('%', ?, ?, '%')",
			token[:half], token[half:])
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var s string
			rows.Scan(&s)
			out = append(out, cluster.Tablets()[i].Alias()+": "+s)
		}
		rows.Close()
	}
	return out
}

func newToken(t *testing.T) string {
	b := make([]byte, 8)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return "tok" + hex.EncodeToString(b)
}

// beyondStatements are statements that act beyond the session, in several spellings; each
// carries the token in a comment (MariaDB logs comments).
func beyondStatements(tok string) []string {
	c := "/* " + tok + " */ "
	return []string{
		c + "SHUTDOWN", c + "shutdown", "/*!50000 ShutDown */ " + c, c + "/*M!100000 SHUTDOWN */",
		c + "SET PASSWORD = PASSWORD('x')", c + "set password for current_user() = 'x'",
		c + "ALTER USER CURRENT_USER() IDENTIFIED BY 'x'", c + "GRANT ALL ON *.* TO app", c + "CREATE USER zed IDENTIFIED BY 'z'",
		c + "STOP SLAVE", c + "stop replica", c + "RESET MASTER", c + "CHANGE MASTER TO master_host = '10.0.0.1'",
		c + "SET GLOBAL max_connections = 10", c + "SET @@global.read_only = 1", c + "set /* x */ global max_connections = 10",
		c + "FLUSH TABLES WITH READ LOCK", c + "flush /* x */ tables with read lock",
		c + "SELECT 1 INTO OUTFILE '/tmp/vtdirect-e2e-outfile'", c + "select 1 into dumpfile '/tmp/vtdirect-e2e-dumpfile'",
		c + "PREPARE s FROM @v", c + "EXECUTE IMMEDIATE @v", c + "EXECUTE IMMEDIATE 'SHUTDOWN'", c + "PREPARE s FROM 'SHUTDOWN'",
		c + "CREATE PROCEDURE p() SELECT 1", c + "CREATE FUNCTION f() RETURNS INT RETURN 1",
		c + "CREATE EVENT e ON SCHEDULE EVERY 1 DAY DO SELECT 1", c + "CREATE TRIGGER tr BEFORE INSERT ON customer FOR EACH ROW SET @x = 1",
		c + "SELECT * FROM information_schema.PROCESSLIST", c + "select info from INFORMATION_SCHEMA.processlist",
		c + "SELECT * FROM information_schema.INNODB_TRX", c + "SELECT * FROM performance_schema.threads",
		c + "SELECT * FROM sys.processlist", c + "SHOW ENGINE INNODB STATUS", c + "KILL QUERY ID 1",
		c + "SELECT 1; SHUTDOWN",
	}
}

func TestStatementsBeyondTheSessionAreRefused(t *testing.T) {
	g := secureGateway(t, nil)
	gl := startGeneralLog(t)
	tok := newToken(t)
	ctx := t.Context()
	app := openDB(t, userDSN(g, "app", "app", "commerce", "multiStatements=true"))
	appReplica := openDB(t, userDSN(g, "app", "app", "commerce@replica", "multiStatements=true"))
	defer func() {
		if arrived := gl.statements(t, tok); len(arrived) > 0 {
			t.Errorf("refused statements reached MariaDB: %q", arrived)
		}
	}()
	for _, q := range beyondStatements(tok) {
		for _, db := range []*sql.DB{app, appReplica} {
			_, err := db.ExecContext(ctx, q)
			mysqlErr(t, err, 1227)
		}
		// the prepared form (COM_STMT_PREPARE), except for a multi-statement text, which
		// MariaDB does not prepare; a KILL cannot be prepared (1235)
		if !strings.Contains(q, ";") {
			st, err := app.PrepareContext(ctx, q)
			if err == nil {
				st.Close()
			}
			if strings.Contains(q, "KILL") {
				mysqlErr(t, err, 1235)
			} else {
				mysqlErr(t, err, 1227)
			}
		}
	}
	// Replica targets refuse what is not provably a read, whoever asks.
	for _, q := range []string{"CALL p()", "DO RELEASE_LOCK('x')", "INSERT INTO customer (email) VALUES ('x')"} {
		_, err := appReplica.ExecContext(ctx, "/* "+tok+" */ "+q)
		if err == nil {
			t.Fatalf("%s on a replica target: no error", q)
		}
	}
	// The session goes on; nothing reached MariaDB.
	if got := queryInt(t, app, "SELECT 7"); got != 7 {
		t.Fatalf("SELECT 7 = %d", got)
	}

	// An admin runs them (the harmless ones: the cluster must survive the test).
	admTok := newToken(t)
	ops := openDB(t, userDSN(g, "ops", "ops-pw", "commerce"))
	c := conn(t, ops)
	var mc int64
	if err := c.QueryRowContext(ctx, "SELECT @@global.max_connect_errors").Scan(&mc); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		fmt.Sprintf("SET GLOBAL max_connect_errors = %d", mc),
		"FLUSH TABLES WITH READ LOCK", "UNLOCK TABLES",
		"SELECT COUNT(*) FROM information_schema.PROCESSLIST",
		"SELECT COUNT(*) FROM performance_schema.threads",
	} {
		if _, err := c.ExecContext(ctx, "/* "+admTok+" */ "+q); err != nil {
			t.Fatalf("admin: %s: %v", q, err)
		}
	}
	var typ, name, st string
	if err := c.QueryRowContext(ctx, "/* "+admTok+" */ SHOW ENGINE INNODB STATUS").Scan(&typ, &name, &st); err != nil || !strings.Contains(st, "TRANSACTIONS") {
		t.Fatalf("admin: SHOW ENGINE INNODB STATUS: %v", err)
	}
	if n := gl.arrived(t, admTok); n != 6 {
		t.Fatalf("%d of the admin's 6 statements reached MariaDB", n)
	}
}

func TestKillAndProcesslistSeeOwnSessions(t *testing.T) {
	g := secureGateway(t, nil)
	ctx := t.Context()
	app := openDB(t, userDSN(g, "app", "app", "commerce"))
	other := openDB(t, userDSN(g, "other", "secret", "commerce"))
	ops := openDB(t, userDSN(g, "ops", "ops-pw", "commerce"))

	mine, theirs := conn(t, app), conn(t, other)
	mineID := queryInt(t, mine, "SELECT CONNECTION_ID()")
	theirID := queryInt(t, theirs, "SELECT CONNECTION_ID()")

	t.Run("processlist", func(t *testing.T) {
		ids := processIDs(t, app, "SHOW FULL PROCESSLIST")
		if !ids[mineID] || ids[theirID] {
			t.Fatalf("app sees %v; want its session %d and not other's %d", ids, mineID, theirID)
		}
		ids = processIDs(t, ops, "SHOW PROCESSLIST")
		if !ids[mineID] || !ids[theirID] {
			t.Fatalf("the admin sees %v; want %d and %d", ids, mineID, theirID)
		}
		// a running statement shows as its text, in the gateway's id
		errc := make(chan error, 1)
		go func() {
			_, err := mine.ExecContext(ctx, "SELECT SLEEP(2) FROM dual WHERE 'e2e-processlist' <> ''")
			errc <- err
		}()
		waitFor(t, "the statement in SHOW FULL PROCESSLIST", func() bool {
			rows, err := app.QueryContext(ctx, "SHOW FULL PROCESSLIST")
			if err != nil {
				t.Fatal(err)
			}
			defer rows.Close()
			for rows.Next() {
				var id int64
				var user, host, command, state string
				var db, info sql.NullString
				var secs int64
				var progress string
				if err := rows.Scan(&id, &user, &host, &db, &command, &secs, &state, &info, &progress); err != nil {
					t.Fatal(err)
				}
				if id == mineID && command == "Query" && strings.Contains(info.String, "e2e-processlist") {
					return true
				}
			}
			return false
		})
		if err := <-errc; err != nil {
			t.Fatal(err)
		}
	})
	t.Run("kill", func(t *testing.T) {
		_, err := app.ExecContext(ctx, fmt.Sprintf("KILL %d", theirID))
		mysqlErr(t, err, 1095)
		_, err = app.ExecContext(ctx, fmt.Sprintf("KILL QUERY %d", theirID))
		mysqlErr(t, err, 1095)
		_, err = app.ExecContext(ctx, "KILL USER other")
		mysqlErr(t, err, 1095)
		_, err = app.ExecContext(ctx, "KILL QUERY ID 1")
		mysqlErr(t, err, 1227)
		_, err = app.ExecContext(ctx, fmt.Sprintf("KILL (%d)", theirID))
		if err == nil {
			t.Fatal("KILL of an expression: no error")
		}
		// a prepared KILL would name a MariaDB thread with the gateway's id: refused
		st, err := app.PrepareContext(ctx, fmt.Sprintf("KILL %d", theirID))
		if err == nil {
			st.Close()
			t.Fatal("prepared KILL: no error")
		}
		if err := theirs.PingContext(ctx); err != nil {
			t.Fatalf("other's session was hurt: %v", err)
		}
		// the admin kills any session, and a user's sessions by name
		if _, err := ops.ExecContext(ctx, "KILL USER 'other'@'%'"); err != nil {
			t.Fatal(err)
		}
		waitFor(t, "other's session to be closed", func() bool { return theirs.PingContext(ctx) != nil })
		if err := mine.PingContext(ctx); err != nil {
			t.Fatalf("app's session was killed by KILL USER other: %v", err)
		}
	})
}

func processIDs(t *testing.T, db *sql.DB, q string) map[int64]bool {
	t.Helper()
	rows, err := db.QueryContext(t.Context(), q)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	ids := map[int64]bool{}
	for rows.Next() {
		vals := make([]any, len(cols))
		var id int64
		vals[0] = &id
		for i := 1; i < len(vals); i++ {
			vals[i] = new(sql.RawBytes)
		}
		if err := rows.Scan(vals...); err != nil {
			t.Fatal(err)
		}
		ids[id] = true
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return ids
}

// addSharedKeyspace adds keyspace ks whose database (named ks, with a table t holding one
// row) is on the shared cluster's primary, as keyspaces share a server; cleanup removes it.
func addSharedKeyspace(t *testing.T, ks string) {
	t.Helper()
	ctx := t.Context()
	primary := cluster.Primary()
	pdb := directDB(t, primary.Alias())
	for _, q := range []string{
		"CREATE DATABASE IF NOT EXISTS " + ks,
		"CREATE TABLE IF NOT EXISTS " + ks + ".t (id INT PRIMARY KEY, v VARCHAR(20))",
		"REPLACE INTO " + ks + ".t VALUES (1, 'only " + ks + "')",
	} {
		if _, err := pdb.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	rec := proto.Clone(primary.Record).(*topodatapb.Tablet)
	rec.Alias = &topodatapb.TabletAlias{Cell: rec.Alias.Cell, Uid: 900}
	rec.Keyspace, rec.DbNameOverride = ks, ks
	ts := cluster.Topo
	if err := ts.CreateKeyspace(ctx, ks, &topodatapb.Keyspace{}); err != nil {
		t.Fatal(err)
	}
	if err := ts.CreateShard(ctx, ks, rec.Shard); err != nil {
		t.Fatal(err)
	}
	if err := local.PutTablet(ctx, ts, rec); err != nil {
		t.Fatal(err)
	}
	if err := ts.SetShardPrimary(ctx, ks, rec.Shard, rec.Alias, time.Now()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx := context.Background()
		_ = ts.DeleteTablet(ctx, rec.Alias)
		_ = ts.DeleteShard(ctx, ks, rec.Shard)
		_ = ts.DeleteKeyspace(ctx, ks)
		pdb.ExecContext(ctx, "DROP DATABASE IF EXISTS "+ks)
	})
}

func TestUserLimitedToOneKeyspace(t *testing.T) {
	g := customerGateway(t)
	ctx := t.Context()

	// its own keyspace works
	cust := openDB(t, userDSN(g, "cust", "cust-pw", "customer"))
	if got := queryString(t, cust, "SELECT v FROM t WHERE id = 1"); got != "only customer" {
		t.Fatalf("own keyspace: %q", got)
	}
	// MySQL protocol: the handshake's database, USE, qualified names, SHOW ... FROM, prepared
	_, err := openDB(t, userDSN(g, "cust", "cust-pw", "commerce")).ExecContext(ctx, "SELECT 1")
	mysqlErr(t, err, 1044)
	c := conn(t, cust)
	_, err = c.ExecContext(ctx, "USE commerce")
	mysqlErr(t, err, 1044)
	for _, q := range []string{
		"SELECT * FROM commerce.customer", "select * from `commerce`.`customer`", "SELECT * FROM t JOIN commerce.customer",
		"SELECT (SELECT COUNT(*) FROM /* x */ commerce . customer)", "SHOW TABLES FROM commerce", "INSERT INTO t SELECT 5, email FROM commerce.customer",
	} {
		_, err := c.ExecContext(ctx, q)
		mysqlErr(t, err, 1044)
		st, err := c.PrepareContext(ctx, q)
		if err == nil {
			st.Close()
		}
		mysqlErr(t, err, 1044)
	}
	// A text prepared as one string literal reads as a subquery of commerce under
	// NO_BACKSLASH_ESCAPES, the mode a backend connection that prepares it again now has:
	// its execution is refused, whichever backend connection it would reach.
	tricky, err := c.PrepareContext(ctx, "SELECT 'x\\', (SELECT COUNT(*) FROM commerce.customer) -- '")
	if err != nil {
		t.Fatalf("prepare of a string literal: %v", err)
	}
	if _, err := c.ExecContext(ctx, "SET sql_mode = 'NO_BACKSLASH_ESCAPES'"); err != nil {
		t.Fatal(err)
	}
	var got1, got2 string
	err = tricky.QueryRowContext(ctx).Scan(&got1, &got2)
	mysqlErr(t, err, 1044)
	tricky.Close()
	// Under ANSI_QUOTES, @"..." is a quoted name with no backslash escapes: @"a\" ends at its
	// second quote and the subquery on commerce is code (the gateway had read one string and
	// answered 20 rows of commerce.customer).
	if _, err := c.ExecContext(ctx, "SET sql_mode = 'ANSI_QUOTES'"); err != nil {
		t.Fatal(err)
	}
	_, err = c.ExecContext(ctx, `SELECT @"a\", (SELECT COUNT(*) FROM commerce.customer) -- "`)
	mysqlErr(t, err, 1044)
	if _, err := c.ExecContext(ctx, "SET sql_mode = DEFAULT"); err != nil {
		t.Fatal(err)
	}
	var dbs []string
	rows, err := cust.QueryContext(ctx, "SHOW DATABASES")
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var d string
		rows.Scan(&d)
		dbs = append(dbs, d)
	}
	rows.Close()
	if strings.Join(dbs, ",") != "customer" {
		t.Fatalf("SHOW DATABASES for cust: %v", dbs)
	}
	// an ordinary user reads both
	app := openDB(t, userDSN(g, "app", "app", "customer"))
	if n := queryInt(t, app, "SELECT COUNT(*) FROM commerce.customer"); n == 0 {
		t.Fatal("app reads no rows of commerce.customer")
	}

	// gRPC Execute
	vc := grpcClientOf(t, g, "cust", "cust-pw")
	for _, tc := range []struct{ target, sql string }{
		{"commerce", "SELECT * FROM customer"},
		{"customer", "SELECT * FROM commerce.customer"},
		{"customer", "SHOW TABLES FROM commerce"},
	} {
		resp, err := vc.Execute(ctx, &vtgatepb.ExecuteRequest{
			Session: &vtgatepb.Session{TargetString: tc.target, Autocommit: true},
			Query:   &querypb.BoundQuery{Sql: tc.sql},
		})
		if err != nil {
			t.Fatal(err)
		}
		if resp.Error == nil || !strings.Contains(resp.Error.Message, "1044") && !strings.Contains(resp.Error.Message, "denied") {
			t.Fatalf("gRPC Execute %q in %s: error %v, want access denied", tc.sql, tc.target, resp.Error)
		}
	}
	resp, err := vc.Execute(ctx, &vtgatepb.ExecuteRequest{
		Session: &vtgatepb.Session{TargetString: "customer", Autocommit: true},
		Query:   &querypb.BoundQuery{Sql: "SELECT v FROM t"},
	})
	if err != nil || resp.Error != nil || len(resp.Result.GetRows()) != 1 {
		t.Fatalf("gRPC Execute in its own keyspace: %v, %v", err, resp.GetError())
	}

	// VStream
	for _, filter := range []*binlogdatapb.Filter{nil, {Rules: []*binlogdatapb.Rule{{Match: "customer"}}}, {Rules: []*binlogdatapb.Rule{{Match: "/.*"}}}} {
		stream, err := vc.VStream(ctx, &vtgatepb.VStreamRequest{
			TabletType: topodatapb.TabletType_PRIMARY,
			Vgtid:      &binlogdatapb.VGtid{ShardGtids: []*binlogdatapb.ShardGtid{{Keyspace: "commerce", Shard: "0", Gtid: "current"}}},
			Filter:     filter,
		})
		if err != nil {
			t.Fatal(err)
		}
		_, err = stream.Recv()
		if status.Code(err) != codes.PermissionDenied {
			t.Fatalf("VStream of commerce (filter %v): %v, want PermissionDenied", filter, err)
		}
	}
}

// customerGateway adds keyspace customer on the shared server (addSharedKeyspace) and
// returns a secureGateway that serves it; user cust may use only that keyspace.
func customerGateway(t *testing.T) *gatewayT {
	t.Helper()
	addSharedKeyspace(t, "customer")
	g := secureGateway(t, nil)
	if err := waitServing(t.Context(), g, "zone1-900"); err != nil {
		t.Fatal(err)
	}
	return g
}

func grpcClientOf(t *testing.T, g *gatewayT, user, pass string, opts ...grpc.DialOption) vtgateservice.VitessClient {
	t.Helper()
	if len(opts) == 0 {
		opts = []grpc.DialOption{grpc.WithTransportCredentials(insecure.NewCredentials())}
	}
	opts = append(opts, grpc.WithPerRPCCredentials(staticCreds{user, pass}))
	cc, err := grpc.NewClient(g.GRPCAddr(), opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cc.Close() })
	return vtgateservice.NewVitessClient(cc)
}

// TestInformationSchemaOfOwnKeyspaces: a user limited to one keyspace sees in
// information_schema only that keyspace's database (and information_schema's own tables),
// through every spelling and the prepared form, with the same rows as MariaDB gives for them.
func TestInformationSchemaOfOwnKeyspaces(t *testing.T) {
	g := customerGateway(t)
	ctx := t.Context()
	cust := openDB(t, userDSN(g, "cust", "cust-pw", "customer"))
	app := openDB(t, userDSN(g, "app", "app", "customer"))
	direct := directDB(t, cluster.Primary().Alias())
	schemas := func(db *sql.DB, q string, args ...any) map[string]int {
		t.Helper()
		rows, err := db.QueryContext(ctx, q, args...)
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		defer rows.Close()
		out := map[string]int{}
		for rows.Next() {
			var s sql.NullString
			if err := rows.Scan(&s); err != nil {
				t.Fatal(err)
			}
			out[s.String]++ // NULL as ""
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		return out
	}
	for _, q := range []string{
		"SELECT TABLE_SCHEMA FROM information_schema.TABLES",
		"select `table_schema` from `INFORMATION_SCHEMA` /* c */ . `tables` t where t.table_schema <> ''",
		"SELECT SCHEMA_NAME FROM information_schema.SCHEMATA",
		"SELECT c.TABLE_SCHEMA FROM information_schema.COLUMNS AS c JOIN information_schema.TABLES USING (TABLE_SCHEMA, TABLE_NAME)",
		"SELECT s.TABLE_SCHEMA FROM information_schema.STATISTICS s WHERE (s.TABLE_SCHEMA, s.TABLE_NAME) IN (SELECT TABLE_SCHEMA, TABLE_NAME FROM information_schema.TABLES)",
		"SELECT /*!TABLE_SCHEMA FROM information_schema.KEY_COLUMN_USAGE*/",
	} {
		got := schemas(cust, q)
		for s := range got {
			if s != "customer" && s != "information_schema" && s != "" {
				t.Errorf("%s: cust sees database %q", q, s)
			}
		}
		if len(got) == 0 {
			t.Errorf("%s: cust sees nothing", q)
		}
		// The same rows as MariaDB gives for those databases.
		want := schemas(direct, q)
		for s := range want {
			if s != "customer" && s != "information_schema" && s != "" {
				delete(want, s)
			}
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%s: cust gets %v, MariaDB has %v for its databases", q, got, want)
		}
		if all := schemas(app, q); all["commerce"] == 0 && strings.Contains(q, "TABLES") {
			t.Errorf("%s: an ordinary user sees no commerce table: %v", q, all)
		}
	}
	// the prepared form, with a placeholder (go-sql-driver prepares on the server)
	if got := schemas(cust, "SELECT TABLE_SCHEMA FROM information_schema.COLUMNS WHERE TABLE_SCHEMA IN (?, ?)", "commerce", "customer"); got["commerce"] != 0 || got["customer"] == 0 {
		t.Errorf("prepared COLUMNS: %v", got)
	}
	if n := queryInt(t, cust, "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = 'commerce'"); n != 0 {
		t.Errorf("cust counts %d commerce tables", n)
	}
	// the columns of an information_schema table, and its own tables, stay visible
	var field, typ, null, key string
	var def sql.NullString
	var extra string
	if err := cust.QueryRowContext(ctx, "DESCRIBE information_schema.TABLES TABLE_SCHEMA").Scan(&field, &typ, &null, &key, &def, &extra); err != nil || field != "TABLE_SCHEMA" {
		t.Errorf("DESCRIBE: %v %q", err, field)
	}
	// texts the gateway cannot rewrite
	for _, q := range []string{"PREPARE s FROM 'SELECT TABLE_SCHEMA FROM information_schema.TABLES'", "EXECUTE IMMEDIATE 'SELECT * FROM INFORMATION_SCHEMA.COLUMNS'"} {
		_, err := cust.ExecContext(ctx, q)
		mysqlErr(t, err, 1142)
	}
	// gRPC Execute
	vc := grpcClientOf(t, g, "cust", "cust-pw")
	resp, err := vc.Execute(ctx, &vtgatepb.ExecuteRequest{
		Session: &vtgatepb.Session{TargetString: "customer", Autocommit: true},
		Query:   &querypb.BoundQuery{Sql: "SELECT DISTINCT TABLE_SCHEMA FROM information_schema.TABLES"},
	})
	if err != nil || resp.Error != nil {
		t.Fatalf("gRPC Execute: %v %v", err, resp.GetError())
	}
	for _, r := range resp.Result.GetRows() {
		if s := string(r.Values); s != "customer" && s != "information_schema" {
			t.Errorf("gRPC Execute: cust sees database %q", s)
		}
	}
}

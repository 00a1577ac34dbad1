package e2e

import (
	"context"
	"database/sql"
	"errors"
	"io"
	"testing"
	"time"

	binlogdatapb "vitess.io/vitess/go/vt/proto/binlogdata"
	topodatapb "vitess.io/vitess/go/vt/proto/topodata"
	vtgatepb "vitess.io/vitess/go/vt/proto/vtgate"

	"github.com/vtdirect/vtdirect/gateway"
	"github.com/vtdirect/vtdirect/local"
)

// The gateway works with least-privilege backend users, as `vtdirect local up` makes them: a
// data-path user with local.AppPrivileges on the keyspace's database only (nothing on *.*: no
// SUPER, READ ONLY ADMIN, replication, PROCESS, nor SELECT on mysql.*), the admin user for the
// control connection (the replicas' health needs SHOW SLAVE STATUS, a query timeout KILL
// QUERY) and a change-stream user with local.FilteredPrivileges (REPLICATION SLAVE, BINLOG
// MONITOR, SLAVE MONITOR) and SELECT on the keyspace's database for VStream. Every tablet
// serves, replicas answer, temporary tables and FOUND_ROWS() work, a timed-out query is killed
// on the server and a stream delivers a row.
func TestLeastPrivilegeBackendUsers(t *testing.T) {
	ctx := t.Context()
	dba, err := sql.Open("mysql", cluster.Primary().MariaDB.DBADSN(""))
	if err != nil {
		t.Fatal(err)
	}
	defer dba.Close()
	// Made on the primary, the accounts reach the replicas by replication.
	for _, s := range []string{
		"CREATE USER 'lp_app'@'%' IDENTIFIED BY 'lp_app'",
		"GRANT " + local.AppPrivileges + " ON `" + local.GrantDB("commerce") + "`.* TO 'lp_app'@'%'",
		"CREATE USER 'lp_filtered'@'%' IDENTIFIED BY 'lp_filtered'",
		"GRANT " + local.FilteredPrivileges + " ON *.* TO 'lp_filtered'@'%'",
		"GRANT SELECT ON `" + local.GrantDB("commerce") + "`.* TO 'lp_filtered'@'%'",
		"CREATE TABLE IF NOT EXISTS commerce.e2e_lp (id INT PRIMARY KEY, v VARCHAR(20))",
	} {
		if _, err := dba.ExecContext(ctx, s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
	t.Cleanup(func() {
		for _, s := range []string{"DROP USER IF EXISTS 'lp_app'@'%', 'lp_filtered'@'%'", "DROP TABLE IF EXISTS commerce.e2e_lp"} {
			_, _ = dba.ExecContext(context.Background(), s)
		}
	})
	for _, alias := range []string{"zone1-101", "zone2-200"} {
		if cluster.Tablet(alias) == nil {
			continue
		}
		if err := waitCaughtUp(t, alias); err != nil {
			t.Fatal(err)
		}
	}
	// MariaDB refuses the data-path user what the control connection does.
	replica := cluster.Tablet("zone1-101").MariaDB
	lp, err := sql.Open("mysql", "lp_app:lp_app@tcp("+replica.Addr()+")/")
	if err != nil {
		t.Fatal(err)
	}
	defer lp.Close()
	_, err = lp.ExecContext(ctx, "SHOW SLAVE STATUS")
	mysqlErr(t, err, 1227)
	// Nor may it read beyond the keyspace's database.
	_, err = lp.ExecContext(ctx, "SELECT * FROM mysql.user")
	mysqlErr(t, err, 1142)

	g := newGateway(t, func(c *gateway.Config) { // newGateway waits for every tablet to serve
		c.TabletServer.User, c.TabletServer.Password = "lp_app", "lp_app"
		c.TabletServer.ControlUser, c.TabletServer.ControlPassword = cluster.DBAUser(), cluster.DBAPassword()
		c.TabletServer.QueryTimeout = 300 * time.Millisecond
		c.VStream.User, c.VStream.Password = "lp_filtered", "lp_filtered"
	})
	db := openDB(t, dsn(g, "commerce@replica"))
	if got := queryString(t, db, "SELECT CURRENT_USER()"); got != "lp_app@%" {
		t.Fatalf("the data path runs as %s, want lp_app@%%", got)
	}
	// A query past the timeout is killed on the server by the control connection.
	pdb := openDB(t, dsn(g, "commerce"))
	// A session's temporary table and FOUND_ROWS() on the keyspace's database.
	sess, err := pdb.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"CREATE TEMPORARY TABLE e2e_lp_tmp (id INT)", "INSERT INTO e2e_lp_tmp VALUES (1), (2)",
		"SELECT SQL_CALC_FOUND_ROWS * FROM e2e_lp_tmp LIMIT 1"} {
		if _, err := sess.ExecContext(ctx, s); err != nil {
			t.Fatalf("%s as lp_app through the gateway: %v", s, err)
		}
	}
	if n := queryInt(t, sess, "SELECT FOUND_ROWS()"); n != 2 {
		t.Errorf("FOUND_ROWS() = %d, want 2", n)
	}
	sess.Close()
	_, err = pdb.ExecContext(ctx, "SELECT SLEEP(30) /* e2e_lp */")
	if err == nil {
		t.Fatal("SELECT SLEEP(30) outlived a 300 ms query timeout")
	}
	mysqlErr(t, err, 1317)
	deadline := time.Now().Add(10 * time.Second)
	for queryInt(t, dba, "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE USER = 'lp_app' AND INFO LIKE 'SELECT SLEEP(30)%'") != 0 {
		if time.Now().After(deadline) {
			t.Fatal("the timed-out SELECT SLEEP(30) still runs on the primary: KILL QUERY did not reach it")
		}
		time.Sleep(50 * time.Millisecond)
	}

	// VStream reads the binlog as the change-stream user.
	sctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	stream, err := grpcClientOf(t, g, "app", "app").VStream(sctx, &vtgatepb.VStreamRequest{
		TabletType: topodatapb.TabletType_REPLICA,
		Vgtid:      &binlogdatapb.VGtid{ShardGtids: []*binlogdatapb.ShardGtid{{Keyspace: "commerce", Shard: "0", Gtid: "current"}}},
		Filter:     &binlogdatapb.Filter{Rules: []*binlogdatapb.Rule{{Match: "e2e_lp"}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := stream.Recv(); err != nil {
		t.Fatal(err)
	}
	if _, err := pdb.ExecContext(ctx, "INSERT INTO e2e_lp VALUES (1, 'least')"); err != nil {
		t.Fatal(err)
	}
	for {
		resp, err := stream.Recv()
		if errors.Is(err, io.EOF) || err != nil {
			t.Fatalf("stream ended before the row: %v", err)
		}
		for _, ev := range resp.Events {
			if ev.Type == binlogdatapb.VEventType_ROW && ev.RowEvent.TableName == "commerce.e2e_lp" {
				if got := string(ev.RowEvent.RowChanges[0].After.Values); got != "1least" {
					t.Fatalf("row values %q", got)
				}
				n := queryInt(t, dba, "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE USER = 'lp_filtered'")
				if n == 0 {
					// The stream reads the zone1 replica: count there.
					rdba := openDB(t, replica.DBADSN(""))
					n = queryInt(t, rdba, "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE USER = 'lp_filtered' AND COMMAND LIKE 'Binlog Dump%'")
				}
				if n == 0 {
					t.Fatal("no binlog dump of lp_filtered: the stream does not read as the change-stream user")
				}
				return
			}
		}
	}
}

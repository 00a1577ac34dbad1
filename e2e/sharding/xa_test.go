package sharding

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/vtdirect/vtdirect/acl"
	"github.com/vtdirect/vtdirect/gateway"
)

// TestXAOwnershipAcrossServers: an xid is unique on one MariaDB server only. User other
// prepares, on shard 80- (another server), a branch with the xid of app's prepared branch on
// shard -80; it must not make app's branch its own: other's XA COMMIT of it on -80 is refused
// (1227) and changes nothing, and app still ends its own branch after a reconnect. Each one's
// branch commits on its own shard. (Before the gateway kept its records by keyspace and
// shard, other's PREPARE took app's record over: other committed app's branch, and app was
// refused its own.)
func TestXAOwnershipAcrossServers(t *testing.T) {
	policy, err := acl.New(acl.Config{Users: map[string]acl.UserConfig{"ops": {Admin: true}}})
	if err != nil {
		t.Fatal(err)
	}
	g := newGateway(t, func(c *gateway.Config) {
		c.Users = map[string]string{"app": "app", "other": "other-pw", "ops": "ops-pw"}
		c.Access = policy
	})
	userDSN := func(user, pass, target string) string {
		return fmt.Sprintf("%s:%s@tcp(%s)/%s", user, pass, g.MySQLAddr(), target)
	}
	xid := fmt.Sprintf("xa-across-%d", time.Now().UnixNano())
	const appID, otherID = 990001, 990002
	shards := map[int]string{appID: "-80", otherID: "80-"}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		ops := openDB(t, userDSN("ops", "ops-pw", "customer:-80"))
		ops.ExecContext(ctx, "XA ROLLBACK '"+xid+"'")
		for id, sh := range shards {
			db := shardDB(t, sharded.Primary(sh).Alias())
			db.ExecContext(ctx, "XA ROLLBACK '"+xid+"'")
			db.ExecContext(ctx, "DELETE FROM customer WHERE customer_id = ?", id)
		}
	})

	committed := func(sh string, id int) int64 {
		return queryInt(t, shardDB(t, sharded.Primary(sh).Alias()), "SELECT COUNT(*) FROM customer WHERE customer_id = ?", id)
	}

	prepareXA(t, userDSN("app", "app", "customer:-80"), "-80", xid, appID)
	prepareXA(t, userDSN("other", "other-pw", "customer:80-"), "80-", xid, otherID)

	otherOn80 := openDB(t, userDSN("other", "other-pw", "customer:-80"))
	mysqlErr(t, commitXA(t, otherOn80, xid), 1227)
	if n := committed("-80", appID); n != 0 {
		t.Fatalf("app's branch was committed by other's refused XA COMMIT (%d rows)", n)
	}
	if err := commitXA(t, openDB(t, userDSN("app", "app", "customer:-80")), xid); err != nil {
		t.Fatalf("app's XA COMMIT of its own branch after a reconnect: %v", err)
	}
	if err := commitXA(t, openDB(t, userDSN("other", "other-pw", "customer:80-")), xid); err != nil {
		t.Fatalf("other's XA COMMIT of its own branch after a reconnect: %v", err)
	}
	for id, sh := range shards {
		if n := committed(sh, id); n != 1 {
			t.Errorf("customer %d on %s: %d rows after its XA COMMIT, want 1", id, sh, n)
		}
	}
}

// prepareXA starts branch xid on shard (dsn's target) on a connection of its own, inserts
// customer id, prepares the branch and closes the connection: the branch outlives it.
func prepareXA(t *testing.T, dsn, shard, xid string, id int) {
	t.Helper()
	ctx := t.Context()
	db := openDB(t, dsn)
	c := conn(t, db)
	for _, q := range []string{"XA START '" + xid + "'", fmt.Sprintf("INSERT INTO customer VALUES (%d, 'xa')", id), "XA END '" + xid + "'", "XA PREPARE '" + xid + "'"} {
		if _, err := c.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s on %s: %v", q, shard, err)
		}
	}
	// While the branch is open, the session cannot move to another server's shard.
	other := map[string]string{"-80": "80-", "80-": "-80"}[shard]
	if _, err := c.ExecContext(ctx, "USE `customer:"+other+"`"); err == nil {
		t.Fatalf("USE customer:%s with a prepared branch on %s succeeded", other, shard)
	}
	c.Raw(func(any) error { return driver.ErrBadConn }) // close the client's connection itself
	c.Close()
	db.Close()
}

// commitXA runs XA COMMIT of a branch whose connection may still be closing: MariaDB answers
// 1397 (unknown xid) until the branch is detached from it.
func commitXA(t *testing.T, db *sql.DB, xid string) error {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		_, err := db.ExecContext(t.Context(), "XA COMMIT '"+xid+"'")
		var me *mysql.MySQLError
		if !errors.As(err, &me) || me.Number != 1397 || time.Now().After(deadline) {
			return err
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestXAOwnBranchLostWithItsConnection: a session's own branch is the one it started on its
// server. Mallory starts xid on 80-; his backend connection dies (idle_transaction_timeout: the
// server rolls the branch back), so the session holds nothing and may USE -80, where app has
// prepared a branch of the same xid: his XA COMMIT of it there is refused (1227), and app's
// branch is still app's to commit. (The session still counted xid as its own branch, on any
// server: it committed app's.)
func TestXAOwnBranchLostWithItsConnection(t *testing.T) {
	ctx := t.Context()
	policy, err := acl.New(acl.Config{Users: map[string]acl.UserConfig{"ops": {Admin: true}}})
	if err != nil {
		t.Fatal(err)
	}
	g := newGateway(t, func(c *gateway.Config) {
		c.Users = map[string]string{"app": "app", "mallory": "m-pw", "ops": "ops-pw"}
		c.Access = policy
	})
	userDSN := func(user, pass, target string) string {
		return fmt.Sprintf("%s:%s@tcp(%s)/%s", user, pass, g.MySQLAddr(), target)
	}
	xid := fmt.Sprintf("xa-lost-%d", time.Now().UnixNano())
	const appID = 990003
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		db := shardDB(t, sharded.Primary("-80").Alias())
		db.ExecContext(ctx, "XA ROLLBACK '"+xid+"'")
		db.ExecContext(ctx, "DELETE FROM customer WHERE customer_id = ?", appID)
	})
	prepareXA(t, userDSN("app", "app", "customer:-80"), "-80", xid, appID)

	c := conn(t, openDB(t, userDSN("mallory", "m-pw", "customer:80-")))
	for _, q := range []string{"SET SESSION idle_transaction_timeout = 1", "XA START '" + xid + "'"} {
		if _, err := c.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	// The server ends the idle branch's connection after a second; a statement sent before
	// would restart its clock, so each look waits past it first.
	lost := false
	for range 10 {
		time.Sleep(1500 * time.Millisecond)
		if _, err := c.ExecContext(ctx, "SELECT 1"); err != nil {
			lost = true
			break
		}
	}
	if !lost {
		t.Fatal("the backend connection of an idle XA branch outlived idle_transaction_timeout = 1")
	}
	if _, err := c.ExecContext(ctx, "USE `customer:-80`"); err != nil {
		t.Fatalf("USE customer:-80 after the connection was lost: %v", err)
	}
	_, err = c.ExecContext(ctx, "XA COMMIT '"+xid+"'")
	mysqlErr(t, err, 1227)
	if err := commitXA(t, openDB(t, userDSN("app", "app", "customer:-80")), xid); err != nil {
		t.Fatalf("app's XA COMMIT of its own branch: %v", err)
	}
}

package failover_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/vtdirect/vtdirect/failover"
)

// TestReadOnlyPrimaryWithoutAckersKeepsSemiSync: under semi_sync the primary turns read-only
// (a restart) while its only acking replicas are down. Failover makes it writable again with
// semi-sync on, as the policy says: a write then waits for an ack instead of being
// acknowledged with no replica holding it.
func TestReadOnlyPrimaryWithoutAckersKeepsSemiSync(t *testing.T) {
	c := startCluster(t, failover.PolicySemiSync)
	g := startGateway(t, c, gwOptions{})
	waitSemiSync(t, c)
	ctx := t.Context()
	for _, a := range []string{"zone1-101", "zone2-200"} { // zone2-201 is RDONLY: no acks
		c.Tablet(a).MariaDB.Kill()
	}
	m := c.Primary().MariaDB
	dba := openDB(t, fmt.Sprintf("%s:%s@tcp(%s)/", c.DBAUser(), c.DBAPassword(), m.Addr()))
	if _, err := dba.ExecContext(ctx, "SET GLOBAL read_only = ON"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 20*time.Second, "the primary writable again", func() (bool, string) {
		var ro int
		err := dba.QueryRowContext(ctx, "SELECT @@global.read_only").Scan(&ro)
		return err == nil && ro == 0, fmt.Sprint(ro, err)
	})
	var on int
	if err := dba.QueryRowContext(ctx, "SELECT @@global.rpl_semi_sync_master_enabled").Scan(&on); err != nil || on != 1 {
		t.Fatalf("the primary was made writable with rpl_semi_sync_master_enabled=%d (%v): its writes would be acknowledged with no replica holding them", on, err)
	}
	// A write waits for an ack.
	gdb := openDB(t, gatewayDSN(g, "commerce"))
	done := make(chan error, 1)
	go func() {
		ictx, cancel := context.WithTimeout(ctx, time.Minute)
		defer cancel()
		_, err := gdb.ExecContext(ictx, "INSERT INTO acked (id, writer) VALUES (42, 0)")
		done <- err
	}()
	status := func(name string) int {
		var k string
		var v int
		_ = dba.QueryRowContext(ctx, "SHOW GLOBAL STATUS LIKE '"+name+"'").Scan(&k, &v)
		return v
	}
	waitFor(t, 10*time.Second, "the insert waiting for a semi-sync ack", func() (bool, string) {
		return status("Rpl_semi_sync_master_wait_sessions") >= 1, "no session waits"
	})
	select {
	case err := <-done:
		t.Fatalf("the insert was acknowledged with no acking replica up: %v", err)
	default:
	}
}

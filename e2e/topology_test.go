package e2e

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	topodatapb "vitess.io/vitess/go/vt/proto/topodata"

	"github.com/vtdirect/vtdirect/local"
)

// serversSeen runs SELECT @@server_id n times on a target and returns the servers that answered.
func serversSeen(t *testing.T, target string, n int) map[int64]int {
	t.Helper()
	db := openDB(t, dsn(gw, target))
	seen := map[int64]int{}
	for range n {
		seen[queryInt(t, db, "SELECT @@server_id")]++
	}
	return seen
}

func TestTabletAddedAndRemovedWhileServing(t *testing.T) {
	ctx := t.Context()
	_, err := cluster.AddTablet(ctx, local.TabletSpec{Cell: "zone1", UID: 102, Type: topodatapb.TabletType_REPLICA})
	if err != nil {
		t.Fatal(err)
	}
	removed := false
	t.Cleanup(func() {
		if !removed {
			_ = cluster.RemoveTablet(context.Background(), "zone1-102")
		}
	})
	if err := waitServing(ctx, gw, "zone1-102"); err != nil {
		t.Fatal(err)
	}
	seen := serversSeen(t, "commerce@replica", 200)
	if seen[101] == 0 || seen[102] == 0 || len(seen) != 2 {
		t.Fatalf("zone1 replica reads went to %v, want both 101 and 102 (the zone1 replicas) only", seen)
	}
	if err := cluster.RemoveTablet(ctx, "zone1-102"); err != nil {
		t.Fatal(err)
	}
	removed = true
	if err := waitServing(ctx, gw, "!zone1-102"); err != nil {
		t.Fatal(err)
	}
	if seen := serversSeen(t, "commerce@replica", 50); len(seen) != 1 || seen[101] != 50 {
		t.Fatalf("after removing zone1-102, replica reads went to %v, want 101 only", seen)
	}
}

// TestReplicaReadsFallBackToAnotherCell stops the zone1 replica's MariaDB: a zone1 gateway's
// commerce@replica reads move to the zone2 replica, and come back when it returns.
func TestReplicaReadsFallBackToAnotherCell(t *testing.T) {
	ctx := t.Context()
	replica := cluster.Tablet("zone1-101").MariaDB
	if err := replica.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	started := false
	t.Cleanup(func() {
		if !started {
			_ = replica.Start(context.Background())
		}
	})
	if err := waitServing(ctx, gw, "!zone1-101"); err != nil {
		t.Fatal(err)
	}
	if seen := serversSeen(t, "commerce@replica", 20); len(seen) != 1 || seen[200] != 20 {
		t.Fatalf("with zone1-101 down, replica reads went to %v, want the zone2 replica 200", seen)
	}
	if err := replica.Start(ctx); err != nil {
		t.Fatal(err)
	}
	started = true
	if err := waitServing(ctx, gw, "zone1-101"); err != nil {
		t.Fatal(err)
	}
	if seen := serversSeen(t, "commerce@replica", 20); len(seen) != 1 || seen[101] != 20 {
		t.Fatalf("with zone1-101 back, replica reads went to %v, want 101", seen)
	}
}

// TestBackendDiesMidQuery kills the rdonly tablet's MariaDB while a query runs on it: that
// client gets an error, every other session goes on, and the target fails clearly until the
// tablet is back.
func TestBackendDiesMidQuery(t *testing.T) {
	ctx := t.Context()
	rdonly := cluster.Tablet("zone2-201").MariaDB
	t.Cleanup(func() {
		if !rdonly.Running() {
			_ = rdonly.Start(context.Background())
		}
		_ = waitServing(context.Background(), gw, "zone2-201")
	})
	victim := conn(t, openDB(t, dsn(gw, "commerce@rdonly")))
	primary := openDB(t, dsn(gw, "commerce"))
	errc := make(chan error, 1)
	go func() {
		_, err := victim.ExecContext(ctx, "SELECT SLEEP(60) FROM dual WHERE 'e2e-dies' <> ''")
		errc <- err
	}()
	direct := directDB(t, "zone2-201")
	waitFor(t, "the query to run on the rdonly tablet", func() bool {
		return queryInt(t, direct, "SELECT COUNT(*) FROM information_schema.processlist WHERE info LIKE '%e2e-dies%' AND info NOT LIKE '%processlist%'") == 1
	})
	direct.Close()
	rdonly.Kill()
	select {
	case err := <-errc:
		if err == nil {
			t.Fatal("the query on a dead backend succeeded")
		}
		// 2013, as a MySQL client says when its server goes away mid-query.
		if me := mysqlErr(t, err, 2013); !strings.Contains(me.Message, "zone2-") {
			t.Fatalf("error %q does not name the tablet", me.Message)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the client of a dead backend got no answer")
	}
	if got := queryInt(t, primary, "SELECT 11"); got != 11 {
		t.Fatal("other sessions stopped working")
	}
	if err := waitServing(ctx, gw, "!zone2-201"); err != nil {
		t.Fatal(err)
	}
	_, err := openDB(t, dsn(gw, "commerce@rdonly")).ExecContext(ctx, "SELECT 1")
	me := mysqlErr(t, err, 1105)
	if !strings.Contains(me.Message, "zone2-201") {
		t.Fatalf("error %q does not name the unhealthy tablet", me.Message)
	}
	if _, metrics := httpGet(t, "/metrics"); !strings.Contains(metrics, `vtdirect_picker_misses_total{cells=`) ||
		!strings.Contains(metrics, `types="RDONLY"`) {
		t.Fatalf("the miss is not counted in /metrics")
	}
	if err := rdonly.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if err := waitServing(ctx, gw, "zone2-201"); err != nil {
		t.Fatal(err)
	}
	if got := queryInt(t, openDB(t, dsn(gw, "commerce@rdonly")), "SELECT @@server_id"); got != 201 {
		t.Fatalf("rdonly reads after the restart went to %d", got)
	}
}

// TestMalformedPackets sends bad bytes to the gateway: each connection gets an error or is
// closed, and the gateway goes on serving.
func TestMalformedPackets(t *testing.T) {
	inputs := map[string][]byte{
		"garbage":          []byte("GET / HTTP/1.1\r\n\r\n"),
		"truncated header": {0x05, 0x00},
		"huge length":      {0xff, 0xff, 0xff, 0x01, 0x00},
		"short handshake":  {0x02, 0x00, 0x00, 0x01, 0x85, 0xa6},
	}
	for name, in := range inputs {
		t.Run(name, func(t *testing.T) {
			c, err := net.DialTimeout("tcp", gw.MySQLAddr(), 5*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			_ = c.SetDeadline(time.Now().Add(10 * time.Second))
			buf := make([]byte, 4096)
			if _, err := c.Read(buf); err != nil { // the greeting
				t.Fatal(err)
			}
			if _, err := c.Write(in); err != nil {
				t.Fatal(err)
			}
			if cw, ok := c.(*net.TCPConn); ok {
				_ = cw.CloseWrite()
			}
			// The gateway answers with an ERR packet or closes; it must not hang.
			for {
				_, err := c.Read(buf)
				if err == nil {
					continue
				}
				var ne net.Error
				if errors.As(err, &ne) && ne.Timeout() {
					t.Fatal("the gateway neither answered nor closed the connection")
				}
				break
			}
		})
	}
	if got := queryInt(t, openDB(t, dsn(gw, "commerce")), "SELECT 3"); got != 3 {
		t.Fatal("gateway stopped serving after malformed packets")
	}
}

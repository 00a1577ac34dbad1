package consultopo_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/consul/api"
	topodatapb "vitess.io/vitess/go/vt/proto/topodata"

	"github.com/vtdirect/vtdirect/local"
	"github.com/vtdirect/vtdirect/topo"
	"github.com/vtdirect/vtdirect/topo/consultopo"
	"github.com/vtdirect/vtdirect/topo/consultopo/consultest"
	"github.com/vtdirect/vtdirect/topo/topotest"
)

// testConfig dials fast: short watch waits and retries keep the tests quick.
func testConfig(addr, root string) consultopo.Config {
	return consultopo.Config{Addr: addr, Root: root, LockDelay: 10 * time.Millisecond, WatchWait: 5 * time.Second, RetryInterval: 100 * time.Millisecond}
}

func dial(t *testing.T, cfg consultopo.Config) *consultopo.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := consultopo.Dial(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestConformance(t *testing.T) {
	a := consultest.Start(t, consultest.Options{})
	topotest.RunConn(t, func(t *testing.T, root string) topo.Conn {
		return dial(t, testConfig(a.Addr(), root))
	}, topotest.CoalescedWatch())
}

func TestLeases(t *testing.T) {
	a := consultest.Start(t, consultest.Options{})
	topotest.RunLeases(t, func(t *testing.T, root string) topo.Conn {
		return dial(t, testConfig(a.Addr(), root))
	})
}

// TestWatchSurvivesRestart restarts a persistent Consul server under a watch.
func TestWatchSurvivesRestart(t *testing.T) {
	a := consultest.Start(t, consultest.Options{Persistent: true})
	c := dial(t, testConfig(a.Addr(), "vitess/zone1"))
	defer c.Close()
	topotest.RunWatchRestart(t, c, a.Restart)
}

func TestDialFailsClearly(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	port, err := local.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	addr := "127.0.0.1:" + itoa(port)
	_, err = consultopo.Dial(ctx, consultopo.Config{Addr: addr, Root: "vitess/global"})
	if err == nil || !strings.Contains(err.Error(), addr) || !strings.Contains(err.Error(), "--topo-addr") {
		t.Fatalf("Dial to nothing = %v; want an error naming %s and the flag", err, addr)
	}
	for _, cfg := range []consultopo.Config{
		{Addr: "", Root: "vitess/global"},
		{Addr: "a:1,b:2", Root: "vitess/global"},
		{Addr: addr, Root: ""},
	} {
		if _, err := consultopo.Dial(ctx, cfg); !errors.Is(err, topo.ErrInvalid) {
			t.Errorf("Dial(%+v) = %v, want ErrInvalid", cfg, err)
		}
	}
}

// TestKeyLayout: records land on Vitess's consul keys (no leading '/', whatever the root is
// written as), and versions are the keys' ModifyIndex.
func TestKeyLayout(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	a := consultest.Start(t, consultest.Options{})
	ts, err := consultopo.Open(ctx, a.Addr(), "/vitess/global")
	if err != nil {
		t.Fatal(err)
	}
	defer ts.Close()
	ok(t, ts.CreateCellInfo(ctx, "zone1", &topodatapb.CellInfo{ServerAddress: a.Addr(), Root: "/vitess/zone1"}))
	ok(t, ts.CreateKeyspace(ctx, "commerce", nil))
	ok(t, ts.CreateShard(ctx, "commerce", "0"))
	ok(t, ts.CreateTablet(ctx, &topodatapb.Tablet{
		Alias: &topodatapb.TabletAlias{Cell: "zone1", Uid: 100}, Keyspace: "commerce", Shard: "0",
		Type: topodatapb.TabletType_PRIMARY, Hostname: "127.0.0.1", MysqlHostname: "127.0.0.1", MysqlPort: 17100,
	}))
	client, err := api.NewClient(&api.Config{Address: a.Addr()})
	ok(t, err)
	keys, _, err := client.KV().Keys("", "", nil)
	ok(t, err)
	want := []string{
		"vitess/global/cells/zone1/CellInfo",
		"vitess/global/keyspaces/commerce/Keyspace",
		"vitess/global/keyspaces/commerce/VSchema",
		"vitess/global/keyspaces/commerce/shards/0/Shard",
		"vitess/zone1/keyspaces/commerce/shards/0/ShardReplication",
		"vitess/zone1/tablets/zone1-0000000100/Tablet",
	}
	if strings.Join(keys, "\n") != strings.Join(want, "\n") {
		t.Fatalf("Consul keys:\n%s\nwant:\n%s", strings.Join(keys, "\n"), strings.Join(want, "\n"))
	}
	pair, _, err := client.KV().Get("vitess/zone1/tablets/zone1-0000000100/Tablet", nil)
	ok(t, err)
	conn, err := ts.CellConn(ctx, "zone1")
	ok(t, err)
	_, v, err := conn.Get(ctx, "tablets/zone1-0000000100/Tablet")
	ok(t, err)
	if v.String() != itoa(int(pair.ModifyIndex)) {
		t.Fatalf("version %v, want ModifyIndex %d", v, pair.ModifyIndex)
	}

	// Locks land on Vitess's consul lock key, with api.Lock's flag.
	lease, err := ts.LockShard(ctx, "commerce", "0", "test", 5*time.Second)
	ok(t, err)
	pair, _, err = client.KV().Get("vitess/global/keyspaces/commerce/shards/0/Lock", nil)
	ok(t, err)
	if pair == nil || pair.Session == "" || pair.Flags != api.LockFlagValue || !strings.Contains(string(pair.Value), `"Action": "test"`) {
		t.Fatalf("lock key = %+v", pair)
	}
	ok(t, lease.Release(ctx))
	if pair, _, _ := client.KV().Get("vitess/global/keyspaces/commerce/shards/0/Lock", nil); pair != nil {
		t.Fatalf("lock key left after release: %+v", pair)
	}
	// A shard that does not exist cannot be locked, and the error names its key.
	_, err = ts.LockShard(ctx, "commerce", "-80", "test", 5*time.Second)
	if !errors.Is(err, topo.ErrNoNode) || !strings.Contains(err.Error(), "vitess/global/keyspaces/commerce/shards/-80/Shard") {
		t.Fatalf("LockShard of a missing shard = %v", err)
	}
}

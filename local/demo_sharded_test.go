package local

import (
	"bytes"
	"context"
	"database/sql"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vtdirect/vtdirect/topo"
)

// TestDemoSharded runs the demo with its sharded keyspace: up starts the keyspace's four
// tablets, replicates each shard, puts each sample row on its shard, writes the keyspace,
// shards and vschemas to the topo; status and down know the new processes.
func TestDemoSharded(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 180*time.Second)
	defer cancel()
	ks := CustomerKeyspace()
	cfg, _, upOut := upDemo(t, ctx, 13, func(dir string, ports []int) DemoConfig {
		layout := DemoLayout()
		for i := range layout.Tablets {
			layout.Tablets[i].MySQLPort = ports[i]
		}
		ks = CustomerKeyspace()
		k := 9
		for _, sh := range ks.Shards {
			for i := range sh.Tablets {
				sh.Tablets[i].MySQLPort = ports[k]
				k++
			}
		}
		cfg := DemoConfig{
			Dir: dir, Layout: layout, User: "app", Password: "app",
			EtcdPort: ports[4], EtcdPeerPort: ports[5],
			Gateway:    DemoGateway{Cell: "zone1", MySQLPort: ports[6], GRPCPort: ports[7], HTTPPort: ports[8]},
			Sharded:    []ShardedKeyspace{ks},
			Executable: os.Args[0],
		}
		cfg.EtcdArgs = []string{roleEtcd, cfg.EtcdDir(), strconv.Itoa(cfg.EtcdPort), strconv.Itoa(cfg.EtcdPeerPort)}
		fakeGateway(&cfg, layout.Tablets[0].MySQLPort)
		return cfg
	})
	dir := cfg.Dir
	var out bytes.Buffer
	out.WriteString(upOut)
	for _, want := range []string{"starting mariadbd zone1-300 (PRIMARY customer/-80)", "replication and rows of shard customer/80- ... ok",
		"writing keyspace customer (shards -80, 80-) and its vschema to the topo ... ok", "Sharded keyspace customer"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("up output lacks %q:\n%s", want, out.String())
		}
	}
	grantsCfg := cfg
	if err := grantsCfg.validate(); err != nil { // the accounts' defaults, as Up filled them in
		t.Fatal(err)
	}
	checkAppDataPath(t, ctx, grantsCfg, ks.Shards[0].Tablets[0], ks.DBName)
	total := 0
	for _, sh := range ks.Shards {
		db, err := sql.Open("mysql", tabletDSN(&cfg, sh.Tablets[0], "customer"))
		if err != nil {
			t.Fatal(err)
		}
		var n int
		if err := db.QueryRowContext(ctx, "SELECT COUNT(*) FROM customer").Scan(&n); err != nil {
			t.Fatal(err)
		}
		var wrong int
		rows, err := db.QueryContext(ctx, "SELECT customer_id FROM customer")
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var id uint64
			rows.Scan(&id)
			if !onShard(sh.Name, id) {
				wrong++
			}
		}
		rows.Close()
		db.Close()
		if n == 0 || wrong > 0 {
			t.Errorf("shard %s: %d customers, %d on the wrong shard", sh.Name, n, wrong)
		}
		total += n
	}
	if total != sampleCustomers {
		t.Errorf("the shards hold %d customers, want %d", total, sampleCustomers)
	}
	ts, err := topo.Open(ctx, topo.ImplEtcd, cfg.EtcdAddr(), cfg.Layout.GlobalRoot)
	if err != nil {
		t.Fatal(err)
	}
	vs, err := ts.GetVSchema(ctx, "customer")
	shards, err2 := ts.ListShards(ctx, "customer")
	ts.Close()
	if err != nil || err2 != nil || !vs.Sharded || len(shards) != 2 {
		t.Errorf("topo: vschema %v (%v), shards %v (%v)", vs, err, shards, err2)
	}

	out.Reset()
	if err := Up(ctx, cfg, &out); err != nil {
		t.Fatalf("Up again: %v\n%s", err, out.String())
	}
	if strings.Contains(out.String(), "starting") || !strings.Contains(out.String(), "shard customer/-80 is initialised") {
		t.Errorf("second up:\n%s", out.String())
	}
	out.Reset()
	if err := Status(ctx, dir, &out); err != nil {
		t.Fatalf("Status: %v\n%s", err, out.String())
	}
	if got := strings.Count(out.String(), "io=Yes sql=Yes"); got != 5 {
		t.Errorf("status shows %d running replicas, want 5:\n%s", got, out.String())
	}
	out.Reset()
	if err := Down(ctx, dir, false, &out); err != nil {
		t.Fatalf("Down: %v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "stopping zone1-401") {
		t.Errorf("down did not stop the sharded tablets:\n%s", out.String())
	}
}

package local

import (
	"context"
	"testing"
	"time"

	topodatapb "vitess.io/vitess/go/vt/proto/topodata"
)

func TestStartCluster(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	c, err := StartCluster(ctx, ClusterConfig{Dir: t.TempDir(), SampleData: true, Logger: testLogger(t)})
	if err != nil {
		t.Fatalf("StartCluster: %v", err)
	}
	t.Cleanup(c.Close)

	if got := len(c.Tablets()); got != 4 {
		t.Fatalf("%d tablets, want 4", got)
	}
	// Topo: the shard's primary and every tablet's record, readable from its cell.
	si, err := c.Topo.GetShard(ctx, "commerce", "0")
	if err != nil {
		t.Fatal(err)
	}
	if si.PrimaryAlias.GetCell() != "zone1" || si.PrimaryAlias.GetUid() != 100 {
		t.Errorf("shard primary = %v, want zone1-100", si.PrimaryAlias)
	}
	for _, ct := range c.Tablets() {
		rec, err := c.Topo.GetTablet(ctx, ct.Spec.TopoAlias())
		if err != nil {
			t.Fatalf("GetTablet %s: %v", ct.Alias(), err)
		}
		if int(rec.MysqlPort) != ct.MariaDB.Port() || rec.DbNameOverride != "commerce" || rec.Type != ct.Spec.Type {
			t.Errorf("tablet %s record = %v", ct.Alias(), rec)
		}
	}
	ca, err := c.Topo.GetCellsAlias(ctx, "region1")
	if err != nil || len(ca.Cells) != 2 {
		t.Errorf("cells alias region1 = %v, %v", ca, err)
	}

	// The sample data reached the rdonly tablet.
	rdonly := c.Tablet("zone2-201")
	db := openDB(t, rdonly.MariaDB.DSN("commerce"))
	var n int
	if err := db.QueryRowContext(ctx, "SELECT COUNT(*) FROM corder").Scan(&n); err != nil || n != sampleOrders {
		t.Fatalf("corder on rdonly: %d rows, %v; want %d", n, err, sampleOrders)
	}

	// Loading the sample again is harmless.
	if err := LoadSampleSchema(ctx, c.Primary().MariaDB.DSN(""), "commerce"); err != nil {
		t.Fatalf("LoadSampleSchema again: %v", err)
	}

	// A tablet added at run time is in the topo and has the data; removing it deletes both.
	added, err := c.AddTablet(ctx, TabletSpec{Cell: "zone2", UID: 202, Type: topodatapb.TabletType_REPLICA})
	if err != nil {
		t.Fatalf("AddTablet: %v", err)
	}
	if _, err := c.Topo.GetTablet(ctx, added.Spec.TopoAlias()); err != nil {
		t.Fatalf("added tablet not in topo: %v", err)
	}
	adb := openDB(t, added.MariaDB.DSN("commerce"))
	if err := adb.QueryRowContext(ctx, "SELECT COUNT(*) FROM customer").Scan(&n); err != nil || n != sampleCustomers {
		t.Fatalf("customer on added tablet: %d rows, %v", n, err)
	}
	if err := c.RemoveTablet(ctx, "zone2-202"); err != nil {
		t.Fatalf("RemoveTablet: %v", err)
	}
	if _, err := c.Topo.GetTablet(ctx, added.Spec.TopoAlias()); err == nil {
		t.Fatal("removed tablet still in topo")
	}
	if added.MariaDB.Running() {
		t.Fatal("removed tablet's MariaDB still running")
	}
}

func TestLayoutValidate(t *testing.T) {
	ok := DemoLayout()
	if err := ok.Validate(); err != nil {
		t.Fatalf("DemoLayout: %v", err)
	}
	for _, tc := range []struct {
		name   string
		modify func(*Layout)
	}{
		{"no primary", func(l *Layout) { l.Tablets[0].Type = topodatapb.TabletType_REPLICA }},
		{"two primaries", func(l *Layout) { l.Tablets[1].Type = topodatapb.TabletType_PRIMARY }},
		{"duplicate uid", func(l *Layout) { l.Tablets[1].UID = 100 }},
		{"unknown cell", func(l *Layout) { l.Tablets[1].Cell = "zone9" }},
		{"no keyspace", func(l *Layout) { l.Keyspace = "" }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := DemoLayout()
			tc.modify(&l)
			if err := l.Validate(); err == nil {
				t.Fatal("want an error")
			}
		})
	}
}

func TestDemoLayoutPorts(t *testing.T) {
	want := map[string]int{"zone1-100": 17100, "zone1-101": 17101, "zone2-200": 17200, "zone2-201": 17201}
	for _, s := range DemoLayout().Tablets {
		if want[s.Alias()] != s.MySQLPort {
			t.Errorf("%s port %d, want %d", s.Alias(), s.MySQLPort, want[s.Alias()])
		}
	}
}

package failover

import (
	"strings"
	"testing"
	"time"

	topodatapb "vitess.io/vitess/go/vt/proto/topodata"
)

// A planned reparent reads the primary before its replicas while writes go on: a replica may
// hold the primary's later transactions, which are its stream, not errant. (Under load
// TestPlannedReparentUnderLoad refused with "ahead of the primary's 0-100-99".)
func TestPlannedChoiceReplicaAheadOfTheReadPrimary(t *testing.T) {
	tab := func(uid uint32, port int32, typ topodatapb.TabletType) *topodatapb.Tablet {
		return &topodatapb.Tablet{Alias: &topodatapb.TabletAlias{Cell: "zone1", Uid: uid}, Keyspace: "ks", Shard: "0",
			Type: typ, MysqlHostname: "127.0.0.1", MysqlPort: port}
	}
	primary, replica := tab(100, 3100, topodatapb.TabletType_PRIMARY), tab(101, 3101, topodatapb.TabletType_REPLICA)
	now := time.Now()
	v := &shardView{
		keyspace: "ks", shard: "0",
		record:  &topodatapb.Shard{PrimaryAlias: primary.GetAlias()},
		tablets: []*topodatapb.Tablet{primary, replica},
		readings: map[string]*Reading{
			"zone1-100": {Time: now, ServerID: 100, GTIDStrict: true, Executed: MustParsePosition("0-100-99")},
			"zone1-101": {Time: now, ServerID: 101, GTIDStrict: true, ReadOnly: true, Executed: MustParsePosition("0-100-104"),
				Replica: &ReplicaStatus{SourceHost: "127.0.0.1", SourcePort: 3100, SourceServerID: 100, IOState: "Yes", SQLRunning: true}},
		},
		writers: []Writer{{ServerID: 100, Alias: "zone1-100"}},
		rules:   Rules{Policy: policyNone{}},
	}
	var r Reparenter
	_, winner, err := r.plannedChoice(v, PlannedOptions{})
	if err != nil {
		t.Fatalf("plannedChoice: %v", err)
	}
	if winner.Alias() != "zone1-101" {
		t.Fatalf("winner %s", winner.Alias())
	}
	// A transaction of another server ahead of the primary stays errant.
	v.readings["zone1-101"].Executed = MustParsePosition("0-101-104")
	if _, _, err := r.plannedChoice(v, PlannedOptions{}); err == nil || !strings.Contains(err.Error(), "errant") {
		t.Fatalf("a replica's own write ahead of the primary: %v", err)
	}
}

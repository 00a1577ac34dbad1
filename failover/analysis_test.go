package failover

import (
	"fmt"
	"strings"
	"testing"
	"time"

	topodatapb "vitess.io/vitess/go/vt/proto/topodata"
)

// The demo shard: zone1-100 (primary, port 17100), zone1-101 and zone2-200 (replicas), zone2-201
// (rdonly). Readings are built from a healthy state and changed per case.

var t0 = time.Date(2025, 1, 1, 12, 0, 0, 0, time.UTC)

func tablet(alias string, typ topodatapb.TabletType) *topodatapb.Tablet {
	a, err := parseAlias(alias)
	if err != nil {
		panic(err)
	}
	port := int32(17000 + a.Uid)
	t := &topodatapb.Tablet{Alias: a, Keyspace: "commerce", Shard: "0", Type: typ, MysqlHostname: "127.0.0.1", MysqlPort: port}
	if typ == topodatapb.TabletType_PRIMARY {
		t.PrimaryTermStartTime = vtTime(t0)
	}
	return t
}

func healthyPrimary(id uint32, pos string) *Reading {
	return &Reading{Time: t0, ServerID: id, Version: "10.11.6-MariaDB", GTIDStrict: true, Executed: MustParsePosition(pos), NetTimeout: 4}
}

func healthyReplica(id uint32, pos string, sourcePort int) *Reading {
	r := healthyPrimary(id, pos)
	r.ReadOnly = true
	r.Replica = &ReplicaStatus{SourceHost: "127.0.0.1", SourcePort: sourcePort, IOState: "Yes", SQLRunning: true,
		UsingGTID: "Current_Pos", Received: MustParsePosition(pos), LagKnown: true, HeartbeatPeriod: 2}
	return r
}

// demoShard is the healthy demo shard under policy none.
func demoShard() ShardInput {
	return ShardInput{
		Keyspace: "commerce", Shard: "0",
		Record: &topodatapb.Shard{PrimaryAlias: &topodatapb.TabletAlias{Cell: "zone1", Uid: 100}, PrimaryTermStartTime: vtTime(t0)},
		Tablets: []TabletInput{
			{tablet("zone1-100", topodatapb.TabletType_PRIMARY), healthyPrimary(100, "0-100-50")},
			{tablet("zone1-101", topodatapb.TabletType_REPLICA), healthyReplica(101, "0-100-50", 17100)},
			{tablet("zone2-200", topodatapb.TabletType_REPLICA), healthyReplica(200, "0-100-49", 17100)},
			{tablet("zone2-201", topodatapb.TabletType_RDONLY), healthyReplica(201, "0-100-50", 17100)},
		},
		Rules:      Rules{Policy: policyNone{}},
		Writers:    []Writer{{ServerID: 100, Alias: "zone1-100"}},
		NetTimeout: 4 * time.Second,
	}
}

func (in *ShardInput) reading(alias string) *Reading {
	for _, t := range in.Tablets {
		if t.Alias() == alias {
			return t.Reading
		}
	}
	panic("no tablet " + alias)
}

func (in *ShardInput) setReading(alias string, r *Reading) {
	for i := range in.Tablets {
		if in.Tablets[i].Alias() == alias {
			in.Tablets[i].Reading = r
			return
		}
	}
	panic("no tablet " + alias)
}

func dead(why string) *Reading { return &Reading{Time: t0, Err: why} }

// lostPrimary is a replica whose IO thread lost the primary (kill -9: the connection closed).
func lostPrimary(r *Reading) *Reading {
	r.Replica.IOState = "Connecting"
	r.Replica.LastIOErrno, r.Replica.LastIOError = 2003, "error reconnecting to master 'app@127.0.0.1:17100' - retry-time: 1"
	return r
}

func TestAnalyze(t *testing.T) {
	type want struct {
		code    Code
		primary string
		has     []string // "Code" or "Code@tablet"
		hasNot  []string
		blocked bool
	}
	for _, tc := range []struct {
		name   string
		change func(in *ShardInput)
		want   want
	}{
		{name: "healthy", want: want{code: NoProblem, primary: "zone1-100"}},
		{name: "primary killed: replicas lost it", change: func(in *ShardInput) {
			in.setReading("zone1-100", dead("dial tcp 127.0.0.1:17100: connect: connection refused"))
			for _, a := range []string{"zone1-101", "zone2-200", "zone2-201"} {
				lostPrimary(in.reading(a))
			}
		}, want: want{code: DeadPrimary, primary: "zone1-100"}},
		{name: "primary killed and a replica dead too", change: func(in *ShardInput) {
			in.setReading("zone1-100", dead("connection refused"))
			in.setReading("zone2-200", dead("connection refused"))
			lostPrimary(in.reading("zone1-101"))
			lostPrimary(in.reading("zone2-201"))
		}, want: want{code: DeadPrimaryAndSomeReplicas, has: []string{"TabletUnreachable@zone2-200"}}},
		{name: "semi_sync: the primary and a replica that could have acked are dead: blocked", change: func(in *ShardInput) {
			in.Rules.Policy = policySemiSync{}
			in.setReading("zone1-100", dead("connection refused"))
			in.setReading("zone1-101", dead("connection refused"))
			lostPrimary(in.reading("zone2-200"))
			lostPrimary(in.reading("zone2-201"))
		}, want: want{code: DeadPrimaryAndSomeReplicas, blocked: true}},
		{name: "semi_sync: the primary and an rdonly (never acks) are dead: recover", change: func(in *ShardInput) {
			in.Rules.Policy = policySemiSync{}
			in.setReading("zone1-100", dead("connection refused"))
			in.setReading("zone2-201", dead("connection refused"))
			lostPrimary(in.reading("zone1-101"))
			lostPrimary(in.reading("zone2-200"))
		}, want: want{code: DeadPrimaryAndSomeReplicas}},
		{name: "cross_cell: the primary and a same-cell replica (never acks) are dead: recover", change: func(in *ShardInput) {
			in.Rules.Policy = policyCrossCell{}
			in.setReading("zone1-100", dead("connection refused"))
			in.setReading("zone1-101", dead("connection refused"))
			lostPrimary(in.reading("zone2-200"))
			lostPrimary(in.reading("zone2-201"))
		}, want: want{code: DeadPrimaryAndSomeReplicas}},
		{name: "cross_cell: the primary and the other cell's replica are dead: blocked", change: func(in *ShardInput) {
			in.Rules.Policy = policyCrossCell{}
			in.setReading("zone1-100", dead("connection refused"))
			in.setReading("zone2-200", dead("connection refused"))
			lostPrimary(in.reading("zone1-101"))
			lostPrimary(in.reading("zone2-201"))
		}, want: want{code: DeadPrimaryAndSomeReplicas, blocked: true}},
		{name: "primary and every replica dead", change: func(in *ShardInput) {
			for _, t := range in.Tablets {
				in.setReading(t.Alias(), dead("i/o timeout"))
			}
		}, want: want{code: DeadPrimaryAndReplicas, hasNot: []string{"DeadPrimary"}}},
		{name: "primary unreachable from the gateway only", change: func(in *ShardInput) {
			in.setReading("zone1-100", dead("i/o timeout"))
		}, want: want{code: UnreachablePrimary, hasNot: []string{"DeadPrimary"}}},
		{name: "one replica still replicates: no failover", change: func(in *ShardInput) {
			in.setReading("zone1-100", dead("i/o timeout"))
			lostPrimary(in.reading("zone1-101"))
			lostPrimary(in.reading("zone2-200"))
		}, want: want{code: UnreachablePrimary}},
		{name: "a replica follows a stranger while the primary is dead", change: func(in *ShardInput) {
			in.setReading("zone1-100", dead("connection refused"))
			lostPrimary(in.reading("zone1-101"))
			lostPrimary(in.reading("zone2-201"))
			in.reading("zone2-200").Replica.SourcePort = 3306
		}, want: want{code: TabletsDisagreeOnPrimary, hasNot: []string{"DeadPrimary"}}},
		{name: "replicas repointed to a half-promoted tablet: redo", change: func(in *ShardInput) {
			in.setReading("zone1-100", dead("connection refused"))
			in.reading("zone1-101").ReadOnly = false
			in.reading("zone1-101").Replica = nil
			in.reading("zone2-200").Replica.SourcePort = 17101
			in.reading("zone2-201").Replica.SourcePort = 17101
		}, want: want{code: DeadPrimary, has: []string{"ReplicaIsWritable@zone1-101"}}},
		{name: "no replica", change: func(in *ShardInput) {
			in.Tablets = in.Tablets[:1]
			in.setReading("zone1-100", dead("connection refused"))
		}, want: want{code: DeadPrimaryWithoutReplicas}},
		{name: "no primary anywhere: elect", change: func(in *ShardInput) {
			in.Record.PrimaryAlias, in.Record.PrimaryTermStartTime = nil, nil
			in.Tablets[0].Tablet.Type = topodatapb.TabletType_REPLICA
			for _, a := range []string{"zone1-101", "zone2-200", "zone2-201"} {
				in.reading(a).Replica = nil
			}
			in.reading("zone1-100").ReadOnly = true
		}, want: want{code: ClusterHasNoPrimary}},
		{name: "shard record names a deleted tablet, replicas lost it", change: func(in *ShardInput) {
			in.Tablets = in.Tablets[1:]
			for _, a := range []string{"zone1-101", "zone2-200", "zone2-201"} {
				lostPrimary(in.reading(a))
			}
		}, want: want{code: PrimaryTabletDeleted}},
		{name: "shard record names a deleted tablet that still serves: report only", change: func(in *ShardInput) {
			in.Tablets = in.Tablets[1:]
		}, want: want{code: TabletsDisagreeOnPrimary, hasNot: []string{"PrimaryTabletDeleted"}}},
		{name: "primary boots read-only", change: func(in *ShardInput) {
			in.reading("zone1-100").ReadOnly = true
		}, want: want{code: PrimaryIsReadOnly}},
		{name: "two writable: the replica is fixed, the primary is not touched", change: func(in *ShardInput) {
			in.reading("zone2-200").ReadOnly = false
		}, want: want{code: ReplicaIsWritable, has: []string{"ReplicaIsWritable@zone2-200"}, hasNot: []string{"PrimaryIsReadOnly"}}},
		{name: "read-only primary while a replica is writable: report", change: func(in *ShardInput) {
			in.reading("zone1-100").ReadOnly = true
			in.reading("zone2-200").ReadOnly = false
		}, want: want{code: ReplicaIsWritable, has: []string{"TabletsDisagreeOnPrimary@zone1-100"}, hasNot: []string{"PrimaryIsReadOnly"}}},
		{name: "replication stopped by hand", change: func(in *ShardInput) {
			r := in.reading("zone2-200").Replica
			r.IOState, r.SQLRunning = "No", false
		}, want: want{code: ReplicationStopped, has: []string{"ReplicationStopped@zone2-200"}}},
		{name: "replication broken by an errant transaction", change: func(in *ShardInput) {
			r := in.reading("zone2-200")
			r.Executed = MustParsePosition("0-200-50")
			r.Replica.SQLRunning, r.Replica.LastSQLErrno, r.Replica.LastSQLError = false, 1950, "out-of-order sequence number"
		}, want: want{code: ErrantGTID, has: []string{"ErrantGTID@zone2-200", "ReplicationBroken@zone2-200"}, hasNot: []string{"ReplicationStopped"}}},
		{name: "errant replica still replicating: reported", change: func(in *ShardInput) {
			in.reading("zone1-101").Executed = MustParsePosition("0-100-50,7-101-3")
		}, want: want{code: ErrantGTID, has: []string{"ErrantGTID@zone1-101"}}},
		{name: "old primary returns clean: repoint", change: func(in *ShardInput) {
			in.Record.PrimaryAlias = &topodatapb.TabletAlias{Cell: "zone1", Uid: 101}
			in.Tablets[0].Tablet.Type, in.Tablets[1].Tablet.Type = topodatapb.TabletType_REPLICA, topodatapb.TabletType_PRIMARY
			in.Tablets[0].Tablet.PrimaryTermStartTime = nil
			in.setReading("zone1-100", &Reading{Time: t0, ServerID: 100, Version: "10.11.6-MariaDB", GTIDStrict: true, ReadOnly: true,
				Executed: MustParsePosition("0-100-50"), NetTimeout: 4})
			in.setReading("zone1-101", healthyPrimary(101, "0-101-53"))
			in.reading("zone2-200").Replica.SourcePort = 17101
			in.reading("zone2-201").Replica.SourcePort = 17101
			in.Writers = []Writer{{ServerID: 100, Alias: "zone1-100", TermEnd: MustParsePosition("0-100-50")}, {ServerID: 101, Alias: "zone1-101"}}
		}, want: want{code: NotConnectedToPrimary, has: []string{"NotConnectedToPrimary@zone1-100"}, hasNot: []string{"ErrantGTID"}}},
		{name: "old primary returns with a transaction nobody got: quarantine", change: func(in *ShardInput) {
			in.Record.PrimaryAlias = &topodatapb.TabletAlias{Cell: "zone1", Uid: 101}
			in.Tablets[0].Tablet.Type, in.Tablets[1].Tablet.Type = topodatapb.TabletType_REPLICA, topodatapb.TabletType_PRIMARY
			in.setReading("zone1-100", &Reading{Time: t0, ServerID: 100, Version: "10.11.6-MariaDB", GTIDStrict: true, ReadOnly: true,
				Executed: MustParsePosition("0-100-51"), NetTimeout: 4})
			in.setReading("zone1-101", healthyPrimary(101, "0-101-53"))
			in.reading("zone2-200").Replica.SourcePort = 17101
			in.reading("zone2-201").Replica.SourcePort = 17101
			in.Writers = []Writer{{ServerID: 100, Alias: "zone1-100", TermEnd: MustParsePosition("0-100-50")}, {ServerID: 101, Alias: "zone1-101"}}
		}, want: want{code: NotConnectedToPrimary, has: []string{"ErrantGTID@zone1-100", "NotConnectedToPrimary@zone1-100"}}},
		{name: "drained for a rebuild: reported, left alone", change: func(in *ShardInput) {
			in.Tablets[2].Tablet.Type = topodatapb.TabletType_DRAINED
			in.Tablets[2].Tablet.Tags = map[string]string{RebuildTag: "holds 0-200-9"}
			in.reading("zone2-200").Replica = nil
		}, want: want{code: NeedsRebuild, has: []string{"NeedsRebuild@zone2-200"}, hasNot: []string{"NotConnectedToPrimary"}}},
		{name: "replica follows another replica", change: func(in *ShardInput) {
			in.reading("zone2-201").Replica.SourcePort = 17200
		}, want: want{code: ConnectedToWrongPrimary, has: []string{"ConnectedToWrongPrimary@zone2-201"}}},
		{name: "heartbeat not configured", change: func(in *ShardInput) {
			in.reading("zone2-200").NetTimeout = 60
			in.reading("zone2-200").Replica.HeartbeatPeriod = 30
		}, want: want{code: ReplicaMisconfigured}},
		{name: "semi_sync: replicas first, the primary once they ack", change: func(in *ShardInput) {
			in.Rules.Policy = policySemiSync{}
		}, want: want{code: ReplicaSemiSyncMustBeSet, has: []string{"ReplicaSemiSyncMustBeSet@zone1-101", "ReplicaSemiSyncMustBeSet@zone2-200", "NotEnoughSemiSyncAckers"},
			hasNot: []string{"ReplicaSemiSyncMustBeSet@zone2-201", "PrimarySemiSyncMustBeSet"}}},
		{name: "semi_sync: replicas ack, primary off", change: func(in *ShardInput) {
			in.Rules.Policy = policySemiSync{}
			in.reading("zone1-101").SemiSync.ReplicaEnabled = true
			in.reading("zone2-200").SemiSync.ReplicaEnabled = true
		}, want: want{code: PrimarySemiSyncMustBeSet}},
		{name: "semi_sync fell back to async", change: func(in *ShardInput) {
			in.Rules.Policy = policySemiSync{}
			in.reading("zone1-101").SemiSync.ReplicaEnabled = true
			in.reading("zone2-200").SemiSync.ReplicaEnabled = true
			in.reading("zone1-100").SemiSync = SemiSync{PrimaryEnabled: true, WaitPoint: "AFTER_SYNC", WaitNoReplica: true, TimeoutMS: SemiSyncTimeoutMS}
		}, want: want{code: SemiSyncFallback}},
		{name: "semi_sync with a timeout that falls back", change: func(in *ShardInput) {
			in.Rules.Policy = policySemiSync{}
			in.reading("zone1-101").SemiSync.ReplicaEnabled = true
			in.reading("zone2-200").SemiSync.ReplicaEnabled = true
			in.reading("zone1-100").SemiSync = SemiSync{PrimaryEnabled: true, PrimaryActive: true, WaitPoint: "AFTER_COMMIT", TimeoutMS: 10000}
		}, want: want{code: PrimarySemiSyncMustBeSet}},
		{name: "semi_sync healthy", change: func(in *ShardInput) {
			in.Rules.Policy = policySemiSync{}
			in.reading("zone1-101").SemiSync.ReplicaEnabled = true
			in.reading("zone2-200").SemiSync.ReplicaEnabled = true
			in.reading("zone1-100").SemiSync = SemiSync{PrimaryEnabled: true, PrimaryActive: true, WaitPoint: "AFTER_SYNC", WaitNoReplica: true, TimeoutMS: SemiSyncTimeoutMS}
		}, want: want{code: NoProblem}},
		{name: "policy none: semi-sync left on is turned off", change: func(in *ShardInput) {
			in.reading("zone1-100").SemiSync.PrimaryEnabled = true
			in.reading("zone1-101").SemiSync.ReplicaEnabled = true
		}, want: want{code: PrimarySemiSyncMustNotBeSet, has: []string{"ReplicaSemiSyncMustNotBeSet@zone1-101"}}},
		{name: "cross_cell: only the other cell acks", change: func(in *ShardInput) {
			in.Rules.Policy = policyCrossCell{}
		}, want: want{code: ReplicaSemiSyncMustBeSet, has: []string{"ReplicaSemiSyncMustBeSet@zone2-200"}, hasNot: []string{"ReplicaSemiSyncMustBeSet@zone1-101"}}},
		{name: "gtid_strict_mode off blocks recoveries", change: func(in *ShardInput) {
			in.reading("zone2-200").GTIDStrict = false
			in.setReading("zone1-100", dead("connection refused"))
			for _, a := range []string{"zone1-101", "zone2-200", "zone2-201"} {
				lostPrimary(in.reading(a))
			}
		}, want: want{code: DeadPrimary, has: []string{"GTIDStrictModeOff@zone2-200"}, blocked: true}},
		{name: "MySQL is not handled", change: func(in *ShardInput) {
			in.reading("zone1-101").Version = "8.0.40"
		}, want: want{code: UnsupportedFlavor, blocked: true}},
		{name: "stale PRIMARY record after a failover", change: func(in *ShardInput) {
			in.Record.PrimaryAlias = &topodatapb.TabletAlias{Cell: "zone1", Uid: 101}
			in.Record.PrimaryTermStartTime = vtTime(t0.Add(time.Minute))
			in.Tablets[1].Tablet.Type = topodatapb.TabletType_PRIMARY
			in.Tablets[1].Tablet.PrimaryTermStartTime = vtTime(t0.Add(time.Minute))
			in.setReading("zone1-100", dead("connection refused"))
			in.setReading("zone1-101", healthyPrimary(101, "0-101-60"))
			in.reading("zone2-200").Replica.SourcePort = 17101
			in.reading("zone2-201").Replica.SourcePort = 17101
		}, want: want{code: StaleTopoPrimary, primary: "zone1-101", has: []string{"StaleTopoPrimary@zone1-100", "TabletUnreachable@zone1-100"}}},
		{name: "reparent stopped between the tablet and the shard record", change: func(in *ShardInput) {
			in.Tablets[1].Tablet.Type = topodatapb.TabletType_PRIMARY
			in.Tablets[1].Tablet.PrimaryTermStartTime = vtTime(t0.Add(time.Minute))
			in.setReading("zone1-100", dead("connection refused"))
			in.setReading("zone1-101", healthyPrimary(101, "0-101-60"))
			in.reading("zone2-200").Replica.SourcePort = 17101
			in.reading("zone2-201").Replica.SourcePort = 17101
		}, want: want{code: DeadPrimary, has: []string{"ShardRecordBehind@zone1-101"}}},
		{name: "planned reparent stopped after the demotion: restore", change: func(in *ShardInput) {
			in.Tablets[0].Tablet.Type = topodatapb.TabletType_REPLICA
			in.reading("zone1-100").ReadOnly = true
		}, want: want{code: PrimaryTypeMismatch, has: []string{"PrimaryIsReadOnly@zone1-100"}}},
		{name: "not read yet: no verdict", change: func(in *ShardInput) {
			in.setReading("zone1-100", nil)
		}, want: want{code: NoProblem}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := demoShard()
			if tc.change != nil {
				tc.change(&in)
			}
			a := Analyze(in)
			if a.Code != tc.want.code {
				t.Errorf("code = %s, want %s\n%s", a.Code, tc.want.code, describe(a))
			}
			if tc.want.primary != "" && a.Primary != tc.want.primary {
				t.Errorf("primary = %q, want %q", a.Primary, tc.want.primary)
			}
			if (a.Blocked != "") != tc.want.blocked {
				t.Errorf("blocked = %q, want blocked %v", a.Blocked, tc.want.blocked)
			}
			for _, h := range tc.want.has {
				if !has(a, h) {
					t.Errorf("missing %s\n%s", h, describe(a))
				}
			}
			for _, h := range tc.want.hasNot {
				if has(a, h) {
					t.Errorf("unexpected %s\n%s", h, describe(a))
				}
			}
		})
	}
}

func has(a Analysis, spec string) bool {
	code, tablet, _ := strings.Cut(spec, "@")
	return a.Has(Code(code), tablet)
}

func describe(a Analysis) string {
	var b strings.Builder
	for _, p := range a.Problems {
		fmt.Fprintf(&b, "  %s %s %s: %s\n", p.Action, p.Code, p.Tablet, p.Detail)
	}
	return b.String()
}

// TestAnalyzeActions: what the controller does with each verdict.
func TestAnalyzeActions(t *testing.T) {
	in := demoShard()
	in.setReading("zone1-100", dead("connection refused"))
	for _, a := range []string{"zone1-101", "zone2-200", "zone2-201"} {
		lostPrimary(in.reading(a))
	}
	a := Analyze(in)
	p, ok := a.Recovery()
	if !ok || p.Code != DeadPrimary || p.Tablet != "zone1-100" {
		t.Fatalf("recovery = %+v, %v", p, ok)
	}
	in = demoShard()
	in.setReading("zone1-100", dead("i/o timeout"))
	if a := Analyze(in); a.Has(DeadPrimary, "") {
		t.Fatal("an unreachable primary must not be recovered")
	}
}

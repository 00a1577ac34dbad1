package failover

// The analysis: a pure function from the latest readings of a shard's tablets (and its topo
// records) to the problems it has, in orchestrator's and VTOrc's terms
// (orchestrator go/inst/analysis_dao.go, VTOrc go/vt/vtorc/inst/analysis_problem.go). It does
// no I/O and keeps no state: the controller feeds it, and tests replay recorded readings.

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	topodatapb "vitess.io/vitess/go/vt/proto/topodata"
)

// Code names a problem.
type Code string

// The problems the analysis knows. The shard-wide ones about the primary come first.
const (
	NoProblem Code = "NoProblem"
	// DeadPrimary: the primary is unreachable and every replica is reachable and says its IO
	// thread lost the primary. Recovery: emergency reparent.
	DeadPrimary Code = "DeadPrimary"
	// DeadPrimaryAndSomeReplicas: the same, but some replicas are unreachable too. Recovery:
	// emergency reparent with the replicas that remain, unless the durability policy says an
	// acknowledged write may be on the unreachable ones alone (then Blocked says so).
	DeadPrimaryAndSomeReplicas Code = "DeadPrimaryAndSomeReplicas"
	// DeadPrimaryAndReplicas: the primary and every replica are unreachable: nothing to do.
	DeadPrimaryAndReplicas Code = "DeadPrimaryAndReplicas"
	// DeadPrimaryWithoutReplicas: the primary is unreachable and the shard has no replica.
	DeadPrimaryWithoutReplicas Code = "DeadPrimaryWithoutReplicas"
	// UnreachablePrimary: the primary is unreachable from this gateway but replicas still
	// replicate from it (a network problem between us and it): report, do not act.
	UnreachablePrimary Code = "UnreachablePrimary"
	// ClusterHasNoPrimary: the shard names no primary and no tablet is PRIMARY. Recovery:
	// elect one (emergency reparent with no old primary).
	ClusterHasNoPrimary Code = "ClusterHasNoPrimary"
	// PrimaryTabletDeleted: the shard record names a tablet that does not exist. Recovery:
	// elect, unless a replica still replicates from a live source (then report).
	PrimaryTabletDeleted Code = "PrimaryTabletDeleted"
	// TabletsDisagreeOnPrimary: replicas follow a server that is not the shard's primary and
	// not one of its tablets: report, never act.
	TabletsDisagreeOnPrimary Code = "TabletsDisagreeOnPrimary"
	// GTIDStrictModeOff: a tablet runs without gtid_strict_mode=1, which failover requires.
	GTIDStrictModeOff Code = "GTIDStrictModeOff"
	// UnsupportedFlavor: a tablet runs MySQL, whose GTID sets failover does not handle yet.
	UnsupportedFlavor Code = "UnsupportedFlavor"

	// PrimaryIsReadOnly: the primary is reachable and read-only. Fix: make it writable.
	PrimaryIsReadOnly Code = "PrimaryIsReadOnly"
	// PrimaryHasPrimary: the primary replicates from somewhere. Fix: stop and reset it.
	PrimaryHasPrimary Code = "PrimaryHasPrimary"
	// PrimaryTypeMismatch: the shard's primary's tablet record is not PRIMARY. Fix: make it so.
	PrimaryTypeMismatch Code = "PrimaryTypeMismatch"
	// ShardRecordBehind: a PRIMARY tablet has a newer term than the shard record (a reparent
	// stopped between the two writes). Fix: point the shard record at it.
	ShardRecordBehind Code = "ShardRecordBehind"
	// StaleTopoPrimary: a PRIMARY tablet older than the shard's primary. Fix: make it REPLICA.
	StaleTopoPrimary Code = "StaleTopoPrimary"
	// PrimarySemiSyncMustBeSet / MustNotBeSet: the primary's semi-sync does not match the
	// durability policy. Fix: configure it.
	PrimarySemiSyncMustBeSet    Code = "PrimarySemiSyncMustBeSet"
	PrimarySemiSyncMustNotBeSet Code = "PrimarySemiSyncMustNotBeSet"
	// SemiSyncFallback: the primary has semi-sync enabled but is not waiting for acks: it
	// fell back to asynchronous replication. Report.
	SemiSyncFallback Code = "SemiSyncFallback"
	// PrimarySemiSyncBlocked: the policy wants semi-sync but too few ackers replicate, so the
	// primary's semi-sync is left off (turning it on would block writes). Report.
	PrimarySemiSyncBlocked Code = "NotEnoughSemiSyncAckers"

	// ReplicaIsWritable: a replica has read_only off. Fix: make it read-only.
	ReplicaIsWritable Code = "ReplicaIsWritable"
	// ReplicationStopped: a replica's replication was stopped (no error). Fix: start it.
	ReplicationStopped Code = "ReplicationStopped"
	// ReplicationBroken: a replica's replication stopped on an error (or the primary refuses
	// its position): report; it needs a person or a rebuild.
	ReplicationBroken Code = "ReplicationBroken"
	// NotConnectedToPrimary: a replica has no replication configured (a returning old
	// primary). Fix: repoint it, if it holds nothing the primary lacks; else quarantine it.
	NotConnectedToPrimary Code = "NotConnectedToPrimary"
	// ConnectedToWrongPrimary: a replica replicates from another tablet than the primary.
	// Fix: repoint it (same condition).
	ConnectedToWrongPrimary Code = "ConnectedToWrongPrimary"
	// ErrantGTID: a replica holds transactions the shard's history does not explain. Report;
	// it is never promoted.
	ErrantGTID Code = "ErrantGTID"
	// NeedsRebuild: a tablet was taken out of service (DRAINED) because it holds transactions
	// the primary lacks. Report.
	NeedsRebuild Code = "NeedsRebuild"
	// ReplicaMisconfigured: a replica's heartbeat or slave_net_timeout is not what failover
	// needs to notice a lost primary in seconds. Fix.
	ReplicaMisconfigured Code = "ReplicaMisconfigured"
	// ReplicaSemiSyncMustBeSet / MustNotBeSet: a replica's semi-sync does not match the policy.
	ReplicaSemiSyncMustBeSet    Code = "ReplicaSemiSyncMustBeSet"
	ReplicaSemiSyncMustNotBeSet Code = "ReplicaSemiSyncMustNotBeSet"
	// TabletUnreachable: a replica cannot be read. Report.
	TabletUnreachable Code = "TabletUnreachable"
)

// Action is what the controller does about a problem.
type Action int

const (
	// Report: show it (/debug/failover, metrics), change nothing.
	Report Action = iota
	// Fix: a local repair of one tablet (or one record), run without stopping traffic.
	Fix
	// Recover: a shard-wide recovery (emergency reparent or election).
	Recover
)

func (a Action) String() string { return [...]string{"report", "fix", "recover"}[a] }

// MarshalText names the action.
func (a Action) MarshalText() ([]byte, error) { return []byte(a.String()), nil }

// UnmarshalText reads what MarshalText wrote.
func (a *Action) UnmarshalText(b []byte) error {
	for i, n := range [...]string{"report", "fix", "recover"} {
		if string(b) == n {
			*a = Action(i)
			return nil
		}
	}
	return fmt.Errorf("action %q: want report, fix or recover", b)
}

// Problem is one finding of the analysis.
type Problem struct {
	Code   Code   `json:"code"`
	Tablet string `json:"tablet,omitempty"` // short alias; "" for the shard itself
	Action Action `json:"action"`
	Detail string `json:"detail"`
}

// Analysis is the verdict on one shard.
type Analysis struct {
	Keyspace string `json:"keyspace"`
	Shard    string `json:"shard"`
	// Primary is the shard's primary as the analysis sees it (short alias), "" if none.
	Primary string `json:"primary,omitempty"`
	// Code is the most important problem's code (the first Recover, else the first Fix...),
	// NoProblem when there is none.
	Code     Code      `json:"code"`
	Problems []Problem `json:"problems,omitempty"`
	// Blocked says why a Recover problem is not acted on (GTIDStrictModeOff...), "" if it may be.
	Blocked string `json:"blocked,omitempty"`
}

// Recovery returns the shard-wide recovery to run, if any.
func (a *Analysis) Recovery() (Problem, bool) {
	for _, p := range a.Problems {
		if p.Action == Recover {
			return p, true
		}
	}
	return Problem{}, false
}

// Fixes returns the per-tablet fixes.
func (a *Analysis) Fixes() []Problem {
	var out []Problem
	for _, p := range a.Problems {
		if p.Action == Fix {
			out = append(out, p)
		}
	}
	return out
}

// Has reports whether the analysis found code (for a tablet, or for any when tablet is "").
func (a *Analysis) Has(code Code, tablet string) bool {
	for _, p := range a.Problems {
		if p.Code == code && (tablet == "" || p.Tablet == tablet) {
			return true
		}
	}
	return false
}

// ShardInput is what the analysis reads of one shard.
type ShardInput struct {
	Keyspace, Shard string
	// Record is the shard record (its primary_alias and primary_term_start_time).
	Record *topodatapb.Shard
	// Tablets are the shard's tablets (every cell) with their latest readings; a nil
	// Reading means not read yet.
	Tablets []TabletInput
	Rules   Rules
	// Writers are the servers that have been the shard's primaries (from the journal).
	Writers []Writer
	// NetTimeout is the slave_net_timeout replicas must have (the heartbeat is half of it).
	NetTimeout time.Duration
}

// TabletInput is one tablet record and its latest reading.
type TabletInput struct {
	Tablet  *topodatapb.Tablet
	Reading *Reading
}

// Alias is the tablet's short alias.
func (t TabletInput) Alias() string { return shortAlias(t.Tablet.GetAlias()) }

// RebuildTag is the tablet-record tag that says why a tablet was taken out of service.
const RebuildTag = "vtdirect_needs_rebuild"

// Analyze finds the problems of a shard.
func Analyze(in ShardInput) Analysis {
	a := analyzer{in: in, out: Analysis{Keyspace: in.Keyspace, Shard: in.Shard}}
	a.run()
	a.verdict()
	return a.out
}

type analyzer struct {
	in      ShardInput
	out     Analysis
	primary *TabletInput // the shard's primary, nil if none is known
}

func (a *analyzer) add(code Code, tablet string, action Action, format string, args ...any) {
	a.out.Problems = append(a.out.Problems, Problem{Code: code, Tablet: tablet, Action: action, Detail: fmt.Sprintf(format, args...)})
}

func (a *analyzer) run() {
	if len(a.in.Tablets) == 0 {
		return
	}
	if !a.preconditions() {
		return
	}
	if !a.findPrimary() {
		return
	}
	a.out.Primary = a.primary.Alias()
	if a.primary.Reading == nil {
		return // not read yet: no verdict
	}
	a.checkTopoTypes()
	if !a.primary.Reading.Reachable() {
		a.deadOrUnreachable()
		a.replicas(false)
		return
	}
	a.primaryChecks()
	a.replicas(true)
}

// preconditions reports flavors and modes under which nothing may be acted on.
func (a *analyzer) preconditions() bool {
	ok := true
	for _, t := range a.in.Tablets {
		r := t.Reading
		if !r.Reachable() {
			continue
		}
		if !strings.Contains(strings.ToLower(r.Version), "mariadb") {
			a.add(UnsupportedFlavor, t.Alias(), Report, "%s runs %q: failover handles MariaDB GTID positions only", t.Alias(), r.Version)
			a.out.Blocked = "a tablet is not MariaDB"
			ok = false
			continue
		}
		if !r.GTIDStrict {
			a.add(GTIDStrictModeOff, t.Alias(), Report, "%s has gtid_strict_mode=0; set gtid_strict_mode=1 (SET GLOBAL and in its my.cnf): "+
				"without it a replica's position does not say which transactions it holds", t.Alias())
			a.out.Blocked = "gtid_strict_mode is off on " + t.Alias()
		}
	}
	return ok
}

// findPrimary sets a.primary from the shard record (or, without one, the PRIMARY tablet), or
// reports why there is none.
func (a *analyzer) findPrimary() bool {
	alias := a.in.Record.GetPrimaryAlias()
	if alias == nil {
		if p := a.newestPrimaryTablet(); p != nil {
			a.primary = p
			a.add(ShardRecordBehind, p.Alias(), Fix, "the shard record names no primary but %s is PRIMARY; record it as the shard's primary", p.Alias())
			return true
		}
		if src := a.liveForeignSource(); src != "" {
			a.add(TabletsDisagreeOnPrimary, "", Report, "the shard has no primary, yet replicas replicate from %s; fix the topo by hand", src)
			return false
		}
		a.add(ClusterHasNoPrimary, "", Recover, "the shard names no primary and no tablet is PRIMARY; elect one")
		return false
	}
	for i := range a.in.Tablets {
		if sameAlias(a.in.Tablets[i].Tablet.GetAlias(), alias) {
			a.primary = &a.in.Tablets[i]
			return true
		}
	}
	if src := a.liveForeignSource(); src != "" {
		a.add(TabletsDisagreeOnPrimary, "", Report, "the shard record names %s, which is not a tablet of the shard, and replicas replicate from %s; fix the topo by hand",
			shortAlias(alias), src)
		return false
	}
	if a.anyReplicating() {
		a.add(PrimaryTabletDeleted, "", Report, "the shard record names %s, which has no tablet record, and replicas still replicate from a live source; "+
			"add its tablet record back (`vtdirect topo add-tablet`) or reparent by hand", shortAlias(alias))
		return false
	}
	a.add(PrimaryTabletDeleted, "", Recover, "the shard record names %s, which has no tablet record, and no replica replicates; elect a new primary", shortAlias(alias))
	return false
}

// newestPrimaryTablet is the PRIMARY tablet with the latest term.
func (a *analyzer) newestPrimaryTablet() *TabletInput {
	var best *TabletInput
	for i := range a.in.Tablets {
		t := &a.in.Tablets[i]
		if t.Tablet.GetType() == topodatapb.TabletType_PRIMARY && (best == nil || termOf(t.Tablet).After(termOf(best.Tablet))) {
			best = t
		}
	}
	return best
}

// liveForeignSource returns the source of a replica that replicates (IO thread connected)
// from a server that is none of the shard's tablets, "" if none does.
func (a *analyzer) liveForeignSource() string {
	for _, t := range a.in.Tablets {
		st := t.Reading.replica()
		if !st.IORunning() {
			continue
		}
		if a.tabletAt(st) == nil {
			return st.Source()
		}
	}
	return ""
}

func (a *analyzer) anyReplicating() bool {
	for _, t := range a.in.Tablets {
		if t.Reading.replica().IORunning() {
			return true
		}
	}
	return false
}

// tabletAt returns the tablet a replica status names as its source.
func (a *analyzer) tabletAt(st *ReplicaStatus) *TabletInput {
	for i := range a.in.Tablets {
		if st.replicatesFrom(a.in.Tablets[i].Tablet, a.serverID(&a.in.Tablets[i])) {
			return &a.in.Tablets[i]
		}
	}
	return nil
}

// serverID is a tablet's server id: from its reading, else from the writers recorded.
func (a *analyzer) serverID(t *TabletInput) uint32 {
	if t.Reading.Reachable() && t.Reading.ServerID != 0 {
		return t.Reading.ServerID
	}
	if w, ok := writerOf(a.in.Writers, t.Alias()); ok {
		return w.ServerID
	}
	return 0
}

// checkTopoTypes compares the tablets' types with the shard record, as Vitess's tablets do
// for themselves (shard_sync.go).
func (a *analyzer) checkTopoTypes() {
	p := a.primary
	recTerm := protoTime(a.in.Record.GetPrimaryTermStartTime())
	for i := range a.in.Tablets {
		t := &a.in.Tablets[i]
		if t == p || t.Tablet.GetType() != topodatapb.TabletType_PRIMARY {
			continue
		}
		if termOf(t.Tablet).After(recTerm) && t.Reading.Reachable() && !t.Reading.ReadOnly && t.Reading.replica() == nil {
			a.add(ShardRecordBehind, t.Alias(), Fix, "%s is PRIMARY with a newer term (%s) than the shard record's (%s, %s): a reparent stopped halfway; record %s as the primary",
				t.Alias(), termOf(t.Tablet).Format(time.RFC3339), p.Alias(), recTerm.Format(time.RFC3339), t.Alias())
			continue
		}
		a.add(StaleTopoPrimary, t.Alias(), Fix, "%s is PRIMARY in the topo but the shard's primary is %s; make it a REPLICA", t.Alias(), p.Alias())
	}
	if p.Tablet.GetType() != topodatapb.TabletType_PRIMARY && p.Tablet.GetType() != topodatapb.TabletType_DRAINED {
		if r := p.Reading; r.Reachable() && r.replica() == nil {
			a.add(PrimaryTypeMismatch, p.Alias(), Fix, "the shard's primary %s has tablet type %s; make it PRIMARY", p.Alias(), p.Tablet.GetType())
		}
	}
}

// replicaSet is the tablets other than the primary that replicate or should (DRAINED ones
// are out of service and not counted).
func (a *analyzer) replicaSet() []*TabletInput {
	var out []*TabletInput
	for i := range a.in.Tablets {
		t := &a.in.Tablets[i]
		if t != a.primary && t.Tablet.GetType() != topodatapb.TabletType_DRAINED {
			out = append(out, t)
		}
	}
	return out
}

// deadOrUnreachable classifies an unreachable primary by what its replicas say, as
// orchestrator does: the primary is dead only if no reachable replica still receives from it.
func (a *analyzer) deadOrUnreachable() {
	p := a.primary
	replicas := a.replicaSet()
	var reachable, vouching int
	foreign := ""
	for _, t := range replicas {
		if !t.Reading.Reachable() {
			continue
		}
		reachable++
		st := t.Reading.replica()
		switch {
		case st.IORunning() && st.replicatesFrom(p.Tablet, a.serverID(p)):
			vouching++
		case st.IORunning() && a.tabletAt(st) == nil:
			foreign = st.Source()
		}
	}
	why := p.Reading.errText()
	switch {
	case len(replicas) == 0:
		a.add(DeadPrimaryWithoutReplicas, p.Alias(), Report, "primary %s is unreachable (%s) and the shard has no replica to promote", p.Alias(), why)
	case reachable == 0:
		a.add(DeadPrimaryAndReplicas, p.Alias(), Report, "primary %s and all %d replicas are unreachable (%s): nothing can be promoted", p.Alias(), len(replicas), why)
	case vouching > 0:
		a.add(UnreachablePrimary, p.Alias(), Report, "primary %s is unreachable from this gateway (%s) but %d of %d reachable replicas still replicate from it: "+
			"a network problem between the gateway and the primary; no failover", p.Alias(), why, vouching, reachable)
	case foreign != "":
		a.add(TabletsDisagreeOnPrimary, p.Alias(), Report, "primary %s is unreachable (%s) and a replica replicates from %s, which is not a tablet of the shard; "+
			"no failover: fix the replication or the topo by hand", p.Alias(), why, foreign)
	case reachable == len(replicas):
		a.add(DeadPrimary, p.Alias(), Recover, "primary %s is unreachable (%s) and all %d replicas lost it", p.Alias(), why, reachable)
	default:
		a.add(DeadPrimaryAndSomeReplicas, p.Alias(), Recover, "primary %s is unreachable (%s), %d of %d replicas are unreachable too and the others lost it",
			p.Alias(), why, len(replicas)-reachable, len(replicas))
		var unreached []*topodatapb.Tablet
		for _, t := range replicas {
			if !t.Reading.Reachable() {
				unreached = append(unreached, t.Tablet)
			}
		}
		if why := unreachedAckersReason(a.in.Rules.Policy, p.Tablet, unreached); why != "" {
			a.out.Blocked = why
		}
	}
}

// primaryChecks looks at a reachable primary.
func (a *analyzer) primaryChecks() {
	p := a.primary
	r := p.Reading
	if st := r.replica(); st != nil && (st.IORunning() || st.SQLRunning) {
		a.add(PrimaryHasPrimary, p.Alias(), Fix, "primary %s replicates from %s; stop and reset its replication", p.Alias(), st.Source())
	}
	if r.ReadOnly && p.Tablet.GetType() != topodatapb.TabletType_DRAINED {
		if w := a.otherWritable(); w != "" {
			a.add(TabletsDisagreeOnPrimary, p.Alias(), Report, "primary %s is read-only while %s is writable; no automatic change", p.Alias(), w)
		} else {
			a.add(PrimaryIsReadOnly, p.Alias(), Fix, "primary %s is read-only (every tablet boots read-only); make it writable", p.Alias())
		}
	}
	ackers := a.in.Rules.Policy.Ackers()
	ss := r.SemiSync
	switch {
	case ackers > 0 && !ss.PrimaryEnabled:
		if n := a.replicatingAckers(); n < ackers {
			a.add(PrimarySemiSyncBlocked, p.Alias(), Report, "policy %s wants %d semi-sync ack(s) but only %d acking replica(s) replicate with semi-sync on; "+
				"the primary's semi-sync stays off until enough do", a.in.Rules.Policy.Name(), ackers, n)
		} else {
			a.add(PrimarySemiSyncMustBeSet, p.Alias(), Fix, "policy %s: enable semi-sync on primary %s", a.in.Rules.Policy.Name(), p.Alias())
		}
	case ackers > 0 && !semiSyncSettingsOK(ss):
		a.add(PrimarySemiSyncMustBeSet, p.Alias(), Fix, "primary %s has semi-sync settings (%s, timeout %d ms, wait_no_slave %v) that may fall back to asynchronous replication; set them as the policy needs",
			p.Alias(), ss.WaitPoint, ss.TimeoutMS, ss.WaitNoReplica)
	case ackers > 0 && !ss.PrimaryActive:
		a.add(SemiSyncFallback, p.Alias(), Report, "primary %s has semi-sync enabled but is not waiting for acks (Rpl_semi_sync_master_status OFF): it fell back to asynchronous replication", p.Alias())
	case ackers == 0 && ss.PrimaryEnabled:
		a.add(PrimarySemiSyncMustNotBeSet, p.Alias(), Fix, "policy %s: disable semi-sync on primary %s", a.in.Rules.Policy.Name(), p.Alias())
	}
}

// SemiSyncTimeoutMS is the rpl_semi_sync_master_timeout failover sets: so large that the
// primary never falls back to asynchronous replication (Vitess sets the same idea).
const SemiSyncTimeoutMS = 1 << 40

// semiSyncSettingsOK: AFTER_SYNC, wait even with no replica, and a timeout that never ends.
func semiSyncSettingsOK(ss SemiSync) bool {
	return strings.EqualFold(ss.WaitPoint, "AFTER_SYNC") && ss.WaitNoReplica && ss.TimeoutMS >= SemiSyncTimeoutMS
}

func (a *analyzer) otherWritable() string {
	for _, t := range a.in.Tablets {
		if t.Alias() != a.primary.Alias() && t.Reading.Reachable() && !t.Reading.ReadOnly {
			return t.Alias()
		}
	}
	return ""
}

// replicatingAckers counts replicas that replicate from the primary with semi-sync on and
// would send acks under the policy.
func (a *analyzer) replicatingAckers() int {
	n := 0
	for _, t := range a.replicaSet() {
		r := t.Reading
		if r.Reachable() && r.SemiSync.ReplicaEnabled && r.replica().Replicating() && r.replica().replicatesFrom(a.primary.Tablet, a.serverID(a.primary)) &&
			a.in.Rules.Policy.SendsAcks(a.primary.Tablet, t.Tablet) {
			n++
		}
	}
	return n
}

// replicas checks every replica; live says the primary was read.
func (a *analyzer) replicas(live bool) {
	p := a.primary
	primaryID := uint32(0)
	if live {
		primaryID = p.Reading.ServerID
	}
	for i := range a.in.Tablets {
		t := &a.in.Tablets[i]
		if t == p {
			continue
		}
		r := t.Reading
		if !r.Reachable() {
			a.add(TabletUnreachable, t.Alias(), Report, "%s cannot be read: %s", t.Alias(), r.errText())
			continue
		}
		if t.Tablet.GetType() == topodatapb.TabletType_DRAINED {
			if why := t.Tablet.GetTags()[RebuildTag]; why != "" {
				a.add(NeedsRebuild, t.Alias(), Report, "%s is out of service and needs a rebuild: %s", t.Alias(), why)
			}
			continue
		}
		if !r.ReadOnly {
			a.add(ReplicaIsWritable, t.Alias(), Fix, "%s is a %s with read_only off; make it read-only", t.Alias(), t.Tablet.GetType())
		}
		if !live {
			continue // the dead-primary verdict covers replication
		}
		errant := FindErrant(r.Executed, p.Reading.Executed, true, primaryID, r.ServerID, a.in.Writers)
		if len(errant) > 0 {
			a.add(ErrantGTID, t.Alias(), Report, "%s holds transactions the primary %s lacks: %s; it will never be promoted", t.Alias(), p.Alias(), errantList(errant))
		}
		st := r.Replica
		switch {
		case st == nil:
			a.repointOrQuarantine(t, NotConnectedToPrimary, errant, "%s has no replication configured", t.Alias())
		case !st.replicatesFrom(p.Tablet, a.serverID(p)):
			a.repointOrQuarantine(t, ConnectedToWrongPrimary, errant, "%s replicates from %s, not from the primary %s", t.Alias(), st.Source(), p.Alias())
		case st.LastSQLErrno != 0 && !st.SQLRunning:
			a.add(ReplicationBroken, t.Alias(), Report, "%s: replication stopped on error %d: %s", t.Alias(), st.LastSQLErrno, st.LastSQLError)
		case st.LastIOErrno == errMasterFatalReadingBinlog && !st.IORunning():
			a.add(ReplicationBroken, t.Alias(), Report, "%s: the primary refuses its position (error %d: %s); rebuild it from a backup or the primary",
				t.Alias(), st.LastIOErrno, st.LastIOError)
		case st.IOState == "No" || !st.SQLRunning:
			a.add(ReplicationStopped, t.Alias(), Fix, "%s: replication is stopped (io %s, sql running %v); start it", t.Alias(), st.IOState, st.SQLRunning)
		case a.misconfigured(r):
			a.add(ReplicaMisconfigured, t.Alias(), Fix, "%s: slave_net_timeout %ds and heartbeat %.1fs; want %ds and %.1fs so that a lost primary shows within seconds",
				t.Alias(), r.NetTimeout, st.HeartbeatPeriod, a.wantNetTimeout(), float64(a.wantNetTimeout())/2)
		}
		wantAcks := a.in.Rules.Policy.SendsAcks(p.Tablet, t.Tablet)
		switch {
		case wantAcks && !r.SemiSync.ReplicaEnabled:
			a.add(ReplicaSemiSyncMustBeSet, t.Alias(), Fix, "policy %s: %s must send semi-sync acks", a.in.Rules.Policy.Name(), t.Alias())
		case !wantAcks && r.SemiSync.ReplicaEnabled:
			a.add(ReplicaSemiSyncMustNotBeSet, t.Alias(), Fix, "policy %s: %s must not send semi-sync acks", a.in.Rules.Policy.Name(), t.Alias())
		}
	}
}

// errMasterFatalReadingBinlog is ER_MASTER_FATAL_ERROR_READING_BINLOG (1236): the primary
// cannot serve the replica's position (not in its binlog: the replica has diverged).
const errMasterFatalReadingBinlog = 1236

func (a *analyzer) repointOrQuarantine(t *TabletInput, code Code, errant []Errant, format string, args ...any) {
	detail := fmt.Sprintf(format, args...)
	if len(errant) > 0 {
		a.add(code, t.Alias(), Fix, "%s and holds transactions the primary lacks (%s): take it out of service (DRAINED) for a rebuild", detail, errantList(errant))
		return
	}
	a.add(code, t.Alias(), Fix, "%s; it holds nothing the primary lacks: repoint it to %s", detail, a.primary.Alias())
}

func (a *analyzer) wantNetTimeout() int {
	if a.in.NetTimeout <= 0 {
		return int(DefaultNetTimeout / time.Second)
	}
	return int(a.in.NetTimeout / time.Second)
}

// misconfigured: the net timeout is not the wanted one, or the heartbeat is not half of it
// (VTOrc's ReplicaMisconfigured).
func (a *analyzer) misconfigured(r *Reading) bool {
	want := a.wantNetTimeout()
	return r.NetTimeout != want || math.Abs(r.Replica.HeartbeatPeriod-float64(want)/2) > 0.01
}

// verdict sorts the problems (recoveries, then fixes, then reports; stable) and sets Code.
func (a *analyzer) verdict() {
	slices.SortStableFunc(a.out.Problems, func(x, y Problem) int { return cmp.Compare(y.Action, x.Action) })
	a.out.Code = NoProblem
	if len(a.out.Problems) > 0 {
		a.out.Code = a.out.Problems[0].Code
	}
}

func errantList(e []Errant) string {
	parts := make([]string, len(e))
	for i, x := range e {
		parts[i] = x.String()
	}
	return strings.Join(parts, ", ")
}

func (r *Reading) replica() *ReplicaStatus {
	if !r.Reachable() {
		return nil
	}
	return r.Replica
}

func (r *Reading) errText() string {
	switch {
	case r == nil || r.Time.IsZero():
		return "not read yet"
	case r.Err != "":
		return r.Err
	}
	return "reachable"
}

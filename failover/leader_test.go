package failover_test

import (
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vtdirect/vtdirect/failover"
)

// TestTwoGatewaysLeaderDiesMidRecovery: of two gateways only the leader acts; the leader dies
// in the middle of an emergency reparent (after it promoted the new primary, before it
// repointed the replicas and wrote the topo); the other gateway takes over within the lease
// TTL, finishes the recovery, and the shard never has two writable primaries. No
// acknowledged write is lost.
func TestTwoGatewaysLeaderDiesMidRecovery(t *testing.T) {
	for _, at := range []string{"repoint", "apply-relay-logs"} {
		t.Run("dies at "+at, func(t *testing.T) { leaderDiesAt(t, at) })
	}
}

func leaderDiesAt(t *testing.T, at string) {
	c := startCluster(t, failover.PolicySemiSync)
	frozen := make(chan struct{})
	unfreeze := sync.OnceFunc(func() { close(frozen) })
	var a *gw
	var died sync.Once
	diedAt := make(chan string, 1)
	a = startGateway(t, c, gwOptions{cell: "zone1", lease: 2 * time.Second, stepHook: func(id, step string) error {
		if step != at {
			return nil
		}
		// The leader "dies" here: its topo connection closes (its leases expire after the
		// TTL) and the process stops doing anything.
		died.Do(func() {
			a.ts.Close()
			diedAt <- id
			<-frozen
		})
		return errors.New("this gateway is dead")
	}})
	t.Cleanup(unfreeze)
	waitFor(t, 10*time.Second, "the first gateway to lead", func() (bool, string) { return a.Failover().IsLeader(), "not leader" })
	b := startGateway(t, c, gwOptions{cell: "zone2", lease: 2 * time.Second})
	waitSemiSync(t, c)
	if b.Failover().IsLeader() {
		t.Fatal("two leaders")
	}
	db := openDB(t, gatewayDSN(b, "commerce"))
	w := startWriters(t, db, 4, 20*time.Millisecond)
	w.waitMore(t, 50)
	ww := watchWritable(t, c)

	c.Primary().MariaDB.Kill()
	var abandoned string
	select {
	case abandoned = <-diedAt:
	case <-time.After(30 * time.Second):
		t.Fatal("the leader never reached step " + at)
	}
	t.Logf("leader died at step %s of recovery %s", at, abandoned)
	next := waitNewPrimary(t, c, "zone1-100", 60*time.Second)
	waitFor(t, 20*time.Second, "the second gateway to lead", func() (bool, string) { return b.Failover().IsLeader(), "not leader" })
	w.waitMore(t, 20)
	w.halt()
	ww.check(t)
	checkAllPresent(t, c, w.ackedIDs(), "zone1-100")
	// The journal: the dead leader's recovery abandoned at the step, the other's success.
	var redo *failover.Recovery
	for _, r := range recoveries(t, c) {
		if r.ID == abandoned && r.Status != failover.StatusAbandoned {
			t.Errorf("the dead leader's recovery is %s, want abandoned: %s", r.Status, r.Error)
		}
		if strings.Contains(r.RedoOf, abandoned) {
			redo = r
		}
	}
	if redo == nil || redo.Status != failover.StatusSuccess || redo.NewPrimary != next {
		t.Fatalf("no successful recovery took over %s: %+v", abandoned, redo)
	}
	t.Logf("recovery %s took over and promoted %s", redo.ID, next)
}

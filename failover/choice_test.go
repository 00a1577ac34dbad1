package failover_test

import (
	"strings"
	"testing"
	"time"

	"github.com/vtdirect/vtdirect/failover"
	"github.com/vtdirect/vtdirect/local"
)

// makeErrant writes a transaction on a replica directly (the admin user bypasses
// read_only): a GTID of the replica's own server id that the primary never had.
func makeErrant(t *testing.T, c *local.Cluster, alias string) {
	t.Helper()
	m := c.Tablet(alias).MariaDB
	db := openDB(t, "vt_dba:vt_dba@tcp("+m.Addr()+")/commerce")
	if _, err := db.ExecContext(t.Context(), "INSERT INTO acked (id, writer) VALUES (-1, -1)"); err != nil {
		t.Fatal(err)
	}
}

// TestPromotionRulesAndErrant: with the primary dead, a replica with an errant transaction is
// never promoted, a prefer_not replica is promoted only when no other can be, an rdonly or a
// must_not one never; when none can be, the recovery refuses and says why in the journal.
func TestPromotionRulesAndErrant(t *testing.T) {
	for _, tc := range []struct {
		name   string
		policy string
		rules  map[string]failover.Rule
		errant string
		kill   []string
		want   string // the new primary, "" for a refusal
		reason string // in the refused recovery's error
		// blocked: the analysis refuses before any recovery starts, with reason.
		blocked bool
	}{
		{name: "errant never, prefer_not when nothing else", policy: failover.PolicyNone,
			rules: map[string]failover.Rule{"zone2-200": failover.PreferNot}, errant: "zone1-101", kill: []string{"zone1-100"}, want: "zone2-200"},
		{name: "prefer_not loses to neutral", policy: failover.PolicyNone,
			rules: map[string]failover.Rule{"zone1-101": failover.PreferNot}, kill: []string{"zone1-100"}, want: "zone2-200"},
		{name: "must_not and rdonly never", policy: failover.PolicyNone,
			rules: map[string]failover.Rule{"zone2-200": failover.MustNot}, errant: "zone1-101", kill: []string{"zone1-100"},
			reason: "must_not"},
		{name: "semi_sync refuses while a replica that could have acked is dead", policy: failover.PolicySemiSync,
			kill: []string{"zone1-100", "zone2-200"}, blocked: true, reason: "zone2-200 could have sent the semi-sync ack"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := startCluster(t, tc.policy)
			g := startGateway(t, c, gwOptions{rules: tc.rules})
			if tc.policy == failover.PolicySemiSync {
				waitSemiSync(t, c)
			}
			if tc.errant != "" {
				makeErrant(t, c, tc.errant)
				waitFor(t, 10*time.Second, "the errant replica reported", func() (bool, string) {
					a := analysis(g)
					return a.Has(failover.ErrantGTID, tc.errant), describe(a)
				})
			}
			ww := watchWritable(t, c)
			for _, k := range tc.kill {
				c.Tablet(k).MariaDB.Kill()
			}
			if tc.want != "" {
				if got := waitNewPrimary(t, c, "zone1-100", 30*time.Second); got != tc.want {
					t.Fatalf("promoted %s, want %s", got, tc.want)
				}
				ww.check(t)
				return
			}
			if tc.blocked {
				waitFor(t, 30*time.Second, "the recovery blocked", func() (bool, string) {
					a := analysis(g)
					return a.Code == failover.DeadPrimaryAndSomeReplicas && strings.Contains(a.Blocked, tc.reason), describe(a) + "; blocked: " + a.Blocked
				})
				if p := shardPrimary(t, c); p != "zone1-100" {
					t.Fatalf("primary %s after a refusal", p)
				}
				ww.check(t)
				return
			}
			var refused *failover.Recovery
			waitFor(t, 30*time.Second, "a refused recovery in the journal", func() (bool, string) {
				for _, r := range recoveries(t, c) {
					if r.Kind == failover.KindEmergency && r.Status == failover.StatusAborted {
						refused = r
						return true, ""
					}
				}
				return false, "none"
			})
			if !strings.Contains(refused.Error, tc.reason) {
				t.Fatalf("refusal %q does not say %q", refused.Error, tc.reason)
			}
			if p := shardPrimary(t, c); p != "zone1-100" {
				t.Fatalf("primary %s after a refusal", p)
			}
			ww.check(t)
			// The refusal is blocked from repeating (anti-flapping does not apply to aborted
			// recoveries, so the analysis keeps asking): the gateway still shows DeadPrimary.
			if a := analysis(g); a.Code != failover.DeadPrimary && a.Code != failover.DeadPrimaryAndSomeReplicas {
				t.Fatalf("analysis after the refusal: %s", describe(a))
			}
			t.Logf("refused: %s", refused.Error)
		})
	}
}

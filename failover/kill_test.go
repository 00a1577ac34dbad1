package failover_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	topodatapb "vitess.io/vitess/go/vt/proto/topodata"

	"github.com/vtdirect/vtdirect/failover"
	"github.com/vtdirect/vtdirect/local"
)

// killRounds is how many times TestKillPrimary kills the primary (the benchmark does 20).
const killRounds = 5

// TestKillPrimary: with semi_sync, the primary is killed with SIGKILL while 4 clients insert
// through the gateway, five times in a row; each time the gateway promotes a replica, the
// clients ride through the buffer, and no acknowledged insert is lost on any tablet. The old
// primary comes back read-only and rejoins as a replica; one that holds an insert that was in
// flight at the kill (in its binlog, never received by a replica, so never acknowledged) is
// taken out of service instead, and rebuilt as an operator would.
func TestKillPrimary(t *testing.T) {
	c := startCluster(t, failover.PolicySemiSync)
	g := startGateway(t, c, gwOptions{poll: time.Second})
	waitSemiSync(t, c)
	db := openDB(t, gatewayDSN(g, "commerce"))
	db.SetMaxOpenConns(8)
	w := startWriters(t, db, 4, 20*time.Millisecond)
	ww := watchWritable(t, c)
	var durations []time.Duration
	for round := range killRounds {
		old := shardPrimary(t, c)
		waitFor(t, 10*time.Second, "inserts through the gateway", func() (bool, string) {
			return time.Since(time.Unix(0, w.lastOK.Load())) < 200*time.Millisecond, "no recent insert"
		})
		killed := time.Now()
		c.Tablet(old).MariaDB.Kill()
		dead := time.Now() // an insert acknowledged after this went to the new primary
		next := waitNewPrimary(t, c, old, 30*time.Second)
		var first time.Time
		waitFor(t, 30*time.Second, "an insert acknowledged after the kill", func() (bool, string) {
			var ok bool
			first, ok = w.firstAckAfter(dead)
			return ok, "none yet"
		})
		durations = append(durations, first.Sub(killed))
		t.Logf("round %d: killed %s, %s promoted, first write %v after the kill", round+1, old, next, first.Sub(killed).Round(time.Millisecond))
		// Acknowledge the recovery (as an operator would), bring the old primary back: it
		// boots read-only and failover makes it a replica of the new primary.
		if _, err := failover.NewJournal(c.Topo).Ack(t.Context(), "commerce", "0", "test", "round", time.Now()); err != nil {
			t.Fatal(err)
		}
		if err := c.Tablet(old).MariaDB.Start(t.Context()); err != nil {
			t.Fatal(err)
		}
		waitRejoined(t, c, old, next)
	}
	w.halt()
	ww.check(t)
	ids := w.ackedIDs()
	checkAllPresent(t, c, ids)
	slices.Sort(durations)
	t.Logf("%d acknowledged inserts, %d errors; kill to first write: p50 %v, max %v", len(ids), len(w.errors()), durations[len(durations)/2], durations[len(durations)-1])
	for _, e := range head(w.errors(), 10) {
		t.Logf("client error: %s", e)
	}
	for _, r := range recoveries(t, c) {
		if r.Kind == failover.KindEmergency && r.Status != failover.StatusSuccess {
			t.Errorf("recovery %s: %s: %s", r.ID, r.Status, r.Error)
		}
	}
	// What an operator sees: the metrics and /debug/failover.
	metrics := httpGet(t, "http://"+g.HTTPAddr()+"/metrics")
	for _, want := range []string{
		fmt.Sprintf(`vtdirect_failover_recoveries_total{keyspace="commerce",kind="emergency",result="success",shard="0"} %d`, killRounds),
		"vtdirect_failover_detection_duration_seconds_count", "vtdirect_failover_leader 1",
		`vtdirect_buffer_requests_total{keyspace="commerce",result="released",shard="0"}`,
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	text := httpGet(t, "http://"+g.HTTPAddr()+"/debug/failover?format=text")
	if !strings.Contains(text, "(LEADER)") || !strings.Contains(text, "emergency (DeadPrimary) success") {
		t.Errorf("/debug/failover?format=text:\n%s", text)
	}
	var st failover.Status
	if err := json.Unmarshal([]byte(httpGet(t, "http://"+g.HTTPAddr()+"/debug/failover")), &st); err != nil || len(st.Shards) != 1 {
		t.Errorf("/debug/failover JSON: %v (%d shards)", err, len(st.Shards))
	}
}

func httpGet(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s %v", url, resp.Status, err)
	}
	return string(b)
}

// waitSemiSync waits until failover configured semi-sync (replicas first, then the primary).
func waitSemiSync(t *testing.T, c *local.Cluster) {
	t.Helper()
	db := openDB(t, c.Tablet(shardPrimary(t, c)).MariaDB.DSN(""))
	waitFor(t, 30*time.Second, "semi-sync on the primary", func() (bool, string) {
		var name, v string
		if err := db.QueryRowContext(t.Context(), "SHOW GLOBAL STATUS LIKE 'Rpl_semi_sync_master_clients'").Scan(&name, &v); err != nil {
			return false, err.Error()
		}
		var on int
		_ = db.QueryRowContext(t.Context(), "SELECT @@global.rpl_semi_sync_master_enabled").Scan(&on)
		return on == 1 && v != "0", "clients " + v
	})
}

// waitRejoined waits until the returned old primary replicates from the new one.
func waitRejoined(t *testing.T, c *local.Cluster, old, primary string) {
	t.Helper()
	db := openDB(t, c.Tablet(old).MariaDB.DSN(""))
	rebuilt := false
	waitFor(t, 60*time.Second, old+" replicating from "+primary, func() (bool, string) {
		ctx, cancel := context.WithTimeout(t.Context(), time.Second)
		defer cancel()
		if !rebuilt && tabletType(t, c, old) == topodatapb.TabletType_DRAINED {
			t.Logf("%s was taken out of service (it holds a transaction no replica has); rebuilding it", old)
			if err := c.RebuildTablet(t.Context(), old); err != nil {
				t.Fatal(err)
			}
			rebuilt = true
			db = openDB(t, c.Tablet(old).MariaDB.DSN(""))
			return false, "rebuilt"
		}
		st, ok, err := local.QueryReplicaStatus(ctx, db)
		if err != nil || !ok {
			return false, "not a replica yet"
		}
		return st.Running() && st.MasterPort == c.Tablet(primary).MariaDB.Port(), st.String()
	})
	if typ := tabletType(t, c, old); typ != topodatapb.TabletType_REPLICA {
		t.Fatalf("%s rejoined as %s, want REPLICA", old, typ)
	}
}

package failover_test

import (
	"context"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	toxiproxy "github.com/Shopify/toxiproxy/v2"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
	topodatapb "vitess.io/vitess/go/vt/proto/topodata"

	"github.com/vtdirect/vtdirect/failover"
	"github.com/vtdirect/vtdirect/local"
)

// startProxy runs a Toxiproxy proxy in this process in front of upstream.
func startProxy(t *testing.T, upstream string) *toxiproxy.Proxy {
	t.Helper()
	srv := toxiproxy.NewServer(toxiproxy.NewMetricsContainer(prometheus.NewRegistry()), zerolog.Nop())
	p := toxiproxy.NewProxy(srv, "primary", "127.0.0.1:0", upstream)
	if err := p.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Stop)
	return p
}

// cut makes the proxy a black hole: connections open but no byte passes either way (a
// network partition, not a refused connection).
func cut(t *testing.T, p *toxiproxy.Proxy) {
	t.Helper()
	for _, dir := range []string{"upstream", "downstream"} {
		body := fmt.Sprintf(`{"name":"partition_%s","type":"timeout","stream":"%s","toxicity":1,"attributes":{"timeout":0}}`, dir, dir)
		if _, err := p.Toxics.AddToxicJson(strings.NewReader(body)); err != nil {
			t.Fatal(err)
		}
	}
}

func heal(p *toxiproxy.Proxy) { p.Toxics.ResetToxics(context.Background()) }

// TestUnreachablePrimary: the primary is cut off from the gateway only (a Toxiproxy between
// them), its replicas still replicate from it: the analysis says UnreachablePrimary and
// failover does nothing; when the path heals, writes go on to the same primary.
func TestUnreachablePrimary(t *testing.T) {
	c := startCluster(t, failover.PolicySemiSync)
	primary := c.Primary()
	proxy := startProxy(t, primary.MariaDB.Addr())
	// The gateway reaches the primary through the proxy; the replicas keep their own path.
	_, port, _ := net.SplitHostPort(proxy.Listen)
	var pp int
	fmt.Sscanf(port, "%d", &pp)
	if _, err := c.Topo.UpdateTabletFields(t.Context(), primary.Record.Alias, func(tab *topodatapb.Tablet) error {
		tab.MysqlPort = int32(pp)
		tab.PortMap["mysql"] = int32(pp)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	g := startGateway(t, c, gwOptions{poll: 200 * time.Millisecond})
	waitSemiSync(t, c)
	db := openDB(t, gatewayDSN(g, "commerce"))
	if _, err := db.ExecContext(t.Context(), "INSERT INTO acked (id, writer) VALUES (1, 0)"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "a healthy analysis", func() (bool, string) {
		a := analysis(g)
		return a.Code == failover.NoProblem, describe(a)
	})

	cut(t, proxy)
	waitFor(t, 20*time.Second, "UnreachablePrimary", func() (bool, string) {
		a := analysis(g)
		return a.Code == failover.UnreachablePrimary, describe(a)
	})
	// It stays so for many polls, and nothing is recovered.
	polls := 0
	last := g.Failover().Status().LastPoll
	waitFor(t, 30*time.Second, "15 more polls", func() (bool, string) {
		if lp := g.Failover().Status().LastPoll; lp.After(last) {
			last, polls = lp, polls+1
			if a := analysis(g); a.Code != failover.UnreachablePrimary {
				t.Fatalf("analysis while the primary is cut off from the gateway only: %s", describe(a))
			}
		}
		return polls >= 15, fmt.Sprintf("%d polls", polls)
	})
	if p := shardPrimary(t, c); p != "zone1-100" {
		t.Fatalf("the primary changed to %s: failover acted on an unreachable primary", p)
	}
	for _, r := range recoveries(t, c) {
		if r.Kind == failover.KindEmergency {
			t.Fatalf("an emergency recovery ran: %+v", r)
		}
	}
	// The replicas still replicate from it: a write made on the primary directly reaches them.
	direct := openDB(t, primary.MariaDB.DSN("commerce"))
	if _, err := direct.ExecContext(t.Context(), "INSERT INTO acked (id, writer) VALUES (2, 0)"); err != nil {
		t.Fatal(err)
	}
	for _, r := range c.Tablets() {
		if r != primary {
			if err := local.WaitCaughtUp(t.Context(), primary.MariaDB, r.MariaDB); err != nil {
				t.Fatal(err)
			}
		}
	}
	heal(proxy)
	waitFor(t, 20*time.Second, "a write through the gateway after the path healed", func() (bool, string) {
		ctx, cancel := context.WithTimeout(t.Context(), 3*time.Second)
		defer cancel()
		_, err := db.ExecContext(ctx, "INSERT INTO acked (id, writer) VALUES (3, 0) ON DUPLICATE KEY UPDATE writer = 0")
		return err == nil, fmt.Sprint(err)
	})
	checkAllPresent(t, c, []int64{1, 2, 3})
}

func analysis(g *gw) failover.Analysis {
	for _, s := range g.Failover().Status().Shards {
		if s.Keyspace == "commerce" && s.Shard == "0" {
			return s.Analysis
		}
	}
	return failover.Analysis{}
}

func describe(a failover.Analysis) string {
	var b strings.Builder
	b.WriteString(string(a.Code))
	for _, p := range a.Problems {
		fmt.Fprintf(&b, "; %s %s: %s", p.Code, p.Tablet, p.Detail)
	}
	return b.String()
}

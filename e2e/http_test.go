package e2e

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
)

// httpGet fetches a path of the shared gateway's HTTP listener.
func httpGet(t *testing.T, path string) (int, string) {
	t.Helper()
	return httpGetFrom(t, gw, path)
}

// httpGetFrom fetches a path of g's HTTP listener.
func httpGetFrom(t *testing.T, g *gatewayT, path string) (int, string) {
	t.Helper()
	resp, err := http.Get("http://" + g.HTTPAddr() + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(body)
}

func TestDebugPickerExplains(t *testing.T) {
	code, body := httpGet(t, "/debug/picker?keyspace=commerce&types=REPLICA")
	if code != http.StatusOK {
		t.Fatalf("status %d: %s", code, body)
	}
	var x struct {
		Candidates []struct {
			Alias string `json:"alias"`
			Rank  int    `json:"rank"`
		} `json:"candidates"`
		Rejected []struct {
			Alias string `json:"alias"`
		} `json:"rejected"`
	}
	if err := json.Unmarshal([]byte(body), &x); err != nil {
		t.Fatalf("%v: %s", err, body)
	}
	if len(x.Candidates) != 2 || x.Candidates[0].Alias != "zone1-101" || x.Candidates[1].Alias != "zone2-200" {
		t.Fatalf("candidates %+v, want zone1-101 then zone2-200", x.Candidates)
	}
	if len(x.Rejected) != 2 {
		t.Fatalf("rejected %+v, want the primary and the rdonly", x.Rejected)
	}
	code, body = httpGet(t, "/debug/picker?keyspace=commerce&types=REPLICA&cell_preference=nonsense")
	if code != http.StatusBadRequest || !strings.Contains(body, "OnlySpecified") {
		t.Fatalf("bad cell_preference: status %d, %q (want 400 listing the valid names)", code, body)
	}
	code, body = httpGet(t, "/debug/picker?keyspace=commerce&types=REPLICA&format=text")
	if code != http.StatusOK || !strings.Contains(body, "zone1-101") {
		t.Fatalf("text format: %d %q", code, body)
	}
}

func TestDebugStatusAndMetrics(t *testing.T) {
	code, body := httpGet(t, "/debug/status")
	if code != http.StatusOK || !strings.Contains(body, `"alias": "zone1-0000000100"`) || !strings.Contains(body, `"serving": true`) {
		t.Fatalf("/debug/status: %d %s", code, body)
	}
	code, body = httpGet(t, "/metrics")
	if code != http.StatusOK || !strings.Contains(body, "go_goroutines") || !strings.Contains(body, `vttablet_mysql_count{keyspace="commerce",shard="0",tablet="zone1-0000000100"}`) ||
		!strings.Contains(body, `vttablet_conn_pool_capacity{keyspace="commerce",shard="0",tablet="zone1-0000000100"} 8`) {
		t.Fatalf("/metrics: %d", code)
	}
}

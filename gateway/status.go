package gateway

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/vtdirect/vtdirect/discovery"
)

type tabletStatus struct {
	Alias     string  `json:"alias"`
	Keyspace  string  `json:"keyspace"`
	Shard     string  `json:"shard"`
	Type      string  `json:"type"`
	MySQL     string  `json:"mysql"`
	Reachable bool    `json:"reachable"`
	Serving   bool    `json:"serving"`
	LagSec    float64 `json:"lag_seconds"`
	Error     string  `json:"error,omitempty"`
	LastProbe string  `json:"last_probe,omitempty"`
	// Pages are the tablet's own pages (/<alias>/debug/...).
	Pages map[string]string `json:"pages"`
}

// statusHandler serves /debug/status: the tablets the gateway serves and their health, as JSON.
func statusHandler(reg *discovery.Registry, cell string) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		snap := reg.Snapshot()
		out := struct {
			Cell      string         `json:"cell"`
			Keyspaces []string       `json:"keyspaces"`
			TopoError string         `json:"topo_error,omitempty"`
			Tablets   []tabletStatus `json:"tablets"`
		}{Cell: cell, Keyspaces: snap.Keyspaces, Tablets: []tabletStatus{}}
		if snap.TopoErr != nil {
			out.TopoError = snap.TopoErr.Error()
		}
		for _, t := range snap.Tablets() {
			ts := tabletStatus{
				Alias: t.Alias, Keyspace: t.Keyspace, Shard: t.Shard, Type: t.Type.String(),
				MySQL: t.Server.Addr(), Reachable: t.Health().Reachable, Serving: t.Health().Serving,
				LagSec: t.Health().Lag.Seconds(), Pages: tabletLinks(t.Alias),
			}
			if t.Health().Err != nil {
				ts.Error = t.Health().Err.Error()
			}
			if !t.Health().LastProbe.IsZero() {
				ts.LastProbe = t.Health().LastProbe.Format(time.RFC3339Nano)
			}
			out.Tablets = append(out.Tablets, ts)
		}
		w.Header().Set("Content-Type", "application/json")
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		_ = enc.Encode(out)
	}
}

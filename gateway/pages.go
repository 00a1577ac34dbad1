package gateway

// The tablets' pages, as vttablet has them, one set per tablet under its alias
// (/zone1-0000000100/debug/status, as the RFC says), and root pages that summarise every
// tablet with links to its own. A tablet's pages exist while it is in the registry's latest
// snapshot: they appear and disappear with the tablets. An alias may be written short
// (zone1-100) or padded (zone1-0000000100).

import (
	"context"
	"encoding/json"
	"fmt"
	"html/template"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/vtdirect/vtdirect/discovery"
	"github.com/vtdirect/vtdirect/picker"
	"github.com/vtdirect/vtdirect/tabletserver"
)

// tabletPages are the pages of each tablet, under /<alias>/debug/.
var tabletPages = []string{"status", "pools", "livequeryz", "txz", "health", "vars"}

func (g *Gateway) pages(mux *http.ServeMux) {
	mux.HandleFunc("/{alias}/debug/{page}", g.tabletPage)
	mux.HandleFunc("/debug/tablets", g.tabletsPage)
	mux.HandleFunc("/debug/pools", g.poolsPage)
	mux.HandleFunc("/debug/livequeryz", g.liveQueriesPage)
	mux.HandleFunc("/debug/txz", g.transactionsPage)
	mux.HandleFunc("/debug/health", g.healthPage)
}

// tabletLinks are a tablet's pages.
func tabletLinks(alias string) map[string]string {
	m := make(map[string]string, len(tabletPages))
	for _, p := range tabletPages {
		m[p] = "/" + alias + "/debug/" + p
	}
	return m
}

// findTablet finds a tablet of the latest snapshot by its alias, short or padded.
func findTablet(snap *discovery.Snapshot, alias string) *discovery.Tablet {
	a, err := picker.ParseAlias(alias)
	if err != nil {
		return nil
	}
	return snap.Tablet(a)
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

func (g *Gateway) tabletPage(w http.ResponseWriter, r *http.Request) {
	t := findTablet(g.Registry.Snapshot(), r.PathValue("alias"))
	if t == nil {
		http.Error(w, fmt.Sprintf("no tablet %s in the gateway's topology (see /debug/tablets)", r.PathValue("alias")), http.StatusNotFound)
		return
	}
	switch r.PathValue("page") {
	case "status":
		g.tabletStatusHTML(w, t)
	case "pools":
		writeJSON(w, tabletPool(t))
	case "livequeryz":
		writeJSON(w, g.liveQueries(r.Context(), []*discovery.Tablet{t}, false))
	case "txz":
		writeJSON(w, g.liveQueries(r.Context(), []*discovery.Tablet{t}, true))
	case "health":
		writeJSON(w, tabletHealth(t))
	case "vars":
		g.tabletVars(w, t)
	default:
		http.Error(w, fmt.Sprintf("no page %s; a tablet's pages are %s", r.PathValue("page"), strings.Join(tabletPages, ", ")), http.StatusNotFound)
	}
}

// healthJSON is a Health as the pages show it.
type healthJSON struct {
	Reachable          bool    `json:"reachable"`
	Serving            bool    `json:"serving"`
	ReadOnly           bool    `json:"read_only"`
	ReplicationRunning bool    `json:"replication_running"`
	LagSec             float64 `json:"lag_seconds"`
	Error              string  `json:"error,omitempty"`
	Time               string  `json:"time,omitempty"`
}

func toHealthJSON(h tabletserver.Health) healthJSON {
	j := healthJSON{Reachable: h.Reachable, Serving: h.Serving, ReadOnly: h.ReadOnly, ReplicationRunning: h.ReplicationRunning, LagSec: h.Lag.Seconds()}
	if h.Err != nil {
		j.Error = h.Err.Error()
	}
	if !h.LastProbe.IsZero() {
		j.Time = h.LastProbe.Format(time.RFC3339Nano)
	}
	return j
}

type tabletHealthJSON struct {
	Alias   string       `json:"alias"`
	Current healthJSON   `json:"current"`
	History []healthJSON `json:"history"` // newest first
}

func tabletHealth(t *discovery.Tablet) tabletHealthJSON {
	out := tabletHealthJSON{Alias: t.Alias, Current: toHealthJSON(t.Health()), History: []healthJSON{}}
	for _, c := range t.Server.HealthHistory() {
		out.History = append(out.History, toHealthJSON(c.Health))
	}
	return out
}

// poolJSON is a tablet's share of its server's connections.
type poolJSON struct {
	Alias          string  `json:"alias"`
	Server         string  `json:"server"`
	Database       string  `json:"database"`
	QueryCapacity  int     `json:"query_capacity"`
	QueryInUse     int     `json:"query_in_use"`
	QueryWaits     uint64  `json:"query_waits"`
	QueryTimeouts  uint64  `json:"query_wait_timeouts"`
	ReservedCap    int     `json:"reserved_capacity"`
	ReservedInUse  int     `json:"reserved_in_use"`
	ReservedWaits  uint64  `json:"reserved_waits"`
	WaitSeconds    float64 `json:"wait_seconds"`
	ServerIdle     int     `json:"server_idle"`
	ServerLimit    int     `json:"server_max_connections"`
	QueryTimeout   string  `json:"query_timeout"`
	TxTimeout      string  `json:"transaction_timeout"`
	Queries        uint64  `json:"queries"`
	Rows           uint64  `json:"rows"`
	BackendErrors  uint64  `json:"backend_errors"`
	QueriesKilled  uint64  `json:"queries_killed"`
	TxKilled       uint64  `json:"transactions_killed"`
	ServerTablets  int     `json:"server_tablets"`
	PoolWaitMaxSec float64 `json:"pool_timeout_seconds"`
}

func tabletPool(t *discovery.Tablet) poolJSON {
	st := t.Server.Stats()
	cfg := t.Server.Config()
	be := t.Server.Backend().Stats()
	return poolJSON{Alias: t.Alias, Server: be.Key.String(), Database: t.Server.DBName(),
		QueryCapacity: st.Data.Capacity, QueryInUse: st.Data.InUse, QueryWaits: st.Data.Waits, QueryTimeouts: st.Data.WaitTimeouts,
		ReservedCap: st.Reserved.Capacity, ReservedInUse: st.Reserved.InUse, ReservedWaits: st.Reserved.Waits,
		WaitSeconds: st.Data.WaitTime.Seconds(), ServerIdle: be.Idle, ServerLimit: be.MaxConnections, ServerTablets: be.Tablets,
		QueryTimeout: cfg.QueryTimeout.String(), TxTimeout: cfg.TxTimeout.String(), PoolWaitMaxSec: cfg.PoolWaitTimeout.Seconds(),
		Queries: st.QueryTime.Count, Rows: st.Rows, BackendErrors: st.BackendErrors, QueriesKilled: st.Kills, TxKilled: st.Data.Killed}
}

// liveQuery is a connection handed out to a tablet and what MySQL says it does.
type liveQuery struct {
	Tablet      string  `json:"tablet"`
	ThreadID    uint32  `json:"thread_id"`
	Database    string  `json:"database"`
	Held        bool    `json:"held"`
	RunningSec  float64 `json:"running_seconds,omitempty"`
	TxOpenSec   float64 `json:"transaction_seconds,omitempty"`
	Command     string  `json:"command,omitempty"`
	State       string  `json:"state,omitempty"`
	Query       string  `json:"query,omitempty"`
	Transaction bool    `json:"in_transaction"`
}

// liveQueries lists the tablets' connections running a statement (or, with tx, inside a
// transaction), with the query text MySQL's process list has for them: the per-query path
// keeps no copy of any query.
func (g *Gateway) liveQueries(ctx context.Context, tabs []*discovery.Tablet, tx bool) []liveQuery {
	now := time.Now()
	out := []liveQuery{}
	byBackend := map[*tabletserver.Backend][]int{}
	for _, t := range tabs {
		for _, c := range t.Server.Connections() {
			if tx && c.TxStart.IsZero() || !tx && c.Running.IsZero() {
				continue
			}
			q := liveQuery{Tablet: t.Alias, ThreadID: c.ThreadID, Database: c.Schema, Held: c.Held, Transaction: !c.TxStart.IsZero()}
			if !c.Running.IsZero() {
				q.RunningSec = now.Sub(c.Running).Seconds()
			}
			if !c.TxStart.IsZero() {
				q.TxOpenSec = now.Sub(c.TxStart).Seconds()
			}
			byBackend[t.Server.Backend()] = append(byBackend[t.Server.Backend()], len(out))
			out = append(out, q)
		}
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	for b, idx := range byBackend {
		ids := make([]uint32, len(idx))
		for i, k := range idx {
			ids[i] = out[k].ThreadID
		}
		procs, err := b.ProcessList(ctx, ids)
		if err != nil {
			continue // the page still lists the connections
		}
		byID := map[uint32]tabletserver.Process{}
		for _, p := range procs {
			byID[p.ID] = p
		}
		for _, k := range idx {
			if p, ok := byID[out[k].ThreadID]; ok {
				out[k].Command, out[k].State, out[k].Query = p.Command, p.State, p.Info
			}
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Tablet != out[j].Tablet {
			return out[i].Tablet < out[j].Tablet
		}
		return out[i].ThreadID < out[j].ThreadID
	})
	return out
}

// tabletVars is /debug/vars narrowed to the tablet's own series.
func (g *Gateway) tabletVars(w http.ResponseWriter, t *discovery.Tablet) {
	scrape := newTabletScrape(t)
	writeJSON(w, scrape)
}

// newTabletScrape is the tablet's metrics as /debug/vars shows them, unfolded.
func newTabletScrape(t *discovery.Tablet) map[string]any {
	st := t.Server.Stats()
	h := t.Health()
	return map[string]any{
		"Tablet": t.Alias, "Keyspace": t.Keyspace, "Shard": t.Shard, "TabletType": t.Type.String(),
		"TabletServing": h.Serving, "ConnPoolCapacity": st.Data.Capacity, "ConnPoolInUse": st.Data.InUse,
		"ConnPoolWaitCount": st.Data.Waits, "TransactionPoolCapacity": st.Reserved.Capacity,
		"TransactionPoolInUse": st.Reserved.InUse, "Kills": map[string]uint64{"Queries": st.Kills, "Transactions": st.Data.Killed},
		"Mysql":           map[string]any{"Count": st.QueryTime.Count, "Time": st.QueryTime.Total.Nanoseconds()},
		"TabletRowsTotal": st.Rows, "TabletBackendErrorsTotal": st.BackendErrors,
	}
}

// tabletRow is one tablet in the summaries.
type tabletRow struct {
	Alias, Keyspace, Shard, Type, MySQL, Database string
	Serving                                       bool
	Error                                         string
	Lag                                           string
	QueryInUse, QueryCap, ResInUse, ResCap        int
	Links                                         map[string]string
}

func rowOf(t *discovery.Tablet) tabletRow {
	h := t.Health()
	st := t.Server.Stats()
	row := tabletRow{Alias: t.Alias, Keyspace: t.Keyspace, Shard: t.Shard, Type: t.Type.String(), MySQL: t.Server.Addr(),
		Database: t.Server.DBName(), Serving: h.Serving, Lag: h.Lag.String(), QueryInUse: st.Data.InUse, QueryCap: st.Data.Capacity,
		ResInUse: st.Reserved.InUse, ResCap: st.Reserved.Capacity, Links: tabletLinks(t.Alias)}
	if h.Err != nil {
		row.Error = h.Err.Error()
	}
	return row
}

// selectTablets is the snapshot's tablets, narrowed by ?keyspace= and ?serving=false.
func selectTablets(snap *discovery.Snapshot, r *http.Request) []*discovery.Tablet {
	ks := r.URL.Query().Get("keyspace")
	notServing := r.URL.Query().Get("serving") == "false"
	var out []*discovery.Tablet
	for _, t := range snap.Tablets() {
		if ks != "" && t.Keyspace != ks || notServing && t.Health().Serving {
			continue
		}
		out = append(out, t)
	}
	return out
}

var tabletsTmpl = template.Must(template.New("tablets").Parse(`<!doctype html><title>vtdirect tablets</title>
<h1>Tablets of the gateway in cell {{.Cell}}</h1>
<p>{{len .Rows}} tablets shown{{if .Filter}} ({{.Filter}}; <a href="/debug/tablets">all</a>){{end}}; {{.Serving}} serving.
Filter with <code>?keyspace=</code> and <code>?serving=false</code>. <a href="/debug/pools">servers and pools</a> · <a href="/debug/livequeryz">running queries</a> · <a href="/debug/txz">transactions</a> · <a href="/debug/health">health</a></p>
<table border=1 cellpadding=3><tr><th>tablet</th><th>keyspace/shard</th><th>type</th><th>MySQL (database)</th><th>serving</th><th>lag</th><th>queries</th><th>reserved</th><th>pages</th></tr>
{{range .Rows}}<tr><td><a href="{{index .Links "status"}}">{{.Alias}}</a></td><td>{{.Keyspace}}/{{.Shard}}</td><td>{{.Type}}</td><td>{{.MySQL}} ({{.Database}})</td>
<td>{{if .Serving}}yes{{else}}<b>no</b>: {{.Error}}{{end}}</td><td>{{.Lag}}</td><td>{{.QueryInUse}}/{{.QueryCap}}</td><td>{{.ResInUse}}/{{.ResCap}}</td>
<td><a href="{{index .Links "pools"}}">pools</a> <a href="{{index .Links "livequeryz"}}">queries</a> <a href="{{index .Links "txz"}}">transactions</a> <a href="{{index .Links "health"}}">health</a> <a href="{{index .Links "vars"}}">vars</a></td></tr>
{{end}}</table>`))

func (g *Gateway) tabletsPage(w http.ResponseWriter, r *http.Request) {
	var rows []tabletRow
	serving := 0
	for _, t := range selectTablets(g.Registry.Snapshot(), r) {
		row := rowOf(t)
		if row.Serving {
			serving++
		}
		rows = append(rows, row)
	}
	if r.URL.Query().Get("format") == "json" {
		writeJSON(w, rows)
		return
	}
	filter := r.URL.RawQuery
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_ = tabletsTmpl.Execute(w, map[string]any{"Cell": g.cfg.Cell, "Rows": rows, "Serving": serving, "Filter": filter})
}

var tabletTmpl = template.Must(template.New("tablet").Parse(`<!doctype html><title>tablet {{.Row.Alias}}</title>
<p><a href="/debug/tablets">all tablets</a></p>
<h1>Tablet {{.Row.Alias}}</h1>
<table border=1 cellpadding=3>
<tr><td>keyspace/shard</td><td>{{.Row.Keyspace}}/{{.Row.Shard}}</td></tr><tr><td>type</td><td>{{.Row.Type}}</td></tr>
<tr><td>MySQL</td><td>{{.Row.MySQL}}, database {{.Row.Database}}, shared with {{.Pool.ServerTablets}} tablets as {{.Pool.Server}}</td></tr>
<tr><td>serving</td><td>{{if .Row.Serving}}yes{{else}}<b>no</b>: {{.Row.Error}}{{end}}</td></tr><tr><td>replication lag</td><td>{{.Row.Lag}}</td></tr>
<tr><td>query connections</td><td>{{.Pool.QueryInUse}} in use of {{.Pool.QueryCapacity}}; {{.Pool.QueryWaits}} waits, {{.Pool.QueryTimeouts}} timed out</td></tr>
<tr><td>reserved connections</td><td>{{.Pool.ReservedInUse}} in use of {{.Pool.ReservedCap}}; {{.Pool.ReservedWaits}} waits</td></tr>
<tr><td>server connections</td><td>{{.Pool.ServerIdle}} idle; at most {{.Pool.ServerLimit}} for every tablet of the server</td></tr>
<tr><td>timeouts</td><td>query {{.Pool.QueryTimeout}}, transaction {{.Pool.TxTimeout}}</td></tr>
<tr><td>queries</td><td>{{.Pool.Queries}} ({{.Pool.Rows}} rows, {{.Pool.BackendErrors}} errors, {{.Pool.QueriesKilled}} killed; {{.Pool.TxKilled}} transactions killed)</td></tr>
</table>
<p>Pages: {{range $name, $link := .Row.Links}}<a href="{{$link}}">{{$name}}</a> {{end}}</p>
<h2>Health history (newest first)</h2>
<table border=1 cellpadding=3><tr><th>time</th><th>serving</th><th>reachable</th><th>lag (s)</th><th>error</th></tr>
{{range .Health.History}}<tr><td>{{.Time}}</td><td>{{.Serving}}</td><td>{{.Reachable}}</td><td>{{.LagSec}}</td><td>{{.Error}}</td></tr>{{end}}
</table>`))

func (g *Gateway) tabletStatusHTML(w http.ResponseWriter, t *discovery.Tablet) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_ = tabletTmpl.Execute(w, map[string]any{"Row": rowOf(t), "Pool": tabletPool(t), "Health": tabletHealth(t)})
}

// serverJSON is one backend with its tablets' pools.
type serverJSON struct {
	Server         string     `json:"server"`
	User           string     `json:"user"`
	MaxConnections int        `json:"max_connections"`
	InUse          int        `json:"in_use"`
	Idle           int        `json:"idle"`
	Waits          uint64     `json:"waits"`
	WaitTimeouts   uint64     `json:"wait_timeouts"`
	Probes         uint64     `json:"probes"`
	SchemaSwitches uint64     `json:"schema_switches"`
	LastProbe      string     `json:"last_probe,omitempty"`
	ProbeSeconds   float64    `json:"probe_seconds,omitempty"`
	Tablets        []poolJSON `json:"tablets"`
}

func (g *Gateway) poolsPage(w http.ResponseWriter, r *http.Request) {
	byBackend := map[*tabletserver.Backend][]poolJSON{}
	for _, t := range selectTablets(g.Registry.Snapshot(), r) {
		byBackend[t.Server.Backend()] = append(byBackend[t.Server.Backend()], tabletPool(t))
	}
	out := []serverJSON{}
	for _, b := range g.Registry.Backends().All() {
		st := b.Stats()
		s := serverJSON{Server: st.Key.Addr, User: st.Key.User, MaxConnections: st.MaxConnections, InUse: st.InUse, Idle: st.Idle,
			Waits: st.Waits, WaitTimeouts: st.WaitTimeout, Probes: st.Probes, SchemaSwitches: st.Switches, Tablets: byBackend[b]}
		if rd := b.Readings(); rd != nil {
			s.LastProbe, s.ProbeSeconds = rd.LastProbe.Format(time.RFC3339Nano), rd.Took.Seconds()
		}
		if s.Tablets == nil {
			s.Tablets = []poolJSON{}
		}
		out = append(out, s)
	}
	writeJSON(w, out)
}

func (g *Gateway) liveQueriesPage(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, g.liveQueries(r.Context(), selectTablets(g.Registry.Snapshot(), r), false))
}

func (g *Gateway) transactionsPage(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, g.liveQueries(r.Context(), selectTablets(g.Registry.Snapshot(), r), true))
}

// healthPage lists the tablets not serving and the latest health changes of all.
func (g *Gateway) healthPage(w http.ResponseWriter, r *http.Request) {
	type change struct {
		Tablet string `json:"tablet"`
		Link   string `json:"link"`
		healthJSON
	}
	notServing, recent := []change{}, []change{}
	var all []change
	for _, t := range selectTablets(g.Registry.Snapshot(), r) {
		if h := t.Health(); !h.Serving {
			notServing = append(notServing, change{t.Alias, "/" + t.Alias + "/debug/health", toHealthJSON(h)})
		}
		for _, c := range t.Server.HealthHistory() {
			all = append(all, change{t.Alias, "/" + t.Alias + "/debug/health", toHealthJSON(c.Health)})
		}
	}
	sort.SliceStable(all, func(i, j int) bool { return all[i].Time > all[j].Time })
	if len(all) > 100 {
		all = all[:100]
	}
	recent = append(recent, all...)
	writeJSON(w, map[string]any{"not_serving": notServing, "recent_changes": recent})
}

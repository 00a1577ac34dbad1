package gateway

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	topodatapb "vitess.io/vitess/go/vt/proto/topodata"

	"github.com/vtdirect/vtdirect/failover"
	"github.com/vtdirect/vtdirect/topo"
)

// failoverHandler serves /debug/failover: the latest analysis of every shard, the tablets'
// readings and the recent recoveries with their journal, as JSON or, with format=text, for
// people (what `vtdirect failover status` prints).
func failoverHandler(g *Gateway) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ctrl := g.fo.ctrl
		if ctrl == nil {
			http.Error(w, "failover is off on this gateway (start it with --enable-failover)", http.StatusNotFound)
			return
		}
		st := ctrl.Status()
		if r.URL.Query().Get("format") == "text" {
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			st.WriteText(w)
			if b := g.fo.buf; b != nil {
				if held := b.Stats().Buffering; len(held) > 0 {
					fmt.Fprintf(w, "\nbuffering primary traffic of: %s\n", strings.Join(held, ", "))
				}
			}
			return
		}
		w.Header().Set("Content-Type", "application/json")
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		out := struct {
			failover.Status
			Buffering []string `json:"buffering,omitempty"`
		}{Status: st}
		if b := g.fo.buf; b != nil {
			out.Buffering = b.Stats().Buffering
		}
		_ = enc.Encode(out)
	}
}

// reparentHandler serves POST /debug/failover/reparent?keyspace=&shard=&kind=planned|emergency
// [&new_primary=alias]: the reparent runs in this gateway (the CLI sends it to the leader)
// and its steps stream back as text lines; the last line starts with "result: ".
func reparentHandler(g *Gateway) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			http.Error(w, "use POST", http.StatusMethodNotAllowed)
			return
		}
		ctrl := g.fo.ctrl
		if ctrl == nil {
			http.Error(w, "failover is off on this gateway (start it with --enable-failover)", http.StatusNotFound)
			return
		}
		q := r.URL.Query()
		ks, shard := q.Get("keyspace"), q.Get("shard")
		if ks == "" || shard == "" {
			http.Error(w, "keyspace and shard are required", http.StatusBadRequest)
			return
		}
		alias, err := optionalAlias(q.Get("new_primary"))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		kind := q.Get("kind")
		if kind != failover.KindPlanned && kind != failover.KindEmergency {
			http.Error(w, "kind must be planned or emergency", http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		flusher, _ := w.(http.Flusher)
		var mu sync.Mutex // the steps print from the recovery's goroutines
		out := func(line string) {
			mu.Lock()
			defer mu.Unlock()
			fmt.Fprintln(w, time.Now().Format("15:04:05.000"), line)
			if flusher != nil {
				flusher.Flush()
			}
		}
		rep := ctrl.Reparenter()
		var rec *failover.Recovery
		if kind == failover.KindPlanned {
			avoid, err := optionalAlias(q.Get("avoid_primary"))
			if err != nil {
				out("result: error: " + err.Error())
				return
			}
			rec, err = rep.Planned(r.Context(), ks, shard, failover.PlannedOptions{NewPrimary: alias, AvoidPrimary: avoid, Out: out})
			reportResult(out, rec, err)
			return
		}
		rec, err = rep.Emergency(r.Context(), ks, shard, failover.EmergencyOptions{Trigger: "operator", NewPrimary: alias,
			Expected: q.Get("expected_primary"), Out: out})
		reportResult(out, rec, err)
	}
}

func reportResult(out func(string), rec *failover.Recovery, err error) {
	switch {
	case err != nil:
		out("result: error: " + err.Error())
	case rec != nil:
		out(fmt.Sprintf("result: %s, primary %s", rec.Status, primaryOf(rec)))
	default:
		out("result: success")
	}
}

func primaryOf(rec *failover.Recovery) string {
	if rec.NewPrimary != "" {
		return rec.NewPrimary
	}
	return rec.OldPrimary
}

// ackHandler serves POST /debug/failover/ack?keyspace=&shard=&by=&comment=.
func ackHandler(g *Gateway, ts *topo.Server) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			http.Error(w, "use POST", http.StatusMethodNotAllowed)
			return
		}
		q := r.URL.Query()
		rec, err := failover.NewJournal(ts).Ack(r.Context(), q.Get("keyspace"), q.Get("shard"), q.Get("by"), q.Get("comment"), time.Now())
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		fmt.Fprintf(w, "acknowledged recovery %s of %s/%s\n", rec.ID, rec.Keyspace, rec.Shard)
	}
}

func optionalAlias(s string) (*topodatapb.TabletAlias, error) {
	if s == "" {
		return nil, nil
	}
	return topo.ParseTabletAlias(s)
}

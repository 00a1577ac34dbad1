package gateway

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"github.com/vtdirect/vtdirect/discovery"
	"github.com/vtdirect/vtdirect/picker"
)

// pickerHandler serves /debug/picker: how the picker ranks the tablets of a shard for the
// given options, and why it rejects the others. Parameters: keyspace, shard (default: the
// keyspace's only shard), types, cells, cell_preference, tablet_order, exclude, max_lag,
// local_cell (default: the gateway's cell), purpose=vstream (also turn down tablets whose
// binlog settings unfit them as VStream sources, with why), format=text|json (default json).
func pickerHandler(reg *discovery.Registry, cell string, maxLag string, fit *sourceFitness) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		text := picker.TextOptions{
			Cells:          q.Get("cells"),
			LocalCell:      q.Get("local_cell"),
			CellPreference: q.Get("cell_preference"),
			TabletTypes:    q.Get("types"),
			TabletOrder:    q.Get("tablet_order"),
			Exclude:        q.Get("exclude"),
			MaxLag:         q.Get("max_lag"),
		}
		if !q.Has("local_cell") {
			text.LocalCell = cell
		}
		if !q.Has("max_lag") {
			text.MaxLag = maxLag
		}
		ks, shard := q.Get("keyspace"), q.Get("shard")
		snap := reg.Snapshot()
		if ks == "" {
			http.Error(w, "keyspace is required: /debug/picker?keyspace=commerce&types=REPLICA", http.StatusBadRequest)
			return
		}
		if shard == "" {
			shards := snap.Shards(ks)
			if len(shards) != 1 {
				http.Error(w, fmt.Sprintf("keyspace %s has %d shards with tablets: give shard=", ks, len(shards)), http.StatusBadRequest)
				return
			}
			shard = shards[0].Name
		}
		opts, err := text.Options()
		switch p := q.Get("purpose"); {
		case p == "vstream" && err == nil:
			opts.Unfit = fit.unfit(r.Context(), snap.Shard(ks, shard))
		case p != "" && p != "query":
			http.Error(w, fmt.Sprintf("purpose %q: want query (the default) or vstream", p), http.StatusBadRequest)
			return
		}
		var crit *picker.Criteria
		if err == nil {
			crit, err = picker.Compile(opts)
		}
		if err != nil {
			status := http.StatusInternalServerError
			var ia *picker.InvalidArgumentError
			if errors.As(err, &ia) {
				status = http.StatusBadRequest
			}
			http.Error(w, err.Error(), status)
			return
		}
		x := picker.Explain(snap.Picker, ks, shard, crit)
		if q.Get("format") == "text" {
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			fmt.Fprint(w, x.String())
			return
		}
		w.Header().Set("Content-Type", "application/json")
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		_ = enc.Encode(x)
	}
}

package stats

// /debug/vars, as Vitess's expvar pages show it: one JSON object, a key per variable in
// CamelCase (the Prometheus name without its vttablet_ or vtdirect_ prefix), a number for a
// variable without dimensions, an object keyed by the dimension values joined with "." for
// one with dimensions, and Vitess's timings shape for histograms; plus "cmdline" and
// "memstats" as Go's expvar has them.

import (
	"encoding/json"
	"math"
	"net/http"
	"os"
	"runtime"
	"strconv"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// CamelCase turns a snake_case name into CamelCase: "conn_pool_capacity" → "ConnPoolCapacity".
func CamelCase(name string) string {
	var b strings.Builder
	for _, part := range strings.Split(name, "_") {
		if part == "" {
			continue
		}
		b.WriteString(strings.ToUpper(part[:1]))
		b.WriteString(part[1:])
	}
	return b.String()
}

// varName is the /debug/vars key of a Prometheus family.
func varName(prom string) string {
	for _, p := range []string{"vttablet_", "vtdirect_"} {
		if rest, ok := strings.CutPrefix(prom, p); ok {
			return CamelCase(rest)
		}
	}
	return CamelCase(prom)
}

// safeLabel replaces the dots of a dimension value, which join the values (Vitess does too).
func safeLabel(v string) string { return strings.ReplaceAll(v, ".", "_") }

// VarsJSON renders the registry's metrics as /debug/vars.
func VarsJSON(g prometheus.Gatherer) (map[string]any, error) {
	fams, err := g.Gather()
	out := map[string]any{"cmdline": os.Args}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	out["memstats"] = ms
	for _, f := range fams {
		name := varName(f.GetName())
		if len(f.GetMetric()) == 1 && len(f.GetMetric()[0].GetLabel()) == 0 {
			out[name] = metricValue(f.GetType(), f.GetMetric()[0])
			continue
		}
		if f.GetType() == dto.MetricType_HISTOGRAM {
			out[name] = timings(f.GetMetric())
			continue
		}
		m := map[string]any{}
		for _, mt := range f.GetMetric() {
			m[labelKey(mt)] = metricValue(f.GetType(), mt)
		}
		out[name] = m
	}
	return out, err
}

func labelKey(m *dto.Metric) string {
	parts := make([]string, len(m.GetLabel()))
	for i, l := range m.GetLabel() {
		parts[i] = safeLabel(l.GetValue())
	}
	return strings.Join(parts, ".")
}

func metricValue(t dto.MetricType, m *dto.Metric) any {
	var v float64
	switch t {
	case dto.MetricType_COUNTER:
		v = m.GetCounter().GetValue()
	case dto.MetricType_GAUGE:
		v = m.GetGauge().GetValue()
	case dto.MetricType_UNTYPED:
		v = m.GetUntyped().GetValue()
	case dto.MetricType_HISTOGRAM:
		return histogramVar(m.GetHistogram())
	case dto.MetricType_SUMMARY:
		return map[string]any{"Count": m.GetSummary().GetSampleCount(), "Sum": m.GetSummary().GetSampleSum()}
	}
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return nil
	}
	if v == math.Trunc(v) && math.Abs(v) < 1<<53 {
		return int64(v)
	}
	return v
}

// histogramVar is one histogram in Vitess's shape: a count per bucket (not cumulative),
// keyed by its upper bound in nanoseconds, "inf" for the rest, then Count and Time (ns).
func histogramVar(h *dto.Histogram) map[string]any {
	out := map[string]any{}
	var prev uint64
	for _, b := range h.GetBucket() {
		if math.IsInf(b.GetUpperBound(), 1) {
			continue
		}
		out[strconv.FormatInt(int64(b.GetUpperBound()*1e9), 10)] = b.GetCumulativeCount() - prev
		prev = b.GetCumulativeCount()
	}
	out["inf"] = h.GetSampleCount() - prev
	out["Count"] = h.GetSampleCount()
	out["Time"] = int64(h.GetSampleSum() * 1e9)
	return out
}

// timings is a histogram family in Vitess's Timings shape.
func timings(ms []*dto.Metric) map[string]any {
	var count uint64
	var total float64
	hs := map[string]any{}
	for _, m := range ms {
		h := m.GetHistogram()
		count += h.GetSampleCount()
		total += h.GetSampleSum()
		hs[labelKey(m)] = histogramVar(h)
	}
	return map[string]any{"TotalCount": count, "TotalTime": int64(total * 1e9), "Histograms": hs}
}

// VarsHandler serves /debug/vars from the registry.
func VarsHandler(g prometheus.Gatherer) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		vars, err := VarsJSON(g)
		if vars == nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		_ = enc.Encode(vars)
	})
}

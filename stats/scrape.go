package stats

import (
	"sort"
	"strings"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
)

// Kind is what a metric is.
type Kind uint8

const (
	Counter Kind = iota
	Gauge
	Timing // a Histogram of durations, exported in seconds
)

// Desc describes one metric the Vitess way.
type Desc struct {
	Prefix string // "vttablet" for the tablet servers' Vitess counterparts, "vtdirect" otherwise
	Var    string // the /debug/vars name, CamelCase: "ConnPoolCapacity"
	Help   string
	Kind   Kind
	Labels []string // dimension names, e.g. keyspace, shard, tablet
}

// PromName is the Prometheus name: Prefix + "_" + Var in snake case.
func (d *Desc) PromName() string { return d.Prefix + "_" + SnakeCase(d.Var) }

// Folding says which dimensions are folded away: Drop removes the label, Combine keeps it
// with the value "all" (Vitess's --stats-combine-dimensions).
type Folding struct {
	Drop, Combine map[string]bool
}

// Set makes a set of names (empty names skipped).
func Set(names ...string) map[string]bool {
	m := map[string]bool{}
	for _, n := range names {
		if n = strings.TrimSpace(n); n != "" {
			m[n] = true
		}
	}
	return m
}

// Empty reports whether nothing is folded.
func (f Folding) Empty() bool { return len(f.Drop) == 0 && len(f.Combine) == 0 }

// AllValue is the value of a combined dimension, as in Vitess.
const AllValue = "all"

// Source adds its samples to a scrape.
type Source interface {
	Collect(s *Scrape)
}

// Scrape accumulates the samples of one scrape, folded.
type Scrape struct {
	f    Folding
	fams map[*Desc]*family
}

// family is one Desc's folded points.
type family struct {
	d      *Desc
	labels []string // output label names
	keep   []int    // indices of the input labels kept (dropped ones are not)
	all    []bool   // per kept label: combined into "all"
	points map[string]*point
}

type point struct {
	values []string
	v      float64
	h      HistogramSnapshot
}

// NewScrape starts a scrape with a folding.
func NewScrape(f Folding) *Scrape { return &Scrape{f: f, fams: map[*Desc]*family{}} }

func (s *Scrape) family(d *Desc) *family {
	fam := s.fams[d]
	if fam != nil {
		return fam
	}
	fam = &family{d: d, points: map[string]*point{}}
	for i, l := range d.Labels {
		if s.f.Drop[l] {
			continue
		}
		fam.labels = append(fam.labels, l)
		fam.keep = append(fam.keep, i)
		fam.all = append(fam.all, s.f.Combine[l])
	}
	s.fams[d] = fam
	return fam
}

// point finds or makes the folded point of label values.
func (fam *family) point(values []string) *point {
	var b strings.Builder
	out := make([]string, len(fam.keep))
	for j, i := range fam.keep {
		v := values[i]
		if fam.all[j] {
			v = AllValue
		}
		out[j] = v
		b.WriteString(v)
		b.WriteByte(0xff)
	}
	key := b.String()
	p := fam.points[key]
	if p == nil {
		p = &point{values: out}
		fam.points[key] = p
	}
	return p
}

// Add adds a counter or gauge sample (values in d.Labels' order).
func (s *Scrape) Add(d *Desc, v float64, values ...string) {
	s.family(d).point(values).v += v
}

// AddHistogram merges a timing sample.
func (s *Scrape) AddHistogram(d *Desc, h HistogramSnapshot, values ...string) {
	p := s.family(d).point(values)
	p.h.merge(&h)
}

// Emit sends the folded metrics.
func (s *Scrape) Emit(ch chan<- prometheus.Metric) {
	for _, fam := range s.fams {
		pd := prometheus.NewDesc(fam.d.PromName(), fam.d.Help, fam.labels, nil)
		for _, p := range fam.points {
			switch fam.d.Kind {
			case Counter:
				ch <- prometheus.MustNewConstMetric(pd, prometheus.CounterValue, p.v, p.values...)
			case Gauge:
				ch <- prometheus.MustNewConstMetric(pd, prometheus.GaugeValue, p.v, p.values...)
			case Timing:
				ch <- prometheus.MustNewConstHistogram(pd, p.h.Count, p.h.Total.Seconds(), p.h.cumulative(), p.values...)
			}
		}
	}
}

// Series counts the folded series of the scrape (histograms count once), by Prometheus name.
func (s *Scrape) Series() map[string]int {
	out := map[string]int{}
	for _, fam := range s.fams {
		out[fam.d.PromName()] += len(fam.points)
	}
	return out
}

// Collector is a prometheus.Collector over sources, folding as its Folding says (which a
// reload may change). It is unchecked (Describe sends nothing), so its label sets may change.
type Collector struct {
	folding atomic.Pointer[Folding]
	sources []Source
}

var _ prometheus.Collector = (*Collector)(nil)

// NewCollector makes a collector over sources.
func NewCollector(f Folding, sources ...Source) *Collector {
	c := &Collector{sources: sources}
	c.folding.Store(&f)
	return c
}

// SetFolding changes the folding from the next scrape on.
func (c *Collector) SetFolding(f Folding) { c.folding.Store(&f) }

// Folding is the current folding.
func (c *Collector) Folding() Folding { return *c.folding.Load() }

// Describe sends nothing: the collector is unchecked.
func (c *Collector) Describe(chan<- *prometheus.Desc) {}

// Collect scrapes every source.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	s := NewScrape(*c.folding.Load())
	for _, src := range c.sources {
		src.Collect(s)
	}
	s.Emit(ch)
}

// SnakeCase turns a CamelCase variable name into Prometheus's snake case, as Vitess's
// Prometheus backend does: "ConnPoolCapacity" → "conn_pool_capacity", "MySQLTimings" →
// "my_sql_timings" is avoided by treating a run of capitals as one word: "mysql_timings"
// needs the name "MysqlTimings".
func SnakeCase(name string) string {
	var b strings.Builder
	for i, r := range name {
		if r >= 'A' && r <= 'Z' {
			if i > 0 && !(name[i-1] >= 'A' && name[i-1] <= 'Z') && name[i-1] != '_' {
				b.WriteByte('_')
			} else if i > 0 && name[i-1] >= 'A' && name[i-1] <= 'Z' && i+1 < len(name) && name[i+1] >= 'a' && name[i+1] <= 'z' {
				b.WriteByte('_')
			}
			b.WriteRune(r + ('a' - 'A'))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// sortedKeys returns a map's keys sorted.
func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

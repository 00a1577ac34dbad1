package stats

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

var (
	tCount = &Desc{Prefix: "vttablet", Var: "ConnPoolGet", Kind: Counter, Labels: []string{"keyspace", "shard", "tablet"}, Help: "h"}
	tGauge = &Desc{Prefix: "vttablet", Var: "ConnPoolCapacity", Kind: Gauge, Labels: []string{"keyspace", "shard", "tablet"}, Help: "h"}
	tTime  = &Desc{Prefix: "vttablet", Var: "Mysql", Kind: Timing, Labels: []string{"keyspace", "shard", "tablet"}, Help: "h"}
)

type src struct{}

func (src) Collect(s *Scrape) {
	var h Histogram
	h.Observe(300 * time.Microsecond)
	h.Observe(2 * time.Second)
	for _, t := range [][]string{{"a", "0", "t1"}, {"a", "0", "t2"}, {"b", "0", "t3"}} {
		s.Add(tCount, 10, t...)
		s.Add(tGauge, 4, t...)
		s.AddHistogram(tTime, h.Snapshot(), t...)
	}
}

func TestFolding(t *testing.T) {
	tests := []struct {
		name string
		f    Folding
		want string
	}{
		{"none", Folding{}, `vttablet_conn_pool_capacity{keyspace="a",shard="0",tablet="t1"} 4`},
		{"drop tablet", Folding{Drop: Set("tablet")}, `vttablet_conn_pool_capacity{keyspace="a",shard="0"} 8`},
		{"drop all", Folding{Drop: Set("keyspace", "shard", "tablet")}, "vttablet_conn_pool_capacity 12"},
		{"combine", Folding{Combine: Set("tablet", "keyspace")}, `vttablet_conn_pool_capacity{keyspace="all",shard="0",tablet="all"} 12`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reg := prometheus.NewPedanticRegistry()
			reg.MustRegister(NewCollector(tt.f, src{}))
			mfs, err := reg.Gather()
			if err != nil {
				t.Fatal(err)
			}
			var b strings.Builder
			for _, mf := range mfs {
				for _, m := range mf.GetMetric() {
					b.WriteString(mf.GetName())
					if len(m.GetLabel()) > 0 {
						var ls []string
						for _, l := range m.GetLabel() {
							ls = append(ls, l.GetName()+`="`+l.GetValue()+`"`)
						}
						b.WriteString("{" + strings.Join(ls, ",") + "}")
					}
					switch {
					case m.GetGauge() != nil:
						b.WriteString(" " + trim(m.GetGauge().GetValue()))
					case m.GetCounter() != nil:
						b.WriteString(" " + trim(m.GetCounter().GetValue()))
					case m.GetHistogram() != nil:
						b.WriteString(" count=" + trim(float64(m.GetHistogram().GetSampleCount())))
					}
					b.WriteString("\n")
				}
			}
			if !strings.Contains(b.String(), tt.want+"\n") {
				t.Errorf("want %q in\n%s", tt.want, b.String())
			}
			if tt.name == "drop all" && !strings.Contains(b.String(), "vttablet_mysql count=6") {
				t.Errorf("histograms did not merge:\n%s", b.String())
			}
		})
	}
}

func trim(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

func TestNames(t *testing.T) {
	for in, want := range map[string]string{"ConnPoolCapacity": "conn_pool_capacity", "Mysql": "mysql", "TabletIoErrorsTotal": "tablet_io_errors_total", "Kills": "kills"} {
		if got := SnakeCase(in); got != want {
			t.Errorf("SnakeCase(%q) = %q, want %q", in, got, want)
		}
		if back := CamelCase(want); back != in {
			t.Errorf("CamelCase(%q) = %q, want %q", want, back, in)
		}
	}
}

func TestHistogramBuckets(t *testing.T) {
	var h Histogram
	for _, d := range []time.Duration{time.Microsecond, 500 * time.Microsecond, 501 * time.Microsecond, 20 * time.Second} {
		h.Observe(d)
	}
	s := h.Snapshot()
	if s.Buckets[0] != 2 || s.Buckets[1] != 1 || s.Buckets[len(Cutoffs)] != 1 || s.Count != 4 {
		t.Errorf("buckets %v", s.Buckets)
	}
	if c := s.cumulative(); c[0.0005] != 2 || c[10] != 3 {
		t.Errorf("cumulative %v", c)
	}
}

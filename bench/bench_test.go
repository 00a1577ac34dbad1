package main

import (
	"os"
	"slices"
	"testing"
	"time"
)

func TestParseStatTicks(t *testing.T) {
	tests := []struct {
		name    string
		stat    string
		want    uint64
		wantErr bool
	}{
		{
			name: "plain",
			stat: "1444 (cat) R 1327 1327 18722 0 -1 4194304 94 0 0 0 7 3 0 0 20 0 1 0 144614 3133440 382",
			want: 10,
		},
		{
			name: "name with spaces and parentheses",
			stat: "77 (a (b) c) S 1 1 1 0 -1 4194304 94 0 0 0 1200 34 0 0 20 0 1 0 144614 3133440 382",
			want: 1234,
		},
		{name: "no name", stat: "1444 cat R 1 2 3", wantErr: true},
		{name: "truncated", stat: "1444 (cat) R 1327 1327 18722 0 -1 4194304 94 0 0 0 7", wantErr: true},
		{name: "not a number", stat: "1 (x) R 1 1 1 0 -1 4194304 94 0 0 0 x 3 0 0", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseStatTicks([]byte(tt.stat))
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if got != tt.want {
				t.Fatalf("ticks = %d, want %d", got, tt.want)
			}
		})
	}
}

func TestCPUTime(t *testing.T) {
	if _, err := cpuTime(os.Getpid()); err != nil {
		t.Fatal(err)
	}
	if _, err := cpuTime(1 << 30); err == nil {
		t.Fatal("cpu time of a pid that cannot exist: no error")
	}
}

// sysbenchReport is a trimmed report of sysbench 1.0.20 run with --histogram=on.
const sysbenchReport = `sysbench 1.0.20 (using system LuaJIT 2.1.0-beta3)

Threads started!

Latency histogram (values are in milliseconds)
       value  ------------- distribution ------------- count
       0.020 |*                                        10
       0.021 |******************                       40
       0.022 |************************************     40
       0.100 |*                                        9
      28.673 |                                         1
 
SQL statistics:
    queries performed:
        read:                            100
        total:                           100
    transactions:                        100  (97.03 per sec.)
    queries:                             100  (97.03 per sec.)
    ignored errors:                      2      (0.00 per sec.)
    reconnects:                          0      (0.00 per sec.)

General statistics:
    total time:                          1.0306s
    total number of events:              100

Latency (ms):
         99th percentile:                        1.47
`

func TestParseSysbench(t *testing.T) {
	st, err := parseSysbench([]byte(sysbenchReport))
	if err != nil {
		t.Fatal(err)
	}
	want := sysbenchStats{
		queries: 100, errors: 2, elapsed: 1030600 * time.Microsecond,
		p50: 21 * time.Microsecond, p99: 100 * time.Microsecond,
	}
	if st != want {
		t.Fatalf("stats = %+v, want %+v", st, want)
	}
}

func TestParseSysbenchErrors(t *testing.T) {
	tests := []struct{ name, out string }{
		{"empty", ""},
		{"no histogram", "    queries:   10  (1.0 per sec.)\n    total time:   1.0s\n"},
		{"no total time", "    queries:   10  (1.0 per sec.)\n       0.020 |*    10\n"},
		{"fatal", "FATAL: unable to connect to MySQL server on host '127.0.0.1', port 1, aborting...\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := parseSysbench([]byte(tt.out)); err == nil {
				t.Fatal("no error")
			}
		})
	}
}

func TestPercentile(t *testing.T) {
	us := func(xs ...int) []time.Duration {
		var out []time.Duration
		for _, x := range xs {
			out = append(out, time.Duration(x)*time.Microsecond)
		}
		return out
	}
	tests := []struct {
		name   string
		sorted []time.Duration
		p      float64
		want   time.Duration
	}{
		{"empty", nil, 0.5, 0},
		{"one", us(7), 0.99, 7 * time.Microsecond},
		{"p50 of four", us(1, 2, 3, 4), 0.5, 2 * time.Microsecond},
		{"p99 of hundred", us(seq(100)...), 0.99, 99 * time.Microsecond},
		{"p50 of hundred", us(seq(100)...), 0.50, 50 * time.Microsecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := percentile(tt.sorted, tt.p); got != tt.want {
				t.Fatalf("percentile = %v, want %v", got, tt.want)
			}
		})
	}
}

func seq(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = i + 1
	}
	return out
}

func TestMedian(t *testing.T) {
	tests := []struct {
		xs   []float64
		want float64
	}{
		{[]float64{3}, 3},
		{[]float64{5, 1, 3}, 3},
		{[]float64{4, 1, 3, 2}, 2.5},
	}
	for _, tt := range tests {
		if got := median(tt.xs); got != tt.want {
			t.Errorf("median(%v) = %v, want %v", tt.xs, got, tt.want)
		}
	}
}

func TestSummarize(t *testing.T) {
	r := func(target string, qps int64, p50us int, cpuUS int) result {
		return result{
			load: "go", target: target, conns: 1, queries: qps, elapsed: time.Second,
			p50: time.Duration(p50us) * time.Microsecond, p99: time.Duration(2*p50us) * time.Microsecond,
			cpu: map[string]time.Duration{"proxy": time.Duration(cpuUS) * time.Duration(qps) * time.Microsecond},
		}
	}
	sums := summarize([]result{
		r("relay", 100, 50, 10), r("gateway", 80, 60, 12),
		r("relay", 300, 40, 20), {load: "go", target: "gateway", conns: 1, err: errTest},
		r("relay", 200, 45, 30),
	})
	if len(sums) != 2 {
		t.Fatalf("%d summaries, want 2", len(sums))
	}
	rl, gw := sums[0], sums[1]
	if rl.target != "relay" || rl.runs != 3 || rl.qps != 200 || rl.qpsMin != 100 || rl.qpsMax != 300 || rl.p50 != 45 || rl.cpu["proxy"] != 20 {
		t.Fatalf("relay summary = %+v", rl)
	}
	if gw.target != "gateway" || gw.runs != 1 || len(gw.errs) != 1 || gw.qps != 80 {
		t.Fatalf("gateway summary = %+v", gw)
	}
}

type testError struct{}

func (testError) Error() string { return "test" }

var errTest error = testError{}

func TestParseFlags(t *testing.T) {
	tests := []struct {
		args    []string
		wantErr bool
	}{
		{nil, false},
		{[]string{"--conns", "1,4,16", "--loads", "go"}, false},
		{[]string{"--conns", "0"}, true},
		{[]string{"--targets", "direct,proxysql"}, true},
		{[]string{"--loads", "sysbench"}, true},
		{[]string{"--rounds", "0"}, true},
		{[]string{"--cpuprofile", "/tmp/p", "--targets", "direct,relay"}, true},
		{[]string{"--cpuprofile", "/tmp/p", "--targets", "gateway"}, false},
		{[]string{"--vstream-latency-rounds", "0"}, true},
	}
	for _, tt := range tests {
		_, err := parseFlags(tt.args)
		if (err != nil) != tt.wantErr {
			t.Errorf("parseFlags(%q) err = %v, wantErr %v", tt.args, err, tt.wantErr)
		}
	}
	o, err := parseFlags([]string{"--gateway-flags", " --vstream-private-binlog-dumps  --log-level info", "--gateway-env", "GOMAXPROCS=1 GODEBUG=gctrace=1",
		"--vstream-mariadb-globals", "sync_binlog=1"})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"--vstream-private-binlog-dumps", "--log-level", "info"}; !slices.Equal(o.gatewayFlags, want) {
		t.Errorf("gatewayFlags = %q, want %q", o.gatewayFlags, want)
	}
	if want := []string{"GOMAXPROCS=1", "GODEBUG=gctrace=1"}; !slices.Equal(o.gatewayEnv, want) {
		t.Errorf("gatewayEnv = %q, want %q", o.gatewayEnv, want)
	}
	if want := []string{"sync_binlog=1"}; !slices.Equal(o.mariadbGlobals, want) {
		t.Errorf("mariadbGlobals = %q, want %q", o.mariadbGlobals, want)
	}
}

func TestIsIdentifier(t *testing.T) {
	for s, want := range map[string]bool{"sync_binlog": true, "innodb_flush_log_at_trx_commit": true, "": false, "a=b": false, "x; DROP": false} {
		if got := isIdentifier(s); got != want {
			t.Errorf("isIdentifier(%q) = %v, want %v", s, got, want)
		}
	}
}

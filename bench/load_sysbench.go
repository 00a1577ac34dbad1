package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// sysbenchLoad runs `sysbench oltp_point_select` against addr with conns threads for dur
// (whole seconds, at least one) in the given --db-ps-mode (disable: COM_QUERY; auto: server
// side prepared statements, COM_STMT_EXECUTE). p50/p99 come from its latency histogram.
func sysbenchLoad(ctx context.Context, bin, addr string, conns, rows int, dur time.Duration, psMode string, meter *cpuMeter) (result, error) {
	res := result{load: "sysbench-" + psMode, conns: conns}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return res, err
	}
	secs := max(1, int((dur+time.Second-1)/time.Second))
	cmd := exec.CommandContext(ctx, bin, "oltp_point_select",
		"--db-driver=mysql",
		"--mysql-host="+host, "--mysql-port="+port,
		"--mysql-user=app", "--mysql-password=app", "--mysql-db=commerce",
		"--tables=1", "--table-size="+strconv.Itoa(rows),
		"--threads="+strconv.Itoa(conns),
		"--time="+strconv.Itoa(secs), "--events=0",
		"--db-ps-mode="+psMode,
		"--histogram=on", "--percentile=99",
		"run")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := meter.begin(); err != nil {
		return res, err
	}
	runErr := cmd.Run()
	cpu, err := meter.end()
	if err != nil {
		return res, err
	}
	if runErr != nil {
		return res, fmt.Errorf("sysbench: %w\n%s", runErr, tail(out.String(), 15))
	}
	st, err := parseSysbench(out.Bytes())
	if err != nil {
		return res, fmt.Errorf("sysbench output: %w\n%s", err, tail(out.String(), 15))
	}
	cpu["client"] = cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	res.cpu = cpu
	res.queries, res.elapsed, res.p50, res.p99 = st.queries, st.elapsed, st.p50, st.p99
	if st.errors > 0 {
		res.note = fmt.Sprintf("%d errors", st.errors)
	}
	return res, nil
}

// sysbenchStats is what bench reads from sysbench's report.
type sysbenchStats struct {
	queries  int64
	errors   int64
	elapsed  time.Duration
	p50, p99 time.Duration
}

var (
	reQueries = regexp.MustCompile(`(?m)^\s*queries:\s+(\d+)\s`)
	reErrors  = regexp.MustCompile(`(?m)^\s*ignored errors:\s+(\d+)\s`)
	reTotal   = regexp.MustCompile(`(?m)^\s*total time:\s+([0-9.]+)s`)
	// A histogram line: "       0.071 |****                                     1234".
	reBucket = regexp.MustCompile(`^\s*([0-9.]+)\s+\|\**\s+(\d+)\s*$`)
)

// parseSysbench reads the query count, the run time and the latency histogram (values in
// milliseconds) of a sysbench 1.0 report run with --histogram=on.
func parseSysbench(out []byte) (sysbenchStats, error) {
	var st sysbenchStats
	m := reQueries.FindSubmatch(out)
	if m == nil {
		return st, fmt.Errorf("no \"queries:\" line")
	}
	st.queries, _ = strconv.ParseInt(string(m[1]), 10, 64)
	if m = reErrors.FindSubmatch(out); m != nil {
		st.errors, _ = strconv.ParseInt(string(m[1]), 10, 64)
	}
	m = reTotal.FindSubmatch(out)
	if m == nil {
		return st, fmt.Errorf("no \"total time:\" line")
	}
	secs, err := strconv.ParseFloat(string(m[1]), 64)
	if err != nil {
		return st, fmt.Errorf("total time: %w", err)
	}
	st.elapsed = time.Duration(secs * float64(time.Second))

	type bucket struct {
		ms    float64
		count int64
	}
	var buckets []bucket
	var total int64
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		bm := reBucket.FindStringSubmatch(sc.Text())
		if bm == nil {
			continue
		}
		ms, err1 := strconv.ParseFloat(bm[1], 64)
		n, err2 := strconv.ParseInt(bm[2], 10, 64)
		if err1 != nil || err2 != nil {
			continue
		}
		buckets = append(buckets, bucket{ms, n})
		total += n
	}
	if total == 0 {
		return st, fmt.Errorf("no latency histogram (run with --histogram=on)")
	}
	at := func(p float64) time.Duration {
		want := int64(p*float64(total) + 0.999999)
		var cum int64
		for _, b := range buckets {
			cum += b.count
			if cum >= want {
				return time.Duration(b.ms * float64(time.Millisecond))
			}
		}
		return time.Duration(buckets[len(buckets)-1].ms * float64(time.Millisecond))
	}
	st.p50, st.p99 = at(0.50), at(0.99)
	return st, nil
}

// tail is the last n lines of s.
func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

package main

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"time"
)

// userHZ is the unit of utime and stime in /proc/<pid>/stat. It is USER_HZ, which the kernel
// fixes at 100 on every mainstream architecture whatever CONFIG_HZ is (reading it would need
// sysconf, i.e. cgo).
const userHZ = 100

// cpuTime returns the CPU time (user + system, all threads, including exited ones) that the
// process pid has used so far.
func cpuTime(pid int) (time.Duration, error) {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, fmt.Errorf("cpu time of pid %d: %w", pid, err)
	}
	ticks, err := parseStatTicks(data)
	if err != nil {
		return 0, fmt.Errorf("cpu time of pid %d: %w", pid, err)
	}
	return time.Duration(ticks) * time.Second / userHZ, nil
}

// parseStatTicks returns utime+stime from the contents of /proc/<pid>/stat. The second field,
// the command name in parentheses, may itself hold spaces and parentheses, so fields are
// counted from the last ')'.
func parseStatTicks(stat []byte) (uint64, error) {
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 {
		return 0, fmt.Errorf("malformed stat %q", stat)
	}
	fields := bytes.Fields(stat[i+1:])
	// fields[0] is field 3 (state); utime is field 14 and stime field 15.
	const utime, stime = 14 - 3, 15 - 3
	if len(fields) <= stime {
		return 0, fmt.Errorf("stat has %d fields after the name, want more than %d", len(fields), stime)
	}
	u, err := strconv.ParseUint(string(fields[utime]), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("utime: %w", err)
	}
	s, err := strconv.ParseUint(string(fields[stime]), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("stime: %w", err)
	}
	return u + s, nil
}

// cpuMeter reads the CPU time of a set of named processes at the start and the end of a run.
// Its begin marks the start of the measured interval, so other things that must cover exactly
// that interval (the gateway's CPU profile) start from it through onBegin.
type cpuMeter struct {
	pids    map[string]int
	start   map[string]time.Duration
	onBegin func() // if set, called by begin once the start times are read
}

func newCPUMeter(pids map[string]int) *cpuMeter {
	return &cpuMeter{pids: pids, start: map[string]time.Duration{}}
}

func (m *cpuMeter) begin() error {
	for name, pid := range m.pids {
		t, err := cpuTime(pid)
		if err != nil {
			return err
		}
		m.start[name] = t
	}
	if m.onBegin != nil {
		m.onBegin()
	}
	return nil
}

// end returns the CPU time each process used since begin.
func (m *cpuMeter) end() (map[string]time.Duration, error) {
	out := map[string]time.Duration{}
	for name, pid := range m.pids {
		t, err := cpuTime(pid)
		if err != nil {
			return nil, err
		}
		out[name] = t - m.start[name]
	}
	return out, nil
}

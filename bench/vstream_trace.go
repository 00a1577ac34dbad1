package main

// --vstream-trace: execution traces of the first latency round, of the gateway (its
// /debug/pprof/trace) and of this process (the inserting and the streaming client), for
// `go tool trace` (its -pprof=sched view shows where goroutines waited for a CPU).

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"runtime/trace"
	"strconv"
	"time"
)

// latencyTracer traces one latency round; nil traces nothing.
type latencyTracer struct {
	prefix, httpAddr string
	seconds          int
	fetched          chan error
	local            *os.File
}

func newLatencyTracer(prefix, httpAddr string, run time.Duration) *latencyTracer {
	if prefix == "" {
		return nil
	}
	return &latencyTracer{prefix: prefix, httpAddr: httpAddr, seconds: profileSeconds(run)}
}

// start begins both traces.
func (t *latencyTracer) start(ctx context.Context) error {
	f, err := os.Create(t.prefix + ".client.trace")
	if err != nil {
		return err
	}
	if err := trace.Start(f); err != nil {
		f.Close()
		return err
	}
	t.local = f
	t.fetched = make(chan error, 1)
	go func() { t.fetched <- t.fetch(ctx) }()
	return nil
}

func (t *latencyTracer) fetch(ctx context.Context) error {
	url := "http://" + t.httpAddr + "/debug/pprof/trace?seconds=" + strconv.Itoa(t.seconds)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %s", url, resp.Status)
	}
	f, err := os.Create(t.prefix + ".gateway.trace")
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// stop ends the local trace and waits for the gateway's.
func (t *latencyTracer) stop() error {
	trace.Stop()
	err := t.local.Close()
	if ferr := <-t.fetched; err == nil {
		err = ferr
	}
	return err
}

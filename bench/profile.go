package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// gatewayProfiler takes the gateway's CPU profile from its /debug/pprof/profile endpoint during
// each measured gateway run, so the profile covers the measured load and not the warm-up, the
// runs against other targets or idle time. The parts are merged into one file at the end.
//
// The runtime profiles one window at a time and the endpoint only takes whole seconds, so each
// run gets one request of profileSeconds(run duration), sent when the measured interval begins.
type gatewayProfiler struct {
	url     string // .../debug/pprof/profile?seconds=N
	client  *http.Client
	pending chan fetched // the fetch under way, nil if none
	parts   [][]byte     // one gzipped pprof profile per measured gateway run
}

type fetched struct {
	data []byte
	err  error
}

func newGatewayProfiler(httpAddr string, run time.Duration) *gatewayProfiler {
	return &gatewayProfiler{
		url:    "http://" + httpAddr + "/debug/pprof/profile?seconds=" + strconv.Itoa(profileSeconds(run)),
		client: &http.Client{},
	}
}

// profileSeconds is the profile window for a measured run of d: whole seconds, rounded up as
// sysbench rounds its --time (a Go client run of a fractional d is followed by at most a
// second of idle gateway, which adds next to no samples).
func profileSeconds(d time.Duration) int {
	return max(1, int((d+time.Second-1)/time.Second))
}

// start begins a profile of the gateway; wait collects it. The fetching goroutine always ends:
// its channel has room for its one result, and ctx aborts the request.
func (p *gatewayProfiler) start(ctx context.Context) {
	ch := make(chan fetched, 1)
	p.pending = ch
	go func() {
		data, err := p.fetch(ctx)
		ch <- fetched{data, err}
	}()
}

// wait waits for the profile begun by start, if any, and keeps it.
func (p *gatewayProfiler) wait() error {
	if p.pending == nil {
		return nil
	}
	r := <-p.pending
	p.pending = nil
	if r.err != nil {
		return fmt.Errorf("gateway CPU profile: %w", r.err)
	}
	p.parts = append(p.parts, r.data)
	return nil
}

func (p *gatewayProfiler) fetch(ctx context.Context) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := p.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", p.url, err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s: %s: %s", p.url, resp.Status, strings.TrimSpace(string(data)))
	}
	if len(data) == 0 {
		return nil, fmt.Errorf("%s: empty profile", p.url)
	}
	return data, nil
}

// write stores the profile in file: the single part as is, several parts merged by
// `go tool pprof -proto`. If they cannot be merged (no go command), the parts are left as
// file.1, file.2, ... and note says how to merge them.
func (p *gatewayProfiler) write(ctx context.Context, file string) (note string, err error) {
	switch len(p.parts) {
	case 0:
		return "", errors.New("no gateway run was profiled")
	case 1:
		return "", os.WriteFile(file, p.parts[0], 0o644)
	}
	names := make([]string, len(p.parts))
	for i, data := range p.parts {
		names[i] = file + "." + strconv.Itoa(i+1)
		if err := os.WriteFile(names[i], data, 0o644); err != nil {
			return "", err
		}
	}
	args := append([]string{"tool", "pprof", "-proto", "-output", file}, names...)
	if out, err := exec.CommandContext(ctx, goBin(), args...).CombinedOutput(); err != nil {
		return fmt.Sprintf("the %d parts could not be merged (%v: %s); merge them with: %s %s",
			len(names), err, strings.TrimSpace(string(out)), goBin(), strings.Join(args, " ")), nil
	}
	for _, n := range names {
		_ = os.Remove(n)
	}
	return "", nil
}

// printProfileTop prints `go tool pprof -top` of file, or the command if go cannot run it.
func printProfileTop(ctx context.Context, w io.Writer, file string) {
	args := []string{"tool", "pprof", "-top", "-nodecount=25", file}
	cmd := exec.CommandContext(ctx, goBin(), args...)
	cmd.Stdout, cmd.Stderr = w, w
	if err := cmd.Run(); err != nil {
		fmt.Fprintf(w, "(%v) see it with: %s %s\n", err, goBin(), strings.Join(args, " "))
	}
}

// Package consultest runs a real Consul agent for tests: a single-server cluster on loopback
// with free ports and its data in a test's temporary directory, stopped at the end of the
// test. The binary is $VTDIRECT_CONSUL_BIN, else a consul on PATH, else the cached build of
// scripts/consul.sh (built on first use: a few minutes). A test that cannot get one fails;
// it never skips.
//
// Example:
//
//	a := consultest.Start(t, consultest.Options{})
//	ts, err := consultopo.Open(ctx, a.Addr(), "vitess/global")
package consultest

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/vtdirect/vtdirect/local"
)

// Options of a test agent.
type Options struct {
	// Persistent runs a real server (-server -bootstrap-expect=1) whose data survive a
	// Restart; otherwise the agent is in -dev mode (in memory: faster, lost on restart).
	Persistent bool
}

// Agent is a running Consul agent.
type Agent struct {
	t      testing.TB
	bin    string
	dir    string
	opts   Options
	ports  [4]int // http, server (raft/RPC), serf LAN, serf WAN
	mu     sync.Mutex
	cmd    *exec.Cmd     // guarded by mu
	exited chan struct{} // closed when cmd exits; guarded by mu
}

// startTimeout bounds how long an agent may take to elect itself leader.
const startTimeout = 60 * time.Second

var (
	binOnce sync.Once
	binPath string
	binErr  error
)

// Binary returns the path of the consul binary the tests use, building it once if needed.
func Binary() (string, error) {
	binOnce.Do(func() { binPath, binErr = findBinary() })
	return binPath, binErr
}

func findBinary() (string, error) {
	if p := os.Getenv("VTDIRECT_CONSUL_BIN"); p != "" {
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("VTDIRECT_CONSUL_BIN=%s: %w", p, err)
		}
		return p, nil
	}
	if p, err := exec.LookPath("consul"); err == nil {
		return p, nil
	}
	// scripts/consul.sh finds the cached build or makes it; this file is
	// <repo>/topo/consultopo/consultest/agent.go.
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		return "", fmt.Errorf("no consul binary: set VTDIRECT_CONSUL_BIN or run `make consul`")
	}
	script := filepath.Join(filepath.Dir(file), "..", "..", "..", "scripts", "consul.sh")
	cmd := exec.Command(script)
	cmd.Stderr = os.Stderr // progress of a first build
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("no consul binary and %s failed (%v); set VTDIRECT_CONSUL_BIN or run `make consul`", script, err)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	return lines[len(lines)-1], nil
}

// Start starts an agent and registers its Stop with t.Cleanup. It fails t if consul cannot
// be found, built or started.
func Start(t testing.TB, opts Options) *Agent {
	t.Helper()
	bin, err := Binary()
	if err != nil {
		t.Fatalf("consul: %v", err)
	}
	a := &Agent{t: t, bin: bin, dir: t.TempDir(), opts: opts}
	var lastErr error
	for range 3 { // a port may be taken between FreePort and the agent's bind: try new ones
		for i := range a.ports {
			if a.ports[i], err = local.FreePort(); err != nil {
				t.Fatal(err)
			}
		}
		if lastErr = a.start(); lastErr == nil {
			t.Cleanup(a.Stop)
			return a
		}
	}
	t.Fatalf("consul: %v", lastErr)
	return nil
}

// Addr is the agent's HTTP address, host:port (what --topo-addr takes).
func (a *Agent) Addr() string { return "127.0.0.1:" + strconv.Itoa(a.ports[0]) }

// Dir is the agent's data and log directory.
func (a *Agent) Dir() string { return a.dir }

func (a *Agent) args() []string {
	args := []string{"agent",
		"-node=vtdirect-test", "-bind=127.0.0.1", "-client=127.0.0.1", "-advertise=127.0.0.1",
		"-http-port=" + strconv.Itoa(a.ports[0]), "-server-port=" + strconv.Itoa(a.ports[1]),
		"-serf-lan-port=" + strconv.Itoa(a.ports[2]), "-serf-wan-port=" + strconv.Itoa(a.ports[3]),
		"-dns-port=-1", "-grpc-port=-1", "-grpc-tls-port=-1",
		"-log-level=warn",
		// Short session TTLs, so that tests of locks held by dead owners run in seconds.
		"-hcl", `session_ttl_min = "1s"`,
		"-hcl", `disable_update_check = true`,
	}
	if a.opts.Persistent {
		args = append(args, "-server", "-bootstrap-expect=1", "-data-dir="+filepath.Join(a.dir, "data"),
			"-hcl", `performance { raft_multiplier = 1 }`)
	} else {
		args = append(args, "-dev")
	}
	return args
}

// start runs the agent and waits until it has a leader and serves the KV store.
func (a *Agent) start() error {
	logPath := filepath.Join(a.dir, "consul.log")
	logf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	cmd := exec.Command(a.bin, a.args()...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL} // never outlive the test
	if err := cmd.Start(); err != nil {
		logf.Close()
		return fmt.Errorf("start %s: %w", a.bin, err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); logf.Close(); close(exited) }()
	a.mu.Lock()
	a.cmd, a.exited = cmd, exited
	a.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	for {
		if a.ready(ctx) {
			return nil
		}
		select {
		case <-exited:
			return fmt.Errorf("consul agent exited at start; its log %s ends with:\n%s", logPath, tail(logPath))
		case <-ctx.Done():
			a.Stop()
			return fmt.Errorf("consul agent not ready after %v; its log %s ends with:\n%s", startTimeout, logPath, tail(logPath))
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// ready reports whether the agent has a leader, its node registered, and answers a KV read.
func (a *Agent) ready(ctx context.Context) bool {
	get := func(path string) (string, bool) {
		req, _ := http.NewRequestWithContext(ctx, "GET", "http://"+a.Addr()+path, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return "", false
		}
		defer resp.Body.Close()
		var b strings.Builder
		buf := make([]byte, 512)
		n, _ := resp.Body.Read(buf)
		b.Write(buf[:n])
		return b.String(), resp.StatusCode == http.StatusOK || resp.StatusCode == http.StatusNotFound
	}
	leader, ok := get("/v1/status/leader")
	if !ok || len(strings.Trim(leader, "\" \n")) == 0 {
		return false
	}
	// Sessions (locks, leases) need the agent's own node in the catalog, which comes a moment
	// after the leader: until then creating one fails with "Missing node registration".
	nodes, ok := get("/v1/catalog/nodes")
	if !ok || !strings.Contains(nodes, `"Node"`) {
		return false
	}
	_, ok = get("/v1/kv/vtdirect-ready-probe")
	return ok
}

// Stop stops the agent (SIGTERM, then SIGKILL after 10s) and waits for it to exit.
func (a *Agent) Stop() {
	a.mu.Lock()
	cmd, exited := a.cmd, a.exited
	a.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-exited:
	case <-time.After(10 * time.Second):
		_ = cmd.Process.Kill()
		<-exited
	}
}

// Kill stops the agent at once (SIGKILL), like a crash.
func (a *Agent) Kill() {
	a.mu.Lock()
	cmd, exited := a.cmd, a.exited
	a.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = cmd.Process.Kill()
	<-exited
}

// Restart stops the agent and starts it again on the same ports and data directory.
func (a *Agent) Restart() {
	a.t.Helper()
	a.Stop()
	var err error
	for range 20 { // the old process's ports may linger a moment
		if err = a.start(); err == nil {
			return
		}
		time.Sleep(250 * time.Millisecond)
	}
	a.t.Fatalf("consul restart: %v", err)
}

// tail returns the last lines of a file, for error messages.
func tail(path string) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-20):], "\n")
}

package local

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"syscall"
	"time"

	topodatapb "vitess.io/vitess/go/vt/proto/topodata"
)

// stopTimeout bounds a clean stop of one demo process before it is killed.
const stopTimeout = 60 * time.Second

// demoProcess is one process of the demo cluster, found through its pid file.
type demoProcess struct {
	name    string // "etcd", "gateway", "zone1-100"
	role    string // PRIMARY, REPLICA, RDONLY or ""
	addr    string
	pidFile string
	marks   []string // liveProcess marks
	replica bool
}

// processes lists the demo's processes in display order: etcd, the tablets, the gateway.
func (c *DemoConfig) processes(r roles) []demoProcess {
	ps := []demoProcess{
		{name: "etcd", addr: c.EtcdAddr(), pidFile: filepath.Join(c.EtcdDir(), "etcd.pid"), marks: []string{c.EtcdDir()}},
	}
	for _, s := range c.Layout.Tablets {
		dir := c.tabletDir(s)
		ps = append(ps, demoProcess{
			name: s.Alias(), role: r.typeOf(s).String(),
			addr:    net.JoinHostPort("127.0.0.1", strconv.Itoa(s.MySQLPort)),
			pidFile: filepath.Join(dir, pidFileName), marks: []string{filepath.Join(dir, myCnfName)},
			replica: r.typeOf(s) != topodatapb.TabletType_PRIMARY,
		})
	}
	ps = append(ps, c.shardedProcesses()...) // demo_sharded.go
	g := c.Gateway
	return append(ps, demoProcess{name: "gateway", addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(g.MySQLPort)),
		pidFile: filepath.Join(c.gatewayDir(), "gateway.pid"), marks: c.gatewayMarks()})
}

// stopOrder is the order Down stops processes in: the gateway first (clients go), then etcd,
// then the replicas, the primary last (replicas stop following it before it goes).
func stopOrder(ps []demoProcess) []demoProcess {
	rank := func(p demoProcess) int {
		switch {
		case p.name == "gateway":
			return 0
		case p.name == "etcd":
			return 1
		case p.replica:
			return 2
		}
		return 3
	}
	out := slices.Clone(ps)
	slices.SortStableFunc(out, func(a, b demoProcess) int { return rank(a) - rank(b) })
	return out
}

// Down stops every process of the demo cluster in dir cleanly (gateway, etcd, then the
// MariaDBs, replicas before the primary) and, with purge, removes dir.
func Down(ctx context.Context, dir string, purge bool, out io.Writer) error {
	cfg, ok, err := LoadDemoConfig(dir)
	if err != nil {
		return err
	}
	if !ok {
		if _, err := os.Stat(dir); errors.Is(err, os.ErrNotExist) {
			fmt.Fprintf(out, "no cluster in %s: nothing to stop\n", dir)
			return nil
		}
		return fmt.Errorf("%s holds no vtdirect local cluster (%s is missing); not touching it", dir, stateFile)
	}
	unlock, err := lockDir(dir)
	if err != nil {
		return err
	}
	p := progress{out}
	var errs []error
	for _, proc := range stopOrder(cfg.processes(currentRoles(ctx, &cfg))) {
		pid := liveProcess(proc.pidFile, proc.marks...)
		if pid == 0 {
			p.line("%s is not running", proc.name)
			continue
		}
		err := p.step(fmt.Sprintf("stopping %s (pid %d)", proc.name, pid), func() error {
			sctx, cancel := context.WithTimeout(ctx, stopTimeout)
			defer cancel()
			return StopProcess(sctx, pid, syscall.SIGTERM)
		})
		if err != nil {
			errs = append(errs, err)
		}
	}
	unlock()
	if err := errors.Join(errs...); err != nil {
		return err
	}
	if purge {
		if err := p.step("removing "+dir, func() error { return os.RemoveAll(dir) }); err != nil {
			return err
		}
	}
	fmt.Fprintf(out, "vtdirect local cluster in %s is down.\n", dir)
	return nil
}

// Status prints each process of the demo cluster in dir (pid, address, running or not) and the
// replication state of the replicas. It returns an error when some process is not running, so
// that scripts can test it.
func Status(ctx context.Context, dir string, out io.Writer) error {
	cfg, ok, err := LoadDemoConfig(dir)
	if err != nil {
		return err
	}
	if !ok {
		fmt.Fprintf(out, "no vtdirect local cluster in %s (start one with `vtdirect local up --dir %s`)\n", dir, dir)
		return errors.New("not running")
	}
	fmt.Fprintf(out, "vtdirect local cluster in %s\n", dir)
	down := 0
	for _, proc := range cfg.processes(currentRoles(ctx, &cfg)) {
		pid := liveProcess(proc.pidFile, proc.marks...)
		state := "running"
		if pid == 0 {
			state, down = "NOT RUNNING", down+1
		}
		fmt.Fprintf(out, "  %-10s %-8s %-16s pid %-8s %s", proc.name, proc.role, proc.addr, pidString(pid), state)
		if pid != 0 && proc.replica {
			fmt.Fprintf(out, "  replication: %s", replicationSummary(ctx, &cfg, proc.addr))
		}
		fmt.Fprintln(out)
	}
	if down > 0 {
		return fmt.Errorf("%d process(es) not running; `vtdirect local up --dir %s` starts them", down, dir)
	}
	return nil
}

func pidString(pid int) string {
	if pid == 0 {
		return "-"
	}
	return strconv.Itoa(pid)
}

func replicationSummary(ctx context.Context, cfg *DemoConfig, addr string) string {
	_, portStr, _ := net.SplitHostPort(addr)
	port, _ := strconv.Atoi(portStr)
	db, err := sql.Open("mysql", tabletDBADSN(cfg, TabletSpec{MySQLPort: port}, "")) // the app user may not see replication
	if err != nil {
		return err.Error()
	}
	defer db.Close()
	qctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	st, ok, err := QueryReplicaStatus(qctx, db)
	switch {
	case err != nil:
		return "unknown: " + err.Error()
	case !ok:
		return "not configured"
	}
	return st.String()
}

// RunEtcd runs an embedded etcd (the `vtdirect local etcd` process of the demo) until ctx ends
// or etcd fails.
func RunEtcd(ctx context.Context, dir string, clientPort, peerPort int, log *slog.Logger) error {
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	e, err := StartEtcd(dir, clientPort, peerPort, log)
	if err != nil {
		return err
	}
	defer e.Close()
	log.Info("etcd ready", "endpoint", e.Endpoint())
	select {
	case <-ctx.Done():
		log.Info("etcd stopping")
		return nil
	case err := <-e.Err():
		return fmt.Errorf("etcd: %w", err)
	}
}

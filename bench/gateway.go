package main

import (
	"bufio"
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime/pprof"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/vtdirect/vtdirect/gateway"
	"github.com/vtdirect/vtdirect/local"
	"github.com/vtdirect/vtdirect/picker"
	"github.com/vtdirect/vtdirect/tabletserver"
	"github.com/vtdirect/vtdirect/topo"
)

// gatewaySettings are the settings the benchmarked gateway runs with, whichever way it is
// started.
type gatewaySettings struct {
	topoAddr, topoRoot string
	poolSize           int
	logFile            string // the gateway's stderr
}

// buildVtdirect builds cmd/vtdirect into dir (the module is the working directory, as under
// `make bench`).
func buildVtdirect(ctx context.Context, dir string) (string, error) {
	bin := filepath.Join(dir, "vtdirect")
	cmd := exec.CommandContext(ctx, goBin(), "build", "-o", bin, "./cmd/vtdirect")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("build vtdirect (run bench from the module root): %w", err)
	}
	return bin, nil
}

// startServe runs `vtdirect serve` as its own process on free ports and returns it with its
// MySQL address once it answers a query.
func startServe(ctx context.Context, bin string, s gatewaySettings) (*child, string, error) {
	var lastErr error
	for attempt := 0; attempt < 3; attempt++ { // a free port may be taken before the gateway binds it
		ports := make([]int, 3)
		for i := range ports {
			p, err := local.FreePort()
			if err != nil {
				return nil, "", err
			}
			ports[i] = p
		}
		args := []string{"serve",
			"--cell", "zone1",
			"--topo-implementation", topo.ImplEtcd,
			"--topo-addr", s.topoAddr,
			"--topo-root", s.topoRoot,
			"--bind-address", "127.0.0.1",
			"--mysql-server-port", strconv.Itoa(ports[0]),
			"--grpc-port", strconv.Itoa(ports[1]),
			"--port", strconv.Itoa(ports[2]),
			"--mysql-auth-users", "app:app",
			"--db-app-user", "app",
			"--db-app-password", "app",
			"--queryserver-config-pool-size", strconv.Itoa(s.poolSize),
			"--log-level", "warn",
		}
		c, err := startLogged(bin, args, s.logFile)
		if err != nil {
			return nil, "", err
		}
		addr := "127.0.0.1:" + strconv.Itoa(ports[0])
		if lastErr = waitAnswering(ctx, c, addr); lastErr == nil {
			return c, addr, nil
		}
		c.stop()
	}
	return nil, "", fmt.Errorf("gateway did not start (log: %s): %w", s.logFile, lastErr)
}

// startProfiled re-executes this binary as `gateway-profiled`: gateway.Start in its own process
// writing a CPU profile to profile until it is stopped.
func startProfiled(ctx context.Context, s gatewaySettings, profile string) (*child, string, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, "", err
	}
	args := []string{"gateway-profiled", s.topoAddr, s.topoRoot, strconv.Itoa(s.poolSize), profile}
	log, err := os.Create(s.logFile)
	if err != nil {
		return nil, "", err
	}
	defer log.Close()
	cmd := exec.Command(self, args...)
	cmd.Stderr = log
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, "", err
	}
	c, err := startChild("gateway", cmd)
	if err != nil {
		return nil, "", err
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		c.stop()
		return nil, "", fmt.Errorf("profiled gateway did not start (log: %s)", s.logFile)
	}
	addr := strings.TrimSpace(line)
	if err := waitAnswering(ctx, c, addr); err != nil {
		c.stop()
		return nil, "", fmt.Errorf("profiled gateway (log: %s): %w", s.logFile, err)
	}
	return c, addr, nil
}

func startLogged(bin string, args []string, logFile string) (*child, error) {
	log, err := os.OpenFile(logFile, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	defer log.Close()
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = log, log
	return startChild("gateway", cmd)
}

// waitAnswering polls addr with the benchmark's query until it answers, the child exits, or
// 60 seconds pass (the gateway first has to see the tablet in the topo and probe it).
func waitAnswering(ctx context.Context, c *child, addr string) error {
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	db, err := sql.Open("mysql", clientDSN(addr))
	if err != nil {
		return err
	}
	defer db.Close()
	for {
		var val string
		err = db.QueryRowContext(ctx, pointSelect, 1).Scan(&val)
		if err == nil {
			return nil
		}
		select {
		case <-c.done:
			return fmt.Errorf("exited: %w", err)
		case <-ctx.Done():
			return fmt.Errorf("no answer on %s: %w", addr, err)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// runProfiledGateway is the hidden `gateway-profiled <topoAddr> <topoRoot> <poolSize>
// <profile>` mode: the settings of startServe, in a process that profiles itself from start
// to SIGTERM. It prints its MySQL address on stdout.
func runProfiledGateway(topoAddr, topoRoot, pool, profile string) error {
	poolSize, err := strconv.Atoi(pool)
	if err != nil {
		return err
	}
	f, err := os.Create(profile)
	if err != nil {
		return err
	}
	defer f.Close()
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	ts, err := topo.Open(ctx, topo.ImplEtcd, topoAddr, topoRoot)
	if err != nil {
		return err
	}
	defer ts.Close()
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	g, err := gateway.Start(ctx, gateway.Config{
		Cell:           "zone1",
		CellPreference: picker.PreferLocalWithAlias,
		MaxLag:         30 * time.Second,
		MySQLAddr:      "127.0.0.1:0",
		ServerVersion:  "8.0.40-vtdirect",
		Users:          map[string]string{"app": "app"},
		MaxPacketSize:  64 << 20,
		TabletServer: tabletserver.Config{
			User: "app", Password: "app",
			PoolSize: poolSize, PoolWaitTimeout: 5 * time.Second, IdleTimeout: 30 * time.Minute,
			TxPoolSize: 32, TxTimeout: 30 * time.Second,
			HealthInterval: 2 * time.Second, ConnectTimeout: 5 * time.Second,
		},
		Logger: log,
	}, ts)
	if err != nil {
		return err
	}
	defer g.Close()
	if err := pprof.StartCPUProfile(f); err != nil {
		return err
	}
	defer pprof.StopCPUProfile()
	fmt.Println(g.MySQLAddr())
	select {
	case <-ctx.Done():
	case <-g.Failed():
		return g.Err()
	}
	return nil
}

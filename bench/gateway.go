package main

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"time"

	"github.com/vtdirect/vtdirect/local"
	"github.com/vtdirect/vtdirect/topo"
)

// gatewaySettings are the settings the benchmarked gateway runs with.
type gatewaySettings struct {
	topoAddr, topoRoot string
	poolSize           int
	logFile            string   // the gateway's stderr
	extra              []string // more serve flags
	env                []string // more environment variables (NAME=value)
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

// gatewayProc is the running `vtdirect serve`.
type gatewayProc struct {
	*child
	mysqlAddr string
	grpcAddr  string // Vitess gRPC API (VStream)
	httpAddr  string // /metrics and /debug/pprof/
}

// startServe runs `vtdirect serve` as its own process on free ports (MySQL, gRPC and HTTP) and
// returns it once it answers a query.
func startServe(ctx context.Context, bin string, s gatewaySettings) (*gatewayProc, error) {
	var lastErr error
	for attempt := 0; attempt < 3; attempt++ { // a free port may be taken before the gateway binds it
		ports := make([]int, 3)
		for i := range ports {
			p, err := local.FreePort()
			if err != nil {
				return nil, err
			}
			ports[i] = p
		}
		secrets, err := writeSecrets(filepath.Dir(s.logFile))
		if err != nil {
			return nil, err
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
			"--mysql-auth-server-static-file", secrets.users,
			"--db-credentials-file", secrets.creds,
			"--db-app-user", "app",
			"--queryserver-config-pool-size", strconv.Itoa(s.poolSize),
			"--log-level", "warn",
		}
		args = append(args, s.extra...)
		c, err := startLogged(bin, args, s.env, s.logFile)
		if err != nil {
			return nil, err
		}
		gw := &gatewayProc{child: c,
			mysqlAddr: "127.0.0.1:" + strconv.Itoa(ports[0]),
			grpcAddr:  "127.0.0.1:" + strconv.Itoa(ports[1]),
			httpAddr:  "127.0.0.1:" + strconv.Itoa(ports[2]),
		}
		if lastErr = waitAnswering(ctx, c, gw.mysqlAddr); lastErr == nil {
			return gw, nil
		}
		c.stop()
	}
	return nil, fmt.Errorf("gateway did not start (log: %s): %w", s.logFile, lastErr)
}

// benchSecrets are the files that give the benchmarked gateway its passwords (never flags).
type benchSecrets struct{ users, creds string }

// writeSecrets writes the gateway's user file (user app) and the backend users' credentials
// (app, and the cluster's admin user) into dir.
func writeSecrets(dir string) (benchSecrets, error) {
	s := benchSecrets{users: filepath.Join(dir, "users.json"), creds: filepath.Join(dir, "credentials.json")}
	if err := os.WriteFile(s.users, []byte(`{"app": [{"Password": "app"}]}`), 0o600); err != nil {
		return s, err
	}
	creds := fmt.Sprintf(`{"app": ["app"], %q: [%q]}`, local.DefaultDBAUser, local.DefaultDBAPassword)
	return s, os.WriteFile(s.creds, []byte(creds), 0o600)
}

func startLogged(bin string, args, env []string, logFile string) (*child, error) {
	log, err := os.OpenFile(logFile, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	defer log.Close()
	cmd := exec.Command(bin, args...)
	if len(env) > 0 {
		cmd.Env = append(os.Environ(), env...)
	}
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

package local

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"time"
)

// detached is a process started in its own session by spawnDetached: it outlives this process.
type detached struct {
	pid  int
	done chan struct{} // closed when the process exits while this process still runs
	log  string
}

// spawnDetached starts exe with args in a new session (no controlling terminal, so closing the
// terminal does not stop it), stdin from /dev/null, stdout and stderr appended to logPath, and
// writes its pid to pidPath.
func spawnDetached(exe string, args []string, logPath, pidPath string) (*detached, error) {
	if err := os.MkdirAll(filepath.Dir(logPath), 0o755); err != nil {
		return nil, err
	}
	out, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	defer out.Close() // the child has its own descriptor
	cmd := exec.Command(exe, args...)
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", exe, err)
	}
	d := &detached{pid: cmd.Process.Pid, done: make(chan struct{}), log: logPath}
	// Reaps the child if it dies while we run, and tells the readiness wait.
	go func() { _ = cmd.Wait(); close(d.done) }()
	if err := WritePIDFile(pidPath, d.pid); err != nil {
		_ = cmd.Process.Kill()
		return nil, err
	}
	return d, nil
}

// waitTCP polls until addr accepts a TCP connection, the process exits, or ctx ends.
func (d *detached) waitTCP(ctx context.Context, addr string) error {
	t := time.NewTicker(pollInterval)
	defer t.Stop()
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			return nil
		}
		select {
		case <-d.done:
			return fmt.Errorf("exited during start-up; last lines of %s:\n%s", d.log, tailFile(d.log, 15))
		case <-ctx.Done():
			return fmt.Errorf("%s not accepting connections: %w; last lines of %s:\n%s", addr, ctx.Err(), d.log, tailFile(d.log, 15))
		case <-t.C:
		}
	}
}

// liveProcess returns the pid in pidFile when that process is alive and its command line
// contains every one of marks (so a stale pid file whose pid was reused by an unrelated process
// is not mistaken for ours), else 0.
func liveProcess(pidFile string, marks ...string) int {
	pid, err := ReadPIDFile(pidFile)
	if err != nil || !ProcessAlive(pid) {
		return 0
	}
	cmdline, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
	if err != nil {
		return pid // no procfs: trust the pid file
	}
	for _, m := range marks {
		if !bytes.Contains(cmdline, []byte(m)) {
			return 0
		}
	}
	return pid
}

// lockDir takes an exclusive lock on dir/.lock so that two `vtdirect local` commands do not
// start or stop the same cluster at once. The returned func releases it.
func lockDir(dir string) (func(), error) {
	f, err := os.OpenFile(filepath.Join(dir, ".lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", dir, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		return nil, fmt.Errorf("another `vtdirect local` command is working on %s; wait for it: %w", dir, err)
	}
	return func() { _ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN); f.Close() }, nil
}

// checkPortFree fails when something already listens on 127.0.0.1:port, so that `local up`
// says which port is taken instead of talking to a stranger (another etcd on 2379, say).
func checkPortFree(port int, flag string) error {
	if !portFree(port) {
		return fmt.Errorf("port %d is in use by another process; stop it or choose another port with %s", port, flag)
	}
	return nil
}

package local

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// pollInterval is how often the launcher re-checks a condition it waits for (a server accepting
// connections, a process gone, replication running). Short, because the conditions usually
// become true within a second and tests wait on them.
const pollInterval = 50 * time.Millisecond

// ProcessAlive reports whether pid names a running process. A zombie (a process that exited but
// was not reaped, which happens to detached servers whose parent is an init that does not reap)
// counts as dead once all its threads are gone: it then holds no port and no file. A
// multi-threaded process killed by a signal shows its main thread as a zombie while the other
// threads still exit, holding its sockets; that still counts as alive.
func ProcessAlive(pid int) bool {
	if pid <= 0 {
		return false
	}
	if err := syscall.Kill(pid, 0); err != nil && !errors.Is(err, syscall.EPERM) {
		return false
	}
	proc := "/proc/" + strconv.Itoa(pid)
	stat, err := os.ReadFile(proc + "/stat")
	if err != nil {
		// No procfs (not Linux): trust kill(0).
		return !errors.Is(err, os.ErrNotExist)
	}
	// The state follows the command name in parentheses, which may itself hold ") ".
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 || i+2 >= len(stat) {
		return true
	}
	if state := stat[i+2]; state != 'Z' && state != 'X' {
		return true
	}
	tasks, err := os.ReadDir(proc + "/task")
	return err == nil && len(tasks) > 1
}

// ReadPIDFile returns the pid written in path (by us or by mariadbd), or 0 when the file is
// missing.
func ReadPIDFile(path string) (int, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("read pid file: %w", err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		return 0, fmt.Errorf("read pid file %s: %w", path, err)
	}
	return pid, nil
}

// WritePIDFile writes pid to path.
func WritePIDFile(path string, pid int) error {
	if err := os.WriteFile(path, []byte(strconv.Itoa(pid)+"\n"), 0o644); err != nil {
		return fmt.Errorf("write pid file: %w", err)
	}
	return nil
}

// StopProcess sends sig to pid and waits until the process is gone; when ctx ends first it sends
// SIGKILL and waits a little more. It works on processes this process did not start (the
// detached servers of `vtdirect local`), so it polls rather than waits.
func StopProcess(ctx context.Context, pid int, sig syscall.Signal) error {
	if !ProcessAlive(pid) {
		return nil
	}
	if err := syscall.Kill(pid, sig); err != nil && !errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("signal pid %d: %w", pid, err)
	}
	if waitGone(ctx, pid) {
		return nil
	}
	_ = syscall.Kill(pid, syscall.SIGKILL)
	killCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if !waitGone(killCtx, pid) {
		return fmt.Errorf("pid %d survived SIGKILL", pid)
	}
	return fmt.Errorf("pid %d did not stop in time after %v and was killed: %w", pid, sig, ctx.Err())
}

// waitGone polls until pid is dead or ctx ends, and reports whether it died.
func waitGone(ctx context.Context, pid int) bool {
	t := time.NewTicker(pollInterval)
	defer t.Stop()
	for ProcessAlive(pid) {
		select {
		case <-ctx.Done():
			return !ProcessAlive(pid)
		case <-t.C:
		}
	}
	return true
}

// tailFile returns the last n lines of path, for error messages that show why a server failed.
func tailFile(path string, n int) string { return tailFrom(path, 0, n) }

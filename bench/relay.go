package main

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"
)

// runRelay is the hidden `relay <listen> <target> [rw]` mode: a plain TCP relay, the floor for
// any proxy process. Per connection it dials the target and copies bytes both ways with
// io.Copy, nothing else (no buffering choices, no parsing), so that whatever it costs is what
// moving the bytes through one more process costs on this machine. It prints its listen
// address on stdout and runs until killed.
//
// Between two TCP connections io.Copy splices on Linux (splice(2) through a pipe). With
// readWrite (target "relay-rw") it copies with read(2)/write(2) through a 32 KiB buffer
// instead, which is what a proxy that looks at the bytes does; both are offered so that the
// floor is the cheaper of the two on the machine at hand.
func runRelay(listen, target string, readWrite bool) error {
	l, err := net.Listen("tcp", listen)
	if err != nil {
		return err
	}
	fmt.Println(l.Addr().String())
	for {
		client, err := l.Accept()
		if err != nil {
			return err
		}
		go relay(client, target, readWrite)
	}
}

func relay(client net.Conn, target string, readWrite bool) {
	defer client.Close()
	server, err := net.Dial("tcp", target)
	if err != nil {
		return
	}
	defer server.Close()
	cp := io.Copy
	if readWrite {
		cp = copyReadWrite
	}
	go func() {
		cp(server, client)
		server.Close()
	}()
	cp(client, server)
}

// copyReadWrite is io.Copy without the ReaderFrom/WriterTo shortcuts (hence without splice):
// read into a buffer, write it out.
func copyReadWrite(dst io.Writer, src io.Reader) (int64, error) {
	return io.CopyBuffer(struct{ io.Writer }{dst}, struct{ io.Reader }{src}, make([]byte, 32<<10))
}

// child is a process bench started: the relay or the gateway. Its goroutine waits for it, so
// that an early exit is seen (done) and nothing is left a zombie.
type child struct {
	name string
	cmd  *exec.Cmd
	done chan struct{} // closed when the process has exited
}

// startChild starts cmd and the goroutine that waits for it.
func startChild(name string, cmd *exec.Cmd) (*child, error) {
	cmd.SysProcAttr = childAttr()
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	c := &child{name: name, cmd: cmd, done: make(chan struct{})}
	go func() {
		_ = cmd.Wait()
		close(c.done)
	}()
	return c, nil
}

func (c *child) pid() int { return c.cmd.Process.Pid }

// stop terminates the child and waits for it (SIGTERM lets the gateway shut down cleanly;
// SIGKILL follows after 10 seconds).
func (c *child) stop() {
	_ = c.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-c.done:
	case <-time.After(10 * time.Second):
		_ = c.cmd.Process.Kill()
		<-c.done
	}
}

// childAttr kills the child if bench dies, so an interrupted run leaves nothing behind.
func childAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL, Setpgid: true}
}

// startRelay re-executes this binary as a relay to target and returns it with its address.
func startRelay(target string, readWrite bool) (*child, string, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, "", err
	}
	args := []string{"relay", "127.0.0.1:0", target}
	if readWrite {
		args = append(args, "rw")
	}
	cmd := exec.Command(self, args...)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, "", err
	}
	c, err := startChild("relay", cmd)
	if err != nil {
		return nil, "", err
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		c.stop()
		return nil, "", fmt.Errorf("relay did not print its address: %w", err)
	}
	return c, strings.TrimSpace(line), nil
}

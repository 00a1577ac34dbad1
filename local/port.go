package local

import (
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"strconv"
	"strings"
)

// Ports handed out by FreePort come from below the kernel's ephemeral range, so that the local
// port of some outgoing connection never takes the port of a server that a test stopped and is
// about to restart; they start above the demo's fixed ports (15000-17999).
const (
	freePortMin      = 20000
	freePortAttempts = 64
)

// FreePort returns a TCP port on 127.0.0.1 that is free at the time of the call: a random port
// between 20000 and the start of the kernel's ephemeral range that binds, or one the kernel
// picks when that range is too small. Another process may take the port before the caller
// binds it; callers that start a server on it retry with a fresh port when the bind fails
// (StartMariaDB and StartEtcd do when given port 0).
func FreePort() (int, error) {
	if hi := ephemeralLow() - 1; hi-freePortMin >= 1000 {
		for range freePortAttempts {
			port := freePortMin + rand.IntN(hi-freePortMin+1)
			if portFree(port) {
				return port, nil
			}
		}
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	if err := l.Close(); err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	return port, nil
}

func portFree(port int) bool {
	l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		return false
	}
	return l.Close() == nil
}

// ephemeralLow is the first port of the kernel's ephemeral range (Linux default 32768).
func ephemeralLow() int {
	b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if err != nil {
		return 32768
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return 32768
	}
	n, err := strconv.Atoi(f[0])
	if err != nil {
		return 32768
	}
	return n
}

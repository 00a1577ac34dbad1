package local

import (
	"errors"
	"net"
	"syscall"
	"testing"
)

func TestTmpEaddr(t *testing.T) {
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	defer l.Close()
	port := l.Addr().(*net.TCPAddr).Port
	_, err := startEtcdOnce(t.TempDir(), port, 0+port+1, nil)
	t.Logf("err=%v is=%v", err, errors.Is(err, syscall.EADDRINUSE))
	_, err = startEtcdOnce(t.TempDir(), port+2, port, nil)
	t.Logf("err=%v is=%v", err, errors.Is(err, syscall.EADDRINUSE))
}

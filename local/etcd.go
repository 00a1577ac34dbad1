package local

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"time"

	"go.etcd.io/etcd/server/v3/embed"
)

// etcdReadyTimeout bounds how long StartEtcd waits for the embedded server to be ready.
const etcdReadyTimeout = 60 * time.Second

// Etcd is an embedded single-member etcd server running inside this process: the topo of the
// demo cluster (`vtdirect local etcd`) and of integration tests.
type Etcd struct {
	e          *embed.Etcd
	clientPort int
	dir        string
	closeOnce  sync.Once // embed.Etcd.Close panics when called twice
}

// StartEtcd starts an embedded etcd listening on 127.0.0.1:clientPort (clients) and
// 127.0.0.1:peerPort (raft peers; unused by a single member but etcd needs one), with its data
// in dir/data and its own log (warnings and errors only) in dir/etcd.log. A port of 0 picks a
// free one. It returns once the server serves requests. An existing data dir is reused, so a
// restarted etcd keeps its keys.
func StartEtcd(dir string, clientPort, peerPort int, logger *slog.Logger) (*Etcd, error) {
	if logger == nil {
		logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	dir, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("start etcd: %w", err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("start etcd: %w", err)
	}
	// A port picked by FreePort may be taken before etcd binds it (tests run in parallel):
	// retry with fresh ports. etcd binds before it touches its data dir, so a retry is clean.
	for attempt := 0; ; attempt++ {
		cp, pp := clientPort, peerPort
		for _, p := range []*int{&cp, &pp} {
			if *p == 0 {
				if *p, err = FreePort(); err != nil {
					return nil, fmt.Errorf("start etcd: %w", err)
				}
			}
		}
		e, err := startEtcdOnce(dir, cp, pp, logger)
		auto := clientPort == 0 || peerPort == 0
		if err == nil || !auto || attempt >= 3 || !errors.Is(err, syscall.EADDRINUSE) {
			return e, err
		}
		logger.Info("etcd port taken before it could bind it, retrying", "error", err)
	}
}

func startEtcdOnce(dir string, clientPort, peerPort int, logger *slog.Logger) (*Etcd, error) {
	clientURL := url.URL{Scheme: "http", Host: net.JoinHostPort("127.0.0.1", strconv.Itoa(clientPort))}
	peerURL := url.URL{Scheme: "http", Host: net.JoinHostPort("127.0.0.1", strconv.Itoa(peerPort))}

	cfg := embed.NewConfig()
	cfg.Name = "vtdirect"
	cfg.Dir = filepath.Join(dir, "data")
	cfg.ListenClientUrls = []url.URL{clientURL}
	cfg.AdvertiseClientUrls = []url.URL{clientURL}
	cfg.ListenPeerUrls = []url.URL{peerURL}
	cfg.AdvertisePeerUrls = []url.URL{peerURL}
	cfg.InitialCluster = cfg.InitialClusterFromName(cfg.Name)
	cfg.EnableGRPCGateway = false
	cfg.LogLevel = "warn"
	cfg.LogOutputs = []string{filepath.Join(dir, "etcd.log")}

	logger.Info("starting embedded etcd", "client", clientURL.Host, "peer", peerURL.Host, "dir", cfg.Dir)
	e, err := embed.StartEtcd(cfg)
	if err != nil {
		return nil, fmt.Errorf("start etcd on %s: %w", clientURL.Host, err)
	}
	select {
	case <-e.Server.ReadyNotify():
	case err := <-e.Err():
		e.Close()
		return nil, fmt.Errorf("start etcd on %s: %w", clientURL.Host, err)
	case <-time.After(etcdReadyTimeout):
		e.Server.Stop()
		e.Close()
		return nil, fmt.Errorf("start etcd on %s: not ready after %v (see %s)", clientURL.Host, etcdReadyTimeout, cfg.LogOutputs[0])
	}
	return &Etcd{e: e, clientPort: clientPort, dir: dir}, nil
}

// Endpoint is the client address, "127.0.0.1:port" (what --topo-addr takes).
func (e *Etcd) Endpoint() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(e.clientPort)) }

// URL is the client URL, "http://127.0.0.1:port".
func (e *Etcd) URL() string { return "http://" + e.Endpoint() }

// Port is the client port.
func (e *Etcd) Port() int { return e.clientPort }

// Dir is the directory given to StartEtcd.
func (e *Etcd) Dir() string { return e.dir }

// Err reports a fatal error of the running server (for a process whose only job is to run it).
func (e *Etcd) Err() <-chan error { return e.e.Err() }

// Close stops the server and waits until it has stopped. Safe to call more than once.
func (e *Etcd) Close() { e.closeOnce.Do(e.e.Close) }

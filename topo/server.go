package topo

import (
	"context"
	"errors"
	"fmt"
	"sync"

	topodatapb "vitess.io/vitess/go/vt/proto/topodata"
)

// Implementations accepted by Open.
const (
	// ImplEtcd is Vitess's name for its etcd v3 backend ("etcd2"); its key layout is ours.
	ImplEtcd = "etcd2"
)

// Server is the typed view of a topology: the global Conn plus one Conn per cell, opened
// lazily from the cell's CellInfo and cached. It is safe for concurrent use.
type Server struct {
	global   Conn
	openCell func(*topodatapb.CellInfo) (Conn, error)

	mu     sync.Mutex // guards cells and closed
	cells  map[string]*cellConn
	closed bool
}

// cellConn is a cached cell Conn and the CellInfo it was opened from.
type cellConn struct {
	info *topodatapb.CellInfo
	conn Conn
}

// NewServer returns a Server over the global Conn; openCell opens a cell's Conn from its
// CellInfo (ServerAddress, Root). The Server owns the Conns: Close closes them.
func NewServer(global Conn, openCell func(*topodatapb.CellInfo) (Conn, error)) *Server {
	return &Server{global: global, openCell: openCell, cells: make(map[string]*cellConn)}
}

// Open connects to the global topo at addr/root with the named implementation ("etcd2") and
// returns a Server whose cells are opened with the same implementation. Cells whose
// ServerAddress is addr share the global connection to the server.
func Open(ctx context.Context, impl, addr, root string, opts ...Option) (*Server, error) {
	switch impl {
	case ImplEtcd, "etcd":
		global, err := DialEtcd(ctx, addr, root, opts...)
		if err != nil {
			return nil, err
		}
		shared := global.Client()
		return NewServer(global, func(ci *topodatapb.CellInfo) (Conn, error) {
			if ci.ServerAddress == addr {
				return NewEtcdConn(shared, ci.Root), nil
			}
			return newEtcdConnNoProbe(ci.ServerAddress, ci.Root, opts...) // a cell on another etcd, the same TLS
		}), nil
	case "consul":
		// Package consultopo imports this one: it opens its own Servers.
		return nil, fmt.Errorf("topo: %w: open a Consul topo with consultopo.Open (package topo/consultopo)", ErrInvalid)
	default:
		return nil, fmt.Errorf("topo: %w: unknown topo implementation %q; use --topo-implementation %s or consul", ErrInvalid, impl, ImplEtcd)
	}
}

// GlobalConn returns the Conn on the global root.
func (s *Server) GlobalConn() Conn { return s.global }

// CellConn returns the Conn of a cell, opening it on first use from the cell's CellInfo. The
// CellInfo is re-read each time so a cell moved to another server or root is followed.
func (s *Server) CellConn(ctx context.Context, cell string) (Conn, error) {
	ci, err := s.GetCellInfo(ctx, cell)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, fmt.Errorf("topo: cell %s: %w", cell, ErrClosed)
	}
	if cc, ok := s.cells[cell]; ok {
		if cc.info.ServerAddress == ci.ServerAddress && cc.info.Root == ci.Root {
			return cc.conn, nil
		}
		cc.conn.Close()
		delete(s.cells, cell)
	}
	conn, err := s.openCell(ci)
	if err != nil {
		return nil, fmt.Errorf("topo: open cell %s (server %s, root %s): %w", cell, ci.ServerAddress, ci.Root, err)
	}
	s.cells[cell] = &cellConn{info: ci, conn: conn}
	return conn, nil
}

// Close closes every Conn of the Server.
func (s *Server) Close() {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.closed = true
	cells := s.cells
	s.cells = nil
	s.mu.Unlock()
	for _, cc := range cells {
		cc.conn.Close()
	}
	s.global.Close() // last: cells on the same etcd share its client
}

// listDirOrEmpty lists dir, treating a missing directory as empty.
func listDirOrEmpty(ctx context.Context, conn Conn, dir string) ([]string, error) {
	names, err := conn.ListDir(ctx, dir)
	if errors.Is(err, ErrNoNode) {
		return nil, nil
	}
	return names, err
}

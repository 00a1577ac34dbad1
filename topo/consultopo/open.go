package consultopo

import (
	"context"

	topodatapb "vitess.io/vitess/go/vt/proto/topodata"

	"github.com/vtdirect/vtdirect/topo"
)

// Impl is the topo implementation name of this backend (Vitess's: --topo-implementation consul).
const Impl = "consul"

// Open connects to the global topo on the Consul agent at addr under root and returns a
// topo.Server whose cells are opened on Consul too, from their CellInfo (ServerAddress, Root).
// Each cell has its own Conn (Consul's client is a plain HTTP client: nothing to share).
func Open(ctx context.Context, addr, root string) (*topo.Server, error) {
	return OpenConfig(ctx, Config{Addr: addr, Root: root})
}

// OpenConfig is Open with every setting of Config (cfg.Addr and cfg.Root are the global
// topo's); cells use the same settings with their own address and root.
func OpenConfig(ctx context.Context, cfg Config) (*topo.Server, error) {
	global, err := Dial(ctx, cfg)
	if err != nil {
		return nil, err
	}
	return topo.NewServer(global, func(ci *topodatapb.CellInfo) (topo.Conn, error) {
		cell := cfg
		cell.Addr, cell.Root = ci.ServerAddress, ci.Root
		return NewConn(cell)
	}), nil
}

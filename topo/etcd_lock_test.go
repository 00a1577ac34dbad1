package topo_test

import (
	"testing"

	"github.com/vtdirect/vtdirect/topo"
	"github.com/vtdirect/vtdirect/topo/topotest"
)

// TestEtcdLeases runs the locks and elections suite on a real etcd; each Conn has its own
// client, so closing it kills its owner (its leases are no longer kept alive).
func TestEtcdLeases(t *testing.T) {
	e := startEtcd(t)
	topotest.RunLeases(t, func(t *testing.T, root string) topo.Conn { return dial(t, e.Endpoint(), root) })
}

package memorytopo_test

import (
	"testing"

	"github.com/vtdirect/vtdirect/topo"
	"github.com/vtdirect/vtdirect/topo/memorytopo"
	"github.com/vtdirect/vtdirect/topo/topotest"
)

func TestConformance(t *testing.T) {
	store := memorytopo.NewStore()
	topotest.RunConn(t, func(t *testing.T, root string) topo.Conn { return store.Conn(root) })
}

package memorytopo_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/vtdirect/vtdirect/topo"
	"github.com/vtdirect/vtdirect/topo/memorytopo"
	"github.com/vtdirect/vtdirect/topo/topotest"
)

func TestConformance(t *testing.T) {
	store := memorytopo.NewStore()
	topotest.RunConn(t, func(t *testing.T, root string) topo.Conn { return store.Conn(root) })
}

func TestSetError(t *testing.T) {
	ctx := context.Background()
	store := memorytopo.NewStore()
	c := store.Conn("/r")
	defer c.Close()
	down := errors.New("topo server down")
	store.SetError(down)
	if _, err := c.Create(ctx, "f", nil); !errors.Is(err, down) || !strings.Contains(err.Error(), "/r/f") {
		t.Fatalf("Create while down = %v", err)
	}
	store.SetError(nil)
	if _, err := c.Create(ctx, "f", nil); err != nil {
		t.Fatalf("Create after recovery = %v", err)
	}
}

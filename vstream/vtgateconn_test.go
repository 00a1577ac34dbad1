//go:build vtgateconn

// This file drives the gateway with Vitess's own Go client (vtgateconn + grpcvtgateconn). It
// needs go.sum entries for the client's dependencies:
//	go get vitess.io/vitess/go/vt/vtgate/grpcvtgateconn@v0.24.1
// then: go test -tags vtgateconn ./vstream/

package vstream_test

import (
	"context"
	"io"
	"sync"
	"testing"
	"time"

	binlogdatapb "vitess.io/vitess/go/vt/proto/binlogdata"
	topodatapb "vitess.io/vitess/go/vt/proto/topodata"
	vtgatepb "vitess.io/vitess/go/vt/proto/vtgate"
	_ "vitess.io/vitess/go/vt/vtgate/grpcvtgateconn"
	"vitess.io/vitess/go/vt/vtgate/vtgateconn"

	"github.com/vtdirect/vtdirect/vstream"
)

// vitessStream consumes a VStream through vtgateconn into c.
func vitessStream(ctx context.Context, conn *vtgateconn.VTGateConn, vg *binlogdatapb.VGtid, f *binlogdatapb.Filter, flags *vtgatepb.VStreamFlags, c *consumer) error {
	r, err := conn.VStream(ctx, topodatapb.TabletType_REPLICA, vg, f, flags)
	if err != nil {
		return err
	}
	for {
		evs, err := r.Recv()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		c.apply(evs)
	}
}

// TestVitessClient: copy then stream, resume from a saved VGTID, and a source failover, all
// through Vitess's own client.
func TestVitessClient(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	c := startCluster(t, ctx, 2)
	fill(t, c, 1000)
	p := newPicker(c)
	_, addr := serveAddr(t, p, func(cfg *vstream.Config) { cfg.CopyChunkRows = 50 })
	conn, err := vtgateconn.DialProtocol(ctx, "grpc", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()

	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go writer(t, c, stop, &wg, 4)
	cons := newConsumer()
	sctx, scancel := context.WithCancel(ctx)
	errc := make(chan error, 1)
	go func() {
		errc <- vitessStream(sctx, conn, vgtid(""), nil, &vtgatepb.VStreamFlags{HeartbeatInterval: 1}, cons)
	}()
	waitFor(t, ctx, "copy completed", func() (bool, string) {
		cons.mu.Lock()
		defer cons.mu.Unlock()
		return cons.copyDone, "no COPY_COMPLETED"
	})
	// Stop, save the VGTID, resume.
	scancel()
	<-errc
	cons.mu.Lock()
	saved := cons.vgtid.CloneVT()
	cons.mu.Unlock()
	sctx, scancel = context.WithCancel(ctx)
	defer scancel()
	go func() { errc <- vitessStream(sctx, conn, saved, nil, nil, cons) }()
	waitFor(t, ctx, "resumed", func() (bool, string) {
		got := p.picked()
		return len(got) >= 3, "" // prepareCopy + first stream + resumed stream
	})
	// Kill the source.
	alias := p.picked()[len(p.picked())-1]
	p.setDown(alias)
	for i, s := range p.sources {
		if s.Alias == alias && i > 0 {
			c.replicas[i-1].Kill()
		}
	}
	waitFor(t, ctx, "moved", func() (bool, string) {
		got := p.picked()
		return got[len(got)-1] != alias, ""
	})
	close(stop)
	wg.Wait()
	waitFor(t, ctx, "consumer == t1", func() (bool, string) { return sameRows(t, cons, c.pdb, "t1") })
	cons.mu.Lock()
	defer cons.mu.Unlock()
	if cons.err != nil {
		t.Fatal(cons.err)
	}
	checkPairs(t, cons.events)
}

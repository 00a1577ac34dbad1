package gateway

// The gateway's failover: the buffer in front of the router's PRIMARY traffic, the failover
// controller, and the watch of the shard records that tells the buffer of external reparents.

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	topodatapb "vitess.io/vitess/go/vt/proto/topodata"

	"github.com/vtdirect/vtdirect/buffer"
	"github.com/vtdirect/vtdirect/failover"
	"github.com/vtdirect/vtdirect/topo"
)

var _ failover.Buffer = (*buffer.Buffer)(nil)

// failoverParts are the running failover components of a gateway; each may be nil.
type failoverParts struct {
	buf  *buffer.Buffer
	ctrl *failover.Controller

	cancel context.CancelFunc
	wg     sync.WaitGroup // the shard-record watcher
}

// startBuffer starts the buffer over the registry and the shard-record watch that feeds it.
func (g *Gateway) startBuffer(ctx context.Context, ts *topo.Server) error {
	cfg := *g.cfg.Buffer
	if cfg.Logger == nil {
		cfg.Logger = g.cfg.Logger
	}
	buf, err := buffer.New(cfg, buffer.FromRegistry(g.Registry))
	if err != nil {
		return err
	}
	buf.Start(ctx)
	g.fo.buf = buf
	wctx, cancel := context.WithCancel(ctx)
	g.fo.cancel = cancel
	g.fo.wg.Add(1)
	go func() {
		defer g.fo.wg.Done()
		watchShardRecords(wctx, ts.GlobalConn(), buf)
	}()
	return nil
}

// watchShardRecords tells the buffer which primary each shard record names, so that a
// reparent done by another tool (the shard record changes before the tablets do) is held too.
func watchShardRecords(ctx context.Context, conn topo.Conn, buf *buffer.Buffer) {
	backoff := 100 * time.Millisecond
	for ctx.Err() == nil {
		initial, changes, err := conn.WatchRecursive(ctx, topo.KeyspacesPath)
		if err != nil {
			select {
			case <-ctx.Done():
				return
			case <-time.After(backoff):
			}
			backoff = min(backoff*2, 10*time.Second)
			continue
		}
		backoff = 100 * time.Millisecond
		for _, wd := range initial {
			shardRecordChanged(wd, buf)
		}
		for wd := range changes {
			if wd.Err != nil {
				break
			}
			shardRecordChanged(wd, buf)
		}
	}
}

func shardRecordChanged(wd *topo.WatchData, buf *buffer.Buffer) {
	parts := strings.Split(wd.Path, "/") // keyspaces/<ks>/shards/<shard>/Shard
	if len(parts) != 5 || parts[0] != topo.KeyspacesPath || parts[2] != topo.ShardsPath || parts[4] != topo.ShardFile || wd.Deleted {
		return
	}
	si := &topodatapb.Shard{}
	if err := si.UnmarshalVT(wd.Contents); err != nil {
		return
	}
	primary := ""
	if a := si.GetPrimaryAlias(); a != nil {
		primary = fmt.Sprintf("%s-%d", a.GetCell(), a.GetUid())
	}
	buf.ShardRecord(parts[1], parts[3], primary)
}

// startFailover starts the controller; it runs after the HTTP listener so that its election
// id names the gateway's HTTP address (the CLI finds the leader there).
func (g *Gateway) startFailover(ctx context.Context, ts *topo.Server) error {
	cfg := *g.cfg.Failover
	if cfg.ID == "" {
		host, _ := os.Hostname()
		cfg.ID = fmt.Sprintf("%s/%s/%d", g.cfg.Cell, host, os.Getpid())
		if g.httpAddr != nil {
			cfg.ID += " http=http://" + g.httpAddr.String()
		}
	}
	if cfg.Logger == nil {
		cfg.Logger = g.cfg.Logger
	}
	if cfg.TLSMode == 0 && cfg.TLSConfig == nil { // the data path's TLS to MariaDB (--db-ssl-*)
		cfg.TLSMode, cfg.TLSConfig = g.cfg.TabletServer.TLSMode, g.cfg.TabletServer.TLSConfig
	}
	if cfg.Observer == nil {
		obs, err := newFailoverMetrics(g.Metrics)
		if err != nil {
			return err
		}
		cfg.Observer = obs
	}
	var buf failover.Buffer
	if g.fo.buf != nil {
		buf = g.fo.buf
	}
	ctrl, err := failover.New(cfg, ts, failover.NewAgent(cfg), buf)
	if err != nil {
		return err
	}
	ctrl.Start(ctx)
	g.fo.ctrl = ctrl
	g.Metrics.MustRegister(newFailoverCollector(ctrl, g.fo.buf))
	return nil
}

// Failover returns the gateway's failover controller, nil when failover is off.
func (g *Gateway) Failover() *failover.Controller { return g.fo.ctrl }

// Buffer returns the gateway's buffer, nil when buffering is off.
func (g *Gateway) Buffer() *buffer.Buffer { return g.fo.buf }

// closeFailover stops the controller (its recoveries end first), then the buffer.
func (g *Gateway) closeFailover() {
	if g.fo.ctrl != nil {
		g.fo.ctrl.Close()
	}
	if g.fo.cancel != nil {
		g.fo.cancel()
	}
	g.fo.wg.Wait()
	if g.fo.buf != nil {
		g.fo.buf.Close()
	}
}

// LeaderHTTP is the HTTP address in a failover election id ("" if it names none).
func LeaderHTTP(id string) (string, error) {
	_, url, ok := strings.Cut(id, " http=")
	if !ok || url == "" {
		return "", errors.New("the failover leader " + id + " serves no HTTP")
	}
	return url, nil
}

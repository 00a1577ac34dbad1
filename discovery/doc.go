// Package discovery is the tablet registry: it watches the topo for the tablets of the cells
// the gateway serves, creates an embedded tablet server (package tabletserver) for each tablet
// when it appears and closes it when it goes, and publishes an immutable Snapshot of the
// tablets, their shards and their latest health, which the router and the picker read on
// every query without locking.
//
// It does not choose tablets (package picker does) and does not execute queries (package
// tabletserver does).
//
//	reg := discovery.New(cfg, topoServer, logger)
//	reg.Start(ctx)
//	defer reg.Close()
//	snap := reg.Snapshot()
//	shard := snap.Shard("commerce", "0")
package discovery

// Package topo remembers the topology: cells, cell aliases, keyspaces, shards and tablets, stored
// as Vitess's own protobuf records (topodata, vschema) in Vitess's key layout, so that a topology
// written by Vitess's tools is readable here and the other way round.
//
// Two layers:
//
//   - Conn is one root on one topo server: a small key/value interface (Create, Update, Get,
//     Delete, ListDir, WatchRecursive) with opaque versions for compare-and-swap. The etcd
//     backend (EtcdConn, over go.etcd.io/etcd/client/v3) lives in this package; an in-memory
//     backend for tests lives in topo/memorytopo. A Consul backend, locks and leader election
//     are meant to sit beside them: a backend only has to implement Conn (locks and elections
//     will be separate small interfaces that a backend may also implement).
//   - Server is the global Conn plus one Conn per cell, opened lazily from the cell's CellInfo
//     and cached. It reads and writes typed records, keeps ShardReplication in step with
//     tablets, and turns WatchRecursive into a stream of tablet changes (WatchTablets).
//
// Key layout (relative to a Conn's root; global root e.g. /vitess/global, a cell root e.g.
// /vitess/zone1):
//
//	global: cells/<cell>/CellInfo
//	        cells_aliases/<alias>/CellsAlias
//	        keyspaces/<ks>/Keyspace
//	        keyspaces/<ks>/VSchema
//	        keyspaces/<ks>/shards/<shard>/Shard
//	cell:   tablets/<cell>-<uid %010d>/Tablet
//	        keyspaces/<ks>/shards/<shard>/ShardReplication
//
// Errors: ErrNoNode, ErrNodeExists, ErrBadVersion and ErrCorrupt are sentinels wrapped in a
// *KeyError that names the key; test with errors.Is. A record whose bytes do not decode is
// always an error naming its key, never an empty result.
//
// Not here: flags (cmd/vtdirect parses them and calls Open), locks and leader election (later),
// SrvKeyspace/SrvVSchema serving graphs (vtdirect does not need them).
//
// Example:
//
//	ts, err := topo.Open(ctx, "etcd2", "127.0.0.1:2379", "/vitess/global")
//	if err != nil { ... }
//	defer ts.Close()
//	tablets, changes, err := ts.WatchTablets(ctx, "zone1")
//	for ch := range changes { ... } // ch.Tablet == nil: deleted; ch.Err != nil: re-list and re-watch
package topo

// Package topo remembers the topology: cells, cell aliases, keyspaces, shards and tablets, stored
// as Vitess's own protobuf records (topodata, vschema) in Vitess's key layout, so that a topology
// written by Vitess's tools is readable here and the other way round.
//
// Two layers:
//
//   - Conn is one root on one topo server: a small key/value interface (Create, Update, Get,
//     Delete, ListDir, WatchRecursive) with opaque versions for compare-and-swap. The etcd
//     backend (EtcdConn, over go.etcd.io/etcd/client/v3; keys and ModRevision versions exactly
//     as Vitess's etcd2topo) lives in this package; an in-memory backend for tests lives in
//     topo/memorytopo; topo/topotest is the conformance suite every backend runs.
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
// Backends: etcd (EtcdConn, here), Consul (topo/consultopo, opened with consultopo.Open since
// it imports this package), memory (topo/memorytopo, tests). Locks and leader election are
// optional interfaces of the global Conn (Locker, Elector: etcd leases through etcd's
// concurrency package, Consul sessions with KV acquire, on Vitess's keys so that Vitess's
// tools and vtdirect exclude each other), used through Server.LockShard, LockKeyspace,
// Campaign, Leader and ObserveLeader; a Lease's Lost channel closes when the lock or the
// leadership is gone. Server.Check and CheckRoot report a damaged or empty topology, each
// problem naming its key. interop/ (a separate module, to keep Vitess's topo
// dependencies out of the product's go.mod) checks that Vitess's own topo code and this
// package read each other's writes and respect each other's locks, on etcd and Consul.
//
// Not here: flags (cmd/vtdirect parses them and calls Open),
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

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
// Room for what comes next (issue 5), without changing Conn: a Consul backend is one more Conn
// (ConsulConn: Vitess consultopo's keys, ModifyIndex as Version, blocking queries for
// WatchRecursive) and one more case in Open. Locks and leader election will be optional
// interfaces a backend's Conn also implements (etcd leases, Consul sessions), found by a type
// assertion on the global Conn, e.g.
//
//	type Locker interface { Lock(ctx, dir, owner string, ttl time.Duration) (Unlocker, error) }
//	type Elector interface { Campaign(ctx, name, id string) (Leadership, error) }
//
// with Server methods (LockShard, NewElection) on top, so the failover code never sees a
// backend. topo/vitesscompat (a separate module, to keep Vitess's topo dependencies out of
// the product's go.mod) checks that Vitess's own topo code and this package read each
// other's writes.
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

// Package memorytopo is an in-memory topo backend for tests: a Store is one pretend topo server
// (one key space with a store-wide revision counter, like etcd), and Store.Conn(root) is a
// topo.Conn on one root of it. NewServer builds a topo.Server with ready-made cells, so a
// consumer's unit tests run without etcd.
//
// It follows the same contract as the etcd backend (the conformance tests in package topo run
// against both): versions are revisions, ListDir lists direct children, WatchRecursive sends
// every change in order. It is not for production: everything lives in one process.
//
// Example:
//
//	ts, store, err := memorytopo.NewServer(ctx, "zone1", "zone2")
//	defer ts.Close()
//	_ = ts.CreateKeyspace(ctx, "commerce", &topodatapb.Keyspace{})
//	_ = store // store.Conn("/vitess/zone1") reaches a cell's root directly, e.g. to write junk
package memorytopo

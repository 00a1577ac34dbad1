// Package topotest is the conformance suite every topo backend must pass (etcd, memory, and
// later Consul): RunConn checks one topo.Conn implementation against the contract of
// topo.Conn (versions, compare-and-swap, listing, roots, ordered watches, errors naming keys).
//
// Example (in a backend's _test.go):
//
//	func TestConformance(t *testing.T) {
//		store := memorytopo.NewStore()
//		topotest.RunConn(t, func(t *testing.T, root string) topo.Conn { return store.Conn(root) })
//	}
package topotest

// Package topotest is the conformance suite every topo backend must pass (etcd, Consul,
// memory): RunConn checks one topo.Conn implementation against the contract of topo.Conn
// (versions, compare-and-swap, listing, roots, ordered watches, errors naming keys; Consul
// passes CoalescedWatch), RunLeases checks locks and leader elections (exclusion, release,
// expiry when the owner dies, two contenders), RunWatchRestart a watch across a server
// restart.
//
// Example (in a backend's _test.go):
//
//	func TestConformance(t *testing.T) {
//		store := memorytopo.NewStore()
//		topotest.RunConn(t, func(t *testing.T, root string) topo.Conn { return store.Conn(root) })
//	}
package topotest

// Package interop holds the tests that use Vitess's own code as a real peer:
//
//   - Vitess's topo code (vitess.io/vitess/go/vt/topo with its etcd2 and consul plugins), each
//     test run on a real etcd and on a real Consul agent: each side reads what the other wrote,
//     locks exclude each other, Vitess sees the leader we elected, and a gateway started on a
//     topology written by Vitess finds its tablets and serves queries (real MariaDB servers);
//   - Vitess's Go client for VStream (vtgateconn with grpcvtgateconn) against a gateway on a
//     local cluster: copy then stream, resume from a saved VGTID, and a source killed mid-stream.
//
// It is a separate Go module because Vitess's topo and client packages pull in about 80 modules
// that the product does not need (tracing, servenv, viper...): keeping them out of the main
// go.mod keeps the product's build small. Run it with
//
//	cd interop && go test ./...     # or: make interop (make test runs it)
//
// The Consul agent comes from VTDIRECT_CONSUL_BIN, a consul on PATH, or scripts/consul.sh.
//
// The first run downloads those modules (a couple of minutes); later runs use the cache.
package interop

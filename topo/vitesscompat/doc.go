// Package vitesscompat holds the interop tests with Vitess's own topo code
// (vitess.io/vitess/go/vt/topo with its etcd2 and consul plugins), each run on a real etcd and
// on a real Consul agent: each side reads what the other wrote, locks exclude each other,
// Vitess sees the leader we elected, and a gateway started on a topology written by Vitess
// finds its tablets and serves queries (real MariaDB servers).
//
// It is a separate Go module because Vitess's topo package pulls in about 80 modules that the
// product does not need (tracing, servenv, viper...): keeping them out of the main go.mod keeps
// the product's build small. Run it with
//
//	cd topo/vitesscompat && go test ./...     # or: make compat
//
// The Consul agent comes from VTDIRECT_CONSUL_BIN, a consul on PATH, or scripts/consul.sh.
//
// The first run downloads those modules (a couple of minutes); later runs use the cache.
package vitesscompat

// Package vitesscompat holds one test: Vitess's own topo code (vitess.io/vitess/go/vt/topo with
// its etcd2 plugin) and vtdirect's topo package write and read the same etcd, each reading what
// the other wrote.
//
// It is a separate Go module because Vitess's topo package pulls in about 80 modules that the
// product does not need (tracing, servenv, viper...): keeping them out of the main go.mod keeps
// the product's build small. Run it with
//
//	cd topo/vitesscompat && go test ./...
//
// The first run downloads those modules (a couple of minutes); later runs use the cache.
package vitesscompat

// Package e2e holds the end-to-end tests: a real cluster (MariaDB servers replicating with
// GTIDs and an embedded etcd, started by package local exactly as `vtdirect local up` lays
// them out) with gateways started in the test process, driven by real clients:
// go-sql-driver/mysql, go-mysql's client (for exact column metadata) and the `mariadb` CLI.
package e2e

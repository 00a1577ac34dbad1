// Package sharding holds the end-to-end tests of sharded keyspaces: a local cluster (the
// demo's unsharded keyspace commerce plus the sharded keyspace customer, shards -80 and 80-,
// each a primary and a replica, real MariaDB servers) and gateways started in the test
// process, driven by go-sql-driver/mysql. A differential oracle runs the same seeded random
// queries on a sharded keyspace and on an unsharded copy of its rows and wants the same
// results; MariaDB's own counters (userstat) prove that single-shard statements reach one
// shard; sequences are checked unique under concurrent inserters on two gateways.
package sharding

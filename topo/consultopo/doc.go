// Package consultopo is the Consul backend of the topo: a topo.Conn on one root of a Consul
// cluster, reached through a Consul agent's HTTP API (github.com/hashicorp/consul/api), with
// Vitess's consultopo key layout so that vtdirect and Vitess's tools read each other's
// topology:
//
//   - a file is the KV key path.Join(root, path) without a leading '/' (root "vitess/global"
//     and "/vitess/global" are the same keys, where Vitess, given "vitess/global", writes);
//   - a Version is the key's ModifyIndex; writes that must report a conflict are KV
//     transactions (check-and-set at index 0 to create, at the read index to update);
//   - WatchRecursive is a loop of blocking queries on the prefix, diffed against what was
//     seen: changes that land between two answers are coalesced (Consul keeps no history),
//     every file's last state is delivered, and an agent restart is ridden through;
//   - locks (<dir>/Lock) and elections (elections/<name>) are Consul sessions with a TTL plus
//     KV acquire, the protocol of api.Lock and of Vitess, so both sides exclude each other.
//
// Open returns a topo.Server on Consul; cmd/vtdirect calls it for
// --topo-implementation consul. The ACL token comes from Config.Token or, like the consul
// CLI, from CONSUL_HTTP_TOKEN.
//
// Not here: TLS client certificates other than through the CONSUL_* environment variables the
// Consul API client reads (CONSUL_CACERT, CONSUL_CLIENT_CERT...), and Consul namespaces.
//
// Example:
//
//	ts, err := consultopo.Open(ctx, "127.0.0.1:8500", "vitess/global")
//	if err != nil { ... }
//	defer ts.Close()
//	lease, err := ts.LockShard(ctx, "commerce", "0", "failover", 10*time.Second)
package consultopo

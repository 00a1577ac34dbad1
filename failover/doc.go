// Package failover detects a dead primary and reparents its shard, inside the gateway, the
// way orchestrator and VTOrc do beside Vitess: one gateway leads (the topo's election), every
// recovery holds the shard lock and journals each step in the topo, and every action is taken
// on MariaDB directly with an admin user and recorded in the topo as Vitess's own reparents
// record it.
//
// Pure core (no socket, table-tested from recorded readings):
//   - gtid.go: MariaDB GTID positions (one GTID per domain) and FindErrant, the definition of
//     an errant transaction for them (a domain the primary never wrote, a sequence ahead of
//     it or at its sequence from another server, a write of a replica that was never primary,
//     a former primary's transaction past the end of its term);
//   - analysis.go: Analyze, from the latest Reading of every tablet of a shard to its
//     problems in orchestrator's terms (DeadPrimary, UnreachablePrimary, ...), each one to
//     Report, Fix or Recover;
//   - durability.go, candidate.go: Vitess's durability policies (none, semi_sync, cross_cell)
//     and promotion rules, and Choose, which picks the most advanced tablet and the one to
//     promote.
//
// Thin drivers:
//   - mariadb.go: the Agent, every statement failover runs on a tablet;
//   - emergency.go, planned.go, fixes.go: the recoveries, as named steps run by runner.go
//     and journaled by journal.go (vtdirect/failover/<ks>/<shard>/ under the global root);
//   - controller.go: the election, the poll loop, the decisions, the journal watch that
//     buffers this gateway's traffic during another gateway's reparent.
//
// Not here: holding client traffic (package buffer, which implements Buffer), the HTTP and
// metrics faces (package gateway), flags (cmd/vtdirect). MySQL 8's GTID sets are not handled:
// the analysis reports UnsupportedFlavor and nothing is acted on.
//
// Example (what the gateway does):
//
//	ctrl, err := failover.New(failover.Config{ID: "zone1/host/42", DBAUser: "vt_dba", DBAPassword: pw},
//		ts, failover.NewAgent(cfg), buf)
//	ctrl.Start(ctx)
//	defer ctrl.Close()
//	st := ctrl.Status() // analysis per shard, readings, recoveries
//	rec, err := ctrl.Reparenter().Planned(ctx, "commerce", "0", failover.PlannedOptions{})
package failover

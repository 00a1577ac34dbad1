// Package planner decides what the gateway does with a statement whose target is a sharded
// keyspace: which shards run it, what each shard gets, and how their replies become the
// client's. It is pure: a function of the statement, the vschema (package vschema) and the
// session's lexical mode, with no I/O; the router executes the plans.
//
// Statements are parsed with Vitess's own grammar (vitess.io/vitess/go/vt/sqlparser, what
// vtgate plans with). Before that, a one-pass normalizer replaces the statement's literals
// with '?': the plan cache is keyed by the normalized text, so queries that differ only by
// their values share a plan, and a cache hit costs the normalizer and a map lookup, not a
// parse. A plan reads the literals by index (Plan.Args): the vindex values that choose the
// shards, and the text that goes back into the statement sent to the shards, exactly as the
// client wrote it.
//
// What it plans, as vtgate does:
//
//   - SELECT, UPDATE, DELETE with = or IN on a vindex column go to the owning shards; on a
//     consistent_lookup_unique column, to the shard the lookup table names; others scatter.
//     A value that maps to no keyspace id (hash of 'abc') routes nowhere (no rows).
//   - Joins of tables sharded by the same vindex type and joined on their primary vindex
//     columns, and joins with reference tables, go to the route of the sharded side; so do
//     subqueries correlated on the primary vindex, or on reference tables only.
//   - SELECTs on several shards are merged: ORDER BY (a streaming merge sort on the shards'
//     sorted rows, text compared by WEIGHT_STRING() pushed to the shards), LIMIT/OFFSET
//     (the shards get LIMIT offset+count), COUNT/SUM/MIN/MAX/AVG, COUNT(DISTINCT),
//     SUM(DISTINCT), GROUP BY and DISTINCT (the shards group and sort by the keys; the
//     gateway combines equal keys), HAVING (what involves aggregates is evaluated by the
//     gateway), ORDER BY an aggregate (sorted after grouping).
//   - INSERT rows are split by the keyspace id of their primary vindex column, which an
//     auto_increment sequence may fill; reference tables are written in their source.
//   - DDL goes to every shard; SET, SHOW, SELECT without tables to one; BEGIN, COMMIT and
//     ROLLBACK are the router's (transactions span shards).
//
// Everything else is refused with error 1235 naming the construct (a join across shards, a
// subquery on another shard, UPDATE of the primary vindex column, user variables...).
//
// Example:
//
//	p := planner.New(planner.Config{})
//	plan, lits, err := p.Plan(vs, &planner.Request{Keyspace: "customer", Query: q}, &scratch)
//	switch plan.Kind {
//	case planner.KindRoute: shards := router.shardsOf(plan.Route, values(lits)) ...
//	}
package planner

// Package engine turns the replies of several shards into one client reply, as a plan of
// package planner says: it reads each shard's reply as it streams (Collector, the io.Writer
// a tablet server forwards the reply into), merges the shards' sorted rows, groups and
// aggregates them, filters groups (HAVING), sorts groups, applies LIMIT and OFFSET, and writes
// the result to the client in the MySQL protocol (text rows, or binary rows for prepared
// statements), or adds up the shards' OK packets.
//
// It owns the comparisons (by the columns' types: integers, decimals, floats, times, and
// text by the WEIGHT_STRING() the shards computed, trailing pad weights ignored for PAD SPACE
// collations) and the arithmetic of aggregates (exact for integers and decimals, AVG with
// MySQL's four extra digits). It does no network I/O and starts no goroutine: the router
// runs each shard's statement in a goroutine of its own that writes into a Collector, and
// drives the merge from the session's goroutine.
//
// Rows never wait in memory beyond a few batches per shard, except where the result needs
// them all: the groups of an ORDER BY an aggregate (sorted after grouping).
//
// Example (the router, much simplified):
//
//	cols := make([]*engine.Collector, len(shards))
//	for i, sh := range shards {
//		cols[i] = engine.NewCollector(caps)
//		go func() { res, err := sh.conn.Exec(ctx, req, cols[i]); cols[i].Finish(res, err) }()
//	}
//	err := engine.Merge(plan.Merge, values, cols, out, opts)
package engine

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
// sends each shard's statement, has each reply read into a Collector (in a goroutine of its
// own for a streaming merge), and drives the merge from the session's goroutine.
//
// Rows never wait in memory beyond a few batches per shard, except where the result needs
// them all: the groups of an ORDER BY an aggregate (sorted after grouping), and the replies a
// plan bounds (an aggregate without GROUP BY: one row per shard; a write: none), which a
// buffered collector (NewBufferedCollector) keeps whole so that the session's goroutine reads
// them itself, one shard after the other, with no goroutine or hand-off.
//
// Example (the router, much simplified):
//
//	cols := make([]*engine.Collector, len(shards))
//	for i, sh := range shards {
//		cols[i] = engine.NewCollector(caps)
//		sh.conn.Send(ctx, req)
//	}
//	for i, sh := range shards {
//		go func() { _, err := sh.conn.Receive(cols[i]); cols[i].Finish(err) }()
//	}
//	res, err := engine.Select(&engine.SelectInput{Merge: plan.Merge, Sources: cols, ...}, w)
package engine

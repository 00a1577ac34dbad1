// Package picker chooses the tablet a query or a stream goes to.
//
// It implements the tablet picker of RFC vitess#11999 ("prefer local cells
// in source tablet selection"): a caller names tablet types (optionally in
// order), cells and cell aliases, its own local cell and a cell preference,
// and the picker chooses among the healthy tablets of one shard.
//
// The package owns the decision only. It reads no topo, opens no socket and
// starts no goroutine. Its input is a Snapshot, built by the tablet
// registry (package discovery) each time the topology or a tablet's health
// changes, and indexed by shard so that a pick costs O(tablets of the
// shard): a map lookup and a loop over a few entries, with no allocation.
//
// Three pieces:
//
//   - Compile turns Options into Criteria once (parsing, validation); keep
//     the Criteria for a target or a stream and reuse it per pick.
//   - Pick and Explain are pure functions of (Snapshot, keyspace, shard,
//     Criteria): Pick chooses, Explain shows every tablet ranked or
//     rejected with its reason, for /debug/picker and `vtdirect picker
//     explain`, and for the text of NoTabletError.
//   - Waiter retries a pick with a backoff (10ms doubling to 1s), waking at
//     once when its Source publishes a new snapshot (Feed does this), until
//     its context ends. Metrics counts misses.
//
// Precedence. The cell preference orders cells in tiers:
//
//	PreferLocalWithAlias (default): local cell > other cells of the local
//	                                cell's aliases > specified cells
//	PreferLocal:                    local cell > specified cells
//	OnlySpecified:                  specified cells (or the local cell when
//	                                none is given), one tier, no fallback
//
// Cells outside the tiers are never used. With TabletOrder Any the best
// tier wins and every listed type is equal in it; with InOrder (or the
// legacy "in_order:" prefix, which wins over the option) the type order
// comes first and the tier second, so a REPLICA in a remote cell beats a
// local RDONLY when REPLICA is listed first. The choice within the best
// group is uniform at random, from an injected source. PRIMARY as the only
// type means the shard's primary wherever its cell. A tablet is eligible
// only if reachable, serving (unless IncludeNonServing), not excluded and,
// for non-primaries, lagging at most MaxLag.
//
// What it does not do: watch the topo, probe health, compute lag (the
// registry does), or decide what a target means (the router does).
//
// Example:
//
//	crit, err := picker.Compile(picker.Options{
//		LocalCell:   "zone1",
//		Cells:       []string{"zone1", "zone2"},
//		TabletTypes: "REPLICA",
//		MaxLag:      30 * time.Second,
//	})
//	if err != nil {
//		return err // *picker.InvalidArgumentError
//	}
//	tablet, err := picker.Pick(feed.Snapshot(), "commerce", "0", crit, nil)
//	if err != nil {
//		return err // *picker.NoTabletError: lists each tablet and why not
//	}
package picker

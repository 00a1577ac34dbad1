// Package buffer holds a shard's PRIMARY traffic while the shard is reparented, as vtgate's
// buffer does (go/vt/vtgate/buffer): a statement that would go to the primary waits until
// the reparent ends and then runs on the new primary; past --buffer-window, or with
// --buffer-size requests already waiting, it fails with a retryable 1105.
//
// It owns the decision "does this shard's primary traffic wait now", from three sources:
//   - reparents that say so (StartReparent/EndReparent): this gateway's failover controller,
//     and other gateways' recoveries that the controller sees in the journal;
//   - the registry's snapshots: a primary that stops serving (health probe: unreachable or
//     read-only), a shard without one, a shard record naming another primary (ShardRecord,
//     fed by the gateway from the topo): an external reparent is buffered too;
//   - the router (PrimaryFailed): a connection to the primary refused before the probe saw it.
//
// It does not own the router's sessions: the router calls Wait before a statement takes a
// new connection to a PRIMARY, releases when the statement is done (Drain counts the
// statements so admitted), and asks Interrupted for the error a transaction held on the old
// primary gets. A transaction is never moved: it was open on the old primary and is gone.
//
// One goroutine, owned by the Buffer (Start/Close), follows the registry.
//
// Example, in the router, for a statement to a PRIMARY on a connection it does not hold:
//
//	release, err := buf.Wait(ctx, keyspace, shard)
//	if err != nil {
//		return err // 1105: reparent in progress past the window, or the buffer is full
//	}
//	defer release()
//	conn, err := pickPrimaryAndConnect()
//	if err != nil && buf.PrimaryFailed(ctx, keyspace, shard, alias, addr) {
//		// the primary is gone: wait again for the new one and retry once
//	}
package buffer

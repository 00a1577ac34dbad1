// Package tabletserver holds the embedded tablet-server components of one tablet, the work that
// Vitess does in a separate vttablet process: a pool of backend connections for queries, a
// reserved pool for transactions and session state (with a transaction timeout that rolls back
// what a client abandons), a query timeout that really kills the query on MySQL (KILL QUERY),
// a result-size limit, a health probe, and counters.
//
// Tablets of many keyspaces may live on one MySQL server, each in its own database. Those that
// connect as one user share a Backend (backend.go): one pool bounded by MaxConnections, in
// which each tablet's PoolSize and TxPoolSize are sub-quotas, one control connection, one
// health probe per interval for all of them. Connections know the database they are on and are
// switched to another tablet's, through information_schema, in the statement's write when the
// statement cannot reach another database (Request.Pipeline), else just before it (schema.go).
//
// The per-query path is the product. A backend connection is opened by go-mysql's client
// (handshake, auth) with exactly the result-format capabilities the gateway gives its clients
// (docs/internals.md); then its socket is taken over. Conn.Exec writes the client's command
// verbatim and forwards the backend's reply verbatim to the client: it walks packet headers only
// (to find the end of the reply, count rows, see ERR and status flags), one backend read → one
// client write, through a fixed per-connection buffer, with no allocation and no goroutine.
//
// It does not choose tablets (picker), parse SQL or track sessions (router), speak the server
// side of the protocol (mysqlserver) nor watch the topo (discovery). MariaDB/MySQL differences
// live in package flavor.
//
// Example (a router serving one autocommit query):
//
//	backends := tabletserver.NewBackends(log)            // one per registry
//	ts := tabletserver.NewShared(backends, cfg, tablet, log, onHealth)
//	ts.Open()
//	defer ts.Close()
//	conn, err := ts.Get(ctx, &session.Settings)
//	if err != nil { return client.WriteError(err) }
//	res, err := conn.Exec(ctx, cmd.Frame, client.RawWriter())
//	switch {
//	case err == nil:
//		// Pin on res.Status only when res.StatusKnown.
//	case tabletserver.StatementOnly(err): // timeout, max rows, KillQuery: conn and tx intact
//		write err at res.NextSeq if res.Forwarded; keep (or Recycle) conn
//	case errors.As(err, &clientWriteErr), errors.As(err, &replyCompleteErr):
//		conn.Close(); write nothing
//	default: // the backend connection is broken (its transaction is gone)
//		conn.Close(); write err at res.NextSeq if res.Forwarded
//	}
//	conn.Recycle() // a no-op after Close
//
// Conn.Send and Conn.Receive split Exec in two, so that a caller can put a statement on
// several connections (the shards of a sharded keyspace) from one goroutine before it reads
// any reply.
//
// Exec honours ctx's deadline (as a query timeout) and refuses to start once ctx is done, but
// does not watch ctx during a query: that would allocate per query. To stop a running query
// (a client's KILL QUERY, the gateway stopping), call Conn.KillQuery, or KillQueryOnLease
// with the Lease read when the query began, from any goroutine: the KILL goes through the
// control connection and cannot reach a later query of the connection.
package tabletserver

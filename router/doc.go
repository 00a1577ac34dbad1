// Package router decides where each statement of a client session goes. It implements
// mysqlserver.Handler: for every command it reads the session's target (keyspace, shard,
// tablet type), classifies the statement by its leading keywords, chooses a tablet from the
// registry's snapshot and has that tablet's embedded tablet server forward the command to
// MySQL, whose reply streams back to the client verbatim.
//
// The router answers a few statements itself: USE and COM_INIT_DB (they change the target),
// SHOW DATABASES (the keyspaces), SELECT CONNECTION_ID() (the gateway's own id) and KILL
// (which finds the session by the gateway's id and kills its query on MySQL).
//
// Transactions and session state: a backend connection stays pinned to the session while the
// backend reports a transaction open (SERVER_STATUS_IN_TRANS) or autocommit off; SET
// statements are remembered and replayed on any other backend connection that serves the
// session later.
package router

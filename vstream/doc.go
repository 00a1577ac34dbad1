// Package vstream serves Vitess's VStream API from the binlogs of MariaDB (and MySQL) tablets,
// with no vttablet: per shard it picks a source tablet, optionally copies the tables, then
// reads the source's binlog as a replica and sends Vitess VEvents.
//
// What it owns: positions ("MariaDB/0-100-42", "MySQL56/uuid:1-9"), filter rules, the copy
// phase, binlog-to-VEvent translation, merging shards into one stream, heartbeats, and moving a
// shard's stream to another tablet when its source fails. It knows nothing of the router; the
// gRPC face (package grpcvtgate) hands it VStream requests, and the tablet picker reaches it
// through the SourcePicker interface.
//
// # Events
//
// A transaction is sent as BEGIN, [FIELD], ROW..., VGTID, COMMIT. Small transactions share a
// response; a response holds at most Config.MaxResponseBytes (the packet size,
// --vstream-packet-size) of events, so a larger transaction goes out in several responses as
// it is read, with the send lock held from its first chunk to its COMMIT (chunk.go, Vitess's
// transaction_chunk_size). DDL arrives as VGTID, DDL; other statements as VGTID, OTHER. A
// stream started at "current" first gets VGTID, OTHER. FIELD is sent before a table's first
// row and again before its first row after a DDL or a source change. ENUM and SET values are
// sent as their member names (FieldEvent.enum_set_string_values). Table names are "ks.table"
// unless flags.exclude_keyspace_from_table_name. XA transactions (xa.go) are sent at their
// XA COMMIT; resharding journals (journal.go) end or move the participant shards' streams.
//
// # Shapes
//
// Rows are decoded with the table shape of their own binlog position: from the TABLE_MAP
// event when the source logs full row metadata (tablemap.go), else from the schema history a
// tracker keeps on the primary (history.go, tracker.go, shadow.go). Every shape, from either
// or from information_schema for the copy, is one canonical form (coldef.go), so FIELD events
// agree whatever the source of the shape.
//
// # Sources
//
// Before streaming, a source's binlog settings are checked (sourcecheck.go, package flavor);
// an unfit tablet is refused, and a stream left with no fit tablet fails with
// FAILED_PRECONDITION naming the settings.
//
// # Speed
//
// The binlog connection is read by vtdirect's own code (binlogconn.go: no go-mysql
// BinlogSyncer goroutine and channel). On a MariaDB source it is the server's shared dump
// (below): its goroutine hands raw events to the stream's queue, waking the stream only when
// its queue was empty, and the stream takes the whole queue at once; elsewhere the stream
// reads the connection itself. The stream translates the events and sends the response from
// its own goroutine, serialized with the other shards by the sendState. Completed
// transactions are sent as soon as no more input is buffered (on the connection or in the
// queue), so a burst is batched into large responses (up to Config.MaxResponseEvents/Bytes)
// and a lone commit waits for no timer. TABLE_MAP events identical to the last one of their
// table are decoded once (binlog.go); allocations on the per-event path are grouped
// (alloc.go); grpcvtgate marshals into buffers it does not zero. Figures: `make bench`.
//
// # Shared dumps
//
// The streams of every schema of one MariaDB server read one binlog dump (sharedbinlog.go:
// who joins when, bounded queues; sharedsub.go: a slow stream handed over to a dump of its
// own without a gap or a repeat); each stream parses its own events, so it sends exactly
// what it would send from a dump of its own.
//
// # Copy phase
//
// An empty position (or one with table_p_ks) copies the tables in key order, in chunks
// each read in its own consistent snapshot, catching the binlog up to each snapshot in between
// with only the changes to rows the consumer already has. The VGTID sent after each chunk lists
// every table still to copy in table_p_ks (with a nil lastpk for tables not begun), so a stream
// resumed from it copies exactly what is left. COPY_COMPLETED is sent per shard and, with no
// keyspace, once for the whole stream. A consumer that applies everything ends with exactly the
// table's rows, with no duplicate (stricter than Vitess's at-least-once copy). Keys are
// compared as MariaDB orders them (keyorder.go: collations through WEIGHT_STRING, DECIMAL and
// floats as numbers). A table without a primary key uses a NOT NULL unique key; one with no
// such key is read from one snapshot and sent in bounded parts with no VGTID until its end.
//
// # Choosing sources
//
// The request's tablet_type is the type to stream from. Vitess's VStreamFlags has no list of
// types, so vtdirect reads one from flags.tablet_order in the form of Vitess's tablet picker:
// "in_order:REPLICA,PRIMARY" tries replicas first and the primary when no replica is healthy;
// "any:REPLICA,RDONLY" takes any of them. Plain "any" / "in_order" keep the one tablet_type.
// flags.cells and flags.cell_preference go to the SourcePicker unchanged.
//
// # Failures
//
// When the source dies, stops answering (MySQL binlog heartbeats stop), cannot serve the
// position, or (if the SourcePicker also implements HealthChecker) is reported unhealthy (not
// serving, lagging past the picker's bound), the shard's stream re-picks with the failed tablet
// excluded and resumes from the last position it handed on, so nothing is lost or repeated. Bad positions, bad filters and
// a position no tablet can serve end the stream with a gRPC status (see CodeOf).
//
// Example:
//
//	m, err := vstream.NewManager(vstream.Config{User: "vt_repl", Password: pw, Picker: p, Logger: log})
//	...
//	err = m.VStream(ctx, req, func(r *vtgatepb.VStreamResponse) error { return stream.Send(r) })
package vstream

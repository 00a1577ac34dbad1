// Package vschema turns Vitess vschemas into the model the planner routes with. A vschema is
// Vitess's `vschema.Keyspace` protobuf, kept per keyspace in the topo at
// keyspaces/<ks>/VSchema (package topo) and written by `vtdirect topo apply-vschema ks
// file.json` from Vitess's JSON form:
//
//	{
//	  "sharded": true,
//	  "vindexes": {"hash": {"type": "hash"}},
//	  "tables": {
//	    "customer": {
//	      "column_vindexes": [{"column": "customer_id", "name": "hash"}],
//	      "auto_increment": {"column": "customer_id", "sequence": "commerce.customer_seq"}
//	    },
//	    "region": {"type": "reference", "source": "commerce.region"}
//	  }
//	}
//
// It owns: decoding that JSON strictly (Parse: an unknown field is an error naming it),
// checking a vschema as Vitess does, with errors that name the keyspace, table and field
// (Build and Check), and the built model: keyspaces, tables with their primary and secondary
// vindexes (package vindex), sequences, reference tables and their sources, pinned tables,
// lookup vindexes with their owners. It is pure, except Watcher, the thin driver that watches
// the topo's vschemas and publishes a new VSchema on every change.
//
// What vtdirect refuses that Vitess accepts: vindex types it does not implement (lookup,
// lookup_hash, region_*, multicol...), multi-column vindexes, routing rules. Those are
// reported by Build as errors of the keyspace; the keyspace is then not routed (its
// statements fail naming the error) until its vschema is fixed.
//
// Example:
//
//	pb, err := vschema.Parse(jsonBytes)               // *vschemapb.Keyspace
//	if err := vschema.Check("customer", pb, others); err != nil { ... } // others: the other keyspaces
//	vs := vschema.Build(all)                          // map[keyspace]*vschemapb.Keyspace
//	ks := vs.Keyspace("customer")                     // ks.Err != nil when its vschema is broken
//	t := ks.Tables["customer"]                        // t.Primary().Vindex
package vschema

// Package acl decides whether a gateway user may run a statement, before the gateway sends
// it to MySQL. It owns the access rules of the gateway's users and their checks; it is pure
// (no I/O, no goroutines, no clock): the router hands it a query, the user, the session's
// target and a way to tell which keyspace a database belongs to, and gets back nil or the
// MySQL error to answer with.
//
// The rules, per user (UserConfig):
//
//   - Keyspaces: the keyspaces (or keyspace prefixes ending in %) the user may use and the
//     most it may do in each: read, write (INSERT, UPDATE, DELETE, LOAD DATA...) or ddl
//     (CREATE, ALTER, DROP...; each right includes the ones before it). A user without
//     Keyspaces may do everything in every keyspace. A qualified name that reaches another
//     keyspace's database on a shared server (SELECT * FROM other_db.t) needs the right there.
//   - TabletTypes: the tablet types its targets may name (none: all).
//   - Admin: whether it may run statements that act beyond its session (KILL of other users'
//     connections, SHUTDOWN, SET PASSWORD, ALTER USER, GRANT, replication control, SET GLOBAL,
//     FLUSH, INTO OUTFILE, stored code whose text cannot be judged...) and read the server's
//     internals (information_schema.PROCESSLIST, INNODB_* tables, performance_schema, sys,
//     mysql, SHOW ENGINE). Classification is package classify's, whatever the spelling
//     (comments, case, executable comments, the prepared form).
//   - Groups: the groups the user belongs to, for the table ACL.
//
// The table ACL (TableGroup) is Vitess's (vttablet's --table-acl-config): groups of table
// names or prefixes (name%), each with its readers, writers and admins (user or group names);
// a table no group names is denied to everyone. Table names may carry a keyspace
// ("commerce.customer"); without one they match the table in any keyspace. A user under a
// table ACL has its statements parsed with Vitess's sqlparser to find each table and the
// right it needs (writers for the target of a DML, admins for DDL, readers for the rest);
// a statement sqlparser cannot parse is refused for such users.
//
// Denials are MySQL's errors: 1044 (ER_DBACCESS_DENIED_ERROR) for a keyspace, 1142
// (ER_TABLEACCESS_DENIED_ERROR) for a table, 1227 (ER_SPECIFIC_ACCESS_DENIED_ERROR) for a
// statement acting beyond the session, each naming the user, what it reached and the right.
//
// What it does not do: authentication (mysqlserver checks passwords), KILL (the router owns
// the sessions a KILL names), limits on connections (mysqlserver).
//
// Example:
//
//	pol, err := acl.New(acl.Config{Users: map[string]acl.UserConfig{
//		"report": {Keyspaces: map[string]acl.Right{"commerce": acl.Read}},
//	}})
//	u := pol.User("report")
//	err = u.Check(&acl.Request{Query: q, Parsed: &cq, Keyspace: "commerce", Database: "commerce",
//		TabletType: topodatapb.TabletType_REPLICA, Host: "10.0.0.7"}, resolver)
package acl

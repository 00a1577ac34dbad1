// Package config reads vtdirect's YAML configuration file (`vtdirect serve --config FILE`):
// what the serve flags say, for one gateway, and what no flag can say, for a thousand tablets.
//
// Sections: gateway (the process: cell, listeners, topo, client TLS, stats), users (the MySQL
// users the gateway accepts), global (defaults of every tablet and server: credentials, pool
// sizes, timeouts, replication lag bound, picker defaults), servers (per MySQL server,
// "host:port"), keyspaces and tablets (per keyspace, per tablet alias), failover and buffer.
// A tablet's value is its tablets entry's, else its keyspace's, else its server's, else
// global's, else the built-in default. Every key also answers to the name of the flag it
// replaces ("queryserver-config-pool-size" for pool_size, with dashes or underscores).
//
// Secrets come from files or the environment only: password_file (the file's content, one
// trailing newline removed) or password_env (a variable's value), never from the command
// line; Values.String and every error leave them out.
//
// A bad file fails with the file, line and key: unknown keys, wrong types, a key in a section
// where it means nothing, a missing secret file or variable, a tablet or user named twice.
//
// The package owns the format and its resolution; it knows nothing of flags (cmd/vtdirect
// applies FlagValues through its flag set) nor of running gateways (Diff says what a reload
// changes).
//
//	f, err := config.Load("/etc/vtdirect/vtdirect.yaml", os.LookupEnv)
//	if err != nil { return err } // "vtdirect.yaml:12: keyspaces.commerce.pool_size: want an integer"
//	cfg := f.TabletConfig(base, tablet) // global < servers < keyspaces < tablets
package config

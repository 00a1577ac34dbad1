package config

import "strings"

// kind is a setting's type.
type kind uint8

const (
	kString kind = iota
	kInt
	kDuration
	kBool
	kList    // a sequence of strings, or one comma-separated string
	kRules   // promotion rules: a mapping alias: rule, or "alias=rule,..."
	kSecretF // a file whose content is the secret
	kSecretE // an environment variable holding the secret
	kPath    // a file name; a relative one is anchored to the configuration file's directory
)

func (k kind) String() string {
	return [...]string{"a string", "an integer", "a duration (such as 5s or 1m30s)", "true or false",
		"a list of strings", "a mapping of tablet alias to rule", "a file name", "an environment variable name", "a file name"}[k]
}

// section is where a setting may appear.
type section uint16

const (
	inGateway section = 1 << iota
	inGlobal
	inServers
	inKeyspaces
	inTablets
	inFailover
	inBuffer
	inUsers
)

// Section names, as written in the file.
var sectionNames = map[section]string{
	inGateway: "gateway", inGlobal: "global", inServers: "servers", inKeyspaces: "keyspaces",
	inTablets: "tablets", inFailover: "failover", inBuffer: "buffer", inUsers: "users",
}

func (s section) names() string {
	var out []string
	for _, b := range []section{inGateway, inGlobal, inServers, inKeyspaces, inTablets, inFailover, inBuffer, inUsers} {
		if s&b != 0 {
			out = append(out, sectionNames[b])
		}
	}
	return strings.Join(out, ", ")
}

// setting is one key of the file.
type setting struct {
	key  string // canonical name
	flag string // the serve flag it replaces ("" for none); also accepted as the key
	kind kind
	in   section
	// secret names the value a password_file or password_env key fills ("password",
	// "dba_password"...), for secret kinds.
	secret string
	// reload says a running gateway applies a change of it on reload.
	reload bool
}

const tabletScopes = inGlobal | inServers | inKeyspaces | inTablets

// settings is every key of the file.
var settings = []setting{
	// gateway: the process.
	{key: "cell", flag: "cell", in: inGateway},
	{key: "cells_to_watch", flag: "cells-to-watch", kind: kList, in: inGateway},
	{key: "keyspaces_to_watch", flag: "keyspaces-to-watch", kind: kList, in: inGateway},
	{key: "bind_address", flag: "bind-address", in: inGateway},
	{key: "mysql_port", flag: "mysql-server-port", kind: kInt, in: inGateway},
	{key: "grpc_port", flag: "grpc-port", kind: kInt, in: inGateway},
	{key: "http_port", flag: "port", kind: kInt, in: inGateway},
	{key: "topo_implementation", flag: "topo-implementation", in: inGateway},
	{key: "topo_address", flag: "topo-addr", in: inGateway},
	{key: "topo_root", flag: "topo-root", in: inGateway},
	{key: "topo_etcd_tls_ca", flag: "topo-etcd-tls-ca", kind: kPath, in: inGateway},
	{key: "topo_etcd_tls_cert", flag: "topo-etcd-tls-cert", kind: kPath, in: inGateway},
	{key: "topo_etcd_tls_key", flag: "topo-etcd-tls-key", kind: kPath, in: inGateway},
	{key: "mysql_server_version", flag: "mysql-server-version", in: inGateway},
	{key: "auth_static_file", flag: "mysql-auth-server-static-file", kind: kPath, in: inGateway, reload: true},
	{key: "insecure_no_auth", flag: "insecure-no-auth", kind: kBool, in: inGateway},
	{key: "tls_cert", flag: "mysql-server-ssl-cert", kind: kPath, in: inGateway},
	{key: "tls_key", flag: "mysql-server-ssl-key", kind: kPath, in: inGateway},
	{key: "require_secure_transport", flag: "mysql-server-require-secure-transport", kind: kBool, in: inGateway},
	{key: "max_packet_size", flag: "mysql-max-packet-size", kind: kInt, in: inGateway},
	{key: "write_timeout", flag: "mysql-server-write-timeout", kind: kDuration, in: inGateway},
	{key: "session_idle_timeout", flag: "mysql-server-idle-timeout", kind: kDuration, in: inGateway},
	{key: "local_infile", flag: "mysql-server-local-infile", kind: kBool, in: inGateway},
	{key: "log_level", flag: "log-level", in: inGateway},
	{key: "vstream_packet_size", flag: "vstream-packet-size", kind: kInt, in: inGateway},
	{key: "vstream_private_binlog_dumps", flag: "vstream-private-binlog-dumps", kind: kBool, in: inGateway},
	{key: "drop_dimensions", flag: "drop-dimensions", kind: kList, in: inGateway, reload: true},
	{key: "combine_dimensions", flag: "stats-combine-dimensions", kind: kList, in: inGateway, reload: true},
	{key: "transaction_mode", flag: "transaction-mode", in: inGateway},
	// gateway: listeners, TLS, access rules and bounds (README: Security).
	{key: "mysql_bind_address", flag: "mysql-server-bind-address", in: inGateway},
	{key: "grpc_bind_address", flag: "grpc-bind-address", in: inGateway},
	{key: "grpc_cert", flag: "grpc-cert", kind: kPath, in: inGateway},
	{key: "grpc_key", flag: "grpc-key", kind: kPath, in: inGateway},
	{key: "grpc_ca", flag: "grpc-ca", kind: kPath, in: inGateway},
	{key: "table_acl_config", flag: "table-acl-config", kind: kPath, in: inGateway, reload: true},
	{key: "debug_token_file", flag: "debug-token-file", kind: kPath, in: inGateway},
	{key: "max_client_connections", flag: "mysql-server-max-connections", kind: kInt, in: inGateway},
	{key: "max_user_connections", flag: "mysql-server-max-user-connections", kind: kInt, in: inGateway},
	{key: "max_prepared_stmts", flag: "mysql-server-max-prepared-stmts", kind: kInt, in: inGateway},
	{key: "session_budget", flag: "mysql-server-session-budget", kind: kInt, in: inGateway},
	{key: "total_session_budget", flag: "mysql-server-total-session-budget", kind: kInt, in: inGateway},
	{key: "max_auth_failures", flag: "mysql-server-max-auth-failures", kind: kInt, in: inGateway},
	{key: "auth_failure_window", flag: "mysql-server-auth-failure-window", kind: kDuration, in: inGateway},

	// global, servers, keyspaces, tablets: the tablet servers.
	{key: "user", flag: "db-app-user", in: tabletScopes},
	{key: "password_file", kind: kSecretF, in: tabletScopes, secret: "password", reload: true},
	{key: "password_env", kind: kSecretE, in: tabletScopes, secret: "password", reload: true},
	// TLS to MariaDB, and the change streams' user: every server's.
	{key: "ssl_mode", flag: "db-ssl-mode", in: inGlobal},
	{key: "ssl_ca", flag: "db-ssl-ca", kind: kPath, in: inGlobal},
	{key: "ssl_cert", flag: "db-ssl-cert", kind: kPath, in: inGlobal},
	{key: "ssl_key", flag: "db-ssl-key", kind: kPath, in: inGlobal},
	{key: "ssl_server_name", flag: "db-server-name", in: inGlobal},
	{key: "filtered_user", flag: "db-filtered-user", in: inGlobal},
	{key: "filtered_password_file", kind: kSecretF, in: inGlobal, secret: "filtered_password"},
	{key: "filtered_password_env", kind: kSecretE, in: inGlobal, secret: "filtered_password"},
	{key: "pool_size", flag: "queryserver-config-pool-size", kind: kInt, in: tabletScopes, reload: true},
	{key: "pool_timeout", flag: "queryserver-config-query-pool-timeout", kind: kDuration, in: tabletScopes, reload: true},
	{key: "transaction_cap", flag: "queryserver-config-transaction-cap", kind: kInt, in: tabletScopes, reload: true},
	{key: "transaction_timeout", flag: "queryserver-config-transaction-timeout", kind: kDuration, in: tabletScopes, reload: true},
	{key: "query_timeout", flag: "queryserver-config-query-timeout", kind: kDuration, in: tabletScopes, reload: true},
	{key: "max_result_rows", flag: "queryserver-config-max-result-size", kind: kInt, in: tabletScopes, reload: true},
	// Per (server, user): global and servers only.
	{key: "max_connections", flag: "db-max-connections", kind: kInt, in: inGlobal | inServers, reload: true},
	{key: "idle_timeout", flag: "queryserver-config-idle-timeout", kind: kDuration, in: inGlobal | inServers, reload: true},
	{key: "health_check_interval", flag: "health-check-interval", kind: kDuration, in: inGlobal | inServers},
	{key: "connect_timeout", flag: "db-connect-timeout", kind: kDuration, in: inGlobal | inServers},
	// The picker: global and keyspaces.
	{key: "max_replication_lag", flag: "discovery-low-replication-lag", kind: kDuration, in: inGlobal | inKeyspaces, reload: true},
	{key: "cell_preference", flag: "cell-preference", in: inGlobal | inKeyspaces, reload: true},
	{key: "cells", flag: "cells", kind: kList, in: inGlobal | inKeyspaces, reload: true},

	// failover and buffer (vttablet's, VTOrc's and vtgate's flags).
	{key: "enabled", flag: "enable-failover", kind: kBool, in: inFailover},
	{key: "dba_user", flag: "db-dba-user", in: inFailover},
	{key: "dba_password_file", kind: kSecretF, in: inFailover, secret: "dba_password"},
	{key: "dba_password_env", kind: kSecretE, in: inFailover, secret: "dba_password"},
	{key: "repl_user", flag: "db-repl-user", in: inFailover},
	{key: "repl_password_file", kind: kSecretF, in: inFailover, secret: "repl_password"},
	{key: "repl_password_env", kind: kSecretE, in: inFailover, secret: "repl_password"},
	{key: "poll_interval", flag: "failover-poll-interval", kind: kDuration, in: inFailover},
	{key: "block_period", flag: "failover-block-period", kind: kDuration, in: inFailover},
	{key: "lease_ttl", flag: "failover-lease-ttl", kind: kDuration, in: inFailover},
	{key: "wait_replicas_timeout", flag: "wait-replicas-timeout", kind: kDuration, in: inFailover},
	{key: "replica_net_timeout", flag: "replica-net-timeout", kind: kDuration, in: inFailover},
	{key: "reparent_grace_period", flag: "reparent-grace-period", kind: kDuration, in: inFailover},
	{key: "promotion_rules", flag: "failover-promotion-rules", kind: kRules, in: inFailover},
	{key: "pre_hooks", flag: "failover-pre-hook", kind: kList, in: inFailover},
	{key: "post_hooks", flag: "failover-post-hook", kind: kList, in: inFailover},
	{key: "hook_timeout", flag: "failover-hook-timeout", kind: kDuration, in: inFailover},
	{key: "keyspaces", flag: "failover-keyspaces", kind: kList, in: inFailover},
	{key: "enabled", flag: "enable-buffer", kind: kBool, in: inBuffer},
	{key: "window", flag: "buffer-window", kind: kDuration, in: inBuffer},
	{key: "size", flag: "buffer-size", kind: kInt, in: inBuffer},
	{key: "max_failover_duration", flag: "buffer-max-failover-duration", kind: kDuration, in: inBuffer},

	// users: each gateway user's password.
	{key: "password_file", kind: kSecretF, in: inUsers, secret: "password", reload: true},
	{key: "password_env", kind: kSecretE, in: inUsers, secret: "password", reload: true},
}

// norm folds a key's spelling: dashes and underscores, case.
func norm(k string) string { return strings.ToLower(strings.ReplaceAll(k, "-", "_")) }

// lookup finds the setting a key names in a section: its canonical name or its flag's. It
// also returns a setting of that name valid elsewhere, to say where it belongs.
func lookup(key string, in section) (s *setting, elsewhere *setting) {
	k := norm(key)
	for i := range settings {
		st := &settings[i]
		if st.key != k && (st.flag == "" || norm(st.flag) != k) {
			continue
		}
		if st.in&in != 0 {
			return st, nil
		}
		if elsewhere == nil {
			elsewhere = st
		}
	}
	return nil, elsewhere
}

// KeyOfFlag names the file's key that replaces a serve flag: "global.pool_size" for
// queryserver-config-pool-size; "" when none does.
func KeyOfFlag(flag string) string {
	f := norm(strings.TrimLeft(flag, "-"))
	for _, st := range settings {
		if st.flag != "" && norm(st.flag) == f {
			return sectionNames[firstSection(st.in)] + "." + st.key
		}
	}
	return ""
}

func firstSection(s section) section {
	for b := section(1); b != 0; b <<= 1 {
		if s&b != 0 {
			return b
		}
	}
	return 0
}

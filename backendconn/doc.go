// Package backendconn runs the client side of the MySQL connection phase against a backend
// (MariaDB or MySQL): it reads the server greeting, upgrades to TLS when asked, sends the
// handshake response with exactly the capability flags the caller chose (MariaDB's extended
// capabilities included), authenticates (mysql_native_password, caching_sha2_password with its
// fast path, cleartext-over-TLS and RSA full paths, MariaDB's client_ed25519, and
// mysql_clear_password over TLS only) and follows auth switches. It returns the socket
// positioned exactly after the final OK packet: packets are read with exact-length reads, so
// no byte of what follows sits in a buffer of ours. The command phase belongs to the caller.
//
// It exists because the gateway forwards a backend's replies to its clients verbatim: a
// backend connection must negotiate the same reply-format capabilities as the client it
// serves (CLIENT_DEPRECATE_EOF, CLIENT_SESSION_TRACK, ...), which go-mysql's client cannot be
// told to do. It owns no pool and no command: tabletserver dials with it.
//
// Example:
//
//	nc, info, err := backendconn.Dial(ctx, backendconn.Config{
//		Addr: "127.0.0.1:3306", User: "vt_app", Password: pw,
//		Capabilities: mysql.CLIENT_LONG_FLAG | mysql.CLIENT_TRANSACTIONS | mysql.CLIENT_MULTI_RESULTS |
//			mysql.CLIENT_PS_MULTI_RESULTS | mysql.CLIENT_SESSION_TRACK | mysql.CLIENT_DEPRECATE_EOF,
//		ConnectTimeout: 5 * time.Second,
//	})
//	if err != nil { ... } // a *mysql.MyError in the chain keeps the server's code
//	// info.Capabilities is what was negotiated; nc is ready for the first command.
//
// Protocol reference:
// https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_connection_phase.html and
// https://mariadb.com/kb/en/connection/.
package backendconn

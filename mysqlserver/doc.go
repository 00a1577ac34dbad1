// Package mysqlserver speaks the server side of the MySQL client/server protocol: it accepts
// clients, runs the handshake (TLS upgrade, mysql_native_password and caching_sha2_password),
// reads commands and hands them to a Handler, and writes the replies the gateway makes
// itself (OK, ERR, EOF, text result sets, prepared-statement OKs) in the format each client
// negotiated (CLIENT_DEPRECATE_EOF, CLIENT_SESSION_TRACK), as MariaDB writes them.
//
// It owns: connection ids, framing (packets, splitting, limits, the compressed protocol), the
// connection phase and COM_CHANGE_USER's authentication, COM_SET_OPTION, the idle timeout,
// the per-connection prepared-statement table with long data and remembered parameter types,
// and the normalisation of COM_STMT_EXECUTE. It does not own what a command means: routing,
// sessions and backend I/O belong to the Handler (the router). Replies forwarded from a
// backend are only right if the backend connection negotiated the client's reply-format
// capabilities (Conn.Capabilities).
//
// The read path is built to be cheap: one buffer per connection, a command that fits it is
// read with one system call and handed over in place (Command.Frame aliases the buffer), and
// every reply the Conn builds is written with one Write. No goroutine per command.
//
// Example:
//
//	ln, _ := mysqlserver.Listen(ctx, "127.0.0.1:15306") // keep-alive inherited by each client
//	srv, err := mysqlserver.NewListener(mysqlserver.Config{
//		Auth: mysqlserver.StaticAuth{"app": "app"},
//	}, ln, router)
//	if err != nil { ... }
//	go srv.Serve()
//	defer srv.Close()
//
// Protocol reference: https://dev.mysql.com/doc/dev/mysql-server/latest/PAGE_PROTOCOL.html
// and https://mariadb.com/kb/en/clientserver-protocol/.
package mysqlserver

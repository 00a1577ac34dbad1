package mysqlserver

// The listening socket. Go's net package turns TCP keep-alive on for every connection it
// accepts with four setsockopt calls of its own (SO_KEEPALIVE, TCP_KEEPIDLE, TCP_KEEPINTVL,
// TCP_KEEPCNT). On Linux an accepted socket inherits those options from the listening one
// (it is a copy of it), so Listen sets them once on the listener and tells net not to repeat
// them: four system calls fewer per client connection, which is most of what a short-lived
// client (connect, one query, close) costs the gateway besides the query itself.

import (
	"context"
	"net"
	"time"
)

// The TCP keep-alive of every client connection: Go's own default for accepted connections
// (probes after 15 s idle, every 15 s, 9 unanswered before the connection is dropped).
const (
	keepAliveIdle     = 15 * time.Second
	keepAliveInterval = 15 * time.Second
	keepAliveCount    = 9
)

// Listen opens the TCP listener for MySQL clients on addr, with TCP keep-alive on every
// connection it accepts.
func Listen(ctx context.Context, addr string) (net.Listener, error) {
	lc := listenConfig()
	return lc.Listen(ctx, "tcp", addr)
}

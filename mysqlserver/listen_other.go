//go:build !linux

package mysqlserver

import "net"

// listenConfig leaves keep-alive to net, which sets it on each accepted connection.
func listenConfig() net.ListenConfig {
	return net.ListenConfig{KeepAliveConfig: net.KeepAliveConfig{Enable: true, Idle: keepAliveIdle, Interval: keepAliveInterval, Count: keepAliveCount}}
}

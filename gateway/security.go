package gateway

import (
	"crypto/subtle"
	"crypto/tls"
	"net"
	"net/http"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"

	"github.com/vtdirect/vtdirect/mysqlserver"
)

// Limits are the bounds no client can break (mysqlserver's, see its Config).
type Limits struct {
	MaxConnections     int                          // --mysql-server-max-connections (1040)
	MaxUserConnections int                          // --mysql-server-max-user-connections (1203)
	UserMaxConnections map[string]int               // a user's own bound (its access rules); absent: MaxUserConnections
	MaxPreparedStmts   int                          // --mysql-server-max-prepared-stmts (1461), per connection
	SessionBudget      int                          // --mysql-server-session-budget, bytes per connection (1153)
	TotalBudget        int64                        // --mysql-server-total-session-budget, bytes of all connections together (1153)
	AuthFailures       mysqlserver.AuthFailureLimit // --mysql-server-max-auth-failures per --mysql-server-auth-failure-window (1129)
}

// apply puts the limits into the MySQL listener's configuration. Each user's own bound is read
// from g at each login, so a reload changes it.
func (l Limits) apply(c *mysqlserver.Config, g *Gateway) {
	c.MaxConnections, c.MaxUserConnections = l.MaxConnections, l.MaxUserConnections
	g.userMax.Store(&l.UserMaxConnections)
	c.UserMaxConnections = func(user string) int { return (*g.userMax.Load())[user] }
	c.MaxPreparedStmts, c.SessionBudget, c.AuthFailures = l.MaxPreparedStmts, l.SessionBudget, l.AuthFailures
	c.TotalBudget = l.TotalBudget
}

// grpcTLS is the gRPC server option for a TLS configuration (nil: none, cleartext).
func grpcTLS(c *tls.Config) []grpc.ServerOption {
	if c == nil {
		return nil
	}
	return []grpc.ServerOption{grpc.Creds(credentials.NewTLS(c))}
}

// guardDebug serves the /debug/ pages (profiles, status, failover control) only to local
// clients: on a listener bound to a loopback address they are open; on any other address
// they need `Authorization: Bearer <token>` (--debug-token-file), and are off without a
// token. /metrics, /healthz and / stay open (scrapers and load balancers).
func guardDebug(next http.Handler, addr net.Addr, token string) http.Handler {
	if isLoopback(addr) {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.URL.Path, "/debug/") {
			next.ServeHTTP(w, r)
			return
		}
		if token == "" {
			http.Error(w, "vtdirect: the /debug/ pages are off on a non-loopback address; "+
				"give --debug-token-file (and send Authorization: Bearer <token>) or bind --bind-address to 127.0.0.1", http.StatusForbidden)
			return
		}
		got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || subtle.ConstantTimeCompare([]byte(strings.TrimSpace(got)), []byte(token)) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="vtdirect debug"`)
			http.Error(w, "vtdirect: the /debug/ pages need Authorization: Bearer <the token of --debug-token-file>", http.StatusUnauthorized)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// isLoopback reports a listener address on the loopback interface only.
func isLoopback(addr net.Addr) bool {
	tcp, ok := addr.(*net.TCPAddr)
	return ok && tcp.IP.IsLoopback()
}

// securityCollector exports the MySQL listener's bounds and the router's access denials.
type securityCollector struct {
	g                                *Gateway
	conns, refused, authFail, denied *prometheus.Desc
}

func newSecurityCollector(g *Gateway) *securityCollector {
	return &securityCollector{
		g:        g,
		conns:    prometheus.NewDesc("vtdirect_mysql_connections", "client connections open (handshakes included)", nil, nil),
		refused:  prometheus.NewDesc("vtdirect_mysql_connections_refused_total", "client connections refused, by reason (max_connections, max_user_connections, blocked_host)", []string{"reason"}, nil),
		authFail: prometheus.NewDesc("vtdirect_mysql_auth_failures_total", "failed logins (handshake and COM_CHANGE_USER)", nil, nil),
		denied:   prometheus.NewDesc("vtdirect_access_denied_total", "statements refused by the access rules, by kind (keyspace: 1044, table: 1142, privilege: 1227, kill: 1095, other)", []string{"kind"}, nil),
	}
}

func (c *securityCollector) Describe(ch chan<- *prometheus.Desc) { prometheus.DescribeByCollect(c, ch) }

func (c *securityCollector) Collect(ch chan<- prometheus.Metric) {
	if c.g.mysql != nil {
		st := c.g.mysql.Stats()
		ch <- prometheus.MustNewConstMetric(c.conns, prometheus.GaugeValue, float64(st.Connections))
		for reason, n := range st.Refused {
			ch <- prometheus.MustNewConstMetric(c.refused, prometheus.CounterValue, float64(n), reason)
		}
		ch <- prometheus.MustNewConstMetric(c.authFail, prometheus.CounterValue, float64(st.AuthFailures))
	}
	for kind, n := range c.g.Executor.Denials() {
		ch <- prometheus.MustNewConstMetric(c.denied, prometheus.CounterValue, float64(n), kind)
	}
}

var _ prometheus.Collector = (*securityCollector)(nil)

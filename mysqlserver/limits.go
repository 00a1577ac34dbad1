package mysqlserver

// Limits one client cannot break: the number of client connections (MySQL's max_connections,
// error 1040, sent instead of the greeting), of each user's connections (max_user_connections,
// 1203, after authentication), and failed logins per client address (1129 once an address has
// failed too often, as MySQL's max_connect_errors blocks a host; here the count decays, so an
// address may try again after a while without an operator's FLUSH HOSTS).
// https://mariadb.com/kb/en/server-system-variables/#max_connections
// https://mariadb.com/kb/en/server-system-variables/#max_user_connections
// https://mariadb.com/kb/en/server-system-variables/#max_connect_errors

import (
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-mysql-org/go-mysql/mysql"
)

// AuthFailureLimit bounds failed logins per client address: past Burst failures the address
// is refused (1129) until its count, which drops by Burst every Window, is below Burst again.
// The zero value does not limit.
type AuthFailureLimit struct {
	Burst  int
	Window time.Duration
}

// Stats are a listener's counters, for metrics.
type Stats struct {
	Connections  int64             // client connections open now (in the handshake included)
	Refused      map[string]uint64 // connections refused, by reason: max_connections, max_user_connections, blocked_host
	AuthFailures uint64            // failed logins (handshake and COM_CHANGE_USER)
}

// Stats returns the listener's counters.
func (l *Listener) Stats() Stats {
	return Stats{
		Connections:  l.open.Load(),
		AuthFailures: l.authFailures.Load(),
		Refused: map[string]uint64{
			"max_connections":      l.refused[refusedMaxConns].Load(),
			"max_user_connections": l.refused[refusedUserConns].Load(),
			"blocked_host":         l.refused[refusedBlocked].Load(),
		},
	}
}

const (
	refusedMaxConns = iota
	refusedUserConns
	refusedBlocked
	numRefused
)

// admit counts a new client connection; false (with the error to send) past MaxConnections.
func (l *Listener) admit() bool {
	n := l.open.Add(1)
	if max := l.cfg.MaxConnections; max > 0 && n > int64(max) {
		l.open.Add(-1)
		l.refused[refusedMaxConns].Add(1)
		return false
	}
	return true
}

// release uncounts a client connection.
func (l *Listener) release() { l.open.Add(-1) }

// errTooManyConnections is MySQL's ER_CON_COUNT_ERROR.
func errTooManyConnections() *mysql.MyError {
	return &mysql.MyError{Code: mysql.ER_CON_COUNT_ERROR, State: "08004", Message: "Too many connections"}
}

// userConns counts each user's connections. Its mutex guards counts.
type userConns struct {
	mu     sync.Mutex
	counts map[string]int
}

// userLimit is the bound on a user's connections (0: none).
func (l *Listener) userLimit(user string) int {
	if l.cfg.UserMaxConnections != nil {
		if n := l.cfg.UserMaxConnections(user); n > 0 {
			return n
		}
	}
	return l.cfg.MaxUserConnections
}

// addUser counts a connection of user; false (nothing counted) when the user has its limit.
func (l *Listener) addUser(user string) bool {
	limit := l.userLimit(user)
	u := &l.users
	u.mu.Lock()
	defer u.mu.Unlock()
	if limit > 0 && u.counts[user] >= limit {
		l.refused[refusedUserConns].Add(1)
		return false
	}
	if u.counts == nil {
		u.counts = map[string]int{}
	}
	u.counts[user]++
	return true
}

// removeUser uncounts a connection of user.
func (l *Listener) removeUser(user string) {
	u := &l.users
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.counts[user] <= 1 {
		delete(u.counts, user)
		return
	}
	u.counts[user]--
}

// errTooManyUserConnections is MySQL's ER_TOO_MANY_USER_CONNECTIONS.
func errTooManyUserConnections(user string) *mysql.MyError {
	return &mysql.MyError{Code: mysql.ER_TOO_MANY_USER_CONNECTIONS, State: "42000", Message: fmt.Sprintf(
		"User %s already has more than 'max_user_connections' active connections", user)}
}

// authLimiter counts failed logins per client address (an IPv6 address by its /64), as a
// leaky bucket: each failure adds one, the level drains at Burst per Window, and an address at
// Burst or more is blocked. Its mutex guards buckets.
type authLimiter struct {
	limit   AuthFailureLimit
	now     func() time.Time
	mu      sync.Mutex
	buckets map[string]*bucket
	swept   int // len(buckets) at the last sweep
}

type bucket struct {
	level float64
	at    time.Time
}

// maxBuckets bounds the addresses remembered: beyond it (after a sweep of drained ones) new
// addresses are not counted, so no number of sources makes the gateway's memory grow.
const maxBuckets = 1 << 16

func (a *authLimiter) enabled() bool { return a.limit.Burst > 0 && a.limit.Window > 0 }

// drain brings b's level to now.
func (a *authLimiter) drain(b *bucket, now time.Time) {
	rate := float64(a.limit.Burst) / a.limit.Window.Seconds()
	b.level -= now.Sub(b.at).Seconds() * rate
	if b.level < 0 {
		b.level = 0
	}
	b.at = now
}

// blocked reports whether a client from addr may not try to log in now, and for how long.
// Its address's key (addrKey) is only worked out when some address has failed.
func (a *authLimiter) blocked(addr net.Addr) (time.Duration, bool) {
	if !a.enabled() {
		return 0, false
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.buckets) == 0 {
		return 0, false
	}
	b := a.buckets[addrKey(addr)]
	if b == nil {
		return 0, false
	}
	a.drain(b, a.now())
	over := b.level - float64(a.limit.Burst) + 1
	if over <= 0 {
		return 0, false
	}
	return time.Duration(over / float64(a.limit.Burst) * float64(a.limit.Window)), true
}

// failed counts a failed login from key.
func (a *authLimiter) failed(key string) {
	if !a.enabled() {
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	now := a.now()
	b := a.buckets[key]
	if b == nil {
		if a.buckets == nil {
			a.buckets = map[string]*bucket{}
		}
		if len(a.buckets) >= 2*a.swept+1024 || len(a.buckets) >= maxBuckets {
			a.sweep(now)
		}
		if len(a.buckets) >= maxBuckets {
			return
		}
		b = &bucket{at: now}
		a.buckets[key] = b
	}
	a.drain(b, now)
	b.level++
}

// sweep forgets the addresses whose count has drained.
func (a *authLimiter) sweep(now time.Time) {
	for k, b := range a.buckets {
		if a.drain(b, now); b.level == 0 {
			delete(a.buckets, k)
		}
	}
	a.swept = len(a.buckets)
}

// addrKey is the address a client's failures count against: its IP, an IPv6 one by its /64
// (one host owns a whole /64).
func addrKey(addr net.Addr) string {
	host := addr.String()
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	ip := net.ParseIP(host)
	if ip == nil {
		return host
	}
	if ip.To4() == nil {
		return ip.Mask(net.CIDRMask(64, 128)).String() + "/64"
	}
	return ip.String()
}

// errHostBlocked is MySQL's ER_HOST_IS_BLOCKED, with when the address may try again.
func errHostBlocked(host string, wait time.Duration) *mysql.MyError {
	return &mysql.MyError{Code: mysql.ER_HOST_IS_BLOCKED, State: "HY000", Message: fmt.Sprintf(
		"Host '%s' is blocked because of many connection errors (vtdirect: too many failed logins from it; try again in %s)",
		host, wait.Round(time.Second)+time.Second)}
}

// counters of a listener (in Listener).
type listenerCounters struct {
	open         atomic.Int64
	refused      [numRefused]atomic.Uint64
	authFailures atomic.Uint64
}

package router

import (
	"errors"
	"fmt"
	"strings"

	"github.com/go-mysql-org/go-mysql/mysql"

	"github.com/vtdirect/vtdirect/classify"
	"github.com/vtdirect/vtdirect/mysqlserver"
)

// KILL (https://mariadb.com/kb/en/kill/) is answered by the gateway with its own connection
// ids and users: a backend thread is never named by a client. A user kills its own sessions
// and their queries; an admin (acl.User.Admin) any session; KILL USER names a gateway user.
// KILL QUERY ID takes MariaDB's query ids, which only an admin may send on, to the target's
// server. KILL of an expression is refused: the gateway cannot map it to its sessions.

// kill answers a lone KILL statement; forward sends the statement on, for KILL QUERY ID from an admin.
func (e *Executor) kill(c *mysqlserver.Conn, s *Session, k *classify.Kill, forward func() error) error {
	admin := e.rules(s).Admin()
	switch {
	case k.Target == classify.KillQueryID:
		if !admin {
			return c.WriteError(&mysql.MyError{Code: mysql.ER_SPECIFIC_ACCESS_DENIED_ERROR, State: "42000", Message: "Access denied; " +
				"you need (at least one of) the CONNECTION ADMIN privilege(s) for this operation (vtdirect: KILL QUERY ID takes MariaDB's " +
				"query ids, which reach other sessions; KILL QUERY <connection id> kills a query of your own sessions)"})
		}
		return forward()
	case k.Target == classify.KillUser:
		return e.killUser(c, s, k, admin)
	case !k.Plain:
		return c.WriteError(&mysql.MyError{Code: mysql.ER_NOT_SUPPORTED_YET, State: "42000", Message: "vtdirect: " +
			"KILL takes a number, the gateway's connection id (from the handshake, or SELECT CONNECTION_ID()); not an expression"})
	case k.ID > 1<<32-1:
		return c.WriteError(mysql.NewError(mysql.ER_NO_SUCH_THREAD, fmt.Sprintf("Unknown thread id: %d", k.ID)))
	}
	id := uint32(k.ID)
	v, ok := e.sessions.Load(id)
	if !ok {
		return c.WriteError(mysql.NewError(mysql.ER_NO_SUCH_THREAD, fmt.Sprintf("Unknown thread id: %d", id)))
	}
	victim := v.(*Session)
	if victim.clientUserName() != c.User() && !admin {
		e.denials[deniedKill].Add(1)
		return c.WriteError(mysql.NewError(mysql.ER_KILL_DENIED_ERROR, fmt.Sprintf("You are not owner of thread %d", id)))
	}
	if err := e.killSession(s, victim, k.Query); err != nil {
		return c.WriteError(err)
	}
	if victim == s && !k.Query {
		return errors.New("connection killed by its own KILL")
	}
	return e.ok(c, s)
}

// killSession kills the running query of a session and, unless queryOnly, its connection.
func (e *Executor) killSession(s, victim *Session, queryOnly bool) error {
	if conn, lease := victim.activeConn(); conn != nil {
		if err := conn.KillQueryOnLease(s.ctx, lease); err != nil {
			return errUnavailable("could not kill the query of connection %d: %v", victim.conn.ID(), err)
		}
	}
	e.shardedKill(s.ctx, victim) // a statement on several shards (sharded_session.go)
	if !queryOnly && victim != s {
		victim.conn.Close()
	}
	return nil
}

// killUser answers KILL [CONNECTION | QUERY] USER u: the sessions of gateway user u (the host
// part is ignored: gateway users have none). A user that is not an admin may name only itself.
func (e *Executor) killUser(c *mysqlserver.Conn, s *Session, k *classify.Kill, admin bool) error {
	name := killUserName(k.User, c.User())
	victims := e.userSessions(func(v *Session) bool { return v.clientUserName() == name })
	if name != c.User() && !admin && len(victims) > 0 {
		e.denials[deniedKill].Add(1)
		return c.WriteError(mysql.NewError(mysql.ER_KILL_DENIED_ERROR, fmt.Sprintf("You are not owner of thread %d", victims[0].conn.ID())))
	}
	self := false
	for _, v := range victims {
		if v == s {
			self = true
			continue
		}
		if err := e.killSession(s, v, k.Query); err != nil {
			return c.WriteError(err)
		}
	}
	if self && !k.Query {
		return errors.New("connection killed by its own KILL USER")
	}
	return e.ok(c, s)
}

// killUserName reads the user of KILL USER as written ('app'@'%', app, `app`@localhost,
// CURRENT_USER, CURRENT_USER()): the name without quotes and host.
func killUserName(written, current string) string {
	u := strings.TrimSpace(written)
	if strings.EqualFold(strings.TrimSuffix(strings.ReplaceAll(u, " ", ""), "()"), "current_user") {
		return current
	}
	if u == "" {
		return u
	}
	if q := u[0]; q == '\'' || q == '"' || q == '`' {
		var b strings.Builder
		for i := 1; i < len(u); i++ {
			if u[i] == q {
				if i+1 < len(u) && u[i+1] == q {
					b.WriteByte(q)
					i++
					continue
				}
				break
			}
			b.WriteByte(u[i])
		}
		return b.String()
	}
	if i := strings.IndexByte(u, '@'); i >= 0 {
		u = u[:i]
	}
	return u
}

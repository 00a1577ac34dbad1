package router

import (
	"sort"
	"strconv"
	"time"

	"github.com/go-mysql-org/go-mysql/mysql"

	"github.com/vtdirect/vtdirect/mysqlserver"
)

// SHOW [FULL] PROCESSLIST is answered by the gateway, as MariaDB answers it for a user
// without the PROCESS privilege: the user's own sessions (an admin's: every session), with
// the gateway's connection ids (the ones KILL takes), never the backend's threads.
// https://mariadb.com/kb/en/show-processlist/

// maxInfo bounds the statement text a session keeps for SHOW FULL PROCESSLIST; shortInfo is
// what SHOW PROCESSLIST shows of it, as MariaDB does.
const (
	maxInfo   = 4096
	shortInfo = 100
)

// activity is what a session is doing, for SHOW PROCESSLIST. Guarded by Session.killMu.
type activity struct {
	command string // "Query", "Execute", "Prepare", "Field List"...; "" = Sleep
	since   time.Time
	db      string // the target, "" for none
	info    []byte // the statement's text (at most maxInfo bytes), reused
}

// startCommand records that the session runs a command (its text, if any).
func (s *Session) startCommand(command string, text []byte) {
	now := time.Now()
	s.killMu.Lock()
	s.act.command, s.act.since = command, now
	s.act.info = append(s.act.info[:0], text[:min(len(text), maxInfo)]...)
	s.killMu.Unlock()
}

// endCommand records that the session waits for its next command.
func (s *Session) endCommand() {
	now := time.Now()
	s.killMu.Lock()
	s.act.command, s.act.since = "", now
	s.act.info = s.act.info[:0]
	if cap(s.act.info) > maxInfo {
		s.act.info = nil
	}
	s.killMu.Unlock()
}

// processRow is one session's row.
func (s *Session) processRow(now time.Time, full bool) [][]byte {
	s.killMu.Lock()
	command, since, target := s.act.command, s.act.since, s.act.db
	var info []byte
	if command != "" {
		n := len(s.act.info)
		if !full {
			n = min(n, shortInfo)
		}
		info = append([]byte(nil), s.act.info[:n]...)
	}
	s.killMu.Unlock()
	if command == "" {
		command = "Sleep"
	}
	secs := int64(0)
	if !since.IsZero() {
		secs = int64(now.Sub(since) / time.Second)
	}
	var db []byte
	if target != "" {
		db = []byte(target)
	}
	host := []byte(s.conn.RemoteAddr().String())
	return [][]byte{strconv.AppendUint(nil, uint64(s.conn.ID()), 10), []byte(s.clientUserName()), host, db, []byte(command),
		strconv.AppendInt(nil, secs, 10), []byte(""), info, []byte("0.000")}
}

// showProcesslist answers SHOW [FULL] PROCESSLIST.
func (e *Executor) showProcesslist(c *mysqlserver.Conn, s *Session, full bool, text []byte) error {
	s.startCommand("Query", text)
	defer s.endCommand()
	all := e.rules(s).Admin()
	sessions := e.userSessions(func(v *Session) bool { return all || v.clientUserName() == c.User() })
	sort.Slice(sessions, func(i, j int) bool { return sessions[i].conn.ID() < sessions[j].conn.ID() })
	now := time.Now()
	r := &mysqlserver.Result{Status: s.state.Status(), Fields: processlistFields()}
	for _, v := range sessions {
		r.Rows = append(r.Rows, v.processRow(now, full))
	}
	return e.answer(c, s, r, int64(len(r.Rows)))
}

// processlistFields are MariaDB 10.11's columns of SHOW PROCESSLIST.
func processlistFields() []*mysqlserver.Field {
	str := func(name string, length uint32, notNull bool) *mysqlserver.Field {
		f := &mysqlserver.Field{Name: name, OrgName: name, Charset: 33, ColumnLength: length, Type: mysql.MYSQL_TYPE_VAR_STRING}
		if notNull {
			f.Flags = mysql.NOT_NULL_FLAG
		}
		return f
	}
	num := func(name string, length uint32, typ byte) *mysqlserver.Field {
		return &mysqlserver.Field{Name: name, OrgName: name, Charset: 63, ColumnLength: length, Type: typ,
			Flags: mysql.NOT_NULL_FLAG | mysql.BINARY_FLAG | mysql.NUM_FLAG}
	}
	progress := &mysqlserver.Field{Name: "Progress", OrgName: "Progress", Charset: 63, ColumnLength: 7,
		Type: mysql.MYSQL_TYPE_NEWDECIMAL, Flags: mysql.NOT_NULL_FLAG | mysql.BINARY_FLAG | mysql.NUM_FLAG, Decimals: 3}
	return []*mysqlserver.Field{num("Id", 21, mysql.MYSQL_TYPE_LONGLONG), str("User", 384, true), str("Host", 192, true),
		str("db", 192, false), str("Command", 48, true), num("Time", 7, mysql.MYSQL_TYPE_LONG), str("State", 90, false),
		str("Info", 300, false), progress}
}

package mysqlserver

import (
	"context"
	"fmt"
	"net"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/go-mysql-org/go-mysql/mysql"

	"github.com/vtdirect/vtdirect/backendconn"
	"github.com/vtdirect/vtdirect/local"
)

// A real MariaDB, to compare the replies the gateway makes itself with MariaDB's, byte for
// byte. Started on first use, stopped by TestMain; the tests that need none do not start it.
var shared struct {
	once sync.Once
	m    *local.MariaDB
	dir  string
	err  error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if shared.m != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		_ = shared.m.Stop(ctx)
		cancel()
	}
	if shared.dir != "" {
		os.RemoveAll(shared.dir)
	}
	os.Exit(code)
}

// compareDB is the database both MariaDB and the fake handler know.
const compareDB = "cmp_db"

// sharedMariaDB returns the shared server, with user u/p (as the gateway's test users) and
// database cmp_db. It fails the test (never skips) when MariaDB cannot start.
func sharedMariaDB(t testing.TB) *local.MariaDB {
	t.Helper()
	shared.once.Do(func() {
		if shared.dir, shared.err = os.MkdirTemp("", "mysqlserver-test-"); shared.err != nil {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		shared.m, shared.err = local.StartMariaDB(ctx, local.MariaDBConfig{Dir: shared.dir, ServerID: 1, User: "app", Password: "app"})
		if shared.err != nil {
			return
		}
		db, err := shared.m.RootDB(ctx)
		if err != nil {
			shared.err = err
			return
		}
		defer db.Close()
		for _, s := range []string{
			"CREATE DATABASE IF NOT EXISTS " + compareDB,
			"CREATE USER IF NOT EXISTS 'u'@'%' IDENTIFIED BY 'p'",
			"CREATE USER IF NOT EXISTS 'empty'@'%'",
			"GRANT ALL ON *.* TO 'u'@'%', 'empty'@'%'",
		} {
			if _, err := db.ExecContext(ctx, s); err != nil {
				shared.err = fmt.Errorf("%s: %w", s, err)
				return
			}
		}
	})
	if shared.err != nil {
		t.Fatalf("start MariaDB for mysqlserver tests: %v", shared.err)
	}
	return shared.m
}

// dialBoth connects as u/p, with the same client capabilities, to MariaDB and to l.
func dialBoth(t *testing.T, l *Listener, caps uint32) (mariadb, gateway net.Conn) {
	t.Helper()
	m := sharedMariaDB(t)
	dial := func(addr string) net.Conn {
		nc, _, err := backendconn.Dial(context.Background(), backendconn.Config{
			Addr: addr, User: "u", Password: "p", Capabilities: caps, ConnectTimeout: 10 * time.Second,
		})
		if err != nil {
			t.Fatal(err)
		}
		_ = nc.SetDeadline(time.Now().Add(20 * time.Second))
		t.Cleanup(func() { nc.Close() })
		return nc
	}
	return dial(m.Addr()), dial(l.Addr().String())
}

// compareCaps are a modern client's capabilities (as the mariadb CLI's), without the
// reply-format ones each test adds.
const compareCaps = mysql.CLIENT_LONG_FLAG | mysql.CLIENT_TRANSACTIONS | mysql.CLIENT_MULTI_RESULTS |
	mysql.CLIENT_PS_MULTI_RESULTS | mysql.CLIENT_MULTI_STATEMENTS

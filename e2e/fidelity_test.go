package e2e

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-mysql-org/go-mysql/client"
	gomysql "github.com/go-mysql-org/go-mysql/mysql"

	"github.com/vtdirect/vtdirect/gateway"
)

// Sessions through a gateway whose backend pool is far smaller than the number of sessions
// (2 connections for statements, 4 for sessions that must keep one) share backend connections
// all the time. Each session runs, in a random order, statements whose answers depend on its
// own state: LAST_INSERT_ID() after its insert, FOUND_ROWS() after its SELECT (with and without
// SQL_CALC_FOUND_ROWS), ROW_COUNT() after its UPDATE, SHOW WARNINGS and @@warning_count after its
// statement with a warning, its own session variables (including relative and combined SETs),
// user variables, temporary tables, transactions and autocommit off. Every answer must be the
// session's own, as on a dedicated MariaDB connection.
func TestSessionFidelityUnderConcurrency(t *testing.T) {
	g := newGateway(t, func(c *gateway.Config) {
		c.TabletServer.PoolSize = 2
		c.TabletServer.TxPoolSize = 4
		c.TabletServer.PoolWaitTimeout = time.Minute
	})
	db := openDB(t, dsn(g, "commerce"))
	ctx := t.Context()
	if _, err := db.ExecContext(ctx, "CREATE TABLE IF NOT EXISTS fid (id BIGINT AUTO_INCREMENT PRIMARY KEY, session INT, v INT)"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, "DELETE FROM fid"); err != nil {
		t.Fatal(err)
	}
	const sessions, rounds = 16, 12
	var wg sync.WaitGroup
	errs := make(chan error, sessions)
	for i := 1; i <= sessions; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := fidelitySession(ctx, g, db, i, rounds); err != nil {
				errs <- fmt.Errorf("session %d: %w", i, err)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	// Every committed row is there, no rolled-back one: 2 per round per session.
	direct := directDB(t, "zone1-100")
	if n := queryInt(t, direct, "SELECT COUNT(*) FROM fid"); n != sessions*rounds*2 {
		t.Errorf("rows in fid: %d, want %d", n, sessions*rounds*2)
	}
	if n := queryInt(t, direct, "SELECT COUNT(*) FROM fid WHERE v < 0"); n != 0 {
		t.Errorf("%d rolled-back rows are in the table", n)
	}
}

// fidelitySession is one session's script: rounds of its checks in a random order.
func fidelitySession(ctx context.Context, g *gateway.Gateway, db *sql.DB, i, rounds int) error {
	c, err := db.Conn(ctx)
	if err != nil {
		return err
	}
	defer c.Close()
	rnd := rand.New(rand.NewPCG(uint64(i), 7))
	checks := fidelityChecks(g, i)
	for r := 0; r < rounds; r++ {
		for _, k := range rnd.Perm(len(checks)) {
			if err := checks[k].run(ctx, c, r); err != nil {
				return fmt.Errorf("round %d, %s: %w", r, checks[k].name, err)
			}
		}
	}
	return nil
}

type fidelityCheck struct {
	name string
	run  func(ctx context.Context, c *sql.Conn, round int) error
}

// fidelityChecks are the checks of session i.
func fidelityChecks(g *gateway.Gateway, i int) []fidelityCheck {
	// statefulCheck runs f on a session of its own, through go-mysql's client, which can send
	// COM_RESET_CONNECTION.
	statefulCheck := func(f func(*client.Conn) error) error {
		raw, err := client.Connect(g.MySQLAddr(), "app", "app", "commerce")
		if err != nil {
			return err
		}
		defer raw.Close()
		return f(raw)
	}
	one := func(ctx context.Context, c *sql.Conn, q string, args ...any) (string, error) {
		var v sql.NullString
		err := c.QueryRowContext(ctx, q, args...).Scan(&v)
		return v.String, err
	}
	want := func(got, want string, what string) error {
		if got != want {
			return fmt.Errorf("%s = %q, want %q", what, got, want)
		}
		return nil
	}
	exec := func(ctx context.Context, c *sql.Conn, qs ...string) error {
		for _, q := range qs {
			if _, err := c.ExecContext(ctx, q); err != nil {
				return fmt.Errorf("%s: %w", q, err)
			}
		}
		return nil
	}
	return []fidelityCheck{
		{"last insert id", func(ctx context.Context, c *sql.Conn, _ int) error {
			res, err := c.ExecContext(ctx, "INSERT INTO fid (session, v) VALUES (?, 1)", i)
			if err != nil {
				return err
			}
			id, _ := res.LastInsertId()
			got, err := one(ctx, c, "SELECT LAST_INSERT_ID()")
			if err != nil {
				return err
			}
			if err := want(got, fmt.Sprint(id), "LAST_INSERT_ID()"); err != nil {
				return err
			}
			// ROW_COUNT() of the UPDATE of this session's own row.
			if err := exec(ctx, c, fmt.Sprintf("UPDATE fid SET v = v + 1 WHERE id = %d", id)); err != nil {
				return err
			}
			got, err = one(ctx, c, "SELECT ROW_COUNT()")
			if err != nil {
				return err
			}
			return want(got, "1", "ROW_COUNT()")
		}},
		{"found rows", func(ctx context.Context, c *sql.Conn, round int) error {
			n := 10*i + round
			var x int
			if err := c.QueryRowContext(ctx, fmt.Sprintf("SELECT SQL_CALC_FOUND_ROWS seq FROM seq_1_to_%d LIMIT 1", n)).Scan(&x); err != nil {
				return err
			}
			got, err := one(ctx, c, "SELECT FOUND_ROWS()")
			if err != nil {
				return err
			}
			if err := want(got, fmt.Sprint(n), "FOUND_ROWS() after SQL_CALC_FOUND_ROWS"); err != nil {
				return err
			}
			rows, err := c.QueryContext(ctx, fmt.Sprintf("SELECT seq FROM seq_1_to_%d", i+round))
			if err != nil {
				return err
			}
			for rows.Next() {
			}
			rows.Close()
			got, err = one(ctx, c, "SELECT FOUND_ROWS()")
			if err != nil {
				return err
			}
			return want(got, fmt.Sprint(i+round), "FOUND_ROWS() after a SELECT")
		}},
		{"warnings", func(ctx context.Context, c *sql.Conn, _ int) error {
			tag := fmt.Sprintf("abc%d", i)
			if _, err := one(ctx, c, fmt.Sprintf("SELECT CAST('%s' AS SIGNED)", tag)); err != nil {
				return err
			}
			rows, err := c.QueryContext(ctx, "SHOW WARNINGS")
			if err != nil {
				return err
			}
			var msgs []string
			for rows.Next() {
				var level, code, msg string
				if err := rows.Scan(&level, &code, &msg); err != nil {
					rows.Close()
					return err
				}
				msgs = append(msgs, msg)
			}
			rows.Close()
			if len(msgs) != 1 || !strings.Contains(msgs[0], "'"+tag+"'") {
				return fmt.Errorf("SHOW WARNINGS = %q, want this session's warning about '%s'", msgs, tag)
			}
			got, err := one(ctx, c, "SELECT @@warning_count")
			if err != nil {
				return err
			}
			if err := want(got, "1", "@@warning_count"); err != nil {
				return err
			}
			// A statement without tables (SELECT 1) leaves them; one that opens a table
			// clears them.
			if _, err := one(ctx, c, "SELECT 1"); err != nil {
				return err
			}
			got, err = one(ctx, c, "SELECT @@warning_count")
			if err != nil {
				return err
			}
			if err := want(got, "1", "@@warning_count after SELECT 1"); err != nil {
				return err
			}
			if _, err := one(ctx, c, "SELECT COUNT(*) FROM fid WHERE id = 0"); err != nil {
				return err
			}
			got, err = one(ctx, c, "SELECT @@warning_count")
			if err != nil {
				return err
			}
			return want(got, "0", "@@warning_count after a statement on a table")
		}},
		{"settings", func(ctx context.Context, c *sql.Conn, round int) error {
			tz := fmt.Sprintf("+%02d:%02d", i%12, round%60)
			if err := exec(ctx, c, "SET SESSION sql_mode = 'ANSI_QUOTES'",
				"SET SESSION sql_mode = CONCAT(@@sql_mode, ',NO_ZERO_DATE')",
				fmt.Sprintf("SET time_zone = '%s', SESSION lc_time_names = 'de_DE'", tz),
				"SET SESSION TRANSACTION ISOLATION LEVEL SERIALIZABLE",
				"SET SESSION TRANSACTION READ ONLY"); err != nil {
				return err
			}
			got, err := one(ctx, c, "SELECT CONCAT_WS('/', @@sql_mode, @@time_zone, @@lc_time_names, @@tx_isolation, @@tx_read_only)")
			if err != nil {
				return err
			}
			if err := want(got, "ANSI_QUOTES,NO_ZERO_DATE/"+tz+"/de_DE/SERIALIZABLE/ON", "settings"); err != nil {
				return err
			}
			// The next transaction runs with them.
			if err := exec(ctx, c, "BEGIN"); err != nil {
				return err
			}
			got, err = one(ctx, c, "SELECT CONCAT_WS('/', @@tx_isolation, @@in_transaction)")
			if err != nil {
				return err
			}
			if err := exec(ctx, c, "COMMIT", "SET SESSION TRANSACTION READ WRITE, ISOLATION LEVEL REPEATABLE READ", "SET sql_mode = DEFAULT, lc_time_names = DEFAULT"); err != nil {
				return err
			}
			return want(got, "SERIALIZABLE/1", "isolation inside the transaction")
		}},
		{"user variables", func(ctx context.Context, c *sql.Conn, round int) error {
			return statefulCheck(func(raw *client.Conn) error {
				v := i*100 + round
				if _, err := raw.Execute(fmt.Sprintf("SELECT %d INTO @v", v)); err != nil {
					return err
				}
				if _, err := raw.Execute(fmt.Sprintf("SET @w := %d", -v)); err != nil {
					return err
				}
				if err := rawWant(raw, "SELECT CONCAT(@v, '/', @w)", fmt.Sprintf("%d/%d", v, -v)); err != nil {
					return err
				}
				// The session keeps its connection until it resets; after the reset they are gone.
				if err := resetConnection(raw); err != nil {
					return err
				}
				return rawWant(raw, "SELECT IFNULL(@v, 'null')", "null")
			})
		}},
		{"temporary table", func(ctx context.Context, c *sql.Conn, round int) error {
			return statefulCheck(func(raw *client.Conn) error {
				for _, q := range []string{"CREATE TEMPORARY TABLE fid_tmp (x INT)", fmt.Sprintf("INSERT INTO fid_tmp VALUES (%d)", i)} {
					if _, err := raw.Execute(q); err != nil {
						return fmt.Errorf("%s: %w", q, err)
					}
				}
				if err := rawWant(raw, "SELECT GROUP_CONCAT(x) FROM fid_tmp", fmt.Sprint(i)); err != nil {
					return err
				}
				if err := resetConnection(raw); err != nil {
					return err
				}
				_, err := raw.Execute("SELECT * FROM fid_tmp")
				if err == nil || !strings.Contains(err.Error(), "1146") {
					return fmt.Errorf("the temporary table after COM_RESET_CONNECTION: %v, want error 1146", err)
				}
				return nil
			})
		}},
		{"transactions", func(ctx context.Context, c *sql.Conn, round int) error {
			if err := exec(ctx, c, "BEGIN", fmt.Sprintf("INSERT INTO fid (session, v) VALUES (%d, -1)", i)); err != nil {
				return err
			}
			got, err := one(ctx, c, "SELECT COUNT(*) FROM fid WHERE session = ? AND v = -1", i)
			if err != nil {
				return err
			}
			if err := want(got, "1", "own uncommitted row"); err != nil {
				return err
			}
			if err := exec(ctx, c, "ROLLBACK"); err != nil {
				return err
			}
			// Autocommit off: an implicit transaction, committed.
			if err := exec(ctx, c, "SET autocommit = 0", fmt.Sprintf("INSERT INTO fid (session, v) VALUES (%d, 2)", i)); err != nil {
				return err
			}
			got, err = one(ctx, c, "SELECT CONCAT(@@autocommit, '/', @@in_transaction)")
			if err != nil {
				return err
			}
			// MariaDB shows a boolean variable as ON/OFF in a string context.
			if err := want(got, "OFF/1", "autocommit off, in a transaction"); err != nil {
				return err
			}
			return exec(ctx, c, "COMMIT", "SET autocommit = 1")
		}},
	}
}

// resetConnection sends COM_RESET_CONNECTION on a go-mysql connection.
func resetConnection(c *client.Conn) error {
	c.ResetSequence()
	if err := c.WritePacket([]byte{0, 0, 0, 0, gomysql.COM_RESET_CONNECTION}); err != nil {
		return err
	}
	p, err := c.ReadPacket()
	if err != nil {
		return err
	}
	if len(p) == 0 || p[0] != gomysql.OK_HEADER {
		return fmt.Errorf("COM_RESET_CONNECTION answered % x", p)
	}
	return nil
}

// rawWant checks the one value a query returns on a go-mysql connection.
func rawWant(c *client.Conn, q, want string) error {
	r, err := c.Execute(q)
	if err != nil {
		return fmt.Errorf("%s: %w", q, err)
	}
	defer r.Close()
	got, err := r.GetString(0, 0)
	if err != nil {
		return fmt.Errorf("%s: %w", q, err)
	}
	if got != want {
		return fmt.Errorf("%s = %q, want %q", q, got, want)
	}
	return nil
}

// A session's wait_timeout: as MariaDB, the gateway closes a session idle longer; and the
// backend connection the session used, which MariaDB closes as well once idle that long, is
// never handed to another session (go-sql-driver's TestStaleConnectionChecks found both).
func TestWaitTimeout(t *testing.T) {
	g := newGateway(t, func(c *gateway.Config) { c.TabletServer.PoolSize = 1 })
	raw, err := client.Connect(g.MySQLAddr(), "app", "app", "commerce")
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	if _, err := raw.Execute("SET @@SESSION.wait_timeout = 2"); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if _, err := raw.ReadPacket(); err == nil {
		t.Fatal("the gateway sent something to an idle session")
	}
	if d := time.Since(start); d < 2*time.Second || d > 4*time.Second {
		t.Errorf("the idle session was closed after %v, want its wait_timeout of 2s", d)
	}
	// The backend connection it left in the pool (the only one) is dead by now: another
	// session must get a working one.
	time.Sleep(time.Second)
	db := openDB(t, dsn(g, "commerce"))
	for i := 0; i < 3; i++ {
		if got := queryInt(t, db, "SELECT 1"); got != 1 {
			t.Fatalf("SELECT 1 = %d", got)
		}
	}
}

package tabletserver

import (
	"context"
	"errors"
	"io"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-mysql-org/go-mysql/mysql"
)

// pipeConn is testConn with a backend whose replies the test writes when it wants.
func pipeConn(t *testing.T) (*Conn, *io.PipeWriter) {
	t.Helper()
	c, _ := testConn(t, Config{}, nil, 1)
	pr, pw := io.Pipe()
	t.Cleanup(func() { pw.Close() })
	c.rw = struct {
		io.Reader
		io.Writer
	}{pr, io.Discard}
	return c, pw
}

// KillQuery stops the running command, which then fails with a StatementOnly 1317, and the
// command does not end while the KILL is in flight: the KILL cannot reach a later command.
func TestConnKillQuery(t *testing.T) {
	c, backend := pipeConn(t)
	execDone := make(chan struct{}) // closed when Exec returns
	var kills atomic.Int32
	var hookErr error // written by the hook, read after execDone
	c.be.killQuery = func(ctx context.Context, thread uint32) error {
		kills.Add(1)
		if thread != 7 {
			hookErr = errors.New("killed the wrong thread")
		}
		// The server answers the killed query; Write returns once the forwarder read it all.
		if _, err := backend.Write(pkt(1, errPayload(1317, "70100", "Query execution was interrupted")...)); err != nil {
			hookErr = err
		}
		select {
		case <-execDone:
			hookErr = errors.New("Exec returned while its KILL QUERY was in flight")
		default:
		}
		return nil
	}
	if err := c.KillQuery(context.Background()); err != nil || kills.Load() != 0 {
		t.Fatalf("KillQuery on an idle connection: %v, %d kills", err, kills.Load())
	}

	var res Result
	var err error
	go func() {
		defer close(execDone)
		res, err = c.Exec(context.Background(), &Request{Frame: queryFrame("SELECT SLEEP(30)")}, io.Discard)
	}()
	waitFor(t, "the command to run", 10*time.Second, func() bool {
		c.killMu.Lock()
		defer c.killMu.Unlock()
		return c.running
	})
	if kerr := c.KillQuery(context.Background()); kerr != nil {
		t.Fatal(kerr)
	}
	<-execDone
	if hookErr != nil {
		t.Fatal(hookErr)
	}
	var me *mysql.MyError
	if !StatementOnly(err) || !errors.As(err, &me) || me.Code != mysql.ER_QUERY_INTERRUPTED || res.Forwarded {
		t.Fatalf("Exec after KillQuery: %+v, %v; want a StatementOnly 1317, nothing forwarded", res, err)
	}
	if kills.Load() != 1 || c.broken {
		t.Errorf("%d kills, broken %v", kills.Load(), c.broken)
	}
	// The connection serves the next command, which no stale kill reaches.
	go func() { _, _ = backend.Write(pkt(1, okPayload(stAuto)...)) }()
	if res, err := c.Exec(context.Background(), &Request{Frame: queryFrame("SELECT 1")}, io.Discard); err != nil || res.Err != nil {
		t.Fatalf("next command: %+v, %v", res, err)
	}
	if kills.Load() != 1 {
		t.Errorf("%d kills", kills.Load())
	}
}

// KillQueryOnLease kills only a command of the hand-out it names.
func TestConnKillQueryOnLease(t *testing.T) {
	c, _ := testConn(t, Config{}, nil, 1)
	var kills atomic.Int32
	c.be.killQuery = func(context.Context, uint32) error { kills.Add(1); return nil }
	c.lease.Store(5)
	c.running = true // as between begin and end
	for _, lease := range []uint64{0, 4, 6} {
		if err := c.KillQueryOnLease(context.Background(), lease); err != nil || kills.Load() != 0 || c.reason.Load() != reasonNone {
			t.Fatalf("lease %d: %v, %d kills", lease, err, kills.Load())
		}
	}
	if err := c.KillQueryOnLease(context.Background(), c.Lease()); err != nil || kills.Load() != 1 || c.reason.Load() != reasonKilled {
		t.Fatalf("current lease: %v, %d kills, reason %d", err, kills.Load(), c.reason.Load())
	}
	// A second kill of the same command sends nothing.
	if err := c.KillQuery(context.Background()); err != nil || kills.Load() != 1 {
		t.Fatalf("second kill: %v, %d kills", err, kills.Load())
	}
}

// The transaction killer acts on a snapshot: a connection returned and handed out again
// since (LIFO: to the next client at once) must not be killed under its new holder.
func TestTxKillerSparesConnHandedOutAgain(t *testing.T) {
	c := pooledTestConn(t, nil)
	p := c.be.pool
	start := time.Now()
	p.mu.Lock()
	c.txStart = start
	p.mu.Unlock()
	const timeout = time.Second
	c.ts.Configure(Config{TxTimeout: timeout})
	now := start.Add(2 * timeout)
	exp := p.expired(now)
	if len(exp) != 1 || exp[0].c != c {
		t.Fatalf("expired = %+v", exp)
	}
	// Returned, and handed out again to a new holder.
	c.Release(0)
	if !c.ts.run.tryAcquire() || !p.conns.tryAcquire() {
		t.Fatal("no free slot")
	}
	c2, err := p.take(context.Background(), c.ts, Want{}, slotRun)
	if err != nil || c2 != c {
		t.Fatalf("take = %p, %v; want the recycled connection", c2, err)
	}
	p.mu.Lock()
	c.txStart = now
	p.mu.Unlock()
	why := errTxKilled(c.ts.alias, timeout)
	if p.killExpired(exp[0], now) || c.Killed() != nil {
		t.Fatal("killed the new holder's connection")
	}
	// Even once the new hand-out is over the timeout, the old snapshot does not kill it.
	if p.killExpired(exp[0], now.Add(2*timeout)) || c.Killed() != nil {
		t.Fatal("a stale snapshot killed the connection")
	}
	// A fresh snapshot does.
	later := now.Add(2 * timeout)
	exp = p.expired(later)
	if len(exp) != 1 || !p.killExpired(exp[0], later) || c.Killed() == nil || c.Killed().Error() != why.Error() {
		t.Fatalf("fresh snapshot: %+v, Killed() = %v", exp, c.Killed())
	}
	if _, used := c.ts.run.counts(); used != 0 {
		t.Errorf("after the kill: %d slots taken", used)
	}
	if inUse, idle := p.sizes(); inUse != 0 || idle != 0 {
		t.Errorf("after the kill: %d in use, %d idle", inUse, idle)
	}
	// Returned by its holder after the snapshot: nothing to kill.
	c3 := pooledTestConn(t, nil)
	p3 := c3.be.pool
	c3.ts.Configure(Config{TxTimeout: timeout})
	c3.SetTransaction(true)
	exp = p3.expired(time.Now().Add(time.Hour))
	c3.Release(0)
	if len(exp) != 1 || p3.killExpired(exp[0], time.Now().Add(time.Hour)) {
		t.Fatalf("killed a returned connection: %+v", exp)
	}
}

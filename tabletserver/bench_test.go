package tabletserver

import (
	"context"
	"io"
	"testing"
	"time"

	topodatapb "vitess.io/vitess/go/vt/proto/topodata"
)

// BenchmarkExecPointSelect runs a point select on a held connection: the per-query path.
func BenchmarkExecPointSelect(b *testing.B) {
	m := sharedMariaDB(b)
	ts := startServer(b, m, Config{}, topodatapb.TabletType_PRIMARY, nil)
	ctx := context.Background()
	c, err := ts.Get(ctx, Want{})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Release(0)
	frame := queryFrame("SELECT id, v FROM t WHERE id = 42")
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if res, err := c.Exec(ctx, &Request{Frame: frame}, io.Discard); err != nil || res.Rows != 1 {
			b.Fatal(res, err)
		}
	}
}

// BenchmarkGetExecRecycle adds the pool round trip of an autocommit query, with a query
// timeout armed (the timer is reused, not allocated).
func BenchmarkGetExecRecycle(b *testing.B) {
	m := sharedMariaDB(b)
	ts := startServer(b, m, Config{QueryTimeout: 10e9}, topodatapb.TabletType_PRIMARY, nil)
	ctx := context.Background()
	frame := queryFrame("SELECT id, v FROM t WHERE id = 42")
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		c, err := ts.Get(ctx, Want{})
		if err != nil {
			b.Fatal(err)
		}
		if res, err := c.Exec(ctx, &Request{Frame: frame}, io.Discard); err != nil || res.Rows != 1 {
			b.Fatal(res, err)
		}
		c.Release(0)
	}
}

// BenchmarkExecStmt executes a prepared point select.
func BenchmarkExecStmt(b *testing.B) {
	m := sharedMariaDB(b)
	ts := startServer(b, m, Config{}, topodatapb.TabletType_PRIMARY, nil)
	ctx := context.Background()
	c, err := ts.Get(ctx, Want{})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Release(0)
	const q = "SELECT id, v FROM t WHERE id = ?"
	payload := execPayload(42)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if res, err := c.ExecStmt(ctx, q, payload, nil, &Request{}, io.Discard); err != nil || res.Rows != 1 {
			b.Fatal(res, err)
		}
	}
}

// BenchmarkTakeAllTagged is the pool's choice for a session when every idle connection is
// another session's last one (tagged) and the backend is below its limit: a new connection
// is dialed, so the choice is pure overhead under the pool's lock. 64 idle connections (the
// scan's bound), with the same capabilities and other settings than the session's.
func BenchmarkTakeAllTagged(b *testing.B) {
	m := sharedMariaDB(b)
	ts := startServer(b, m, Config{MaxConnections: 2 * idleScan, PoolSize: idleScan}, topodatapb.TabletType_PRIMARY, nil)
	ctx := context.Background()
	conns := make([]*Conn, idleScan)
	for i := range conns {
		c, err := ts.Get(ctx, Want{})
		if err != nil {
			b.Fatal(err)
		}
		conns[i] = c
	}
	for i, c := range conns {
		c.Release(uint64(i + 1))
	}
	p := ts.be.pool
	want := Want{Settings: &Settings{Key: "sql_mode=ANSI", Statements: []string{"SET sql_mode='ANSI'"}}}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		p.mu.Lock()
		c, closing := p.pick(ts, want, time.Now())
		p.mu.Unlock()
		if c != nil || len(closing) > 0 {
			b.Fatal("pick took an idle connection", c, closing)
		}
	}
}

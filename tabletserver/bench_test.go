package tabletserver

import (
	"context"
	"io"
	"testing"

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

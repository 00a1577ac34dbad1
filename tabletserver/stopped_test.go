package tabletserver

import (
	"bytes"
	"context"
	"testing"

	topodatapb "vitess.io/vitess/go/vt/proto/topodata"
)

// TestIntegrationStoppedBeforeLastReply: a KILL QUERY (or a timeout) that stops the reading
// of a write's replies before its last (a pre-statement's, a schema switch's) leaves the rest
// unread: the connection is closed, never handed on out of step with its server.
func TestIntegrationStoppedBeforeLastReply(t *testing.T) {
	m := sharedMariaDB(t)
	ctx := context.Background()
	t.Run("pre-statement", func(t *testing.T) {
		ts := startServer(t, m, Config{PoolSize: 1, TxPoolSize: 1, MaxConnections: 1}, topodatapb.TabletType_PRIMARY, nil)
		c, err := ts.Get(ctx, Want{})
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Send(ctx, &Request{Pre: []string{"DO 1"}, Frame: queryFrame("SELECT 'first_reply'")}); err != nil {
			t.Fatal(err)
		}
		if err := c.KillQuery(ctx); err != nil {
			t.Fatal(err)
		}
		_, _ = c.Receive(&bytes.Buffer{})
		c.Release(0)
		c, err = ts.Get(ctx, Want{})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Release(0)
		var w bytes.Buffer
		if _, err := c.Exec(ctx, &Request{Frame: queryFrame("SELECT 'second_reply'")}, &w); err != nil {
			t.Fatal(err)
		}
		if !bytes.Contains(w.Bytes(), []byte("second_reply")) {
			t.Fatalf("the next command got another command's reply: %q", w.String())
		}
	})
	t.Run("schema switch", func(t *testing.T) {
		_, tss := schemaTablets(t, m, "stopsw", 2, Config{PoolSize: 1, TxPoolSize: 1, MaxConnections: 1})
		a, b := tss[0], tss[1]
		c, err := a.Get(ctx, Want{})
		if err != nil {
			t.Fatal(err)
		}
		c.Release(0)
		c, err = b.Get(ctx, Want{}) // the one connection, on a's database: it switches
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Send(ctx, &Request{Frame: queryFrame("SELECT 'b'")}); err != nil {
			t.Fatal(err)
		}
		if err := c.KillQuery(ctx); err != nil {
			t.Fatal(err)
		}
		_, _ = c.Receive(&bytes.Buffer{})
		c.Release(0)
		c, err = a.Get(ctx, Want{})
		if err != nil {
			t.Fatal(err)
		}
		var w bytes.Buffer
		_, err = c.Exec(ctx, &Request{Frame: queryFrame("SELECT DATABASE()")}, &w)
		c.Release(0)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Contains(w.Bytes(), []byte("ms_stopsw_0")) {
			t.Fatalf("tablet 0's statement ran elsewhere: %q", w.String())
		}
	})
}
